package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.camel.CamelContext;
import org.apache.camel.model.CircuitBreakerDefinition;
import org.apache.camel.model.Model;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.RouteDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Validates the routes loaded from {@code routes/} before any relay runs, and refuses to start
 * otherwise: every route has an explicit id; every enabled backend has exactly one relay route
 * ({@code relay-<name>}) and every relay route a backend; each relay route uses the shared error
 * handling and its circuit breaker inherits it and throws when open (docs/design.md, "Camel traps that lose data"). Then it starts
 * the relay routes, which the template declares with {@code autoStartup: false}.
 */
@Component
public class RelayRouteValidator implements ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(RelayRouteValidator.class);
    static final String ROUTE_PREFIX = "relay-";
    static final String ERROR_CONFIGURATION = "relay-errors";

    private final BackendRegistry backends;
    private final CamelContext context;

    public RelayRouteValidator(BackendRegistry backends, CamelContext context) {
        this.backends = backends;
        this.context = context;
    }

    /** Runs once the application is up; an exception here fails start-up and closes the context. */
    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        List<RouteDefinition> routes = context.getCamelContextExtension().getContextPlugin(Model.class)
                .getRouteDefinitions();
        List<String> problems = validate(routes, backends.all().keySet());
        if (!problems.isEmpty()) {
            String msg = "VSYNC-ROUTES-INVALID: the routes in routes/ are not safe to run:\n  - "
                    + String.join("\n  - ", problems) + "\n  (routes loaded: "
                    + routes.stream().map(r -> r.getRouteId() + " from " + r.getEndpointUrl()).toList() + ")";
            throw new IllegalStateException(msg);
        }
        for (String name : backends.all().keySet()) {
            try {
                context.getRouteController().startRoute(ROUTE_PREFIX + name);
            } catch (Exception e) {
                throw new IllegalStateException("could not start route " + ROUTE_PREFIX + name, e);
            }
        }
        log.info("Relay routes validated and started for backends {}", backends.all().keySet());
    }

    static List<String> validate(List<RouteDefinition> routes, Set<String> enabledBackends) {
        List<String> problems = new ArrayList<>();
        Set<String> relayBackends = new TreeSet<>();
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
            relayBackends.add(backend);
            if (!enabledBackends.contains(backend)) {
                problems.add("route " + id + " relays to backend '" + backend
                        + "', which is not configured (or not enabled) under vectorsync.backends");
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
        for (String b : enabledBackends) {
            if (!relayBackends.contains(b)) {
                problems.add("backend '" + b + "' is configured but routes/ has no templatedRoute with routeId "
                        + ROUTE_PREFIX + b);
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
