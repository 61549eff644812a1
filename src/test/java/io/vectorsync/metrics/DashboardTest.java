package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/grafana: the dashboard is valid JSON whose panels all query the Prometheus data source chosen in
 * its {@code DS_PROMETHEUS} variable (the provisioned one by default, any on import) with PromQL on
 * vectorsync metrics, each panel in one unit, the delivery time as histogram quantiles; the provisioning
 * files agree with it. (MetricsIT checks the metric names against a real scrape.)
 */
class DashboardTest {

    private static final Pattern METRIC = Pattern.compile("\\bvectorsync_[a-z_]+");

    @Test
    void everyPanelQueriesTheProvisionedDataSourceWithVectorsyncMetrics() throws Exception {
        JsonNode dash = new ObjectMapper().readTree(Path.of("deploy/grafana/vectorsync.json").toFile());
        JsonNode ds = new YAMLMapper().readTree(Path.of("deploy/grafana/provisioning/datasources/prometheus.yml")
                .toFile()).get("datasources").get(0);
        assertThat(ds.get("url").asText()).isEqualTo("http://prometheus:9090");
        assertThat(ds.get("uid").asText()).isEqualTo("prometheus");
        assertThat(ds.get("isDefault").asBoolean()).as("the variable's default is the provisioned source").isTrue();
        JsonNode variable = dash.at("/templating/list/0");
        assertThat(variable.get("name").asText()).isEqualTo("DS_PROMETHEUS");
        assertThat(variable.get("type").asText()).isEqualTo("datasource");
        assertThat(variable.get("query").asText()).isEqualTo("prometheus");
        String uid = "${DS_PROMETHEUS}";
        assertThat(dash.toString()).as("no panel or variable names a data source by its uid")
                .doesNotContain("\"uid\":\"prometheus\"");
        assertThat(dash.get("uid").asText()).isEqualTo("vectorsync");
        Set<Integer> ids = new HashSet<>();
        Set<String> titles = new HashSet<>();
        Set<String> rows = new HashSet<>();
        for (JsonNode panel : dash.get("panels")) {
            assertThat(ids.add(panel.get("id").asInt())).as("unique panel id").isTrue();
            if (panel.path("type").asText().equals("row")) {
                // A row groups the panels after it (kept expanded, so they stay top-level); it queries nothing.
                rows.add(panel.get("title").asText());
                assertThat(panel.path("collapsed").asBoolean()).isFalse();
                assertThat(panel.has("targets")).isFalse();
                continue;
            }
            titles.add(panel.get("title").asText());
            assertThat(panel.at("/datasource/uid").asText()).isEqualTo(uid);
            assertThat(panel.at("/fieldConfig/defaults/unit").asText()).as("one unit: " + panel.get("title"))
                    .isNotEmpty();
            assertThat(panel.at("/fieldConfig/overrides").findValues("id")).as("no per-series unit")
                    .noneMatch(id -> id.asText().equals("unit"));
            assertThat(panel.get("targets")).isNotEmpty();
            for (JsonNode t : panel.get("targets")) {
                String expr = t.get("expr").asText();
                assertThat(METRIC.matcher(expr).find()).as(expr).isTrue();
                assertThat(expr).as("balanced parentheses: " + expr)
                        .satisfies(e -> assertThat(e.chars().filter(c -> c == '(').count())
                                .isEqualTo(e.chars().filter(c -> c == ')').count()));
            }
        }
        assertThat(titles).contains("Lag per backend", "Backlog per backend", "Throughput (events read per second)",
                "Failures", "Dead letters (open) and parked events", "Circuit", "Active alerts",
                "Delivery time per batch (p50, p95, p99)", "Device sync queue", "Device oldest queued entry",
                "Device time since last upload and pull", "Device clock skew", "Device sync mode");
        assertThat(rows).containsExactly("Device sync");
        Set<String> quantiles = new HashSet<>();
        for (JsonNode panel : dash.get("panels")) {
            if (panel.get("title").asText().startsWith("Delivery time per batch")) {
                assertThat(panel.at("/fieldConfig/defaults/unit").asText()).isEqualTo("s");
                panel.get("targets").forEach(t -> quantiles.add(t.get("expr").asText()
                        .replaceAll("^histogram_quantile\\((0\\.\\d+), sum by \\(backend, le\\) \\(rate\\("
                                + "vectorsync_relay_delivery_seconds_bucket\\{.*$", "$1")));
            }
        }
        assertThat(quantiles).containsExactlyInAnyOrder("0.5", "0.95", "0.99");
        JsonNode provider = new YAMLMapper().readTree(Path.of("deploy/grafana/provisioning/dashboards/vectorsync.yml")
                .toFile()).get("providers").get(0);
        assertThat(provider.at("/options/path").asText()).isEqualTo("/var/lib/grafana/dashboards");
    }
}
