package io.vectorsync.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vectorsync.relay.RelayListener;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * Relay meters under {@code vectorsync.relay.*} with bounded tags ({@code backend}, {@code outcome}).
 * Counts are per process: in a scaled-out deployment each instance reports what it delivered.
 */
@Component
public class MicrometerRelayListener implements RelayListener {

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();

    public MicrometerRelayListener(MeterRegistry registry) {
        this.registry = registry;
    }

    private Counter counter(String name, String description, String backend, String outcome) {
        return counters.computeIfAbsent(name + '|' + backend + '|' + outcome, k -> Counter.builder(name)
                .description(description)
                .tag("backend", backend)
                .tag("outcome", outcome)
                .register(registry));
    }

    @Override
    public void batchDelivered(String backend, int events, int applied, int skipped, int failed, long nanos) {
        String d = "Events relayed, by outcome: applied to the backend, skipped (already there), failed (parked)";
        counter("vectorsync.relay.events", d, backend, "read").increment(events);
        counter("vectorsync.relay.changes", "Changes after collapsing, by outcome", backend, "applied").increment(applied);
        counter("vectorsync.relay.changes", "Changes after collapsing, by outcome", backend, "skipped").increment(skipped);
        counter("vectorsync.relay.changes", "Changes after collapsing, by outcome", backend, "failed").increment(failed);
        timers.computeIfAbsent(backend, b -> Timer.builder("vectorsync.relay.delivery")
                        .description("Time to deliver and commit one batch")
                        .tag("backend", b)
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void backendFailed(String backend, int consecutiveFailures, Throwable cause) {
        counter("vectorsync.relay.failures", "Transient backend failures (batch not delivered, backend paused)",
                backend, "transient").increment();
    }

    @Override
    public void parked(String backend, String eventId, int attempts) {
        counter("vectorsync.relay.parked", "Events isolated and parked for a later attempt", backend, "parked")
                .increment();
    }

    @Override
    public void deadLettered(String backend, String eventId) {
        counter("vectorsync.relay.dead.lettered", "Events moved to the dead-letter table", backend, "dead_lettered")
                .increment();
    }
}
