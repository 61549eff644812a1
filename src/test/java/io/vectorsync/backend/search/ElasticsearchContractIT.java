package io.vectorsync.backend.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.SearchNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract against a real single-node Elasticsearch 8, started for this class. */
class ElasticsearchContractIT extends SearchContract {

    @BeforeAll
    static void start() {
        startNode(SearchNode.elasticsearch(), SearchBackend.Flavor.ELASTICSEARCH);
    }

    @AfterAll
    static void stop() {
        stopNode();
    }

    @Test
    void theIndexHasAnIndexedCosineDenseVector() throws Exception {
        JsonNode embedding = mapping().path("embedding");
        assertThat(embedding.path("type").asText()).isEqualTo("dense_vector");
        assertThat(embedding.path("dims").asInt()).isEqualTo(DIMENSION);
        assertThat(embedding.path("index").asBoolean()).isTrue();
        assertThat(embedding.path("similarity").asText()).isEqualTo("cosine");
    }
}
