package io.vectorsync.backend.neo4j;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import org.springframework.stereotype.Component;

/** Backends of type {@code neo4j}: chunks as nodes and LINK events as relationships, over Bolt. */
@Component
public final class Neo4jBackendFactory implements BackendFactory {

    private final VectorsyncProperties properties;

    public Neo4jBackendFactory(VectorsyncProperties properties) {
        this.properties = properties;
    }

    @Override
    public String type() {
        return "neo4j";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new Neo4jBackend(name, config, properties.embeddingDimension());
    }
}
