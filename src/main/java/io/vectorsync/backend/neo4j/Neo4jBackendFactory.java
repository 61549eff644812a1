package io.vectorsync.backend.neo4j;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/**
 * Backends of type {@code neo4j}: chunks as nodes and LINK events as relationships, over Bolt. Closes
 * the drivers of the backends it made when the application stops.
 */
@Component
public final class Neo4jBackendFactory implements BackendFactory, DisposableBean {

    private final VectorsyncProperties properties;
    private final List<Neo4jBackend> created = new CopyOnWriteArrayList<>();

    public Neo4jBackendFactory(VectorsyncProperties properties) {
        this.properties = properties;
    }

    @Override
    public String type() {
        return "neo4j";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        Neo4jBackend backend = new Neo4jBackend(name, config, properties.embeddingDimension());
        created.add(backend);
        return backend;
    }

    @Override
    public void destroy() {
        created.forEach(Neo4jBackend::close);
        created.clear();
    }
}
