package io.vectorsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.validation.ValidationAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

/**
 * The typed backend configuration (issue 14): the nested layout binds with today's defaults, and the
 * start-up check refuses the old flat keys, a block of another type and an unknown enum value, naming
 * the property and what to write instead.
 */
class BackendPropertiesTest {

    @Configuration
    @EnableConfigurationProperties(VectorsyncProperties.class)
    static class Config {}

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Config.class, BackendLayoutCheck.class);

    @Test
    void theNestedLayoutBindsEachTypesBlockWithTodaysDefaults() {
        runner.withPropertyValues(
                "vectorsync.backends.replica.type=postgres",
                "vectorsync.backends.q.type=qdrant",
                "vectorsync.backends.q.qdrant.url=http://127.0.0.1:6333",
                "vectorsync.backends.q.qdrant.delete-mode=soft",
                "vectorsync.backends.q.qdrant.collection-by=kind",
                "vectorsync.backends.c.type=chroma",
                "vectorsync.backends.c.chroma.distance=l2",
                "vectorsync.backends.s.type=elasticsearch",
                "vectorsync.backends.s.search.index=chunks",
                "vectorsync.backends.s.search.api-key=k",
                "vectorsync.backends.g.type=neo4j",
                "vectorsync.backends.g.neo4j.label=Doc",
                "vectorsync.backends.h.type=webhook",
                "vectorsync.backends.h.webhook.url=http://127.0.0.1:1/hook",
                "vectorsync.backends.h.read-timeout=3s")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Map<String, VectorsyncProperties.Backend> b = ctx.getBean(VectorsyncProperties.class).backends();
                    assertThat(b.get("replica").type()).isEqualTo(BackendType.POSTGRES);
                    assertThat(b.get("replica").postgres().table()).isEqualTo("replica_chunks");
                    assertThat(b.get("replica").postgres().jdbcUrl()).isNull();
                    assertThat(b.get("q").qdrant().url()).isEqualTo("http://127.0.0.1:6333");
                    assertThat(b.get("q").qdrant().deleteMode()).isEqualTo(BackendBlocks.DeleteMode.SOFT);
                    assertThat(b.get("q").qdrant().collectionBy()).isEqualTo("kind");
                    assertThat(b.get("c").chroma().distance()).isEqualTo(BackendBlocks.Distance.L2);
                    assertThat(b.get("c").chroma().url()).isEqualTo("http://127.0.0.1:8000");
                    assertThat(b.get("s").type()).isEqualTo(BackendType.ELASTICSEARCH);
                    assertThat(b.get("s").search().index()).isEqualTo("chunks");
                    assertThat(b.get("s").search().apiKey()).isEqualTo("k");
                    assertThat(b.get("g").neo4j().label()).isEqualTo("Doc");
                    assertThat(b.get("g").neo4j().url()).isEqualTo("bolt://127.0.0.1:7687");
                    assertThat(b.get("h").webhook().url()).isEqualTo("http://127.0.0.1:1/hook");
                    assertThat(b.get("h").readTimeout()).isEqualTo(Duration.ofSeconds(3));
                    assertThat(b.get("h").connectTimeout()).isEqualTo(Duration.ofSeconds(5));
                });
    }

    @Test
    void unsetBlocksTakeTheirDefaults() {
        VectorsyncProperties.Backend chroma = io.vectorsync.support.BackendConfigs.of("type", "chroma");
        assertThat(chroma.chroma().distance()).isEqualTo(BackendBlocks.Distance.COSINE);
        assertThat(chroma.chroma().collection()).isNull(); // the backend name, chosen by the backend
        assertThat(io.vectorsync.support.BackendConfigs.of("type", "qdrant").qdrant().deleteMode())
                .isEqualTo(BackendBlocks.DeleteMode.HARD);
        assertThat(io.vectorsync.support.BackendConfigs.of("type", "neo4j").neo4j().label()).isEqualTo("Chunk");
    }

    @Test
    void aFlatKeyAtItsOldPlaceNamesItsNewProperty() {
        assertThat(problems("q.type", "qdrant", "q.url", "http://x", "q.collection", "c", "q.delete-mode", "soft"))
                .containsExactlyInAnyOrder(
                        "vectorsync.backends.q.url has moved to vectorsync.backends.q.qdrant.url",
                        "vectorsync.backends.q.collection has moved to vectorsync.backends.q.qdrant.collection",
                        "vectorsync.backends.q.delete-mode has moved to vectorsync.backends.q.qdrant.delete-mode");
        assertThat(problems("s.type", "opensearch", "s.collection", "i", "s.flavor", "opensearch"))
                .containsExactlyInAnyOrder(
                        "vectorsync.backends.s.collection has moved to vectorsync.backends.s.search.index",
                        "vectorsync.backends.s.flavor is no longer read: the type (opensearch or elasticsearch) says"
                                + " the flavor; remove it");
        assertThat(problems("g.type", "neo4j", "g.collection", "Doc"))
                .containsExactly("vectorsync.backends.g.collection has moved to vectorsync.backends.g.neo4j.label");
        // postgres is the default type: a flat table of the replica moves into postgres.*
        assertThat(problems("replica.table", "replica_chunks", "replica.jdbc-url", "jdbc:postgresql://h/db"))
                .containsExactlyInAnyOrder(
                        "vectorsync.backends.replica.table has moved to vectorsync.backends.replica.postgres.table",
                        "vectorsync.backends.replica.jdbc-url has moved to"
                                + " vectorsync.backends.replica.postgres.jdbc-url");
        assertThat(problems("h.type", "webhook", "h.api-key", "k")).containsExactly(
                "vectorsync.backends.h.api-key is not a key of a webhook backend; its keys are under"
                        + " vectorsync.backends.h.webhook.* (url, secret)");
    }

    @Test
    void aBlockOfAnotherTypeNamesBothTheBlockAndTheTypesOwn() {
        assertThat(problems("c.type", "chroma", "c.qdrant.url", "http://x")).containsExactly(
                "vectorsync.backends.c.qdrant.* does not apply to a backend of type chroma: its keys go under"
                        + " vectorsync.backends.c.chroma.* (url, api-key, collection, distance)");
        assertThat(problems("c.type", "chroma", "c.chroma.index", "x")).containsExactly(
                "vectorsync.backends.c.chroma.index is not a key of a chroma backend; its keys are url, api-key,"
                        + " collection, distance");
    }

    @Test
    void aWrongEnumValueNamesThePropertyAndTheAllowedValues() {
        assertThat(problems("x.type", "pinecone")).containsExactly("vectorsync.backends.x.type must be one of"
                + " postgres, webhook, opensearch, elasticsearch, chroma, qdrant, neo4j but was 'pinecone'");
        assertThat(problems("c.type", "chroma", "c.chroma.distance", "dot")).containsExactly(
                "vectorsync.backends.c.chroma.distance must be one of cosine, l2, ip but was 'dot'");
        assertThat(problems("q.type", "qdrant", "q.qdrant.delete-mode", "gentle")).containsExactly(
                "vectorsync.backends.q.qdrant.delete-mode must be one of hard, soft but was 'gentle'");
        assertThat(problems("q.type", "QDRANT", "q.qdrant.delete-mode", "Soft")).isEmpty();
    }

    @Test
    void theRightLayoutAndTheCommonKeysPass() {
        assertThat(problems("late-db.type", "neo4j", "late-db.neo4j.label", "Late")).isEmpty();
        assertThat(problems("late-db.type", "neo4j", "late-db.collection", "Late")).containsExactly(
                "vectorsync.backends.late-db.collection has moved to vectorsync.backends.late-db.neo4j.label");
        assertThat(problems("q.type", "qdrant", "q.qdrant.url", "http://x", "q.fields[0]", "embedding",
                "q.retry.max-attempts", "3", "q.circuit-breaker.wait-in-open", "5s", "q.batch-size", "10",
                "q.enabled", "false", "q.backfill", "true")).isEmpty();
    }

    @Test
    void startUpFailsWithTheMessage() {
        runner.withPropertyValues("vectorsync.backends.q.type=qdrant", "vectorsync.backends.q.url=http://x")
                .run(ctx -> {
                    assertThat(ctx).hasFailed();
                    assertThat(ctx.getStartupFailure()).hasMessageContaining("VSYNC-CONFIG-LAYOUT")
                            .hasMessageContaining("vectorsync.backends.q.url has moved to vectorsync.backends.q.qdrant.url");
                });
        runner.withPropertyValues("vectorsync.backends.c.type=chroma", "vectorsync.backends.c.chroma.distance=dot")
                .run(ctx -> assertThat(ctx.getStartupFailure()).hasMessageContaining(
                        "vectorsync.backends.c.chroma.distance must be one of cosine, l2, ip but was 'dot'"));
    }

    @Test
    void environmentVariablesAreCheckedToo() {
        Map<String, Object> env = Map.of("VECTORSYNC_BACKENDS_QDRANT_TYPE", "qdrant",
                "VECTORSYNC_BACKENDS_QDRANT_URL", "http://qdrant:6333",
                "VECTORSYNC_BACKENDS_QDRANT_APIKEY", "k",
                "VECTORSYNC_BACKENDS_GRAPH_TYPE", "neo4j",
                "VECTORSYNC_BACKENDS_GRAPH_NEO4J_URL", "bolt://neo4j:7687");
        var source = ConfigurationPropertySource.from(new org.springframework.core.env.SystemEnvironmentPropertySource(
                "systemEnvironment", env));
        assertThat(BackendLayout.problems(List.of(source))).containsExactlyInAnyOrder(
                "vectorsync.backends.qdrant.url has moved to vectorsync.backends.qdrant.qdrant.url",
                "vectorsync.backends.qdrant.api-key has moved to vectorsync.backends.qdrant.qdrant.api-key");
    }

    private static List<String> problems(String... keyValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put("vectorsync.backends." + keyValues[i], keyValues[i + 1]);
        }
        return BackendLayout.problems(List.of(new MapConfigurationPropertySource(map)));
    }

    @Test
    void everyTypeHasABlockRecord() {
        assertThat(Arrays.stream(BackendType.values()).map(BackendType::block).distinct())
                .containsExactlyInAnyOrder("postgres", "webhook", "search", "chroma", "qdrant", "neo4j");
    }
}
