package io.vectorsync.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.SyncProperties;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Deletes what no one needs any more (run by the {@code housekeeping-retention} route every
 * {@code vectorsync.retention.interval}), in bounded batches, each its own short transaction that first takes
 * a transaction-scoped advisory lock (so one instance at a time does it; the others skip the run):
 * <ul>
 *   <li>outbox events older than {@code outbox-age} that every cursor has read (visible in each row of
 *       {@code relay_cursor}'s {@code prev_snapshot}, disabled and paused backends included), unless parked
 *       or dead-lettered (open) for some backend at their version or a newer one, or not yet read by a
 *       device seen within {@code vectorsync.sync.max-offline} (visible in its acknowledged download
 *       cursor, {@code sync_devices.ack_snapshot}; only the events a device downloads count, ADR 024);
 *       a device seen before that whose unread events go is marked {@code needs_resync} in the same
 *       statement, and re-syncs from a snapshot of {@code chunks};
 *   <li>dead letters replayed or discarded more than {@code dead-letter-age} ago (open ones stay).
 * </ul>
 * An event that still carries an aggregate's current payload leaves it in {@code aggregates} (ADR 019).
 * The delivery ledger is never pruned. The relay never reads an event behind its cursor again (parked and
 * dead-letter rows carry their own copy of the event), so deleted rows are not missed.
 */
@Service
@io.vectorsync.config.ServerOnly
public class RetentionService implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RetentionService.class);
    /** The advisory lock key of retention ("vsync-rt"). */
    static final long LOCK = 0x7673796e632d7274L;

    /**
     * One page of the outbox: the due events are deleted, and an event that still carries an aggregate's
     * current payload ({@code aggregates.payload_event}, ADR 019) leaves its payload in {@code aggregates}
     * in the same statement, so retention never removes the only copy of an aggregate's state. Every part
     * of the statement sees the same snapshot; a capture that moves the aggregate on meanwhile wins (the
     * update re-checks {@code payload_event} on the row it waited for).
     */
    private static final String OUTBOX_BATCH = """
            WITH page AS (
                SELECT o.id, o.tx_id, o.chunk_id, o.version, o.created_at, o.origin,
                       (o.type <> 'LINK' AND o.payload IS NULL) AS for_devices
                  FROM outbox o
                 WHERE o.id > ? ORDER BY o.id LIMIT ?
            ), doomed AS (
                SELECT p.id, p.chunk_id, p.tx_id, p.origin, p.for_devices FROM page p
                 WHERE p.created_at < clock_timestamp() - make_interval(secs => ?)
                   AND EXISTS (SELECT 1 FROM relay_cursor)
                   AND NOT EXISTS (SELECT 1 FROM relay_cursor c WHERE NOT pg_visible_in_snapshot(p.tx_id, c.prev_snapshot))
                   AND NOT (p.for_devices AND EXISTS (
                           SELECT 1 FROM sync_devices s
                            WHERE s.last_seen >= clock_timestamp() - make_interval(secs => ?)
                              AND NOT s.needs_resync AND s.ack_snapshot IS NOT NULL
                              AND p.origin IS DISTINCT FROM s.device_id
                              AND NOT pg_visible_in_snapshot(p.tx_id, s.ack_snapshot)))
                   AND NOT EXISTS (SELECT 1 FROM parked k WHERE k.chunk_id = p.chunk_id AND k.version >= p.version)
                   AND NOT EXISTS (SELECT 1 FROM dead_letter d
                                    WHERE d.chunk_id = p.chunk_id AND d.version >= p.version
                                      AND d.replayed_at IS NULL AND d.discarded_at IS NULL)
            ), kept AS (
                UPDATE aggregates a SET payload = o.payload, payload_event = NULL
                  FROM doomed d JOIN outbox o ON o.id = d.id
                 WHERE a.key = d.chunk_id AND a.payload_event = d.id
                RETURNING a.key
            ), gone AS (
                DELETE FROM outbox o USING doomed d WHERE o.id = d.id
                RETURNING o.id
            ), stale AS (
                UPDATE sync_devices s SET needs_resync = true, resync_reason = 'retention removed unread events'
                 WHERE NOT s.needs_resync AND s.ack_snapshot IS NOT NULL
                   AND EXISTS (SELECT 1 FROM doomed d
                                WHERE d.for_devices AND d.origin IS DISTINCT FROM s.device_id
                                  AND NOT pg_visible_in_snapshot(d.tx_id, s.ack_snapshot))
                RETURNING s.device_id
            )
            SELECT (SELECT count(*) FROM gone) AS deleted,
                   (SELECT count(*) FROM kept) AS kept,
                   (SELECT count(*) FROM stale) AS stale,
                   (SELECT max(id) FROM page) AS last_id,
                   (SELECT count(*) FROM page WHERE created_at >= clock_timestamp() - make_interval(secs => ?)) AS young
            """;
    private static final String DEAD_LETTER_BATCH = """
            DELETE FROM dead_letter WHERE id IN (
                SELECT id FROM dead_letter
                 WHERE coalesce(replayed_at, discarded_at) < clock_timestamp() - make_interval(secs => ?)
                 ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
            """;

    /** What one run deleted; {@code skipped} when another instance held the lock. */
    public record Run(long outbox, long deadLetters, boolean skipped) {}

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final RetentionProperties props;
    private final SyncProperties sync;
    private final Counter outboxDeleted;
    private final Counter deadLettersDeleted;
    private volatile boolean running;
    private volatile boolean stopping;

    public RetentionService(JdbcTemplate jdbc, TransactionTemplate tx, RetentionProperties props,
            SyncProperties sync, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.props = props;
        this.sync = sync;
        this.outboxDeleted = Counter.builder("vectorsync.retention.deleted").tag("what", "outbox")
                .description("Rows deleted by retention").register(registry);
        this.deadLettersDeleted = Counter.builder("vectorsync.retention.deleted").tag("what", "dead_letter")
                .description("Rows deleted by retention").register(registry);
    }

    /** One retention run: batches until nothing more is due, or another instance holds the lock. */
    public Run runOnce() {
        double outboxAge = props.outboxAge().toMillis() / 1000.0;
        double deadLetterAge = props.deadLetterAge().toMillis() / 1000.0;
        double maxOffline = sync.maxOffline().toMillis() / 1000.0;
        long outbox = 0;
        long deadLetters = 0;
        long after = 0;
        while (!stopping) {
            long from = after;
            Map<String, Object> r = tx.execute(s -> {
                if (!locked()) {
                    return null;
                }
                return jdbc.queryForMap(OUTBOX_BATCH, from, props.batchSize(), outboxAge, maxOffline, outboxAge);
            });
            if (r == null) {
                return new Run(outbox, deadLetters, true);
            }
            long n = ((Number) r.get("deleted")).longValue();
            long stale = ((Number) r.get("stale")).longValue();
            if (stale > 0) {
                log.info("Retention removed events {} device(s) offline longer than {} had not read: they re-sync"
                        + " from a snapshot", stale, sync.maxOffline());
            }
            outbox += n;
            outboxDeleted.increment(n);
            Object last = r.get("last_id");
            // Ids grow with time: a page reaching events younger than the age ends the walk.
            if (last == null || ((Number) r.get("young")).longValue() > 0) {
                break;
            }
            after = ((Number) last).longValue();
        }
        while (!stopping) {
            Integer n = tx.execute(s -> locked() ? jdbc.update(DEAD_LETTER_BATCH, deadLetterAge, props.batchSize()) : null);
            if (n == null) {
                return new Run(outbox, deadLetters, true);
            }
            deadLetters += n;
            deadLettersDeleted.increment(n);
            if (n < props.batchSize()) {
                break;
            }
        }
        if (outbox + deadLetters > 0) {
            log.info("Retention deleted {} outbox event(s) and {} dead letter(s)", outbox, deadLetters);
        }
        return new Run(outbox, deadLetters, false);
    }

    private boolean locked() {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK));
    }

    /** The run of the {@code housekeeping-retention} route: a failure is logged, the next run tries again. */
    public void runScheduled() {
        try {
            runOnce();
        } catch (RuntimeException e) {
            log.warn("Retention run failed (next run in {}): {}", props.interval(), e.toString());
        }
    }

    @Override
    public void start() {
        running = true;
        stopping = false;
    }

    @Override
    public void stop() {
        running = false;
        stopping = true;
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
