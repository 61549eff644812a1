package io.vectorsync.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.ExactJson;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.domain.Privacy;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * Turns a batch's events into changes: lean events read the chunk's current row, full events carry
 * their payload; privacy is applied (LOCAL_ONLY becomes a delete, REDACTED loses its content); then
 * UPSERT/DELETE collapse to the newest version per chunk, keeping every event that contributed; when the
 * newest event of a chunk cannot be materialised, the chunk is poisoned (parked) whatever came before it. LINK
 * events (relationships, ADR-008) become LINK/UNLINK changes keyed by edge for backends that accept
 * links, and are skipped for the others.
 */
@Component
@ServerOnly
public class ChangePlanner {

    private final ObjectMapper json;
    private final ObjectReader exact;

    public ChangePlanner(ObjectMapper json) {
        this.json = json;
        this.exact = ExactJson.reader(json);
    }

    /** The changes of one chunk key in a batch: the newest change and the events behind it. */
    public static final class Group {
        final String key;
        Change change;
        String poison;
        final List<OutboxEvent> events = new ArrayList<>();

        Group(String key) {
            this.key = key;
        }

        /** The newest event of the group: the one parked or dead-lettered if the change fails. */
        OutboxEvent newestEvent() {
            OutboxEvent newest = events.get(0);
            for (OutboxEvent e : events) {
                if (newer(e, newest)) {
                    newest = e;
                }
            }
            return newest;
        }

        /** A higher version, or the same version read from the outbox rather than from parked. */
        private static boolean newer(OutboxEvent e, OutboxEvent than) {
            return e.version() > than.version() || (e.version() == than.version() && !e.fromParked());
        }

        int attemptsSpent() {
            return events.stream().mapToInt(OutboxEvent::attempts).max().orElse(0);
        }
    }

    /** Groups the batch by chunk; LINK events are not chunk changes and are left to graph backends. */
    public Map<String, Group> plan(Batch batch) {
        return plan(batch, false);
    }

    /**
     * Groups the batch by chunk, and LINK events by edge key when {@code acceptLinks} (the backend
     * {@linkplain io.vectorsync.backend.LinkStore accepts links}); otherwise LINK events are
     * skipped (the cursor still moves past them).
     */
    public Map<String, Group> plan(Batch batch, boolean acceptLinks) {
        Map<String, Group> groups = new LinkedHashMap<>();
        List<OutboxEvent> all = new ArrayList<>(batch.parked());
        all.addAll(batch.events());
        // The newest event of each key decides: if it cannot be materialised, the key is poisoned whatever
        // valid older versions came with it (sending one of them would mark the newer event processed, and
        // the outcome would depend on where batches were cut).
        Map<String, OutboxEvent> deciding = new HashMap<>();
        for (OutboxEvent e : all) {
            if ("LINK".equals(e.type()) && !acceptLinks) {
                continue;
            }
            Group g = groups.computeIfAbsent(e.chunkId(), Group::new);
            g.events.add(e);
            OutboxEvent decider = deciding.get(g.key);
            boolean decides = decider == null || Group.newer(e, decider);
            if (decides) {
                deciding.put(g.key, e);
            }
            Change c;
            try {
                c = materialize(e, batch.rows(), batch.copyRows());
            } catch (IllegalArgumentException bad) {
                if (decides) {
                    g.poison = bad.getMessage();
                }
                continue;
            }
            if (decides) {
                g.poison = null;
            }
            if (g.change == null || c.version() > g.change.version()) {
                g.change = c;
            }
        }
        for (Group g : groups.values()) {
            if (g.poison != null) {
                g.change = null;
            }
        }
        if (acceptLinks) {
            withHistory(groups, all, batch);
        }
        return groups;
    }

    /**
     * For a backend that takes links (ADR-018): each change gets the batch position of its newest event
     * and the older changes of its key with theirs, so that the backend applies the batch as if its events
     * came one by one (a delete between two upserts removes the chunk's relationships; a LINK sees its
     * endpoints as they were at its own position).
     */
    private void withHistory(Map<String, Group> groups, List<OutboxEvent> all, Batch batch) {
        Map<OutboxEvent, Integer> position = new java.util.IdentityHashMap<>();
        for (int i = 0; i < all.size(); i++) {
            position.put(all.get(i), i);
        }
        for (Group g : groups.values()) {
            if (g.change == null) {
                continue;
            }
            List<Change> earlier = new ArrayList<>();
            long at = -1;
            for (OutboxEvent e : g.events) {
                Change c;
                try {
                    c = materialize(e, batch.rows(), batch.copyRows());
                } catch (IllegalArgumentException bad) {
                    continue;
                }
                if (c.version() < g.change.version()) {
                    earlier.add(c.withHistory(position.get(e), List.of()));
                } else if (c.version() == g.change.version()) {
                    at = position.get(e);
                }
            }
            g.change = g.change.withHistory(at, earlier);
        }
    }

