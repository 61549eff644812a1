package io.vectorsync.verify;

import io.vectorsync.domain.Link;
import io.vectorsync.relay.RepairQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What repair writes in the primary (ADR 011, ADR 019): the keys to rewrite on the repaired backend
 * ({@link RepairQueue}), nothing else, except for an extra: a key no state holds gets a tombstone row in
 * {@code chunks} at the backend's version, and an API tombstone or LOCAL_ONLY chunk below it is raised to
 * it (no event either way), so that a later write through the API goes above what the backend held. A key
 * that {@code aggregates} holds is never written into {@code chunks}.
 */
final class RepairRequests {

    /** Whether the key is live (or the application's at all, live or not) in the primary's state. */
    private static final String STATE = """
            SELECT EXISTS (SELECT 1 FROM current_state s
                            WHERE s.key = ? AND NOT s.deleted AND s.privacy <> 'LOCAL_ONLY') AS live,
                   EXISTS (SELECT 1 FROM aggregates a WHERE a.key = ?) AS application
            """;
    private static final String TOMBSTONE = """
            INSERT INTO chunks (chunk_id, version, deleted, privacy, metadata)
            VALUES (?, ?, true, 'FULL', '{}'::jsonb) ON CONFLICT (chunk_id) DO NOTHING
            """;
    private static final String RAISE = """
            UPDATE chunks SET version = ?, updated_at = clock_timestamp()
             WHERE chunk_id = ? AND version < ? AND (deleted OR privacy = 'LOCAL_ONLY')
            """;

    private RepairRequests() {}

    /**
     * Requests the extras the backend holds at {@code held} (id to version); the relay writes each one's
     * current state (a delete when it is not live). Runs in the caller's transaction; returns how many.
     */
    static int extras(JdbcTemplate jdbc, RepairQueue queue, String backend, Map<String, Long> held,
            List<String> extras) {
        List<RepairQueue.Key> keys = new ArrayList<>();
        for (String id : extras) {
            Long v = held.get(id);
            if (v == null) {
                continue; // gone meanwhile
            }
            Map<String, Object> s = jdbc.queryForMap(STATE, id, id);
            // A key live meanwhile is requested all the same: the relay writes its current state.
            if (!Boolean.TRUE.equals(s.get("live")) && !Boolean.TRUE.equals(s.get("application"))
                    && !id.startsWith(Link.KEY_PREFIX)) {
                if (jdbc.update(TOMBSTONE, id, v) == 0) {
                    jdbc.update(RAISE, v, id, v);
                }
            }
            keys.add(new RepairQueue.Key(id, v));
        }
        queue.request(backend, keys);
        return keys.size();
    }
}
