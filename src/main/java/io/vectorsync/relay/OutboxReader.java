package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.domain.Privacy;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;

/**
 * Reads the outbox in commit order. The next window is the events whose transaction is visible in the
 * current snapshot and was not in the previous one, as two index ranges: the previous snapshot's
 * in-progress list and {@code [xmax(prev), xmax(cur))}, continuing after the last {@code (tx_id, id)}.
 * The tx id is ordered as xid8, never through a text alias (which would sort as text and skip events).
 */
@Repository
@ServerOnly
public class OutboxReader {

    /**
     * The window, with what delivery needs in the same round trip: the current chunk row of a lean event
     * and the backend's ledger version of the chunk (a primary-key probe per event).
     */
    static final String WINDOW = """
            SELECT w.id, w.tx_text, w.event_id, w.type, w.chunk_id, w.version, w.payload_text, w.created_at,
                   c.chunk_id AS row_chunk_id, c.version AS row_version, c.document_id, c.content, c.embedding,
                   c.metadata::text AS metadata_text, c.privacy, c.deleted,
                   (SELECT l.version FROM delivery_ledger l WHERE l.backend = ? AND l.chunk_key = w.chunk_id)
                       AS ledger_version
              FROM (
                    SELECT u.* FROM (
                        (SELECT o.id, o.tx_id, o.tx_id::text AS tx_text, o.event_id, o.type, o.chunk_id, o.version,
                                o.payload::text AS payload_text, o.created_at
                           FROM outbox o
                          WHERE o.tx_id = ANY (ARRAY(SELECT pg_snapshot_xip(?::pg_snapshot)))
                            AND pg_visible_in_snapshot(o.tx_id, ?::pg_snapshot)
                            AND (o.tx_id, o.id) > (?::xid8, ?)
                            AND o.partition = ? AND o.partition_generation = ?
                          ORDER BY o.tx_id, o.id
                          LIMIT ?)
                        UNION ALL
                        (SELECT o.id, o.tx_id, o.tx_id::text AS tx_text, o.event_id, o.type, o.chunk_id, o.version,
                                o.payload::text AS payload_text, o.created_at
                           FROM outbox o
                          WHERE o.tx_id >= pg_snapshot_xmax(?::pg_snapshot)
                            AND o.tx_id < pg_snapshot_xmax(?::pg_snapshot)
                            AND pg_visible_in_snapshot(o.tx_id, ?::pg_snapshot)
                            AND (o.tx_id, o.id) > (?::xid8, ?)
                            AND o.partition = ? AND o.partition_generation = ?
                          ORDER BY o.tx_id, o.id
                          LIMIT ?)
                    ) u
                    ORDER BY u.tx_id, u.id
                    LIMIT ?
                   ) w
              LEFT JOIN chunks c ON w.payload_text IS NULL AND c.chunk_id = w.chunk_id
             ORDER BY w.tx_id, w.id
            """;

    /** The window with only the rows' version, privacy and tombstone: for backends that copy rows. */
    static final String WINDOW_HEADERS = WINDOW.replaceFirst(
            "c\\.document_id, c\\.content, c\\.embedding,\\s+c\\.metadata::text AS metadata_text,",
            "NULL::text AS document_id, NULL::text AS content, NULL::real[] AS embedding, NULL::text AS metadata_text,");

    /**
     * A page of a backend's backfill: the next live aggregates in key order after {@code after}, from the
     * primary's current state (ADR 019): chunks of the API with their row, chunks the application
     * enqueued and relationships with their payload; with the backend's ledger version of each.
     * Tombstones and LOCAL_ONLY chunks are not copied to a new backend (it never held them).
     */
    static final String BACKFILL_PAGE = """
            SELECT s.*,
                   (SELECT l.version FROM delivery_ledger l WHERE l.backend = ? AND l.chunk_key = s.chunk_id)
                       AS ledger_version
              FROM (
                    (SELECT c.chunk_id, c.version, 'api' AS owner, c.document_id, c.content, c.embedding,
                            c.metadata::text AS metadata_text, c.privacy, c.deleted, NULL::text AS payload_text
                       FROM chunks c
                      WHERE c.chunk_id > ? AND NOT c.deleted AND c.privacy <> 'LOCAL_ONLY'
                      ORDER BY c.chunk_id LIMIT ?)
                    UNION ALL
                    (SELECT a.key, a.version, 'application', NULL, NULL, NULL, NULL, a.privacy, a.deleted,
                            coalesce(a.payload, (SELECT o.payload FROM outbox o WHERE o.id = a.payload_event))::text
                       FROM aggregates a
                      WHERE a.key > ? AND NOT a.deleted AND a.privacy <> 'LOCAL_ONLY'
                      ORDER BY a.key LIMIT ?)
                   ) s
             ORDER BY s.chunk_id
             LIMIT ?
            """;
    static final String BACKFILL_PAGE_HEADERS = BACKFILL_PAGE.replaceFirst(
            "c\\.document_id, c\\.content, c\\.embedding,\\s+c\\.metadata::text AS metadata_text,",
            "NULL::text AS document_id, NULL::text AS content, NULL::real[] AS embedding,"
                    + " NULL::text AS metadata_text,");
    static {
        if (WINDOW_HEADERS.equals(WINDOW) || BACKFILL_PAGE_HEADERS.equals(BACKFILL_PAGE)) {
            throw new IllegalStateException("the *_HEADERS queries must drop the row data columns");
        }
    }

