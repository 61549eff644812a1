package io.vectorsync.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.config.EmbeddingProperties;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible provider against a real HTTP server on 127.0.0.1 (the JDK's): batches, the key, the
 * answers' order by index, 429 with Retry-After, timeouts, refusals, other dimensions, the start-up check.
 */
class OpenAiProviderIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private final Queue<JsonNode> requests = new ConcurrentLinkedQueue<>();
    private final Queue<String> keys = new ConcurrentLinkedQueue<>();
    /** What the next answers are: status and Retry-After, or null for a normal answer. */
    private final Queue<String[]> scripted = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Integer> answerDimension = new AtomicReference<>(4);
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean hang;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/v1/embeddings", this::answer);
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void answer(HttpExchange x) throws IOException {
        JsonNode req = JSON.readTree(x.getRequestBody());
        requests.add(req);
        keys.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
        if (hang) {
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String[] s = scripted.poll();
        if (s != null) {
            if (s[1] != null) {
                x.getResponseHeaders().add("Retry-After", s[1]);
            }
            byte[] body = "{\"error\":{\"message\":\"no\"}}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(Integer.parseInt(s[0]), body.length);
            x.getResponseBody().write(body);
            x.close();
            return;
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode data = out.putArray("data");
        JsonNode input = req.get("input");
        // In reverse order: the provider must order by index.
        for (int i = input.size() - 1; i >= 0; i--) {
            ObjectNode item = data.addObject();
            item.put("index", i);
            ArrayNode e = item.putArray("embedding");
            for (int k = 0; k < answerDimension.get(); k++) {
                e.add(input.get(i).asText().length() + k / 10.0);
            }
        }
        byte[] body = JSON.writeValueAsBytes(out);
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(200, body.length);
        x.getResponseBody().write(body);
        x.close();
    }

    private OpenAiEmbeddingProvider provider(int batchSize, Duration readTimeout, Duration maxRetryAfter) {
        EmbeddingProperties.OpenAi o = new EmbeddingProperties.OpenAi("http://127.0.0.1:" + server.getAddress().getPort()
                + "/v1", "test-model", "7", "sk-test", null, batchSize, Duration.ofSeconds(2), readTimeout, 3,
                maxRetryAfter, false, true);
        return new OpenAiEmbeddingProvider(o, 4, JSON, Clock.systemUTC());
    }

    @Test
    void batchesInOrderWithTheKey() {
        OpenAiEmbeddingProvider p = provider(2, Duration.ofSeconds(5), Duration.ofSeconds(5));
        List<float[]> v = p.embed(List.of("a", "bb", "ccc", "dddd", "eeeee"));
        assertThat(v).hasSize(5);
        for (int i = 0; i < 5; i++) {
            assertThat(v.get(i)).containsExactly(i + 1, i + 1.1f, i + 1.2f, i + 1.3f);
        }
        assertThat(requests).hasSize(3).allSatisfy(r -> {
            assertThat(r.get("model").asText()).isEqualTo("test-model");
            assertThat(r.get("encoding_format").asText()).isEqualTo("float");
            assertThat(r.has("dimensions")).isFalse();
        });
        assertThat(requests.stream().mapToInt(r -> r.get("input").size())).containsExactly(2, 2, 1);
        assertThat(keys).containsOnly("Bearer sk-test");
        assertThat(p.modelId()).isEqualTo("test-model@7");
        assertThat(p.acceptsLocalOnly()).isFalse();
    }

    @Test
    void honoursRetryAfterOn429And503() {
        scripted.add(new String[] {"429", "1"});
        scripted.add(new String[] {"503", "0"});
        OpenAiEmbeddingProvider p = provider(8, Duration.ofSeconds(5), Duration.ofSeconds(5));
        long t0 = System.nanoTime();
        List<float[]> v = p.embed(List.of("x"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(v).hasSize(1);
        assertThat(requests).hasSize(3);
        assertThat(ms).as("waited the Retry-After of 1 s").isGreaterThanOrEqualTo(1000);
    }

    @Test
    void aRetryAfterBeyondThePatienceIsATransientFailure() {
        scripted.add(new String[] {"429", "120"});
        OpenAiEmbeddingProvider p = provider(8, Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class, e -> {
            assertThat(e.code()).isEqualTo("VSYNC-EMBED-RATE");
            assertThat(e.permanent()).isFalse();
        });
        assertThat(requests).hasSize(1);
    }

    @Test
    void retriesStopAfterMaxRetries() {
        for (int i = 0; i < 4; i++) {
            scripted.add(new String[] {"429", "0"});
        }
        OpenAiEmbeddingProvider p = provider(8, Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class,
                e -> assertThat(e.permanent()).isFalse());
        assertThat(requests).hasSize(4); // the first try and 3 retries
    }

    @Test
    void aSlowAnswerTimesOut() {
        hang = true;
        OpenAiEmbeddingProvider p = provider(8, Duration.ofMillis(300), Duration.ofSeconds(5));
        assertThatThrownBy(() -> p.embed(List.of("secret text"))).isInstanceOfSatisfying(EmbeddingException.class,
                e -> {
                    assertThat(e.code()).isEqualTo("VSYNC-EMBED-TIMEOUT");
                    assertThat(e.permanent()).isFalse();
                    assertThat(e.getMessage()).doesNotContain("secret");
                });
    }

    @Test
    void refusalsAndServerErrorsAreClassified() {
        OpenAiEmbeddingProvider p = provider(8, Duration.ofSeconds(5), Duration.ofSeconds(5));
        scripted.add(new String[] {"400", null});
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class, e -> {
            assertThat(e.code()).isEqualTo("VSYNC-EMBED-REFUSED");
            assertThat(e.permanent()).isTrue();
            assertThat(e.getMessage()).contains("HTTP 400").doesNotContain("no\"");
        });
        scripted.add(new String[] {"500", null});
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class,
                e -> assertThat(e.permanent()).isFalse());
    }

    @Test
    void anotherDimensionIsRefusedAtStartUpAndAtRunTime() {
        answerDimension.set(8);
        OpenAiEmbeddingProvider p = provider(8, Duration.ofSeconds(5), Duration.ofSeconds(5));
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class, e -> {
            assertThat(e.code()).isEqualTo("VSYNC-EMBED-DIMENSION");
            assertThat(e.permanent()).isTrue();
        });
        // The start-up probe turns it into a refusal to start, naming the setting.
        assertThatThrownBy(() -> EmbeddingConfiguration.probe(p)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("VSYNC-EMBED-DIMENSION").hasMessageContaining("check-at-startup");
        // And a configured dimension other than embedding-dimension is refused before any call.
        assertThatThrownBy(() -> EmbeddingConfiguration.checked(p, 384)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("vectorsync.embedding-dimension is 384");
        assertThat(EmbeddingConfiguration.checked(p, 4)).isSameAs(p);
    }

    @Test
    void anUnreachableEndpointIsTransient() {
        int port = server.getAddress().getPort();
        server.stop(0);
        EmbeddingProperties.OpenAi o = new EmbeddingProperties.OpenAi("http://127.0.0.1:" + port + "/v1", "m", "1", "",
                null, 8, Duration.ofSeconds(1), Duration.ofSeconds(1), 0, Duration.ofSeconds(1), false, true);
        OpenAiEmbeddingProvider p = new OpenAiEmbeddingProvider(o, 4, JSON, Clock.systemUTC());
        assertThatThrownBy(() -> p.embed(List.of("x"))).isInstanceOfSatisfying(EmbeddingException.class, e -> {
            assertThat(e.code()).isEqualTo("VSYNC-EMBED-UNREACHABLE");
            assertThat(e.permanent()).isFalse();
        });
    }
}
