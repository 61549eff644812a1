package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.FieldAllowlist;
import io.vectorsync.config.VerifyProperties;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What verify expects a backend to hold, and how it compares it with what the backend holds. */
class VerifyCompareTest {

    private static final Set<String> ALL = Set.of("documentId", "content", "embedding", "metadata", "privacy");
    private final VerifyService verify = new VerifyService(null, null, null, null, null, new ObjectMapper(),
            new VerifyProperties(500, true));

    private static Map<String, Object> row(String privacy) {
        Map<String, Object> r = new HashMap<>();
        r.put("chunk_id", "c");
        r.put("version", 3L);
        r.put("document_id", "d");
        r.put("content", "text");
        r.put("embedding", new float[] {0.1f, -0.2f});
        r.put("metadata", "{\"lang\":\"en\",\"owner\":\"x\"}");
        r.put("privacy", privacy);
        return r;
    }

    @Test
    void expectedAppliesPrivacyThenTheAllowlist() {
        ChunkData full = VerifyService.expected(row("FULL"), FieldAllowlist.ALL);
        assertThat(full.content()).isEqualTo("text");
        ChunkData redacted = VerifyService.expected(row("REDACTED"), FieldAllowlist.ALL);
        assertThat(redacted.content()).isNull();
        assertThat(redacted.embedding()).containsExactly(0.1f, -0.2f);
        ChunkData narrowed = VerifyService.expected(row("FULL"), FieldAllowlist.of(List.of("content", "metadata.lang"), "p"));
        assertThat(narrowed.documentId()).isNull();
        assertThat(narrowed.embedding()).isNull();
        assertThat(narrowed.metadataJson()).isEqualTo("{\"lang\":\"en\"}");
    }

    @Test
    void metadataComparesAsJsonAndVectorsAsFloat32() {
        ChunkData sent = new ChunkData("c", "d", "t", new float[] {0.1f, 1f}, "{\"a\":1,\"b\":[1,2]}", Privacy.FULL);
        assertThat(verify.same(sent, new ChunkData("c", "d", "t", new float[] {0.1f, 1f}, "{\"b\":[1,2],\"a\":1.0}",
                Privacy.FULL), ALL, 0)).as("key order and number spelling").isTrue();
        assertThat(verify.same(sent, new ChunkData("c", "d", "t", new float[] {0.1f, 1f}, "{\"a\":2,\"b\":[1,2]}",
                Privacy.FULL), ALL, 0)).isFalse();
        float off = Math.nextUp(0.1f);
        assertThat(verify.same(sent, new ChunkData("c", "d", "t", new float[] {off, 1f}, "{\"a\":1,\"b\":[1,2]}",
                Privacy.FULL), ALL, 0)).as("one ulp off, exact backend").isFalse();
        assertThat(VerifyService.sameVector(new float[] {0.1f, 1f}, new float[] {off, 1f}, 4)).isTrue();
        assertThat(VerifyService.sameVector(new float[] {0.1f, 1f}, new float[] {0.1001f, 1f}, 4)).isFalse();
        assertThat(verify.same(new ChunkData("c", null, null, null, null, Privacy.FULL),
                new ChunkData("c", null, null, null, "{}", Privacy.FULL), ALL, 0)).as("absent metadata is {}").isTrue();
    }

    @Test
    void onlyTheFieldsABackendReadsBackAreCompared() {
        ChunkData sent = new ChunkData("c", "d", "t", new float[] {0.1f}, "{}", Privacy.FULL);
        ChunkData noVector = new ChunkData("c", "d", "t", null, "{}", Privacy.FULL);
        assertThat(verify.same(sent, noVector, ALL, 0)).isFalse();
        assertThat(verify.same(sent, noVector, Set.of("documentId", "content", "metadata", "privacy"), 0)).isTrue();
        assertThat(verify.same(sent, new ChunkData("c", "d", "leaked", new float[] {0.1f}, "{}", Privacy.REDACTED),
                ALL, 0)).isFalse();
    }
}
