package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.retention.RetentionService;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Neo4jServer;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.client.RestClient;

/**
 * A backend added after retention ran still receives everything the primary holds (issue 13, ADR 019):
 * chunks written through the API, chunks an application enqueued for its own tables, and relationships.
 * The first run captures all three and lets retention delete every event; the second run adds a
 * PostgreSQL table and a Neo4j graph, whose backfills read the primary's state; verify of each reports
 * no difference, relationships included.
 */
class LateBackendStateIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static String primary;
    private static String target;
    private static Driver neo4j;

    @BeforeAll
    static void setUp() {
        primary = TestDatabases.create("late_state");
        target = TestDatabases.create("late_state_target");
        neo4j = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none());
        neo4j.executableQuery("MATCH (n:LateChunk) DETACH DELETE n").execute();
        neo4j.executableQuery("MATCH (n:VectorsyncTombstone_LateChunk) DELETE n").execute();
    }

    @AfterAll
    static void tearDown() {
        neo4j.close();
        TestDatabases.drop(primary);
        TestDatabases.drop(target);
    }

    private static ConfigurableApplicationContext start(String routes, String... extra) {
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1",
                "--spring.profiles.active=test",
                "--spring.datasource.url=" + TestDatabases.url(primary),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--vectorsync.retention.enabled=false",
                "--vectorsync.retention.outbox-age=1m",
                "--camel.main.routes-include-pattern=file:routes/*.camel.yaml" + routes));
        args.addAll(List.of(extra));
        return new SpringApplicationBuilder(VectorsyncApplication.class).run(args.toArray(String[]::new));
    }

    private static RestClient client(ConfigurableApplicationContext ctx) {
        int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
        return RestClient.create("http://127.0.0.1:" + port);
    }

    private static List<Float> embedding(String id) {
        List<Float> e = new ArrayList<>();
        for (int i = 0; i < 384; i++) {
            e.add((float) Math.sin(id.hashCode() + i));
        }
        return e;
    }

    private static String payload(String id, String content) {
        StringBuilder v = new StringBuilder();
        for (Float f : embedding(id)) {
            v.append(v.length() == 0 ? "" : ",").append(f);
        }
        return "{\"documentId\": \"doc-" + id + "\", \"content\": \"" + content + "\", \"embedding\": [" + v
                + "], \"metadata\": {\"source\": \"app\"}, \"privacy\": \"FULL\"}";
    }

    /** Live chunks of the primary (API and application) with their version and content. */
    private static Map<String, List<Object>> expectedChunks(JdbcTemplate jdbc) {
        Map<String, List<Object>> out = new HashMap<>();
        jdbc.query("SELECT key, version, coalesce(content, payload->>'content') FROM current_state"
                + " WHERE NOT deleted AND privacy <> 'LOCAL_ONLY' AND NOT starts_with(key, 'link:')",
                rs -> {
                    out.put(rs.getString(1), List.of(rs.getLong(2), rs.getString(3)));
                });
        return out;
    }

    private static Map<String, List<Object>> tableChunks(JdbcTemplate jdbc) {
        Map<String, List<Object>> out = new HashMap<>();
        jdbc.query("SELECT chunk_id, version, content FROM late_chunks", rs -> {
            out.put(rs.getString(1), List.of(rs.getLong(2), rs.getString(3)));
        });
        return out;
    }

    private static Map<String, List<Object>> graphChunks() {
        Map<String, List<Object>> out = new HashMap<>();
        neo4j.executableQuery("MATCH (n:LateChunk) WHERE n.version IS NOT NULL"
                + " RETURN n.memory_id AS id, n.version AS v, n.content AS c").execute().records()
                .forEach(r -> out.put(r.get("id").asString(), List.of(r.get("v").asLong(), r.get("c").asString())));
        return out;
    }

    private static List<String> graphEdges() {
        List<String> out = new ArrayList<>();
        neo4j.executableQuery("MATCH (a:LateChunk)-[e]->(b:LateChunk)"
                + " RETURN a.memory_id + '-' + type(e) + '->' + b.memory_id AS edge ORDER BY edge").execute()
                .records().forEach(r -> out.add(r.get("edge").asString()));
        return out;
    }

    private static JsonNode verify(RestClient http, String backend) throws Exception {
        String started = http.post().uri("/admin/v1/backends/{b}/verify?repair=false", backend)
                .header("Authorization", "Bearer " + AbstractIT.ADMIN_TOKEN).retrieve().body(String.class);
        String id = JSON.readTree(started).path("id").asText();
        JsonNode[] job = new JsonNode[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            job[0] = JSON.readTree(http.get().uri("/admin/v1/jobs/{id}", id)
                    .header("Authorization", "Bearer " + AbstractIT.ADMIN_TOKEN).retrieve().body(String.class));
            return !job[0].path("status").asText().matches("QUEUED|RUNNING");
        });
        assertThat(job[0].path("status").asText()).as(job[0].toString()).isEqualTo("SUCCEEDED");
        return job[0].path("result");
    }

    @Test
    void aBackendAddedAfterRetentionGetsApiChunksEnqueuedAggregatesAndRelationships() throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(
                new org.springframework.jdbc.datasource.DriverManagerDataSource(TestDatabases.url(primary),
                        TestDatabases.USER, ""));
        try (ConfigurableApplicationContext first = start("")) {
            RestClient http = client(first);
            for (int i = 0; i < 12; i++) {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("documentId", "doc-" + i);
                body.put("content", "api " + i);
                body.put("embedding", embedding("api-" + i));
                http.put().uri("/api/v1/chunks/{id}", "api-" + i).contentType(MediaType.APPLICATION_JSON)
                        .body(body).retrieve().toBodilessEntity();
            }
            http.delete().uri("/api/v1/chunks/{id}", "api-3").retrieve().toBodilessEntity();
            for (int i = 0; i < 10; i++) {
                jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', ?, 1, ?::jsonb)", String.class,
                        "app-" + i, payload("app-" + i, "app v1 " + i));
            }
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'app-0', 2, ?::jsonb)", String.class,
                    payload("app-0", "app v2 0"));
            jdbc.queryForObject("SELECT vectorsync.enqueue('DELETE', 'app-9', 2)", String.class);
            jdbc.queryForObject("SELECT vectorsync.enqueue_link('app-1', 'CITES', 'api-1', 1)", String.class);
            jdbc.queryForObject("SELECT vectorsync.enqueue_link('api-2', 'NEXT', 'app-2', 1)", String.class);
            jdbc.queryForObject("SELECT vectorsync.enqueue_link('app-4', 'CITES', 'app-5', 1)", String.class);
            jdbc.queryForObject("SELECT vectorsync.enqueue_link('app-4', 'CITES', 'app-5', 2, true)", String.class);

            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                    "SELECT count(*) FROM outbox_status WHERE status <> 'PROCESSED'", Long.class) == 0);
            jdbc.update("UPDATE outbox SET created_at = created_at - interval '1 hour'"); // past outbox-age
            assertThat(first.getBean(RetentionService.class).runOnce().outbox()).isPositive();
        }
        assertThat(jdbc.queryForObject("SELECT count(*) FROM outbox", Long.class)).as("retention ran").isZero();

        try (ConfigurableApplicationContext second = start(
                ",classpath:test-routes-late/late.camel.yaml,classpath:test-routes-neo4j/*.camel.yaml",
                "--vectorsync.backends.late.postgres.jdbc-url=" + TestDatabases.url(target),
                "--vectorsync.backends.late.postgres.username=" + TestDatabases.USER,
                "--vectorsync.backends.late.postgres.table=late_chunks",
                "--vectorsync.backends.late.batch-size=4",
                "--vectorsync.backends.graph.type=neo4j",
                "--vectorsync.backends.graph.neo4j.url=" + Neo4jServer.boltUrl(),
                "--vectorsync.backends.graph.neo4j.label=LateChunk",
                "--vectorsync.backends.graph.batch-size=5")) {
            JdbcTemplate targetJdbc = new JdbcTemplate(
                    new org.springframework.jdbc.datasource.DriverManagerDataSource(TestDatabases.url(target),
                            TestDatabases.USER, ""));
            Map<String, List<Object>> expected = expectedChunks(jdbc);
            assertThat(expected).hasSize(11 + 9).containsEntry("app-0", List.of(2L, "app v2 0"))
                    .doesNotContainKeys("api-3", "app-9");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(tableChunks(targetJdbc)).isEqualTo(expected));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(graphChunks()).isEqualTo(expected));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(graphEdges())
                            .containsExactly("api-2-NEXT->app-2", "app-1-CITES->api-1"));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter", Long.class)).isZero();
            assertThat(jdbc.queryForObject("SELECT backfill_total FROM relay_cursor WHERE backend = 'graph'",
                    Long.class)).as("11 API chunks, 9 application chunks, 2 live edges").isEqualTo(22);

            // Verify of each new backend knows everything the primary holds: no difference, no false extra.
            RestClient http = client(second);
            for (String backend : List.of("late", "graph")) {
                JsonNode result = verify(http, backend);
                assertThat(result.path("primaryCount").asLong()).as(backend).isEqualTo(20);
                assertThat(result.path("backendCount").asLong()).as(backend).isEqualTo(20);
                for (String what : List.of("missing", "extra", "stale", "corrupt", "unreadable")) {
                    assertThat(result.path(what).asLong()).as(backend + " " + what + ": " + result).isZero();
                }
            }
            JsonNode links = verify(http, "graph").path("links");
            assertThat(links.path("primaryCount").asLong()).as(links.toString()).isEqualTo(2);
            assertThat(links.path("backendCount").asLong()).isEqualTo(2);
            for (String what : List.of("missing", "extra", "stale", "corrupt")) {
                assertThat(links.path(what).asLong()).as("links " + what + ": " + links).isZero();
            }
        }
    }
}
