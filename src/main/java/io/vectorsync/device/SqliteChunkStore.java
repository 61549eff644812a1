package io.vectorsync.device;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.backend.FloatText;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.ChunkStore;
import io.vectorsync.capture.StoredChunk;
import io.vectorsync.capture.Written;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.domain.Privacy;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The {@link ChunkStore} of a device (ADR 023): the chunks in the SQLite file, each write with its entry
 * in the local outbox in one SQLite transaction. Only the remote allocates versions: a local write adds
 * one to the chunk's {@code revision} and keeps {@code remote_version}, the remote version it is based on;
 * the version the API shows (ETag, If-Match, answers) is {@code remote_version + revision}, which is the
 * remote's version again once the upload has been applied. An entry carries a ULID idempotency key, the
 * change as {@code sync_apply} takes it (payload JSON, its size in bytes), status PENDING and no retries.
 *
 * <p>Privacy is applied before the entry is written: a LOCAL_ONLY chunk has no entry (its row's status is
 * {@code LOCAL}) unless it was just downgraded from a chunk the remote has or is about to get, which
 * enqueues a content-free DELETE with {@code "reason":"local-only"}; a REDACTED entry has
 * {@code "content":null}. The device keeps its own content either way. Writes are serialised in this JVM
 * (SQLite has one writer); another writer of the file (the sync engine) waits on the busy timeout.
 */
@Component
@DeviceOnly
public class SqliteChunkStore implements ChunkStore {

    private static final String CURRENT = """
            SELECT remote_version, revision, privacy, deleted FROM chunks WHERE chunk_id = ?
            """;
    /** Entries not yet applied by the remote: the remote will get the chunk even if it never had it. */
    private static final String UNSENT = """
            SELECT count(*) FROM outbox WHERE chunk_id = ? AND status IN ('PENDING', 'FAILED')
            """;
    private static final String INSERT = """
            INSERT INTO chunks (chunk_id, remote_version, revision, document_id, content, embedding, metadata, privacy,
                                deleted, modified_at, modified_by, sync_status, updated_at)
            VALUES (?, 0, 1, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)
            """;
    private static final String UPDATE = """
            UPDATE chunks
               SET revision = revision + 1, document_id = ?, content = ?, embedding = ?, metadata = ?, privacy = ?,
                   deleted = 0, modified_at = ?, modified_by = ?, sync_status = ?, updated_at = ?
             WHERE chunk_id = ?
            """;
    private static final String DELETE = """
            UPDATE chunks
               SET revision = revision + 1, deleted = 1, document_id = NULL, content = NULL, embedding = NULL,
                   metadata = '{}', modified_at = ?, modified_by = ?, sync_status = ?, updated_at = ?
             WHERE chunk_id = ?
            """;
    private static final String ENTRY = """
            INSERT INTO outbox (idempotency_key, chunk_id, op, revision, base_version, payload, payload_bytes, status,
                                retry_count, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?)
            """;
    private static final String READ = """
            SELECT chunk_id, remote_version + revision AS version, document_id, content, embedding, metadata, privacy,
                   updated_at, sync_status
              FROM chunks WHERE chunk_id = ? AND deleted = 0
            """;

    /** The local-only reason of a DELETE sent for a downgrade; it wins every conflict on the remote. */
    public static final String LOCAL_ONLY_REASON = "local-only";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final HybridClock clock;
    private final DeviceIdentity identity;
    private final ObjectMapper json;
    private final ReentrantLock writer = new ReentrantLock(true);

