package io.vectorsync.relay;

import io.vectorsync.backend.HealthProbe;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.deadletter.FailureStore;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * The first step of a relay route: if this instance holds the backend's lease and the backend is
 * neither paused nor backing off, reads the next batch of the window after the cursor (by count and
 * bytes, at least one event) plus due parked events. Holds no connection after it returns; waits for
 * an in-JVM wake-up or the poll interval when there is nothing to do.
 */
@Component("relayPoller")
@ServerOnly
public class RelayPoller implements RelayListener {

    public static final String BACKEND_HEADER = "VectorsyncBackend";

    private final CursorRepository cursors;
    private final OutboxReader reader;
    private final FailureStore failures;
    private final RelayWakeup wakeup;
    private final RelayInstance instance;
    private final VectorsyncProperties properties;
    private final Failpoints failpoints;
    private final io.vectorsync.backend.BackendRegistry backends;
    private final org.springframework.beans.factory.ObjectProvider<RelayListener> listeners;
    private final RepairQueue repairs;
    private final Map<String, Long> leaseRenewedAt = new ConcurrentHashMap<>();
    private final Map<String, Long> memoryPauseUntil = new ConcurrentHashMap<>();
    private final Set<String> halted = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> noParkedSince = new ConcurrentHashMap<>();
    private final Map<String, Long> lastProbe = new ConcurrentHashMap<>();
    private final Set<String> probeDuringBackoff = ConcurrentHashMap.newKeySet();
    /** System.nanoTime() of each backend's last poll that read the outbox (or a backfill page) here. */
    private final Map<String, Long> lastPollNanos = new ConcurrentHashMap<>();
    /** System.nanoTime() at the start of each backend's last poll that caught up with the outbox. */
    private final Map<String, Long> caughtUpAt = new ConcurrentHashMap<>();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RelayPoller.class);
    private static final long PARKED_RECHECK_NANOS = 1_000_000_000L;
    /** The outbox partition this relay delivers; 0 until partitions come (ADR 017). */
    private static final int PARTITION = 0;
    private volatile boolean stopping;

    public RelayPoller(CursorRepository cursors, OutboxReader reader, FailureStore failures, RelayWakeup wakeup,
            RelayInstance instance, VectorsyncProperties properties, Failpoints failpoints,
            io.vectorsync.backend.BackendRegistry backends, org.springframework.beans.factory.ObjectProvider<RelayListener> listeners,
            RepairQueue repairs) {
        this.repairs = repairs;
        this.backends = backends;
        this.listeners = listeners; // read when used: this poller is one of them
        this.cursors = cursors;
        this.reader = reader;
        this.failures = failures;
        this.wakeup = wakeup;
        this.instance = instance;
        this.properties = properties;
        this.failpoints = failpoints;
    }

    public Batch poll(@Header(BACKEND_HEADER) String backend) {
        Duration idle = properties.relay().pollInterval();
        if (stopping) {
            return Batch.empty(backend); // shutting down: no lease, and no wait that Camel would sit out
        }
        coalesce(backend);
        long started = System.nanoTime();
        Long pausedUntil = memoryPauseUntil.get(backend);
        if (pausedUntil != null && System.nanoTime() - pausedUntil < 0) {
            wakeup.await(backend, idle);
            return Batch.empty(backend);
        }
        Optional<CursorState> held = holdLease(backend);
        if (held.isEmpty()) {
            wakeup.await(backend, idle);
            return Batch.empty(backend);
        }
        CursorState c = held.get();
        if (c.halted() || haltsOnIdentity(c)) {
            halted.add(backend);
            wakeup.await(backend, idle);
            return Batch.empty(backend);
        }
        halted.remove(backend);
        if (c.paused() || (c.backingOff() && !answersProbe(backend))) {
            wakeup.await(backend, idle);
            return Batch.empty(backend);
        }
        if (c.backfilling()) {
            return backfill(backend, c);
        }
        if (repairs.pending(backend, PARTITION)) {
            Batch repair = repair(backend, c);
            if (repair != null) {
                return repair;
            }
        }
        boolean freshSnapshot = c.curSnapshot() == null;
        String cur = freshSnapshot ? cursors.currentSnapshot() : c.curSnapshot();
        int limit = properties.batchSizeOf(backend);
        boolean copyRows = backends.copiesPrimaryRows(backend);
        OutboxReader.Window window = reader.window(backend, c.partition(), c.generation(), c.prevSnapshot(), cur,
                c.lastTxId(), c.lastId(), limit, copyRows);
        lastPollNanos.put(backend, System.nanoTime());
        List<OutboxEvent> read = window.events();
        List<OutboxEvent> parked = dueParked(backend);
        if (read.isEmpty() && parked.isEmpty() && freshSnapshot) {
            wakeup.await(backend, idle);
            return Batch.empty(backend);
        }
        Map<String, ChunkRow> rows = withParkedRows(window.rows(), parked);
        List<OutboxEvent> events = cutByBytes(backend, read, rows);
        boolean exhausted = events.size() == read.size() && read.size() < limit;
        if (exhausted) {
            caughtUpAt.put(backend, started);
        }
        CursorState.Position next;
        if (exhausted) {
            next = new CursorState.Position(cur, null, null, null);
        } else {
            OutboxEvent last = events.get(events.size() - 1);
            next = new CursorState.Position(c.prevSnapshot(), cur, last.txId(), last.outboxId());
        }
        failpoints.hit("after-poll");
        return new Batch(backend, c, next, events, parked, rows, window.ledger(), copyRows);
    }

    /**
     * After a poll that caught up with the outbox, the next one starts no sooner than
     * {@code vectorsync.relay.coalesce} after it: under a steady trickle of writes (each waking the relay)
     * one poll and one delivery transaction take the events of several writes, instead of one each,
     * which would compete with the writes themselves for the same cores. A full batch (a backlog) is
     * followed at once.
     */
    private void coalesce(String backend) {
        long coalesce = properties.relay().coalesce().toNanos();
        Long caught = caughtUpAt.remove(backend);
        if (coalesce > 0 && caught != null) {
            long wait = caught + coalesce - System.nanoTime();
            if (wait > 0) {
                java.util.concurrent.locks.LockSupport.parkNanos(wait);
            }
        }
    }

    /**
     * The next page of a backend's backfill, delivered like a window of lean events (ledger, version
     * guard, isolation, parking); the cursor's snapshot position stays where it was created until the
     * last page, after which the relay reads the outbox from there.
     */
    private Batch backfill(String backend, CursorState c) {
        int limit = properties.batchSizeOf(backend);
        boolean copyRows = backends.copiesPrimaryRows(backend);
        OutboxReader.Window page = reader.backfillPage(backend, c.backfillAfter(), limit, copyRows);
        lastPollNanos.put(backend, System.nanoTime());
        if (c.backfillRewrite()) {
            // An operator's re-backfill rebuilds a backend that may have lost what the ledger records
            // (ADR 010): no ledger filter, every live chunk is written again, version-guarded as always.
            Map<String, Long> none = new HashMap<>();
            page.ledger().keySet().forEach(k -> none.put(k, 0L));
            page = new OutboxReader.Window(page.events(), page.rows(), none);
        }
        List<OutboxEvent> parked = dueParked(backend);
        Map<String, ChunkRow> rows = withParkedRows(page.rows(), parked);
        List<OutboxEvent> events = cutByBytes(backend, page.events(), rows);
        CursorState.Position next = events.isEmpty()
                ? new CursorState.Position(c.prevSnapshot(), c.curSnapshot(), c.lastTxId(), c.lastId())
                : new CursorState.Position(c.prevSnapshot(), c.curSnapshot(), c.lastTxId(), c.lastId(), true,
                        events.get(events.size() - 1).chunkId(), events.size());
        return new Batch(backend, c, next, events, parked, rows, page.ledger(), copyRows);
    }

    /**
     * A page of the backend's repairs (ADR 019) as a batch of its own: each key's current state, delivered
     * forced and past the ledger; the cursor stays where it is. Null when the page is empty.
     */
    private Batch repair(String backend, CursorState c) {
        RepairQueue.Page page = repairs.page(backend, PARTITION, properties.batchSizeOf(backend));
        if (page.keys().isEmpty()) {
            return null;
        }
        lastPollNanos.put(backend, System.nanoTime()); // polling, while a long repair drains
        Map<String, Long> none = new HashMap<>();
        page.keys().forEach(k -> none.put(k, 0L));
        List<OutboxEvent> events = cutByBytes(backend, page.events(), page.rows());
        if (events.size() < page.events().size()) {
            // Only the keys up to the last one delivered are cleared with the batch.
            int last = page.keys().indexOf(events.get(events.size() - 1).chunkId());
            page = new RepairQueue.Page(events, page.rows(), page.keys().subList(0, last + 1), page.readAt());
        }
        return new Batch(backend, c, c.position(), events, List.of(), page.rows(), none,
                backends.copiesPrimaryRows(backend), page);
    }

    /** The rows read with the window, plus the current rows of due parked lean events not among them. */
    private Map<String, ChunkRow> withParkedRows(Map<String, ChunkRow> read, List<OutboxEvent> parked) {
        Map<String, ChunkRow> rows = new HashMap<>(read);
        Set<String> lean = new HashSet<>();
        parked.stream().filter(e -> e.payloadJson() == null && !rows.containsKey(e.chunkId()))
                .forEach(e -> lean.add(e.chunkId()));
        rows.putAll(reader.chunkRows(lean));
        return rows;
    }

    /** The leading events that fit the backend's batch bytes, always at least one. */
    private List<OutboxEvent> cutByBytes(String backend, List<OutboxEvent> read, Map<String, ChunkRow> rows) {
        long budget = properties.batchBytesOf(backend);
        long used = 0;
        List<OutboxEvent> events = new ArrayList<>(read.size());
        for (OutboxEvent e : read) {
            long size = bytesOf(e, rows);
            if (!events.isEmpty() && used + size > budget) {
                break;
            }
            used += size;
            events.add(e);
        }
        return events;
    }

    /**
     * Due parked events. After a look that found none, the next look waits a second unless this
     * instance parked something meanwhile: parked events are rare and need not cost a query per batch.
     */
    private List<OutboxEvent> dueParked(String backend) {
        Long emptyAt = noParkedSince.get(backend);
        if (emptyAt != null && System.nanoTime() - emptyAt < PARKED_RECHECK_NANOS) {
            return List.of();
        }
        List<OutboxEvent> due = failures.due(backend, properties.relay().parkedPerPoll());
        if (due.isEmpty()) {
            noParkedSince.put(backend, System.nanoTime());
        } else {
            noParkedSince.remove(backend);
        }
        return due;
    }

    /**
     * While a backend backs off, probes its health at most every health-probe-interval; when it answers,
     * ends the backoff so the backlog drains at once instead of after a backoff grown during the outage.
     */
    private boolean answersProbe(String backend) {
        if (!probeDuringBackoff.contains(backend) || !backends.contains(backend)
                || !(backends.get(backend) instanceof HealthProbe probe)) {
            return false;
        }
        long now = System.nanoTime();
        Long last = lastProbe.get(backend);
        if (last != null && now - last < properties.relay().healthProbeInterval().toNanos()) {
            return false;
        }
        lastProbe.put(backend, now);
        Optional<String> problem;
        try {
            problem = probe.healthProblem();
        } catch (RuntimeException e) {
            problem = Optional.of(e.getClass().getSimpleName());
        }
        if (problem.isPresent()) {
            return false;
        }
        cursors.endBackoff(backend);
        log.info("Backend '{}' answers its health probe again: ending its backoff", backend);
        return true;
    }

    /** Whether the backend's backoff may be ended early by a health probe (its last failure was unreachable). */
    void probeDuringBackoff(String backend, boolean probe) {
        if (probe) {
            probeDuringBackoff.add(backend);
        } else {
            probeDuringBackoff.remove(backend);
        }
    }

    /** Something was parked or replayed: look at parked events on the next poll. */
    public void parkedChanged() {
        noParkedSince.clear();
    }

    @Override
    public void parked(String backend, String eventId, int attempts) {
        noParkedSince.remove(backend);
    }

    private static long bytesOf(OutboxEvent e, Map<String, ChunkRow> rows) {
        if (e.payloadJson() != null) {
            return 64L + e.payloadJson().length();
        }
        ChunkRow row = rows.get(e.chunkId());
        return row == null ? 64L : row.data().approximateBytes();
    }

    private Optional<CursorState> holdLease(String backend) {
        long now = System.nanoTime();
        Long renewed = leaseRenewedAt.get(backend);
        long renewEvery = properties.relay().leaseHeartbeat().toNanos();
        if (renewed != null && now - renewed < renewEvery) {
            Optional<CursorState> c = cursors.read(backend);
            if (c.isPresent() && instance.id().equals(c.get().leaseOwner())) {
                return c;
            }
            leaseRenewedAt.remove(backend);
        }
        Optional<CursorState> c = cursors.lease(backend, instance.id(), properties.relay().leaseTtl());
        if (c.isPresent()) {
            leaseRenewedAt.put(backend, now);
        } else {
            leaseRenewedAt.remove(backend);
        }
        return c;
    }

    /**
     * Checks, on every poll, that the cursor still fits the database (ADR 015): the cluster's system
     * identifier is the one stored with the cursor, and the database's next transaction id is at or above
     * the cursor's highest bound. If not (a restore into another cluster, a swapped database, transaction
     * ids below the cursor), the backend is halted in {@code relay_cursor} with a VSYNC-RELAY-IDENTITY
     * reason, which status, health and metrics show; a backfill re-baselines it. An identifier this role may
     * not read halts it too: the check can't be made.
     */
    private boolean haltsOnIdentity(CursorState c) {
        String problem;
        try {
            CursorRepository.DatabaseIdentity db = cursors.databaseIdentity();
            long bound = c.highestXidBound();
            if (c.systemIdentifier() != db.systemIdentifier()) {
                problem = new CursorIdentityException(c.backend(), c.systemIdentifier(), db.systemIdentifier())
                        .getMessage();
            } else if (db.nextXid() < bound) {
                problem = CursorIdentityException.transactionIdsBehind(c.backend(), bound, db.nextXid());
            } else {
                return false;
            }
        } catch (SystemIdentifierUnreadableException e) {
            problem = e.getMessage();
        }
        if (cursors.halt(c.backend(), problem)) {
            log.error("{}", problem);
            String reason = problem;
            listeners.orderedStream().forEach(l -> l.halted(c.backend(), reason));
        }
        return true;
    }

    /** Pauses polling in memory, for when the pause can't be written to the database. */
    void pauseInMemory(String backend, Duration d) {
        memoryPauseUntil.put(backend, System.nanoTime() + d.toNanos());
    }

    /** Stops taking or renewing leases (shutdown); batches in flight still commit while the lease lasts. */
    void stopLeasing() {
        stopping = true;
    }

    void forgetLease(String backend) {
        leaseRenewedAt.remove(backend);
    }

    /**
     * Seconds since this instance last read the backend's outbox window (a successful poll), or empty
     * when it never did: another instance holds the lease, or the backend has been paused since start.
     */
    public java.util.OptionalDouble lastPollAgeSeconds(String backend) {
        Long at = lastPollNanos.get(backend);
        return at == null ? java.util.OptionalDouble.empty()
                : java.util.OptionalDouble.of((System.nanoTime() - at) / 1e9);
    }

    public boolean isHalted(String backend) {
        return halted.contains(backend);
    }
}
