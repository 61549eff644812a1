package io.vectorsync.backend.postgres;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import javax.sql.DataSource;
import org.springframework.stereotype.Component;

/** Backends of type {@code postgres}: a table in the primary database or in another one. */
@Component
public final class PostgresBackendFactory implements BackendFactory {

    private final DataSource primary;
    private final VectorsyncProperties properties;

    public PostgresBackendFactory(DataSource primary, VectorsyncProperties properties) {
        this.primary = primary;
        this.properties = properties;
    }

    @Override
    public String type() {
        return "postgres";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return PostgresBackend.of(name, config, primary, properties.embeddingDimension());
    }
}
