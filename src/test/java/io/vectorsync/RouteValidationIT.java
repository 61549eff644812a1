package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.support.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Test
    void aConfiguredBackendWithoutARouteRefusesStartUp() {
        String db = TestDatabases.create("routes_missing");
        assertThatThrownBy(() -> app(db, "file:routes/*.camel.yaml")
                        .properties("vectorsync.backends.second.postgres.table=second_chunks").run(ARGS).close())
                .hasStackTraceContaining("backend 'second' is configured but routes/ has no templatedRoute");
        TestDatabases.drop(db);
    }

    @Test
    void theShippedRoutesValidateAndTheRelayRouteRuns() {
        String db = TestDatabases.create("routes_ok");
        try (ConfigurableApplicationContext ctx = app(db, "file:routes/*.camel.yaml").run(ARGS)) {
            var camel = ctx.getBean(org.apache.camel.CamelContext.class);
            assertThat(camel.getRouteController().getRouteStatus("relay-replica").isStarted()).isTrue();
        }
        TestDatabases.drop(db);
    }
}
