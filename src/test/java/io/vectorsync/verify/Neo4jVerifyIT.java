package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Neo4jServer;
import java.time.Duration;
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
 * Verify and repair of a Neo4j backend: chunk nodes are listed in memory_id order (endpoint nodes that a
 * LINK created, without a version, are not chunks and not counted); a deleted node, an orphan node, an
 * older version and changed content are found; repair converges.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-neo4j-verify/*.camel.yaml",
        "vectorsync.backends.graph.type=neo4j",
        "vectorsync.backends.graph.neo4j.label=VerifyChunk",
        "vectorsync.verify.page-size=4"})
class Neo4jVerifyIT extends AbstractIT {

    private static Driver driver;

    @DynamicPropertySource
    static void neo4j(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.graph.neo4j.url", Neo4jServer::boltUrl);
    }

    @BeforeAll
    static void connect() {
        driver = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none());
        driver.executableQuery("MATCH (n:VerifyChunk) DETACH DELETE n").execute();
        driver.executableQuery("MATCH (n:VectorsyncTombstone_VerifyChunk) DELETE n").execute();
    }

    @AfterAll
    static void disconnect() {
        driver.close();
    }

    private boolean delivered() {
        return deliveredTo("graph")
                && count("SELECT count(*) FROM outbox_status WHERE backend = 'graph' AND status <> 'PROCESSED'") == 0
                && count("SELECT count(*) FROM repair_keys") == 0;
    }

    private JsonNode verify(boolean repair) throws Exception {
        return verifyResult("graph", repair);
    }


    @Test
    void verifyListsChunkNodesAndRepairConverges() throws Exception {
        for (int i = 0; i < 15; i++) {
            put("g-" + String.format("%02d", i), chunkBody("text " + i));
        }
        put("g-03", chunkBody("second"));
        jdbc.queryForObject("SELECT vectorsync.enqueue_link(?, ?, ?, ?, ?, ?::jsonb)", String.class,
                "g-00", "MENTIONS", "g-ghost", 1L, false, "{}");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(this::delivered);
        assertThat(driver.executableQuery("MATCH (n:VerifyChunk {memory_id: 'g-ghost'}) RETURN count(n) AS n")
                .execute().records().get(0).get("n").asLong()).as("the link's endpoint node exists").isEqualTo(1);

        JsonNode clean = verify(false);
        assertThat(verifyCounts(clean)).as("a link's endpoint whose chunk never came is extra").isEqualTo("0/1/0/0");
        assertThat(clean.path("samples").toString()).contains("g-ghost");
        assertThat(clean.path("backendCount").asLong()).isEqualTo(16);

        driver.executableQuery("MATCH (n:VerifyChunk {memory_id: 'g-01'}) DETACH DELETE n").execute();
        driver.executableQuery("CREATE (:VerifyChunk {memory_id: 'g-x', version: 2, content: 'x', privacy: 'FULL'})")
                .execute();
        driver.executableQuery("MATCH (n:VerifyChunk {memory_id: 'g-03'}) SET n.version = 1").execute();
        driver.executableQuery("MATCH (n:VerifyChunk {memory_id: 'g-05'}) SET n.content = 'changed'").execute();

        JsonNode found = verify(false);
        assertThat(verifyCounts(found)).isEqualTo("1/2/1/1");
        assertThat(found.path("samples").toString()).contains("g-01", "g-x", "g-03", "g-05");

        long events = count("SELECT count(*) FROM outbox");
        assertThat(verify(true).path("repaired").asLong()).as("the stub is reported, not repaired: its LINK holds it")
                .isEqualTo(4);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(this::delivered);
        assertThat(count("SELECT count(*) FROM outbox")).as("repair writes no event").isEqualTo(events);
        assertThat(driver.executableQuery("MATCH (n:VerifyChunk {memory_id: 'g-05'}) RETURN n.version + ':' + n.content AS v")
                .execute().records().get(0).get("v").asString()).as("rewritten at its own version").isEqualTo("1:text 5");
        JsonNode again = verify(false);
        assertThat(verifyCounts(again)).isEqualTo("0/1/0/0");
        assertThat(again.path("backendCount").asLong()).isEqualTo(16);
    }
}
