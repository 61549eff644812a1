package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.SearchNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The whole service with an OpenSearch backend added by configuration alone (type, url, collection and
 * a template instance): the index is created at start-up, keeps in step with the primary (updates,
 * deletes, REDACTED without content, LOCAL_ONLY absent), and a kNN query on it finds a chunk by its
 * embedding.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.search.type=opensearch",
        "vectorsync.backends.search.search.index=relay-chunks",
        "vectorsync.backends.search.read-timeout=10s"})
class OpenSearchRelayIT extends AbstractIT {

    private static SearchNode node;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Autowired
    private BackendRegistry backends;

    @DynamicPropertySource
    static void server(DynamicPropertyRegistry registry) {
        node = SearchNode.openSearch();
        registry.add("vectorsync.backends.search.search.url", node::url);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.close();
        }
    }

    /** True when the index holds exactly the live chunks of the primary, at their versions. */
    private boolean indexInStep() {
        List<Map<String, Object>> rows = jdbc.queryForList(
                "SELECT chunk_id, version, deleted, privacy, content FROM chunks WHERE chunk_id LIKE 's-%'");
        Map<String, StoredChunk> held = ((ReadBack) backends.get("search")).readBack(
                rows.stream().map(r -> (String) r.get("chunk_id")).toList());
        for (Map<String, Object> r : rows) {
            String id = (String) r.get("chunk_id");
            boolean gone = Boolean.TRUE.equals(r.get("deleted")) || "LOCAL_ONLY".equals(r.get("privacy"));
            StoredChunk s = held.get(id);
            if (gone != (s == null)) {
                return false;
            }
            if (s != null && (s.version() != ((Number) r.get("version")).longValue()
                    || ("REDACTED".equals(r.get("privacy")) ? s.data().content() != null
                            : !r.get("content").equals(s.data().content())))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void anOpenSearchIndexKeepsInStepAndAnswersKnnQueries() throws Exception {
        Map<String, Object> target = null;
        for (int i = 0; i < 20; i++) {
            Map<String, Object> body = chunkBody("text " + i);
            put("s-" + i, body);
            if (i == 7) {
                target = body;
            }
        }
        for (int i = 0; i < 5; i++) {
            put("s-" + i, chunkBody("second " + i));
        }
        delete("s-3");
        Map<String, Object> redacted = chunkBody("secret");
        redacted.put("privacy", "REDACTED");
        put("s-4", redacted);
        Map<String, Object> local = chunkBody("local");
        local.put("privacy", "LOCAL_ONLY");
        put("s-5", local);

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(this::indexInStep);
        assertThat(count("SELECT count(*) FROM parked WHERE backend = 'search'")).isZero();

        send("POST", "/relay-chunks/_refresh", null);
        String query = "{\"size\":1,\"query\":{\"knn\":{\"embedding\":{\"vector\":" + write(target.get("embedding"))
                + ",\"k\":3}}}}";
        JsonNode hits = json.readTree(send("POST", "/relay-chunks/_search", query)).path("hits").path("hits");
        assertThat(hits).hasSize(1);
        assertThat(hits.get(0).path("_id").asText()).isEqualTo("s-7");
        assertThat(hits.get(0).path("_source").path("content").asText()).isEqualTo("text 7");
    }

    private String send(String method, String path, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + path).isEqualTo(200);
        return r.body();
    }
}
