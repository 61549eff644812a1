package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.backend.LeaseFence;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The backend contract for Qdrant with {@code delete-mode: soft}: a deleted chunk's point stays, marked
 * {@code deleted: true} with the delete's version, and is never read back.
 */
class QdrantSoftDeleteContractIT extends QdrantContractBase {

    @Override
    String deleteMode() {
        return "soft";
    }

    @Test
    void aSoftDeleteKeepsThePointMarkedWithTheDeletesVersion() {
        backend.apply(List.of(upsert("s", 1, "kept")), LeaseFence.of(1));
        backend.apply(List.of(delete("s", 2)), LeaseFence.of(1));

        FakeQdrant.Point p = qdrant.point("vectors", PointIds.of(id("s")));
        assertThat(p).isNotNull();
        assertThat(p.payload().get("deleted").asBoolean()).isTrue();
        assertThat(p.payload().get("version").asLong()).isEqualTo(2);
        assertThat(p.payload().get("content").asText()).isEqualTo("kept");
        assertThat(backend.readBack(List.of(id("s")))).isEmpty();

        backend.apply(List.of(delete("s", 1)), LeaseFence.of(1));
        assertThat(qdrant.point("vectors", PointIds.of(id("s"))).payload().get("version").asLong())
                .as("an older delete leaves the newer one's version").isEqualTo(2);
    }
}
