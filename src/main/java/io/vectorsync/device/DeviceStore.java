package io.vectorsync.device;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.domain.Privacy;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The device's small writes for the sync engine, where the version rules of ADR 023 are kept: an upload
 * outcome replaces the revisions it covers with the remote's version, and a downloaded row is applied at
 * the remote's version without an outbox entry, never over a local LOCAL_ONLY chunk and never replacing
 * local content with absent content. Each is one SQLite transaction.
 */
@Component
@DeviceOnly
public class DeviceStore {

    /** A chunk as the remote returns it ({@code <row>} of the sync functions); content may be null. */
    public record RemoteChunk(String chunkId, long version, boolean deleted, String documentId, String content,
            float[] embedding, String metadataJson, String privacy, String modifiedAt, String modifiedBy) {

        @Override
        public String toString() {
            return "RemoteChunk[" + chunkId + " v" + version + (deleted ? " deleted" : "") + "]"; // never content
        }
    }

    /** What {@link #applyRemote} did. */
    public enum Applied {
        /** The row now holds the remote's version. */
        APPLIED,
        /** Nothing written: the local chunk is LOCAL_ONLY (a conflict, winner local, reason local-only). */
        LOCAL_ONLY_KEPT,
        /** Nothing written: the row already holds this remote version or a newer one, with no local edit. */
        ALREADY_HELD
    }

    private static final String ENTRY = "SELECT chunk_id, revision FROM outbox WHERE id = ?";
    private static final String MARK_ENTRY = """
            UPDATE outbox SET status = ?, assigned_version = ?, synced_at = ?, last_code = NULL, last_error = NULL,
                              next_attempt_at = NULL
             WHERE id = ?
            """;
    /** The chunk's later entries are edits on top of the uploaded one: based on its remote version now. */
    private static final String REBASE_LATER = """
            UPDATE outbox SET base_version = ?, revision = max(0, revision - ?)
             WHERE chunk_id = ? AND id > ? AND status IN ('PENDING', 'FAILED')
            """;
    private static final String CHUNK_UPLOADED = """
            UPDATE chunks
               SET remote_version = ?, revision = max(0, revision - ?),
                   sync_status = CASE WHEN sync_status = 'LOCAL' THEN 'LOCAL'
                                      WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.chunk_id = chunks.chunk_id
                                                      AND o.status IN ('PENDING', 'FAILED')) THEN 'PENDING'
                                      ELSE ? END
             WHERE chunk_id = ?
            """;
    private static final String LOCAL = "SELECT remote_version, revision, privacy, deleted, content FROM chunks WHERE chunk_id = ?";
    private static final String UPSERT_REMOTE = """
            INSERT INTO chunks (chunk_id, remote_version, revision, document_id, content, embedding, metadata, privacy,
                                deleted, modified_at, modified_by, sync_status, updated_at)
            VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (chunk_id) DO UPDATE
               SET remote_version = excluded.remote_version, revision = 0, document_id = excluded.document_id,
                   content = excluded.content, embedding = excluded.embedding, metadata = excluded.metadata,
                   privacy = excluded.privacy, deleted = excluded.deleted, modified_at = excluded.modified_at,
                   modified_by = excluded.modified_by, sync_status = excluded.sync_status,
                   updated_at = excluded.updated_at
            """;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final HybridClock clock;

    public DeviceStore(JdbcTemplate jdbc, TransactionTemplate tx, HybridClock clock) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.clock = clock;
    }

    /**
     * An entry the remote wrote at {@code assignedVersion} (APPLIED, or a CONFLICT the local side won):
     * the entry is marked {@code status} (SYNCED or CONFLICT) with that version; the chunk's
     * {@code remote_version} becomes it and its {@code revision} loses the entry's revisions, so the version
     * the API shows stays where it was when nobody else wrote the remote; the chunk's later entries are
     * rebased on it. The chunk's status becomes {@code status} when it has no other unsent entry (LOCAL
     * stays LOCAL).
     *
     * @return the chunk id of the entry, or null when no such entry exists
     */
    public String uploaded(long entryId, long assignedVersion, String status) {
        return tx.execute(s -> {
            List<Map<String, Object>> e = jdbc.queryForList(ENTRY, entryId);
            if (e.isEmpty()) {
                return null;
            }
            String chunkId = (String) e.get(0).get("chunk_id");
            long revision = ((Number) e.get(0).get("revision")).longValue();
            jdbc.update(MARK_ENTRY, status, assignedVersion, clock.now(), entryId);
            jdbc.update(REBASE_LATER, assignedVersion, revision, chunkId, entryId);
            jdbc.update(CHUNK_UPLOADED, assignedVersion, revision, status, chunkId);
            return chunkId;
        });
    }

    /**
     * A chunk from the remote (a download, a snapshot page, or the remote's row when it won a conflict),
     * applied at the remote's version with no outbox entry, its {@code modified_at} observed by the clock.
     * A local LOCAL_ONLY chunk is never overwritten; absent content from the remote (REDACTED) never
     * replaces content the device holds.
     *
     * @param status the chunk's sync status afterwards (SYNCED, or CONFLICT when a conflict decided it)
     */
    public Applied applyRemote(RemoteChunk r, String status) {
        return tx.execute(s -> {
            List<Map<String, Object>> rows = jdbc.queryForList(LOCAL, r.chunkId());
            Map<String, Object> local = rows.isEmpty() ? null : rows.get(0);
            if (local != null && Privacy.LOCAL_ONLY.name().equals(local.get("privacy"))
                    && ((Number) local.get("deleted")).intValue() == 0) {
                return Applied.LOCAL_ONLY_KEPT;
            }
            if (local != null && ((Number) local.get("revision")).longValue() == 0
                    && ((Number) local.get("remote_version")).longValue() >= r.version()) {
                return Applied.ALREADY_HELD;
            }
            String content = r.content();
            if (!r.deleted() && content == null && local != null) {
                content = (String) local.get("content"); // never replace local content with absent content
            }
            String modifiedAt = HybridClock.format(HybridClock.parse(r.modifiedAt()));
            clock.observe(modifiedAt);
            jdbc.update(UPSERT_REMOTE, r.chunkId(), r.version(), r.deleted() ? null : r.documentId(),
                    r.deleted() ? null : content, r.deleted() ? null : EmbeddingBlob.of(r.embedding()),
                    r.deleted() || r.metadataJson() == null ? "{}" : r.metadataJson(),
                    r.privacy() == null ? Privacy.FULL.name() : r.privacy(), r.deleted() ? 1 : 0, modifiedAt,
                    r.modifiedBy(), status, clock.now());
            return Applied.APPLIED;
        });
    }
}
