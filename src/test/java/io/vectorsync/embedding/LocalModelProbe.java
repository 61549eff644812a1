package io.vectorsync.embedding;

import java.util.List;

/**
 * Run by {@link LocalModelTest} in a child JVM whose {@code user.home} and temporary directory are new and
 * empty: loads the local model, embeds three sentences and prints the cosine of the first with the others
 * and the model's id, one {@code key=value} a line.
 */
public final class LocalModelProbe {

    private LocalModelProbe() {}

    public static void main(String[] args) {
        LocalEmbeddingProvider p = new LocalEmbeddingProvider(16, Runnable::run);
        List<float[]> v = p.embed(List.of(LocalModelTest.CAT, LocalModelTest.KITTEN, LocalModelTest.REVENUE));
        System.out.println("dimension=" + v.get(0).length);
        System.out.println("kitten=" + LocalModelTest.cosine(v.get(0), v.get(1)));
        System.out.println("revenue=" + LocalModelTest.cosine(v.get(0), v.get(2)));
        System.out.println("model=" + p.modelId());
    }
}
