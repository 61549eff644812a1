package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Qdrant backend against {@link FakeQdrant}: bootstrap, collection-by, point ids, error classification. */
class QdrantBackendIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DIM = 4;
    private FakeQdrant qdrant;

    @BeforeEach
    void start() {
        qdrant = FakeQdrant.start();
    }

    @AfterEach
    void stop() {
        qdrant.close();
    }

    private QdrantBackend backend(String... settings) {
        List<String> kv = new ArrayList<>(List.of("type", "qdrant", "qdrant.url", qdrant.url(), "connect-timeout", "1s",
                "read-timeout", "2s"));
        kv.addAll(Arrays.asList(settings));
        return new QdrantBackend("memories", BackendConfigs.of(kv.toArray(String[]::new)), DIM, JSON, Clock.systemUTC());
    }

    private static Change upsert(String id, long version, String metadata) {
        return Change.upsert(new ChunkData(id, "doc-" + id, "text of " + id, new float[] {3f, 0f, 4f, 0f}, metadata,
                Privacy.FULL), version);
    }

    private Set<String> operationsSent() {
        return qdrant.requests().stream().map(FakeQdrant.Request::operationId).collect(Collectors.toSet());
    }

    @Test
    void bootstrapCreatesTheCollectionsWithTheEmbeddingDimensionCosineAndPayloadIndexes() {
        backend().bootstrap();

        FakeQdrant.Coll main = qdrant.collection("memories");
        assertThat(main.size).isEqualTo(DIM);
        assertThat(main.distance).isEqualTo("Cosine");
        assertThat(main.indexes).containsEntry("chunk_id", "keyword").containsEntry("version", "integer");
        assertThat(qdrant.collection("memories-tombstones").size).isEqualTo(1);

        int before = qdrant.requests().size();
        backend("qdrant.collection", "memories").bootstrap();
        assertThat(qdrant.requests().subList(before, qdrant.requests().size()))
                .extracting(FakeQdrant.Request::operationId)
                .as("a second start finds the collections and creates nothing")
                .doesNotContain("create_collection");
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void aQdrantThatIsDownAtStartUpGetsItsCollectionsBeforeTheFirstWrite() {
        qdrant.failNext(1000, 503, null);
        QdrantBackend backend = backend();
        backend.bootstrap();
        assertThat(qdrant.collectionNames()).isEmpty();

        qdrant.failNext(0, 503, null);
        backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1));

        assertThat(qdrant.collectionNames()).contains("memories", "memories-tombstones");
        assertThat(backend.readBack(List.of("a"))).containsKey("a");
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void aQdrantOlderThanTheMinimumStopsTheStartUpWithACodeAndNothingIsCreated() {
        qdrant.version("1.15.5");

        assertThatThrownBy(() -> backend().bootstrap())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("VSYNC-BACKEND-VERSION")
                .hasMessageContaining("1.15.5")
                .hasMessageContaining("1.16.0 or newer");
        assertThat(qdrant.collectionNames()).as("nothing is created on a server that is too old").isEmpty();
        assertThat(qdrant.requests()).extracting(FakeQdrant.Request::operationId).containsExactly("root");
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void aQdrantFoundTooOldAfterAnOutageAtStartUpPausesTheBackendAndWritesNothing() {
        qdrant.failNext(1000, 503, null);
        QdrantBackend backend = backend();
        backend.bootstrap(); // down: the check waits for the first write
        qdrant.failNext(0, 503, null);
        qdrant.version("1.15.5");

        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class)
                .hasMessageContaining("VSYNC-BACKEND-VERSION");
        assertThat(qdrant.collectionNames()).isEmpty();

        qdrant.version("1.16.0");
        backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1));
        assertThat(backend.readBack(List.of("a"))).containsKey("a");
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void storedVectorsAreNormalisedByQdrantSoReadBackReturnsNoEmbedding() {
        QdrantBackend backend = backend();
        backend.bootstrap();
        backend.apply(List.of(upsert("a", 1, "{\"k\":1}")), LeaseFence.of(1));

        assertThat(qdrant.point("memories", PointIds.of("a")).vector()).containsExactly(0.6f, 0f, 0.8f, 0f);
        StoredChunk s = backend.readBack(List.of("a")).get("a");
        assertThat(s.version()).isEqualTo(1);
        assertThat(s.data().embedding()).isNull();
        assertThat(s.data().documentId()).isEqualTo("doc-a");
        assertThat(s.data().metadataJson()).isEqualTo("{\"k\":1}");
        assertThat(qdrant.point("memories", PointIds.of("a")).payload().fieldNames())
                .toIterable().containsExactlyInAnyOrder("chunk_id", "version", "document_id", "content", "metadata",
                        "privacy");
    }

    @Test
    void collectionByPutsEachValueInItsOwnCollectionCreatedOnFirstUse() {
        QdrantBackend backend = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        backend.bootstrap();
        assertThat(qdrant.collectionNames()).containsExactlyInAnyOrder("mem", "mem-tombstones", "mem-collections");

        backend.apply(List.of(
                upsert("e", 1, "{\"memory_type\":\"Episodic Memory\"}"),
                upsert("s", 1, "{\"memory_type\":\"semantic\"}"),
                upsert("plain", 1, "{\"lang\":\"en\"}")), LeaseFence.of(1));

        assertThat(qdrant.collectionNames()).containsExactlyInAnyOrder("mem", "mem-tombstones", "mem-collections",
                "mem_episodic_memory", "mem_semantic");
        assertThat(qdrant.collection("mem_episodic_memory").indexes).containsKeys("chunk_id", "version");
        assertThat(qdrant.collection("mem_episodic_memory").size).isEqualTo(DIM);
        assertThat(qdrant.point("mem_episodic_memory", PointIds.of("e"))).isNotNull();
        assertThat(qdrant.point("mem_semantic", PointIds.of("s"))).isNotNull();
        assertThat(qdrant.point("mem", PointIds.of("plain"))).isNotNull();

        // The chunk's value changes: it moves, and an older upsert can't bring back the old copy.
        backend.apply(List.of(upsert("e", 2, "{\"memory_type\":\"semantic\"}")), LeaseFence.of(1));
        backend.apply(List.of(upsert("e", 1, "{\"memory_type\":\"Episodic Memory\"}")), LeaseFence.of(1));
        assertThat(qdrant.point("mem_episodic_memory", PointIds.of("e"))).isNull();
        assertThat(qdrant.point("mem_semantic", PointIds.of("e")).payload().get("version").asLong()).isEqualTo(2);

        // A restarted instance finds the collections the values created, for reads and deletes.
        QdrantBackend restarted = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        restarted.bootstrap();
        assertThat(restarted.readBack(List.of("e", "s", "plain"))).containsOnlyKeys("e", "s", "plain");
        restarted.apply(List.of(Change.delete("e", 3), Change.delete("s", 2)), LeaseFence.of(1));
        assertThat(restarted.readBack(List.of("e", "s", "plain"))).containsOnlyKeys("plain");
        restarted.apply(List.of(upsert("s", 1, "{\"memory_type\":\"semantic\"}")), LeaseFence.of(1));
        assertThat(restarted.readBack(List.of("s"))).as("deleted stays deleted").isEmpty();
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void aCollectionOneInstanceCreatedIsFoundByTheNextLeaseHolderForDeletesAndMoves() {
        // Two relay instances of one backend share the Qdrant server; both started before any value existed.
        QdrantBackend first = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        QdrantBackend second = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        first.bootstrap();
        second.bootstrap();

        // The first holder creates two value collections...
        first.apply(List.of(upsert("gone", 1, "{\"memory_type\":\"episodic\"}"),
                upsert("moving", 1, "{\"memory_type\":\"semantic\"}"),
                upsert("hidden", 1, "{\"memory_type\":\"semantic\"}")), LeaseFence.of(1));
        assertThat(qdrant.point("mem_episodic", PointIds.of("gone"))).isNotNull();

        // ...then the lease passes to the second: its delete, move and LOCAL_ONLY downgrade (a delete) reach them.
        second.apply(List.of(Change.delete("gone", 2), upsert("moving", 2, "{\"memory_type\":\"procedural\"}"),
                Change.delete("hidden", 2)), LeaseFence.of(1));
        assertThat(qdrant.point("mem_episodic", PointIds.of("gone"))).as("deleted by the next holder").isNull();
        assertThat(qdrant.point("mem_semantic", PointIds.of("hidden"))).as("downgraded to LOCAL_ONLY").isNull();
        assertThat(qdrant.point("mem_semantic", PointIds.of("moving"))).as("moved away by the next holder").isNull();
        assertThat(qdrant.point("mem_procedural", PointIds.of("moving"))).isNotNull();

        // And back: the first finds the collection the second created.
        first.apply(List.of(Change.delete("moving", 3)), LeaseFence.of(1));
        assertThat(qdrant.point("mem_procedural", PointIds.of("moving"))).isNull();
        assertThat(second.readBack(List.of("gone", "moving", "hidden"))).isEmpty();
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void anotherBackendsCollectionNamedLikeAValueCollectionIsNeverTouched() {
        // Another backend whose collection happens to be <collection>_other, holding the same chunk ids.
        QdrantBackend other = new QdrantBackend("other", BackendConfigs.of("type", "qdrant", "qdrant.url", qdrant.url(),
                "qdrant.collection", "mem_other"), DIM, JSON, Clock.systemUTC());
        other.bootstrap();
        other.apply(List.of(upsert("x", 1, "{}"), upsert("y", 5, "{\"memory_type\":\"other\"}")), LeaseFence.of(1));

        QdrantBackend ours = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        ours.bootstrap();
        ours.apply(List.of(upsert("x", 1, "{}"), upsert("y", 1, "{\"memory_type\":\"episodic\"}")), LeaseFence.of(1));
        ours.apply(List.of(Change.delete("x", 2), upsert("y", 2, "{\"memory_type\":\"semantic\"}")), LeaseFence.of(1));

        assertThat(qdrant.point("mem_other", PointIds.of("x"))).as("another backend's delete target").isNotNull();
        assertThat(qdrant.point("mem_other", PointIds.of("y")).payload().get("version").asLong())
                .as("a newer copy in a collection that isn't ours doesn't block our upsert").isEqualTo(5);
        assertThat(qdrant.point("mem_semantic", PointIds.of("y"))).isNotNull();
        assertThat(ours.readBack(List.of("x", "y")).get("y").version()).isEqualTo(2);
        List<String> listed = new ArrayList<>();
        String token = null;
        do {
            var page = ours.listChunkIds(token, 100);
            listed.addAll(page.ids());
            token = page.next();
        } while (token != null);
        assertThat(listed).as("verify lists only our collections").containsExactly("y");

        // A value whose collection name is taken by another backend is refused, not written into it.
        assertThatThrownBy(() -> ours.apply(List.of(upsert("z", 1, "{\"memory_type\":\"other\"}")), LeaseFence.of(1)))
                .isInstanceOf(PermanentBackendException.class).hasMessageContaining("VSYNC-QDRANT-COLLECTION-TAKEN");
        assertThat(qdrant.point("mem_other", PointIds.of("z"))).isNull();
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void valueCollectionsMadeBeforeTheRegistryAreRegisteredOnceAndAnotherBackendsAreNot() throws Exception {
        // A value collection an older version made (no registry then), and another backend's main collection.
        var http = java.net.http.HttpClient.newHttpClient();
        legacyValueCollection(http);
        QdrantBackend other = new QdrantBackend("other", BackendConfigs.of("type", "qdrant", "qdrant.url", qdrant.url(),
                "qdrant.collection", "mem_other"), DIM, JSON, Clock.systemUTC());
        other.apply(List.of(upsert("old", 1, "{}")), LeaseFence.of(1));

        QdrantBackend ours = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        ours.bootstrap();
        assertThat(ours.readBack(List.of("old"))).containsOnlyKeys("old");
        ours.apply(List.of(Change.delete("old", 2)), LeaseFence.of(1));
        assertThat(qdrant.point("mem_legacy", PointIds.of("old"))).as("registered, so the delete reaches it").isNull();
        assertThat(qdrant.point("mem_other", PointIds.of("old"))).as("another backend's, never registered").isNotNull();

        // Registration happens once: a collection that appears later under the prefix is not taken.
        http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(qdrant.url() + "/collections/mem_later"))
                .header("Content-Type", "application/json")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"vectors\":{\"size\":4,\"distance\":\"Cosine\"}}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type").bootstrap();
        assertThatThrownBy(() -> ours.apply(List.of(upsert("n", 1, "{\"memory_type\":\"later\"}")), LeaseFence.of(1)))
                .hasMessageContaining("VSYNC-QDRANT-COLLECTION-TAKEN");
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void anAdoptionInterruptedByAFailureRunsAgainAndNeverTakesAnotherBackendsValueCollections() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        legacyValueCollection(http);
        // Another backend whose collection is named like one of our value collections, with a value collection.
        QdrantBackend eu = new QdrantBackend("eu", BackendConfigs.of("type", "qdrant", "qdrant.url", qdrant.url(),
                "qdrant.collection", "mem_eu", "qdrant.collection-by", "memory_type"), DIM, JSON, Clock.systemUTC());
        eu.apply(List.of(upsert("old", 1, "{\"memory_type\":\"fr\"}")), LeaseFence.of(1));
        assertThat(qdrant.collectionNames()).contains("mem_eu_fr", "mem_eu-collections");

        QdrantBackend ours = backend("qdrant.collection", "mem", "qdrant.collection-by", "memory_type");
        // The adoption fails half-way: the request after its listing of the collections is refused.
        qdrant.beforeNext("get_collections", () -> qdrant.failNext(1, 503, null));
        assertThatThrownBy(() -> ours.apply(List.of(Change.delete("old", 2)), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class);

        ours.apply(List.of(Change.delete("old", 2)), LeaseFence.of(1));

        assertThat(qdrant.point("mem_legacy", PointIds.of("old"))).as("adopted on the next attempt: the delete reached it")
                .isNull();
        assertThat(qdrant.point("mem_eu_fr", PointIds.of("old"))).as("another backend's value collection, untouched")
                .isNotNull();
        assertThat(qdrant.violations()).isEmpty();
    }

    /** A value collection an older version made (no registry then), holding chunk "old" v1, as Qdrant's client would. */
    private void legacyValueCollection(java.net.http.HttpClient http) throws Exception {
        for (String[] call : new String[][] {
                {"/collections/mem_legacy", "{\"vectors\":{\"size\":4,\"distance\":\"Cosine\"}}"},
                {"/collections/mem_legacy/points?wait=true", "{\"points\":[{\"id\":\"" + PointIds.of("old")
                        + "\",\"vector\":[1,0,0,0],\"payload\":{\"chunk_id\":\"old\",\"version\":1}}]}"}}) {
            var response = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(qdrant.url() + call[0]))
                    .header("Content-Type", "application/json")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(call[1])).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void pointIdsAreVersion5UuidsOfTheChunkIdInTheDocumentedNamespace() {
        UUID urlNamespace = UUID.fromString("6ba7b811-9dad-11d1-80b4-00c04fd430c8"); // RFC 9562, appendix A
        assertThat(PointIds.uuid5(urlNamespace, "urn:vectorsync:qdrant:chunk-id")).isEqualTo(PointIds.NAMESPACE);
        // Expected values computed independently: Python's uuid.uuid5(namespace, name).
        assertThat(PointIds.of("chunk-1")).hasToString("16b2e408-b785-52a3-a67e-f35d212783dc");
        assertThat(PointIds.of("doc-7#3")).hasToString("23c8eb9b-264b-5787-867b-b2d5824217cc");
        assertThat(PointIds.of("Grüße")).hasToString("4314e8a7-7aa0-5b79-accf-a8b1819c36d5");
        assertThat(PointIds.of("chunk-1").version()).isEqualTo(5);
        assertThat(PointIds.of("chunk-1").variant()).isEqualTo(2);

        QdrantBackend backend = backend();
        backend.bootstrap();
        backend.apply(List.of(upsert("chunk-1", 1, "{}")), LeaseFence.of(1));
        assertThat(qdrant.point("memories", UUID.fromString("16b2e408-b785-52a3-a67e-f35d212783dc"))).isNotNull();
    }

    @Test
    void serviceUnavailableIsTransientAndCarriesRetryAfter() {
        QdrantBackend backend = backend();
        backend.bootstrap();
        qdrant.failNext(1, 503, "7");

        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> {
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(e.unreachable()).isFalse();
                });
        qdrant.failNext(1, 429, null);
        assertThatThrownBy(() -> backend.readBack(List.of("a"))).isInstanceOf(TransientBackendException.class);

        backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1));
        assertThat(backend.readBack(List.of("a"))).containsKey("a");
    }

    @Test
    void noAnswerWithinTheReadTimeoutIsTransient() {
        QdrantBackend backend = backend("read-timeout", "300ms");
        backend.bootstrap();
        qdrant.stall();

        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isFalse())
                .hasMessageContaining("no answer within");
        qdrant.release();
    }

    @Test
    void aPointQdrantRefusesIsPermanentForThatChange() {
        QdrantBackend backend = backend();
        backend.bootstrap();
        qdrant.refuse("poison");

        assertThatThrownBy(() -> backend.apply(List.of(Change.delete("gone", 2), upsert("poison", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> assertThat(e.failedIndex()).isEqualTo(1));
        assertThatThrownBy(() -> backend.apply(List.of(upsert("good", 1, "{}"), upsert("poison", 1, "{}")), LeaseFence.of(1)))
                .as("Qdrant doesn't say which point of a request it refused: the relay splits the batch")
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> assertThat(e.failedIndex()).isEqualTo(-1))
                .hasMessageContaining("HTTP 400")
                .hasMessageNotContaining("text of");

        int before = qdrant.requests().size();
        Change wrongDimension = Change.upsert(new ChunkData("short", "d", "secret", new float[] {1f, 2f}, "{}",
                Privacy.FULL), 1);
        assertThatThrownBy(() -> backend.apply(List.of(upsert("good", 1, "{}"), wrongDimension), LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> assertThat(e.failedIndex()).isEqualTo(1))
                .hasMessageNotContaining("secret");
        assertThat(qdrant.requests()).as("refused before anything is sent").hasSize(before);
    }

    @Test
    void aDeleteLandingBetweenTheTombstoneCheckAndTheUpsertStillWins() {
        QdrantBackend backend = backend();
        backend.bootstrap();
        backend.apply(List.of(upsert("raced", 1, "{}")), LeaseFence.of(1));
        // Another instance, holding the lease now, deletes the chunk at version 3 just before this stalled
        // one's upsert of version 2 arrives (after it found no tombstone).
        qdrant.beforeNext("upsert_points", () -> {
            qdrant.putPoint("memories-tombstones", PointIds.of("raced"), new float[] {1f},
                    JSON.createObjectNode().put("chunk_id", "raced").put("version", 3));
            qdrant.removePoint("memories", PointIds.of("raced"));
        });

        backend.apply(List.of(upsert("raced", 2, "{}")), LeaseFence.of(1));

        assertThat(qdrant.point("memories", PointIds.of("raced"))).isNull();
        assertThat(backend.readBack(List.of("raced"))).isEmpty();
        assertThat(qdrant.violations()).isEmpty();
    }

    @Test
    void aLargeBatchIsSentInRequestsOfAtMost256Points() {
        QdrantBackend backend = backend();
        backend.bootstrap();
        List<Change> batch = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            batch.add(upsert("big-" + i, 1, "{}"));
            ids.add("big-" + i);
        }

        backend.apply(batch, LeaseFence.of(1));

        assertThat(qdrant.requests()).filteredOn(r -> "upsert_points".equals(r.operationId())
                        && r.uri().startsWith("/collections/memories/"))
                .extracting(r -> r.body().get("points").size()).containsExactly(256, 44);
        assertThat(backend.readBack(ids)).hasSize(300);
    }

    @Test
    void theApiKeyIsSentInTheApiKeyHeaderAndAWrongOneIsTransient() {
        qdrant.requireApiKey("s3cret-key");
        QdrantBackend wrongKey = backend();
        wrongKey.bootstrap(); // logged: the collections are checked again before the first write
        assertThatThrownBy(() -> wrongKey.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class)
                .hasMessageStartingWith("VSYNC-BACKEND-CREDENTIALS: backend 'memories'")
                .hasMessageContaining("HTTP 401");

        QdrantBackend backend = backend("qdrant.api-key", "s3cret-key");
        backend.bootstrap();
        backend.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1));
        assertThat(backend.readBack(List.of("a"))).containsKey("a");
        assertThat(backend.healthProblem()).isEmpty();
        assertThat(qdrant.requests().get(qdrant.requests().size() - 1).apiKey()).isEqualTo("s3cret-key");
    }

    @Test
    void everyRequestTheBackendSendsIsValidUnderTheOpenApiDocument() {
        for (String mode : List.of("hard", "soft")) {
            QdrantBackend backend = backend("qdrant.collection", "mem-" + mode, "qdrant.delete-mode", mode, "qdrant.collection-by", "kind");
            backend.bootstrap();
            backend.apply(List.of(upsert("a", 1, "{\"kind\":\"x\"}"), upsert("b", 1, "{}"), Change.delete("c", 1)), LeaseFence.of(1));
            backend.apply(List.of(upsert("a", 2, "{\"kind\":\"y\"}"), Change.delete("b", 2)), LeaseFence.of(1));
            backend.readBack(List.of("a", "b", "c"));
            backend.healthProblem();
        }

        assertThat(operationsSent()).containsExactlyInAnyOrder("root", "get_collections", "collection_exists",
                "create_collection", "create_field_index", "upsert_points", "delete_points", "batch_update",
                "get_points", "scroll_points");
        assertThat(qdrant.requests()).hasSizeGreaterThan(20);
        assertThat(qdrant.violations()).as("requests and responses that break Qdrant's OpenAPI document").isEmpty();
    }

    @Test
    void unreachableAndMisconfiguredBackendsSayWhat() {
        QdrantBackend nowhere = new QdrantBackend("memories", BackendConfigs.of("type", "qdrant",
                "qdrant.url", "http://127.0.0.1:1", "connect-timeout", "1s"), DIM, JSON, Clock.systemUTC());
        nowhere.bootstrap(); // logs and carries on
        assertThatThrownBy(() -> nowhere.apply(List.of(upsert("a", 1, "{}")), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isTrue());
        assertThat(nowhere.healthProblem()).hasValueSatisfying(p -> assertThat(p).contains("refused"));

        assertThatThrownBy(() -> backend("fields", "content"))
                .hasMessageContaining("vectorsync.backends.memories.fields must include embedding");
        assertThatThrownBy(() -> backend("qdrant.collection", "a/b"))
                .hasMessageContaining("vectorsync.backends.memories.qdrant.collection");
        assertThatThrownBy(() -> new QdrantBackend("q", BackendConfigs.of("type", "qdrant"), DIM, JSON,
                Clock.systemUTC())).hasMessageContaining("vectorsync.backends.q.qdrant.url is required");
    }
}
