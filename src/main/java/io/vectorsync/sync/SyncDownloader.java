package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.DeviceSettings;
import io.vectorsync.device.DeviceStore;
import java.io.IOException;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The download of the remote's changes. One call of {@code sync_changes} from the device's cursor; its
 * changes go to the local {@code inbox} and the new cursor to the {@code device} table in one transaction,
 * so a crash re-reads nothing it lost and loses nothing it read. The inbox is then applied in id order at
 * the remote's version with no outbox entry (no echo); an entry of a chunk with a PENDING upload waits
 * (WAITING) until that upload's outcome is known; a change older than the local row is SKIPPED; a local
 * LOCAL_ONLY chunk is never overwritten (a conflict, the local side wins, reason local-only); content the
 * remote does not send (REDACTED) never clears the local content. Every applied time is observed by the
 * hybrid clock. When the remote says {@code resync} (first call, events retention removed before this
 * device read them, or the remote's identity changed), the device pages {@code sync_snapshot} from the new
 * cursor's snapshot, applying every live chunk the same way; {@code resync_after} in the device table says
 * a re-sync is under way (status shows it) and where it continues after a restart.
 */
@Component
@DeviceOnly
public class SyncDownloader {

    private static final Logger log = LoggerFactory.getLogger(SyncDownloader.class);

    private static final String RECEIVE = """
            INSERT INTO inbox (event_id, chunk_id, version, op, payload, status, received_at)
            VALUES (?, ?, ?, ?, ?, 'RECEIVED', ?)
            ON CONFLICT (event_id) DO NOTHING
            """;
    private static final String TO_APPLY = """
            SELECT id, chunk_id, version, op, payload FROM inbox WHERE status IN ('RECEIVED', 'WAITING') ORDER BY id LIMIT ?
            """;
    private static final String PENDING_UPLOAD = "SELECT count(*) FROM outbox WHERE chunk_id = ? AND status = 'PENDING'";
    private static final String SYNCED_LIVE = """
            SELECT chunk_id FROM chunks c
             WHERE deleted = 0 AND privacy <> 'LOCAL_ONLY' AND remote_version > 0 AND revision = 0
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.chunk_id = c.chunk_id AND (o.status = 'PENDING' OR o.id > ?))
            """;
    private static final String GONE = """
            UPDATE chunks SET deleted = 1, content = NULL, embedding = NULL, document_id = NULL, metadata = '{}',
                              sync_status = 'SYNCED', updated_at = ?
             WHERE chunk_id = ? AND deleted = 0 AND revision = 0
            """;
    private static final String HELD = "SELECT remote_version FROM chunks WHERE chunk_id = ?";
    private static final String MARK = "UPDATE inbox SET status = ?, note = ?, applied_at = ? WHERE id = ?";

    /** What one download did. */
    record Result(int received, int applied, int skipped, int conflicts, int waiting, boolean more, boolean resync) {}


    private final SyncParts p;
    /** Chunk ids of the snapshot re-sync under way, when this process read it from its start. */
    private volatile Set<String> snapshotSeen;
    /** Every outbox entry up to this id was finished when the re-sync started (later ones may finish during it). */
    private volatile long snapshotFinishedBelow;

    public SyncDownloader(SyncParts parts) {
        this.p = parts;
    }

    /** True while a snapshot re-sync is under way. */
    public boolean resyncing() {
        return p.settings().get(DeviceSettings.RESYNC_AFTER).isPresent();
    }

    /** Forgets the cursor: the next download re-syncs from a snapshot (the remote changed identity). */
    void forgetCursor() {
        p.settings().remove(DeviceSettings.DOWNLOAD_CURSOR);
    }

    /** One download: a page of the snapshot while a re-sync runs, otherwise one window of changes. */
    public Result downloadNext(String device) {
        if (resyncing()) {
            return snapshotPage(device);
        }
        JsonNode cursor = p.settings().get(DeviceSettings.DOWNLOAD_CURSOR).map(this::parse).orElse(null);
        Instant sent = p.state().instantNow();
        JsonNode answer = p.remote().changes(device, cursor, p.properties().download().batchSize());
        p.skew().measure(sent, p.state().instantNow(), answer.path("serverTime").asText(null));
        String now = p.state().now();
        if (answer.path("resync").asBoolean(false)) {
            p.tx().executeWithoutResult(s -> {
                p.settings().put(DeviceSettings.DOWNLOAD_CURSOR, answer.path("cursor").toString());
                p.settings().put(DeviceSettings.RESYNC_AFTER, "");
                p.settings().put(DeviceSettings.LAST_PULL_AT, now);
            });
            snapshotFinishedBelow = p.jdbc().queryForObject(SyncUploader.ACKED, Long.class);
            snapshotSeen = new HashSet<>();
            log.info("Re-syncing from a snapshot of the remote ({})", cursor == null ? "first download" : "told by the remote");
            return new Result(0, 0, 0, 0, 0, true, true);
        }
        JsonNode changes = answer.path("changes");
        int received = p.tx().execute(s -> {
            int n = 0;
            for (JsonNode c : changes) {
                n += p.jdbc().update(RECEIVE, c.path("eventId").asText(), c.path("chunkId").asText(), c.path("version").asLong(),
                        c.path("op").asText("UPSERT"), c.toString(), now);
            }
            if (answer.hasNonNull("cursor")) {
                p.settings().put(DeviceSettings.DOWNLOAD_CURSOR, answer.get("cursor").toString());
            }
            p.settings().put(DeviceSettings.LAST_PULL_AT, now);
            return n;
        });
        p.counters().changes("download", "skipped", answer.path("skipped").asInt(0));
        Result applied = applyInbox();
        return new Result(received, applied.applied(), applied.skipped(), applied.conflicts(), applied.waiting(),
                answer.path("more").asBoolean(false), false);
    }

    /** Applies what the inbox holds, in id order; entries of chunks with a pending upload stay WAITING. */
    public Result applyInbox() {
        int applied = 0;
        int skipped = 0;
        int conflicted = 0;
        int waiting = 0;
        List<Map<String, Object>> entries = p.jdbc().queryForList(TO_APPLY, p.properties().download().batchSize() * 4);
        for (Map<String, Object> e : entries) {
            long id = ((Number) e.get("id")).longValue();
            JsonNode change = parse((String) e.get("payload"));
            String outcome = p.tx().execute(s -> applyOne(id, change));
            switch (outcome) {
                case "APPLIED" -> applied++;
                case "CONFLICT" -> conflicted++;
                case "WAITING" -> waiting++;
                default -> skipped++;
            }
        }
        p.counters().changes("download", "applied", applied);
        p.counters().changes("download", "skipped", skipped);
        p.counters().changes("download", "conflict", conflicted);
        return new Result(entries.size(), applied, skipped, conflicted, waiting, false, false);
    }

    private String applyOne(long inboxId, JsonNode change) {
        String chunkId = change.path("chunkId").asText();
        String now = p.state().now();
        Long pending = p.jdbc().queryForObject(PENDING_UPLOAD, Long.class, chunkId);
        if (pending != null && pending > 0) {
            p.jdbc().update(MARK, "WAITING", "a local upload of the chunk is pending", null, inboxId);
            return "WAITING";
        }
        String outcome = applyRow(change, change.path("version").asLong(), now);
        p.jdbc().update(MARK, "CONFLICT".equals(outcome) ? "SKIPPED" : outcome,
                "CONFLICT".equals(outcome) ? "local-only chunk kept" : null, now, inboxId);
        return outcome;
    }

    /** One remote row (a change or a snapshot row) applied to the local chunk; APPLIED, SKIPPED or CONFLICT. */
    private String applyRow(JsonNode row, long version, String now) {
        String chunkId = row.path("chunkId").asText();
        List<Long> held = p.jdbc().queryForList(HELD, Long.class, chunkId);
        if (!held.isEmpty() && held.get(0) >= version) {
            return "SKIPPED"; // the device has this version or a newer one (never back)
        }
        DeviceStore.RemoteChunk chunk = RemoteRows.chunk(row, version);
        switch (p.store().applyRemote(chunk, "SYNCED")) {
            case APPLIED -> {
                return "APPLIED";
            }
            case LOCAL_ONLY_KEPT -> {
                if (chunk.deleted()) {
                    return "SKIPPED"; // the remote no longer has it: nothing to keep apart
                }
                ObjectNode remoteRow = row.deepCopy();
                remoteRow.remove(List.of("eventId", "op"));
                p.conflicts().keep(new ConflictKeeper.Conflict(chunkId, "local", "local-only", null, remoteRow, version), now);
                return "CONFLICT";
            }
            default -> {
                return "SKIPPED";
            }
        }
    }

    /** One page of the snapshot re-sync; the last page ends it. */
    private Result snapshotPage(String device) {
        String after = p.settings().get(DeviceSettings.RESYNC_AFTER).orElse("");
        JsonNode page = p.remote().snapshot(device, after.isEmpty() ? null : after, p.properties().download().batchSize());
        String now = p.state().now();
        int[] counts = new int[3];
        p.tx().executeWithoutResult(s -> {
            for (JsonNode row : page.path("chunks")) {
                Set<String> seen = snapshotSeen;
                if (seen != null) {
                    seen.add(row.path("chunkId").asText());
                }
                if (p.jdbc().queryForObject(PENDING_UPLOAD, Long.class, row.path("chunkId").asText()) > 0) {
                    continue; // the pending upload decides; the next window brings what it lost to
                }
                switch (applyRow(row, row.path("version").asLong(), now)) {
                    case "APPLIED" -> counts[0]++;
                    case "CONFLICT" -> counts[2]++;
                    default -> counts[1]++;
                }
            }
            JsonNode last = page.get("last");
            if (last == null || last.isNull()) {
                counts[0] += removeUnseen(now);
                p.settings().remove(DeviceSettings.RESYNC_AFTER);
                p.settings().put(SyncState.LAST_RESYNC_AT, now);
            } else {
                p.settings().put(DeviceSettings.RESYNC_AFTER, last.asText());
            }
            p.settings().put(DeviceSettings.LAST_PULL_AT, now);
        });
        boolean more = resyncing();
        if (!more) {
            log.info("Snapshot re-sync complete");
        }
        p.counters().changes("download", "applied", counts[0]);
        p.counters().changes("download", "skipped", counts[1]);
        p.counters().changes("download", "conflict", counts[2]);
        return new Result(page.path("chunks").size(), counts[0], counts[1], counts[2], 0, true, true);
    }

    /**
     * At the end of a snapshot this process read from its start: the device's synced live chunks the remote
     * no longer has live (deleted while the device was away, their events gone) become local tombstones. A
     * chunk with a local edit, a pending upload, or an upload that finished after the re-sync started (the
     * snapshot may have been read before it) stays: its upload decides.
     */
    private int removeUnseen(String now) {
        Set<String> seen = snapshotSeen;
        snapshotSeen = null;
        if (seen == null) {
            return 0; // restarted during the re-sync: what was read before is not known
        }
        int removed = 0;
        for (String chunkId : p.jdbc().queryForList(SYNCED_LIVE, String.class, snapshotFinishedBelow)) {
            if (!seen.contains(chunkId)) {
                removed += p.jdbc().update(GONE, now, chunkId);
            }
        }
        if (removed > 0) {
            log.info("Re-sync: {} chunks the remote no longer has removed locally", removed);
        }
        return removed;
    }

    private JsonNode parse(String text) {
        try {
            return p.json().readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException("VSYNC-SYNC-005: unreadable JSON in the device's sync state", e);
        }
    }
}
