package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Neo4jServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A Neo4j backend next to the replica, through the running relay: chunks arrive as nodes, LINK events
 * enqueued with {@code vectorsync.enqueue_link} as relationships (missing endpoints created), UNLINK and
 * chunk deletes remove edges, and the replica, which doesn't take links, moves past them.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-neo4j/*.camel.yaml",
        "vectorsync.backends.graph.type=neo4j",
        "vectorsync.backends.graph.neo4j.label=RelayChunk"})
class Neo4jRelayIT extends AbstractIT {

    private static Driver driver;

    @DynamicPropertySource
    static void neo4j(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.graph.neo4j.url", Neo4jServer::boltUrl);
    }

    @BeforeAll
    static void connect() {
        driver = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none());
    }

    @AfterAll
    static void disconnect() {
        driver.close();
    }

    private List<String> edges() {
        return driver.executableQuery("""
                MATCH (a:RelayChunk)-[e]->(b:RelayChunk) WHERE a.memory_id STARTS WITH 'n-'
                RETURN a.memory_id + ' ' + type(e) + ' ' + b.memory_id AS edge ORDER BY edge
                """).execute().records().stream().map(r -> r.get("edge").asString()).toList();
    }

    private Map<String, Long> nodeVersions() {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (Record r : driver.executableQuery(
                "MATCH (n:RelayChunk) WHERE n.memory_id STARTS WITH 'n-' RETURN n.memory_id AS id, n.version AS v")
                .execute().records()) {
            out.put(r.get("id").asString(), r.get("v").isNull() ? 0L : r.get("v").asLong());
        }
        return out;
    }

    private void link(String from, String type, String to, long version, boolean remove, String properties) {
        jdbc.queryForObject("SELECT vectorsync.enqueue_link(?, ?, ?, ?, ?, ?::jsonb)", String.class,
                from, type, to, version, remove, properties);
    }

    private long pending(String backend) {
        return count("SELECT count(*) FROM outbox_status WHERE backend = ? AND status <> 'PROCESSED'", backend);
    }

    @Test
    void chunksBecomeNodesAndLinkEventsRelationshipsWhileTheReplicaMovesPastThem() {
        for (String id : List.of("n-a", "n-b", "n-c")) {
            put(id, chunkBody("text of " + id));
        }
        link("n-a", "CITES", "n-b", 1, false, "{\"weight\": 0.5}");
        link("n-a", "CITES", "n-x", 1, false, "{}");
        link("n-b", "CITES", "n-c", 1, false, "{}");
        link("n-a", "MENTIONS", "n-b", 1, false, "{}");
        await().atMost(Duration.ofSeconds(30)).until(() -> edges().size() == 4);
        assertThat(edges()).containsExactly("n-a CITES n-b", "n-a CITES n-x", "n-a MENTIONS n-b", "n-b CITES n-c");
        await().atMost(Duration.ofSeconds(20)).until(() -> nodeVersions().size() == 4);
        assertThat(nodeVersions()).as("chunks with their versions, the missing endpoint bare")
                .containsEntry("n-a", 1L).containsEntry("n-b", 1L).containsEntry("n-c", 1L).containsEntry("n-x", 0L);

        // A newer chunk version keeps the node's relationships; UNLINK removes one edge, an older LINK
        // after it changes nothing; a chunk delete removes the node with its edges.
        put("n-a", chunkBody("second text of n-a"));
        link("n-a", "CITES", "n-b", 2, true, "{}");
        link("n-a", "CITES", "n-b", 1, false, "{}");
        delete("n-c");
        await().atMost(Duration.ofSeconds(30)).until(() -> pending("graph") == 0);
        assertThat(edges()).containsExactly("n-a CITES n-x", "n-a MENTIONS n-b");
        assertThat(nodeVersions()).containsEntry("n-a", 2L).doesNotContainKey("n-c");
        assertThat(count("SELECT version FROM delivery_ledger WHERE backend = 'graph'"
                + " AND chunk_key = vectorsync.link_key('n-a', 'CITES', 'n-b')")).as("the edge's own version").isEqualTo(2);

        // The replica takes no links: its cursor moves past them and it holds the chunks.
        awaitReplicaInStep(Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(20)).until(() -> pending("replica") == 0);
        assertThat(count("SELECT count(*) FROM delivery_ledger WHERE backend = 'replica' AND chunk_key LIKE 'link:%'"))
                .isZero();
        assertThat(count("SELECT count(*) FROM parked")).isZero();
        assertThat(count("SELECT count(*) FROM dead_letter")).isZero();
    }

    @Test
    void aLinkToADeletedChunkIsParkedAsTransientAndGoesThroughOnceTheChunkIsBack() {
        put("m-p", chunkBody("text of m-p"));
        put("m-q", chunkBody("text of m-q"));
        delete("m-q");
        await().atMost(Duration.ofSeconds(30)).until(() -> count("SELECT count(*) FROM outbox_status WHERE"
                + " backend = 'graph' AND chunk_id IN ('m-p', 'm-q') AND status <> 'PROCESSED'") == 0);
        link("m-p", "CITES", "m-q", 1, false, "{}");
        String key = jdbc.queryForObject("SELECT vectorsync.link_key('m-p', 'CITES', 'm-q')", String.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> count("SELECT count(*) FROM parked WHERE backend = 'graph'"
                + " AND chunk_id = ? AND error_class = 'TRANSIENT'", key) == 1);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE chunk_id = ?", key)).isZero();
        assertThat(driver.executableQuery("MATCH (n:RelayChunk {memory_id: 'm-q'}) RETURN count(n) AS n").execute()
                .records().get(0).get("n").asLong()).as("no stub for the deleted chunk").isZero();

        put("m-q", chunkBody("m-q is back"));
        await().atMost(Duration.ofSeconds(30)).until(() -> driver.executableQuery(
                "MATCH (:RelayChunk {memory_id: 'm-p'})-[e:CITES]->(:RelayChunk {memory_id: 'm-q'}) RETURN count(e) AS n")
                .execute().records().get(0).get("n").asLong() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> count("SELECT count(*) FROM parked WHERE chunk_id = ?", key) == 0);
        assertThat(count("SELECT count(*) FROM dead_letter")).isZero();
    }

    @Test
    void edgeKeysAndChunkIdsNeverMeet() {
        assertThat(put("link:1:a|CITES|b", chunkBody("impostor")).getStatusCode().value()).isEqualTo(400);
        assertThatThrownBy(() -> jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'link:1:a|T|b', 1, '{}')",
                String.class)).hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        assertThatThrownBy(() -> jdbc.queryForObject("SELECT vectorsync.enqueue('LINK', 'a->b', 1, '{}')",
                String.class)).hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        assertThatThrownBy(() -> jdbc.queryForObject("SELECT vectorsync.enqueue_link('a', 'cites', 'b', 1)",
                String.class)).hasMessageContaining("VSYNC-ENQUEUE-INVALID");
        assertThatThrownBy(() -> jdbc.update(
                "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('E1', 'DELETE', 'link:x', 1)"))
                .hasMessageContaining("outbox_link_events_use_edge_keys");
        assertThat(jdbc.queryForObject("SELECT vectorsync.link_key('a|X|b', 'Y', 'c')", String.class))
                .isEqualTo("link:5:a|X|b|Y|c");
    }
}
