package io.vectorsync.sync;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.capture.OutboxWriter;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import io.vectorsync.device.HybridClock;
import io.vectorsync.relay.Failpoints;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The upload of the local outbox: the due PENDING entries in id order, cut into a batch by
 * {@code upload.batch-size} and {@code upload.batch-bytes} (always at least one), sent in one call of
 * {@code sync_apply} with each chunk's current {@code remote_version} as the base and the highest upload id
 * below which every entry is finished as the acknowledgement. The outcomes are applied in one transaction of
 * the device: APPLIED marks the entry SYNCED with the remote's version; a CONFLICT keeps the loser
 * ({@link ConflictKeeper}) and, when the remote won and no later local edit followed, applies the remote's
 * row locally; INVALID spends one of the entry's attempts under a new key (nothing was written, so a new key
 * is safe) and FAILED ({@code VSYNC-SYNC-004}) comes after {@code retry.max-attempts}. A call the remote
 * refused as a whole is split into single entries, so one bad entry never blocks the others. A remote
 * that cannot be reached throws {@link RemoteSyncException.Unreachable} and spends nothing: the engine
 * backs off.
 */
@Component
@DeviceOnly
public class SyncUploader {

    private static final Logger log = LoggerFactory.getLogger(SyncUploader.class);

    /**
     * Due entries in id order; an entry waits while an earlier entry of its chunk waits for its retry, so a
     * chunk's edits reach the remote in the order they were made.
     */
    private static final String DUE = """
            SELECT o.id, o.idempotency_key, o.chunk_id, o.op, o.revision, o.payload, o.payload_bytes, o.retry_count
              FROM outbox o
             WHERE o.status = 'PENDING' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
               AND NOT EXISTS (SELECT 1 FROM outbox e
                                WHERE e.chunk_id = o.chunk_id AND e.status = 'PENDING' AND e.id < o.id
                                  AND e.next_attempt_at > ?)
             ORDER BY o.id
             LIMIT ?
            """;
    /** Every entry up to this id is finished (SYNCED, CONFLICT or FAILED): the remote may forget their keys. */
    static final String ACKED = """
            SELECT coalesce((SELECT min(id) FROM outbox WHERE status = 'PENDING') - 1, (SELECT max(id) FROM outbox), 0)
            """;
    private static final String BASES = "SELECT chunk_id, remote_version FROM chunks WHERE chunk_id IN (%s)";
    /** How the device's own writer ({@code SqliteChunkStore}) starts a payload: op and chunkId, no upload fields. */
    private static final String OWN_PAYLOAD = "{\"op\":\"";
    private static final String FINISHED = """
            UPDATE outbox SET status = ?, assigned_version = ?, synced_at = ?, last_code = ?, last_error = NULL,
                              next_attempt_at = NULL
             WHERE id = ? AND status = 'PENDING'
            """;
    private static final String RETRY_LATER = """
            UPDATE outbox SET retry_count = ?, next_attempt_at = ?, last_code = ?, last_error = ?, idempotency_key = ?,
                              payload = ?
             WHERE id = ? AND status = 'PENDING'
            """;
    private static final String LATEST = """
            SELECT count(*) FROM chunks c JOIN outbox o ON o.chunk_id = c.chunk_id
             WHERE c.chunk_id = ? AND o.id = ? AND c.revision = o.revision
            """;
    private static final String FAILED_IF_LATEST = """
            UPDATE chunks SET sync_status = 'FAILED'
             WHERE chunk_id = ? AND sync_status <> 'LOCAL'
               AND revision = (SELECT revision FROM outbox WHERE id = ?)
            """;
    private static final String GIVE_UP = """
            UPDATE outbox SET status = 'FAILED', retry_count = ?, next_attempt_at = NULL, last_code = 'VSYNC-SYNC-004',
                              last_error = ?
             WHERE id = ? AND status = 'PENDING'
            """;

    /** One entry of the local outbox as it is sent. */
    record Entry(long id, String key, String chunkId, String op, long revision, String payload, int bytes,
            int retryCount) {}

    /** What one batch did. */
    record Result(int sent, int applied, int conflicts, int invalid, int failed, String serverTime) {
        static final Result NONE = new Result(0, 0, 0, 0, 0, null);

