package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.SearchNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Verify against a real OpenSearch node: listing by {@code search_after} on the chunk id finds an orphan
 * document, tombstones are not counted, a deleted and a rewritten document are found, and repair makes
 * the relay converge (external versions: the repaired writes carry newer ones).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-search-verify/*.camel.yaml",
        "vectorsync.backends.search.type=opensearch",
        "vectorsync.backends.search.search.index=verify-chunks",
        "vectorsync.backends.search.read-timeout=10s",
        "vectorsync.verify.page-size=7"})
class SearchVerifyIT extends AbstractIT {

    private static SearchNode node;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

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

    private int send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(node.url() + path))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private boolean delivered() {
        return deliveredTo("search") && count("SELECT count(*) FROM repair_keys") == 0;
    }

    private JsonNode verify(boolean repair) throws Exception {
        assertThat(send("POST", "/verify-chunks/_refresh", null)).isEqualTo(200);
        return verifyResult("search", repair);
    }

    @Test
    void verifyListsAnOpenSearchIndexAndRepairConverges() throws Exception {
        for (int i = 0; i < 30; i++) {
            put("s-" + String.format("%02d", i), chunkBody("text " + i));
        }
        delete("s-29");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(this::delivered);

        JsonNode clean = verify(false);
        assertThat(clean.toString()).contains("\"missing\":0", "\"extra\":0", "\"stale\":0", "\"corrupt\":0");
        assertThat(clean.path("primaryCount").asLong()).isEqualTo(29);
        assertThat(clean.path("backendCount").asLong()).as("the tombstone of s-29 is not counted").isEqualTo(29);

        // Deleted at its own version (an internal delete would raise it above the primary's, which repair
        // never writes over: README, "Verify and repair").
        assertThat(send("DELETE", "/verify-chunks/_doc/s-01?version=1&version_type=external_gte&refresh=true", null))
                .isEqualTo(200);
        assertThat(send("PUT", "/verify-chunks/_doc/s-orphan?version=3&version_type=external&refresh=true",
                "{\"chunk_id\":\"s-orphan\",\"content\":\"orphan\",\"privacy\":\"FULL\"}")).isEqualTo(201);
        assertThat(send("PUT", "/verify-chunks/_doc/s-03?version=1&version_type=external_gte&refresh=true",
                "{\"chunk_id\":\"s-03\",\"document_id\":\"doc-1\",\"content\":\"changed\",\"privacy\":\"FULL\"}"))
                .isEqualTo(200);

        JsonNode found = verify(false);
        assertThat(found.path("missing").asLong()).isEqualTo(1);
        assertThat(found.path("extra").asLong()).isEqualTo(1);
        assertThat(found.path("corrupt").asLong()).isEqualTo(1);
        assertThat(found.path("stale").asLong()).isZero();
        assertThat(found.path("samples").toString()).contains("s-01", "s-orphan", "s-03");

        long events = count("SELECT count(*) FROM outbox");
        JsonNode repaired = verify(true);
        assertThat(repaired.path("repaired").asLong()).isEqualTo(3);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(this::delivered);
        assertThat(count("SELECT count(*) FROM outbox")).as("repair writes no event").isEqualTo(events);
        JsonNode again = verify(false);
        assertThat(again.toString()).contains("\"missing\":0", "\"extra\":0", "\"stale\":0", "\"corrupt\":0");
        assertThat(again.path("backendCount").asLong()).isEqualTo(29);
    }
}
