package io.vectorsync.relay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The keys verify found different on one backend, to be written again on that backend only (ADR 011,
 * ADR 019; table {@code repair_keys}). Verify requests them; the lease holder of (backend, partition)
 * delivers a page of them as a batch of its own before reading the outbox window: each key's current state
 * (a delete at the higher of its version and the backend's when it is not live), forced (the backend takes a
 * version equal to the one it holds) and past the ledger, like the operator's backfill rewrite (ADR 010).
 * The rows read are deleted in the transaction that records the ledger, unless requested again meanwhile.
 */
@Component
@ServerOnly
public class RepairQueue {

    /** The event id prefix of a repair's events: a parked one stays forced and past the ledger on retry. */
    public static final String EVENT_PREFIX = "repair:";

    private static final String REQUEST = """
            INSERT INTO repair_keys AS r (backend, partition, key, held_version)
            SELECT ?, ?, k.key, nullif(k.held, 0) FROM unnest(?::text[], ?::bigint[]) AS k(key, held)
            ON CONFLICT (backend, partition, key)
            DO UPDATE SET held_version = EXCLUDED.held_version, requested_at = clock_timestamp()
            """;
    private static final String ANY = "SELECT EXISTS (SELECT 1 FROM repair_keys WHERE backend = ? AND partition = ?)";
    /** A page of keys with their current state (one lookup per key into each side of current_state). */
    private static final String PAGE = """
            SELECT clock_timestamp() AS read_at, r.key, r.held_version, s.owner, s.version, s.deleted, s.privacy,
                   s.document_id, s.content, s.embedding, s.metadata::text AS metadata_text,
                   s.payload::text AS payload_text
              FROM (SELECT key, held_version FROM repair_keys WHERE backend = ? AND partition = ?
                     ORDER BY key LIMIT ?) r
              LEFT JOIN LATERAL (SELECT * FROM current_state c WHERE c.key = r.key LIMIT 1) s ON true
             ORDER BY r.key
            """;
    /** Only rows requested before they were read: a key verify requests again meanwhile stays. */
    private static final String CLEAR = """
            DELETE FROM repair_keys
             WHERE backend = ? AND partition = ? AND key = ANY (?::text[]) AND requested_at <= ?
            """;

    /** A key and the version verify found in the backend (0: absent). */
    public record Key(String key, long heldVersion) {}

    /**
     * A page of repairs as a window: its events (one per key), the API chunks' rows, the keys read and
     * when (the database's clock), for {@link #clear}.
     */
    public record Page(List<OutboxEvent> events, Map<String, ChunkRow> rows, List<String> keys, Timestamp readAt) {}

    /** After a look that found none, the next waits this long unless this instance requested some. */
    private static final long RECHECK_NANOS = 1_000_000_000L;

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final RelayWakeup wakeup;
    /** System.nanoTime() of each backend's last look that found no repairs. */
    private final Map<String, Long> noneSince = new java.util.concurrent.ConcurrentHashMap<>();

    public RepairQueue(JdbcTemplate jdbc, ObjectMapper json, RelayWakeup wakeup) {
        this.jdbc = jdbc;
        this.json = json;
        this.wakeup = wakeup;
    }

    /** Requests the keys for the backend (partition 0), in the caller's transaction if any. */
    public void request(String backend, Collection<Key> keys) {
        if (keys.isEmpty()) {
            return;
        }
        jdbc.update(REQUEST, backend, 0, keys.stream().map(Key::key).toArray(String[]::new),
                keys.stream().map(Key::heldVersion).toArray(Long[]::new));
        noneSince.remove(backend);
    }

    /** Wakes the relays, after the requesting transaction committed. */
    public void wake() {
        noneSince.clear();
        wakeup.wakeAll();
    }

    /**
     * True when the backend has repairs waiting. Repairs are rare and need not cost a query per poll: after
     * a look that found none, the next is a second later (at once after a request in this instance).
     */
    public boolean pending(String backend, int partition) {
        Long none = noneSince.get(backend);
        if (none != null && System.nanoTime() - none < RECHECK_NANOS) {
            return false;
        }
        boolean any = Boolean.TRUE.equals(jdbc.queryForObject(ANY, Boolean.class, backend, partition));
        if (any) {
            noneSince.remove(backend);
        } else {
            noneSince.put(backend, System.nanoTime());
        }
        return any;
    }

    /** The next page of the backend's repairs, in key order. */
    public Page page(String backend, int partition, int limit) {
        List<OutboxEvent> events = new ArrayList<>();
        Map<String, ChunkRow> rows = new HashMap<>();
        List<String> keys = new ArrayList<>();
        Timestamp[] readAt = new Timestamp[1];
        Instant now = Instant.now();
        jdbc.query(PAGE, rs -> {
            readAt[0] = rs.getTimestamp("read_at");
            String key = rs.getString("key");
            keys.add(key);
            long held = rs.getLong("held_version");
            String owner = rs.getString("owner");
            long version = rs.getLong("version");
            boolean live = owner != null && !rs.getBoolean("deleted") && !"LOCAL_ONLY".equals(rs.getString("privacy"));
            String type;
            String payload = null;
            if (live && "api".equals(owner)) {
                type = "UPSERT";
                rows.put(key, OutboxReader.chunkRow(rs, "key", "version"));
            } else if (live && rs.getString("payload_text") != null) {
                type = key.startsWith(Link.KEY_PREFIX) ? "LINK" : "UPSERT";
                payload = rs.getString("payload_text");
            } else {
                // Not live anywhere: removed at the higher of its version and the backend's.
                version = Math.max(version, held);
                if (version <= 0) {
                    return; // nothing held, nothing to remove: the row is cleared with the page
                }
                if (key.startsWith(Link.KEY_PREFIX)) {
                    type = "LINK";
                    payload = unlinkPayload(key);
                } else {
                    type = "DELETE"; // lean, without a row: the planner deletes at the event's version
                }
            }
            events.add(new OutboxEvent(null, null, EVENT_PREFIX + key + ":" + version, type, key, version, payload,
                    now, 0, false));
        }, backend, partition, limit);
        return new Page(events, rows, keys, readAt[0]);
    }

    /** Deletes the rows of the page read; runs in the transaction that records the batch's ledger. */
    public void clear(String backend, int partition, Page page) {
        if (!page.keys().isEmpty()) {
            jdbc.update(CLEAR, backend, partition, page.keys().toArray(String[]::new), page.readAt());
        }
    }

    /**
     * The UNLINK payload of an edge key {@code link:<length of from>:<from>|<type>|<to>}; one that can't be
     * read gets an empty payload, which the planner refuses (parked as any bad event).
     */
    String unlinkPayload(String key) {
        ObjectNode o = json.createObjectNode();
        try {
            String rest = key.substring(Link.KEY_PREFIX.length());
            int colon = rest.indexOf(':');
            int n = Integer.parseInt(rest.substring(0, colon));
            int end = rest.offsetByCodePoints(colon + 1, n); // the length counts code points
            String from = rest.substring(colon + 1, end);
            String tail = rest.substring(end);
            int bar = tail.indexOf('|', 1);
            if (!tail.startsWith("|") || bar < 0) {
                return "{}";
            }
            o.put("from", from).put("type", tail.substring(1, bar)).put("to", tail.substring(bar + 1))
                    .put("op", "UNLINK");
        } catch (RuntimeException unreadable) {
            return "{}";
        }
        return o.toString();
    }

    /** True for an event a repair made (from its page, or parked from one). */
    public static boolean isRepair(OutboxEvent e) {
        return e.eventId() != null && e.eventId().startsWith(EVENT_PREFIX);
    }
}
