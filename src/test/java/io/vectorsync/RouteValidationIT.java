package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.support.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** Start-up refuses routes that would lose data, and starts the relay only after validating them. */
class RouteValidationIT {

    private static SpringApplicationBuilder app(String db, String routes) {
        return new SpringApplicationBuilder(VectorsyncApplication.class).properties(
                "spring.datasource.url=" + TestDatabases.url(db),
                "spring.datasource.username=" + TestDatabases.USER,
                "camel.main.routes-include-pattern=" + routes);
    }

    /** Command-line arguments outrank application.yaml: a random port, never the default 8080. */
    private static final String[] ARGS = {"--server.port=0"};

    /** The shipped routes, copied with one edit: the circuit breaker no longer inherits the error handler. */
    @Test
    void aCircuitBreakerThatDoesNotInheritTheErrorHandlerRefusesStartUp(@TempDir Path dir) throws Exception {
        try (var files = Files.list(Path.of("routes"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".camel.yaml")).toList()) {
                Files.writeString(dir.resolve(f.getFileName()), Files.readString(f)
                        .replace("inheritErrorHandler: true", "inheritErrorHandler: false"));
            }
        }
        assertThat(Files.readString(dir.resolve("relay.camel.yaml"))).contains("inheritErrorHandler: false");
        String db = TestDatabases.create("routes_broken");
        assertThatThrownBy(() -> app(db, "file:" + dir + "/*.camel.yaml").run(ARGS).close())
                .hasStackTraceContaining("VSYNC-ROUTES-INVALID")
                .hasStackTraceContaining("inheritErrorHandler: true");
        TestDatabases.drop(db);
    }

    /** An override instance in a routes file of its own, beside the shipped routes. */
    private static Path withOverride(Path dir, String routeId, String backend) throws Exception {
        try (var files = Files.list(Path.of("routes"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".camel.yaml")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("override.camel.yaml"), """
                - templatedRoute:
                    routeTemplateRef: relay
                    routeId: %s
                    parameters:
                      - name: backend
                        value: %s
                      - name: idleDelay
                        value: "25"
                """.formatted(routeId, backend));
        return dir;
    }

    @Test
    void anOverrideForABackendThatIsNotConfiguredRefusesStartUp(@TempDir Path dir) throws Exception {
        String db = TestDatabases.create("routes_unknown");
        assertThatThrownBy(() -> app(db, "file:" + withOverride(dir, "relay-ghost", "ghost") + "/*.camel.yaml")
                        .run(ARGS).close())
                .hasStackTraceContaining("VSYNC-ROUTES-INVALID")
                .hasStackTraceContaining("route relay-ghost relays to backend 'ghost', which is not configured");
        TestDatabases.drop(db);
    }

    @Test
    void anOverrideWhoseIdNamesAnotherBackendRefusesStartUp(@TempDir Path dir) throws Exception {
        String db = TestDatabases.create("routes_crossed");
        assertThatThrownBy(() -> app(db, "file:" + withOverride(dir, "relay-replica", "second") + "/*.camel.yaml")
                        .properties("vectorsync.backends.second.postgres.table=second_chunks").run(ARGS).close())
                .hasStackTraceContaining("route relay-replica passes backend 'second' to the template");
        TestDatabases.drop(db);
    }

    /** A backend configured and nothing else: its relay route is made from the template and runs. */
    @Test
    void aConfiguredBackendGetsItsRelayRouteFromTheTemplate() {
        String db = TestDatabases.create("routes_generated");
        try (ConfigurableApplicationContext ctx = app(db, "file:routes/*.camel.yaml")
                .properties("vectorsync.backends.second.postgres.table=second_chunks").run(ARGS)) {
            var camel = ctx.getBean(org.apache.camel.CamelContext.class);
            assertThat(camel.getRouteController().getRouteStatus("relay-second").isStarted()).isTrue();
            assertThat(camel.getRoute("relay-second").getEndpoint().getEndpointUri()).contains("relay-second");
        }
        TestDatabases.drop(db);
    }

    /** A templatedRoute relay-replica in routes/ replaces the generated instance: its parameters apply. */
    @Test
    void anOverrideInstanceReplacesTheGeneratedOne(@TempDir Path dir) throws Exception {
        String db = TestDatabases.create("routes_override");
        try (ConfigurableApplicationContext ctx = app(db,
                "file:" + withOverride(dir, "relay-replica", "replica") + "/*.camel.yaml").run(ARGS)) {
            var camel = ctx.getBean(org.apache.camel.CamelContext.class);
            assertThat(camel.getRouteController().getRouteStatus("relay-replica").isStarted()).isTrue();
            assertThat(camel.getRoute("relay-replica").getEndpoint().getEndpointUri()).contains("delay=25");
            assertThat(camel.getRoutes().stream().filter(r -> r.getRouteId().startsWith("relay-"))).hasSize(1);
        }
        TestDatabases.drop(db);
    }

    @Test
    void theShippedRoutesValidateAndTheRelayRouteRuns() {
        String db = TestDatabases.create("routes_ok");
        try (ConfigurableApplicationContext ctx = app(db, "file:routes/*.camel.yaml").run(ARGS)) {
            var camel = ctx.getBean(org.apache.camel.CamelContext.class);
            assertThat(camel.getRouteController().getRouteStatus("relay-replica").isStarted()).isTrue();
            // Every periodic flow is a route of its own (ADR 021), running, so JMX and Hawtio show it.
            for (String id : List.of("housekeeping-retention", "housekeeping-relay-stats", "housekeeping-alerts",
                    "housekeeping-alert-webhook", "housekeeping-route-state", "housekeeping-route-state-now",
                    "jobs-poll", "jobs-poll-now", "jobs-run", "jobs-heartbeat", "jobs-stats", "jobs-retention")) {
                assertThat(camel.getRouteController().getRouteStatus(id)).as(id)
                        .isEqualTo(org.apache.camel.ServiceStatus.Started);
            }
        }
        TestDatabases.drop(db);
    }
}
