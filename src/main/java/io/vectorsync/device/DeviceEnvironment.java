package io.vectorsync.device;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.LocalProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.Profiles;

/**
 * On a device (the {@code local} profile) points the datasource at the SQLite file
 * {@code vectorsync.local.database}, creating its folder: WAL journal (readers never wait for the writer),
 * {@code synchronous} as {@code vectorsync.local.synchronous} says (ADR 026: NORMAL by default, a committed
 * write survives a crash of the process; FULL, it survives a power cut too), a busy timeout for a second writer,
 * foreign keys on, and {@code BEGIN IMMEDIATE} transactions (a write transaction takes the write lock at
 * its start, so two never deadlock on an upgrade). Loads only the sync routes
 * ({@code routes/sync*.camel.yaml}: {@code sync.camel.yaml}; from the top-level folder when it exists, as
 * {@code RoutesLocation} does) unless {@code camel.main.routes-include-pattern} is set. Runs after the configuration files are
 * read (so the profile is known) and before the embedded PostgreSQL and the routes' defaults.
 */
public class DeviceEnvironment implements EnvironmentPostProcessor, Ordered {

    static final String SOURCE = "vectorsync-device";
    static final String ROUTES = "camel.main.routes-include-pattern";
    /** The busy timeout (ms) a second writer of the file waits for the lock before failing. */
    static final int BUSY_TIMEOUT_MS = 10_000;

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE - 100;
    }

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        if (!env.acceptsProfiles(Profiles.of(DeviceOnly.PROFILE))) {
            return;
        }
        LocalProperties local = Binder.get(env).bindOrCreate("vectorsync.local", LocalProperties.class);
        Path file = Path.of(local.database()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("VSYNC-DEVICE-DB: cannot create the folder of vectorsync.local.database "
                    + file + " (check the path and its permissions)", e);
        }
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("spring.datasource.url", url(file, local.synchronous()));
        props.put("spring.datasource.driver-class-name", "org.sqlite.JDBC");
        props.put("spring.datasource.username", "");
        props.put("spring.datasource.password", "");
        env.getPropertySources().addFirst(new MapPropertySource(SOURCE, props));
        if (!env.containsProperty(ROUTES)) {
            // A pattern, not the file's name: Camel refuses to start when a named file is absent, and finds
            // nothing, quietly, for a pattern (before the sync routes exist, or with sync off).
            String routes = Files.isDirectory(Path.of("routes")) ? "file:routes/sync*.camel.yaml"
                    : "classpath:routes/sync*.camel.yaml";
            env.getPropertySources().addLast(new MapPropertySource(SOURCE + "-routes", Map.of(ROUTES, routes)));
        }
    }

    /** The SQLite URL of {@code file} with the device's pragmas (sqlite-jdbc reads them from the URL). */
    public static String url(Path file, LocalProperties.Synchronous synchronous) {
        return "jdbc:sqlite:" + file + "?journal_mode=WAL&synchronous=" + synchronous.name() + "&busy_timeout="
                + BUSY_TIMEOUT_MS + "&foreign_keys=true&transaction_mode=IMMEDIATE";
    }
}
