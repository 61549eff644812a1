package io.vectorsync.relay;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendException;
import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ChangesDeferredException;
import io.vectorsync.backend.FenceCheckedApart;
import io.vectorsync.backend.FieldAllowlist;
import io.vectorsync.backend.InPrimaryDatabase;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.LinkStore;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.deadletter.FailureStore;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.ledger.DeliveryLedger;
import io.vectorsync.relay.ChangePlanner.Group;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Delivers one batch: collapse to the newest version per chunk, skip what the ledger says the backend
 * already has, one version-guarded write, then one short transaction that records the ledger, the
 * parked and dead-letter rows and moves the cursor by compare-and-set. When the backend shares the
 * primary's transaction, the write commits in that same transaction. No transaction is open while a
 * remote backend is called. A change the backend refuses is isolated by splitting the batch; a change
 * that keeps failing transiently while the others go through is isolated the same way once the backend
 * has failed {@code isolate-after-failures} times in a row.
 */
@Component("relayDeliverer")
@ServerOnly
public class RelayDeliverer {

    private static final Logger log = LoggerFactory.getLogger(RelayDeliverer.class);
    private static final int MAX_CALLS_WHEN_ISOLATING = 64;
    /** The outbox partition this relay delivers; 0 until partitions come (ADR 017). */
    private static final int PARTITION = 0;

    private final BackendRegistry backends;
    private final ChangePlanner planner;
    private final DeliveryLedger ledger;
    private final FailureStore failures;
    private final CursorRepository cursors;
    private final TransactionTemplate tx;
    private final RelayInstance instance;
    private final VectorsyncProperties properties;
    private final Failpoints failpoints;
    private final List<RelayListener> listeners;
    private final SuspectWrites suspects;
    private final LeaseHeartbeat heartbeat;
    private final RepairQueue repairs;

    public RelayDeliverer(BackendRegistry backends, ChangePlanner planner, DeliveryLedger ledger,
            FailureStore failures, CursorRepository cursors, TransactionTemplate tx, RelayInstance instance,
            VectorsyncProperties properties, Failpoints failpoints, List<RelayListener> listeners,
            SuspectWrites suspects, LeaseHeartbeat heartbeat, RepairQueue repairs) {
        this.repairs = repairs;
        this.heartbeat = heartbeat;
        this.backends = backends;
        this.planner = planner;
        this.ledger = ledger;
        this.failures = failures;
        this.cursors = cursors;
        this.tx = tx;
        this.instance = instance;
        this.properties = properties;
        this.failpoints = failpoints;
        this.listeners = listeners;
        this.suspects = suspects;
    }

    /** The result of writing a batch's changes. */
    static final class Outcome {
        final List<Change> applied = new ArrayList<>();
        final Map<String, BackendException> failed = new LinkedHashMap<>();
        final List<Change> transientlyFailed = new ArrayList<>();
        TransientBackendException firstTransient;
        int calls;
        /** The batch's lease heartbeat (null in unit tests): no call once the lease is lost or time is up. */
        LeaseHeartbeat.Beat beat;
        String backend;
    }

    /**
     * The most calls one batch of {@code changes} writes may make: a split tree over n changes has at most
     * 2n - 1 nodes, and isolation stops at {@value #MAX_CALLS_WHEN_ISOLATING}; one more when the first try
     * runs in the primary's transaction.
     */
    static int maxCalls(int changes, boolean sharesPrimaryTransaction) {
        return Math.min(MAX_CALLS_WHEN_ISOLATING, Math.max(1, 2 * changes - 1)) + (sharesPrimaryTransaction ? 1 : 0);
    }

