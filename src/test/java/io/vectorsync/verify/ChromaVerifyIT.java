package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.ChromaServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Verify against a real Chroma server, with a field allowlist (only {@code metadata.lang} of the
 * metadata travels): clean when in step; records deleted, added, set back a version or changed (document,
 * embedding) through Chroma's own API are reported in their categories with nothing changed; repair makes
 * the relay converge. A webhook backend can't be read back and is refused with a clear code.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.chroma.type=chroma",
        "vectorsync.backends.chroma.chroma.collection=verify-chunks",
        "vectorsync.backends.chroma.read-timeout=5s",
        "vectorsync.backends.chroma.fields=documentId,content,embedding,metadata.lang",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.webhook.url=http://127.0.0.1:9/hook",
        "vectorsync.backends.hooks.webhook.secret=verify-webhook-secret-0123",
        "vectorsync.backends.hooks.connect-timeout=250ms"})
class ChromaVerifyIT extends AbstractIT {

    private static ChromaServer server;
    private static final HttpClient client = HttpClient.newHttpClient();

    @Autowired
    BackendRegistry backends;

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

    private JsonNode chroma(String method, String path, JsonNode body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url()
                + "/api/v2/tenants/default_tenant/databases/default_database/" + path));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString()));
        b.header("Content-Type", "application/json");
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return json.readTree(r.body());
    }

    private JsonNode verify(String backend, boolean repair) throws Exception {
        ResponseEntity<String> r = adminPost("/admin/v1/backends/{b}/verify?repair={r}", backend, repair);
        assertThat(r.getStatusCode()).isEqualTo(HttpStatus.ACCEPTED);
        String id = json.readTree(r.getBody()).path("id").asText();
        JsonNode[] last = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            last[0] = json.readTree(adminGet("/admin/v1/jobs/{id}", id).getBody());
            return !last[0].path("status").asText().matches("QUEUED|RUNNING");
        });
        assertThat(last[0].path("status").asText()).as(last[0].toString()).isEqualTo("SUCCEEDED");
        return last[0].path("result");
    }

    /** True when the Chroma backend has applied every chunk's current version (deletes included). */
    private boolean chromaDelivered() {
        return count("""
                SELECT count(*) FROM chunks c LEFT JOIN delivery_ledger l ON l.backend = 'chroma' AND l.chunk_key = c.chunk_id
                 WHERE l.version IS DISTINCT FROM c.version""") == 0
                && count("SELECT count(*) FROM repair_keys") == 0;
    }

    private float[] vector(int seed) {
        float[] v = new float[384];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(seed + i);
        }
        return v;
    }

    /** What Chroma holds for these ids, every field, metadata as parsed JSON (Chroma may reorder its keys). */
    private Map<String, String> held(List<String> ids) {
        Map<String, String> out = new java.util.TreeMap<>();
        ((ReadBack) backends.get("chroma")).readBack(ids).forEach((id, s) -> {
            try {
                out.put(id, s.version() + "|" + s.data().documentId() + "|" + s.data().content() + "|"
                        + java.util.Arrays.toString(s.data().embedding()) + "|" + json.readValue(s.data().metadataJson(), java.util.TreeMap.class)
                        + "|" + s.data().privacy());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        return out;
    }

    private void assertCounts(JsonNode result, long missing, long extra, long stale, long corrupt) {
        assertThat(result.path("missing").asLong()).as("missing in " + result).isEqualTo(missing);
        assertThat(result.path("extra").asLong()).as("extra in " + result).isEqualTo(extra);
        assertThat(result.path("stale").asLong()).as("stale in " + result).isEqualTo(stale);
        assertThat(result.path("corrupt").asLong()).as("corrupt in " + result).isEqualTo(corrupt);
    }

    @Test
    void verifyComparesAChromaBackendThroughItsReadBackAndRepairConverges() throws Exception {
        ResponseEntity<String> refused = adminPost("/admin/v1/backends/{b}/verify", "hooks");
        assertThat(refused.getStatusCode()).isEqualTo(HttpStatus.CONFLICT);
        assertThat(json.readTree(refused.getBody()).path("code").asText()).isEqualTo("VSYNC-VERIFY-UNSUPPORTED");
        assertThat(count("SELECT count(*) FROM jobs")).isZero();

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Map<String, Object> body = chunkBody("text " + i);
            body.put("metadata", Map.of("lang", "en", "owner", "team-" + i));
            put("c-" + String.format("%02d", i), body);
            ids.add("c-" + String.format("%02d", i));
        }
        Map<String, Object> redacted = chunkBody("secret");
        redacted.put("privacy", "REDACTED");
        put("c-05", redacted);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(this::chromaDelivered);

        JsonNode clean = verify("chroma", false);
        assertCounts(clean, 0, 0, 0, 0);
        assertThat(clean.path("primaryCount").asLong()).isEqualTo(40);
        assertThat(clean.path("backendCount").asLong()).isEqualTo(40);

        // Tamper with Chroma through its own API.
        String collection = chroma("GET", "collections/verify-chunks", null).path("id").asText();
        String records = "collections/" + collection + "/";
        ObjectNode del = json.createObjectNode();
        del.putArray("ids").add("c-01");
        chroma("POST", records + "delete", del);
        ObjectNode add = json.createObjectNode();
        add.putArray("ids").add("c-orphan");
        ArrayNode emb = add.putArray("embeddings").addArray();
        for (float f : vector(7)) {
            emb.add(f);
        }
        add.putArray("documents").add("orphan");
        add.putArray("metadatas").addObject().put("chunk_id", "c-orphan").put("version", 4).put("privacy", "FULL");
        chroma("POST", records + "add", add);
        ObjectNode older = json.createObjectNode();
        older.putArray("ids").add("c-02");
        older.putArray("metadatas").addObject().put("version", 0);
        chroma("POST", records + "update", older);
        ObjectNode doc = json.createObjectNode();
        doc.putArray("ids").add("c-03");
        doc.putArray("documents").add("changed");
        chroma("POST", records + "update", doc);
        ObjectNode vec = json.createObjectNode();
        vec.putArray("ids").add("c-04");
        ArrayNode v4 = vec.putArray("embeddings").addArray();
        for (float f : vector(4)) {
            v4.add(f);
        }
        chroma("POST", records + "update", vec);
        ObjectNode leak = json.createObjectNode();
        leak.putArray("ids").add("c-06");
        leak.putArray("metadatas").addObject().put("owner", "team-6");
        chroma("POST", records + "update", leak);

        List<String> all = new ArrayList<>(ids);
        all.add("c-orphan");
        Map<String, String> before = held(all);
        String primaryBefore = jdbc.queryForObject("""
                SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY chunk_id)) FROM chunks c)
                    || (SELECT count(*) FROM outbox)
                    || (SELECT md5(string_agg(l::text, ',' ORDER BY backend, chunk_key)) FROM delivery_ledger l)""",
                String.class);

        JsonNode found = verify("chroma", false);
        assertCounts(found, 1, 1, 1, 3);
        assertThat(found.path("samples").path("missing").toString()).isEqualTo("[\"c-01\"]");
        assertThat(found.path("samples").path("extra").toString()).isEqualTo("[\"c-orphan\"]");
        assertThat(found.path("samples").path("stale").toString()).isEqualTo("[\"c-02\"]");
        assertThat(found.path("samples").path("corrupt").toString()).isEqualTo("[\"c-03\",\"c-04\",\"c-06\"]");
        assertThat(held(all)).as("verify leaves Chroma alone").isEqualTo(before);
        assertThat(jdbc.queryForObject("""
                SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY chunk_id)) FROM chunks c)
                    || (SELECT count(*) FROM outbox)
                    || (SELECT md5(string_agg(l::text, ',' ORDER BY backend, chunk_key)) FROM delivery_ledger l)""",
                String.class)).as("verify leaves the primary alone").isEqualTo(primaryBefore);

        long events = count("SELECT count(*) FROM outbox");
        JsonNode repaired = verify("chroma", true);
        assertCounts(repaired, 1, 1, 1, 3);
        assertThat(repaired.path("repaired").asLong()).isEqualTo(6);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(this::chromaDelivered);
        assertThat(count("SELECT count(*) FROM outbox")).as("repair writes no event").isEqualTo(events);
        var c03 = ((ReadBack) backends.get("chroma")).readBack(List.of("c-03")).get("c-03");
        assertThat(c03.version() + ":" + c03.data().content()).as("rewritten at its own version").isEqualTo("1:text 3");
        assertCounts(verify("chroma", false), 0, 0, 0, 0);
        assertThat(((ReadBack) backends.get("chroma")).readBack(List.of("c-orphan"))).isEmpty();
    }
}
