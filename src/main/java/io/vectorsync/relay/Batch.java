package io.vectorsync.relay;

import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import java.util.List;
import java.util.Map;

/**
 * What one poll hands to delivery: the window events (already cut by count and bytes), the parked
 * events that are due, the current chunk rows of lean events, the backend's ledger versions read with
 * the window (0: none; chunks only in parked events are looked up at delivery), the cursor as read (for
 * the compare-and-set) and where it moves once the batch is done. With {@code copyRows} the window's
 * rows carry only version, privacy and tombstone (the backend copies the data inside the primary).
 * With {@code repairs} the batch is a page of the backend's repairs (ADR 019): its events are the keys'
 * current states, written forced and past the ledger, and {@code next} is the cursor's own position.
 */
public record Batch(
        String backend,
        CursorState cursor,
        CursorState.Position next,
        List<OutboxEvent> events,
        List<OutboxEvent> parked,
        Map<String, ChunkRow> rows,
        Map<String, Long> ledger,
        boolean copyRows,
        RepairQueue.Page repairs) {

    public Batch(String backend, CursorState cursor, CursorState.Position next, List<OutboxEvent> events,
            List<OutboxEvent> parked, Map<String, ChunkRow> rows, Map<String, Long> ledger, boolean copyRows) {
        this(backend, cursor, next, events, parked, rows, ledger, copyRows, null);
    }

    /** Nothing to deliver and nothing to move. */
    public static Batch empty(String backend) {
        return new Batch(backend, null, null, List.of(), List.of(), Map.of(), Map.of(), false);
    }

    public boolean isEmpty() {
        return cursor == null;
    }

    /** True for a page of repairs. */
    public boolean isRepair() {
        return repairs != null;
    }

    public int size() {
        return events.size() + parked.size();
    }

    @Override
    public String toString() {
        return "Batch[" + backend + ", events=" + events.size() + ", parked=" + parked.size()
                + (repairs != null ? ", repairs" : "") + "]";
    }
}
