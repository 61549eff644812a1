package io.vectorsync.embedding;

import java.util.List;

/**
 * Turns texts into embeddings ({@code vectorsync.embedding.provider}: {@code local}, the default, or
 * {@code openai}; {@code none} leaves no provider and clients bring their own embeddings). Implementations
 * never log the texts or the vectors.
 */
public interface EmbeddingProvider {

    /** The model's name as recorded with each chunk it embedded ({@code chunks.embedding_model}). */
    String model();

    /** The model's version ({@code chunks.embedding_model_version}). */
    String modelVersion();

    /** Every vector's length; checked against {@code vectorsync.embedding-dimension} at start-up. */
    int dimension();

    /**
     * One embedding per text, in order, each of {@link #dimension()} finite floats.
     *
     * @throws EmbeddingException when the model could not embed them (transient or not, as it says)
     */
    List<float[]> embed(List<String> texts);

    /**
     * True when texts stay inside this service (the local model), so LOCAL_ONLY chunks may be embedded;
     * a remote endpoint says so only when configured to ({@code openai.send-local-only}).
     */
    default boolean acceptsLocalOnly() {
        return false;
    }

    /** Name and version in one string, as the ingest's change hash and the job correlation use it. */
    default String modelId() {
        return model() + "@" + modelVersion();
    }
}
