package io.vectorsync.deadletter;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.OutboxEvent;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;

/**
 * {@code parked} and {@code dead_letter}: events isolated from a failing batch wait in {@code parked}
 * with their next attempt time; once their budget is spent they move to {@code dead_letter} with the
 * full event. Every write here runs in the transaction that moves the cursor.
 */
@Repository
@ServerOnly
public class FailureStore {

    private static final String DUE = """
            SELECT event_id, outbox_id, type, chunk_id, version, payload::text AS payload_text, attempts, event_created_at
              FROM parked
             WHERE backend = ? AND next_attempt_at <= clock_timestamp()
             ORDER BY next_attempt_at
             LIMIT ?
            """;
    private static final String PARK = """
            INSERT INTO parked AS p (backend, event_id, outbox_id, type, chunk_id, version, payload, attempts,
                                     next_attempt_at, first_error, last_error, error_class, event_created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, 1, clock_timestamp() + make_interval(secs => ?), ?, ?, ?, ?)
            ON CONFLICT (backend, chunk_id) DO UPDATE
               SET event_id = CASE WHEN EXCLUDED.version >= p.version THEN EXCLUDED.event_id ELSE p.event_id END,
                   outbox_id = CASE WHEN EXCLUDED.version >= p.version THEN EXCLUDED.outbox_id ELSE p.outbox_id END,
                   type = CASE WHEN EXCLUDED.version >= p.version THEN EXCLUDED.type ELSE p.type END,
                   payload = CASE WHEN EXCLUDED.version >= p.version THEN EXCLUDED.payload ELSE p.payload END,
                   event_created_at = CASE WHEN EXCLUDED.version >= p.version THEN EXCLUDED.event_created_at
                                           ELSE p.event_created_at END,
                   version = GREATEST(p.version, EXCLUDED.version),
                   attempts = p.attempts + 1,
                   next_attempt_at = clock_timestamp() + make_interval(secs => LEAST(? * power(?, p.attempts), ?)),
                   last_error = EXCLUDED.last_error,
                   error_class = EXCLUDED.error_class
            RETURNING attempts
            """;
    private static final String TO_DEAD_LETTER = """
            WITH moved AS (DELETE FROM parked WHERE backend = ? AND chunk_id = ? RETURNING *)
            INSERT INTO dead_letter (backend, event_id, outbox_id, type, chunk_id, version, payload, attempts,
                                     first_error, last_error, error_class, event_created_at)
            SELECT backend, event_id, outbox_id, ?, chunk_id, version, COALESCE(?::jsonb, payload), attempts,
                   first_error, last_error, error_class, event_created_at
              FROM moved
            """;
    private static final String CLEAR = """
            DELETE FROM parked p
             USING unnest(?::text[], ?::bigint[]) AS d(chunk_id, version)
             WHERE p.backend = ? AND p.chunk_id = d.chunk_id AND p.version <= d.version
            """;
    /**
     * Closes the dead letter and parks its event for delivery now; when a newer event of the chunk is
     * already parked, that one stands (it supersedes the replayed one) and the replay still counts.
     */
    private static final String REPLAY = """
            WITH dl AS (
                UPDATE dead_letter SET replayed_at = clock_timestamp()
                 WHERE id = ? AND replayed_at IS NULL AND discarded_at IS NULL
                RETURNING *),
            parked_again AS (
            INSERT INTO parked AS p (backend, event_id, outbox_id, type, chunk_id, version, payload, attempts,
                                     next_attempt_at, first_error, last_error, error_class, event_created_at)
            SELECT backend, event_id, outbox_id, type, chunk_id, version, payload, 0, clock_timestamp(),
                   first_error, last_error, error_class, event_created_at
              FROM dl
            ON CONFLICT (backend, chunk_id) DO UPDATE
               SET event_id = EXCLUDED.event_id, outbox_id = EXCLUDED.outbox_id, type = EXCLUDED.type,
                   version = EXCLUDED.version, payload = EXCLUDED.payload, attempts = 0,
                   next_attempt_at = clock_timestamp()
             WHERE p.version <= EXCLUDED.version
            RETURNING chunk_id)
            SELECT chunk_id FROM dl
            """;
    private static final String REPLAY_ALL_IDS = """
            SELECT id FROM dead_letter WHERE backend = ? AND replayed_at IS NULL AND discarded_at IS NULL ORDER BY id
            """;
    private static final String DEAD_LETTERS = """
            SELECT id, backend, event_id, type, chunk_id, version, attempts, first_error, last_error, error_class,
                   created_at, replayed_at, discarded_at
              FROM dead_letter
             WHERE (?::text IS NULL OR backend = ?) AND (? OR (replayed_at IS NULL AND discarded_at IS NULL))
             ORDER BY id
             LIMIT ?
            """;
    private static final String DISCARD = """
            UPDATE dead_letter SET discarded_at = clock_timestamp(), discard_reason = ?
             WHERE id = ? AND replayed_at IS NULL AND discarded_at IS NULL
            """;

