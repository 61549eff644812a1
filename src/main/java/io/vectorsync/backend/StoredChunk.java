package io.vectorsync.backend;

import io.vectorsync.domain.ChunkData;
/**
 * A chunk as a backend holds it, read back for verification: the version it keeps and the fields it
 * stores (fields the backend does not keep, or was not sent, are {@code null}).
 */
public record StoredChunk(long version, ChunkData data) {

    @Override
    public String toString() {
        return "StoredChunk[v" + version + ", " + data + "]";
    }
}
