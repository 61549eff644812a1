package io.vectorsync.backend;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.chroma.ChromaBackend;
import io.vectorsync.backend.neo4j.Neo4jBackend;
import io.vectorsync.backend.postgres.PostgresBackend;
import io.vectorsync.backend.qdrant.QdrantBackend;
import io.vectorsync.backend.search.SearchBackend;
import io.vectorsync.backend.webhook.WebhookBackend;
import io.vectorsync.config.BackendType;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Which implementation serves each {@link BackendType}: the one place a new backend type is wired in
 * (its class, its block record in {@code BackendBlocks} named by its {@code BackendType}, one line here).
 */
public final class BackendTypes {

    /** What a backend may need besides its own configuration. */
    public record Context(DataSource primary, int dimension, ObjectMapper json, Clock clock) {}

    @FunctionalInterface
    interface Maker {
        Backend create(String name, VectorsyncProperties.Backend config, Context context);
    }

    private static final Map<BackendType, Maker> MAKERS = new EnumMap<>(Map.of(
            BackendType.POSTGRES, (n, c, x) -> PostgresBackend.of(n, c, x.primary(), x.dimension()),
            BackendType.WEBHOOK, (n, c, x) -> new WebhookBackend(n, c, x.json(), x.clock()),
            BackendType.OPENSEARCH, (n, c, x) -> new SearchBackend(n, SearchBackend.Flavor.OPENSEARCH, c,
                    x.dimension(), x.json(), x.clock()),
            BackendType.ELASTICSEARCH, (n, c, x) -> new SearchBackend(n, SearchBackend.Flavor.ELASTICSEARCH, c,
                    x.dimension(), x.json(), x.clock()),
            BackendType.CHROMA, (n, c, x) -> new ChromaBackend(n, c, x.dimension(), x.json(), x.clock()),
            BackendType.QDRANT, (n, c, x) -> new QdrantBackend(n, c, x.dimension(), x.json(), x.clock()),
            BackendType.NEO4J, (n, c, x) -> new Neo4jBackend(n, c, x.dimension())));

    private BackendTypes() {}

    /** A new, not yet bootstrapped backend of {@code config.type()}. */
    public static Backend create(String name, VectorsyncProperties.Backend config, Context context) {
        return MAKERS.get(config.type()).create(name, config, context);
    }
}
