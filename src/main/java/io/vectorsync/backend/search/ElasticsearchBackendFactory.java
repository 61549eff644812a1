package io.vectorsync.backend.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.stereotype.Component;

/** Backends of type {@code elasticsearch}: an Elasticsearch 8+ index (dense_vector, HNSW, cosine), written with version-guarded {@code _bulk}. */
@Component
public final class ElasticsearchBackendFactory implements BackendFactory {

    private final ObjectMapper json;
    private final VectorsyncProperties properties;

    public ElasticsearchBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String type() {
        return SearchBackend.Flavor.ELASTICSEARCH.type;
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new SearchBackend(name, SearchBackend.Flavor.ELASTICSEARCH, config, properties.embeddingDimension(), json,
                Clock.systemUTC());
    }
}
