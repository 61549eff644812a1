package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vectorsync.config.AlertProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * deploy/prometheus/alerts.yml is the rendering of the evaluator's default thresholds (ADR 021): this
 * fails when the file differs, so a threshold changed in {@link AlertProperties} changes the rules too.
 * With {@code -Dvectorsync.write-alert-rules=true} it writes the file instead.
 */
class PrometheusAlertRulesTest {

    private static final Path RULES = Path.of("deploy/prometheus/alerts.yml");
    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());

    private static AlertProperties bind(Map<String, String> properties) {
        return new Binder(new MapConfigurationPropertySource(properties))
                .bindOrCreate("vectorsync.alerts", AlertProperties.class);
    }

    @Test
    void theShippedRulesAreTheRenderingOfTheDefaultThresholds() throws Exception {
        String rendered = PrometheusAlertRules.render(bind(Map.of()));
        if (Boolean.getBoolean("vectorsync.write-alert-rules")) {
            Files.writeString(RULES, rendered);
        }
        assertThat(Files.readString(RULES))
                .as("%s differs from the default thresholds' rules: run ./mvnw -B -o -q test"
                        + " -Dtest=PrometheusAlertRulesTest -Dvectorsync.write-alert-rules=true", RULES)
                .isEqualTo(rendered);
    }

    @Test
    void everyRuleCarriesItsCodeAndRunbookAndTheDownAlertWatchesTheScrape() throws Exception {
        List<String> alerts = new ArrayList<>();
        for (JsonNode rule : yaml.readTree(PrometheusAlertRules.render(bind(Map.of()))).at("/groups/0/rules")) {
            String name = rule.path("alert").asText();
            alerts.add(name);
            assertThat(rule.at("/labels/code").asText()).as(name).startsWith("VSYNC-ALERT-");
            assertThat(rule.at("/annotations/runbook_url").asText()).as(name)
                    .isEqualTo("docs/metrics.md#alert-" + name.toLowerCase(Locale.ROOT));
            if (name.equals("VectorsyncDown")) {
                assertThat(rule.path("expr").asText()).contains("up{job=\"vectorsync\"} == 0")
                        .contains("absent(up{job=\"vectorsync\"})");
            }
        }
        assertThat(alerts).containsExactly("VectorsyncDown", "VectorsyncLag", "VectorsyncDeadLetters",
                "VectorsyncFailureRate", "VectorsyncNoProgress", "VectorsyncSyncStuck", "VectorsyncJobsStale");
    }

    @Test
    void changedThresholdsAndAPerBackendOverrideAreRendered() throws Exception {
        AlertProperties p = bind(Map.of("vectorsync.alerts.lag-seconds", "120",
                "vectorsync.alerts.failure-window", "10m",
                "vectorsync.alerts.backends.search.lag-seconds", "900"));
        JsonNode rules = yaml.readTree(PrometheusAlertRules.render(p)).at("/groups/0/rules");
        String lag = rules.get(1).path("expr").asText();
        assertThat(lag).contains("max by (backend) (vectorsync_lag_seconds{backend!~\"search\"}) >= 120")
                .contains("max by (backend) (vectorsync_lag_seconds{backend=\"search\"}) >= 900");
        assertThat(rules.get(2).path("expr").asText()).isEqualTo("max by (backend) (vectorsync_dead_letters) >= 1");
        assertThat(rules.get(3).path("expr").asText()).contains("[10m]").doesNotContain("[5m]");
    }
}
