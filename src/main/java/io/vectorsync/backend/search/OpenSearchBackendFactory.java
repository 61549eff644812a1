package io.vectorsync.backend.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.stereotype.Component;

/** Backends of type {@code opensearch}: an OpenSearch index (k-NN plugin, knn_vector with HNSW on the Lucene engine), written with version-guarded {@code _bulk}. */
@Component
public final class OpenSearchBackendFactory implements BackendFactory {

    private final ObjectMapper json;
    private final VectorsyncProperties properties;

    public OpenSearchBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String type() {
        return SearchBackend.Flavor.OPENSEARCH.type;
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new SearchBackend(name, SearchBackend.Flavor.OPENSEARCH, config, properties.embeddingDimension(), json,
                Clock.systemUTC());
    }
}