        Result plus(Result o) {
            return new Result(sent + o.sent, applied + o.applied, conflicts + o.conflicts, invalid + o.invalid,
                    failed + o.failed, o.serverTime != null ? o.serverTime : serverTime);
        }
    }

    /**
     * The failpoint between the remote's commit of a batch and the device's record of its outcomes: a device
     * killed here sends the batch again under the same keys and gets the stored outcomes (DeviceSyncIT).
     */
    static final String AFTER_REMOTE_COMMIT = "sync-after-remote-commit";

    private final HybridClock hlc;
    private final SyncParts p;
    private final Failpoints failpoints;

    public SyncUploader(SyncParts parts, HybridClock hlc, Failpoints failpoints) {
        this.p = parts;
        this.hlc = hlc;
        this.failpoints = failpoints;
    }

    /** The next batch of due entries, in id order, cut by count and bytes; empty when nothing is due. */
    List<Entry> nextBatch() {
        String now = p.state().now();
        SyncProperties.Upload upload = p.properties().upload();
        List<Entry> due = p.jdbc().query(DUE, (rs, i) -> new Entry(rs.getLong("id"), rs.getString("idempotency_key"),
                rs.getString("chunk_id"), rs.getString("op"), rs.getLong("revision"), rs.getString("payload"),
                rs.getInt("payload_bytes"), rs.getInt("retry_count")), now, now, upload.batchSize());
        List<Entry> batch = new ArrayList<>();
        long bytes = 0;
        for (Entry e : due) {
            if (!batch.isEmpty() && bytes + e.bytes() > upload.batchBytes()) {
                break;
            }
            batch.add(e);
            bytes += e.bytes();
        }
        return batch;
    }

    /** Uploads the next batch; {@link Result#NONE} when nothing is due. */
    public Result uploadNext(String device) {
        List<Entry> batch = nextBatch();
        return batch.isEmpty() ? Result.NONE : send(device, batch);
    }

    private Result send(String device, List<Entry> batch) {
        long acked = p.jdbc().queryForObject(ACKED, Long.class);
        Map<String, Long> base = baseVersions(batch);
        List<String> changes = new ArrayList<>(batch.size());
        StringBuilder request = new StringBuilder(batch.stream().mapToInt(Entry::bytes).sum() + 100 * batch.size());
        request.append('[');
        for (Entry e : batch) {
            String change = change(e, base.getOrDefault(e.chunkId(), 0L));
            changes.add(change);
            request.append(request.length() > 1 ? "," : "").append(change);
        }
        request.append(']');
        ObjectNode options = p.json().createObjectNode().put("policy", p.properties().conflict().policy().wire())
                .put("maxClockSkewSeconds", p.properties().maxClockSkew().toSeconds());
        JsonNode answer;
        Instant sentAt = p.state().instantNow();
        try {
            answer = p.remote().apply(device, acked, request.toString(), options);
            p.skew().measure(sentAt, p.state().instantNow(), answer.path("serverTime").asText(null));
        } catch (RemoteSyncException.CallFailed e) {
            if (batch.size() > 1) { // isolate: each entry alone, so the good ones go through
                log.warn("{}; sending the {} entries of the batch one by one", e.getMessage(), batch.size());
                Result r = Result.NONE;
                for (Entry one : batch) {
                    r = r.plus(send(device, List.of(one)));
                }
                return r;
            }
            p.tx().executeWithoutResult(s -> spendAttempt(batch.get(0), e.code(), e.getMessage(), false));
            p.counters().changes("upload", "failed", 1);
            return new Result(1, 0, 0, 0, 1, null);
        }
        failpoints.hit(AFTER_REMOTE_COMMIT);
        Result r = p.tx().execute(s -> {
            Result recorded = record(batch, changes, answer);
            // in the same transaction: one commit (one wait for the disk) per batch
            p.settings().put(io.vectorsync.device.DeviceSettings.LAST_UPLOAD_AT, p.state().now());
            return recorded;
        });
        p.counters().changes("upload", "applied", r.applied());
        p.counters().changes("upload", "conflict", r.conflicts());
        p.counters().changes("upload", "invalid", r.invalid());
        p.counters().changes("upload", "failed", r.failed());
        return r;
    }

