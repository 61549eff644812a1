package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.domain.Link;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Neo4jServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Verify compares everything the primary holds (issue 13): chunks of the API and chunks the application
 * enqueued, on the replica table (whose API rows go by checksum) and on Neo4j, and Neo4j's edges with the
 * live links of {@code aggregates}. In step, nothing differs and no enqueued chunk is extra; then each
 * change made to a store by hand is reported in its category, and a payload the relay can't parse as
 * unreadable.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.graph.type=neo4j",
        "vectorsync.backends.graph.neo4j.label=StateChunk",
        "vectorsync.verify.page-size=3"})
class StateVerifyIT extends AbstractIT {

    private static Driver driver;

    @DynamicPropertySource
    static void neo4j(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.graph.neo4j.url", Neo4jServer::boltUrl);
    }

    @BeforeAll
    static void connect() {
        driver = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none());
        driver.executableQuery("MATCH (n:StateChunk) DETACH DELETE n").execute();
        driver.executableQuery("MATCH (n:VectorsyncTombstone_StateChunk) DELETE n").execute();
    }

    @AfterAll
    static void disconnect() {
        driver.close();
    }

    /** Every event processed by both backends, and the ledger at the state's version of every key. */
    private boolean delivered() {
        return deliveredTo("replica") && deliveredTo("graph")
                && count("SELECT count(*) FROM outbox_status WHERE backend IN ('replica', 'graph') AND status <> 'PROCESSED'") == 0
                && count("""
                        SELECT count(*) FROM aggregates a LEFT JOIN delivery_ledger l ON l.backend = 'graph' AND l.chunk_key = a.key
                         WHERE l.version IS DISTINCT FROM a.version""") == 0;
    }

    private void enqueue(String id, long version, String content, Map<String, Object> metadata) {
        Map<String, Object> body = chunkBody(content);
        body.put("metadata", metadata);
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', ?, ?, ?::jsonb)", String.class, id, version, write(body));
    }

    private void link(String from, String type, String to, long version, boolean remove, String properties) {
        jdbc.queryForObject("SELECT vectorsync.enqueue_link(?, ?, ?, ?, ?, ?::jsonb)", String.class,
                from, type, to, version, remove, properties);
    }

    private void cypher(String statement) {
        driver.executableQuery(statement).execute();
    }

    private static long n(JsonNode r, String what) {
        return r.path(what).asLong();
    }

    @Test
    void enqueuedChunksAndLinksAreComparedAndEachDifferenceFound() throws Exception {
        for (int i = 0; i < 6; i++) {
            put("s-a" + i, chunkBody("api " + i));
            // Metadata numbers as the planner reads them (ExactJson): 1.50 stays 1.50.
            enqueue("s-p" + i, 1, "app " + i, Map.of("lang", "en", "score", new java.math.BigDecimal("1.50")));
        }
        enqueue("s-p1", 2, "app 1, second", Map.of("lang", "de"));
        link("s-a0", "MENTIONS", "s-p0", 1, false, "{\"w\": 1}");
        link("s-p1", "CITES", "s-p2", 1, false, "{\"w\": 2.5, \"tags\": [\"a\", \"b\"], \"nested\": {\"x\": 1}}");
        link("s-p3", "MENTIONS", "s-a1", 2, false, "{}");
        link("s-p4", "MENTIONS", "s-a5", 1, false, "{}"); // its endpoint is deleted below: the edge goes with it
        link("s-p0", "CITES", "s-p5", 1, false, "{}");
        link("s-p0", "CITES", "s-p5", 2, true, "{}"); // unlinked: a tombstone, not expected anywhere
        link("s-p5", "MENTIONS", "s-ghost", 1, false, "{}"); // an endpoint whose chunk never comes: a stub
        for (String to : new String[] {"s-a0", "s-a1", "s-a3", "s-a4"}) {
            link("s-p2", "CITES", to, 1, false, "{}"); // more edges from one node than a page holds
        }
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(this::delivered);
        assertThat(delete("s-a5").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(this::delivered);

        JsonNode replica = verifyResult("replica", false);
        assertThat(verifyCounts(replica)).as(replica.toString()).isEqualTo("0/0/0/0");
        assertThat(n(replica, "unreadable")).isZero();
        assertThat(n(replica, "primaryCount")).as("5 chunks of the API and 6 of the application").isEqualTo(11);
        assertThat(n(replica, "backendCount")).isEqualTo(11);
        assertThat(replica.has("links")).as("the replica holds no edges").isFalse();

        JsonNode graph = verifyResult("graph", false);
        assertThat(verifyCounts(graph)).as("only the stub is an extra chunk: " + graph).isEqualTo("0/1/0/0");
        assertThat(graph.path("samples").path("extra").toString()).contains("s-ghost");
        assertThat(n(graph, "primaryCount")).isEqualTo(11);
        JsonNode links = graph.path("links");
        assertThat(verifyCounts(links)).as(links.toString()).isEqualTo("0/0/0/0");
        assertThat(n(links, "unreadable")).isZero();
        assertThat(n(links, "primaryCount")).as("the unlinked edge and the deleted endpoint's edge aside").isEqualTo(8);
        assertThat(n(links, "backendCount")).isEqualTo(8);

        // The replica: an application chunk gone, one changed, and an API chunk changed in a mixed page.
        jdbc.update("DELETE FROM replica_chunks WHERE chunk_id = 's-p0'");
        jdbc.update("UPDATE replica_chunks SET content = 'changed' WHERE chunk_id = 's-p1'");
        jdbc.update("UPDATE replica_chunks SET version = 1 WHERE chunk_id = 's-p1'");
        jdbc.update("UPDATE replica_chunks SET content = 'changed' WHERE chunk_id IN ('s-p2', 's-a2')");
        // Neo4j: an application chunk changed; an edge gone, one changed, one older, one added.
        cypher("MATCH (n:StateChunk {memory_id: 's-p3'}) SET n.content = 'changed'");
        cypher("MATCH (:StateChunk {memory_id: 's-a0'})-[e:MENTIONS]->(:StateChunk {memory_id: 's-p0'}) DELETE e");
        cypher("MATCH (:StateChunk {memory_id: 's-p1'})-[e:CITES]->(:StateChunk {memory_id: 's-p2'}) SET e.w = 3");
        cypher("MATCH (:StateChunk {memory_id: 's-p3'})-[e:MENTIONS]->(:StateChunk {memory_id: 's-a1'}) SET e.version = 1");
        cypher("MATCH (a:StateChunk {memory_id: 's-p4'}), (b:StateChunk {memory_id: 's-a3'})"
                + " CREATE (a)-[:KNOWS {version: 1}]->(b)");
        // A payload the relay can't parse: it parks the event, no backend can hold it.
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 's-bad', 1, ?::jsonb)", String.class,
                "{\"content\": \"x\", \"embedding\": \"not a vector\"}");

        JsonNode r = verifyResult("replica", false);
        assertThat(verifyCounts(r)).as(r.toString()).isEqualTo("1/0/1/2");
        assertThat(r.path("samples").path("missing").toString()).contains("s-p0");
        assertThat(r.path("samples").path("stale").toString()).contains("s-p1");
        assertThat(r.path("samples").path("corrupt").toString()).contains("s-p2", "s-a2");
        assertThat(n(r, "unreadable")).isEqualTo(1);
        assertThat(r.path("samples").path("unreadable").toString()).contains("s-bad");

        JsonNode g = verifyResult("graph", false);
        assertThat(verifyCounts(g)).as(g.toString()).isEqualTo("0/1/0/1");
        assertThat(g.path("samples").path("corrupt").toString()).contains("s-p3");
        assertThat(n(g, "unreadable")).isEqualTo(1);
        JsonNode l = g.path("links");
        assertThat(verifyCounts(l)).as(l.toString()).isEqualTo("1/1/1/1");
        assertThat(l.path("samples").path("missing").toString()).contains(Link.key("s-a0", "MENTIONS", "s-p0"));
        assertThat(l.path("samples").path("corrupt").toString()).contains(Link.key("s-p1", "CITES", "s-p2"));
        assertThat(l.path("samples").path("stale").toString()).contains(Link.key("s-p3", "MENTIONS", "s-a1"));
        assertThat(l.path("samples").path("extra").toString()).contains(Link.key("s-p4", "KNOWS", "s-a3"));
        assertThat(n(l, "backendCount")).isEqualTo(8);
    }
}
