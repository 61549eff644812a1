package io.vectorsync.backend.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.SearchNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract against a real single-node OpenSearch 2.19 with the k-NN plugin, started for this class. */
class OpenSearchContractIT extends SearchContract {

    @BeforeAll
    static void start() {
        startNode(SearchNode.openSearch(), SearchBackend.Flavor.OPENSEARCH);
    }

    @AfterAll
    static void stop() {
        stopNode();
    }

    @Test
    void theIndexHasAnHnswLuceneCosineKnnVector() throws Exception {
        JsonNode embedding = mapping().path("embedding");
        assertThat(embedding.path("type").asText()).isEqualTo("knn_vector");
        assertThat(embedding.path("dimension").asInt()).isEqualTo(DIMENSION);
        assertThat(embedding.path("method").path("name").asText()).isEqualTo("hnsw");
        assertThat(embedding.path("method").path("engine").asText()).isEqualTo("lucene");
        assertThat(embedding.path("method").path("space_type").asText()).isEqualTo("cosinesimil");
    }
}
