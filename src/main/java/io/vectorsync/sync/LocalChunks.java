package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.config.DeviceOnly;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The sync engine's writes to the device's {@code chunks}: a remote row applied at the remote's version
 * (a download, or the remote's winner of a conflict) with no outbox entry, so nothing echoes back; and the
 * remote version an upload's outcome assigned. A remote row without content (REDACTED) or without an
 * embedding never clears the local one; a tombstone clears both.
 */
@Component
@DeviceOnly
public class LocalChunks {

    private static final String APPLY_REMOTE = """
            INSERT INTO chunks (chunk_id, remote_version, revision, document_id, content, embedding, metadata, privacy,
                                deleted, modified_at, modified_by, sync_status, updated_at)
            VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (chunk_id) DO UPDATE
               SET remote_version = excluded.remote_version, revision = 0, document_id = excluded.document_id,
                   content = CASE WHEN excluded.deleted = 0 AND excluded.content IS NULL THEN chunks.content
                                  ELSE excluded.content END,
                   embedding = CASE WHEN excluded.deleted = 0 AND excluded.embedding IS NULL THEN chunks.embedding
                                    ELSE excluded.embedding END,
                   metadata = excluded.metadata, privacy = excluded.privacy, deleted = excluded.deleted,
                   modified_at = excluded.modified_at, modified_by = excluded.modified_by,
                   sync_status = excluded.sync_status, updated_at = excluded.updated_at
            """;
    private static final String STATE = """
            SELECT remote_version, revision, privacy, deleted, sync_status FROM chunks WHERE chunk_id = ?
            """;
    /** An upload's outcome: the remote's version; the revision and status reset when no later edit followed. */
    private static final String ASSIGNED = """
            UPDATE chunks
               SET remote_version = ?,
                   revision = CASE WHEN revision = ? THEN 0 ELSE revision END,
                   sync_status = CASE WHEN revision = ? AND sync_status <> 'LOCAL' THEN ? ELSE sync_status END
             WHERE chunk_id = ?
            """;
    private static final String STATUS_IF_LATEST = """
            UPDATE chunks SET sync_status = ? WHERE chunk_id = ? AND revision = ? AND sync_status <> 'LOCAL'
            """;

    private final JdbcTemplate jdbc;

    public LocalChunks(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** The local row's sync state, empty when the device has never had the chunk. */
    public Optional<Map<String, Object>> state(String chunkId) {
        List<Map<String, Object>> rows = jdbc.queryForList(STATE, chunkId);
        return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
    }

    /** Writes the remote's row at the remote's version, with {@code status} (SYNCED, or CONFLICT for a winner). */
    public void applyRemote(JsonNode row, long version, String status, String now) {
        boolean deleted = row.path("deleted").asBoolean(false) || "DELETE".equals(row.path("op").asText());
        JsonNode metadata = row.path("metadata");
        jdbc.update(APPLY_REMOTE, row.path("chunkId").asText(), version,
                deleted ? null : text(row.get("documentId")),
                deleted ? null : text(row.get("content")),
                deleted ? null : blob(row.get("embedding")),
                deleted || !metadata.isObject() ? "{}" : metadata.toString(),
                privacy(row),
                deleted ? 1 : 0,
                row.hasNonNull("modifiedAt") ? row.get("modifiedAt").asText() : now,
                row.hasNonNull("modifiedBy") ? row.get("modifiedBy").asText() : "server",
                status, now);
    }

    /**
     * Records the version the remote assigned to an uploaded entry of {@code revision}: the chunk's base
     * becomes it; its revision and status ({@code status}) reset only when no later local edit followed.
     */
    public void assigned(String chunkId, long version, long revision, String status) {
        jdbc.update(ASSIGNED, version, revision, revision, status, chunkId);
    }

    /** Sets the chunk's status (FAILED, CONFLICT) when its latest local edit is the one of {@code revision}. */
    public void statusIfLatest(String chunkId, long revision, String status) {
        jdbc.update(STATUS_IF_LATEST, status, chunkId, revision);
    }

    private static String privacy(JsonNode row) {
        String p = row.path("privacy").asText("");
        return p.isEmpty() ? "FULL" : p;
    }

    private static String text(JsonNode v) {
        return v == null || v.isNull() ? null : v.asText();
    }

    /** A JSON array of floats as the device stores embeddings: float32, little-endian. */
    static byte[] blob(JsonNode array) {
        if (array == null || !array.isArray()) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(array.size() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (JsonNode f : array) {
            b.putFloat((float) f.asDouble());
        }
        return b.array();
    }
}
