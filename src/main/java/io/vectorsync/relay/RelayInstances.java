package io.vectorsync.relay;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.camel.CamelContext;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend is declared once, under {@code vectorsync.backends.<name>}: its relay route
 * {@code relay-<name>} is an instance of the {@code relay} route template ({@code routes/relay.camel.yaml},
 * which operators may edit), made here with Camel's {@link TemplatedRouteBuilder} (ADR 021). A routes file
 * that declares a {@code templatedRoute} with id {@code relay-<name>} overrides the instance (other
 * parameters, such as {@code idleDelay}): no route is made for that backend. {@link RelayRouteValidator}
 * calls this before Camel starts and checks the result.
 */
final class RelayInstances {

    private static final Logger log = LoggerFactory.getLogger(RelayInstances.class);
    static final String TEMPLATE = "relay";

    private RelayInstances() {}

    /** Adds {@code relay-<name>} for each backend that has no route of that id yet; returns the ids added. */
    static List<String> add(CamelContext context, Set<String> enabledBackends) {
        Set<String> declared = context.getCamelContextExtension().getContextPlugin(Model.class).getRouteDefinitions()
                .stream().map(RouteDefinition::getRouteId).collect(Collectors.toSet());
        List<String> added = new ArrayList<>();
        for (String backend : enabledBackends) {
            String routeId = RelayRouteValidator.ROUTE_PREFIX + backend;
            if (declared.contains(routeId)) {
                log.info("Backend '{}' relays through route {} declared in routes/ (an override of the template)",
                        backend, routeId);
                continue;
            }
            try {
                added.add(TemplatedRouteBuilder.builder(context, TEMPLATE).routeId(routeId)
                        .parameter("backend", backend).add());
            } catch (Exception e) {
                throw new IllegalStateException("VSYNC-ROUTES-INVALID: cannot make route " + routeId
                        + " from the route template '" + TEMPLATE + "' (routes/relay.camel.yaml): " + e.getMessage(), e);
            }
        }
        return added;
    }
}
