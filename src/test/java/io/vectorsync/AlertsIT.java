package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import io.vectorsync.support.TcpProxy;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Alerts on a real relay: the backend (the replica, reached through a TCP proxy) goes away, so the
 * lag, no-progress and failure-rate alerts fire once each (ERROR log with the code, counter, the
 * /actuator/alerts endpoint, one webhook POST to a real HTTP server), the backend's health group and
 * the outbox group go DOWN while liveness and readiness stay UP; when the backend is back the alerts
 * clear once (INFO log, webhook) and the groups are UP again. A poison event dead-lettered fires the
 * dead-letters alert, and discarding it clears it.
 */
@ExtendWith(OutputCaptureExtension.class)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.metrics.refresh-interval=200ms",
        "vectorsync.alerts.evaluate-interval=200ms",
        "vectorsync.alerts.lag-seconds=2",
        "vectorsync.alerts.no-progress=3s",
        "vectorsync.alerts.failure-window=10s",
        "vectorsync.alerts.failure-min-attempts=2",
        "vectorsync.alerts.webhook-timeout=1s",
        "vectorsync.relay.max-attempts=2",
        "vectorsync.relay.health-probe-interval=300ms"})
class AlertsIT extends AbstractIT {

    private static final TcpProxy PROXY = TcpProxy.toTestPostgres();
    private static final List<JsonNode> WEBHOOK = new CopyOnWriteArrayList<>();
    private static final LoopbackReceiver RECEIVER = LoopbackReceiver.start(exchange -> {
        if (!exchange.getRequestMethod().equals("POST")
                || !exchange.getRequestHeaders().getFirst("Content-Type").startsWith("application/json")) {
            LoopbackReceiver.respond(exchange, 400);
            return;
        }
        WEBHOOK.add(LoopbackReceiver.body(exchange));
        LoopbackReceiver.respond(exchange, 204);
    });
    private static final String SECRET = "alert-test-content-that-must-never-be-logged";

