package io.vectorsync.domain;

import java.util.Arrays;

/**
 * The fields of a chunk that a backend may receive. {@link #toString()} never prints content or the
 * embedding, so a chunk can't leak into logs by accident.
 */
public record ChunkData(
        String chunkId, String documentId, String content, float[] embedding, String metadataJson, Privacy privacy) {

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkData c
                && chunkId.equals(c.chunkId)
                && java.util.Objects.equals(documentId, c.documentId)
                && java.util.Objects.equals(content, c.content)
                && Arrays.equals(embedding, c.embedding)
                && java.util.Objects.equals(metadataJson, c.metadataJson)
                && privacy == c.privacy;
    }

    @Override
    public int hashCode() {
        return chunkId.hashCode();
    }

    @Override
    public String toString() {
        return "ChunkData[" + chunkId + ", dim=" + (embedding == null ? 0 : embedding.length) + ", " + privacy + "]";
    }

    /** An estimate of the bytes this chunk occupies on the wire, used for batching by bytes. */
    public long approximateBytes() {
        long n = 64 + chunkId.length();
        n += content == null ? 0 : content.length();
        n += embedding == null ? 0 : embedding.length * 4L;
        n += metadataJson == null ? 0 : metadataJson.length();
        return n;
    }
}
