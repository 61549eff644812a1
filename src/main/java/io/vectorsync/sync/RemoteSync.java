package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.sql.Types;
import java.time.Duration;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * The remote's four sync functions ({@code db/migration/V13__device_sync.sql}), called over a small pool of
 * its own ({@code vectorsync.sync.remote.*}, never the device's data source). Each call is one statement
 * in autocommit, so one short transaction on the remote and none held across the network; connect and
 * socket timeouts bound every call. A failure is {@link RemoteSyncException.Unreachable} (network, timeout,
 * a remote restarting or overloaded) or {@link RemoteSyncException.CallFailed} (the remote answered with an
 * error). Every call is counted in {@code vectorsync.sync.calls}.
 */
@Component
@DeviceOnly
public class RemoteSync implements DisposableBean {

    /** How long one call may wait for the remote's answer once connected. */
    static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(30);

    private static final String HELLO = "SELECT vectorsync.sync_hello(?)::text";
    private static final String APPLY = "SELECT vectorsync.sync_apply(?, ?, ?::jsonb, ?::jsonb)::text";
    private static final String CHANGES = "SELECT vectorsync.sync_changes(?, ?::jsonb, ?)::text";
    private static final String SNAPSHOT = "SELECT vectorsync.sync_snapshot(?, ?, ?)::text";

    private final ObjectMapper json;
    private final SyncCounters counters;
    private final HikariDataSource pool;

    public RemoteSync(SyncProperties properties, ObjectMapper json, SyncCounters counters) {
        this.json = json;
        this.counters = counters;
        SyncProperties.Remote remote = properties.remote();
        this.pool = remote.jdbcUrl().isBlank() ? null : pool(remote);
    }

    private static HikariDataSource pool(SyncProperties.Remote remote) {
        HikariConfig c = new HikariConfig();
        c.setPoolName("sync-remote");
        c.setJdbcUrl(remote.jdbcUrl());
        c.setUsername(remote.username());
        c.setPassword(remote.password());
        c.setMaximumPoolSize(2);
        c.setMinimumIdle(0);
        c.setAutoCommit(true);
        c.setConnectionTimeout(Math.max(250, remote.connectTimeout().toMillis()));
        c.setValidationTimeout(Math.max(250, Math.min(remote.connectTimeout().toMillis(), 5000)));
        c.setInitializationFailTimeout(-1); // start offline when the remote is down
        int connectSeconds = (int) Math.max(1, remote.connectTimeout().toSeconds());
        c.addDataSourceProperty("connectTimeout", connectSeconds);
        c.addDataSourceProperty("loginTimeout", connectSeconds);
        c.addDataSourceProperty("socketTimeout", (int) SOCKET_TIMEOUT.toSeconds());
        c.addDataSourceProperty("tcpKeepAlive", true);
        c.addDataSourceProperty("ApplicationName", "vectorsync-device");
        return new HikariDataSource(c);
    }

    /** False when no {@code vectorsync.sync.remote.jdbc-url} is set: the device stays offline. */
    public boolean configured() {
        return pool != null;
    }

    /** {@code sync_hello}: the remote's system identifier, its time, and whether it knew this device. */
    public JsonNode hello(String device) {
        return call("sync_hello", HELLO, device);
    }

    /** {@code sync_apply}: one batch (the changes as a JSON array), one outcome per change in the same order. */
    public JsonNode apply(String device, long ackedUploadId, String changes, JsonNode options) {
        return call("sync_apply", APPLY, device, ackedUploadId, changes, text(options));
    }

    /** {@code sync_changes}: the next window of the remote's changes after {@code cursor} (null: the first call). */
    public JsonNode changes(String device, JsonNode cursor, int limit) {
        return call("sync_changes", CHANGES, device, cursor == null || cursor.isNull() ? null : text(cursor), limit);
    }

    /** {@code sync_snapshot}: a page of the remote's live chunks after {@code after} (null: from the start). */
    public JsonNode snapshot(String device, String after, int limit) {
        return call("sync_snapshot", SNAPSHOT, device, after, limit);
    }

    private JsonNode call(String function, String sql, Object... args) {
        if (pool == null) {
            throw new RemoteSyncException.Unreachable("no remote configured (vectorsync.sync.remote.jdbc-url)", null);
        }
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setQueryTimeout((int) SOCKET_TIMEOUT.toSeconds());
            for (int i = 0; i < args.length; i++) {
                if (args[i] == null) {
                    ps.setNull(i + 1, Types.VARCHAR);
                } else {
                    ps.setObject(i + 1, args[i]);
                }
            }
            String answer;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                answer = rs.getString(1);
            }
            JsonNode result = json.readTree(answer == null ? "null" : answer);
            counters.call(function, true);
            return result;
        } catch (SQLException e) {
            counters.call(function, false);
            throw classify(function, e);
        } catch (IOException e) {
            counters.call(function, false);
            throw new RemoteSyncException.CallFailed(function + " answered what is not JSON", e);
        }
    }

    /** Connection trouble, a remote shutting down or overloaded, timeouts, serialization: try again later. */
    static RemoteSyncException classify(String function, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        boolean transientFailure = e instanceof SQLTransientException
                || state.startsWith("08") // connection exception
                || state.startsWith("57P") // admin shutdown, crash shutdown, cannot connect now
                || state.equals("53300") // too many connections
                || state.equals("57014") // query cancelled (the socket timeout)
                || state.equals("55P03") // lock_timeout: a row another call holds
                || state.equals("40001") || state.equals("40P01")
                || e.getCause() instanceof IOException;
        String message = function + " failed: " + summary(e);
        return transientFailure ? new RemoteSyncException.Unreachable(message, e)
                : new RemoteSyncException.CallFailed(message, e);
    }

    /** The driver's message without any parameter values (they may hold content). */
    private static String summary(SQLException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int detail = m.indexOf("\n");
        m = detail < 0 ? m : m.substring(0, detail);
        return (e.getSQLState() == null ? "" : "[" + e.getSQLState() + "] ") + (m.length() > 300 ? m.substring(0, 300) : m);
    }

    private String text(JsonNode node) {
        try {
            return json.writeValueAsString(node);
        } catch (IOException e) {
            throw new IllegalArgumentException("unwritable JSON", e);
        }
    }

    @Override
    public void destroy() {
        if (pool != null) {
            pool.close();
        }
    }
}
