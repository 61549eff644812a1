package io.vectorsync.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Loads the Camel routes from the top-level {@code routes/} folder when it exists in the working
 * directory (so an operator edits them in place), and otherwise from the copy packaged in the jar. A server
 * loads every {@code *.camel.yaml} but {@code sync.camel.yaml}, wherever it reads them from; a device (the
 * {@code local} profile) loads only {@code sync.camel.yaml} (ADR 025). An explicit
 * {@code camel.main.routes-include-pattern} or {@code routes-exclude-pattern} wins.
 */
public class RoutesLocation implements EnvironmentPostProcessor {

    static final String PROPERTY = "camel.main.routes-include-pattern";
    static final String EXCLUDE = "camel.main.routes-exclude-pattern";
    /** The device's routes: the upload and download of the sync engine. */
    static final String SYNC_ROUTES = "sync.camel.yaml";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        String folder = Files.isDirectory(Path.of("routes")) ? "file:routes/" : "classpath:routes/";
        boolean device = env.matchesProfiles(DeviceOnly.PROFILE);
        Map<String, Object> p = new HashMap<>();
        if (!env.containsProperty(PROPERTY)) {
            p.put(PROPERTY, folder + (device ? SYNC_ROUTES : "*.camel.yaml"));
        }
        if (!device && !env.containsProperty(EXCLUDE)) {
            p.put(EXCLUDE, "**/" + SYNC_ROUTES); // wherever the server's routes are read from
        }
        env.getPropertySources().addLast(new MapPropertySource("vectorsync-routes-location", p));
    }
}
