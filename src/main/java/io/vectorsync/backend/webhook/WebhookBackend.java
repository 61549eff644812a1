package io.vectorsync.backend.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.ChunkJson;
import io.vectorsync.backend.HttpCalls;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The webhook backend: POSTs a JSON batch of changes to a receiver. Each change carries its
 * idempotency key {@code chunkId:version}; the request carries an {@code Idempotency-Key} header (a
 * digest of the batch's keys, stable across retries) and a signature header
 * {@code X-Vectorsync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>}.
 * Statuses mean what {@link HttpCalls#classify} says for every HTTP backend: 2xx is success, 409 means
 * already applied; 401/403 (a rotated key), 408, 429 and 5xx are transient (Retry-After honoured); other
 * 4xx refuse the batch (a body {@code {"failedIndex": n}} names the refused change). No read-back:
 * a receiver is not a store this service can query.
 */
public final class WebhookBackend implements Backend {

    static final String SIGNATURE_HEADER = "X-Vectorsync-Signature";
    /** The writing relay's lease epoch for (backend, partition); the same as the body's {@code leaseEpoch}. */
    static final String EPOCH_HEADER = "Vectorsync-Lease-Epoch";
    static final String PARTITION_HEADER = "Vectorsync-Lease-Partition";

    private final String name;
    private final byte[] secret;
    private final HttpCalls http;
    private final ObjectMapper json;
    private final Clock clock;

    public WebhookBackend(String name, VectorsyncProperties.Backend config, ObjectMapper json, Clock clock) {
        this.name = name;
        BackendBlocks.Webhook webhook = config.webhook();
        URI url = HttpCalls.serverUrl(webhook.url(), null, name + ".webhook", "webhook");
        if (webhook.secret() == null || webhook.secret().length() < 16) {
            throw new IllegalStateException("vectorsync.backends." + name
                    + ".webhook.secret must be at least 16 characters (it signs every request with HMAC-SHA256)");
        }
        this.secret = webhook.secret().getBytes(StandardCharsets.UTF_8);
        this.http = new HttpCalls(name, url.toString(), config.connectTimeout(), config.readTimeout(), json, clock);
        this.json = json;
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * A receiver is not a store this service can write conditionally, so the lease's epoch and partition
     * travel with the batch (headers {@value #EPOCH_HEADER} and {@value #PARTITION_HEADER}, fields
     * {@code leaseEpoch} and {@code partition} of the signed body): a receiver applies an event only when its
     * (leaseEpoch, version) is newer than what it holds for the chunk, or refuses (409) a batch whose epoch
     * is below the highest it has seen for (backend, partition), so a stalled former holder can't land a
     * stale batch after the new holder's (ADR 017).
     */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        send(changes, fence);
    }

    private void send(List<Change> changes, LeaseFence fence) {
        if (changes.isEmpty()) {
            return;
        }
        byte[] body = body(changes, fence);
        long t = clock.instant().getEpochSecond();
        HttpCalls.Reply r = http.call("POST", "", body, "application/json", Map.of(
                "Idempotency-Key", batchKey(changes),
                SIGNATURE_HEADER, "t=" + t + ",v1=" + sign(t, body),
                EPOCH_HEADER, Long.toString(fence.epoch()),
                PARTITION_HEADER, Integer.toString(fence.partition())));
        if (r.ok() || r.verdict() == HttpCalls.Verdict.ALREADY_APPLIED) {
            return;
        }
        if (r.status() == 404 && changes.stream().allMatch(c -> c.op() == Change.Op.DELETE)) {
            return; // deleting what the receiver does not have
        }
        boolean refused = r.verdict() == HttpCalls.Verdict.PERMANENT;
        throw http.failure("the receiver", r, refused ? failedIndex(r, changes.size()) : -1);
    }

    private byte[] body(List<Change> changes, LeaseFence fence) {
        ObjectNode root = json.createObjectNode();
        root.put("backend", name);
        root.put("partition", fence.partition());
        root.put("leaseEpoch", fence.epoch());
        ArrayNode events = root.putArray("events");
        for (Change c : changes) {
            ObjectNode e = events.addObject();
            e.put("idempotencyKey", c.idempotencyKey());
            e.put("op", c.op().name());
            e.put("chunkId", c.key());
            e.put("version", c.version());
            if (c.op() == Change.Op.UPSERT) {
                ChunkJson.fill(e, c.data(), json);
            }
        }
        try {
            return json.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new PermanentBackendException("backend '" + name + "': cannot serialise the batch", e);
        }
    }

    static String batchKey(List<Change> changes) {
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

    String sign(long t, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((t + ".").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The refused change a receiver names ({@code {"failedIndex": n}}), or -1: the relay splits the batch. */
    private static int failedIndex(HttpCalls.Reply r, int size) {
        JsonNode i = r.body().path("failedIndex");
        return i.canConvertToInt() && i.asInt() >= 0 && i.asInt() < size ? i.asInt() : -1;
    }
}
