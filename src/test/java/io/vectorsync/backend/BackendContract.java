package io.vectorsync.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.relay.ChangePlanner;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every backend promises the relay, as final tests. A backend's suite is a short subclass that
 * says how to create the backend against its (real or contract-checked) server, one that can't be
 * reached, and, for backends that can't be queried, how to read what the server holds.
 *
 * <p>Chunk ids are unique per test, so subclasses may share one server across the tests.
 */
public abstract class BackendContract {

    /** Embedding dimension the contract writes; subclasses bootstrap their store with it. */
    protected static final int DIMENSION = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    private String prefix;

    /** The backend under test, bootstrapped, against a server that is up. */
    protected abstract Backend backend();

    /** The same kind of backend configured against a server that isn't there (nothing listens). */
    protected abstract Backend unreachableBackend();

    /**
     * What the server holds for these ids: by default the backend's own read-back; a backend that can't be
     * read back ({@link ReadBack}) overrides this to ask its server.
     */
    protected Map<String, StoredChunk> stored(Collection<String> ids) {
        if (!(backend() instanceof ReadBack readBack)) {
            throw new IllegalStateException(backend().name() + " can't be read back: override stored()");
        }
        return readBack.readBack(ids);
    }

    @BeforeEach
    final void uniquePrefix() {
        prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "-";
    }

    protected final String id(String name) {
        return prefix + name;
    }

    protected static float[] vector(float seed) {
        float[] v = new float[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) {
            v[i] = seed + i / 8f;
        }
        return v;
    }

    protected final Change upsert(String name, long version, String content, Privacy privacy) {
        ChunkData d = new ChunkData(id(name), "doc-" + name, content, vector(version),
                "{\"lang\":\"en\",\"owner\":\"team-" + name + "\",\"n\":" + version + "}", privacy);
        return ChangePlanner.withPrivacy(d, version);
    }

    protected final Change upsert(String name, long version, String content) {
        return upsert(name, version, content, Privacy.FULL);
    }

    protected final Change delete(String name, long version) {
        return Change.delete(id(name), version);
    }

    private StoredChunk one(String name) {
        return stored(List.of(id(name))).get(id(name));
    }

    @Test
    final void anUpsertAppliedTwiceLeavesOneCopy() {
        backend().apply(List.of(upsert("a", 1, "first")), LeaseFence.of(1));
        backend().apply(List.of(upsert("a", 1, "first")), LeaseFence.of(1));
        StoredChunk s = one("a");
        assertThat(s).isNotNull();
        assertThat(s.version()).isEqualTo(1);
        assertThat(s.data().content()).isEqualTo("first");
        if (s.data().embedding() != null) {
            assertThat(s.data().embedding()).containsExactly(vector(1));
        }
    }

    @Test
    final void anOlderVersionIsIgnored() {
        backend().apply(List.of(upsert("a", 2, "newer")), LeaseFence.of(1));
        backend().apply(List.of(upsert("a", 1, "older")), LeaseFence.of(1));
        StoredChunk s = one("a");
        assertThat(s.version()).isEqualTo(2);
        assertThat(s.data().content()).isEqualTo("newer");
    }

    @Test
    final void aDeleteThenAnOlderUpsertStaysDeleted() {
        backend().apply(List.of(upsert("a", 1, "born")), LeaseFence.of(1));
        backend().apply(List.of(delete("a", 3)), LeaseFence.of(1));
        backend().apply(List.of(upsert("a", 2, "late and stale")), LeaseFence.of(1));
        assertThat(stored(List.of(id("a")))).doesNotContainKey(id("a"));
        // A newer version re-creates it: the chunk's version sequence continues after its tombstone.
        backend().apply(List.of(upsert("a", 4, "reborn")), LeaseFence.of(1));
        assertThat(one("a").version()).isEqualTo(4);
    }

    @Test
    final void deletingAMissingChunkIsANoOp() {
        backend().apply(List.of(delete("never", 1)), LeaseFence.of(1));
        backend().apply(List.of(delete("never", 1)), LeaseFence.of(1));
        assertThat(stored(List.of(id("never")))).isEmpty();
    }

    @Test
    final void aMixedBatchIsAppliedInOrder() {
        backend().apply(List.of(upsert("c", 1, "to be deleted"), upsert("e", 1, "to be replaced")), LeaseFence.of(1));
        backend().apply(List.of(
                upsert("a", 1, "a1"),
                upsert("b", 3, "b3"),
                delete("c", 2),
                upsert("d", 5, "d5"),
                upsert("e", 2, "e2")), LeaseFence.of(1));
        Map<String, StoredChunk> s = stored(List.of(id("a"), id("b"), id("c"), id("d"), id("e")));
        assertThat(s).containsOnlyKeys(id("a"), id("b"), id("d"), id("e"));
        assertThat(s.get(id("b")).version()).isEqualTo(3);
        assertThat(s.get(id("d")).data().content()).isEqualTo("d5");
        assertThat(s.get(id("e")).data().content()).isEqualTo("e2");
    }

    @Test
    final void aBackendThatCannotBeReachedReportsARetryableError() {
        assertThatThrownBy(() -> unreachableBackend().apply(List.of(upsert("a", 1, "x")), LeaseFence.of(1)))
                .isInstanceOf(TransientBackendException.class);
    }

    @Test
    final void restrictedFieldsNeverArrive() {
        FieldAllowlist onlyVectorsAndLanguage = FieldAllowlist.of(List.of("embedding", "metadata.lang"), "fields");
        backend().apply(List.of(
                onlyVectorsAndLanguage.restrict(upsert("r", 1, "secret text")),
                upsert("red", 1, "redacted text", Privacy.REDACTED),
                upsert("local", 1, "local text", Privacy.LOCAL_ONLY)), LeaseFence.of(1));
        Map<String, StoredChunk> s = stored(List.of(id("r"), id("red"), id("local")));
        assertThat(s).containsOnlyKeys(id("r"), id("red"));
        ChunkData r = s.get(id("r")).data();
        assertThat(r.content()).isNull();
        assertThat(r.documentId()).isNull();
        assertThat(metadata(r)).doesNotContainKeys("owner", "n").containsEntry("lang", "en");
        assertThat(s.get(id("red")).data().content()).isNull();
    }

    @Test
    final void aPrivacyDowngradeReplacesOrDeletesNeverMerges() {
        backend().apply(List.of(upsert("p", 1, "public text"), upsert("q", 1, "public text")), LeaseFence.of(1));
        backend().apply(List.of(upsert("p", 2, "public text", Privacy.REDACTED)), LeaseFence.of(1));
        backend().apply(List.of(upsert("q", 2, "public text", Privacy.LOCAL_ONLY)), LeaseFence.of(1));
        Map<String, StoredChunk> s = stored(List.of(id("p"), id("q")));
        assertThat(s).containsOnlyKeys(id("p"));
        assertThat(s.get(id("p")).version()).isEqualTo(2);
        assertThat(s.get(id("p")).data().content()).as("content of a REDACTED chunk").isNull();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> metadata(ChunkData d) {
        if (d.metadataJson() == null) {
            return Map.of();
        }
        try {
            JsonNode n = JSON.readTree(d.metadataJson());
            return JSON.convertValue(n, Map.class);
        } catch (Exception e) {
            throw new AssertionError("stored metadata is not JSON", e);
        }
    }
}
