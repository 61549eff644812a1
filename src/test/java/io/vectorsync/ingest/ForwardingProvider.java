package io.vectorsync.ingest;

import io.vectorsync.embedding.EmbeddingProvider;
import java.util.List;
import java.util.function.Consumer;

/**
 * A test provider that answers as the real one does (model, version, dimension, embeddings) and lets a test
 * act before each embed call, such as a client's write racing the job. It accepts LOCAL_ONLY chunks, as the
 * local model does.
 */
final class ForwardingProvider implements EmbeddingProvider {

    private final EmbeddingProvider real;
    private final Consumer<List<String>> beforeEachCall;

    ForwardingProvider(EmbeddingProvider real, Consumer<List<String>> beforeEachCall) {
        this.real = real;
        this.beforeEachCall = beforeEachCall;
    }

    @Override
    public String model() {
        return real.model();
    }

    @Override
    public String modelVersion() {
        return real.modelVersion();
    }

    @Override
    public int dimension() {
        return real.dimension();
    }

    @Override
    public boolean acceptsLocalOnly() {
        return true;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        beforeEachCall.accept(texts);
        return real.embed(texts);
    }
}
