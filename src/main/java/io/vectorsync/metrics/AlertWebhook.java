package io.vectorsync.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.AlertProperties;
import jakarta.annotation.PreDestroy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Posts alert events as JSON to {@code vectorsync.alerts.webhook-url}, best effort: one sender thread
 * with a bounded queue (the oldest waiting event is dropped when it is full), connect and request
 * timeouts of {@code webhook-timeout}, no retry. Never blocks the caller (the alert evaluator).
 */
@Component
public class AlertWebhook {

    private static final Logger log = LoggerFactory.getLogger(AlertWebhook.class);

    private final AlertProperties properties;
    private final ObjectMapper json;
    private final HttpClient client;
    private final ThreadPoolExecutor sender;

    public AlertWebhook(AlertProperties properties, ObjectMapper json) {
        this.properties = properties;
        this.json = json;
        this.client = HttpClient.newBuilder()
                .connectTimeout(properties.webhookTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.sender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(100), r -> {
            Thread t = new Thread(r, "vectorsync-alert-webhook");
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.DiscardOldestPolicy());
    }

    /** Queues the event for posting; returns at once. Does nothing without a webhook URL. */
    public void post(Map<String, Object> event) {
        if (!properties.hasWebhook()) {
            return;
        }
        sender.execute(() -> send(event));
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

    @PreDestroy
    void stop() {
        sender.shutdownNow();
    }
}