    private final JdbcTemplate jdbc;

    public FailureStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Parked events of the backend whose next attempt is due. */
    public List<OutboxEvent> due(String backend, int limit) {
        return jdbc.query(DUE, PARKED_EVENT, backend, limit);
    }

    /**
     * Charges one failed attempt to the chunk's parked event (parking it if it was not), and moves it to
     * the dead-letter table once {@code maxAttempts} are spent. Returns the attempts now charged.
     *
     * @param materialized the full event as delivered (for the dead letter), or {@code null}
     */
    public int charge(String backend, OutboxEvent event, String materialized, String error, String errorClass,
            Backoff backoff, int maxAttempts) {
        int attempts = jdbc.queryForObject(PARK, Integer.class,
                backend, event.eventId(), event.outboxId(), event.type(), event.chunkId(), event.version(),
                event.payloadJson(), backoff.baseSeconds(), error, error, errorClass,
                Timestamp.from(event.createdAt()),
                backoff.baseSeconds(), backoff.multiplier(), backoff.maxSeconds());
        if (attempts >= maxAttempts) {
            jdbc.update(TO_DEAD_LETTER, backend, event.chunkId(), event.type(), materialized);
        }
        return attempts;
    }

    /** Removes the chunk's parked event once a version at least as new is applied. */
    public void clear(String backend, Map<String, Long> appliedVersions) {
        if (appliedVersions.isEmpty()) {
            return;
        }
        String[] keys = appliedVersions.keySet().toArray(new String[0]);
        Long[] versions = new Long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            versions[i] = appliedVersions.get(keys[i]);
        }
        jdbc.update(con -> {
            var ps = con.prepareStatement(CLEAR);
            ps.setArray(1, con.createArrayOf("text", keys));
            ps.setArray(2, con.createArrayOf("bigint", versions));
            ps.setString(3, backend);
            return ps;
        });
    }

    /** Re-parks a dead letter for delivery now; the ledger still guards it. False if not replayable. */
    public boolean replay(long deadLetterId) {
        return !jdbc.queryForList(REPLAY, String.class, deadLetterId).isEmpty();
    }

    /** Replays every open dead letter of a backend; returns how many were re-parked. */
    public int replayAll(String backend) {
        int n = 0;
        for (Long id : jdbc.queryForList(REPLAY_ALL_IDS, Long.class, backend)) {
            if (replay(id)) {
                n++;
            }
        }
        return n;
    }

    public boolean discard(long deadLetterId, String reason) {
        return jdbc.update(DISCARD, reason, deadLetterId) == 1;
    }

    public List<DeadLetter> deadLetters(String backend, boolean includeClosed, int limit) {
        return jdbc.query(DEAD_LETTERS, DEAD_LETTER, backend, backend, includeClosed, limit);
    }

    /** Exponential backoff for parked events: base × multiplier^(attempts−1), capped. */
    public record Backoff(double baseSeconds, double multiplier, double maxSeconds) {}

    /** A dead letter as the admin API lists it (no payload). */
    public record DeadLetter(long id, String backend, String eventId, String type, String chunkId, long version,
            int attempts, String firstError, String lastError, String errorClass, String createdAt,
            String replayedAt, String discardedAt) {}

    private static final RowMapper<OutboxEvent> PARKED_EVENT = (rs, i) -> new OutboxEvent(
            (Long) rs.getObject("outbox_id"),
            null,
            rs.getString("event_id"),
            rs.getString("type"),
            rs.getString("chunk_id"),
            rs.getLong("version"),
            rs.getString("payload_text"),
            rs.getTimestamp("event_created_at").toInstant(),
            rs.getInt("attempts"),
            true);

    private static final RowMapper<DeadLetter> DEAD_LETTER = (rs, i) -> new DeadLetter(
            rs.getLong("id"), rs.getString("backend"), rs.getString("event_id"), rs.getString("type"),
            rs.getString("chunk_id"), rs.getLong("version"), rs.getInt("attempts"), rs.getString("first_error"),
            rs.getString("last_error"), rs.getString("error_class"), str(rs.getTimestamp("created_at")),
            str(rs.getTimestamp("replayed_at")), str(rs.getTimestamp("discarded_at")));

    private static String str(Timestamp t) {
        return t == null ? null : t.toInstant().toString();
    }
}
