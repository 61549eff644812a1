package io.vectorsync.metrics;

import io.vectorsync.config.AlertProperties;
import io.vectorsync.relay.RelayStats;
import jakarta.annotation.PostConstruct;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributorRegistry;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health contributors of the relay: {@code relay-backend-<name>} per configured backend and
 * {@code relay-outbox} for all of them, each alone in a health group without the {@code relay-} prefix
 * ({@code backend-<name>}, {@code outbox}; {@link HealthGroupsEnvironment}). A backend
 * is DOWN when its circuit is open or it made no progress for {@code vectorsync.alerts.no-progress}
 * (per-backend overrides apply) while it has a backlog; a paused backend is UP with {@code paused: true}.
 * A backend is also DOWN while halted ({@code VSYNC-RELAY-IDENTITY}, ADR 015), whatever its backlog says.
 * The outbox is DOWN when any backend is stalled or halted. Read from the cached {@link RelayStats}.
 * They are part of the root {@code /actuator/health} but never of liveness or readiness.
 */
@Component
@io.vectorsync.config.ServerOnly
public class RelayHealth {

    /** Group names; the contributors are named {@code relay-} plus the group's name (names must differ). */
    public static final String PREFIX = "backend-";
    public static final String OUTBOX = "outbox";
    public static final String CONTRIBUTOR = "relay-";

    private final RelayStats stats;
    private final AlertProperties alerts;
    private final HealthContributorRegistry registry;

    public RelayHealth(RelayStats stats, AlertProperties alerts, HealthContributorRegistry registry) {
        this.stats = stats;
        this.alerts = alerts;
        this.registry = registry;
    }

    @PostConstruct
    void register() {
        for (String backend : stats.backendNames()) {
            registry.registerContributor(CONTRIBUTOR + PREFIX + backend, (HealthIndicator) () -> backend(backend));
        }
        registry.registerContributor(CONTRIBUTOR + OUTBOX, (HealthIndicator) this::outbox);
    }

    Health backend(String backend) {
        RelayStats.BackendStats s = stats.current(backend).orElse(null);
        RelayStats.Circuit circuit = stats.circuit(backend);
        if (s == null || !s.cursorFound()) {
            return Health.unknown().withDetail("circuit", circuit.word())
                    .withDetail("reason", "the relay has not created this backend's cursor yet").build();
        }
        Duration limit = alerts.of(backend).noProgress();
        boolean stalled = stalled(s, limit);
        Health.Builder h = circuit == RelayStats.Circuit.OPEN || stalled || s.isHalted() ? Health.down() : Health.up();
        h.withDetail("backlog", s.backlog())
                .withDetail("lagSeconds", round(s.lagSeconds()))
                .withDetail("parked", s.parked())
                .withDetail("deadLetters", s.deadLetters())
                .withDetail("circuit", circuit.word())
                .withDetail("paused", s.paused())
                .withDetail("backingOff", s.backingOff())
                .withDetail("stalledSeconds", round(s.stalledSeconds()));
        h.withDetail("halted", s.isHalted());
        if (s.isHalted()) {
            h.withDetail("reason", s.halted()); // VSYNC-RELAY-IDENTITY: the cursor does not fit the database
        } else if (circuit == RelayStats.Circuit.OPEN) {
            h.withDetail("reason", "the circuit breaker is open");
        } else if (stalled) {
            h.withDetail("reason", "no progress for " + limit.toSeconds() + " s with a backlog");
        }
        return h.build();
    }

    Health outbox() {
        long backlog = 0;
        double lag = 0;
        Map<String, Object> stalled = new LinkedHashMap<>();
        java.util.List<String> halted = new java.util.ArrayList<>();
        for (RelayStats.BackendStats s : stats.current().values()) {
            if (s.isHalted()) {
                halted.add(s.backend());
            }
            backlog += s.backlog();
            lag = Math.max(lag, s.lagSeconds());
            if (s.cursorFound() && stalled(s, alerts.of(s.backend()).noProgress())) {
                stalled.put(s.backend(), round(s.stalledSeconds()));
            }
        }
        Health.Builder h = stalled.isEmpty() && halted.isEmpty() ? Health.up() : Health.down();
        h.withDetail("backlog", backlog).withDetail("lagSeconds", round(lag));
        if (!halted.isEmpty()) {
            h.withDetail("haltedBackends", halted);
        }
        if (!stalled.isEmpty()) {
            h.withDetail("stalledBackends", stalled);
        }
        return h.build();
    }

    private static boolean stalled(RelayStats.BackendStats s, Duration limit) {
        return !s.paused() && s.stalledSeconds() >= limit.toMillis() / 1000.0;
    }

    private static double round(double seconds) {
        return Math.round(seconds * 10) / 10.0;
    }
}
