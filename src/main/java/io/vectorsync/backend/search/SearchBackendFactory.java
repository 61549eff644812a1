package io.vectorsync.backend.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Backends of type {@code opensearch} (an OpenSearch index: k-NN plugin, knn_vector with HNSW on the
 * Lucene engine) and {@code elasticsearch} (an Elasticsearch 8+ index: dense_vector, HNSW, cosine), one
 * implementation written with version-guarded {@code _bulk}.
 */
public final class SearchBackendFactory implements BackendFactory {

    private final SearchBackend.Flavor flavor;
    private final ObjectMapper json;
    private final VectorsyncProperties properties;

    SearchBackendFactory(SearchBackend.Flavor flavor, ObjectMapper json, VectorsyncProperties properties) {
        this.flavor = flavor;
        this.json = json;
        this.properties = properties;
    }

    @Override
    public String type() {
        return flavor.type;
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new SearchBackend(name, flavor, config, properties.embeddingDimension(), json, Clock.systemUTC());
    }

    /** One factory bean per flavor. */
    @Configuration(proxyBeanMethods = false)
    static class Flavors {

        @Bean
        SearchBackendFactory openSearchBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
            return new SearchBackendFactory(SearchBackend.Flavor.OPENSEARCH, json, properties);
        }

        @Bean
        SearchBackendFactory elasticsearchBackendFactory(ObjectMapper json, VectorsyncProperties properties) {
            return new SearchBackendFactory(SearchBackend.Flavor.ELASTICSEARCH, json, properties);
        }
    }
}
