package io.vectorsync.relay;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.vectorsync.config.ServerOnly;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/**
 * What is waiting per backend, for the admin API's queue: events after the cursor (PENDING), parked
 * events (PARKED) and open dead letters (FAILED), with attempts, next attempt and last error, never
 * payloads. Every read is bounded: pending events are read from the cursor's position along the
 * outbox's {@code (tx_id, id)} index (the relay's two ranges) with a limit, and their count stops at
 * {@link #COUNT_CAP}; parked and dead-letter rows are read through their indexes.
 */
@Repository
@ServerOnly
public class RelayQueue {

    /** Pending events are counted up to this many; past it the count says "at least". */
    public static final int COUNT_CAP = 100_000;

    /**
     * The events after the cursor: not visible in its previous snapshot, committed (visible now), and not
     * among those of the current window already delivered (visible in {@code cur}, up to the last
     * {@code (tx_id, id)} read). Parameters: prev, cur, cur, lastTx, lastId, limit, then the same for the
     * second range, then the outer limit.
     */
    private static final String PENDING_RANGES = """
            (SELECT o.id, o.tx_id, o.event_id, o.type, o.chunk_id, o.version, o.created_at
               FROM outbox o
              WHERE o.tx_id = ANY (ARRAY(SELECT pg_snapshot_xip(?::pg_snapshot)))
                AND pg_visible_in_snapshot(o.tx_id, pg_current_snapshot())
                AND NOT (?::pg_snapshot IS NOT NULL AND ?::xid8 IS NOT NULL
                         AND pg_visible_in_snapshot(o.tx_id, ?::pg_snapshot) AND (o.tx_id, o.id) <= (?::xid8, ?))
              ORDER BY o.tx_id, o.id
              LIMIT ?)
            UNION ALL
            (SELECT o.id, o.tx_id, o.event_id, o.type, o.chunk_id, o.version, o.created_at
               FROM outbox o
              WHERE o.tx_id >= pg_snapshot_xmax(?::pg_snapshot)
                AND pg_visible_in_snapshot(o.tx_id, pg_current_snapshot())
                AND NOT (?::pg_snapshot IS NOT NULL AND ?::xid8 IS NOT NULL
                         AND pg_visible_in_snapshot(o.tx_id, ?::pg_snapshot) AND (o.tx_id, o.id) <= (?::xid8, ?))
              ORDER BY o.tx_id, o.id
              LIMIT ?)
            """;
    private static final String PENDING = "SELECT * FROM (" + PENDING_RANGES + ") u ORDER BY u.tx_id, u.id LIMIT ?";
    private static final String PENDING_COUNT = "SELECT count(*) FROM (SELECT 1 FROM (" + PENDING_RANGES
            + ") u LIMIT ?) c";
    private static final String PARKED = """
            SELECT event_id, outbox_id, type, chunk_id, version, attempts, next_attempt_at, last_error, error_class,
                   event_created_at
              FROM parked
             WHERE backend = ?
             ORDER BY next_attempt_at
             LIMIT ?
            """;
    private static final String PARKED_COUNT = "SELECT count(*) FROM parked WHERE backend = ?";
    private static final String FAILED = """
            SELECT id, event_id, outbox_id, type, chunk_id, version, attempts, last_error, error_class,
                   event_created_at
              FROM dead_letter
             WHERE backend = ? AND replayed_at IS NULL AND discarded_at IS NULL
             ORDER BY created_at
             LIMIT ?
            """;
    private static final String FAILED_COUNT = """
            SELECT count(*) FROM dead_letter WHERE backend = ? AND replayed_at IS NULL AND discarded_at IS NULL
            """;
    private static final String RETRY = """
            UPDATE parked
               SET next_attempt_at = clock_timestamp(), attempts = CASE WHEN ? THEN 0 ELSE attempts END
             WHERE backend = ?
            """;

    /** One waiting event of one backend, as the admin API lists it (no payload). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String backend, String status, String eventId, Long outboxId, String type, String chunkId,
            long version, String createdAt, int attempts, String nextAttemptAt, String lastError, String errorClass,
            Long deadLetterId) {}

    /** How many events wait per state; {@code pendingCapped} when the pending count stopped at the cap. */
    public record Counts(String backend, long pending, boolean pendingCapped, long parked, long failed) {}

    private final JdbcTemplate jdbc;

    public RelayQueue(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Up to {@code limit} events after the cursor, in commit order. */
    public List<Entry> pending(CursorState c, int limit) {
        Object[] args = pendingArgs(c, limit);
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = limit;
        return jdbc.query(PENDING, (rs, i) -> new Entry(c.backend(), "PENDING", rs.getString("event_id"),
                rs.getLong("id"), rs.getString("type"), rs.getString("chunk_id"), rs.getLong("version"),
                str(rs, "created_at"), 0, null, null, null, null), all);
    }

    public List<Entry> parked(String backend, int limit) {
        return jdbc.query(PARKED, (rs, i) -> failing(rs, backend, "PARKED", str(rs, "next_attempt_at"), null),
                backend, limit);
    }

    public List<Entry> failed(String backend, int limit) {
        return jdbc.query(FAILED, (rs, i) -> failing(rs, backend, "FAILED", null, rs.getLong("id")), backend, limit);
    }

    /** A parked event or a dead letter: the row's event, attempts and last error. */
    private static Entry failing(ResultSet rs, String backend, String status, String nextAttemptAt,
            Long deadLetterId) throws SQLException {
        return new Entry(backend, status, rs.getString("event_id"), (Long) rs.getObject("outbox_id"),
                rs.getString("type"), rs.getString("chunk_id"), rs.getLong("version"), str(rs, "event_created_at"),
                rs.getInt("attempts"), nextAttemptAt, rs.getString("last_error"), rs.getString("error_class"),
                deadLetterId);
    }

    /** The counts of one backend; {@code cursor} empty counts no pending events. */
    public Counts counts(String backend, CursorState cursor) {
        long pending = 0;
        if (cursor != null) {
            Object[] args = pendingArgs(cursor, COUNT_CAP + 1);
            Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
            all[args.length] = COUNT_CAP + 1;
            pending = jdbc.queryForObject(PENDING_COUNT, Long.class, all);
        }
        long parked = jdbc.queryForObject(PARKED_COUNT, Long.class, backend);
        long failed = jdbc.queryForObject(FAILED_COUNT, Long.class, backend);
        return new Counts(backend, Math.min(pending, COUNT_CAP), pending > COUNT_CAP, parked, failed);
    }

    /** Makes every parked event of the backend due now ({@code force}: with a fresh budget); returns how many. */
    public int retryNow(String backend, boolean force) {
        return jdbc.update(RETRY, force, backend);
    }

    private static Object[] pendingArgs(CursorState c, int limit) {
        String cur = c.curSnapshot();
        String lastTx = c.lastTxId();
        Long lastId = c.lastId();
        return new Object[] {
                c.prevSnapshot(), cur, lastTx, cur, lastTx, lastId, limit,
                c.prevSnapshot(), cur, lastTx, cur, lastTx, lastId, limit};
    }

    private static String str(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant().toString();
    }

}