    @DynamicPropertySource
    static void backendThroughTheProxyAndTheWebhook(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.replica.postgres.jdbc-url",
                () -> "jdbc:postgresql://127.0.0.1:" + PROXY.port() + "/${vectorsync.test.database}");
        registry.add("vectorsync.backends.replica.postgres.username", () -> TestDatabases.USER);
        registry.add("vectorsync.backends.replica.connect-timeout", () -> "250ms");
        registry.add("vectorsync.alerts.webhook-url", () -> RECEIVER.url("/alerts"));
    }

    @AfterAll
    static void stop() {
        PROXY.close();
        RECEIVER.close();
    }

    @Autowired
    private MeterRegistry meters;

    private JsonNode activeAlerts() throws Exception {
        ResponseEntity<String> r = adminGet("/actuator/alerts");
        assertThat(r.getStatusCode().value()).isEqualTo(200);
        return json.readTree(r.getBody()).get("alerts");
    }

    private JsonNode activeAlert(String alert) throws Exception {
        for (JsonNode a : activeAlerts()) {
            if (a.get("alert").asText().equals(alert) && a.get("backend").asText().equals("replica")) {
                return a;
            }
        }
        return null;
    }

    private double fired(String alert) {
        return meters.get("vectorsync.alerts.fired").tags("alert", alert, "backend", "replica").counter().count();
    }

    private long webhookEvents(String event, String alert) {
        return WEBHOOK.stream().filter(e -> e.get("event").asText().equals(event)
                && e.get("alert").asText().equals(alert) && e.get("backend").asText().equals("replica")).count();
    }

    private boolean circuitSeenOpen() throws Exception {
        JsonNode backends = json.readTree(adminGet("/admin/v1/status").getBody()).get("backends");
        if (!backends.get(0).get("circuit").asText().equals("open")) {
            return false;
        }
        double closed = meters.get("vectorsync.circuit.state").tags("backend", "replica", "state", "closed").gauge()
                .value();
        JsonNode health = json.readTree(http.getForEntity("/actuator/health/backend-replica", String.class).getBody());
        // The breaker may move to half-open between the reads; open is what status saw.
        return closed == 0 && health.get("status").asText().equals("DOWN")
                && !health.at("/components/relay-backend-replica/details/circuit").asText().equals("closed");
    }

    private int status(String path) {
        return http.getForEntity(path, String.class).getStatusCode().value();
    }

    private static int occurrences(String text, String regex) {
        return (int) Pattern.compile(regex).matcher(text).results().count();
    }

    @Test
    void anOutageFiresLagNoProgressAndFailureRateOnceAndClearsThemWhenTheBackendIsBack(CapturedOutput output)
            throws Exception {
        put("a-0", chunkBody("before"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5)).until(() -> activeAlert("lag") == null);
        assertThat(status("/actuator/health/backend-replica")).isEqualTo(200);
        assertThat(status("/actuator/health/outbox")).isEqualTo(200);

        PROXY.stop();
        for (int i = 1; i <= 3; i++) {
            put("a-" + i, chunkBody(SECRET + " " + i));
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(activeAlert("lag")).isNotNull();
            assertThat(activeAlert("no_progress")).isNotNull();
            assertThat(activeAlert("failure_rate")).isNotNull();
        });
        JsonNode lag = activeAlert("lag");
        assertThat(lag.get("code").asText()).isEqualTo("VSYNC-ALERT-LAG");
        assertThat(lag.get("threshold").asDouble()).isEqualTo(2.0);
        assertThat(lag.get("value").asDouble()).isGreaterThanOrEqualTo(2.0);
        assertThat(lag.get("since").asText()).isNotBlank();
        assertThat(activeAlert("no_progress").get("code").asText()).isEqualTo("VSYNC-ALERT-NO-PROGRESS");
        assertThat(activeAlert("failure_rate").get("code").asText()).isEqualTo("VSYNC-ALERT-FAILURE-RATE");

        // Failing calls open the backend route's circuit breaker: status, health and gauge show it.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> circuitSeenOpen());

        // The backend's group and the outbox are DOWN; liveness and readiness are not concerned.
        await().atMost(Duration.ofSeconds(10)).until(() -> status("/actuator/health/backend-replica") == 503);
        JsonNode group = json.readTree(http.getForEntity("/actuator/health/backend-replica", String.class).getBody());
        assertThat(group.get("status").asText()).isEqualTo("DOWN");
        assertThat(group.at("/components/relay-backend-replica/details/backlog").asLong()).isEqualTo(3);
        assertThat(group.at("/components/relay-backend-replica/details/paused").asBoolean()).isFalse();
        assertThat(group.at("/components/relay-backend-replica/details/circuit").asText())
                .isIn("closed", "half-open", "open");
        assertThat(status("/actuator/health/outbox")).isEqualTo(503);
        assertThat(status("/actuator/health")).isEqualTo(503); // the root aggregates everything (README)
        assertThat(status("/actuator/health/liveness")).isEqualTo(200);
        assertThat(status("/actuator/health/readiness")).isEqualTo(200);

        // Fired once: still one of each after more evaluations, one webhook event each.
        await().atMost(Duration.ofSeconds(5)).until(() -> webhookEvents("fired", "lag") == 1
                && webhookEvents("fired", "no_progress") == 1 && webhookEvents("fired", "failure_rate") == 1);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(4)).until(() -> fired("lag") == 1
                && fired("no_progress") == 1 && fired("failure_rate") == 1 && webhookEvents("fired", "lag") == 1);
        assertThat(meters.get("vectorsync.alerts.active").tags("alert", "lag", "backend", "replica").gauge().value())
                .isEqualTo(1);
        JsonNode posted = WEBHOOK.stream().filter(e -> e.get("alert").asText().equals("lag")).findFirst().orElseThrow();
        assertThat(posted.get("code").asText()).isEqualTo("VSYNC-ALERT-LAG");
        assertThat(posted.get("threshold").asDouble()).isEqualTo(2.0);

        PROXY.start();
        awaitReplicaInStep(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(activeAlert("lag")).isNull();
            assertThat(activeAlert("no_progress")).isNull();
            assertThat(activeAlert("failure_rate")).isNull();
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> webhookEvents("cleared", "lag") == 1
                && webhookEvents("cleared", "no_progress") == 1 && webhookEvents("cleared", "failure_rate") == 1);
        assertThat(fired("lag")).isEqualTo(1);
        assertThat(meters.get("vectorsync.alerts.active").tags("alert", "lag", "backend", "replica").gauge().value())
                .isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> status("/actuator/health/backend-replica") == 200
                && status("/actuator/health/outbox") == 200 && status("/actuator/health") == 200);

        String log = output.getAll();
        assertThat(occurrences(log, "ERROR .*VSYNC-ALERT-LAG fired for backend 'replica'")).isOne();
        assertThat(occurrences(log, "ERROR .*VSYNC-ALERT-NO-PROGRESS fired for backend 'replica'")).isOne();
        assertThat(occurrences(log, "ERROR .*VSYNC-ALERT-FAILURE-RATE fired for backend 'replica'")).isOne();
        assertThat(occurrences(log, "INFO .*VSYNC-ALERT-LAG cleared for backend 'replica'")).isOne();
        assertThat(log).doesNotContain(SECRET);
    }

    @Test
    void aDeadLetterFiresTheDeadLettersAlertAndDiscardingItClearsIt(CapturedOutput output) throws Exception {
        jdbc.execute("ALTER TABLE replica_chunks ADD CONSTRAINT no_poison"
                + " CHECK (document_id IS DISTINCT FROM 'poison') NOT VALID");
        try {
            Map<String, Object> poison = chunkBody(SECRET);
            poison.put("documentId", "poison");
            put("dl-1", poison);
            await().atMost(Duration.ofSeconds(30)).until(() -> activeAlert("dead_letters") != null);
            JsonNode alert = activeAlert("dead_letters");
            assertThat(alert.get("code").asText()).isEqualTo("VSYNC-ALERT-DEAD-LETTERS");
            assertThat(alert.get("value").asDouble()).isEqualTo(1.0);
            await().atMost(Duration.ofSeconds(5)).until(() -> webhookEvents("fired", "dead_letters") == 1);
            assertThat(fired("dead_letters")).isEqualTo(1);

            long id = count("SELECT id FROM dead_letter WHERE chunk_id = 'dl-1' AND discarded_at IS NULL");
            assertThat(adminPost("/admin/v1/dead-letters/{id}/discard?reason={r}", id, "alert test")
                    .getStatusCode().value()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> activeAlert("dead_letters") == null);
            await().atMost(Duration.ofSeconds(5)).until(() -> webhookEvents("cleared", "dead_letters") == 1);
            assertThat(fired("dead_letters")).isEqualTo(1);
            assertThat(output.getAll()).contains("VSYNC-ALERT-DEAD-LETTERS cleared for backend 'replica'")
                    .doesNotContain(SECRET);
        } finally {
            jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT IF EXISTS no_poison");
            delete("dl-1"); // the discarded chunk leaves the primary too, so the replica is in step again
        }
    }
}