    static final String CHUNK_ROWS = """
            SELECT chunk_id, version, document_id, content, embedding, metadata::text AS metadata_text, privacy, deleted
              FROM chunks
             WHERE chunk_id = ANY (?)
            """;

    private final JdbcTemplate jdbc;

    public OutboxReader(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * A read of the window: its events in commit order, the current rows of its lean events' chunks, and
     * the backend's ledger version of every chunk in it (0 when the ledger has none).
     */
    public record Window(List<OutboxEvent> events, Map<String, ChunkRow> rows, Map<String, Long> ledger) {}

    /**
     * Up to {@code limit} events of the window (prev, cur] after {@code (lastTxId, lastId)}, of one partition
     * of one generation (ADR 032): a cursor reads only the events whose partition it holds.
     */
    public Window window(String backend, int partition, int generation, String prev, String cur, String lastTxId,
            Long lastId, int limit, boolean headersOnly) {
        String lt = lastTxId == null ? "0" : lastTxId;
        long li = lastId == null ? 0L : lastId;
        List<OutboxEvent> events = new ArrayList<>(limit);
        Map<String, ChunkRow> rows = new HashMap<>();
        Map<String, Long> ledger = new HashMap<>();
        jdbc.query(headersOnly ? WINDOW_HEADERS : WINDOW, rs -> {
            events.add(EVENT.mapRow(rs, 0));
            String chunkId = rs.getString("chunk_id");
            if (rs.getString("row_chunk_id") != null && !rows.containsKey(chunkId)) {
                rows.put(chunkId, chunkRow(rs, "row_chunk_id", "row_version"));
            }
            long v = rs.getLong("ledger_version");
            ledger.put(chunkId, rs.wasNull() ? 0L : v);
        }, backend, prev, cur, lt, li, partition, generation, limit, prev, cur, cur, lt, li, partition, generation, limit,
                limit);
        return new Window(events, rows, ledger);
    }

    /**
     * A backfill page in key order after {@code after} ("" for the first page): a chunk of the API becomes
     * a lean UPSERT with its row, an aggregate the application captured an event with its payload
     * (UPSERT, or LINK for a relationship), as the outbox carried it.
     */
    public Window backfillPage(String backend, String after, int limit, boolean headersOnly) {
        Map<String, ChunkRow> rows = new java.util.LinkedHashMap<>();
        Map<String, Long> ledger = new HashMap<>();
        List<OutboxEvent> events = new ArrayList<>(limit);
        java.time.Instant now = java.time.Instant.now();
        jdbc.query(headersOnly ? BACKFILL_PAGE_HEADERS : BACKFILL_PAGE, rs -> {
            String key = rs.getString("chunk_id");
            long version = rs.getLong("version");
            String payload = null;
            String type = "UPSERT";
            if ("api".equals(rs.getString("owner"))) {
                rows.put(key, chunkRow(rs));
            } else {
                payload = rs.getString("payload_text");
                type = key.startsWith("link:") ? "LINK" : "UPSERT";
            }
            long v = rs.getLong("ledger_version");
            ledger.put(key, rs.wasNull() ? 0L : v);
            events.add(new OutboxEvent(null, null, "backfill:" + key + ":" + version, type, key, version, payload,
                    now, 0, false));
        }, backend, after == null ? "" : after, limit, after == null ? "" : after, limit, limit);
        return new Window(events, rows, ledger);
    }

    /** The current rows of these chunks, tombstones included. */
    public Map<String, ChunkRow> chunkRows(Collection<String> chunkIds) {
        Map<String, ChunkRow> out = new HashMap<>();
        if (chunkIds.isEmpty()) {
            return out;
        }
        jdbc.query(con -> {
            var ps = con.prepareStatement(CHUNK_ROWS);
            ps.setArray(1, con.createArrayOf("text", chunkIds.toArray()));
            return ps;
        }, rs -> {
            ChunkRow row = chunkRow(rs);
            out.put(row.data().chunkId(), row);
        });
        return out;
    }

    /** A row of {@code chunks}: its data, version and whether it is a tombstone. */
    public record ChunkRow(ChunkData data, long version, boolean deleted) {}

    static ChunkRow chunkRow(ResultSet rs) throws SQLException {
        return chunkRow(rs, "chunk_id", "version");
    }

    static ChunkRow chunkRow(ResultSet rs, String idColumn, String versionColumn) throws SQLException {
        return new ChunkRow(
                new ChunkData(
                        rs.getString(idColumn),
                        rs.getString("document_id"),
                        rs.getString("content"),
                        floats(rs.getArray("embedding")),
                        rs.getString("metadata_text"),
                        Privacy.parse(rs.getString("privacy"))),
                rs.getLong(versionColumn),
                rs.getBoolean("deleted"));
    }

    /** A PostgreSQL {@code real[]} as a float array ({@code null} stays null). */
    public static float[] floats(Array array) throws SQLException {
        if (array == null) {
            return null;
        }
        Object o = array.getArray();
        if (o instanceof float[] f) {
            return f;
        }
        Object[] boxed = (Object[]) o;
        float[] out = new float[boxed.length];
        for (int i = 0; i < boxed.length; i++) {
            out[i] = ((Number) boxed[i]).floatValue();
        }
        return out;
    }

    private static final RowMapper<OutboxEvent> EVENT = (rs, i) -> new OutboxEvent(
            rs.getLong("id"),
            rs.getString("tx_text"),
            rs.getString("event_id"),
            rs.getString("type"),
            rs.getString("chunk_id"),
            rs.getLong("version"),
            rs.getString("payload_text"),
            rs.getTimestamp("created_at").toInstant(),
            0,
            false);
}
