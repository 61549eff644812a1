package io.vectorsync.backend;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.Change;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Changes as JSON events, the shape a receiver that is not a store gets (the webhook's body; one message
 * per event for endpoints): {@code idempotencyKey} ({@code chunkId:version}), {@code op}, {@code chunkId},
 * {@code version} and, for an UPSERT, the chunk's fields as {@link ChunkJson} writes them (privacy applied).
 * A batch also names the backend, the lease's partition and epoch (ADR 017) and has a key of its own,
 * stable across retries.
 */
public final class EventJson {

    private final String backend;
    private final ObjectMapper json;

    public EventJson(String backend, ObjectMapper json) {
        this.backend = backend;
        this.json = json;
    }

    /** One change as an event object. */
    public ObjectNode event(Change c) {
        ObjectNode e = json.createObjectNode();
        e.put("idempotencyKey", c.idempotencyKey());
        e.put("op", c.op().name());
        e.put("chunkId", c.key());
        e.put("version", c.version());
        if (c.op() == Change.Op.UPSERT) {
            ChunkJson.fill(e, c.data(), json);
        }
        return e;
    }

    /** {@code {"backend", "partition", "leaseEpoch", "events": [...]}} as UTF-8 bytes. */
    public byte[] batch(List<Change> changes, LeaseFence fence) {
        ObjectNode root = json.createObjectNode();
        root.put("backend", backend);
        root.put("partition", fence.partition());
        root.put("leaseEpoch", fence.epoch());
        changes.forEach(c -> root.withArray("events").add(event(c)));
        return bytes(root);
    }

    /** An event or batch as UTF-8 bytes. */
    public byte[] bytes(ObjectNode node) {
        try {
            return json.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new PermanentBackendException("backend '" + backend + "': cannot serialise the batch", e);
        }
    }

    /** The batch's key: a SHA-256 of its events' idempotency keys, the same for every retry of the batch. */
    public static String batchKey(List<Change> changes) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Change c : changes) {
                sha.update(c.idempotencyKey().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) '\n');
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
