package io.vectorsync.backend.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the search backend classifies answers the real servers give only under load or misconfiguration
 * (429 and 5xx items, whole-request 429/503 with Retry-After, 401), what it sends (external versions,
 * tombstones, auth headers) and its configuration checks, against a loopback stub of {@code _bulk}.
 */
class SearchBackendTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HttpServer server;
    private final Map<String, String> headers = new ConcurrentHashMap<>();
    private final AtomicReference<String> bulkBody = new AtomicReference<>();
    private volatile int bulkStatus = 200;
    private volatile String bulkAnswer = "{\"errors\":false,\"items\":[]}";
    private volatile String retryAfter;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), v.get(0)));
            byte[] body;
            int status;
            if (path.endsWith("/_mapping")) {
                status = 200;
                body = "{\"chunks\":{\"mappings\":{\"properties\":{\"embedding\":{\"dims\":3}}}}}".getBytes();
            } else if (path.endsWith("/_bulk")) {
                bulkBody.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
                status = bulkStatus;
                body = bulkAnswer.getBytes(StandardCharsets.UTF_8);
                if (retryAfter != null) {
                    ex.getResponseHeaders().add("Retry-After", retryAfter);
                }
            } else {
                status = 404;
                body = "{}".getBytes();
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private SearchBackend backend(String... extra) {
        String[] kv = new String[extra.length + 6];
        kv[0] = "type";
        kv[1] = "elasticsearch";
        kv[2] = "search.url";
        kv[3] = "http://127.0.0.1:" + server.getAddress().getPort();
        kv[4] = "search.index";
        kv[5] = "chunks";
        System.arraycopy(extra, 0, kv, 6, extra.length);
        return new SearchBackend("search", SearchBackend.Flavor.ELASTICSEARCH, BackendConfigs.of(kv), 3, JSON,
                Clock.systemUTC());
    }

    private static Change upsert(String id, long version) {
        return Change.upsert(new ChunkData(id, "doc", "secret content", new float[] {1f, 2f, 3f}, "{\"k\":1}",
                Privacy.FULL), version);
    }

    private static String item(String op, int status, String errorType) {
        return "{\"" + op + "\":{\"_id\":\"x\",\"status\":" + status
                + (errorType == null ? "" : ",\"error\":{\"type\":\"" + errorType + "\",\"reason\":\"value 'secret content'\"}")
                + "}}";
    }

    private void answer(String... items) {
        bulkAnswer = "{\"errors\":true,\"items\":[" + String.join(",", items) + "]}";
    }

    @Test
    void everyActionCarriesItsExternalVersionAndADeleteIsATombstone() throws Exception {
        backend().apply(List.of(upsert("a", 3), Change.delete("b", 9)), LeaseFence.of(1));
        String[] lines = bulkBody.get().split("\n");
        assertThat(lines).hasSize(4);
        assertThat(JSON.readTree(lines[0]).path("index").path("_id").asText()).isEqualTo("a");
        assertThat(JSON.readTree(lines[0]).path("index").path("version").asLong()).isEqualTo(3);
        assertThat(JSON.readTree(lines[0]).path("index").path("version_type").asText()).isEqualTo("external");
        assertThat(JSON.readTree(lines[1]).path("embedding")).hasSize(3);
        assertThat(JSON.readTree(lines[2]).path("index").path("version").asLong()).isEqualTo(9);
        assertThat(JSON.readTree(lines[3]).path("deleted").asBoolean()).isTrue();
        assertThat(JSON.readTree(lines[3]).has("embedding")).isFalse();
        assertThat(headers).containsEntry("content-type", "application/x-ndjson").doesNotContainKey("authorization");
    }

    @Test
    void conflictsAndMissingDeletesAreAlreadyApplied() {
        answer(item("index", 409, "version_conflict_engine_exception"), item("delete", 404, null));
        backend().apply(List.of(upsert("a", 1), Change.delete("b", 2)), LeaseFence.of(1));
        assertThat(bulkBody.get()).isNotNull();
    }

    @Test
    void theFirstRefusedItemIsNamedWithoutItsReason() {
        answer(item("index", 201, null), item("index", 429, "es_rejected_execution_exception"),
                item("index", 400, "mapper_parsing_exception"), item("index", 400, "mapper_parsing_exception"));
        PermanentBackendException e = catchThrowableOfType(() -> backend().apply(List.of(upsert("a", 1), upsert("b", 1),
                upsert("c", 1), upsert("d", 1)), LeaseFence.of(1)), PermanentBackendException.class);
        assertThat(e.failedIndex()).isEqualTo(2);
        assertThat(e.getMessage()).contains("c", "400", "mapper_parsing_exception").doesNotContain("secret");
    }

    @Test
    void rejectedOrFailingItemsAreTransient() {
        answer(item("index", 201, null), item("index", 429, "es_rejected_execution_exception"),
                item("index", 503, "unavailable_shards_exception"));
        assertThatThrownBy(() -> backend().apply(List.of(upsert("a", 1), upsert("b", 1), upsert("c", 1)), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class).hasMessageContaining("item 1");
    }

    @Test
    void aThrottledRequestIsTransientWithTheServersRetryAfter() {
        bulkStatus = 429;
        retryAfter = "7";
        bulkAnswer = "{\"error\":{\"type\":\"es_rejected_execution_exception\"},\"status\":429}";
        TransientBackendException e = catchThrowableOfType(() -> backend().apply(List.of(upsert("a", 1)), LeaseFence.of(1)),
                TransientBackendException.class);
        assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
        assertThat(e.unreachable()).isFalse();
    }

    @Test
    void badCredentialsWaitForTheOperatorInsteadOfParkingEvents() {
        bulkStatus = 401;
        bulkAnswer = "{\"error\":{\"type\":\"security_exception\"},\"status\":401}";
        assertThatThrownBy(() -> backend("search.api-key", "a2V5OnNlY3JldA==").apply(List.of(upsert("a", 1)), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class);
        assertThat(headers).containsEntry("authorization", "ApiKey a2V5OnNlY3JldA==");
    }

    @Test
    void aMalformedRequestIsPermanentWithoutAnIndexSoTheRelaySplits() {
        bulkStatus = 400;
        bulkAnswer = "{\"error\":{\"type\":\"illegal_argument_exception\"},\"status\":400}";
        PermanentBackendException e = catchThrowableOfType(() -> backend().apply(List.of(upsert("a", 1)), LeaseFence.of(1)),
                PermanentBackendException.class);
        assertThat(e.failedIndex()).isEqualTo(-1);
    }

    @Test
    void basicAuthIsSentWhenAUserIsSet() {
        backend("search.username", "relay", "search.password", "pw").apply(List.of(upsert("a", 1)), LeaseFence.of(1));
        assertThat(headers).containsEntry("authorization", "Basic cmVsYXk6cHc=");
    }

    @Test
    void anExistingIndexOfAnotherDimensionIsRefusedAtBootstrap() {
        SearchBackend wrong = new SearchBackend("search", SearchBackend.Flavor.ELASTICSEARCH, BackendConfigs.of(
                "type", "elasticsearch", "search.url", "http://127.0.0.1:" + server.getAddress().getPort(),
                "search.index", "chunks"), 4, JSON, Clock.systemUTC());
        assertThatThrownBy(wrong::bootstrap).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("3-dimension").hasMessageContaining("vectorsync.embedding-dimension is 4");
    }

    @Test
    void configurationMistakesNameTheProperty() {
        assertThatThrownBy(() -> backend("search.index", "Bad Name")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("vectorsync.backends.search.search.index");
        assertThatThrownBy(() -> backend("search.api-key", "k", "search.username", "u")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("api-key");
        assertThatThrownBy(() -> new SearchBackend("search", SearchBackend.Flavor.OPENSEARCH,
                BackendConfigs.of("type", "opensearch"), 3, JSON, Clock.systemUTC()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("vectorsync.backends.search.search.url");
    }

    @Test
    void theIndexDefaultsToTheBackendsName() {
        SearchBackend b = new SearchBackend("vectors", SearchBackend.Flavor.OPENSEARCH, BackendConfigs.of(
                "type", "opensearch", "search.url", "http://127.0.0.1:9200"), 3, JSON, Clock.systemUTC());
        assertThat(b.index()).isEqualTo("vectors");
        assertThat(b.indexDefinition().path("settings").path("index").path("knn").asBoolean()).isTrue();
        assertThat(b.indexDefinition().path("mappings").path("properties").path("embedding").path("method")
                .path("engine").asText()).isEqualTo("lucene");
    }
}
