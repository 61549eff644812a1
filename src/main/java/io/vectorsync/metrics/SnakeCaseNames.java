package io.vectorsync.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.NamingConvention;
import io.micrometer.prometheusmetrics.PrometheusNamingConvention;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Prometheus names with every camelCase hump turned into snake_case, in metric names and label names
 * alike, then Micrometer's Prometheus convention (dots to underscores, units, {@code _total}). Camel's
 * meters carry camelCase tag keys ({@code routeId}, {@code camelContext}, {@code eventType}) whichever
 * {@code camel.metrics.naming-strategy} is set, and Spring Security names one meter after a filter
 * class; {@code promtool check metrics} refuses both. Our own meters are lowercase already: unchanged.
 */
final class SnakeCaseNames implements NamingConvention {

    private static final Pattern HUMP = Pattern.compile("([a-z0-9])([A-Z])");

    private final NamingConvention prometheus = new PrometheusNamingConvention();

    @Override
    public String name(String name, Meter.Type type, String baseUnit) {
        return prometheus.name(snake(name), type, baseUnit);
    }

    @Override
    public String tagKey(String key) {
        return prometheus.tagKey(snake(key));
    }

    @Override
    public String tagValue(String value) {
        return prometheus.tagValue(value);
    }

    static String snake(String name) {
        return HUMP.matcher(name).replaceAll("$1_$2").toLowerCase(Locale.ROOT);
    }
}
