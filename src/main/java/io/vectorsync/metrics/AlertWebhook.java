package io.vectorsync.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.AlertProperties;
import io.vectorsync.routes.RouteNudge;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Posts alert events as JSON to {@code vectorsync.alerts.webhook-url}, best effort: a bounded queue of
 * {@value #QUEUE} events (the oldest waiting event is dropped when it is full) drained by the route
 * {@code housekeeping-alert-webhook} ({@code routes/housekeeping.camel.yaml}), one event after the
 * other on that route's thread, with connect and request timeouts of {@code webhook-timeout} and no
 * retry. Never blocks the caller (the alert evaluator): {@link #post} queues and nudges the route. A device has
 * it too, for its sync alert ({@link SyncStuckAlert}), drained by its route {@code sync-alert-webhook}
 * ({@code routes/sync.camel.yaml}).
 */
@Component
public class AlertWebhook {

    private static final Logger log = LoggerFactory.getLogger(AlertWebhook.class);
    static final int QUEUE = 100;
    /** The route that drains the queue consumes this nudge queue. */
    static final String NUDGE = "alert-webhook";

    private final AlertProperties properties;
    private final ObjectMapper json;
    private final RouteNudge nudge;
    private final HttpClient client;
    private final Deque<Map<String, Object>> waiting = new ArrayDeque<>();

    public AlertWebhook(AlertProperties properties, ObjectMapper json, RouteNudge nudge) {
        this.properties = properties;
        this.json = json;
        this.nudge = nudge;
        this.client = HttpClient.newBuilder()
                .connectTimeout(properties.webhookTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** Queues the event for posting; returns at once. Does nothing without a webhook URL. */
    public void post(Map<String, Object> event) {
        if (!properties.hasWebhook()) {
            return;
        }
        synchronized (waiting) {
            if (waiting.size() >= QUEUE) {
                waiting.pollFirst();
            }
            waiting.addLast(event);
        }
        nudge.nudge(NUDGE);
    }

    /** Posts every queued event, oldest first (route {@code housekeeping-alert-webhook}). */
    public void drain() {
        for (Map<String, Object> event = next(); event != null; event = next()) {
            send(event);
        }
    }

    private Map<String, Object> next() {
        synchronized (waiting) {
            return waiting.pollFirst();
        }
    }

    private void send(Map<String, Object> event) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(properties.webhookUrl()))
                    .timeout(properties.webhookTimeout())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(event)))
                    .build();
            HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
            if (response.statusCode() >= 300) {
                log.warn("The alert webhook answered {} to {} {} ({})", response.statusCode(), event.get("event"),
                        event.get("code"), event.get("backend"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.warn("Cannot post {} {} ({}) to the alert webhook: {}", event.get("event"), event.get("code"),
                    event.get("backend"), e.toString());
        }
    }
}