    public void deliver(Batch batch) {
        long started = System.nanoTime();
        Backend backend = backends.get(batch.backend());
        Map<String, Group> groups = planner.plan(batch, backend instanceof LinkStore);
        FieldAllowlist allowlist = backends.allowlist(backend.name());
        // A repair's changes (its page, or one parked from it) are forced and written whatever the ledger
        // says (ADR 019): the backend may hold that version corrupt.
        java.util.Set<String> forced = new java.util.HashSet<>();
        for (Group g : groups.values()) {
            if (g.change != null) {
                g.change = allowlist.restrict(g.change);
                if (batch.isRepair() || g.events.stream().anyMatch(RepairQueue::isRepair)) {
                    g.change = g.change.forced();
                    forced.add(g.key);
                }
            }
        }
        // Ledger versions came with the window; only chunks seen solely in parked events are looked up.
        Map<String, Long> applied = new HashMap<>(batch.ledger());
        List<String> unknown = groups.keySet().stream().filter(k -> !applied.containsKey(k)).toList();
        applied.putAll(ledger.versions(backend.name(), unknown));

        // Keys a former holder may have overwritten after this holder's write (ADR 017): written again.
        SuspectWrites.Suspects suspect = backend instanceof FenceCheckedApart
                ? suspects.among(backend.name(), PARTITION, groups.keySet()) : SuspectWrites.Suspects.NONE;
        List<Change> toWrite = new ArrayList<>();
        Map<String, Long> skipped = new HashMap<>();
        Map<String, String> poisoned = new LinkedHashMap<>();
        for (Group g : groups.values()) {
            if (g.change == null) {
                poisoned.put(g.key, g.poison);
                continue;
            }
            Long have = applied.get(g.key);
            if (have != null && have > 0 && have >= g.change.version() && !suspect.contains(g.key)
                    && !forced.contains(g.key)) {
                skipped.put(g.key, have);
            } else {
                toWrite.add(g.change);
            }
        }

        boolean isolate = batch.cursor().consecutiveFailures() >= properties.retryOf(batch.backend()).isolateAfterFailures();
        Outcome outcome;
        // The lease is renewed while the batch is delivered, up to its deadline (ADR 014).
        int events = toWrite.stream().mapToInt(c -> 1 + c.earlier().size()).sum(); // a timeline split goes by event
        try (LeaseHeartbeat.Beat beat = heartbeat.start(batch, maxCalls(events, backend instanceof InPrimaryDatabase))) {
            outcome = deliver(batch, backend, groups, toWrite, skipped, poisoned, isolate, beat, suspect);
        }
        failpoints.hit("after-commit");
        long nanos = System.nanoTime() - started;
        for (RelayListener l : listeners) {
            l.batchDelivered(batch.backend(), batch.size(), outcome.applied.size(), skipped.size(),
                    outcome.failed.size() + poisoned.size(), nanos);
        }
    }

    private Outcome deliver(Batch batch, Backend backend, Map<String, Group> groups, List<Change> toWrite,
            Map<String, Long> skipped, Map<String, String> poisoned, boolean isolate, LeaseHeartbeat.Beat beat,
            SuspectWrites.Suspects suspect) {
        Outcome outcome = null;
        if (backend instanceof InPrimaryDatabase primary) {
            try {
                outcome = tx.execute(s -> {
                    failpoints.hit("before-backend-write");
                    primary.applyInPrimaryTransaction(toWrite);
                    failpoints.hit("after-backend-write");
                    Outcome o = new Outcome();
                    o.applied.addAll(toWrite);
                    record(batch, groups, o, skipped, poisoned);
                    clearRepairs(batch);
                    // Ledger and cursor in one statement; a failed compare-and-set rolls back the write too.
                    cursors.advance(batch.cursor(), batch.next(), instance.id(), o.applied);
                    return o;
                });
            } catch (PermanentBackendException e) {
                log.warn("Backend '{}' refused a batch of {} changes ({}); isolating the failing ones",
                        backend.name(), toWrite.size(), e.getMessage());
                outcome = null;
            }
        }
        if (outcome == null) {
            Consumer<List<Change>> applier;
            LeaseFence fence = null;
            if (backend instanceof InPrimaryDatabase primary) {
                applier = list -> tx.executeWithoutResult(s -> primary.applyInPrimaryTransaction(list));
            } else {
                // The write commits before the cursor moves: fence it with the lease's epoch, so that if
                // this instance stalls past its lease, the backend refuses it once the new holder wrote.
                fence = LeaseFence.of(cursors.leaseEpoch(batch.backend(), instance.id())
                        .orElseThrow(() -> new LeaseLostException(batch.backend())));
                LeaseFence f = fence;
                applier = list -> backend.apply(list, f);
            }
            Outcome o;
            try {
                failpoints.hit("before-backend-write");
                try {
                    o = write(toWrite, isolate, applier, beat, batch.backend());
                } catch (BackendFencedException e) {
                    log.info("{}", e.getMessage());
                    throw new LeaseLostException(batch.backend());
                } catch (TransientBackendException e) {
                    if (beat != null && beat.lost()) {
                        throw new LeaseLostException(batch.backend()); // not the backend's failure: the lease went
                    }
                    throw e;
                }
                if (beat != null && beat.lost()) {
                    throw new LeaseLostException(batch.backend());
                }
                failpoints.hit("after-backend-write");
                if (beat != null) {
                    beat.close(); // committing now: the lease has at least lease-ttl minus one heartbeat left
                }
                tx.executeWithoutResult(s -> {
                    record(batch, groups, o, skipped, poisoned);
                    // Only the suspect keys rewritten now; one refused or parked stays suspect for its retry.
                    suspects.clear(batch.backend(), PARTITION, suspect, appliedAmong(suspect, o));
                    clearRepairs(batch);
                    cursors.advance(batch.cursor(), batch.next(), instance.id(), o.applied);
                });
            } catch (RuntimeException e) {
                if (fence != null && backend instanceof FenceCheckedApart && !toWrite.isEmpty() && leaseLost(e, batch, fence)) {
                    suspects.record(batch.backend(), fence, toWrite);
                }
                throw e;
            }
            outcome = o;
        }
        return outcome;
    }

