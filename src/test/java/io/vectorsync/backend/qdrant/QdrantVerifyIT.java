package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Verify and repair of a Qdrant backend ({@link FakeQdrant}, requests checked against Qdrant's OpenAPI
 * document) with one collection per memory type and soft deletes: points are listed by {@code scroll}
 * across the collections, soft-deleted ones are not counted, vectors (not read back) are not compared,
 * each kind of difference is found, and repair converges.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-qdrant-verify/*.camel.yaml",
        "vectorsync.backends.memories.type=qdrant",
        "vectorsync.backends.memories.qdrant.collection=vmem",
        "vectorsync.backends.memories.qdrant.collection-by=memory_type",
        "vectorsync.backends.memories.qdrant.delete-mode=soft",
        "vectorsync.verify.page-size=3"})
class QdrantVerifyIT extends AbstractIT {

    private static final FakeQdrant qdrant = FakeQdrant.start();

    @DynamicPropertySource
    static void qdrantUrl(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.memories.qdrant.url", qdrant::url);
    }

    @AfterAll
    static void stop() {
        qdrant.close();
    }

    private boolean delivered() {
        return deliveredTo("memories") && count("SELECT count(*) FROM repair_keys") == 0;
    }

    private JsonNode verify(boolean repair) throws Exception {
        return verifyResult("memories", repair);
    }


    private Map<String, Object> memory(String content, String type) {
        Map<String, Object> body = chunkBody(content);
        body.put("metadata", Map.of("memory_type", type));
        return body;
    }

    @Test
    void verifyScrollsEveryCollectionAndRepairConverges() throws Exception {
        for (int i = 0; i < 20; i++) {
            put("q-" + String.format("%02d", i), memory("text " + i, i % 2 == 0 ? "event" : "fact"));
        }
        put("q-03", memory("second", "fact"));
        delete("q-07");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(this::delivered);

        JsonNode clean = verify(false);
        assertThat(verifyCounts(clean)).isEqualTo("0/0/0/0");
        assertThat(clean.path("primaryCount").asLong()).isEqualTo(19);
        assertThat(clean.path("backendCount").asLong()).as("the soft-deleted q-07 is not counted").isEqualTo(19);

        qdrant.removePoint("vmem_fact", PointIds.of("q-01"));
        ObjectNode orphan = json.createObjectNode().put("chunk_id", "q-x").put("version", 1).put("content", "x")
                .put("privacy", "FULL");
        qdrant.putPoint("vmem_event", PointIds.of("q-x"), embedding(384), orphan);
        FakeQdrant.Point q3 = qdrant.point("vmem_fact", PointIds.of("q-03"));
        qdrant.putPoint("vmem_fact", PointIds.of("q-03"), q3.vector(), q3.payload().deepCopy().put("version", 1));
        FakeQdrant.Point q5 = qdrant.point("vmem_fact", PointIds.of("q-05"));
        qdrant.putPoint("vmem_fact", PointIds.of("q-05"), q5.vector(), q5.payload().deepCopy().put("content", "changed"));

        JsonNode found = verify(false);
        assertThat(verifyCounts(found)).isEqualTo("1/1/1/1");
        assertThat(found.path("samples").toString()).contains("q-01", "q-x", "q-03", "q-05");

        long events = count("SELECT count(*) FROM outbox");
        assertThat(verify(true).path("repaired").asLong()).isEqualTo(4);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(this::delivered);
        assertThat(count("SELECT count(*) FROM outbox")).as("repair writes no event").isEqualTo(events);
        assertThat(qdrant.point("vmem_fact", PointIds.of("q-05")).payload().path("version").asLong())
                .as("rewritten at its own version").isEqualTo(1);
        JsonNode again = verify(false);
        assertThat(verifyCounts(again)).isEqualTo("0/0/0/0");
        assertThat(again.path("backendCount").asLong()).isEqualTo(19);
        assertThat(qdrant.violations()).isEmpty();
    }
}
