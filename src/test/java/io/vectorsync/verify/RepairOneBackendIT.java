package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.domain.Link;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Neo4jServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Repair changes only the backend being repaired (issue 13, ADR 019): application aggregates, a link and
 * API chunks delivered to the replica and to a Neo4j backend; one of them is broken by hand (a row gone,
 * content corrupt at the same version, an extra) and verify repairs it. The repaired backend converges;
 * the other gets no write at all (its rows' xmin, its nodes' and edge's marker property, its ledger);
 * {@code chunks} gets no tombstone for an application aggregate or an edge, {@code aggregates} keeps its
 * versions and no outbox event is written.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.graph.type=neo4j",
        "vectorsync.backends.graph.neo4j.label=RepairChunk",
        "vectorsync.verify.page-size=3"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RepairOneBackendIT extends AbstractIT {

    private static final String EDGE = Link.key("r-app-1", "MENTIONS", "r-api-1");
    private static final String NO_EDGE = Link.key("r-api-1", "MENTIONS", "r-api-2");
    private static Driver driver;

    @DynamicPropertySource
    static void neo4j(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.graph.neo4j.url", Neo4jServer::boltUrl);
    }

    @BeforeAll
    static void connect() {
        driver = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none());
        driver.executableQuery("MATCH (n:RepairChunk) DETACH DELETE n").execute();
        driver.executableQuery("MATCH (n:VectorsyncTombstone_RepairChunk) DELETE n").execute();
    }

    @AfterAll
    static void disconnect() {
        driver.close();
    }

    private String appPayload(String content) {
        Map<String, Object> m = chunkBody(content);
        m.put("documentId", "doc-app");
        m.put("privacy", "FULL");
        return write(m);
    }

    private long graph(String cypher) {
        return driver.executableQuery(cypher).execute().records().get(0).get(0).asLong();
    }

    private String graphText(String cypher) {
        var records = driver.executableQuery(cypher).execute().records();
        return records.isEmpty() ? null : records.get(0).get(0).asString(null);
    }

    private String rows(String sql, Object... args) {
        List<String> out = new ArrayList<>();
        jdbc.query(sql, rs -> {
            List<String> row = new ArrayList<>();
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                row.add(rs.getString(i));
            }
            out.add(String.join("|", row));
        }, args);
        return String.join("\n", out);
    }

    /** What repair must leave as it was in the primary: chunks, aggregates and the outbox. */
    private Map<String, String> primaryState() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("chunks", rows("SELECT chunk_id, version, deleted, content FROM chunks WHERE chunk_id <> 'r-extra'"
                + " AND chunk_id <> 'g-extra' ORDER BY chunk_id"));
        s.put("aggregates", rows("SELECT key, version, deleted, payload_event FROM aggregates ORDER BY key"));
        s.put("outbox", rows("SELECT count(*), max(id) FROM outbox"));
        return s;
    }

    private boolean repairsDone() {
        return count("SELECT count(*) FROM repair_keys") == 0;
    }

    @Test
    @Order(1)
    void repairOfTheReplicaLeavesTheGraphAndThePrimaryAlone() throws Exception {
        put("r-api-1", chunkBody("api one"));
        put("r-api-2", chunkBody("api two"));
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'r-app-1', 1, ?::jsonb)", String.class,
                appPayload("app one"));
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'r-app-2', 1, ?::jsonb)", String.class,
                appPayload("app two"));
        jdbc.queryForObject("SELECT vectorsync.enqueue_link(?, ?, ?, ?, ?, ?::jsonb)", String.class,
                "r-app-1", "MENTIONS", "r-api-1", 1L, false, "{\"weight\": 2}");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                count("SELECT count(*) FROM replica_chunks") == 4
                        && count("SELECT count(*) FROM delivery_ledger WHERE backend = 'graph'") == 5
                        && count("SELECT count(*) FROM outbox_status WHERE status <> 'PROCESSED'") == 0);

        // Break the replica; mark every node and the edge of the graph, which any write would replace.
        jdbc.update("DELETE FROM replica_chunks WHERE chunk_id = 'r-app-1'");
        jdbc.update("UPDATE replica_chunks SET content = 'corrupt' WHERE chunk_id IN ('r-api-1', 'r-app-2')");
        jdbc.update("""
                INSERT INTO replica_chunks (chunk_id, version, document_id, content, metadata, privacy)
                VALUES ('r-extra', 3, 'doc-x', 'extra', '{}', 'FULL')""");
        driver.executableQuery("MATCH (n:RepairChunk) SET n.untouched = true").execute();
        driver.executableQuery("MATCH (:RepairChunk)-[e:MENTIONS]->(:RepairChunk) SET e.untouched = true").execute();
        String graphLedger = rows("SELECT chunk_key, version, applied_at FROM delivery_ledger WHERE backend = 'graph'"
                + " ORDER BY chunk_key");
        Map<String, String> primary = primaryState();

        JsonNode repaired = verifyResult("replica", true);
        assertThat(repaired.path("samples").path("corrupt").toString()).as(repaired.toString()).contains("r-api-1");
        assertThat(repaired.path("samples").path("extra").toString()).contains("r-extra")
                .doesNotContain("r-app-");
        assertThat(repaired.path("samples").path("missing").toString()).contains("r-app-1");
        assertThat(repaired.path("samples").path("corrupt").toString()).contains("r-app-2");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> repairsDone()
                && count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'r-app-1' AND content = 'app one'") == 1);

        assertThat(rows("SELECT chunk_id, version, content FROM replica_chunks ORDER BY chunk_id"))
                .as("the replica converges, at the versions it had").isEqualTo("""
                        r-api-1|1|api one
                        r-api-2|1|api two
                        r-app-1|1|app one
                        r-app-2|1|app two""");
        JsonNode again = verifyResult("replica", false);
        assertThat(verifyCounts(again)).as(again.toString()).isEqualTo("0/0/0/0");

        assertThat(graph("MATCH (n:RepairChunk) WHERE n.untouched IS NULL RETURN count(n)"))
                .as("no node of the graph was written").isZero();
        assertThat(graph("MATCH (n:RepairChunk) RETURN count(n)")).isEqualTo(4);
        assertThat(graph("MATCH (:RepairChunk)-[e:MENTIONS {untouched: true}]->(:RepairChunk) RETURN count(e)"))
                .as("nor its edge").isEqualTo(1);
        assertThat(rows("SELECT chunk_key, version, applied_at FROM delivery_ledger WHERE backend = 'graph'"
                + " ORDER BY chunk_key")).as("nor its ledger").isEqualTo(graphLedger);
        assertThat(primaryState()).as("no version bump, no tombstone of an aggregate, no outbox event")
                .isEqualTo(primary);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id IN ('r-app-1', 'r-app-2', ?)", EDGE)).isZero();
        assertThat(rows("SELECT version, deleted FROM chunks WHERE chunk_id = 'r-extra'"))
                .as("an extra no state holds: a tombstone at the backend's version, for a later API create")
                .isEqualTo("3|t");
    }

    @Test
    @Order(2)
    void repairOfTheGraphLeavesTheReplicaAndThePrimaryAlone() throws Exception {
        driver.executableQuery("MATCH (n:RepairChunk) REMOVE n.untouched").execute();
        driver.executableQuery("MATCH (:RepairChunk)-[e:MENTIONS]->(:RepairChunk) REMOVE e.untouched").execute();
        JsonNode clean = verifyResult("graph", false);
        assertThat(verifyCounts(clean)).as("no false extra for the application's chunks: " + clean).isEqualTo("0/0/0/0");
        assertThat(verifyCounts(clean.path("links"))).as(clean.toString()).isEqualTo("0/0/0/0");

        driver.executableQuery("MATCH (:RepairChunk)-[e:MENTIONS]->(:RepairChunk) DELETE e").execute();
        driver.executableQuery("MATCH (n:RepairChunk) WHERE n.memory_id IN ['r-api-2', 'r-app-2']"
                + " SET n.content = 'corrupt'").execute();
        driver.executableQuery("CREATE (:RepairChunk {memory_id: 'g-extra', version: 2, content: 'x', privacy: 'FULL'})")
                .execute();
        driver.executableQuery("MATCH (a:RepairChunk {memory_id: 'r-api-1'}), (b:RepairChunk {memory_id: 'r-api-2'})"
                + " CREATE (a)-[:MENTIONS {version: 3}]->(b)").execute();
        String replica = rows("SELECT chunk_id, xmin::text FROM replica_chunks ORDER BY chunk_id");
        String replicaLedger = rows("SELECT chunk_key, version, applied_at FROM delivery_ledger"
                + " WHERE backend = 'replica' ORDER BY chunk_key");
        Map<String, String> primary = primaryState();

        JsonNode repaired = verifyResult("graph", true);
        assertThat(repaired.path("samples").path("corrupt").toString()).as(repaired.toString()).contains("r-api-2");
        assertThat(repaired.path("samples").path("extra").toString()).contains("g-extra");
        assertThat(repaired.path("samples").path("corrupt").toString()).contains("r-app-2");
        assertThat(repaired.path("links").path("samples").path("missing").toString()).contains(EDGE);
        assertThat(repaired.path("links").path("samples").path("extra").toString()).contains(NO_EDGE);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> repairsDone()
                && graph("MATCH (:RepairChunk {memory_id: 'r-app-1'})-[e:MENTIONS]->(:RepairChunk {memory_id: 'r-api-1'})"
                        + " RETURN count(e)") == 1);

        assertThat(graphText("MATCH (n:RepairChunk {memory_id: 'r-api-2'}) RETURN n.content")).isEqualTo("api two");
        assertThat(graphText("MATCH (n:RepairChunk {memory_id: 'r-app-2'}) RETURN n.content")).isEqualTo("app two");
        assertThat(graph("MATCH (n:RepairChunk {memory_id: 'g-extra'}) RETURN count(n)")).isZero();
        assertThat(graph("MATCH (:RepairChunk)-[e:MENTIONS]->(:RepairChunk) RETURN count(e)"))
                .as("the extra edge is unlinked").isEqualTo(1);
        assertThat(graph("MATCH (:RepairChunk)-[e:MENTIONS {weight: 2, version: 1}]->(:RepairChunk) RETURN count(e)"))
                .as("the edge as enqueued, at its version").isEqualTo(1);
        assertThat(graph("MATCH (n:RepairChunk) WHERE n.memory_id STARTS WITH 'r-' RETURN sum(n.version)"))
                .as("the nodes at the versions they had").isEqualTo(4);
        JsonNode again = verifyResult("graph", false);
        assertThat(verifyCounts(again)).as(again.toString()).isEqualTo("0/0/0/0");
        assertThat(verifyCounts(again.path("links"))).as(again.toString()).isEqualTo("0/0/0/0");

        assertThat(rows("SELECT chunk_id, xmin::text FROM replica_chunks ORDER BY chunk_id"))
                .as("no row of the replica was written").isEqualTo(replica);
        assertThat(rows("SELECT chunk_key, version, applied_at FROM delivery_ledger WHERE backend = 'replica'"
                + " ORDER BY chunk_key")).as("nor its ledger").isEqualTo(replicaLedger);
        assertThat(primaryState()).as("no version bump, no tombstone of an aggregate, no outbox event")
                .isEqualTo(primary);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id IN ('r-app-1', 'r-app-2', ?, ?)", EDGE, NO_EDGE))
                .isZero();
        assertThat(count("SELECT count(*) FROM aggregates WHERE deleted")).isZero();
    }
}
