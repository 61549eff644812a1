package io.vectorsync.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local provider runs the real all-MiniLM-L6-v2: similar sentences are closer than unrelated ones, and
 * the model, its tokenizer and the native libraries load from the jars alone, in a JVM whose home and
 * temporary directories are new and empty.
 */
class LocalModelTest {

    static final String CAT = "a cat sat on the mat";
    static final String KITTEN = "a kitten rested on the rug";
    static final String REVENUE = "quarterly revenue grew by four percent";

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    @Test
    void theModelIsRealAndDeterministic() {
        LocalEmbeddingProvider p = new LocalEmbeddingProvider(16, Runnable::run);
        List<float[]> v = p.embed(List.of(CAT, KITTEN, REVENUE));
        assertThat(v).hasSize(3).allSatisfy(e -> assertThat(e).hasSize(384));
        double kitten = cosine(v.get(0), v.get(1));
        double revenue = cosine(v.get(0), v.get(2));
        assertThat(kitten).isGreaterThan(revenue + 0.2);
        assertThat(kitten).isGreaterThan(0.5);
        // Unit length (the model normalises), and the same text gives the same vector.
        assertThat(cosine(v.get(0), v.get(0))).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        assertThat(p.embed(List.of(CAT)).get(0)).containsExactly(v.get(0));
        assertThat(p.model()).isEqualTo("all-MiniLM-L6-v2");
        assertThat(p.modelVersion()).isEqualTo("1.19.0-beta29");
        assertThat(p.dimension()).isEqualTo(384);
        assertThat(p.acceptsLocalOnly()).isTrue();
    }

    @Test
    void loadsWithAFreshHomeAndNoCaches(@TempDir Path dir) throws IOException, InterruptedException {
        Path home = Files.createDirectories(dir.resolve("home"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path out = dir.resolve("out.txt");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Duser.home=" + home, "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                LocalModelProbe.class.getName());
        // No cache or engine directory comes from the environment either.
        pb.environment().keySet().removeIf(k -> k.startsWith("DJL") || k.startsWith("ENGINE_") || k.equals("HOME"));
        pb.environment().put("HOME", home.toString());
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the probe finished").isTrue();
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isZero();
        Map<String, String> values = new HashMap<>();
        text.lines().filter(l -> l.matches("[a-z]+=.*")).forEach(l -> values.put(l.substring(0, l.indexOf('=')),
                l.substring(l.indexOf('=') + 1)));
        assertThat(values.get("dimension")).isEqualTo("384");
        assertThat(Double.parseDouble(values.get("kitten"))).isGreaterThan(Double.parseDouble(values.get("revenue")));
        assertThat(values.get("model")).isEqualTo("all-MiniLM-L6-v2@1.19.0-beta29");
        // What the libraries unpacked went into the fresh directories, nowhere else.
        try (Stream<Path> files = Stream.concat(Files.walk(home), Files.walk(tmp))) {
            assertThat(files.filter(Files::isRegularFile).map(f -> f.getFileName().toString()))
                    .anyMatch(n -> n.contains("tokenizers") || n.contains("onnxruntime"));
        }
    }
}
