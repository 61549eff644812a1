package io.vectorsync.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.domain.Privacy;
import io.vectorsync.embedding.EmbeddingException;
import io.vectorsync.embedding.EmbeddingProvider;
import io.vectorsync.jobs.JobContext;
import io.vectorsync.jobs.JobHandler;
import io.vectorsync.jobs.PermanentJobException;
import io.vectorsync.relay.Failpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The INGEST job (docs/ingest.md, ADR 028): splits a document, embeds the chunks that need it, and writes
 * the difference to what the document's previous ingest wrote.
 *
 * <ol>
 *   <li><b>Plan and embed</b>, outside any transaction: the splitter's chunks and their ids; a chunk whose
 *       row already holds the same text embedded by the configured model keeps that embedding, every other
 *       one is embedded (in batches, reporting progress).
 *   <li><b>Write</b>, in one transaction: the document's row is locked; if an INGEST of it enqueued later
 *       has already written, nothing is written and the job completes as {@code superseded}. Otherwise each
 *       planned chunk is compared with its row as it is now: the same hash of text, metadata (position
 *       included) and privacy, the same model and the version this ingest recorded means unchanged (nothing
 *       written, no event); anything else is written by compare-and-set on the version read, with its event.
 *       Chunks the previous ingest created that the plan no longer has are deleted, unless someone else
 *       changed them since (then they are only forgotten); chunks a client PUT under the same document id
 *       were never the ingest's and are never touched. A chunk whose row changed between the phases so that
 *       its text needs an embedding after all is not embedded inside the transaction: it rolls back, the texts
 *       are embedded outside, and the write phase runs again (at most {@value #WRITE_ROUNDS} times, then the
 *       attempt fails transiently with {@code VSYNC-INGEST-CONFLICT}).
 * </ol>
 *
 * Once the write has committed, the job is not stopped any more: a cancel requested during the write
 * comes too late, and the job completes with its result.
 *
 * Running it again changes nothing (everything compares unchanged); a crash before the commit leaves
 * nothing, after it everything, so a retried or taken-over job converges.
 */
@Component
@ServerOnly
public class IngestHandler implements JobHandler {

    public static final String TYPE = "INGEST";
    static final int EMBED_BATCH = 32;
    /** Write transactions tried when rows keep changing between embedding and writing; then a retry. */
    static final int WRITE_ROUNDS = 3;

    private static final String LOCK = """
            INSERT INTO documents (document_id) VALUES (?) ON CONFLICT (document_id) DO NOTHING
            """;
    private static final String SUPERSEDED = """
            SELECT d.written_enqueued IS NOT NULL
                   AND (d.written_enqueued, d.written_job_id) > (j.enqueued, ?) AS superseded, j.enqueued
              FROM (SELECT * FROM documents WHERE document_id = ? FOR UPDATE) d,
                   (SELECT coalesce((SELECT created_at FROM jobs WHERE id = ?), clock_timestamp()) AS enqueued) j
            """;
    private static final String RECORDED = """
            SELECT chunk_id, state_hash, version FROM document_chunks WHERE document_id = ?
            """;
    private static final String CURRENT = """
            SELECT chunk_id, version, deleted, content, embedding_model, embedding_model_version,
                   CASE WHEN content = ANY (?) THEN embedding END AS embedding
              FROM chunks WHERE chunk_id = ANY (?)
            """;
    private static final String RECORD = """
            INSERT INTO document_chunks (chunk_id, document_id, position, state_hash, version) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (chunk_id) DO UPDATE SET position = EXCLUDED.position, state_hash = EXCLUDED.state_hash,
                   version = EXCLUDED.version
            """;
    private static final String FORGET = "DELETE FROM document_chunks WHERE chunk_id = ?";
    private static final String WRITTEN = """
            UPDATE documents SET revision = revision + 1, written_job_id = ?, written_enqueued = ?, chunk_count = ?,
                   updated_at = clock_timestamp()
             WHERE document_id = ?
            """;

    private final ObjectProvider<EmbeddingProvider> providers;
    private final EmbeddedWrites writes;
    private final JdbcTemplate jdbc;
    private final Failpoints failpoints;

    public IngestHandler(ObjectProvider<EmbeddingProvider> providers, EmbeddedWrites writes, JdbcTemplate jdbc,
            Failpoints failpoints) {
        this.providers = providers;
        this.writes = writes;
        this.jdbc = jdbc;
        this.failpoints = failpoints;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, String> correlation(JsonNode payload) {
        EmbeddingProvider p = providers.getIfAvailable();
        return IngestDocument.from(payload).correlation(p == null ? "none" : p.modelId());
    }

    /** A newer ingest of the document makes the older requests stale (a revert is a new job, after it). */
    @Override
    public String subject(JsonNode payload) {
        return payload.path("documentId").asText(null);
    }

    /** The configured provider, or a permanent failure naming the setting. */
    static EmbeddingProvider required(ObjectProvider<EmbeddingProvider> providers) {
        EmbeddingProvider p = providers.getIfAvailable();
        if (p == null) {
            throw new PermanentJobException("VSYNC-EMBED-NONE",
                    "No embedding provider is configured (vectorsync.embedding.provider=none)");
        }
        return p;
    }

    /** A row of {@code chunks} as the plan compares with it. */
    private record Row(long version, boolean deleted, String content, String model, String modelVersion,
            float[] embedding) {}

    /** What this ingest wrote before: hash and version per chunk id. */
    private record Recorded(String stateHash, long version) {}

    @Override
    public Map<String, Object> run(JobContext context) {
        EmbeddingProvider provider = required(providers);
        IngestDocument doc = IngestDocument.from(context.payload());
        if (doc.privacy() == Privacy.LOCAL_ONLY && !provider.acceptsLocalOnly()) {
            throw new PermanentJobException("VSYNC-EMBED-PRIVACY", "The document is LOCAL_ONLY and the embedding"
                    + " provider " + provider.modelId() + " sends texts out of this service");
        }
        List<IngestDocument.Planned> plan = doc.plan();
        context.progress(0, (long) plan.size());
        Map<String, float[]> embedded = embedNeeded(provider, plan, current(plan), context);
        for (int round = 1; ; round++) {
            try {
                Map<String, Object> result = writes.inTransaction(provider, () -> {
                    Map<String, Object> r = write(context.id(), doc, plan, embedded, provider);
                    failpoints.hit("ingest-written");
                    return r;
                });
                failpoints.hit("ingest-committed");
                // Committed: from here nothing may stop the job (no cancel-checking progress call); completing
                // it records the progress at its total.
                return result;
            } catch (LateTexts late) {
                // Rolled back, nothing written: the model is called outside the transaction (no document lock,
                // no connection held meanwhile), then the write phase runs again against the rows as they are.
                if (round >= WRITE_ROUNDS) {
                    throw new IllegalStateException("VSYNC-INGEST-CONFLICT: chunks of the document kept changing"
                            + " between embedding and writing (" + WRITE_ROUNDS + " rounds); nothing was written");
                }
                List<float[]> v = embed(provider, late.texts);
                for (int i = 0; i < late.texts.size(); i++) {
                    embedded.put(late.texts.get(i), v.get(i));
                }
                context.progress(plan.size(), (long) plan.size()); // not committed yet: a cancel still stops it
            }
        }
    }

    /**
     * Thrown inside the write transaction (so that it rolls back) when rows changed since the plan and some
     * texts need an embedding after all; carries those texts, never shown (no message, no stack trace).
     */
    private static final class LateTexts extends RuntimeException {
        final List<String> texts;

        LateTexts(List<String> texts) {
            super(null, null, false, false);
            this.texts = texts;
        }
    }

    /** Embeds (by text) every planned chunk whose row does not already hold this text by this model. */
    private Map<String, float[]> embedNeeded(EmbeddingProvider provider, List<IngestDocument.Planned> plan,
            Map<String, Row> rows, JobContext context) {
        Set<String> texts = new LinkedHashSet<>();
        long reusable = 0;
        for (IngestDocument.Planned p : plan) {
            if (reusable(rows.get(p.chunkId()), p, provider) == null) {
                texts.add(p.text());
            } else {
                reusable++;
            }
        }
        Map<String, float[]> out = new HashMap<>();
        List<String> todo = new ArrayList<>(texts);
        for (int from = 0; from < todo.size(); from += EMBED_BATCH) {
            List<String> batch = todo.subList(from, Math.min(todo.size(), from + EMBED_BATCH));
            List<float[]> vectors = embed(provider, batch);
            for (int i = 0; i < batch.size(); i++) {
                out.put(batch.get(i), vectors.get(i));
            }
            context.progress(reusable + from + batch.size(), (long) plan.size());
            failpoints.hit("ingest-embedded");
        }
        return out;
    }

    static List<float[]> embed(EmbeddingProvider provider, List<String> texts) {
        try {
            List<float[]> v = provider.embed(texts);
            for (float[] f : v) {
                if (f.length != provider.dimension()) {
                    throw new PermanentJobException("VSYNC-EMBED-DIMENSION", "The model " + provider.modelId()
                            + " answered " + f.length + " dimensions instead of " + provider.dimension());
                }
            }
            return v;
        } catch (EmbeddingException e) {
            if (e.permanent()) {
                throw new PermanentJobException(e.code(), e.getMessage());
            }
            throw e;
        }
    }

    /** The row's embedding when it holds exactly this text embedded by this model, else null. */
    private static float[] reusable(Row row, IngestDocument.Planned p, EmbeddingProvider provider) {
        if (row == null || row.deleted() || row.embedding() == null || !p.text().equals(row.content())
                || !provider.model().equals(row.model()) || !provider.modelVersion().equals(row.modelVersion())) {
            return null;
        }
        return row.embedding();
    }

    private Map<String, Row> current(List<IngestDocument.Planned> plan) {
        Set<String> ids = new LinkedHashSet<>();
        plan.forEach(p -> ids.add(p.chunkId()));
        return current(plan, ids);
    }

    private Map<String, Object> write(String jobId, IngestDocument doc, List<IngestDocument.Planned> plan,
            Map<String, float[]> embedded, EmbeddingProvider provider) {
        String documentId = doc.documentId();
        jdbc.update(LOCK, documentId);
        Map<String, Object> lock = jdbc.queryForMap(SUPERSEDED, jobId, documentId, jobId);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("documentId", documentId);
        result.put("chunks", plan.size());
        if (Boolean.TRUE.equals(lock.get("superseded"))) {
            result.put("superseded", true);
            result.put("written", 0);
            return result;
        }
        Map<String, Recorded> recorded = new HashMap<>();
        jdbc.query(RECORDED, rs -> {
            recorded.put(rs.getString("chunk_id"), new Recorded(rs.getString("state_hash"), rs.getLong("version")));
        }, documentId);
        Set<String> ids = new LinkedHashSet<>(recorded.keySet());
        plan.forEach(p -> ids.add(p.chunkId()));
        Map<String, Row> rows = current(plan, ids);

        List<IngestDocument.Planned> toWrite = new ArrayList<>();
        List<ChunkInput> inputs = new ArrayList<>();
        List<String> late = new ArrayList<>();
        int unchanged = 0;
        for (IngestDocument.Planned p : plan) {
            Row row = rows.get(p.chunkId());
            Recorded rec = recorded.get(p.chunkId());
            if (rec != null && row != null && !row.deleted() && row.version() == rec.version()
                    && rec.stateHash().equals(p.stateHash()) && provider.model().equals(row.model())
                    && provider.modelVersion().equals(row.modelVersion())) {
                unchanged++;
                continue;
            }
            float[] e = embedded.get(p.text());
            if (e == null) {
                e = reusable(row, p, provider);
            }
            if (e == null) {
                late.add(p.text()); // the row changed between the two phases: embed it, then write again
            }
            toWrite.add(p);
            inputs.add(null);
        }
        if (!late.isEmpty()) {
            throw new LateTexts(late.stream().distinct().toList()); // embedded outside, then written again
        }
        for (int i = 0; i < toWrite.size(); i++) {
            IngestDocument.Planned p = toWrite.get(i);
            Row row = rows.get(p.chunkId());
            float[] e = embedded.containsKey(p.text()) ? embedded.get(p.text()) : reusable(row, p, provider);
            long expected = row == null ? 0 : row.version();
            inputs.set(i, new ChunkInput(p.chunkId(), documentId, p.text(), Objects.requireNonNull(e),
                    p.metadataJson(), doc.privacy(), expected, false));
        }
        int written;
        try {
            var ws = writes.store().upsertAll(inputs);
            for (int i = 0; i < ws.size(); i++) {
                IngestDocument.Planned p = toWrite.get(i);
                jdbc.update(RECORD, p.chunkId(), documentId, p.position(), p.stateHash(), ws.get(i).version());
            }
            written = ws.size();
        } catch (CaptureException e) {
            throw refusal(e);
        }
        int deleted = 0;
        int forgotten = 0;
        Set<String> planned = new LinkedHashSet<>();
        plan.forEach(p -> planned.add(p.chunkId()));
        for (Map.Entry<String, Recorded> r : recorded.entrySet()) {
            if (planned.contains(r.getKey())) {
                continue;
            }
            Row row = rows.get(r.getKey());
            if (row != null && !row.deleted() && row.version() == r.getValue().version()) {
                try {
                    writes.store().delete(r.getKey(), r.getValue().version());
                } catch (CaptureException e) {
                    throw refusal(e);
                }
                deleted++;
            } else {
                forgotten++; // changed or deleted by someone else since: no longer the ingest's
            }
            jdbc.update(FORGET, r.getKey());
        }
        jdbc.update(WRITTEN, jobId, lock.get("enqueued"), plan.size(), documentId);
        result.put("superseded", false);
        result.put("written", written);
        result.put("unchanged", unchanged);
        result.put("embedded", embedded.size());
        result.put("deleted", deleted);
        result.put("forgotten", forgotten);
        result.put("model", provider.modelId());
        return result;
    }

    /**
     * A write the store refused: a chunk changed under the write (a client's PUT raced it; a retry reads
     * it again) is transient, an id the application owns is not.
     */
    private static RuntimeException refusal(CaptureException e) {
        if ("VSYNC-VERSION-CONFLICT".equals(e.code())) {
            return new IllegalStateException("VSYNC-INGEST-CONFLICT: a chunk changed while the document was written");
        }
        return new PermanentJobException(e.code(), e.getMessage());
    }

    private Map<String, Row> current(List<IngestDocument.Planned> plan, Set<String> ids) {
        String[] texts = plan.stream().map(IngestDocument.Planned::text).distinct().toArray(String[]::new);
        String[] all = ids.toArray(String[]::new);
        Map<String, Row> rows = new HashMap<>();
        jdbc.query(con -> {
            var ps = con.prepareStatement(CURRENT);
            ps.setArray(1, con.createArrayOf("text", texts));
            ps.setArray(2, con.createArrayOf("text", all));
            return ps;
        }, rs -> {
            rows.put(rs.getString("chunk_id"), new Row(rs.getLong("version"), rs.getBoolean("deleted"),
                    rs.getString("content"), rs.getString("embedding_model"), rs.getString("embedding_model_version"),
                    Embeddings.fromSql(rs.getArray("embedding"))));
        });
        return rows;
    }
}
