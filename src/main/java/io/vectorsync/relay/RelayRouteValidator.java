package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.config.ServerOnly;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.camel.CamelContext;
import org.apache.camel.model.CircuitBreakerDefinition;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Makes, checks and starts the relay routes, in that order (ADR 005, ADR 021):
 * <ol>
 *   <li>in Camel's {@link CamelContextConfiguration#beforeApplicationStart}, which camel-spring-boot calls
 *       once it has loaded {@code routes/} (the {@code relay} template among them) and before it starts the
 *       context, {@link RelayInstances} adds {@code relay-<name>} for every enabled backend that no routes
 *       file overrides; then the loaded routes are validated, before Camel builds any of them;</li>
 *   <li>on {@link ApplicationReadyEvent} (backends bootstrapped, cursors created) the relay routes are
 *       started; the template declares them {@code autoStartup: false}.</li>
 * </ol>
 * What the validation can still find is an edit of {@code routes/}: a route without an explicit id; an
 * override ({@code templatedRoute} {@code relay-<name>}) for a backend that is not configured or not
 * enabled, or whose {@code backend} parameter is not {@code <name>}; a relay route that does not use the
 * shared error handling, or whose circuit breaker does not inherit it or does not throw when open (an
 * edited template: docs/design.md, "Camel traps that lose data"). Any of them fails start-up with
 * {@code VSYNC-ROUTES-INVALID} and the list.
 */
@Component
@ServerOnly
public class RelayRouteValidator implements CamelContextConfiguration, ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(RelayRouteValidator.class);
    static final String ROUTE_PREFIX = "relay-";
    static final String ERROR_CONFIGURATION = "relay-errors";

    /** Read when Camel starts, not when camel-spring-boot collects this bean (no early backend bootstrap). */
    private final ObjectProvider<BackendRegistry> backends;
    private final CamelContext context;

    public RelayRouteValidator(ObjectProvider<BackendRegistry> backends, CamelContext context) {
        this.backends = backends;
        this.context = context;
    }

    /** After the routes are loaded, before Camel starts: make the instances, then check every route. */
    @Override
    public void beforeApplicationStart(CamelContext camel) {
        Set<String> enabled = backends.getObject().all().keySet();
        List<String> added = RelayInstances.add(camel, enabled);
        log.info("Relay routes {} made from the relay template", added);
        List<RouteDefinition> routes = camel.getCamelContextExtension().getContextPlugin(Model.class)
                .getRouteDefinitions();
        List<String> problems = validate(routes, enabled);
        if (!problems.isEmpty()) {
            throw new IllegalStateException("VSYNC-ROUTES-INVALID: the routes in routes/ are not safe to run:\n  - "
                    + String.join("\n  - ", problems) + "\n  (routes loaded: "
                    + routes.stream().map(r -> r.getRouteId() + " from " + r.getEndpointUrl()).toList() + ")");
        }
    }

    @Override
    public void afterApplicationStart(CamelContext camel) {
        // the relay routes start once the whole application is ready, below
    }

    /** Runs once the application is up; an exception here fails start-up and closes the context. */
    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        Set<String> enabled = backends.getObject().all().keySet();
        for (String name : enabled) {
            try {
                context.getRouteController().startRoute(ROUTE_PREFIX + name);
            } catch (Exception e) {
                throw new IllegalStateException("could not start route " + ROUTE_PREFIX + name, e);
            }
        }
        log.info("Relay routes validated and started for backends {}", enabled);
    }

    static List<String> validate(List<RouteDefinition> routes, Set<String> enabledBackends) {
        List<String> problems = new ArrayList<>();
        for (RouteDefinition r : routes) {
            if (!r.hasCustomIdAssigned()) {
                problems.add("a route from " + r.getInput().getEndpointUri() + " has no id:");
                continue;
            }
            String id = r.getRouteId();
            if (!id.startsWith(ROUTE_PREFIX) || r.getInput() == null
                    || !r.getInput().getEndpointUri().startsWith("scheduler:")) {
                continue;
            }
            String backend = id.substring(ROUTE_PREFIX.length());
            if (!enabledBackends.contains(backend)) {
                problems.add("route " + id + " relays to backend '" + backend
                        + "', which is not configured (or not enabled) under vectorsync.backends");
            }
            Object parameter = r.getTemplateParameters() == null ? null : r.getTemplateParameters().get("backend");
            if (parameter != null && !backend.equals(parameter.toString())) {
                problems.add("route " + id + " passes backend '" + parameter + "' to the template: an instance "
                        + ROUTE_PREFIX + "<name> must relay to backend <name>");
            }
            if (!ERROR_CONFIGURATION.equals(r.getRouteConfigurationId())) {
                problems.add("route " + id + " must use routeConfigurationId: " + ERROR_CONFIGURATION);
            }
            List<CircuitBreakerDefinition> breakers = new ArrayList<>();
            collect(r.getOutputs(), breakers);
            if (breakers.isEmpty()) {
                problems.add("route " + id + " has no circuitBreaker around its delivery");
            }
            for (CircuitBreakerDefinition cb : breakers) {
                if (!"true".equals(cb.getInheritErrorHandler() == null ? null : cb.getInheritErrorHandler().toString())) {
                    problems.add("route " + id + ": circuitBreaker must say inheritErrorHandler: true (literally)");
                }
                var r4j = cb.getResilience4jConfiguration();
                if (r4j == null || !"true".equals(r4j.getThrowExceptionWhenHalfOpenOrOpenState())) {
                    problems.add("route " + id + ": circuitBreaker must set throwExceptionWhenHalfOpenOrOpenState: true,"
                            + " or an open breaker passes batches as delivered");
                }
            }
        }
        return problems;
    }

    private static void collect(List<ProcessorDefinition<?>> outputs, List<CircuitBreakerDefinition> into) {
        for (ProcessorDefinition<?> p : outputs) {
            if (p instanceof CircuitBreakerDefinition cb) {
                into.add(cb);
            }
            collect(p.getOutputs(), into);
        }
    }
}
