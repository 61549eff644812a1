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
 * deploy/grafana: the dashboard is valid JSON whose panels all query the provisioned Prometheus data
 * source with PromQL on vectorsync metrics, and the provisioning files agree with it. (MetricsIT checks
 * the metric names against a real scrape.)
 */
class DashboardTest {

    private static final Pattern METRIC = Pattern.compile("\\bvectorsync_[a-z_]+");

    @Test
    void everyPanelQueriesTheProvisionedDataSourceWithVectorsyncMetrics() throws Exception {
        JsonNode dash = new ObjectMapper().readTree(Path.of("deploy/grafana/vectorsync.json").toFile());
        JsonNode ds = new YAMLMapper().readTree(Path.of("deploy/grafana/provisioning/datasources/prometheus.yml")
                .toFile()).get("datasources").get(0);
        assertThat(ds.get("url").asText()).isEqualTo("http://prometheus:9090");
        String uid = ds.get("uid").asText();
        assertThat(dash.get("uid").asText()).isEqualTo("vectorsync");
        Set<Integer> ids = new HashSet<>();
        Set<String> titles = new HashSet<>();
        for (JsonNode panel : dash.get("panels")) {
            assertThat(ids.add(panel.get("id").asInt())).as("unique panel id").isTrue();
            titles.add(panel.get("title").asText());
            assertThat(panel.at("/datasource/uid").asText()).isEqualTo(uid);
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
                "Failures", "Dead letters (open) and parked events", "Circuit", "Active alerts");
        JsonNode provider = new YAMLMapper().readTree(Path.of("deploy/grafana/provisioning/dashboards/vectorsync.yml")
                .toFile()).get("providers").get(0);
        assertThat(provider.at("/options/path").asText()).isEqualTo("/var/lib/grafana/dashboards");
    }
}
