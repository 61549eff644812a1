package io.vectorsync.domain;

import java.time.Instant;

/**
 * One outbox event as the relay reads it, from the window or from {@code parked}.
 *
 * @param outboxId the outbox row id ({@code null} for a replayed dead letter)
 * @param txId the writing transaction's id as text ({@code null} when not read from the window)
 * @param payloadJson the full payload, or {@code null} for a lean event (the relay reads the chunk row)
 * @param attempts delivery attempts already spent (parked events only)
 */
public record OutboxEvent(
        Long outboxId,
        String txId,
        String eventId,
        String type,
        String chunkId,
        long version,
        String payloadJson,
        Instant createdAt,
        int attempts,
        boolean fromParked) {

    @Override
    public String toString() {
        return "OutboxEvent[" + eventId + " " + type + " " + chunkId + ":" + version + (fromParked ? " parked" : "") + "]";
    }
}
