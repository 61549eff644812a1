package io.vectorsync.backend;

import io.vectorsync.config.BackendType;
import io.vectorsync.config.VectorsyncProperties;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;

/** The configured, enabled backends by name, created once at start-up and bootstrapped. */
public class BackendRegistry implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(BackendRegistry.class);

    private final Map<String, Backend> backends;
    private final Map<String, FieldAllowlist> allowlists = new LinkedHashMap<>();
    /** The backends holding connections of their own, closed when the application stops. */
    private final Map<String, AutoCloseable> owned = new LinkedHashMap<>();

    public BackendRegistry(VectorsyncProperties properties, BackendTypes.Context context) {
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
            allowlists.put(name, FieldAllowlist.of(config.fields(), "vectorsync.backends." + name + ".fields"));
            Backend backend = BackendTypes.create(name, config, context);
            if (backend instanceof AutoCloseable closeable && !inPrimaryDatabase(config)) {
                owned.put(name, closeable);
            }
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

    /**
     * Closes the backends that hold connections of their own (a remote pool, a driver) when the application
     * stops; a backend in the primary database uses the application's pool, which Spring closes itself.
     */
    @Override
    public void destroy() {
        owned.forEach((name, closeable) -> {
            try {
                closeable.close();
            } catch (Exception e) {
                log.warn("Backend '{}' did not close cleanly: {}", name, e.toString());
            }
        });
    }

    private static boolean inPrimaryDatabase(VectorsyncProperties.Backend config) {
        String jdbcUrl = config.postgres().jdbcUrl();
        return config.type() == BackendType.POSTGRES && (jdbcUrl == null || jdbcUrl.isBlank());
    }
}