    /**
     * A page of repairs is done with the batch: each key written, skipped (a backend without links for an
     * edge), or parked with its forced event like any failing change.
     */
    private void clearRepairs(Batch batch) {
        if (batch.isRepair()) {
            repairs.clear(batch.backend(), PARTITION, batch.repairs());
        }
    }

    private static java.util.Set<String> appliedAmong(SuspectWrites.Suspects suspect, Outcome o) {
        java.util.Set<String> out = new java.util.HashSet<>();
        for (Change c : o.applied) {
            if (suspect.contains(c.key()) && !o.failed.containsKey(c.key())) {
                out.add(c.key());
            }
        }
        return out;
    }

    /**
     * True when the batch's write may have landed after another holder's: its compare-and-set failed, or
     * the lease has changed hands (or epoch) since the write was fenced.
     */
    private boolean leaseLost(RuntimeException e, Batch batch, LeaseFence fence) {
        if (e instanceof LeaseLostException) {
            return true;
        }
        try {
            return !cursors.leaseEpoch(batch.backend(), instance.id()).equals(java.util.Optional.of(fence.epoch()));
        } catch (RuntimeException primaryDown) {
            return false; // the failure is handled as it is; the cursor has not moved
        }
    }

    /**
     * Writes the changes, splitting the batch to isolate the ones the backend refuses.
     *
     * @throws TransientBackendException when the backend can't take them and nothing is to be charged
     */
    Outcome write(List<Change> changes, boolean isolate, Consumer<List<Change>> applier) {
        return write(changes, isolate, applier, null, null);
    }

    /**
     * Writes the changes as {@link #write(List, boolean, Consumer)} does, making no call once the batch's
     * lease is lost ({@link LeaseLostException}) and none that could not end before its deadline (the
     * changes not tried then count as failing transiently, as when the isolation budget is spent).
     */
    Outcome write(List<Change> changes, boolean isolate, Consumer<List<Change>> applier, LeaseHeartbeat.Beat beat,
            String backend) {
        Outcome o = new Outcome();
        o.beat = beat;
        o.backend = backend;
        attempt(changes, isolate, applier, o);
        collapseApplied(o);
        if (!o.transientlyFailed.isEmpty()) {
            if (!isolate || o.applied.isEmpty()) {
                throw o.firstTransient;
            }
            // The backend serves the others: the changes that keep failing are charged and parked.
            for (Change c : o.transientlyFailed) {
                o.failed.put(c.key(), o.firstTransient);
            }
        }
        return o;
    }

    /**
     * The two parts a list is split into to isolate a failing change. When every change carries its batch
     * position (a backend that replays a batch in event order, ADR 018) the cut is a point of the batch's
     * event timeline, so each part is itself a batch cut and applying them one after the other ends as the
     * events one by one would: a key whose events straddle the point goes to both parts, the older events to
     * the first. Otherwise the list is cut in the middle. Both parts are non-empty for a list of two or more.
     */
    static List<List<Change>> halves(List<Change> list) {
        if (!inEventOrder(list)) {
            int mid = list.size() / 2;
            return List.of(new ArrayList<>(list.subList(0, mid)), new ArrayList<>(list.subList(mid, list.size())));
        }
        List<Long> positions = new ArrayList<>();
        for (Change c : list) {
            events(c).forEach(e -> positions.add(e.seq()));
        }
        positions.sort(null);
        long at = positions.get(positions.size() / 2);
        List<Change> before = new ArrayList<>();
        List<Change> after = new ArrayList<>();
        for (Change c : list) {
            List<Change> earlier = new ArrayList<>();
            List<Change> later = new ArrayList<>();
            events(c).forEach(e -> (e.seq() < at ? earlier : later).add(e));
            if (later.isEmpty()) {
                before.add(c);
            } else if (earlier.isEmpty()) {
                after.add(c);
            } else {
                before.add(part(earlier));
                after.add(part(later));
            }
        }
        return List.of(before, after);
    }

