package io.vectorsync.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.Written;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Privacy;
import io.vectorsync.embedding.EmbeddingProvider;
import io.vectorsync.jobs.JobContext;
import io.vectorsync.jobs.JobHandler;
import io.vectorsync.jobs.PermanentJobException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The REEMBED job (docs/ingest.md): gives the chunks of one document ({@code documentId}), of a metadata
 * filter ({@code metadata}, JSON containment) or all chunks ({@code all: true}) an embedding by the
 * configured model. Chunks already embedded by that model (name and version) are not selected, so a second
 * run changes nothing and a retried or taken-over run resumes where the last one stopped. Each new embedding
 * is a new version written by compare-and-set on the version read, with its event: when a client wrote the
 * chunk in between, the client's write stands and the chunk is read again (and embedded again if it still
 * needs it). A model whose dimension differs from the stored embeddings' is refused before anything is
 * written. LOCAL_ONLY chunks are skipped when the provider sends texts out of the service.
 */
@Component
@ServerOnly
public class ReembedHandler implements JobHandler {

    public static final String TYPE = "REEMBED";
    static final int PAGE = 32;
    private static final int REREADS = 3;

    private static final String CANDIDATE = """
             NOT deleted AND content IS NOT NULL
             AND (embedding_model IS DISTINCT FROM ? OR embedding_model_version IS DISTINCT FROM ?)
             AND (? OR privacy <> 'LOCAL_ONLY')
             AND (?::text IS NULL OR document_id = ?) AND (?::jsonb IS NULL OR metadata @> ?::jsonb)
            """;
    private static final String OTHER_DIMENSION = """
            SELECT count(*) FROM chunks WHERE NOT deleted AND embedding IS NOT NULL AND cardinality(embedding) <> ?
               AND (?::text IS NULL OR document_id = ?) AND (?::jsonb IS NULL OR metadata @> ?::jsonb)
            """;
    private static final String PAGE_SQL = """
            SELECT chunk_id, version, document_id, content, metadata::text AS metadata, privacy FROM chunks
             WHERE chunk_id > ? AND %s ORDER BY chunk_id LIMIT ?
            """.formatted(CANDIDATE);
    private static final String ONE = """
            SELECT chunk_id, version, document_id, content, metadata::text AS metadata, privacy FROM chunks
             WHERE chunk_id = ? AND %s
            """.formatted(CANDIDATE);
    private static final String COUNT = "SELECT count(*) FROM chunks WHERE " + CANDIDATE;
    private static final String FOLLOW = "UPDATE document_chunks SET version = ? WHERE chunk_id = ? AND version = ?";

    private final ObjectProvider<EmbeddingProvider> providers;
    private final EmbeddedWrites writes;
    private final JdbcTemplate jdbc;
    private final VectorsyncProperties properties;

