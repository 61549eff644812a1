package io.vectorsync.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Loads the Camel routes from the top-level {@code routes/} folder when it exists in the working
 * directory (so an operator edits them in place), and otherwise from the copy packaged in the jar.
 * An explicit {@code camel.main.routes-include-pattern} wins.
 */
public class RoutesLocation implements EnvironmentPostProcessor {

    static final String PROPERTY = "camel.main.routes-include-pattern";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment env, SpringApplication application) {
        if (env.containsProperty(PROPERTY)) {
            return;
        }
        String pattern = Files.isDirectory(Path.of("routes")) ? "file:routes/*.camel.yaml" : "classpath:routes/*.camel.yaml";
        env.getPropertySources().addLast(new MapPropertySource("vectorsync-routes-location", Map.of(PROPERTY, pattern)));
    }
}
