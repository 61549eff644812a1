package io.vectorsync.capture;

/**
 * A live chunk as a {@link ChunkStore} holds it: the metadata as the JSON text stored (numbers exactly as
 * sent), the privacy level's name, and the time of the last write as the store prints it. A store that
 * knows the chunk's sync status itself (a device: PENDING, SYNCED, CONFLICT, FAILED, LOCAL) gives it in
 * {@code syncStatus}; the server's store leaves it null and the status comes from {@link DeliveryStatus}.
 */
public record StoredChunk(String chunkId, long version, String documentId, String content, float[] embedding,
        String metadataJson, String privacy, String updatedAt, String syncStatus) {

    /** A chunk whose sync status is per backend ({@link DeliveryStatus}), as on the server. */
    public StoredChunk(String chunkId, long version, String documentId, String content, float[] embedding,
            String metadataJson, String privacy, String updatedAt) {
        this(chunkId, version, documentId, content, embedding, metadataJson, privacy, updatedAt, null);
    }

    @Override
    public String toString() {
        return "StoredChunk[" + chunkId + " v" + version + "]"; // never the content or the embedding
    }
}