    public ReembedHandler(ObjectProvider<EmbeddingProvider> providers, EmbeddedWrites writes, JdbcTemplate jdbc,
            VectorsyncProperties properties) {
        this.providers = providers;
        this.writes = writes;
        this.jdbc = jdbc;
        this.properties = properties;
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** What is selected and the target model: the same request for the same model is one job at a time. */
    @Override
    public Map<String, String> correlation(JsonNode payload) {
        Map<String, String> c = new LinkedHashMap<>();
        Selector s = Selector.of(payload);
        c.put("selector", s.documentId != null ? "document:" + s.documentId
                : s.metadata != null ? "metadata:" + ChunkIds.sha256(s.metadata).substring(0, 16) : "all");
        EmbeddingProvider p = providers.getIfAvailable();
        c.put("model", p == null ? "none" : p.modelId());
        return c;
    }

    /** Which chunks: one document, a metadata containment filter, or all. */
    record Selector(String documentId, String metadata) {

        static Selector of(JsonNode p) {
            String doc = p.hasNonNull("documentId") ? p.get("documentId").asText() : null;
            String meta = p.hasNonNull("metadata") ? IngestDocument.canonical(p.get("metadata")) : null;
            if (doc == null && meta == null && !p.path("all").asBoolean(false)) {
                throw new PermanentJobException("VSYNC-REEMBED-SELECTOR", "Name a documentId, a metadata filter or all: true");
            }
            return new Selector(doc, meta);
        }
    }

    private record Candidate(String chunkId, long version, String documentId, String content, String metadata,
            String privacy) {

        @Override
        public String toString() {
            return "Candidate[" + chunkId + " v" + version + "]";
        }
    }

    private Object[] args(EmbeddingProvider p, Selector s) {
        return new Object[] {p.model(), p.modelVersion(), p.acceptsLocalOnly(), s.documentId, s.documentId,
            s.metadata, s.metadata};
    }

    @Override
    public Map<String, Object> run(JobContext context) {
        EmbeddingProvider provider = IngestHandler.required(providers);
        Selector s = Selector.of(context.payload());
        Long other = jdbc.queryForObject(OTHER_DIMENSION, Long.class, provider.dimension(), s.documentId, s.documentId,
                s.metadata, s.metadata);
        if (provider.dimension() != properties.embeddingDimension() || (other != null && other > 0)) {
            throw new PermanentJobException("VSYNC-EMBED-DIMENSION", "The model " + provider.modelId() + " has "
                    + provider.dimension() + " dimensions; " + other + " selected chunks hold embeddings of another"
                    + " (vectorsync.embedding-dimension is " + properties.embeddingDimension() + ")");
        }
        Object[] a = args(provider, s);
        long total = jdbc.queryForObject(COUNT, Long.class, a);
        context.progress(0, total);
        long done = 0;
        int reembedded = 0;
        int conflicts = 0;
        String after = "";
        while (true) {
            List<Candidate> page = jdbc.query(PAGE_SQL, (rs, n) -> candidate(rs), concat(after, a, PAGE));
            if (page.isEmpty()) {
                break;
            }
            List<float[]> vectors = IngestHandler.embed(provider, page.stream().map(Candidate::content).toList());
            if (writePage(provider, page, vectors)) {
                reembedded += page.size();
                done += page.size();
            } else {
                // A chunk of the page moved on (or could not be written): one chunk at a time, each by its own
                // compare-and-set, so the others still land and the moved one is read again.
                for (int i = 0; i < page.size(); i++) {
                    Candidate c = page.get(i);
                    float[] v = vectors.get(i);
                    for (int tries = 0; c != null; tries++) {
                        if (write(provider, c, v)) {
                            reembedded++;
                            break;
                        }
                        conflicts++; // a client's write came in between: it stands; read the chunk again
                        c = tries < REREADS ? reread(c.chunkId(), a).orElse(null) : null;
                        if (c != null) {
                            v = IngestHandler.embed(provider, List.of(c.content())).get(0);
                        }
                    }
                    done++;
                }
            }
            after = page.get(page.size() - 1).chunkId();
            context.progress(done, total);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("selected", total);
        result.put("reembedded", reembedded);
        result.put("conflicts", conflicts);
        result.put("model", provider.modelId());
        return result;
    }

    private static Object[] concat(String after, Object[] a, int limit) {
        Object[] out = new Object[a.length + 2];
        out[0] = after;
        System.arraycopy(a, 0, out, 1, a.length);
        out[out.length - 1] = limit;
        return out;
    }

    private static Candidate candidate(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new Candidate(rs.getString("chunk_id"), rs.getLong("version"), rs.getString("document_id"),
                rs.getString("content"), rs.getString("metadata"), rs.getString("privacy"));
    }

    private Optional<Candidate> reread(String chunkId, Object[] a) {
        Object[] args = new Object[a.length + 1];
        args[0] = chunkId;
        System.arraycopy(a, 0, args, 1, a.length);
        return jdbc.query(ONE, (rs, n) -> candidate(rs), args).stream().findFirst();
    }

    /**
     * The page's new embeddings in one transaction (one commit for the page, where a transaction per chunk
     * spent most of the job's time waiting for commits), each by compare-and-set on the version read; false,
     * with nothing written, when any chunk of the page refused its write: the caller then writes them one by
     * one.
     */
    private boolean writePage(EmbeddingProvider provider, List<Candidate> page, List<float[]> vectors) {
        try {
            writes.inTransaction(provider, () -> {
                for (int i = 0; i < page.size(); i++) {
                    upsert(page.get(i), vectors.get(i));
                }
                return null;
            });
            return true;
        } catch (CaptureException | org.springframework.dao.PessimisticLockingFailureException e) {
            // A chunk moved on, or the page's row locks met a client's batch in another order (a deadlock the
            // server broke): one chunk at a time holds one row lock at a time.
            return false;
        }
    }

    /** The new embedding by compare-and-set on the version read; false when the chunk moved on. */
    private boolean write(EmbeddingProvider provider, Candidate c, float[] v) {
        try {
            writes.inTransaction(provider, () -> upsert(c, v));
            return true;
        } catch (CaptureException e) {
            if ("VSYNC-VERSION-CONFLICT".equals(e.code())) {
                return false;
            }
            throw new PermanentJobException(e.code(), e.getMessage());
        }
    }

    /** Writes the embedding by compare-and-set on the version read, and the document's record follows it. */
    private Written upsert(Candidate c, float[] v) {
        Written w = writes.store().upsert(new ChunkInput(c.chunkId(), c.documentId(), c.content(), v, c.metadata(),
                Privacy.valueOf(c.privacy()), c.version(), false));
        jdbc.update(FOLLOW, w.version(), c.chunkId(), c.version());
        return w;
    }
}
