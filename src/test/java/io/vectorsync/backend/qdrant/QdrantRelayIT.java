package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The Qdrant backend added with configuration and one template instance, relayed by the running
 * application into {@link FakeQdrant}: it keeps in step with the primary (updates, deletes, privacy),
 * an outage of Qdrant drains by itself, and every request the relay sent is valid under Qdrant's
 * OpenAPI document.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.memories.type=qdrant",
        "vectorsync.backends.memories.qdrant.collection-by=memory_type",
        "vectorsync.backends.memories.qdrant.delete-mode=soft",
        "vectorsync.backends.memories.read-timeout=2s"})
class QdrantRelayIT extends AbstractIT {

    private static final FakeQdrant qdrant = FakeQdrant.start();

    @Autowired
    BackendRegistry backends;

    @DynamicPropertySource
    static void qdrantUrl(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.memories.qdrant.url", qdrant::url);
    }

    @AfterAll
    static void stop() {
        qdrant.close();
    }

    /** True when Qdrant holds exactly the primary's live chunks (privacy applied) at their versions. */
    private boolean qdrantInStep() {
        List<Map<String, Object>> rows = jdbc.queryForList(
                "SELECT chunk_id, version, deleted, privacy, content FROM chunks WHERE chunk_id LIKE 'q-%'");
        List<String> ids = new ArrayList<>();
        rows.forEach(r -> ids.add((String) r.get("chunk_id")));
        Map<String, StoredChunk> held = ((ReadBack) backends.get("memories")).readBack(ids);
        for (Map<String, Object> r : rows) {
            String id = (String) r.get("chunk_id");
            boolean gone = Boolean.TRUE.equals(r.get("deleted")) || "LOCAL_ONLY".equals(r.get("privacy"));
            StoredChunk s = held.get(id);
            if (gone != (s == null)) {
                return false;
            }
            if (!gone && (s.version() != ((Number) r.get("version")).longValue()
                    || ("REDACTED".equals(r.get("privacy")) ? s.data().content() != null
                            : !r.get("content").equals(s.data().content())))) {
                return false;
            }
        }
        return true;
    }

    private Map<String, Object> memory(String content, String type) {
        Map<String, Object> body = chunkBody(content);
        if (type != null) {
            body.put("metadata", Map.of("memory_type", type));
        }
        return body;
    }

    @Test
    void aQdrantBackendKeepsInStepAndDrainsAfterAnOutage() {
        for (int i = 0; i < 20; i++) {
            put("q-" + i, memory("text " + i, i % 2 == 0 ? "episodic" : null));
        }
        await().atMost(Duration.ofSeconds(30)).until(this::qdrantInStep);
        put("q-1", memory("now semantic", "semantic"));
        delete("q-2");
        Map<String, Object> redacted = memory("secret", "episodic");
        redacted.put("privacy", "REDACTED");
        put("q-4", redacted);
        Map<String, Object> local = memory("local", null);
        local.put("privacy", "LOCAL_ONLY");
        put("q-5", local);
        await().atMost(Duration.ofSeconds(30)).until(this::qdrantInStep);
        assertThat(qdrant.collectionNames()).contains("memories", "memories-tombstones", "memories_episodic",
                "memories_semantic");
        assertThat(qdrant.point("memories_episodic", PointIds.of("q-2")).payload().get("deleted").asBoolean())
                .as("soft delete").isTrue();

        qdrant.failNext(Integer.MAX_VALUE, 503, "1");
        for (int i = 20; i < 25; i++) {
            put("q-" + i, memory("during outage " + i, "episodic"));
        }
        awaitReplicaInStep(Duration.ofSeconds(20));
        qdrant.failNext(0, 503, null);
        await().atMost(Duration.ofSeconds(30)).until(this::qdrantInStep);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'memories'")).isZero();
        assertThat(qdrant.violations()).as("requests and responses that break Qdrant's OpenAPI document").isEmpty();
    }
}
