package io.vectorsync.relay;

import java.time.Instant;

/**
 * A backend's row in {@code relay_cursor}: the snapshot cursor (previous snapshot, current snapshot,
 * last {@code (tx_id, id)} read), the compare-and-set version and the pause state.
 */
public record CursorState(
        String backend,
        String prevSnapshot,
        String curSnapshot,
        String lastTxId,
        Long lastId,
        long cursorVersion,
        long systemIdentifier,
        boolean paused,
        Instant pausedUntil,
        boolean backingOff,
        int consecutiveFailures,
        String leaseOwner,
        Instant leaseExpiresAt) {

    /** A position of the cursor after a batch. */
    public record Position(String prevSnapshot, String curSnapshot, String lastTxId, Long lastId) {}

    public Position position() {
        return new Position(prevSnapshot, curSnapshot, lastTxId, lastId);
    }
}
