package io.vectorsync.capture;

import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Embeddings;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postgresql.PGConnection;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.SqlTypeValue;
import org.springframework.jdbc.core.support.AbstractSqlTypeValue;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The {@link ChunkStore} in the primary PostgreSQL: the {@code chunks} table and the {@code outbox}, a
 * chunk and its event in one transaction (one statement where it can). An expected version turns the
 * write into a compare-and-set. Events are lean: the relay reads the current row when it delivers. Which
 * event a write makes is decided here, where the previous state is known: none for a LOCAL_ONLY chunk no
 * backend ever had, a DELETE for a downgrade to LOCAL_ONLY. Every write marks the row as the server's
 * ({@code modified_by = 'server'}, {@code modified_at} NULL: its time is {@code updated_at}), which devices
 * compare their changes with (ADR 024). With {@code vectorsync.relay.listen-notify}
 * on, a write also notifies the relays of other instances at its commit.
 */
@Component
@io.vectorsync.config.ServerOnly
public class PostgresChunkStore implements ChunkStore {

    private static final String UPSERT = """
            INSERT INTO chunks AS c (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted, updated_at)
            SELECT v.* FROM (VALUES (?, 1, ?, ?, ?::real[], ?::jsonb, ?, false, clock_timestamp()))
                   AS v (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted, updated_at)
             WHERE NOT EXISTS (SELECT 1 FROM aggregates a WHERE a.key = v.chunk_id)
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = c.version + 1, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
                   embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
                   deleted = false, updated_at = EXCLUDED.updated_at, modified_at = NULL, modified_by = 'server'
             WHERE ?::bigint IS NULL OR c.version = ? OR (? = -1 AND NOT c.deleted)
            RETURNING version, (xmax = 0) AS inserted, privacy
            """;
    /**
     * The event of a write, by state (issue 12): a LOCAL_ONLY write whose previous state was LOCAL_ONLY,
     * deleted or absent sends nothing (no backend ever had the chunk); a downgrade to LOCAL_ONLY sends a
     * content-free DELETE; any other write a lean UPSERT. {@code prev} is the row in the statement's
     * snapshot; it is the previous state only when its version is the one just below the new one (a
     * concurrent writer in between makes it stale, and then the DELETE is sent: never a leak).
     */
    private static final String EVENT_BY_STATE = """
            , ev AS (INSERT INTO outbox (event_id, type, chunk_id, version)
                     SELECT ?, CASE WHEN up.privacy = 'LOCAL_ONLY' THEN 'DELETE' ELSE 'UPSERT' END, ?, up.version
                       FROM up
                      WHERE up.privacy <> 'LOCAL_ONLY'
                         OR NOT (up.inserted OR EXISTS (SELECT 1 FROM prev WHERE prev.version = up.version - 1
                                                           AND (prev.deleted OR prev.privacy = 'LOCAL_ONLY'))))
            """;
    /**
     * The chunk and its lean event in one statement, so a write that needs no other statement (no
     * NOTIFY) runs in autocommit: one round trip to PostgreSQL instead of three (write, event, commit).
     * Used when the write may create the chunk (no expected version, or 0 for "must not exist").
     */
    private static final String UPSERT_WITH_EVENT = """
            WITH prev AS (SELECT version, privacy, deleted FROM chunks WHERE chunk_id = ?)
            , up AS (
            %s)
            %s
            SELECT version, inserted FROM up
            """.formatted(UPSERT.strip(), EVENT_BY_STATE.strip());
    /**
     * An update of an existing chunk (expected version > 0, or -1 for "any, but it must exist"), with its
     * event, in one statement: it never creates a chunk, so nothing is to be rolled back when the
     * expectation fails.
     */
    private static final String UPDATE_WITH_EVENT = """
            WITH prev AS (SELECT version, privacy, deleted FROM chunks WHERE chunk_id = ?)
            , up AS (
                UPDATE chunks AS c
                   SET version = c.version + 1, document_id = ?, content = ?, embedding = ?::real[],
                       metadata = ?::jsonb, privacy = ?, deleted = false, updated_at = clock_timestamp(),
                       modified_at = NULL, modified_by = 'server'
                 WHERE c.chunk_id = ? AND (c.version = ? OR (? = -1 AND NOT c.deleted))
                   AND NOT EXISTS (SELECT 1 FROM aggregates a WHERE a.key = c.chunk_id)
                RETURNING c.version, false AS inserted, c.privacy)
            %s
            SELECT version, inserted FROM up
            """.formatted(EVENT_BY_STATE.strip());
    private static final String DELETE = """
            UPDATE chunks
               SET version = version + 1, deleted = true, content = NULL, embedding = NULL, document_id = NULL,
                   metadata = '{}'::jsonb, updated_at = clock_timestamp(), modified_at = NULL, modified_by = 'server'
             WHERE chunk_id = ? AND NOT deleted AND (?::bigint IS NULL OR ? = -1 OR version = ?)
            RETURNING version, privacy
            """;
    private static final String CURRENT = "SELECT version, deleted FROM chunks WHERE chunk_id = ?";
    /** An aggregate the application captures itself (ADR 019): its state is in {@code aggregates}. */
    private static final String OWNED = "SELECT 1 FROM aggregates WHERE key = ?";
    private static final String LEAN_EVENT = """
            INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (?, ?, ?, ?)
            """;

    private static final String READ = """
            SELECT chunk_id, version, document_id, content, embedding, metadata::text AS metadata, privacy,
                   deleted, updated_at
              FROM chunks WHERE chunk_id = ?
            """;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final boolean notify;

