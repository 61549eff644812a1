package io.vectorsync.capture;

import io.vectorsync.domain.Privacy;

/**
 * A validated chunk write: the embedding is finite and of the configured dimension, metadata is a JSON
 * object, and {@code expectedVersion} (from If-Match or the body's {@code version}) is null when the
 * caller did not ask for optimistic concurrency.
 */
public record ChunkInput(
        String chunkId,
        String documentId,
        String content,
        float[] embedding,
        String metadataJson,
        Privacy privacy,
        Long expectedVersion,
        boolean expectedFromIfMatch) {

    @Override
    public String toString() {
        return "ChunkInput[" + chunkId + "]";
    }
}
