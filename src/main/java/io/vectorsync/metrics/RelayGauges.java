package io.vectorsync.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.vectorsync.relay.RelayStats;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;
import org.springframework.stereotype.Component;

/**
 * Gauges per configured backend (tag {@code backend}) over {@link RelayStats}: backlog, lag, parked
 * events, open dead letters, paused, circuit state (one series per state, label {@code state}) and last
 * poll age. Database values come from the cached statistics (refreshed every
 * {@code vectorsync.metrics.refresh-interval}); circuit and poll age are read live. Built once at start-up: backends are fixed for the life of the process.
 */
@Component
@io.vectorsync.config.ServerOnly
public class RelayGauges implements MeterBinder {

    /** The states {@code vectorsync_circuit_state} has a series for; unknown (no route) has none. */
    private static final List<RelayStats.Circuit> CIRCUIT_STATES =
            List.of(RelayStats.Circuit.CLOSED, RelayStats.Circuit.HALF_OPEN, RelayStats.Circuit.OPEN);

    private final RelayStats stats;

    public RelayGauges(RelayStats stats) {
        this.stats = stats;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String backend : stats.backendNames()) {
            gauge(registry, "vectorsync.backlog.events", "events",
                    "Committed outbox events not yet behind the backend's cursor", backend,
                    s -> stats.current(backend).map(RelayStats.BackendStats::backlog).orElse(0L));
            gauge(registry, "vectorsync.lag.seconds", "seconds",
                    "Age of the oldest undelivered event (backlog or parked); 0 when caught up", backend,
                    s -> stats.current(backend).map(RelayStats.BackendStats::lagSeconds).orElse(0.0));
            gauge(registry, "vectorsync.stalled.seconds", "seconds",
                    "How long the cursor has had a backlog without moving; 0 without a backlog", backend,
                    s -> stats.current(backend).map(RelayStats.BackendStats::stalledSeconds).orElse(0.0));
            gauge(registry, "vectorsync.parked.events", "events",
                    "Events parked for a later attempt", backend,
                    s -> stats.current(backend).map(RelayStats.BackendStats::parked).orElse(0L));
            gauge(registry, "vectorsync.dead.letters", null,
                    "Open dead letters (not replayed or discarded)", backend,
                    s -> stats.current(backend).map(RelayStats.BackendStats::deadLetters).orElse(0L));
            gauge(registry, "vectorsync.paused", null,
                    "1 when an operator paused the backend, else 0", backend,
                    s -> stats.current(backend).map(b -> b.paused() ? 1.0 : 0.0).orElse(0.0));
            gauge(registry, "vectorsync.backing.off", null,
                    "1 while the backend backs off after a transient failure, else 0", backend,
                    s -> stats.current(backend).map(b -> b.backingOff() ? 1.0 : 0.0).orElse(0.0));
            gauge(registry, "vectorsync.halted", null,
                    "1 while the backend is halted (VSYNC-RELAY-IDENTITY: its cursor does not fit the database), else 0",
                    backend, s -> stats.current(backend).map(b -> b.isHalted() ? 1.0 : 0.0).orElse(0.0));
            for (RelayStats.Circuit state : CIRCUIT_STATES) {
                Gauge.builder("vectorsync.circuit.state", stats, s -> s.circuit(backend) == state ? 1.0 : 0.0)
                        .description("1 for the state the backend's circuit breaker is in (closed, half_open, open),"
                                + " else 0; all 0 while the backend's route is not running")
                        .tag("backend", backend)
                        .tag("state", state.name().toLowerCase(Locale.ROOT))
                        .strongReference(true)
                        .register(registry);
            }
            gauge(registry, "vectorsync.last.poll.age.seconds", "seconds",
                    "Seconds since this instance last polled the backend's outbox (NaN when it never did)",
                    backend, s -> {
                        OptionalDouble age = stats.lastPollAgeSeconds(backend);
                        return age.isPresent() ? age.getAsDouble() : Double.NaN;
                    });
        }
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description, String backend,
            ToDoubleFunction<RelayStats> value) {
        Gauge.builder(name, stats, value)
                .description(description)
                .baseUnit(unit)
                .tag("backend", backend)
                .strongReference(true)
                .register(registry);
    }
}
