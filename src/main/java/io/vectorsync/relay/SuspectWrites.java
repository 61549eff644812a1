package io.vectorsync.relay;

import io.vectorsync.backend.LeaseFence;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.Change;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Keys a former lease holder wrote to a backend whose fence is checked apart from the write (Chroma,
 * ADR 017): its write may have landed after the new holder's. The former holder records them in
 * {@code suspect_writes}, with a lean event per key in the outbox so the current holder's next poll sees
 * them; the current holder delivers those keys again whatever its ledger says (the backend's version
 * guard re-reads what it holds and rewrites what is older) and clears the rows in the transaction that
 * moves its cursor. Keyed by (backend, partition).
 */
@Component
@ServerOnly
public class SuspectWrites {

    private static final Logger log = LoggerFactory.getLogger(SuspectWrites.class);

    private static final String RECORD = """
            INSERT INTO suspect_writes (backend, partition, chunk_key, lease_epoch)
            SELECT ?, ?, k, ? FROM unnest(?::text[]) AS k
            ON CONFLICT (backend, partition, chunk_key)
            DO UPDATE SET lease_epoch = greatest(suspect_writes.lease_epoch, EXCLUDED.lease_epoch),
                          recorded_at = clock_timestamp()
            """;
    /**
     * An event per key at its current version (ADR 019): lean for a chunk of the API (the planner reads the
     * row when it delivers it), with the state's payload for a chunk the application enqueued, a DELETE for
     * a tombstone. The backend keeps chunks only (Chroma), so edge keys are left out.
     */
    private static final String LEAN_EVENTS = """
            INSERT INTO outbox (event_id, type, chunk_id, version, payload)
            SELECT vectorsync.ulid(), CASE WHEN s.deleted THEN 'DELETE' ELSE 'UPSERT' END, s.key, s.version,
                   CASE WHEN s.owner = 'application' AND NOT s.deleted THEN s.payload END
              FROM current_state s
             WHERE s.key = ANY (?::text[]) AND NOT starts_with(s.key, 'link:')
               AND (s.owner = 'api' OR s.deleted OR s.payload IS NOT NULL)
            """;
    private static final String AMONG = """
            SELECT clock_timestamp() AS read_at,
                   ARRAY(SELECT chunk_key FROM suspect_writes
                          WHERE backend = ? AND partition = ? AND chunk_key = ANY (?::text[])) AS keys
            """;
    /** Only rows recorded before they were read: a key a former holder records again meanwhile stays. */
    private static final String CLEAR = """
            DELETE FROM suspect_writes
             WHERE backend = ? AND partition = ? AND chunk_key = ANY (?::text[]) AND recorded_at <= ?
            """;

    /** The suspect keys among a batch's, and when they were read (the database's clock). */
    public record Suspects(Set<String> keys, java.sql.Timestamp readAt) {
        public static final Suspects NONE = new Suspects(Set.of(), null);

        public boolean contains(String key) {
            return keys.contains(key);
        }
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;

    public SuspectWrites(JdbcTemplate jdbc, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.tx = tx;
    }

    /**
     * Records the keys the holder of {@code fence} wrote (or tried to) before finding its lease lost, and
     * enqueues a lean event for each, in one transaction. Never throws: a primary that can't take it is
     * logged (the keys are then left to verify).
     */
    public void record(String backend, LeaseFence fence, Collection<Change> written) {
        String[] keys = written.stream().map(Change::key).distinct().toArray(String[]::new);
        if (keys.length == 0) {
            return;
        }
        try {
            tx.executeWithoutResult(s -> {
                jdbc.update(RECORD, backend, fence.partition(), fence.epoch(), keys);
                jdbc.update(LEAN_EVENTS, (Object) keys);
            });
            log.warn("VSYNC-RELAY-SUSPECT backend={} partition={} epoch={}: the lease was lost after writing {}"
                    + " key(s); the current holder rewrites them", backend, fence.partition(), fence.epoch(),
                    keys.length);
        } catch (RuntimeException e) {
            log.error("VSYNC-RELAY-SUSPECT backend={} partition={} epoch={}: could not record {} suspect key(s)"
                    + " ({}); run verify with repair on the backend", backend, fence.partition(), fence.epoch(),
                    keys.length, e.getClass().getSimpleName());
        }
    }

    /** Which of {@code keys} are suspect for (backend, partition). */
    public Suspects among(String backend, int partition, Collection<String> keys) {
        if (keys.isEmpty()) {
            return Suspects.NONE;
        }
        return jdbc.queryForObject(AMONG, (rs, n) -> {
            Set<String> found = new HashSet<>(java.util.Arrays.asList((String[]) rs.getArray("keys").getArray()));
            return new Suspects(found, rs.getTimestamp("read_at"));
        }, backend, partition, keys.toArray(String[]::new));
    }

    /**
     * Clears the rewritten keys, as they were when {@link #among} read them; runs in the transaction that
     * moves the cursor.
     */
    public void clear(String backend, int partition, Suspects read, Set<String> rewritten) {
        if (!rewritten.isEmpty() && read.readAt() != null) {
            jdbc.update(CLEAR, backend, partition, rewritten.toArray(String[]::new), read.readAt());
        }
    }
}
