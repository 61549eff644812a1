package io.vectorsync.backend;

import io.vectorsync.config.VectorsyncProperties;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The configured, enabled backends by name, created once at start-up and bootstrapped. */
public class BackendRegistry {

    private static final Logger log = LoggerFactory.getLogger(BackendRegistry.class);

    private final Map<String, Backend> backends;
    private final Map<String, FieldAllowlist> allowlists = new LinkedHashMap<>();

    public BackendRegistry(VectorsyncProperties properties, List<BackendFactory> factories) {
        Map<String, BackendFactory> byType =
                factories.stream().collect(Collectors.toMap(BackendFactory::type, f -> f));
        Map<String, Backend> created = new LinkedHashMap<>();
        properties.backends().forEach((name, config) -> {
            if (!name.matches("[a-z][a-z0-9-]{0,62}")) {
                throw new IllegalStateException("vectorsync.backends." + name
                        + ": a backend name must be lowercase letters, digits and '-', starting with a letter");
            }
            if (!config.enabled()) {
                log.info("Backend '{}' is disabled (vectorsync.backends.{}.enabled=false)", name, name);
                return;
            }
            BackendFactory factory = byType.get(config.type());
            if (factory == null) {
                throw new IllegalStateException("vectorsync.backends." + name + ".type must be one of "
                        + byType.keySet() + " but was '" + config.type() + "'");
            }
            allowlists.put(name, FieldAllowlist.of(config.fields(), "vectorsync.backends." + name + ".fields"));
            Backend backend = factory.create(name, config);
            backend.bootstrap();
            created.put(name, backend);
        });
        this.backends = Collections.unmodifiableMap(created);
    }

    public Backend get(String name) {
        Backend b = backends.get(name);
        if (b == null) {
            throw new IllegalArgumentException("no enabled backend named '" + name + "'");
        }
        return b;
    }

    /** The fields that may leave the primary for this backend. */
    public FieldAllowlist allowlist(String name) {
        return allowlists.getOrDefault(name, FieldAllowlist.ALL);
    }

    /**
     * True when the relay hands this backend lean UPSERTs to copy inside the primary: the backend can,
     * and no allowlist narrows the fields (the copy would carry them all).
     */
    public boolean copiesPrimaryRows(String name) {
        return contains(name) && get(name) instanceof InPrimaryDatabase && allowlist(name).allowsAll();
    }

    public boolean contains(String name) {
        return backends.containsKey(name);
    }

    public Map<String, Backend> all() {
        return backends;
    }
}
