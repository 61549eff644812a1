package io.vectorsync.backend.chroma;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.ChromaServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the Chroma backend does beyond the contract, against a real Chroma server: the cosine collection
 * it creates by default, the metadata mapping, full replacement, tombstones, and how Chroma's refusals
 * are classified. Each test uses its own collection.
 */
class ChromaBackendIT {

    private static final int DIMENSION = 8;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ChromaServer server;

    @BeforeAll
    static void start() {
        server = ChromaServer.start();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static ChromaBackend backend(String... extra) {
        String[] kv = new String[extra.length + 6];
        kv[0] = "type";
        kv[1] = "chroma";
        kv[2] = "chroma.url";
        kv[3] = server.url();
        kv[4] = "chroma.collection";
        kv[5] = "it-" + UUID.randomUUID().toString().substring(0, 8);
        System.arraycopy(extra, 0, kv, 6, extra.length);
        ChromaBackend b = new ChromaBackend("it", BackendConfigs.of(kv), DIMENSION, JSON, Clock.systemUTC());
        b.bootstrap();
        return b;
    }

    private static float[] vector(float seed, int dimension) {
        float[] v = new float[dimension];
        for (int i = 0; i < dimension; i++) {
            v[i] = seed + i / 10f;
        }
        return v;
    }

    private static Change upsert(String id, long version, String content, String metadata, int dimension) {
        return Change.upsert(new ChunkData(id, "doc-" + id, content, vector(version, dimension), metadata,
                Privacy.FULL), version);
    }

    private static Change upsert(String id, long version, String content) {
        return upsert(id, version, content, "{\"lang\":\"en\"}", DIMENSION);
    }

    @Test
    void theDefaultCollectionIsCosineAndKeepsEmbeddingsToFloatPrecision() throws Exception {
        ChromaBackend b = backend();
        assertThat(collection(b.collection()).path("configuration_json").path("hnsw").path("space").asText())
                .isEqualTo("cosine");
        b.apply(List.of(upsert("a", 1, "text")), LeaseFence.of(1));
        float[] stored = b.readBack(List.of("a")).get("a").data().embedding();
        float[] sent = vector(1, DIMENSION);
        assertThat(stored).hasSize(DIMENSION);
        for (int i = 0; i < DIMENSION; i++) {
            assertThat(stored[i]).isCloseTo(sent[i], within(Math.ulp(sent[i]) * 4));
        }
    }

    @Test
    void aWrongDimensionIsRefusedPermanentlyBeforeAnythingIsWritten() {
        ChromaBackend b = backend("chroma.distance", "l2");
        List<Change> batch = List.of(upsert("ok1", 1, "one"), upsert("bad", 1, "bad", "{}", 5), upsert("ok2", 1, "two"));
        assertThatThrownBy(() -> b.apply(batch, LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> {
                    assertThat(e.failedIndex()).isEqualTo(1);
                    assertThat(e.getMessage()).contains("dimension 8").doesNotContain("one", "two");
                });
        assertThat(b.readBack(List.of("ok1", "bad", "ok2"))).isEmpty();
        b.apply(List.of(batch.get(0), batch.get(2)), LeaseFence.of(1));
        assertThat(b.readBack(List.of("ok1", "ok2"))).containsOnlyKeys("ok1", "ok2");
    }

    @Test
    void aDimensionFixedBySomeoneElseIsRefusedPermanentlyForTheOnlyUpsertOfTheRequest() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        // Someone else fixed the collection's dimension at 3 after the backend resolved it: the fence check
        // reads the collection before the write and learns the dimension, so the upsert is refused before it
        // is sent (Chroma's own 400 for it is classified in ChromaBackendTest).
        post(collection(b.collection()).path("id").asText(), "add",
                "{\"ids\":[\"foreign\"],\"embeddings\":[[0.1,0.2,0.3]]}");
        assertThatThrownBy(() -> b.apply(List.of(Change.delete("gone", 1), upsert("mine", 1, "secret text")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> {
                    assertThat(e.failedIndex()).isEqualTo(1);
                    assertThat(e.getMessage()).contains("dimension 3").doesNotContain("secret text");
                });
    }

    @Test
    void aDroppedCollectionIsATransientFailureAndIsCreatedAgain() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        b.apply(List.of(upsert("a", 1, "first")), LeaseFence.of(1));
        HttpResponse<String> dropped = HTTP.send(HttpRequest.newBuilder(URI.create(server.url()
                        + "/api/v2/tenants/default_tenant/databases/default_database/collections/" + b.collection()))
                .DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(dropped.statusCode()).isEqualTo(200);
        assertThatThrownBy(() -> b.apply(List.of(upsert("b", 1, "second")), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class)
                .hasMessageContaining("HTTP 404");
        b.apply(List.of(upsert("b", 1, "second")), LeaseFence.of(1));
        assertThat(b.readBack(List.of("a", "b"))).containsOnlyKeys("b");
    }

    @Test
    void anUpsertReplacesTheWholeRecordMetadataIncluded() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        b.apply(List.of(upsert("a", 1, "first", "{\"lang\":\"en\",\"owner\":\"team-a\"}", DIMENSION)), LeaseFence.of(1));
        b.apply(List.of(Change.upsert(new ChunkData("a", null, null, vector(2, DIMENSION), "{\"lang\":\"de\"}",
                Privacy.REDACTED), 2)), LeaseFence.of(1));
        JsonNode raw = get(b, "a");
        assertThat(raw.path("documents").get(0).isNull()).isTrue();
        JsonNode meta = raw.path("metadatas").get(0);
        assertThat(meta.has("owner")).as("a key the new version doesn't have").isFalse();
        assertThat(meta.has("document_id")).isFalse();
        assertThat(meta.path("lang").asText()).isEqualTo("de");
        assertThat(meta.path("version").asLong()).isEqualTo(2);
        assertThat(meta.path("privacy").asText()).isEqualTo("REDACTED");
        assertThat(meta.path("chunk_id").asText()).isEqualTo("a");
    }

    @Test
    void metadataIsStoredFlatAndReadsBackAsItWasSent() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        String metadata = """
                {"lang":"en","n":7,"score":0.5,"ok":true,"tags":["x","y"],"owner":{"team":"a"},"none":null,
                 "version":"user's own","chroma:document":"tricky","big":123456789012345678901234567890}""";
        b.apply(List.of(upsert("m", 3, "text", metadata, DIMENSION)), LeaseFence.of(1));

        StoredChunk s = b.readBack(List.of("m")).get("m");
        assertThat(s.version()).isEqualTo(3);
        assertThat(JSON.readTree(s.data().metadataJson())).isEqualTo(JSON.readTree(metadata));
        assertThat(s.data().documentId()).isEqualTo("doc-m");
        assertThat(s.data().content()).isEqualTo("text");

        JsonNode flat = get(b, "m").path("metadatas").get(0);
        assertThat(flat.path("lang").asText()).isEqualTo("en");
        assertThat(flat.path("n").asLong()).isEqualTo(7);
        assertThat(flat.path("ok").asBoolean()).isTrue();
        assertThat(flat.path("tags").asText()).isEqualTo("[\"x\",\"y\"]");
        assertThat(flat.path("version").asLong()).as("the chunk's version wins the flat key").isEqualTo(3);
        assertThat(flat.has("chroma:document")).isFalse();

        // Scalar keys filter as Chroma filters always do.
        JsonNode found = post(collection(b.collection()).path("id").asText(), "get",
                "{\"where\":{\"$and\":[{\"lang\":\"en\"},{\"n\":{\"$gte\":7}}]},\"include\":[\"metadatas\"]}");
        assertThat(found.path("ids").get(0).asText()).isEqualTo("m");
    }

    @Test
    void aDeleteLeavesItsVersionInTheTombstoneCollection() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        b.apply(List.of(upsert("a", 1, "born")), LeaseFence.of(1));
        b.apply(List.of(Change.delete("a", 2), Change.delete("never", 5)), LeaseFence.of(1));
        JsonNode tombstones = post(collection(b.collection() + "__tombstones").path("id").asText(), "get",
                "{\"ids\":[\"a\",\"never\"],\"include\":[\"metadatas\"]}");
        assertThat(tombstones.path("ids")).hasSize(2);
        for (int i = 0; i < 2; i++) {
            String id = tombstones.path("ids").get(i).asText();
            assertThat(tombstones.path("metadatas").get(i).path("version").asLong()).isEqualTo(id.equals("a") ? 2 : 5);
        }
        assertThat(b.readBackVersions(List.of("a", "never"))).isEmpty();
    }

    @Test
    void aRecordWrittenByOthersIsReplacedNotKept() throws Exception {
        ChromaBackend b = backend("chroma.distance", "l2");
        post(collection(b.collection()).path("id").asText(), "add",
                "{\"ids\":[\"x\"],\"embeddings\":[[1,1,1,1,1,1,1,1]],\"documents\":[\"theirs\"]}");
        b.apply(List.of(upsert("x", 1, "ours")), LeaseFence.of(1));
        Map<String, StoredChunk> s = b.readBack(List.of("x"));
        assertThat(s.get("x").version()).isEqualTo(1);
        assertThat(s.get("x").data().content()).isEqualTo("ours");
    }

    @Test
    void aWriteOfAnOlderLeaseEpochIsRefusedOnceANewerOneHasWritten() {
        ChromaBackend b = backend("chroma.distance", "l2");
        b.apply(List.of(upsert("a", 1, "epoch 5")), LeaseFence.of(5));
        assertThatThrownBy(() -> b.apply(List.of(Change.delete("a", 2)), LeaseFence.of(4)))
                .isInstanceOf(BackendFencedException.class);
        assertThat(b.readBackVersions(List.of("a"))).containsEntry("a", 1L);
        b.apply(List.of(upsert("a", 3, "epoch 5 again")), LeaseFence.of(5));
        b.apply(List.of(upsert("a", 4, "epoch 6")), LeaseFence.of(6));
        assertThatThrownBy(() -> b.apply(List.of(upsert("a", 5, "stale holder")), LeaseFence.of(5)))
                .isInstanceOf(BackendFencedException.class);
        assertThat(b.readBack(List.of("a")).get("a").data().content()).isEqualTo("epoch 6");
    }

    @Test
    void aMisconfiguredBackendIsRefusedAtStartUpNamingTheProperty() {
        assertThatThrownBy(() -> new ChromaBackend("x", BackendConfigs.of("type", "chroma"), DIMENSION, JSON,
                Clock.systemUTC()))
                .hasMessageContaining("vectorsync.backends.x.chroma.collection");
        assertThatThrownBy(() -> new ChromaBackend("chunks", BackendConfigs.of("type", "chroma", "fields[0]",
                "content"), DIMENSION, JSON, Clock.systemUTC()))
                .hasMessageContaining("vectorsync.backends.chunks.fields must include embedding");
    }

    private static JsonNode collection(String name) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url()
                + "/api/v2/tenants/default_tenant/databases/default_database/collections/" + name)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static JsonNode get(ChromaBackend b, String id) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode();
        body.putArray("ids").add(id);
        body.putArray("include").add("documents").add("metadatas");
        return post(collection(b.collection()).path("id").asText(), "get", body.toString());
    }

    private static JsonNode post(String collectionId, String operation, String body)
            throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(server.url()
                        + "/api/v2/tenants/default_tenant/databases/default_database/collections/" + collectionId
                        + "/" + operation))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return JSON.readTree(r.body());
    }
}