    public SqliteChunkStore(JdbcTemplate jdbc, TransactionTemplate tx, HybridClock clock, DeviceIdentity identity,
            ObjectMapper json) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.clock = clock;
        this.identity = identity;
        this.json = json;
    }

    /** The chunk's row before a write: absent is remote version 0, revision 0. */
    private record Current(long remoteVersion, long revision, String privacy, boolean deleted, boolean exists) {

        static final Current ABSENT = new Current(0, 0, null, false, false);

        long version() {
            return remoteVersion + revision;
        }
    }

    @Override
    public Written upsert(ChunkInput in) {
        return write(() -> upsertInTx(in));
    }

    @Override
    public List<Written> upsertAll(List<ChunkInput> inputs) {
        return write(() -> {
            List<Written> out = new ArrayList<>(inputs.size());
            for (ChunkInput in : inputs) {
                out.add(upsertInTx(in));
            }
            return out;
        });
    }

    @Override
    public Written delete(String chunkId, Long expectedVersion) {
        return write(() -> {
            Current cur = current(chunkId);
            if (!cur.exists() || cur.deleted()) {
                throw notFound();
            }
            if (expectedVersion != null && expectedVersion != -1 && expectedVersion != cur.version()) {
                throw conflict(412, "If-Match", cur.version());
            }
            String at = clock.now();
            boolean localOnly = Privacy.LOCAL_ONLY.name().equals(cur.privacy());
            jdbc.update(DELETE, at, identity.deviceId(), localOnly ? "LOCAL" : "PENDING", at, chunkId);
            if (!localOnly) { // a LOCAL_ONLY chunk is not on the remote: nothing to send
                entry(chunkId, "DELETE", cur, deletePayload(chunkId, at, cur.privacy(), null), at);
            }
            return new Written(chunkId, cur.version() + 1, false);
        });
    }

    @Override
    public Optional<StoredChunk> read(String chunkId) {
        List<StoredChunk> rows = jdbc.query(READ, (rs, n) -> new StoredChunk(rs.getString("chunk_id"),
                rs.getLong("version"), rs.getString("document_id"), rs.getString("content"),
                EmbeddingBlob.read(rs.getBytes("embedding")), rs.getString("metadata"), rs.getString("privacy"),
                rs.getString("updated_at"), rs.getString("sync_status")), chunkId);
        return rows.stream().findFirst();
    }

    /** One SQLite transaction, one writer of this JVM at a time. */
    private <T> T write(Supplier<T> work) {
        writer.lock();
        try {
            return tx.execute(s -> work.get());
        } finally {
            writer.unlock();
        }
    }

    private Current current(String chunkId) {
        return jdbc.query(CURRENT, (rs, n) -> new Current(rs.getLong("remote_version"), rs.getLong("revision"),
                rs.getString("privacy"), rs.getInt("deleted") == 1, true), chunkId).stream().findFirst()
                .orElse(Current.ABSENT);
    }

    /**
     * Writes the chunk and, by privacy and the previous state, its entry: LOCAL_ONLY sends nothing unless
     * it downgrades a live chunk the remote has (remote version > 0) or will get (an entry not yet
     * applied), which sends the local-only DELETE; any other write sends an UPSERT.
     */
    private Written upsertInTx(ChunkInput in) {
        Current cur = current(in.chunkId());
        Long exp = in.expectedVersion();
        if (exp != null && exp != cur.version() && !(exp == -1 && cur.exists() && !cur.deleted())) {
            throw conflict(in.expectedFromIfMatch() ? 412 : 409, in.expectedFromIfMatch() ? "If-Match" : "version",
                    cur.version());
        }
        String at = clock.now();
        boolean localOnly = in.privacy() == Privacy.LOCAL_ONLY;
        String status = localOnly ? "LOCAL" : "PENDING";
        byte[] embedding = EmbeddingBlob.of(in.embedding());
        if (cur.exists()) {
            jdbc.update(UPDATE, in.documentId(), in.content(), embedding, in.metadataJson(), in.privacy().name(), at,
                    identity.deviceId(), status, at, in.chunkId());
        } else {
            jdbc.update(INSERT, in.chunkId(), in.documentId(), in.content(), embedding, in.metadataJson(),
                    in.privacy().name(), at, identity.deviceId(), status, at);
        }
        if (!localOnly) {
            entry(in.chunkId(), "UPSERT", cur, upsertPayload(in, at), at);
        } else if (downgradesRemoteChunk(in.chunkId(), cur)) {
            entry(in.chunkId(), "DELETE", cur, deletePayload(in.chunkId(), at, cur.privacy(), LOCAL_ONLY_REASON), at);
        }
        return new Written(in.chunkId(), cur.version() + 1, !cur.exists());
    }

    private boolean downgradesRemoteChunk(String chunkId, Current cur) {
        if (!cur.exists() || cur.deleted() || Privacy.LOCAL_ONLY.name().equals(cur.privacy())) {
            return false; // LOCAL_ONLY (or absent) before: the remote never had this state, nothing to send
        }
        Long unsent = jdbc.queryForObject(UNSENT, Long.class, chunkId);
        return cur.remoteVersion() > 0 || (unsent != null && unsent > 0);
    }

    private void entry(String chunkId, String op, Current before, String payload, String at) {
        jdbc.update(ENTRY, UlidCreator.getMonotonicUlid().toString(), chunkId, op, before.revision() + 1,
                before.remoteVersion(), payload, payload.getBytes(StandardCharsets.UTF_8).length, at);
    }

    /** The change as {@code sync_apply} takes it, without key, uploadId and baseVersion (the upload adds them). */
    private String upsertPayload(ChunkInput in, String at) {
        return payload(g -> {
            head(g, "UPSERT", in.chunkId(), at, in.privacy().name());
            g.writeStringField("documentId", in.documentId());
            // REDACTED: the remote and its backends never get the content; the device keeps it.
            g.writeStringField("content", in.privacy() == Privacy.REDACTED ? null : in.content());
            // As PostgreSQL's array literal text: a JSON string the remote casts to real[] in one step, where
            // an array of numbers cost it (and Jackson here) parsing each number (bench/sync.sh).
            g.writeStringField("embedding", in.embedding() == null ? null : FloatText.vector(in.embedding(), false));
            g.writeFieldName("metadata");
            g.writeRawValue(in.metadataJson() == null ? "{}" : in.metadataJson()); // numbers exactly as sent
        });
    }

    /** A DELETE carries no content; {@code privacy} is the level the remote had (FULL or REDACTED). */
    private String deletePayload(String chunkId, String at, String privacy, String reason) {
        return payload(g -> {
            head(g, "DELETE", chunkId, at, privacy);
            if (reason != null) {
                g.writeStringField("reason", reason);
            }
        });
    }

    private static void head(JsonGenerator g, String op, String chunkId, String at, String privacy) throws IOException {
        g.writeStringField("op", op);
        g.writeStringField("chunkId", chunkId);
        g.writeStringField("modifiedAt", at);
        g.writeStringField("privacy", privacy);
    }

    @FunctionalInterface
    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private String payload(Fields fields) {
        StringWriter out = new StringWriter(256);
        try (JsonGenerator g = json.getFactory().createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static CaptureException conflict(int status, String field, long current) {
        return new CaptureException(status, "VSYNC-VERSION-CONFLICT", field, "the chunk's current version " + current,
                "The chunk has changed since the version you sent; read it again and retry with its current version.");
    }

    private static CaptureException notFound() {
        return new CaptureException(404, "VSYNC-CHUNK-NOT-FOUND", "chunkId", "an existing chunk id",
                "No chunk with this id exists (or it was deleted).");
    }
}
