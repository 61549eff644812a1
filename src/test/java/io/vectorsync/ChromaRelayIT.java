package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.ChromaServer;
import java.sql.Array;
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
 * A Chroma backend added with configuration and one template instance, against a real Chroma server:
 * the whole service relays API writes (updates, a delete, a REDACTED and a LOCAL_ONLY chunk) to it
 * beside the replica, with the default cosine collection.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.chroma.type=chroma",
        "vectorsync.backends.chroma.chroma.collection=relay-chunks",
        "vectorsync.backends.chroma.read-timeout=5s"})
class ChromaRelayIT extends AbstractIT {

    private static ChromaServer server;

    @Autowired
    private BackendRegistry backends;

    @DynamicPropertySource
    static void chroma(DynamicPropertyRegistry registry) {
        server = ChromaServer.start();
        registry.add("vectorsync.backends.chroma.chroma.url", server::url);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** True when Chroma holds exactly what the primary says it should, for the chunks {@code r-*}. */
    private boolean chromaInStep() throws Exception {
        List<Map<String, Object>> rows = jdbc.queryForList("""
                SELECT chunk_id, version, deleted, privacy, content, document_id, metadata::text AS metadata,
                       embedding::real[] AS embedding
                  FROM chunks WHERE chunk_id LIKE 'r-%'""");
        Map<String, StoredChunk> held = ((ReadBack) backends.get("chroma")).readBack(
                rows.stream().map(r -> (String) r.get("chunk_id")).toList());
        for (Map<String, Object> r : rows) {
            String id = (String) r.get("chunk_id");
            boolean gone = Boolean.TRUE.equals(r.get("deleted")) || "LOCAL_ONLY".equals(r.get("privacy"));
            StoredChunk s = held.get(id);
            if (gone || s == null) {
                if (gone != (s == null)) {
                    return false;
                }
                continue;
            }
            String content = "REDACTED".equals(r.get("privacy")) ? null : (String) r.get("content");
            JsonNode metadata = json.readTree((String) r.get("metadata"));
            if (s.version() != ((Number) r.get("version")).longValue()
                    || !java.util.Objects.equals(s.data().content(), content)
                    || !java.util.Objects.equals(s.data().documentId(), r.get("document_id"))
                    || !json.readTree(s.data().metadataJson()).equals(metadata)
                    || !close(s.data().embedding(), (Float[]) ((Array) r.get("embedding")).getArray())) {
                return false;
            }
        }
        return true;
    }

    /** Equal to float precision: a local Chroma's cosine index hands vectors back renormalised. */
    private static boolean close(float[] stored, Float[] primary) {
        if (stored == null || stored.length != primary.length) {
            return false;
        }
        for (int i = 0; i < stored.length; i++) {
            if (Math.abs(stored[i] - primary[i]) > 4 * Math.ulp(primary[i])) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aChromaBackendKeepsInStepWithThePrimary() {
        for (int i = 0; i < 30; i++) {
            put("r-" + i, chunkBody("text " + i));
        }
        for (int i = 0; i < 10; i++) {
            put("r-" + i, chunkBody("second " + i));
        }
        delete("r-3");
        Map<String, Object> redacted = chunkBody("secret");
        redacted.put("privacy", "REDACTED");
        put("r-4", redacted);
        Map<String, Object> local = chunkBody("local");
        local.put("privacy", "LOCAL_ONLY");
        put("r-5", local);
        Map<String, Object> nested = chunkBody("nested metadata");
        nested.put("metadata", Map.of("lang", "en", "tags", List.of("a", "b"), "owner", Map.of("team", "x")));
        put("r-6", nested);

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(this::chromaInStep);
        awaitReplicaInStep(Duration.ofSeconds(20));
        Map<String, StoredChunk> held = ((ReadBack) backends.get("chroma")).readBack(List.of("r-3", "r-4", "r-5", "r-6", "r-17"));
        assertThat(held).containsOnlyKeys("r-4", "r-6", "r-17");
        assertThat(held.get("r-4").data().content()).isNull();
        assertThat(held.get("r-17").data().content()).isEqualTo("text 17");
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'chroma'")).isZero();
    }
}
