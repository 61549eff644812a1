package io.vectorsync.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.relay.RelayListener;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/**
 * Relay meters under {@code vectorsync.relay.*} with bounded tags ({@code backend}, {@code outcome}).
 * {@code vectorsync.relay.events} counts what was read, {@code vectorsync.relay.changes} what became of it.
 * Counts are per process: in a scaled-out deployment each instance reports what it delivered.
 */
@Component
@io.vectorsync.config.ServerOnly
public class MicrometerRelayListener implements RelayListener {

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Timer> timers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, DistributionSummary> batchSizes = new ConcurrentHashMap<>();

    public MicrometerRelayListener(MeterRegistry registry, BackendRegistry backends) {
        this.registry = registry;
        // Every meter exists from the start at zero, so rates and alert rules see a series before the
        // first delivery or failure.
        for (String backend : backends.all().keySet()) {
            batchDelivered(backend, 0, 0, 0, 0, 0, false);
            failures(backend);
            failures(backend, "lease_lost");
            parkedCounter(backend);
            deadLetteredCounter(backend);
        }
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
        batchDelivered(backend, events, applied, skipped, failed, nanos, true);
    }

    private void batchDelivered(String backend, int events, int applied, int skipped, int failed, long nanos,
            boolean record) {
        counter("vectorsync.relay.events",
                "Outbox events read in delivered batches (outcome=read); what became of them is vectorsync.relay.changes",
                backend, "read").increment(events);
        String changes = "Changes after collapsing a batch's events, by outcome: applied to the backend, skipped"
                + " (the backend had them already), failed (isolated and parked)";
        counter("vectorsync.relay.changes", changes, backend, "applied").increment(applied);
        counter("vectorsync.relay.changes", changes, backend, "skipped").increment(skipped);
        counter("vectorsync.relay.changes", changes, backend, "failed").increment(failed);
        // Buckets (1 ms .. 60 s), so dashboards and rules take p50/p95/p99 across instances with
        // histogram_quantile; a client-side percentile could not be aggregated.
        Timer delivery = timers.computeIfAbsent(backend, b -> Timer.builder("vectorsync.relay.delivery")
                        .description("Time to deliver and commit one batch")
                        .tag("backend", b)
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofSeconds(60))
                        .register(registry));
        DistributionSummary sizes = batchSizes.computeIfAbsent(backend, b -> DistributionSummary
                        .builder("vectorsync.relay.batch.size")
                        .description("Events per delivered batch")
                        .tag("backend", b)
                        .serviceLevelObjectives(1, 10, 50, 100, 500, 1000)
                        .register(registry));
        if (record) {
            delivery.record(nanos, TimeUnit.NANOSECONDS);
            sizes.record(events);
        }
    }

    @Override
    public void backendFailed(String backend, int consecutiveFailures, Throwable cause) {
        failures(backend).increment();
    }

    @Override
    public void parked(String backend, String eventId, int attempts) {
        parkedCounter(backend).increment();
    }

    @Override
    public void deadLettered(String backend, String eventId) {
        deadLetteredCounter(backend).increment();
    }

    @Override
    public void leaseLost(String backend) {
        failures(backend, "lease_lost").increment();
    }

    private Counter failures(String backend, String outcome) {
        return counter("vectorsync.relay.failures",
                "Batches not delivered: transient backend failures, or the lease lost before the commit", backend,
                outcome);
    }

    private Counter failures(String backend) {
        return failures(backend, "transient");
    }

    private Counter parkedCounter(String backend) {
        return counter("vectorsync.relay.parked", "Events isolated and parked for a later attempt", backend, "parked");
    }

    private Counter deadLetteredCounter(String backend) {
        return counter("vectorsync.relay.dead.lettered", "Events moved to the dead-letter table", backend,
                "dead_lettered");
    }
}