    public PostgresChunkStore(JdbcTemplate jdbc, TransactionTemplate tx, VectorsyncProperties properties) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.notify = properties.relay().listenNotify();
    }

    /** With NOTIFY on, relays in other instances (the lease holders) wake at this commit too. */
    private void notifyOthers() {
        if (notify) {
            jdbc.queryForList("SELECT pg_notify('vectorsync_outbox', '')");
        }
    }

    @Override
    public Written upsert(ChunkInput in) {
        if (!notify) {
            return upsertInTx(in); // one statement: atomic on its own
        }
        return tx.execute(s -> {
            Written written = upsertInTx(in);
            notifyOthers();
            return written;
        });
    }

    @Override
    public List<Written> upsertAll(List<ChunkInput> inputs) {
        return tx.execute(s -> {
            List<Written> ws = new ArrayList<>(inputs.size());
            for (ChunkInput in : inputs) {
                ws.add(upsertInTx(in));
            }
            notifyOthers();
            return ws;
        });
    }

    @Override
    public Written delete(String chunkId, Long expectedVersion) {
        return tx.execute(s -> {
            long exp = expectedVersion == null ? 0 : expectedVersion;
            List<Map<String, Object>> v = jdbc.queryForList(DELETE, chunkId, expectedVersion, exp, exp);
            if (v.isEmpty()) {
                Optional<Map<String, Object>> cur = jdbc.queryForList(CURRENT, chunkId).stream().findFirst();
                if (cur.isEmpty() || Boolean.TRUE.equals(cur.get().get("deleted"))) {
                    throw notFound(chunkId);
                }
                throw conflict(412, "If-Match", cur.get().get("version"));
            }
            long version = ((Number) v.get(0).get("version")).longValue();
            // The delete leaves privacy as it was: a LOCAL_ONLY chunk was never in a backend, nothing to send.
            if (!"LOCAL_ONLY".equals(v.get(0).get("privacy"))) {
                jdbc.update(LEAN_EVENT, OutboxWriter.newEventId(), "DELETE", chunkId, version);
            }
            notifyOthers();
            return new Written(chunkId, version, false);
        });
    }

    /**
     * Writes the chunk and its event in one statement (atomic on its own, or part of the caller's
     * transaction); on a failed expectation it reads the current version for the error and writes nothing.
     */
    private Written upsertInTx(ChunkInput in) {
        Long exp = in.expectedVersion();
        String eventId = OutboxWriter.newEventId();
        List<Map<String, Object>> rows;
        if (exp == null || exp == 0) {
            long e = exp == null ? 0 : exp;
            rows = jdbc.queryForList(UPSERT_WITH_EVENT, in.chunkId(), in.chunkId(), in.documentId(), in.content(),
                    realArray(in.embedding()), in.metadataJson(), in.privacy().name(), exp, e, e,
                    eventId, in.chunkId());
        } else {
            rows = jdbc.queryForList(UPDATE_WITH_EVENT, in.chunkId(), in.documentId(), in.content(), realArray(in.embedding()),
                    in.metadataJson(), in.privacy().name(), in.chunkId(), exp, exp, eventId, in.chunkId());
        }
        if (rows.isEmpty()) {
            if (!jdbc.queryForList(OWNED, Integer.class, in.chunkId()).isEmpty()) {
                throw owned();
            }
            int status = in.expectedFromIfMatch() ? 412 : 409;
            String field = in.expectedFromIfMatch() ? "If-Match" : "version";
            Object current = jdbc.queryForList(CURRENT, in.chunkId()).stream().findFirst()
                    .map(r -> r.get("version")).orElse(0L);
            throw conflict(status, field, current);
        }
        long version = ((Number) rows.get(0).get("version")).longValue();
        boolean inserted = Boolean.TRUE.equals(rows.get(0).get("inserted"));
        return new Written(in.chunkId(), version, inserted);
    }

    /**
     * The embedding as a {@code real[]} parameter in PostgreSQL's binary format: no decimal text to write
     * here and none for the server to parse, 384 floats at a time (about a tenth of a PUT's CPU as text).
     */
    static SqlTypeValue realArray(float[] v) {
        return v == null ? null : new AbstractSqlTypeValue() {
            @Override
            protected Object createTypeValue(Connection con, int sqlType, String typeName) throws SQLException {
                return con.unwrap(PGConnection.class).createArrayOf("float4", v);
            }
        };
    }

    private static CaptureException conflict(int status, String field, Object current) {
        return new CaptureException(status, "VSYNC-VERSION-CONFLICT", field, "the chunk's current version " + current,
                "The chunk has changed since the version you sent; read it again and retry with its current version.");
    }

    private static CaptureException owned() {
        return new CaptureException(409, "VSYNC-CHUNK-OWNED", "chunkId", "a chunk id the application does not enqueue",
                "The application captures this id itself (vectorsync.enqueue or OutboxWriter); its state is kept"
                        + " apart from the API's, so write it where the application does.");
    }

    static CaptureException notFound(String chunkId) {
        return new CaptureException(404, "VSYNC-CHUNK-NOT-FOUND", "chunkId", "an existing chunk id",
                "No chunk with this id exists (or it was deleted).");
    }

    @Override
    public Optional<StoredChunk> read(String chunkId) {
        List<StoredChunk> rows = jdbc.query(READ, (rs, n) -> rs.getBoolean("deleted") ? null
                : new StoredChunk(rs.getString("chunk_id"), rs.getLong("version"), rs.getString("document_id"),
                        rs.getString("content"), Embeddings.fromSql(rs.getArray("embedding")), rs.getString("metadata"),
                        rs.getString("privacy"), String.valueOf(rs.getObject("updated_at"))), chunkId);
        return rows.isEmpty() ? Optional.empty() : Optional.ofNullable(rows.get(0));
    }
}
