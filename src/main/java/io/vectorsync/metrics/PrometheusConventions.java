package io.vectorsync.metrics;

import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.springframework.boot.actuate.autoconfigure.metrics.MeterRegistryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Makes {@code /actuator/prometheus} follow Prometheus' conventions, as {@code promtool check metrics}
 * checks them: snake_case metric and label names ({@link SnakeCaseNames}) and a help text on every
 * metric ({@link MeterHelpTexts}). The three JVM meters whose names carry abbreviated units or a
 * {@code _count} suffix are switched off in application.yaml ({@code management.metrics.enable}).
 */
@Configuration(proxyBeanMethods = false)
class PrometheusConventions {

    @Bean
    MeterRegistryCustomizer<PrometheusMeterRegistry> snakeCasePrometheusNames() {
        return registry -> registry.config().namingConvention(new SnakeCaseNames());
    }

    @Bean
    MeterFilter meterHelpTexts() {
        return new MeterHelpTexts();
    }
}