    Change materialize(OutboxEvent e, Map<String, ChunkRow> rows, boolean copyRows) {
        if ("LINK".equals(e.type())) {
            return parseLink(e.chunkId(), e.version(), e.payloadJson());
        }
        if (e.payloadJson() == null) {
            ChunkRow row = rows.get(e.chunkId());
            if (row == null) {
                return Change.delete(e.chunkId(), e.version());
            }
            if (row.deleted()) {
                return Change.delete(e.chunkId(), row.version());
            }
            if (copyRows && row.data().privacy() != Privacy.LOCAL_ONLY) {
                return Change.copyFromPrimary(e.chunkId(), row.version());
            }
            return withPrivacy(row.data(), row.version());
        }
        if ("DELETE".equals(e.type())) {
            return Change.delete(e.chunkId(), e.version());
        }
        return withPrivacy(parsePayload(e.chunkId(), e.payloadJson()), e.version());
    }

    /**
     * The change the relay sends for an aggregate's current state as {@code aggregates} holds it (its
     * payload, ADR 019): parsed as a full event of that key is, an edge key as a LINK, privacy applied.
     *
     * @throws IllegalArgumentException with the {@code VSYNC-...} code the relay would poison the event with
     */
    public Change fromState(String key, long version, String payload) {
        if (key.startsWith(Link.KEY_PREFIX)) {
            return parseLink(key, version, payload);
        }
        if (payload == null) {
            throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: an UPSERT needs a JSON object payload");
        }
        return withPrivacy(parsePayload(key, payload), version);
    }

    /** The change the relay sends for this chunk content under its privacy level. */
    public static Change withPrivacy(ChunkData d, long version) {
        return switch (d.privacy()) {
            case LOCAL_ONLY -> Change.delete(d.chunkId(), version);
            case REDACTED -> Change.upsert(
                    new ChunkData(d.chunkId(), d.documentId(), null, d.embedding(), d.metadataJson(), d.privacy()),
                    version);
            case FULL -> Change.upsert(d, version);
        };
    }

    private ChunkData parsePayload(String chunkId, String payload) {
        JsonNode n;
        try {
            n = exact.readTree(payload); // metadata numbers as stored, not through a double
        } catch (Exception e) {
            throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: payload is not JSON");
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: payload must be a JSON object");
        }
        float[] embedding = null;
        JsonNode emb = n.get("embedding");
        if (emb != null && !emb.isNull()) {
            if (!emb.isArray()) {
                throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: embedding must be an array of numbers");
            }
            embedding = new float[emb.size()];
            for (int i = 0; i < emb.size(); i++) {
                JsonNode x = emb.get(i);
                float f = !x.isNumber() ? Float.NaN : x.isBigDecimal() ? (float) x.doubleValue() : x.floatValue();
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: embedding[" + i + "] must be a finite number");
                }
                embedding[i] = f;
            }
        }
        JsonNode meta = n.get("metadata");
        Privacy privacy;
        try {
            privacy = Privacy.parse(text(n, "privacy"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: privacy must be FULL, REDACTED or LOCAL_ONLY");
        }
        return new ChunkData(chunkId, text(n, "documentId"), text(n, "content"), embedding,
                meta == null || meta.isNull() ? "{}" : meta.toString(), privacy);
    }

    /**
     * A LINK event's change: payload {@code {"from", "type", "to", "op": "LINK"|"UNLINK", "properties"}},
     * keyed by the edge key the payload names (an event whose key says otherwise is refused, so that one
     * edge's versions are guarded under one key).
     */
    private Change parseLink(String key, long version, String payload) {
        JsonNode n;
        try {
            n = payload == null ? null : json.readTree(payload);
        } catch (Exception e) {
            throw new IllegalArgumentException("VSYNC-LINK-PAYLOAD: payload is not JSON");
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("VSYNC-LINK-PAYLOAD: a LINK event needs a JSON object payload");
        }
        JsonNode props = n.get("properties");
        if (props != null && !props.isNull() && !props.isObject()) {
            throw new IllegalArgumentException("VSYNC-LINK-PAYLOAD: properties must be a JSON object");
        }
        String op = text(n, "op") == null ? "LINK" : text(n, "op");
        Link link;
        try {
            link = new Link(text(n, "from"), text(n, "type"), text(n, "to"),
                    props == null || props.isNull() ? "{}" : props.toString());
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException("VSYNC-LINK-PAYLOAD: " + bad.getMessage());
        }
        if (!link.key().equals(key)) {
            throw new IllegalArgumentException("VSYNC-LINK-KEY: a LINK event's key must be the edge key"
                    + " link:<length of from>:<from>|<type>|<to> (vectorsync.enqueue_link builds it)");
        }
        return switch (op) {
            case "LINK" -> Change.link(link, version);
            case "UNLINK" -> Change.unlink(link, version);
            default -> throw new IllegalArgumentException("VSYNC-LINK-PAYLOAD: op must be LINK or UNLINK");
        };
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** The full event as delivered, kept with a dead letter so it can be replayed after retention. */
    public String toPayload(Change c) {
        if (c == null || c.op() != Change.Op.UPSERT || c.copiesFromPrimary()) {
            // A copy from the primary is replayed as a lean event (it reads the row again); deletes and
            // links keep the event's own payload.
            return null;
        }
        ObjectNode o = io.vectorsync.backend.ChunkJson.fill(json.createObjectNode(), c.data(), json);
        return o.toString();
    }
}
