package io.vectorsync.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.metrics.AlertEvaluator.ActiveAlert;
import io.vectorsync.metrics.AlertEvaluator.Alert;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alerts in force and what their firing and clearing does, used by the server's evaluator (an alert
 * per backend) and a device's ({@link SyncStuckAlert}): an alert fires once when its value reaches the
 * threshold (ERROR log with its code, counter {@code vectorsync.alerts.fired}, gauge
 * {@code vectorsync.alerts.active} at 1, webhook) and clears once when it is back under (INFO log, gauge at 0,
 * webhook). Logs carry the alert's subject, value and threshold, never an event's contents.
 */
final class AlertBook {

    private static final Logger log = LoggerFactory.getLogger(AlertEvaluator.class);

    private record Key(Alert alert, String backend) {}

    private final MeterRegistry registry;
    private final AlertWebhook webhook;
    private final Map<Key, ActiveAlert> active = new ConcurrentHashMap<>();

    AlertBook(MeterRegistry registry, AlertWebhook webhook) {
        this.registry = registry;
        this.webhook = webhook;
    }

    /** The meters of one alert of one backend (tags {@code alert}, {@code backend}), registered before any fires. */
    void register(Alert a, String backend) {
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

    /** The active alerts, oldest first. */
    List<ActiveAlert> active() {
        List<ActiveAlert> list = new ArrayList<>(active.values());
        list.sort(Comparator.comparing(ActiveAlert::since).thenComparing(ActiveAlert::backend)
                .thenComparing(ActiveAlert::alert));
        return list;
    }

    /** Fires or clears one alert; {@code crossed} null leaves it as it is. */
    void check(Alert alert, String backend, double value, double threshold, Boolean crossed, Instant now,
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
}
