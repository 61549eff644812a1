package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * The two halves of {@link PrometheusConventions} on a registry of their own: camelCase humps become
 * snake_case in metric and label names, and a meter without a help text gets the one of its longest
 * matching prefix, while a meter with one keeps it. (ActuatorConventionsIT runs promtool on the real scrape.)
 */
class PrometheusConventionsTest {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    PrometheusConventionsTest() {
        registry.config().namingConvention(new SnakeCaseNames()).meterFilter(new MeterHelpTexts());
    }

    @Test
    void camelCaseLabelAndMetricNamesAreScrapedInSnakeCase() {
        Counter.builder("camel.exchanges.total").description("Exchanges").tags("routeId", "relay-a",
                "camelContext", "vectorsync").register(registry).increment();
        Counter.builder("spring.security.filterchains.AuthenticationFilter.after").register(registry);
        Counter.builder("vectorsync.relay.events").description("Events").tags("backend", "a", "outcome", "read")
                .register(registry);

        String scrape = registry.scrape();

        assertThat(scrape).contains("camel_exchanges_total{camel_context=\"vectorsync\",route_id=\"relay-a\"} 1.0")
                .contains("spring_security_filterchains_authentication_filter_after_total ")
                .contains("vectorsync_relay_events_total{backend=\"a\",outcome=\"read\"} 0.0")
                .doesNotContain("routeId").doesNotContain("AuthenticationFilter");
    }

    @Test
    void aMeterWithoutHelpGetsItsLongestPrefixsTextAndOneWithHelpKeepsIt() {
        Meter.Id active = new Meter.Id("http.server.requests.active", Tags.empty(), null, null,
                Meter.Type.LONG_TASK_TIMER);
        Meter.Id requests = new Meter.Id("http.server.requests", Tags.empty(), "seconds", " ", Meter.Type.TIMER);
        Meter.Id described = new Meter.Id("tomcat.sessions.active.max", Tags.empty(), null, "Own text",
                Meter.Type.GAUGE);
        Meter.Id unknown = new Meter.Id("http.serverless", Tags.empty(), null, null, Meter.Type.COUNTER);
        MeterHelpTexts help = new MeterHelpTexts();

        assertThat(help.map(active).getDescription()).isEqualTo("HTTP requests being served now");
        assertThat(help.map(requests).getDescription()).startsWith("HTTP requests served");
        assertThat(help.map(requests).getBaseUnit()).isEqualTo("seconds");
        assertThat(help.map(described).getDescription()).isEqualTo("Own text");
        assertThat(help.map(unknown).getDescription()).as("a prefix matches whole name parts only").isNull();
    }
}
