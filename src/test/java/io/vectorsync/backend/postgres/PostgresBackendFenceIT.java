package io.vectorsync.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.TestDatabases;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL backend in its own database fences writes by lease epoch: once a holder of a newer
 * epoch has written, a write of an older one is refused whole, so a former holder that stalled past its
 * lease can't resurrect a chunk the new holder deleted (a delete leaves no version behind to guard).
 */
class PostgresBackendFenceIT {

    private static final int DIMENSION = 4;

    private PostgresBackend backend;

    @BeforeEach
    void createBackend() {
        String db = TestDatabases.create("fence");
        var config = BackendConfigs.of("postgres.jdbc-url", TestDatabases.url(db), "postgres.username", TestDatabases.USER);
        backend = new PostgresBackend("replica", config, null, DIMENSION);
        backend.bootstrap();
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    @Test
    void aWriteOfAnOlderLeaseEpochIsRefusedOnceANewerEpochHasWritten() {
        backend.apply(List.of(upsert("x", 1), upsert("y", 1)), LeaseFence.of(1));
        backend.apply(List.of(Change.delete("x", 2)), LeaseFence.of(2));

        assertThatThrownBy(() -> backend.apply(List.of(upsert("x", 1), upsert("z", 1)), LeaseFence.of(1)))
                .isInstanceOf(BackendFencedException.class)
                .hasMessageContaining("VSYNC-RELAY-FENCED")
                .hasMessageContaining("epoch 2");
        assertThat(versions()).as("nothing of the stale write landed").containsOnly(Map.entry("y", 1L));

        backend.apply(List.of(upsert("x", 3)), LeaseFence.of(2));
        backend.apply(List.of(upsert("y", 2)), LeaseFence.of(3));
        assertThat(versions()).containsOnly(Map.entry("x", 3L), Map.entry("y", 2L));
        assertThatThrownBy(() -> backend.apply(List.of(Change.delete("y", 3)), LeaseFence.of(2)))
                .isInstanceOf(BackendFencedException.class);
        assertThat(versions()).containsOnly(Map.entry("x", 3L), Map.entry("y", 2L));
    }

    @Test
    void aDeleteLeavesATombstoneSoAnOlderUpsertArrivingLaterCannotResurrectTheChunk() {
        backend.apply(List.of(upsert("x", 1)), LeaseFence.of(1));
        backend.apply(List.of(Change.delete("x", 3)), LeaseFence.of(1));
        backend.apply(List.of(upsert("x", 2), upsert("y", 1)), LeaseFence.of(1));
        assertThat(versions()).as("the older upsert is refused, the other lands").containsOnly(Map.entry("y", 1L));
        backend.apply(List.of(upsert("x", 3)), LeaseFence.of(1));
        assertThat(versions()).as("the delete's own version can't come back either").doesNotContainKey("x");
        backend.apply(List.of(upsert("x", 4)), LeaseFence.of(1));
        assertThat(versions()).containsEntry("x", 4L);
    }

    private Map<String, Long> versions() {
        return backend.readBackVersions(List.of("x", "y", "z"));
    }

    private static Change upsert(String id, long version) {
        float[] e = new float[DIMENSION];
        Arrays.fill(e, 0.25f);
        return Change.upsert(new ChunkData(id, "doc", "content", e, "{}", Privacy.FULL), version);
    }
}
