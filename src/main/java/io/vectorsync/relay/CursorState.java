package io.vectorsync.relay;

import java.time.Instant;

/**
 * A backend's row in {@code relay_cursor}: the snapshot cursor (previous snapshot, current snapshot,
 * last {@code (tx_id, id)} read), the compare-and-set version and the pause state. While backfilling,
 * {@code backfillRewrite} says the pages bypass the ledger (an operator's re-backfill, ADR 010).
 * {@code haltedReason} is set (a {@code VSYNC-RELAY-IDENTITY} message) while the backend is halted because
 * the cursor does not fit the database (ADR 015). {@code partition} and {@code generation} say which events
 * of the outbox the cursor reads (ADR 032): today every cursor is partition 0 of generation 1.
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
        boolean backfillRewrite,
        String haltedReason,
        long leaseEpoch,
        int partition,
        int generation) {

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

    /** True while the backend is halted (ADR 015): nothing is read or delivered until a re-baseline. */
    public boolean halted() {
        return haltedReason != null;
    }

    /**
     * The highest transaction-id bound the cursor has seen: the xmax of its newest snapshot, or the last
     * transaction id read plus one, whichever is higher. A database whose next transaction id is lower
     * has gone backwards (a restore into another cluster).
     */
    public long highestXidBound() {
        long bound = xmax(curSnapshot != null ? curSnapshot : prevSnapshot);
        if (lastTxId != null) {
            bound = Math.max(bound, Long.parseLong(lastTxId) + 1);
        }
        return bound;
    }

    /** The xmax of a snapshot in its text form {@code xmin:xmax:xip,...}. */
    static long xmax(String snapshot) {
        if (snapshot == null) {
            return 0;
        }
        int first = snapshot.indexOf(':');
        int second = snapshot.indexOf(':', first + 1);
        return Long.parseLong(snapshot.substring(first + 1, second));
    }

    public Position position() {
        return new Position(prevSnapshot, curSnapshot, lastTxId, lastId, backfilling, backfillAfter, 0);
    }
}