    /**
     * True when one change carrying older events of its key (a backend that replays in event order) is the
     * whole list: it is split along its own timeline, so that only its failing event is parked and the
     * others (a DELETE that removes relationships, say) are applied in their order.
     */
    private static boolean splittable(List<Change> list) {
        return list.size() == 1 && inEventOrder(list) && !list.get(0).earlier().isEmpty();
    }

    /** True when every change carries its batch position: the backend replays the batch in event order. */
    private static boolean inEventOrder(List<Change> list) {
        return list.stream().allMatch(c -> c.seq() >= 0);
    }

    /** A change and the older changes of its key it carries, each with its batch position. */
    private static List<Change> events(Change c) {
        List<Change> all = new ArrayList<>(c.earlier().size() + 1);
        c.earlier().forEach(e -> all.add(e.withHistory(e.seq(), List.of())));
        all.add(c.withHistory(c.seq(), List.of()));
        return all;
    }

    /** The newest of some changes of one key, carrying the others as its history. */
    private static Change part(List<Change> events) {
        Change newest = events.stream().max(java.util.Comparator.comparingLong(Change::version)).orElseThrow();
        List<Change> rest = new ArrayList<>(events);
        rest.remove(newest);
        return newest.withHistory(newest.seq(), rest);
    }

    /**
     * One applied change per key, the newest: a key split across the parts of a timeline cut may have been
     * applied in both (the ledger takes one entry per key and statement).
     */
    private static void collapseApplied(Outcome o) {
        Map<String, Change> newest = new LinkedHashMap<>();
        for (Change c : o.applied) {
            newest.merge(c.key(), c, (a, b) -> a.version() >= b.version() ? a : b);
        }
        if (newest.size() < o.applied.size()) {
            o.applied.clear();
            o.applied.addAll(newest.values());
        }
    }

    /**
     * Applies the list; a permanent refusal is narrowed down by splitting. A transient failure ends the
     * attempt unless isolating, in which case the halves are tried: both failing means the backend is
     * down (stop, nothing charged); one failing narrows the search to it, about 2·log2(n) calls in all.
     */
    private void attempt(List<Change> list, boolean isolate, Consumer<List<Change>> applier, Outcome o) {
        if (!tryWhole(list, isolate, applier, o)) {
            isolateTransient(list, isolate, applier, o);
        }
    }

    /** One call for the whole list; false when it failed transiently (and isolating). */
    private boolean tryWhole(List<Change> list, boolean isolate, Consumer<List<Change>> applier, Outcome o) {
        if (list.isEmpty()) {
            return true;
        }
        if (o.beat != null && o.beat.lost()) {
            throw new LeaseLostException(o.backend);
        }
        if (o.beat != null && !o.beat.hasTimeForACall()) {
            o.transientlyFailed.addAll(list);
            if (o.firstTransient == null) {
                o.firstTransient = new TransientBackendException("backend '" + o.backend
                        + "': the batch's delivery deadline (" + o.beat.deadline() + ") was reached", null);
            }
            return true;
        }
        if (o.calls >= MAX_CALLS_WHEN_ISOLATING) {
            o.transientlyFailed.addAll(list);
            if (o.firstTransient == null) {
                o.firstTransient = new TransientBackendException("isolation budget spent", null);
            }
            return true;
        }
        o.calls++;
        try {
            applier.accept(list);
            o.applied.addAll(list);
            return true;
        } catch (ChangesDeferredException e) {
            // Written except the deferred ones, which wait (a LINK for its deleted endpoint): parked as transient.
            for (int i = 0; i < list.size(); i++) {
                if (e.deferred().contains(i)) {
                    o.failed.put(list.get(i).key(), new TransientBackendException(e.getMessage(), null));
                } else {
                    o.applied.add(list.get(i));
                }
            }
            return true;
        } catch (PermanentBackendException e) {
            if (list.size() == 1 && !splittable(list)) {
                o.failed.put(list.get(0).key(), e);
                return true;
            }
            int idx = e.failedIndex();
            if (idx >= 0 && idx < list.size() && !splittable(list)) {
                o.failed.put(list.get(idx).key(), e);
                List<Change> rest = new ArrayList<>(list);
                rest.remove(idx);
                attempt(rest, isolate, applier, o);
                return true;
            }
            List<List<Change>> halves = halves(list);
            attempt(halves.get(0), isolate, applier, o);
            attempt(halves.get(1), isolate, applier, o);
            return true;
        } catch (TransientBackendException e) {
            if (!isolate || e.unreachable()) {
                throw e; // an unreachable backend can't be blaming one change: nothing to isolate
            }
            if (o.firstTransient == null) {
                o.firstTransient = e;
            }
            return false;
        }
    }

