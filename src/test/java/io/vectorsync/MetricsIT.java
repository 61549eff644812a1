package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * The relay's statistics as operators see them: the admin status per backend, the gauges at
 * /actuator/prometheus (with backend tags, next to Camel's route metrics, and no SQL text anywhere),
 * the backend and outbox health groups, and the metric names the Prometheus rules and the Grafana
 * dashboard use, all of which the scrape must contain.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.metrics.refresh-interval=200ms"})
@AutoConfigureObservability(tracing = false)
class MetricsIT extends AbstractIT {

    private JsonNode replicaStatus() throws Exception {
        ResponseEntity<String> r = adminGet("/admin/v1/status");
        assertThat(r.getStatusCode().value()).isEqualTo(200);
        for (JsonNode b : json.readTree(r.getBody()).get("backends")) {
            if (b.get("backend").asText().equals("replica")) {
                return b;
            }
        }
        throw new AssertionError("no replica in " + r.getBody());
    }

    private String scrape() {
        ResponseEntity<String> r = http.getForEntity("/actuator/prometheus", String.class);
        assertThat(r.getStatusCode().value()).isEqualTo(200);
        return r.getBody();
    }

    private static double sample(String scrape, String metric, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(metric) + "\\{(.*)\\} (\\S+)$").matcher(scrape);
        while (m.find()) {
            if (m.group(1).contains(labels)) {
                return Double.parseDouble(m.group(2));
            }
        }
        throw new AssertionError(metric + "{" + labels + "} is not in the scrape; it has "
                + scrape.lines().filter(l -> l.startsWith(metric + "{")).toList());
    }

    @Test
    void statusAndGaugesShowTheBacklogWhilePausedAndNothingOnceCaughtUp() throws Exception {
        put("m-0", chunkBody("first"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5)).until(() -> replicaStatus().get("backlog").asLong() == 0);
        JsonNode caughtUp = replicaStatus();
        assertThat(caughtUp.get("lagSeconds").asDouble()).isZero();
        assertThat(caughtUp.get("parked").asLong()).isZero();
        assertThat(caughtUp.get("deadLetters").asLong()).isZero();
        assertThat(caughtUp.get("circuit").asText()).isEqualTo("closed");
        assertThat(caughtUp.get("lastProgressAt").asText()).isNotBlank();
        assertThat(caughtUp.get("lastPollAgeSeconds").asDouble()).isBetween(0.0, 5.0);
        assertThat(caughtUp.get("paused").asBoolean()).isFalse();
        assertThat(caughtUp.has("leaseOwner")).isTrue();

        jdbc.update("UPDATE relay_cursor SET paused = true WHERE backend = 'replica'");
        for (int i = 1; i <= 3; i++) {
            put("m-" + i, chunkBody("while paused " + i));
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode s = replicaStatus();
            assertThat(s.get("backlog").asLong()).isEqualTo(3);
            assertThat(s.get("lagSeconds").asDouble()).isGreaterThan(0);
            assertThat(s.get("paused").asBoolean()).isTrue();
        });
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String body = scrape();
            assertThat(sample(body, "vectorsync_backlog_events", "backend=\"replica\"")).isEqualTo(3);
            assertThat(sample(body, "vectorsync_paused", "backend=\"replica\"")).isEqualTo(1);
            assertThat(sample(body, "vectorsync_lag_seconds", "backend=\"replica\"")).isGreaterThan(0);
        });
        // Paused is not DOWN: the operator chose it.
        ResponseEntity<String> health = http.getForEntity("/actuator/health/backend-replica", String.class);
        assertThat(health.getStatusCode().value()).as(health.getBody()).isEqualTo(200);
        JsonNode h = json.readTree(health.getBody());
        assertThat(h.get("status").asText()).isEqualTo("UP");
        assertThat(h.at("/components/relay-backend-replica/details/paused").asBoolean()).isTrue();
        assertThat(h.at("/components/relay-backend-replica/details/backlog").asLong()).isEqualTo(3);

        jdbc.update("UPDATE relay_cursor SET paused = false WHERE backend = 'replica'");
        awaitReplicaInStep(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            String body = scrape();
            assertThat(sample(body, "vectorsync_backlog_events", "backend=\"replica\"")).isZero();
            assertThat(sample(body, "vectorsync_lag_seconds", "backend=\"replica\"")).isZero();
            assertThat(sample(body, "vectorsync_paused", "backend=\"replica\"")).isZero();
        });
        JsonNode after = replicaStatus();
        assertThat(after.get("backlog").asLong()).isZero();
        assertThat(after.get("lagSeconds").asDouble()).isZero();
    }

    @Test
    void theScrapeHasTheRelayMetersWithBackendTagsCamelRouteMetricsAndNoSqlText() {
        put("s-0", chunkBody("scraped"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        String body = scrape();
        assertThat(body).doesNotContain("SELECT").doesNotContain("INSERT").doesNotContain("select ")
                .doesNotContain("UPDATE ");
        for (String gauge : new String[] {"vectorsync_backlog_events", "vectorsync_lag_seconds",
                "vectorsync_parked_events", "vectorsync_dead_letters", "vectorsync_circuit_state", "vectorsync_paused",
                "vectorsync_backing_off", "vectorsync_stalled_seconds", "vectorsync_last_poll_age_seconds"}) {
            assertThat(body).as(gauge).containsPattern("(?m)^" + gauge + "\\{[^}]*backend=\"replica\"[^}]*\\} ");
        }
        // The circuit's state is a label: 1 on the current state's series, 0 on the others.
        assertThat(sample(body, "vectorsync_circuit_state", "backend=\"replica\",state=\"closed\"")).isEqualTo(1);
        assertThat(sample(body, "vectorsync_circuit_state", "backend=\"replica\",state=\"open\"")).isZero();
        assertThat(sample(body, "vectorsync_circuit_state", "backend=\"replica\",state=\"half_open\"")).isZero();
        assertThat(sample(body, "vectorsync_last_poll_age_seconds", "backend=\"replica\"")).isBetween(0.0, 5.0);
        assertThat(sample(body, "vectorsync_relay_batch_size_count", "backend=\"replica\"")).isGreaterThanOrEqualTo(1);
        assertThat(sample(body, "vectorsync_relay_delivery_seconds_count", "backend=\"replica\""))
                .isGreaterThanOrEqualTo(1);
        assertThat(sample(body, "vectorsync_relay_events_total", "outcome=\"read\"")).isGreaterThanOrEqualTo(1);
        assertThat(sample(body, "vectorsync_relay_failures_total", "backend=\"replica\"")).isZero();
        assertThat(sample(body, "vectorsync_alerts_active", "alert=\"lag\"")).isZero();
        assertThat(sample(body, "vectorsync_alerts_fired_total", "alert=\"no_progress\"")).isZero();
        // Camel's own route metrics stay.
        assertThat(body).containsPattern("(?m)^camel_exchanges_[a-z_]*\\{[^}]*route_id=\"relay-replica\"");
        // Tags stay bounded: only backend, outcome, alert (four names), what (retention: outbox,
        // dead_letter or jobs), state (the circuit's three), and on the job meters type (the registered job types),
        // status (the job statuses) and kind (transient, permanent, lease).
        Matcher m = Pattern.compile("(?m)^vectorsync_[a-z_]+\\{([^}]*)\\}").matcher(body);
        while (m.find()) {
            for (String label : m.group(1).split(",")) {
                assertThat(label.substring(0, label.indexOf('='))).isIn("backend", "outcome", "alert", "what",
                        "state", "type", "status", "kind", "le", "application");
            }
        }
    }

    /** PUTs served by the hot path (ChunkPutFilter) and by Spring MVC count in one series, by status. */
    @Test
    void putsCountUnderTheirPathPatternOnBothPaths() {
        String created = "method=\"PUT\",outcome=\"SUCCESS\",status=\"201\",uri=\"/api/v1/chunks/{chunkId}\"";
        String refused = "method=\"PUT\",outcome=\"CLIENT_ERROR\",status=\"400\",uri=\"/api/v1/chunks/{chunkId}\"";
        put("p-0", chunkBody("warm"));
        put("p-0", "{}");
        String before = scrape();
        HttpHeaders viaSpring = new HttpHeaders();
        viaSpring.setContentType(MediaType.APPLICATION_JSON);
        viaSpring.set("Accept", "application/json;q=0.9");
        for (int i = 1; i <= 3; i++) {
            assertThat(put("p-hot-" + i, chunkBody("hot")).getStatusCode().value()).isEqualTo(201);
            assertThat(http.exchange("/api/v1/chunks/p-mvc-" + i, HttpMethod.PUT,
                    new HttpEntity<>(write(chunkBody("mvc")), viaSpring), String.class).getStatusCode().value())
                    .isEqualTo(201);
        }
        assertThat(put("p-hot-bad", "{}").getStatusCode().value()).isEqualTo(400);
        assertThat(http.exchange("/api/v1/chunks/p-mvc-bad", HttpMethod.PUT, new HttpEntity<>("{}", viaSpring),
                String.class).getStatusCode().value()).isEqualTo(400);
        String after = scrape();
        assertThat(sample(after, "http_server_requests_seconds_count", created)
                - sample(before, "http_server_requests_seconds_count", created)).isEqualTo(6.0);
        assertThat(sample(after, "http_server_requests_seconds_count", refused)
                - sample(before, "http_server_requests_seconds_count", refused)).isEqualTo(2.0);
    }

    @Test
    void everyMetricTheRulesAndTheDashboardUseIsInTheScrape() throws Exception {
        put("d-0", chunkBody("dashboard"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        Set<String> exported = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").matcher(scrape());
        while (m.find()) {
            exported.add(m.group(1));
        }
        // A device's sync metrics (vectorsync_sync_*) are not on a server: SyncCliIT checks them in a device's scrape.
        Set<String> rules = serverMetrics(Files.readString(Path.of("deploy/prometheus/alerts.yml")));
        Set<String> dashboard = new TreeSet<>();
        for (JsonNode panel : json.readTree(Path.of("deploy/grafana/vectorsync.json").toFile()).get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                dashboard.addAll(serverMetrics(target.get("expr").asText()));
            }
        }
        assertThat(rules).hasSizeGreaterThanOrEqualTo(5);
        assertThat(dashboard).hasSizeGreaterThanOrEqualTo(12);
        assertThat(exported).containsAll(rules).containsAll(dashboard);
    }

    private static Set<String> serverMetrics(String text) {
        Set<String> names = metricNames(text);
        names.removeIf(n -> n.startsWith("vectorsync_sync_"));
        return names;
    }

    private static Set<String> metricNames(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\bvectorsync_[a-z_]+").matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }
}
