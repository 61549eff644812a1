package io.vectorsync.backend.qdrant;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.stereotype.Component;

/**
 * Backends of type {@code qdrant}: points in a Qdrant collection over its REST API, vectors of
 * {@code vectorsync.embedding-dimension} dimensions with Cosine distance.
 */
@Component
public final class QdrantBackendFactory implements BackendFactory {

    private final ObjectMapper json;
    private final VectorsyncProperties properties;

    public QdrantBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String type() {
        return "qdrant";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new QdrantBackend(name, config, properties.embeddingDimension(), json, Clock.systemUTC());
    }
}
