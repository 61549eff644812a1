package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

/**
 * Keeps a backend's lease while one of its batches is being delivered (ADR 014): from the start of the
 * delivery, the lease is renewed every {@code vectorsync.relay.lease-heartbeat} on Spring's
 * {@link TaskScheduler} (the first time after half a heartbeat), until the delivery ends or the batch's deadline passes, whichever comes first.
 * The deadline is the backend's call timeout (connect plus read) times the calls the batch's delivery
 * may make (an isolation round included), plus one heartbeat, so a stuck delivery cannot hold a backend for ever. A renewal
 * that finds the lease gone marks the batch lost: the deliverer then makes no further call for it.
 */
@Component
@ServerOnly
public class LeaseHeartbeat {

    private static final Logger log = LoggerFactory.getLogger(LeaseHeartbeat.class);

    private final TaskScheduler scheduler;
    private final CursorRepository cursors;
    private final RelayInstance instance;
    private final VectorsyncProperties properties;
    private final Failpoints failpoints;
    private final Clock clock;

    public LeaseHeartbeat(TaskScheduler scheduler, CursorRepository cursors, RelayInstance instance,
            VectorsyncProperties properties, Failpoints failpoints, ObjectProvider<Clock> clock) {
        this.failpoints = failpoints;
        this.scheduler = scheduler;
        this.cursors = cursors;
        this.instance = instance;
        this.properties = properties;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    /**
     * Starts renewing the lease of the backend whose cursor the batch was read at, for at most
     * {@code calls} calls of the backend's call timeout from now, as long as the lease keeps the epoch the
     * batch was read under.
     */
    public Beat start(Batch batch, int calls) {
        Duration perCall = properties.callTimeoutOf(batch.backend());
        // Plus one heartbeat of slack: the steps around the calls (the fence's epoch, the commit).
        Instant deadline = clock.instant().plus(perCall.multipliedBy(Math.max(1, calls)))
                .plus(properties.relay().leaseHeartbeat());
        Beat beat = new Beat(batch.backend(), batch.cursor().leaseEpoch(), perCall, deadline);
        // The poll left at least lease-ttl minus one heartbeat on the lease: the first renewal comes after
        // half a heartbeat, so a batch delivered quicker than that costs no renewal at all.
        Duration every = properties.relay().leaseHeartbeat();
        try {
            beat.future = scheduler.scheduleAtFixedRate(beat::renew, clock.instant().plus(every.dividedBy(2)), every);
        } catch (org.springframework.core.task.TaskRejectedException shuttingDown) {
            // The scheduler is gone (shutdown): the batch goes on without a heartbeat, as before ADR 014 (its
            // lease still holds lease-ttl minus one heartbeat), rather than failing as if the backend had.
            log.info("Backend '{}': no lease heartbeat for this batch, the scheduler is shutting down", batch.backend());
            return beat;
        }
        if (beat.ended || beat.lost) {
            beat.stop(); // the first renewal ran before the future was known
        }
        return beat;
    }

    /** One batch's heartbeat; closing it stops the renewals. */
    public final class Beat implements AutoCloseable {
        private final String backend;
        private final long leaseEpoch;
        private final Duration perCall;
        private final Instant deadline;
        private volatile boolean lost;
        private volatile boolean closed;
        private volatile boolean ended;
        private volatile ScheduledFuture<?> future;

        Beat(String backend, long leaseEpoch, Duration perCall, Instant deadline) {
            this.backend = backend;
            this.leaseEpoch = leaseEpoch;
            this.perCall = perCall;
            this.deadline = deadline;
        }

        private void renew() {
            if (closed || lost || ended) {
                return;
            }
            if (!clock.instant().isBefore(deadline)) {
                ended = true;
                log.warn("VSYNC-RELAY-DEADLINE backend={}: the batch's delivery reached its deadline ({}); the lease"
                        + " is no longer renewed for it", backend, deadline);
                stop();
                return;
            }
            failpoints.hit("lease-renewal");
            if (closed) {
                return;
            }
            try {
                if (!cursors.renew(backend, instance.id(), leaseEpoch, properties.relay().leaseTtl())) {
                    if (closed) {
                        return; // the delivery ended meanwhile
                    }
                    lost = true;
                    stop();
                    log.warn("VSYNC-RELAY-LEASE backend={}: the lease was gone at a renewal during delivery; no"
                            + " further call is made for this batch", backend);
                }
            } catch (RuntimeException e) {
                // The primary may be briefly unreachable: the next renewal (or the cursor's move) decides.
                log.warn("Cannot renew the lease of backend '{}' during delivery: {}", backend, e.toString());
            }
        }

        /** True once a renewal found the lease gone: no further backend call may be made for the batch. */
        public boolean lost() {
            return lost;
        }

        /** Whether one more call (at most the backend's call timeout) still ends before the deadline. */
        public boolean hasTimeForACall() {
            return !clock.instant().plus(perCall).isAfter(deadline);
        }

        public Instant deadline() {
            return deadline;
        }

        private void stop() {
            ScheduledFuture<?> f = future;
            if (f != null) {
                f.cancel(false);
            }
        }

        @Override
        public void close() {
            closed = true;
            stop();
        }
    }
}
