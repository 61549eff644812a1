package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.config.AlertProperties;
import io.vectorsync.routes.RouteNudge;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The alert webhook against a real loopback HTTP server: events arrive as JSON; a receiver that never
 * answers neither blocks the caller nor holds up later events beyond the timeout. The queue is drained by
 * a Camel route as in the application (there {@code housekeeping-alert-webhook} of routes/housekeeping.camel.yaml;
 * here the same nudge queue and bean method in a Camel of its own, without the application's other beans).
 */
class AlertWebhookTest {

    private final ObjectMapper json = new ObjectMapper();
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private HttpServer server;
    private AlertWebhook webhook;
    private final DefaultCamelContext camel = new DefaultCamelContext();
    private final RouteNudge nudge = new RouteNudge(camel, camel.createProducerTemplate());

    private AlertWebhook start(boolean hang) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/hook", exchange -> {
            try (exchange) {
                received.add(json.readTree(exchange.getRequestBody()));
                if (hang) {
                    release.await(30, TimeUnit.SECONDS);
                }
                exchange.sendResponseHeaders(204, -1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.start();
        AlertProperties p = new AlertProperties(true, Duration.ofSeconds(5), 300, 1, 0.5, Duration.ofMinutes(5), 3,
                Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofMinutes(15), "http://127.0.0.1:" + server.getAddress().getPort() + "/hook",
                Duration.ofMillis(300), Map.of());
        webhook = new AlertWebhook(p, json, nudge);
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from(RouteNudge.uri(AlertWebhook.NUDGE)).routeId("housekeeping-alert-webhook").bean(webhook, "drain");
            }
        });
        camel.start();
        return webhook;
    }

    @AfterEach
    void stop() {
        release.countDown();
        camel.stop();
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void postsTheEventAsJson() throws Exception {
        start(false).post(Map.of("event", "fired", "alert", "lag", "code", "VSYNC-ALERT-LAG", "backend", "replica"));
        await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
        assertThat(received.get(0).get("code").asText()).isEqualTo("VSYNC-ALERT-LAG");
        assertThat(received.get(0).get("event").asText()).isEqualTo("fired");
    }

    @Test
    void aReceiverThatNeverAnswersDoesNotBlockTheCallerAndTimesOut() throws Exception {
        AlertWebhook w = start(true);
        long started = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            w.post(Map.of("event", "fired", "alert", "lag", "code", "VSYNC-ALERT-LAG", "backend", "b" + i));
        }
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(200));
        // Each hung request is given up after the 300 ms timeout, so all three reach the receiver.
        await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 3);
        assertThat(received.stream().map(n -> n.get("backend").asText())).containsExactly("b0", "b1", "b2");
    }

    @Test
    void withoutAUrlNothingIsSent() throws Exception {
        start(false);
        AlertProperties none = new AlertProperties(true, Duration.ofSeconds(5), 300, 1, 0.5, Duration.ofMinutes(5),
                3, Duration.ofMinutes(10), Duration.ofMinutes(15), Duration.ofMinutes(15), null, Duration.ofSeconds(2), Map.of());
        AlertWebhook silent = new AlertWebhook(none, json, nudge);
        silent.post(Map.of("event", "fired"));
        webhook.post(Map.of("event", "marker"));
        await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
        assertThat(received.get(0).get("event").asText()).isEqualTo("marker");
    }
}
