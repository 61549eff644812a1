package io.vectorsync.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.Map;

/**
 * Help texts for the meters that libraries register without one (Spring's HTTP and Security
 * observations, Tomcat's sessions, a few of Camel's), so every metric in the scrape says what it
 * counts; {@code promtool check metrics} requires it. A meter that has a description keeps it. The
 * longest matching name prefix wins; a meter that matches none is left alone, and the scrape test
 * ({@code ActuatorConventionsIT}) names it.
 */
final class MeterHelpTexts implements MeterFilter {

    private static final Map<String, String> BY_PREFIX = Map.ofEntries(
            Map.entry("app.info", "Camel's version and runtime, as labels (always 1)"),
            Map.entry("camel.exchange.event.notifier",
                    "Time Camel took to process an exchange, by endpoint and outcome"),
            Map.entry("camel.routes.added", "Camel routes added to the context"),
            Map.entry("camel.routes.reloaded", "Camel routes reloaded"),
            Map.entry("camel.routes.running", "Camel routes running"),
            Map.entry("http.server.requests", "HTTP requests served, by method, URI pattern, status and outcome"),
            Map.entry("http.server.requests.active", "HTTP requests being served now"),
            Map.entry("http.client.requests", "Outgoing HTTP requests, by method, URI pattern, status and outcome"),
            Map.entry("http.client.requests.active", "Outgoing HTTP requests in flight"),
            Map.entry("spring.security.filterchains",
                    "Requests through Spring Security's filter chain, before and after each filter"),
            Map.entry("spring.security.authorizations", "Spring Security authorization decisions"),
            Map.entry("spring.security.http.secured.requests",
                    "Requests handled by a secured Spring Security filter chain"),
            Map.entry("spring.security.http.unsecured.requests",
                    "Requests that no Spring Security filter chain secured"),
            Map.entry("tomcat.sessions", "Tomcat HTTP sessions (the API is stateless: normally none)"));

    @Override
    public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null && !id.getDescription().isBlank()) {
            return id;
        }
        String help = helpFor(id.getName());
        return help == null ? id
                : new Meter.Id(id.getName(), Tags.of(id.getTags()), id.getBaseUnit(), help, id.getType());
    }

    static String helpFor(String name) {
        String best = null;
        for (String prefix : BY_PREFIX.keySet()) {
            boolean matches = name.equals(prefix) || name.startsWith(prefix + '.');
            if (matches && (best == null || prefix.length() > best.length())) {
                best = prefix;
            }
        }
        return best == null ? null : BY_PREFIX.get(best);
    }
}