    /** No later local edit of the entry's chunk: the chunk's revision is the entry's (ADR 023). */
    private boolean latest(Entry e) {
        return p.jdbc().queryForObject(LATEST, Integer.class, e.chunkId(), e.id()) > 0;
    }

    /** Each chunk's {@code remote_version} now, in one query (a chunk not there is version 0). */
    private Map<String, Long> baseVersions(List<Entry> batch) {
        List<String> ids = batch.stream().map(Entry::chunkId).distinct().toList();
        Map<String, Long> base = new HashMap<>();
        p.jdbc().query(String.format(BASES, String.join(",", java.util.Collections.nCopies(ids.size(), "?"))),
                rs -> {
                    base.put(rs.getString(1), rs.getLong(2));
                }, ids.toArray());
        return base;
    }

    /**
     * The change as {@code sync_apply} takes it: the entry's payload with {@code key}, {@code uploadId} and
     * {@code baseVersion}. A payload of the device's own writer is extended as text (parsing and writing
     * ~5 kB of JSON per entry was most of the device's share of a batch); any other goes through a tree.
     */
    private String change(Entry e, long baseVersion) {
        if (e.payload().startsWith(OWN_PAYLOAD)) {
            StringBuilder c = new StringBuilder(e.payload().length() + 100);
            c.append("{\"key\":\"");
            JsonStringEncoder.getInstance().quoteAsString(e.key(), c);
            return c.append("\",\"uploadId\":").append(e.id()).append(",\"baseVersion\":").append(baseVersion)
                    .append(',').append(e.payload(), 1, e.payload().length()).toString();
        }
        try {
            return p.json().writeValueAsString(changeTree(e, baseVersion));
        } catch (IOException ex) {
            throw new IllegalStateException("outbox entry " + e.id() + " cannot be written as JSON", ex);
        }
    }

    /** A change as it was sent, read back for a conflict's record. */
    private JsonNode sentChange(Entry e, String change) {
        try {
            return p.json().readTree(change);
        } catch (IOException ex) {
            throw new IllegalStateException("outbox entry " + e.id() + " was sent as JSON that does not read back", ex);
        }
    }

    private ObjectNode changeTree(Entry e, long baseVersion) {
        ObjectNode c;
        try {
            c = (ObjectNode) p.json().readTree(e.payload());
        } catch (IOException | ClassCastException ex) {
            throw new IllegalStateException("outbox entry " + e.id() + " has a payload that is not a JSON object", ex);
        }
        ObjectNode out = p.json().createObjectNode().put("key", e.key()).put("uploadId", e.id());
        out.put("op", c.path("op").asText(e.op())).put("chunkId", c.path("chunkId").asText(e.chunkId()))
                .put("baseVersion", baseVersion);
        c.fields().forEachRemaining(f -> {
            if (!out.has(f.getKey())) {
                out.set(f.getKey(), f.getValue());
            }
        });
        return out;
    }

    /** Applies the outcomes of one batch to the device (inside its transaction). */
    private Result record(List<Entry> batch, List<String> changes, JsonNode answer) {
        Map<Long, JsonNode> byUpload = new HashMap<>();
        for (JsonNode o : answer.path("outcomes")) {
            byUpload.put(o.path("uploadId").asLong(), o);
        }
        String now = p.state().now();
        int applied = 0;
        int conflicted = 0;
        int invalid = 0;
        int failed = 0;
        for (int i = 0; i < batch.size(); i++) {
            Entry e = batch.get(i);
            JsonNode o = byUpload.get(e.id());
            String status = o == null ? "" : o.path("status").asText();
            switch (status) {
                case "APPLIED" -> {
                    long version = o.path("version").asLong();
                    p.store().uploaded(e.id(), version, "SYNCED");
                    applied++;
                }
                case "CONFLICT" -> {
                    conflict(e, sentChange(e, changes.get(i)), o, now);
                    conflicted++;
                }
                case "INVALID" -> {
                    if (spendAttempt(e, o.path("code").asText("VSYNC-SYNC-005"), o.path("error").asText("invalid"),
                            true)) {
                        failed++;
                    }
                    invalid++;
                }
                default -> {
                    if (spendAttempt(e, "VSYNC-SYNC-002", "the remote returned no outcome for upload " + e.id(),
                            false)) {
                        failed++;
                    }
                }
            }
        }
        return new Result(batch.size(), applied, conflicted, invalid, failed, answer.path("serverTime").asText(null));
    }

