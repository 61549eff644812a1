package io.vectorsync.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Compares a PostgreSQL backend with the primary outside the application: row for row with
 * {@link AbstractIT#REPLICA_DIFF} (a backend in another database is copied into a temporary table of
 * the primary first, in one transaction), the ledger against the primary's versions, and the outbox
 * against the backend's cursor. {@link #startWatching()} samples the backend while the relay runs and
 * records any version regression: a chunk whose version in the backend goes down, or is newer than
 * the primary's.
 */
public final class ReplicaCheck implements AutoCloseable {

    private static final String BACKEND_ROWS = """
            SELECT chunk_id, version, document_id, content, embedding::real[]::text, metadata::text, privacy FROM %s
            """;
    private static final String COPY_TABLE = """
            CREATE TEMPORARY TABLE backend_copy (
                chunk_id text, version bigint, document_id text, content text, embedding real[], metadata jsonb,
                privacy text) ON COMMIT DROP
            """;
    private static final String COPY_ROW = "INSERT INTO backend_copy VALUES (?, ?, ?, ?, ?::real[], ?::jsonb, ?)";
    private static final String LEDGER_MISMATCHES = """
            SELECT count(*) FROM %s c
              LEFT JOIN delivery_ledger l ON l.backend = ? AND l.chunk_key = c.chunk_id
             WHERE l.version IS DISTINCT FROM c.version
            """;
    private static final String UNDELIVERED = "SELECT count(*) FROM outbox_status WHERE backend = ? AND status <> 'PROCESSED'";
    private static final String ISOLATED = """
            SELECT (SELECT count(*) FROM parked WHERE backend = ?) + (SELECT count(*) FROM dead_letter WHERE backend = ?)
            """;

    private final String backend;
    private final String primaryDb;
    private final String backendDb;
    private final String table;
    private final Queue<String> regressions = new ConcurrentLinkedQueue<>();
    private final Map<String, Long> highestSeen = new HashMap<>();
    private final AtomicLong samples = new AtomicLong();
    private ScheduledExecutorService watcher;

    /**
     * What the primary holds: {@code chunks}, and the application's {@code app_chunks} when {@link ChunkWriters}
     * made it (the chunks it enqueues with full payloads), as one relation named {@code chunks}.
     */
    private static String primaryRelation(Connection p) throws SQLException {
        try (Statement s = p.createStatement();
                ResultSet rs = s.executeQuery("SELECT to_regclass('app_chunks') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1) ? "(SELECT * FROM chunks UNION ALL SELECT * FROM app_chunks)" : "chunks";
        }
    }

    private static String onPrimary(String sql, Connection p) throws SQLException {
        String relation = primaryRelation(p);
        return relation.equals("chunks") ? sql : sql.replace("FROM chunks", "FROM " + relation + " chunks");
    }

    /** A backend writing {@code table} in {@code backendDb}, or in the primary when it is null. */
    public ReplicaCheck(String backend, String primaryDb, String backendDb, String table) {
        this.backend = backend;
        this.primaryDb = primaryDb;
        this.backendDb = backendDb;
        this.table = table;
    }

    public String primaryDatabase() {
        return primaryDb;
    }

    /** Rows that differ between the backend and what the primary says it must hold (0 when in step). */
    public long differences() throws SQLException {
        try (Connection p = TestDatabases.connect(primaryDb)) {
            if (backendDb == null) {
                return count(p, onPrimary(AbstractIT.REPLICA_DIFF.formatted(table), p));
            }
            p.setAutoCommit(false);
            try (Connection b = TestDatabases.connect(backendDb);
                    Statement s = p.createStatement();
                    PreparedStatement insert = p.prepareStatement(COPY_ROW);
                    Statement read = b.createStatement();
                    ResultSet rs = read.executeQuery(BACKEND_ROWS.formatted(table))) {
                s.execute(COPY_TABLE);
                while (rs.next()) {
                    insert.setString(1, rs.getString(1));
                    insert.setLong(2, rs.getLong(2));
                    for (int i = 3; i <= 7; i++) {
                        insert.setString(i, rs.getString(i));
                    }
                    insert.addBatch();
                }
                insert.executeBatch();
                return count(p, onPrimary(AbstractIT.REPLICA_DIFF.formatted("backend_copy"), p));
            } finally {
                p.rollback();
            }
        }
    }

    /** Chunks whose highest version in the ledger is not the primary's version (deletes included). */
    public long ledgerMismatches() throws SQLException {
        try (Connection p = TestDatabases.connect(primaryDb)) {
            return primaryCount(LEDGER_MISMATCHES.formatted(primaryRelation(p)), backend);
        }
    }

    /** Outbox events the backend's cursor has not passed. */
    public long undelivered() throws SQLException {
        return primaryCount(UNDELIVERED, backend);
    }

    /** Parked and dead-lettered events of the backend. */
    public long isolated() throws SQLException {
        return primaryCount(ISOLATED, backend, backend);
    }

    public long primaryCount(String sql, Object... args) throws SQLException {
        try (Connection p = TestDatabases.connect(primaryDb); PreparedStatement ps = p.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Samples the backend every 100 ms and records version regressions until closed. */
    public ReplicaCheck startWatching() {
        watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "replica-watcher");
            t.setDaemon(true);
            return t;
        });
        watcher.scheduleWithFixedDelay(this::sample, 0, 100, TimeUnit.MILLISECONDS);
        return this;
    }

    private void sample() {
        // Backend first, then the primary: versions only grow there, so the backend can't be ahead.
        Map<String, Long> inBackend = new HashMap<>();
        Map<String, Long> inPrimary = new HashMap<>();
        try (Connection b = TestDatabases.connect(backendDb == null ? primaryDb : backendDb);
                Statement s = b.createStatement();
                ResultSet rs = s.executeQuery("SELECT chunk_id, version FROM " + table)) {
            while (rs.next()) {
                inBackend.put(rs.getString(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) {
                return; // the relay has not created the backend's table yet
            }
            regressions.add("cannot read the backend: " + e);
            return;
        }
        try (Connection p = TestDatabases.connect(primaryDb);
                Statement s = p.createStatement();
                ResultSet rs = s.executeQuery(onPrimary("SELECT chunk_id, version FROM chunks", p))) {
            while (rs.next()) {
                inPrimary.put(rs.getString(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            regressions.add("cannot read the primary: " + e);
            return;
        }
        inBackend.forEach((id, v) -> {
            Long seen = highestSeen.get(id);
            if (seen != null && v < seen) {
                regressions.add(id + " went back from version " + seen + " to " + v + " in the backend");
            } else {
                highestSeen.put(id, v);
            }
            Long primary = inPrimary.get(id);
            if (primary == null || v > primary) {
                regressions.add(id + " has version " + v + " in the backend but " + primary + " in the primary");
            }
        });
        samples.incrementAndGet();
    }

    public List<String> regressions() {
        return List.copyOf(regressions);
    }

    public long samples() {
        return samples.get();
    }

    @Override
    public void close() throws InterruptedException {
        if (watcher != null) {
            watcher.shutdown();
            watcher.awaitTermination(10, TimeUnit.SECONDS);
        }
    }
}
