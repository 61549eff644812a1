package io.vectorsync.ingest;

import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.Written;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.domain.Privacy;
import io.vectorsync.embedding.EmbeddingException;
import io.vectorsync.embedding.EmbeddingProvider;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * {@code PUT /api/v1/chunks/{id}} without an embedding, when a provider is configured: the content is
 * embedded in the request, synchronously, and then the chunk and its event are written in one transaction,
 * so no event exists before the embedding does and the answer carries the chunk's final version (why not a
 * job: docs/ingest.md). Failures are the request's: 400 without content, 400 for LOCAL_ONLY content a remote
 * provider would receive, 503 when the provider is unavailable (retry later), 502 when it refused.
 */
@Component
@ServerOnly
public class ChunkEmbedder {

    private final ObjectProvider<EmbeddingProvider> providers;
    private final EmbeddedWrites writes;

    /** The provider is looked up per call: with {@code provider: none} there is none and the service still starts. */
    public ChunkEmbedder(ObjectProvider<EmbeddingProvider> providers, EmbeddedWrites writes) {
        this.providers = providers;
        this.writes = writes;
    }

    public Written put(ChunkInput in) {
        EmbeddingProvider provider = providers.getIfAvailable();
        if (provider == null || in.content() == null || in.content().isBlank()) {
            throw new CaptureException(400, "VSYNC-EMBEDDING-MISSING", "embedding",
                    "an embedding, or content for the embedding provider to embed",
                    "embedding is required when the chunk has no content.");
        }
        if (in.privacy() == Privacy.LOCAL_ONLY && !provider.acceptsLocalOnly()) {
            throw new CaptureException(400, "VSYNC-EMBED-PRIVACY", "privacy", "an embedding with LOCAL_ONLY content",
                    "The embedding provider sends texts out of this service; LOCAL_ONLY content must bring its"
                            + " embedding.");
        }
        float[] v;
        try {
            v = provider.embed(List.of(in.content())).get(0);
        } catch (EmbeddingException e) {
            throw new CaptureException(e.permanent() ? 502 : 503, e.permanent() ? "VSYNC-EMBED-REFUSED"
                    : "VSYNC-EMBED-UNAVAILABLE", "embedding", "an embedding provider that answers",
                    "The embedding provider could not embed the content (" + e.code() + "); send the embedding or retry.");
        }
        ChunkInput embedded = new ChunkInput(in.chunkId(), in.documentId(), in.content(), v, in.metadataJson(),
                in.privacy(), in.expectedVersion(), in.expectedFromIfMatch());
        return writes.inTransaction(provider, () -> writes.store().upsert(embedded));
    }
}