    private void isolateTransient(List<Change> list, boolean isolate, Consumer<List<Change>> applier, Outcome o) {
        if (list.size() == 1 && !splittable(list)) {
            o.transientlyFailed.addAll(list);
            return;
        }
        List<List<Change>> halves = halves(list);
        List<Change> left = halves.get(0);
        List<Change> right = halves.get(1);
        boolean leftOk = tryWhole(left, isolate, applier, o);
        if (!leftOk && inEventOrder(list)) {
            // A backend that replays in event order: the good changes of the earlier part land before any of
            // the later part, so the later part waits until the earlier one is settled (a backend that is
            // down fails every call of it, and nothing is charged then either).
            isolateTransient(left, isolate, applier, o);
            if (!tryWhole(right, isolate, applier, o)) {
                isolateTransient(right, isolate, applier, o);
            }
            return;
        }
        boolean rightOk = tryWhole(right, isolate, applier, o);
        if (!leftOk && !rightOk) {
            o.transientlyFailed.addAll(list); // both halves fail: the backend is down, not one change
            return;
        }
        if (!leftOk) {
            isolateTransient(left, isolate, applier, o);
        }
        if (!rightOk) {
            isolateTransient(right, isolate, applier, o);
        }
    }

    /**
     * Parked and dead-letter rows of a batch; runs in the transaction that moves the cursor (which also
     * records the applied changes in the ledger).
     */
    private void record(Batch batch, Map<String, Group> groups, Outcome o, Map<String, Long> skipped,
            Map<String, String> poisoned) {
        String backend = batch.backend();
        // Clear the parked rows this batch retried and settled; a parked row not yet due is settled when
        // its retry comes and the ledger skips it.
        Map<String, Long> done = new HashMap<>(skipped);
        o.applied.forEach(c -> done.put(c.key(), c.version()));
        Map<String, Long> settled = new HashMap<>();
        for (OutboxEvent p : batch.parked()) {
            Long v = done.get(p.chunkId());
            if (v != null) {
                settled.put(p.chunkId(), v);
            }
        }
        failures.clear(backend, settled);

        var retry = properties.retryOf(backend);
        FailureStore.Backoff backoff = new FailureStore.Backoff(
                retry.backoffBase().toMillis() / 1000.0,
                retry.backoffMultiplier(),
                retry.backoffMax().toMillis() / 1000.0);
        int max = retry.maxAttempts();
        for (var f : o.failed.entrySet()) {
            Group g = groups.get(f.getKey());
            String errorClass = f.getValue() instanceof TransientBackendException ? "TRANSIENT" : "PERMANENT";
            charge(backend, g, f.getValue().getMessage(), errorClass, backoff, max);
        }
        for (var p : poisoned.entrySet()) {
            charge(backend, groups.get(p.getKey()), p.getValue(), "PERMANENT", backoff, max);
        }
    }

    private void charge(String backend, Group g, String error, String errorClass, FailureStore.Backoff backoff,
            int max) {
        OutboxEvent e = g.newestEvent();
        int attempts = failures.charge(backend, e, planner.toPayload(g.change), error, errorClass, backoff, max);
        if (attempts >= max) {
            log.error("VSYNC-RELAY-DEAD-LETTER backend={} event={} chunk={} version={} attempts={}/{}: {}",
                    backend, e.eventId(), e.chunkId(), e.version(), attempts, max, error);
            listeners.forEach(l -> l.deadLettered(backend, e.eventId()));
        } else {
            log.warn("VSYNC-RELAY-PARKED backend={} event={} chunk={} version={} attempt {}/{}: {}",
                    backend, e.eventId(), e.chunkId(), e.version(), attempts, max, error);
            listeners.forEach(l -> l.parked(backend, e.eventId(), attempts));
        }
    }
}
