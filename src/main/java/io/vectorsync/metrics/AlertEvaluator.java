package io.vectorsync.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.AlertProperties;
import io.vectorsync.relay.RelayListener;
import io.vectorsync.relay.RelayStats;
import jakarta.annotation.PostConstruct;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Evaluates the alert thresholds ({@code vectorsync.alerts.*}) per backend every
 * {@code evaluate-interval} (the route {@code housekeeping-alerts} of {@code routes/housekeeping.camel.yaml},
 * started only with {@code vectorsync.alerts.enabled}), on the cached {@link RelayStats} and on the deliveries and failures this
 * instance saw in the last {@code failure-window}. An alert fires once when its value reaches the
 * threshold (ERROR log with its code, counter {@code vectorsync.alerts.fired}, webhook) and clears
 * once when it is back under (INFO log, webhook): {@link AlertBook}, which a device's
 * {@link SyncStuckAlert} uses too. Logs carry backend, value and threshold, never an event's contents.
 */
@Component
@io.vectorsync.config.ServerOnly
public class AlertEvaluator implements RelayListener {

    private static final Logger log = LoggerFactory.getLogger(AlertEvaluator.class);

    /** The alerts, each with its stable code and tag value. */
    public enum Alert {
        LAG("VSYNC-ALERT-LAG", "lag"),
        DEAD_LETTERS("VSYNC-ALERT-DEAD-LETTERS", "dead_letters"),
        FAILURE_RATE("VSYNC-ALERT-FAILURE-RATE", "failure_rate"),
        NO_PROGRESS("VSYNC-ALERT-NO-PROGRESS", "no_progress"),
        /** A device's: its queue waits with no upload to the remote (SyncStuckAlert, backend {@code remote}). */
        SYNC_STUCK("VSYNC-ALERT-SYNC-STUCK", "sync_stuck");

        private final String code;
        private final String tag;

        Alert(String code, String tag) {
            this.code = code;
            this.tag = tag;
        }

        public String code() {
            return code;
        }

        public String tag() {
            return tag;
        }
    }

    /** An alert in force: what crossed which threshold since when. */
    public record ActiveAlert(String alert, String code, String backend, double value, double threshold,
            Instant since, String message) {}

    /** The alerts evaluated per backend (the others are a device's). */
    static final Set<Alert> BACKEND_ALERTS = EnumSet.of(Alert.LAG, Alert.DEAD_LETTERS, Alert.FAILURE_RATE,
            Alert.NO_PROGRESS);

    private record Attempt(long nanos, boolean failed) {}

    private final RelayStats stats;
    private final AlertProperties properties;
    private final AlertBook book;
    private final Map<String, Deque<Attempt>> attempts = new ConcurrentHashMap<>();

    public AlertEvaluator(RelayStats stats, AlertProperties properties, AlertWebhook webhook, MeterRegistry registry) {
        this.stats = stats;
        this.properties = properties;
        this.book = new AlertBook(registry, webhook);
        for (String name : properties.backends().keySet()) {
            if (!stats.backendNames().contains(name)) {
                throw new IllegalStateException("vectorsync.alerts.backends." + name
                        + " names no configured backend (configured: " + stats.backendNames() + ")");
            }
        }
    }

    @PostConstruct
    void start() {
        for (String backend : stats.backendNames()) {
            attempts.put(backend, new ArrayDeque<>());
            for (Alert a : BACKEND_ALERTS) {
                book.register(a, backend);
            }
        }
    }

    /** The periodic evaluation (route {@code housekeeping-alerts}): a failure waits for the next one. */
    public void evaluateQuietly() {
        try {
            evaluate();
        } catch (RuntimeException e) {
            log.warn("Cannot evaluate the alerts: {}", e.toString());
        }
    }

    /** The active alerts, oldest first. */
    public List<ActiveAlert> active() {
        return book.active();
    }

    /** Evaluates every alert of every backend once, on the cached statistics. */
    public synchronized void evaluate() {
        Instant now = Instant.now();
        for (RelayStats.BackendStats s : stats.current().values()) {
            if (!s.cursorFound()) {
                continue;
            }
            String b = s.backend();
            AlertProperties.Effective t = properties.of(b);
            book.check(Alert.LAG, b, s.lagSeconds(), t.lagSeconds(), s.lagSeconds() >= t.lagSeconds(), now,
                    "the oldest undelivered event is %.0f s old (threshold %.0f s)");
            book.check(Alert.DEAD_LETTERS, b, s.deadLetters(), t.deadLetters(), s.deadLetters() >= t.deadLetters(), now,
                    "%.0f open dead letters (threshold %.0f)");
            double[] rate = failureRate(b);
            // Fewer attempts than the minimum hold the alert as it is (a long backoff spaces the failing
            // attempts out); none at all in the window clears it.
            Boolean failing = rate[1] == 0 ? Boolean.FALSE
                    : rate[1] < properties.failureMinAttempts() ? null : rate[0] >= t.failureRate();
            book.check(Alert.FAILURE_RATE, b, rate[0], t.failureRate(), failing, now,
                    "%.2f of the deliveries failed in the window (threshold %.2f)");
            double limit = t.noProgress().toMillis() / 1000.0;
            // A paused backend is not expected to progress: the operator chose it.
            book.check(Alert.NO_PROGRESS, b, s.stalledSeconds(), limit, !s.paused() && s.stalledSeconds() >= limit, now,
                    "no progress for %.0f s with a backlog (threshold %.0f s)");
        }
    }

    /** {failed share, attempts} of the backend's deliveries in the last failure window. */
    private double[] failureRate(String backend) {
        Deque<Attempt> d = attempts.get(backend);
        if (d == null) {
            return new double[] {0, 0};
        }
        synchronized (d) {
            long horizon = System.nanoTime() - properties.failureWindow().toNanos();
            while (!d.isEmpty() && d.peekFirst().nanos() - horizon < 0) {
                d.pollFirst();
            }
            long failed = d.stream().filter(Attempt::failed).count();
            return new double[] {d.isEmpty() ? 0 : (double) failed / d.size(), d.size()};
        }
    }

    private void record(String backend, boolean failed) {
        Deque<Attempt> d = attempts.get(backend);
        if (d == null) {
            return;
        }
        synchronized (d) {
            d.addLast(new Attempt(System.nanoTime(), failed));
            if (d.size() > 10_000) {
                d.pollFirst();
            }
        }
    }

    @Override
    public void batchDelivered(String backend, int events, int applied, int skipped, int failed, long nanos) {
        record(backend, false);
    }

    @Override
    public void backendFailed(String backend, int consecutiveFailures, Throwable cause) {
        record(backend, true);
    }
}
