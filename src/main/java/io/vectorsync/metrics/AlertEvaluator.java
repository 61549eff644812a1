package io.vectorsync.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.AlertProperties;
import io.vectorsync.relay.RelayListener;
import io.vectorsync.relay.RelayStats;
import jakarta.annotation.PostConstruct;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
 * once when it is back under (INFO log, webhook). Logs carry backend, value and threshold, never an
 * event's contents.
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
        NO_PROGRESS("VSYNC-ALERT-NO-PROGRESS", "no_progress");

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

    private record Key(Alert alert, String backend) {}

    private record Attempt(long nanos, boolean failed) {}

    private final RelayStats stats;
    private final AlertProperties properties;
    private final AlertWebhook webhook;
    private final MeterRegistry registry;
    private final Map<Key, ActiveAlert> active = new ConcurrentHashMap<>();
    private final Map<String, Deque<Attempt>> attempts = new ConcurrentHashMap<>();

    public AlertEvaluator(RelayStats stats, AlertProperties properties, AlertWebhook webhook, MeterRegistry registry) {
        this.stats = stats;
        this.properties = properties;
        this.webhook = webhook;
        this.registry = registry;
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
            for (Alert a : Alert.values()) {
                Counter.builder("vectorsync.alerts.fired")
                        .description("Alerts fired, by alert and backend")
                        .tag("alert", a.tag())
                        .tag("backend", backend)
                        .register(registry);
                Key key = new Key(a, backend);
                Gauge.builder("vectorsync.alerts.active", active, m -> m.containsKey(key) ? 1 : 0)
                        .description("1 while the alert is active for the backend, else 0")
                        .tag("alert", a.tag())
                        .tag("backend", backend)
                        .register(registry);
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
        List<ActiveAlert> list = new ArrayList<>(active.values());
        list.sort(Comparator.comparing(ActiveAlert::since).thenComparing(ActiveAlert::backend)
                .thenComparing(ActiveAlert::alert));
        return list;
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
            check(Alert.LAG, b, s.lagSeconds(), t.lagSeconds(), s.lagSeconds() >= t.lagSeconds(), now,
                    "the oldest undelivered event is %.0f s old (threshold %.0f s)");
            check(Alert.DEAD_LETTERS, b, s.deadLetters(), t.deadLetters(), s.deadLetters() >= t.deadLetters(), now,
                    "%.0f open dead letters (threshold %.0f)");
            double[] rate = failureRate(b);
            // Fewer attempts than the minimum hold the alert as it is (a long backoff spaces the failing
            // attempts out); none at all in the window clears it.
            Boolean failing = rate[1] == 0 ? Boolean.FALSE
                    : rate[1] < properties.failureMinAttempts() ? null : rate[0] >= t.failureRate();
            check(Alert.FAILURE_RATE, b, rate[0], t.failureRate(), failing, now,
                    "%.2f of the deliveries failed in the window (threshold %.2f)");
            double limit = t.noProgress().toMillis() / 1000.0;
            // A paused backend is not expected to progress: the operator chose it.
            check(Alert.NO_PROGRESS, b, s.stalledSeconds(), limit, !s.paused() && s.stalledSeconds() >= limit, now,
                    "no progress for %.0f s with a backlog (threshold %.0f s)");
        }
    }

    /** Fires or clears one alert; {@code crossed} null leaves it as it is. */
    private void check(Alert alert, String backend, double value, double threshold, Boolean crossed, Instant now,
            String what) {
        if (crossed == null) {
            return;
        }
        Key key = new Key(alert, backend);
        String message = String.format(Locale.ROOT, what, value, threshold);
        if (crossed && !active.containsKey(key)) {
            ActiveAlert a = new ActiveAlert(alert.tag(), alert.code(), backend, value, threshold, now, message);
            active.put(key, a);
            registry.counter("vectorsync.alerts.fired", "alert", alert.tag(), "backend", backend).increment();
            log.error("{} fired for backend '{}': {}", alert.code(), backend, message);
            webhook.post(event("fired", a, value, now));
        } else if (!crossed && active.containsKey(key)) {
            ActiveAlert a = active.remove(key);
            log.info("{} cleared for backend '{}': value {} is back under the threshold {}", alert.code(), backend,
                    String.format(Locale.ROOT, "%.2f", value), String.format(Locale.ROOT, "%.2f", threshold));
            webhook.post(event("cleared", a, value, now));
        }
    }

    private static Map<String, Object> event(String kind, ActiveAlert a, double value, Instant now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", kind);
        m.put("alert", a.alert());
        m.put("code", a.code());
        m.put("backend", a.backend());
        m.put("value", value);
        m.put("threshold", a.threshold());
        m.put("since", a.since().toString());
        m.put("at", now.toString());
        m.put("message", a.message());
        return m;
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
