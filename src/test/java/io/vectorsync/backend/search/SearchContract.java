package io.vectorsync.backend.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.SearchNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend contract plus what is particular to the search backends, for one server flavor: the
 * subclass starts its node once for the class ({@link #startNode}) and stops it by its pid.
 */
abstract class SearchContract extends BackendContract {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    protected static SearchNode node;
    protected static SearchBackend backend;
    protected static SearchBackend unreachable;

    protected static void startNode(SearchNode started, SearchBackend.Flavor flavor) {
        node = started;
        backend = new SearchBackend("search", flavor, BackendConfigs.of("type", flavor.type, "search.url", node.url(),
                "search.index", "contract-chunks"), DIMENSION, JSON, Clock.systemUTC());
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new SearchBackend("search", flavor, BackendConfigs.of("type", flavor.type,
                "search.url", "http://127.0.0.1:1", "connect-timeout", "1s"), DIMENSION, JSON, Clock.systemUTC());
    }

    protected static void stopNode() {
        if (node != null) {
            node.close();
        }
    }

    @Override
    protected Backend backend() {
        return backend;
    }

    @Override
    protected Backend unreachableBackend() {
        return unreachable;
    }

    /** The index's mapping as the server reports it. */
    protected static JsonNode mapping() throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.url() + "/contract-chunks/_mapping"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body()).path("contract-chunks").path("mappings").path("properties");
    }

    @Test
    void aDocumentTheMappingRefusesIsNamedAndTheRestOfTheBatchIsAppliedAfterTheSplit() {
        ChunkData wrongDimension = new ChunkData(id("bad"), "doc-bad", "bad", new float[] {1f, 2f}, "{}",
                Privacy.FULL);
        List<Change> batch = new ArrayList<>(List.of(
                upsert("ok1", 1, "first"),
                Change.upsert(wrongDimension, 1),
                upsert("ok2", 1, "second")));

        PermanentBackendException refused = catchThrowableOfType(() -> backend.apply(batch, LeaseFence.of(1)),
                PermanentBackendException.class);

        assertThat(refused).isNotNull();
        assertThat(refused.failedIndex()).isEqualTo(1);
        assertThat(refused.getMessage()).contains(id("bad"), "HTTP 400")
                .doesNotContain("Preview", "dimension", "1.0");
        // The relay parks the named change and re-sends the rest; the server already holds them: 409s.
        batch.remove(refused.failedIndex());
        backend.apply(batch, LeaseFence.of(1));
        assertThat(backend.readBackVersions(List.of(id("ok1"), id("bad"), id("ok2"))))
                .containsOnlyKeys(id("ok1"), id("ok2"));
    }

    @Test
    void aVersionConflictIsAlreadyAppliedNotAnError() {
        backend.apply(List.of(upsert("v", 5, "five")), LeaseFence.of(1));
        backend.apply(List.of(upsert("w", 1, "one"), upsert("v", 4, "four")), LeaseFence.of(1));
        backend.apply(List.of(delete("v", 3)), LeaseFence.of(1));
        assertThat(backend.readBack(List.of(id("v"))).get(id("v")).data().content()).isEqualTo("five");
        assertThat(backend.readBackVersions(List.of(id("v"), id("w"))))
                .containsEntry(id("v"), 5L).containsEntry(id("w"), 1L);
    }

    @Test
    void aDeleteLeavesATombstoneWithoutPayloadThatHoldsItsVersion() throws Exception {
        backend.apply(List.of(upsert("t", 1, "to go")), LeaseFence.of(1));
        backend.apply(List.of(delete("t", 7)), LeaseFence.of(1));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                URI.create(node.url() + "/contract-chunks/_doc/" + id("t"))).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode doc = JSON.readTree(r.body());
        assertThat(doc.path("_version").asLong()).isEqualTo(7);
        assertThat(doc.path("_source").path("deleted").asBoolean()).isTrue();
        assertThat(doc.path("_source").has("embedding")).isFalse();
        assertThat(doc.path("_source").has("content")).isFalse();
        assertThat(backend.readBackVersions(List.of(id("t")))).isEmpty();
    }

    @Test
    void bootstrappingAnExistingIndexKeepsItAndItsDocuments() {
        backend.apply(List.of(upsert("keep", 1, "kept")), LeaseFence.of(1));
        SearchBackend again = new SearchBackend("search", backend.flavor(), BackendConfigs.of("type",
                backend.flavor().type, "search.url", node.url(), "search.index", "contract-chunks"), DIMENSION, JSON,
                Clock.systemUTC());
        again.bootstrap();
        assertThat(again.readBackVersions(List.of(id("keep")))).containsEntry(id("keep"), 1L);
        assertThat(again.healthProblem()).isEmpty();
        assertThat(unreachable.healthProblem()).isPresent();
    }
}
