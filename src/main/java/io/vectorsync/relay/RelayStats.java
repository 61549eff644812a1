package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.config.ServerOnly;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import org.apache.camel.CamelContext;
import org.apache.camel.Navigate;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The relay's state per configured backend, for status, gauges, health and alerts: backlog, lag,
 * parked and dead-letter counts and the cursor's pause, lease and error columns, read in one statement
 * per refresh and cached; the circuit state from the backend route's circuit breaker and the age of the
 * last poll from {@link RelayPoller} are read live. Refreshed every {@code vectorsync.metrics.refresh-interval}
 * by the route {@code housekeeping-relay-stats} ({@code routes/housekeeping.camel.yaml}) and on demand
 * ({@link #refresh()}).
 */
@Component
@ServerOnly
public class RelayStats {

    private static final Logger log = LoggerFactory.getLogger(RelayStats.class);

    /**
     * Per backend: the backlog is the committed events not yet behind the cursor (not visible in its
     * previous snapshot and not read from its current window), found through the {@code (tx_id, id)}
     * index from the previous snapshot's xmin, so the scan covers only the undelivered tail of the
     * outbox; then the parked events (and the oldest one's age) and the open dead letters, each by index.
     */
    static final String STATS = """
            SELECT c.backend, c.paused, COALESCE(c.paused_until > clock_timestamp(), false) AS backing_off,
                   c.consecutive_failures, c.lease_owner, c.last_error, c.last_error_at, c.last_progress_at,
                   c.backfilling, c.halted_reason, b.backlog, b.oldest_backlog_at, p.parked, p.oldest_parked_at, d.dead_letters,
                   clock_timestamp() AS measured_at
              FROM relay_cursor c
             CROSS JOIN LATERAL (
                   SELECT count(*) AS backlog, min(o.created_at) AS oldest_backlog_at
                     FROM outbox o
                    WHERE o.tx_id >= pg_snapshot_xmin(c.prev_snapshot)
                      AND NOT pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                      AND NOT (c.cur_snapshot IS NOT NULL AND c.last_tx_id IS NOT NULL
                               AND pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)
                               AND (o.tx_id, o.id) <= (c.last_tx_id, c.last_id))) b
             CROSS JOIN LATERAL (
                   SELECT count(*) AS parked, min(x.event_created_at) AS oldest_parked_at
                     FROM parked x WHERE x.backend = c.backend) p
             CROSS JOIN LATERAL (
                   SELECT count(*) AS dead_letters
                     FROM dead_letter y
                    WHERE y.backend = c.backend AND y.replayed_at IS NULL AND y.discarded_at IS NULL) d
             WHERE c.backend = ANY (?)
            """;

    /** A backend's circuit breaker state, as lowercase words. */
    public enum Circuit {
        CLOSED("closed"), HALF_OPEN("half-open"), OPEN("open"), UNKNOWN("unknown");

        private final String word;

        Circuit(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /**
     * One backend's state as of {@code measuredAt} (the database's clock). {@code cursorFound} is false
     * until the relay created the backend's cursor.
     */
    public record BackendStats(String backend, boolean cursorFound, long backlog, Instant oldestBacklogAt,
            long parked, Instant oldestParkedAt, long deadLetters, boolean paused, boolean backingOff,
            int consecutiveFailures, String leaseOwner, String lastError, Instant lastErrorAt,
            Instant lastProgressAt, boolean backfilling, Instant measuredAt, String halted) {

        /** True while the backend is halted: its cursor does not fit the database (ADR 015). */
        public boolean isHalted() {
            return halted != null;
        }

        /** Age in seconds of the oldest undelivered event (backlog or parked); 0 when caught up. */
        public double lagSeconds() {
            Instant oldest = min(oldestBacklogAt, oldestParkedAt);
            return oldest == null ? 0 : Math.max(0, seconds(oldest, measuredAt));
        }

        /**
         * How long the cursor has had a backlog without moving: the time since the later of the last
         * progress and the oldest backlog event's creation; 0 without a backlog.
         */
        public double stalledSeconds() {
            if (backlog == 0 || oldestBacklogAt == null) {
                return 0;
            }
            Instant since = lastProgressAt == null || oldestBacklogAt.isAfter(lastProgressAt) ? oldestBacklogAt
                    : lastProgressAt;
            return Math.max(0, seconds(since, measuredAt));
        }

        private static Instant min(Instant a, Instant b) {
            return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
        }

        private static double seconds(Instant from, Instant to) {
            return Duration.between(from, to).toNanos() / 1e9;
        }
    }

    private final JdbcTemplate jdbc;
    private final BackendRegistry backends;
    private final CamelContext camel;
    private final RelayPoller poller;
    private volatile Map<String, BackendStats> current;

    /** The refresh interval, {@code vectorsync.metrics.refresh-interval}, is the route's (validated by its record). */
    public RelayStats(JdbcTemplate jdbc, BackendRegistry backends, CamelContext camel, RelayPoller poller) {
        this.jdbc = jdbc;
        this.backends = backends;
        this.camel = camel;
        this.poller = poller;
    }

    /** The periodic refresh (route {@code housekeeping-relay-stats}): a failure keeps the last values. */
    public void refreshQuietly() {
        try {
            refresh();
        } catch (RuntimeException e) {
            // The database may be restarting; keep the last values and try again next time.
            log.warn("Cannot refresh the relay statistics: {}", e.toString());
        }
    }

    /** Reads every configured backend's state now (one statement) and caches it. */
    public synchronized Map<String, BackendStats> refresh() {
        List<String> names = List.copyOf(backends.all().keySet());
        Map<String, BackendStats> found = new LinkedHashMap<>();
        jdbc.query(con -> {
            var ps = con.prepareStatement(STATS);
            ps.setArray(1, con.createArrayOf("text", names.toArray()));
            return ps;
        }, rs -> {
            BackendStats s = map(rs);
            found.put(s.backend(), s);
        });
        Map<String, BackendStats> all = new LinkedHashMap<>();
        Instant now = found.values().stream().map(BackendStats::measuredAt).findFirst().orElse(Instant.now());
        for (String name : names) {
            all.put(name, found.getOrDefault(name, new BackendStats(name, false, 0, null, 0, null, 0, false, false,
                    0, null, null, null, null, false, now, null)));
        }
        current = Map.copyOf(all);
        return all;
    }

    /** The cached state of every configured backend (read once if never read yet). */
    public Map<String, BackendStats> current() {
        Map<String, BackendStats> c = current;
        return c != null ? c : refresh();
    }

    public Optional<BackendStats> current(String backend) {
        return Optional.ofNullable(current().get(backend));
    }

    /** The names of the configured backends, in configuration order. */
    public List<String> backendNames() {
        return List.copyOf(backends.all().keySet());
    }

    /** The state of the backend route's circuit breaker, read live. */
    public Circuit circuit(String backend) {
        ResilienceProcessor p = breaker(backend);
        if (p == null || p.getCircuitBreaker() == null) {
            return Circuit.UNKNOWN;
        }
        return switch (p.getCircuitBreaker().getState()) {
            case CLOSED, DISABLED, METRICS_ONLY -> Circuit.CLOSED;
            case HALF_OPEN -> Circuit.HALF_OPEN;
            case OPEN, FORCED_OPEN -> Circuit.OPEN;
        };
    }

    /**
     * The circuit breaker processor of the backend's relay route, found by walking the route's
     * processors each time (a handful), so a route rebuilt at run time is followed.
     */
    private ResilienceProcessor breaker(String backend) {
        Route route = camel.getRoute("relay-" + backend);
        if (route == null || route.navigate() == null) {
            return null;
        }
        ArrayDeque<Object> todo = new ArrayDeque<>(route.navigate().next());
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        while (!todo.isEmpty()) {
            Object o = todo.poll();
            if (o == null || !seen.add(o)) {
                continue;
            }
            if (o instanceof ResilienceProcessor r) {
                return r;
            }
            if (o instanceof Navigate<?> n && n.hasNext()) {
                todo.addAll(n.next());
            }
        }
        return null;
    }

    /** Seconds since this instance last polled the backend's outbox, read live; empty if it never did. */
    public OptionalDouble lastPollAgeSeconds(String backend) {
        return poller.lastPollAgeSeconds(backend);
    }

    private static BackendStats map(ResultSet rs) throws SQLException {
        return new BackendStats(
                rs.getString("backend"),
                true,
                rs.getLong("backlog"),
                instant(rs, "oldest_backlog_at"),
                rs.getLong("parked"),
                instant(rs, "oldest_parked_at"),
                rs.getLong("dead_letters"),
                rs.getBoolean("paused"),
                rs.getBoolean("backing_off"),
                rs.getInt("consecutive_failures"),
                rs.getString("lease_owner"),
                rs.getString("last_error"),
                instant(rs, "last_error_at"),
                instant(rs, "last_progress_at"),
                rs.getBoolean("backfilling"),
                instant(rs, "measured_at"),
                rs.getString("halted_reason"));
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