    private void conflict(Entry e, JsonNode sent, JsonNode o, String now) {
        long version = o.path("version").asLong();
        boolean localWon = "local".equals(o.path("winner").asText());
        String reason = "local-only".equals(sent.path("reason").asText()) ? "local-only" : "base-version";
        JsonNode loser = o.get("loser");
        if (localWon) {
            p.store().uploaded(e.id(), version, "CONFLICT");
            p.conflicts().keep(new ConflictKeeper.Conflict(e.chunkId(), "local", reason, withoutKeys(sent), loser,
                    loser == null ? 0 : loser.path("version").asLong()), now);
            return;
        }
        JsonNode winner = o.get("remote");
        boolean latest = latest(e);
        p.jdbc().update(FINISHED, "CONFLICT", version, now, "VSYNC-SYNC-003", e.id());
        if (latest && winner != null && winner.isObject()) { // a later local edit will be decided on its own
            p.store().applyRemote(RemoteRows.chunk(winner, version), "CONFLICT");
        }
        if (winner != null && winner.hasNonNull("modifiedAt")) {
            hlc.observe(winner.get("modifiedAt").asText());
        }
        long loserVersion = loser != null && loser.path("version").asLong() > 0 ? loser.path("version").asLong()
                : sent.path("baseVersion").asLong();
        p.conflicts().keep(new ConflictKeeper.Conflict(e.chunkId(), "remote", reason, loser == null ? withoutKeys(sent) : loser,
                winner, loserVersion), now);
    }

    private JsonNode withoutKeys(JsonNode sent) {
        ObjectNode row = sent.deepCopy();
        row.remove(List.of("key", "uploadId"));
        return row;
    }

    /**
     * A permanent failure of the entry: one attempt spent; FAILED with {@code VSYNC-SYNC-004} after the last.
     * With {@code rekey} (the remote wrote nothing and stored its refusal under the key) the retry goes under a
     * new key, restamped from the hybrid clock. Returns true when the entry is now FAILED.
     */
    private boolean spendAttempt(Entry e, String code, String error, boolean rekey) {
        int attempts = e.retryCount() + 1;
        SyncProperties.Retry retry = p.properties().retry();
        if (attempts >= retry.maxAttempts()) {
            p.jdbc().update(GIVE_UP, attempts, code + ": " + error + " (" + attempts + " attempts)", e.id());
            p.jdbc().update(FAILED_IF_LATEST, e.chunkId(), e.id());
            log.error("VSYNC-SYNC-004 upload {} of chunk {} FAILED after {} attempts: {} {}", e.id(), e.chunkId(),
                    attempts, code, error);
            return true;
        }
        Instant next = p.state().instantNow().plus(backoff(retry, attempts));
        String key = rekey ? OutboxWriter.newEventId() : e.key();
        String payload = e.payload();
        if (rekey && error.contains("clock ahead")) {
            p.skew().refusedAhead();
            payload = restamped(e.payload());
        }
        p.jdbc().update(RETRY_LATER, attempts, SyncState.format(next), code, error, key, payload, e.id());
        log.warn("Upload {} of chunk {} refused ({}), attempt {}/{}: {}", e.id(), e.chunkId(), code, attempts,
                retry.maxAttempts(), error);
        return false;
    }

    private String restamped(String payload) {
        try {
            ObjectNode change = (ObjectNode) p.json().readTree(payload);
            change.put("modifiedAt", hlc.now());
            return p.json().writeValueAsString(change);
        } catch (IOException | ClassCastException ex) {
            return payload;
        }
    }

    /** {@code base-delay · 2^(n-1)}, at most {@code max-delay}. */
    static Duration backoff(SyncProperties.Retry retry, int failures) {
        Duration d = retry.baseDelay();
        for (int i = 1; i < failures && d.compareTo(retry.maxDelay()) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(retry.maxDelay()) > 0 ? retry.maxDelay() : d;
    }
}
