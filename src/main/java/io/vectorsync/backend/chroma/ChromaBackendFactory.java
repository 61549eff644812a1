package io.vectorsync.backend.chroma;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.stereotype.Component;

/** Backends of type {@code chroma}: a Chroma collection, written through its REST API v2. */
@Component
public final class ChromaBackendFactory implements BackendFactory {

    private final ObjectMapper json;
    private final VectorsyncProperties properties;

    public ChromaBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String type() {
        return "chroma";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new ChromaBackend(name, config, properties.embeddingDimension(), json, Clock.systemUTC());
    }
}
