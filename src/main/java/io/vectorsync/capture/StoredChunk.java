package io.vectorsync.capture;

/**
 * A live chunk as a {@link ChunkStore} holds it: the metadata as the JSON text stored (numbers exactly as
 * sent), the privacy level's name, and the time of the last write as the store prints it.
 */
public record StoredChunk(String chunkId, long version, String documentId, String content, float[] embedding,
        String metadataJson, String privacy, String updatedAt) {

    @Override
    public String toString() {
        return "StoredChunk[" + chunkId + " v" + version + "]"; // never the content or the embedding
    }
}
