package io.vectorsync.metrics;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.Profiles;

/**
 * Declares the health groups of the relay, one per enabled backend ({@code backend-<name>}) and
 * {@code outbox}, each holding its contributor ({@code relay-backend-<name>}, {@code relay-outbox};
 * {@link RelayHealth}) with details
 * shown. Backends are configured, so the groups are written as properties at start-up, with the lowest
 * precedence: an operator's own {@code management.endpoint.health.group.*} settings win. Liveness and
 * readiness keep Spring Boot's defaults and never include these.
 */
public class HealthGroupsEnvironment implements EnvironmentPostProcessor {

    static final String SOURCE = "vectorsyncHealthGroups";
    private static final String GROUP = "management.endpoint.health.group.";

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.acceptsProfiles(Profiles.of(DeviceOnly.PROFILE))) {
            return; // a device has no relay and no backends (ADR 023)
        }
        Map<String, VectorsyncProperties.Backend> backends = Binder.get(environment)
                .bind("vectorsync.backends", Bindable.mapOf(String.class, VectorsyncProperties.Backend.class))
                .orElse(Map.of());
        Map<String, Object> props = new LinkedHashMap<>();
        group(props, RelayHealth.OUTBOX);
        backends.forEach((name, b) -> {
            if (b == null || b.enabled()) {
                group(props, RelayHealth.PREFIX + name);
            }
        });
        environment.getPropertySources().addLast(new MapPropertySource(SOURCE, props));
    }

    private static void group(Map<String, Object> props, String name) {
        props.put(GROUP + name + ".include", RelayHealth.CONTRIBUTOR + name);
        props.put(GROUP + name + ".show-details", "always");
    }
}
