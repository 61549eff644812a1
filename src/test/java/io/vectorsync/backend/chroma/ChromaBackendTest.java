package io.vectorsync.backend.chroma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the Chroma backend classifies answers it can't provoke from a healthy server (5xx, 429, a stall,
 * a refusal naming an item), against a scripted HTTP server on loopback that speaks enough of the v2 API.
 */
class ChromaBackendTest {

    private final ObjectMapper json = new ObjectMapper();
    private final List<String> paths = new CopyOnWriteArrayList<>();
    private final List<String> tokens = new CopyOnWriteArrayList<>();
    private final List<JsonNode> adds = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile int addStatus = 201;
    private volatile String addBody = "{}";
    private volatile String retryAfter;
    private volatile boolean stall;
    /** When set, only an add request holding this id gets {@link #addStatus}; others succeed. */
    private volatile String failOnlyWith;
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private ChromaBackend backend(String... extra) {
        String[] kv = new String[extra.length + 6];
        System.arraycopy(new String[] {"type", "chroma", "chroma.url", "http://127.0.0.1:" + server.getAddress().getPort(),
                "read-timeout", "2s"}, 0, kv, 0, 6);
        System.arraycopy(extra, 0, kv, 6, extra.length);
        return new ChromaBackend("chunks", BackendConfigs.of(kv), 2, json, Clock.systemUTC());
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        paths.add(ex.getRequestMethod() + " " + path);
        tokens.add(String.valueOf(ex.getRequestHeaders().getFirst("x-chroma-token")));
        byte[] raw = ex.getRequestBody().readAllBytes();
        int status = 200;
        String body;
        if (path.endsWith("/pre-flight-checks")) {
            body = "{\"max_batch_size\":2}";
        } else if (path.endsWith("/collections")) {
            String name = json.readTree(raw).path("name").asText();
            body = "{\"id\":\"" + (name.endsWith("__tombstones") ? "tomb" : "recs") + "\",\"name\":\"" + name
                    + "\",\"dimension\":null,\"configuration_json\":{\"hnsw\":{\"space\":\"cosine\"}}}";
        } else if ("GET".equals(ex.getRequestMethod()) && path.matches(".*/collections/[^/]+")) {
            body = "{\"id\":\"recs\",\"metadata\":{}}"; // the fence check reads the records collection
        } else if (path.endsWith("/get")) {
            body = "{\"ids\":[],\"metadatas\":[]}";
        } else if (path.endsWith("/add")) {
            JsonNode add = json.readTree(raw);
            adds.add(add);
            if (stall) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            boolean fail = failOnlyWith == null || add.path("ids").toString().contains("\"" + failOnlyWith + "\"");
            status = fail ? addStatus : 201;
            body = fail ? addBody : "{}";
            if (retryAfter != null) {
                ex.getResponseHeaders().add("Retry-After", retryAfter);
            }
        } else {
            body = "{}";
        }
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
        ex.close();
    }

    private static Change upsert(String id, String content) {
        return Change.upsert(new ChunkData(id, null, content, new float[] {1f, 2f}, "{}", Privacy.FULL), 1);
    }

    @Test
    void unavailableIsTransientWithTheServersRetryAfter() {
        addStatus = 503;
        addBody = "{\"error\":\"InternalError\",\"message\":\"busy\"}";
        retryAfter = "7";
        assertThatThrownBy(() -> backend().apply(List.of(upsert("a", "x")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> {
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(e.unreachable()).isFalse();
                });
    }

    @Test
    void tooManyRequestsIsTransient() {
        addStatus = 429;
        addBody = "{\"error\":\"RateLimited\",\"message\":\"slow down\"}";
        assertThatThrownBy(() -> backend().apply(List.of(upsert("a", "x")), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class);
    }

    @Test
    void noAnswerWithinTheReadTimeoutIsTransientButNotUnreachable() {
        stall = true;
        assertThatThrownBy(() -> backend("read-timeout", "300ms").apply(List.of(upsert("a", "x")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isFalse())
                .hasMessageContaining("no answer within");
    }

    @Test
    void aRefusalNamingAnItemIsPermanentForThatChangeAcrossSubBatches() {
        // The server takes two records per request (max_batch_size), so the batch goes in two requests.
        addStatus = 422;
        addBody = "{\"error\":\"ChromaError\",\"message\":\"Failed to deserialize: metadatas[1].k: data did not"
                + " match any variant of \\\"secret value\\\"\"}";
        failOnlyWith = "d";
        List<Change> batch = List.of(upsert("a", "x"), upsert("b", "x"), upsert("c", "x"), upsert("d", "x"));
        ChromaBackend b = backend();
        assertThatThrownBy(() -> b.apply(batch, LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> {
                    assertThat(e.failedIndex()).as("item 1 of the second request").isEqualTo(3);
                    assertThat(e.getMessage()).contains("HTTP 422", "metadatas[1]").doesNotContain("secret value");
                });
        failOnlyWith = null;
        addStatus = 201;
        addBody = "{}";
        adds.clear();
        b.apply(batch, LeaseFence.of(1));
        assertThat(adds).hasSize(2);
        assertThat(adds.get(0).path("ids")).hasSize(2);
        assertThat(adds.get(1).path("ids")).hasSize(2);
    }

    @Test
    void theApiKeyTravelsInTheChromaTokenHeader() {
        backend("chroma.api-key", "s3cr3t-token").apply(List.of(upsert("a", "x")), LeaseFence.of(1));
        assertThat(tokens).isNotEmpty().containsOnly("s3cr3t-token");
        tokens.clear();
        backend().apply(List.of(upsert("a", "x")), LeaseFence.of(1));
        assertThat(tokens).isNotEmpty().containsOnly("null");
    }

    @Test
    void theCollectionsAreCreatedOnceAndResolvedLazilyWhenChromaWasDownAtStartUp() {
        ChromaBackend down = new ChromaBackend("chunks", BackendConfigs.of("type", "chroma",
                "chroma.url", "http://127.0.0.1:1", "connect-timeout", "1s"), 2, json, Clock.systemUTC());
        down.bootstrap(); // logs a warning, does not throw
        assertThat(down.healthProblem()).hasValueSatisfying(p -> assertThat(p).contains("connection refused"));

        ChromaBackend b = backend();
        b.bootstrap();
        b.apply(List.of(upsert("a", "x")), LeaseFence.of(1));
        b.apply(List.of(upsert("b", "x")), LeaseFence.of(1));
        assertThat(paths.stream().filter(p -> p.endsWith("/collections"))).hasSize(2);
        assertThat(paths).contains("POST /api/v2/tenants/default_tenant/databases/default_database/collections/recs/add");
    }
}
