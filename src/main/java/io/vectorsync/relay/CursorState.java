package io.vectorsync.relay;

import java.time.Instant;

/**
 * A backend's row in {@code relay_cursor}: the snapshot cursor (previous snapshot, current snapshot,
 * last {@code (tx_id, id)} read), the compare-and-set version and the pause state. While backfilling,
 * {@code backfillRewrite} says the pages bypass the ledger (an operator's re-backfill, ADR 010).
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
        Instant leaseExpiresAt,
        boolean backfilling,
        String backfillAfter,
        long backfillDone,
        Long backfillTotal,
        boolean backfillRewrite) {

    /**
     * A position of the cursor after a batch: the snapshot cursor, and while the backend is being
     * backfilled, the last chunk id copied and how many chunks the batch copied.
     */
    public record Position(String prevSnapshot, String curSnapshot, String lastTxId, Long lastId,
            boolean backfilling, String backfillAfter, int backfilled) {

        /** A position in the outbox (no backfill in progress). */
        public Position(String prevSnapshot, String curSnapshot, String lastTxId, Long lastId) {
            this(prevSnapshot, curSnapshot, lastTxId, lastId, false, null, 0);
        }
    }

    public Position position() {
        return new Position(prevSnapshot, curSnapshot, lastTxId, lastId, backfilling, backfillAfter, 0);
    }
}
