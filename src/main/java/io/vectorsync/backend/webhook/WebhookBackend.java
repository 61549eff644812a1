package io.vectorsync.backend.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.EventJson;
import io.vectorsync.backend.HttpCalls;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.RequestSignature;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * The webhook backend: POSTs each batch as JSON ({@link EventJson}) to a receiver, with an
 * {@code Idempotency-Key} header (the batch's key, stable across retries) and a signature header
 * {@code X-Vectorsync-Signature} ({@link RequestSignature}). Statuses mean what {@link HttpCalls#classify}
 * says for every HTTP backend; a refusal's body {@code {"failedIndex": n}} names the refused change. No
 * read-back: a receiver is not a store this service can query.
 */
public final class WebhookBackend implements Backend {

    static final String SIGNATURE_HEADER = "X-Vectorsync-Signature";
    /** The writing relay's lease epoch for (backend, partition); the same as the body's {@code leaseEpoch}. */
    static final String EPOCH_HEADER = "Vectorsync-Lease-Epoch";
    static final String PARTITION_HEADER = "Vectorsync-Lease-Partition";

    private final String name;
    private final HttpCalls http;
    private final EventJson events;
    private final RequestSignature signature;
    private final Clock clock;

    public WebhookBackend(String name, VectorsyncProperties.Backend config, ObjectMapper json, Clock clock) {
        this.name = name;
        BackendBlocks.Webhook webhook = config.webhook();
        URI url = HttpCalls.serverUrl(webhook.url(), null, name + ".webhook", "webhook");
        if (webhook.secret() == null || webhook.secret().length() < 16) {
            throw new IllegalStateException("vectorsync.backends." + name
                    + ".webhook.secret must be at least 16 characters (it signs every request with HMAC-SHA256)");
        }
        this.http = new HttpCalls(name, url.toString(), config.connectTimeout(), config.readTimeout(), json, clock);
        this.events = new EventJson(name, json);
        this.signature = new RequestSignature(webhook.secret());
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * The lease's epoch and partition travel with the batch (headers and the signed body's
     * {@code leaseEpoch} and {@code partition}): a receiver applies an event only when its (leaseEpoch,
     * version) is newer than what it holds, or refuses (409) a batch whose epoch is below the highest it
     * has seen for (backend, partition), so a stalled former holder can't land a stale batch (ADR 017).
     */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (changes.isEmpty()) {
            return;
        }
        byte[] body = events.batch(changes, fence);
        HttpCalls.Reply r = http.call("POST", "", body, "application/json", Map.of(
                "Idempotency-Key", EventJson.batchKey(changes),
                SIGNATURE_HEADER, signature.header(clock.instant().getEpochSecond(), body),
                EPOCH_HEADER, Long.toString(fence.epoch()),
                PARTITION_HEADER, Integer.toString(fence.partition())));
        if (r.ok() || r.verdict() == HttpCalls.Verdict.ALREADY_APPLIED) {
            return;
        }
        if (r.status() == 404 && changes.stream().allMatch(c -> c.op() == Change.Op.DELETE)) {
            return; // deleting what the receiver does not have
        }
        boolean refused = r.verdict() == HttpCalls.Verdict.PERMANENT;
        throw http.failure("the receiver", r, refused ? r.failedIndex(changes.size()) : -1);
    }
}
