package io.vectorsync.backend.neo4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.ChangesDeferredException;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.Neo4jServer;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;

/**
 * Relationships in Neo4j (LINK events, ADR-008): keyed by edge with their own version, endpoints created
 * when missing, UNLINK removing one edge, a node delete removing its edges; and the lease fence.
 */
class Neo4jLinkIT {

    private static Neo4jBackend backend;
    private static Driver driver;
    private String prefix;

    @BeforeAll
    static void start() {
        String url = Neo4jServer.boltUrl();
        backend = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "neo4j.url", url, "neo4j.label", "LinkChunk"), 4);
        backend.bootstrap();
        driver = GraphDatabase.driver(url, AuthTokens.none());
    }

    @AfterAll
    static void stop() {
        backend.close();
        driver.close();
    }

    @BeforeEach
    void uniquePrefix() {
        prefix = "l" + UUID.randomUUID().toString().substring(0, 8) + "-";
    }

    private String id(String name) {
        return prefix + name;
    }

    private Change link(String from, String type, String to, long version, String properties) {
        return Change.link(new Link(id(from), type, id(to), properties), version);
    }

    private Change unlink(String from, String type, String to, long version) {
        return Change.unlink(new Link(id(from), type, id(to), "{}"), version);
    }

    private Change upsert(String name, long version) {
        return Change.upsert(new ChunkData(id(name), "doc", "text " + version, new float[] {1, 2, 3, version},
                "{\"lang\":\"en\"}", Privacy.FULL), version);
    }

    /** The relationships leaving the test's nodes: "from TYPE to" with their properties. */
    private List<Record> edges() {
        return driver.executableQuery("""
                MATCH (a:LinkChunk)-[e]->(b:LinkChunk) WHERE a.memory_id STARTS WITH $p
                RETURN a.memory_id AS from, type(e) AS type, b.memory_id AS to, properties(e) AS props
                ORDER BY from, type, to
                """).withParameters(Map.of("p", prefix)).execute().records();
    }

    private List<String> edgeNames() {
        return edges().stream().map(r -> r.get("from").asString().substring(prefix.length()) + " " + r.get("type").asString()
                + " " + r.get("to").asString().substring(prefix.length())).toList();
    }

    private Map<String, Object> node(String name) {
        List<Record> r = driver.executableQuery("MATCH (n:LinkChunk {memory_id: $id}) RETURN properties(n) AS p")
                .withParameters(Map.of("id", id(name))).execute().records();
        return r.isEmpty() ? null : r.get(0).get("p").asMap();
    }

    @Test
    void aLinkCreatesMissingEndpointsWithJustTheirIdAndTheirChunksFillThemLater() {
        backend.apply(List.of(link("a", "CITES", "b", 1, "{\"weight\":0.5,\"tags\":[\"x\",\"y\"],\"meta\":{\"k\":1}}")), LeaseFence.of(1));
        assertThat(edgeNames()).containsExactly("a CITES b");
        Map<String, Object> props = edges().get(0).get("props").asMap();
        assertThat(props).containsEntry("version", 1L).containsEntry("weight", 0.5)
                .containsEntry("tags", List.of("x", "y")).containsEntry("meta", "{\"k\":1}");
        assertThat(node("a")).containsOnlyKeys("memory_id");
        assertThat(node("b")).containsOnlyKeys("memory_id");
        assertThat(backend.readBack(List.of(id("a"), id("b")))).as("a bare endpoint is not a chunk yet").isEmpty();

        backend.apply(List.of(upsert("a", 3)), LeaseFence.of(1));
        assertThat(backend.readBack(List.of(id("a"))).get(id("a")).version()).isEqualTo(3);
        assertThat(edgeNames()).as("the chunk's upsert keeps its relationships").containsExactly("a CITES b");
    }

    @Test
    void anOlderLinkVersionIsIgnoredAndANewerOneReplacesTheProperties() {
        backend.apply(List.of(link("a", "CITES", "b", 2, "{\"w\":2,\"old\":true}")), LeaseFence.of(1));
        backend.apply(List.of(link("a", "CITES", "b", 1, "{\"w\":1}")), LeaseFence.of(1));
        backend.apply(List.of(link("a", "CITES", "b", 2, "{\"w\":2,\"old\":true}")), LeaseFence.of(1));
        assertThat(edges()).hasSize(1);
        assertThat(edges().get(0).get("props").asMap()).containsEntry("w", 2L).containsEntry("version", 2L);
        backend.apply(List.of(link("a", "CITES", "b", 3, "{\"w\":3}")), LeaseFence.of(1));
        assertThat(edges().get(0).get("props").asMap()).as("a full replace, never a merge")
                .containsOnly(Map.entry("w", 3L), Map.entry("version", 3L));
    }

    @Test
    void anUnlinkRemovesOnlyThatEdgeAndAnOlderLinkStaysRemoved() {
        backend.apply(List.of(link("a", "CITES", "b", 1, "{}"), link("a", "CITES", "c", 1, "{}"),
                link("a", "MENTIONS", "b", 1, "{}"), link("b", "CITES", "a", 1, "{}")), LeaseFence.of(1));
        backend.apply(List.of(unlink("a", "CITES", "b", 2)), LeaseFence.of(1));
        assertThat(edgeNames()).containsExactly("a CITES c", "a MENTIONS b", "b CITES a");
        assertThat(node("a")).as("the endpoints stay").isNotNull();
        assertThat(node("b")).isNotNull();

        backend.apply(List.of(link("a", "CITES", "b", 1, "{}")), LeaseFence.of(1));
        assertThat(edgeNames()).as("an older LINK after the UNLINK").doesNotContain("a CITES b");
        backend.apply(List.of(unlink("a", "CITES", "x", 1)), LeaseFence.of(1));
        assertThat(node("x")).as("unlinking a missing edge creates nothing").isNull();
        backend.apply(List.of(link("a", "CITES", "b", 3, "{}")), LeaseFence.of(1));
        assertThat(edgeNames()).contains("a CITES b");
    }

    @Test
    void deletingANodeRemovesItsRelationshipsAndABatchIsAppliedInOrder() {
        backend.apply(List.of(upsert("a", 1), upsert("b", 1), link("a", "CITES", "b", 1, "{}"),
                link("c", "CITES", "a", 1, "{}"), link("b", "CITES", "c", 1, "{}")), LeaseFence.of(1));
        assertThat(edgeNames()).containsExactly("a CITES b", "b CITES c", "c CITES a");
        backend.apply(List.of(Change.delete(id("a"), 2)), LeaseFence.of(1));
        assertThat(node("a")).isNull();
        assertThat(edgeNames()).containsExactly("b CITES c");
        assertThat(backend.readBack(List.of(id("b"))).get(id("b")).version()).as("the other endpoint stays")
                .isEqualTo(1);

        // In order: the link to d is made, then d is deleted with it; e's link comes after e's delete and
        // waits for e (deferred, written when e exists), the rest of the batch is written.
        List<Change> batch = List.of(link("b", "CITES", "d", 1, "{}"), Change.delete(id("d"), 1),
                Change.delete(id("e"), 1), link("b", "CITES", "e", 1, "{}"), upsert("f", 1));
        assertThatThrownBy(() -> backend.apply(batch, LeaseFence.of(1))).isInstanceOfSatisfying(ChangesDeferredException.class,
                e -> assertThat(e.deferred()).containsExactly(3));
        assertThat(edgeNames()).containsExactly("b CITES c");
        assertThat(node("d")).isNull();
        assertThat(node("e")).as("a LINK never creates an endpoint that has a tombstone").isNull();
        assertThat(node("f")).isNotNull();

        backend.apply(List.of(upsert("e", 2)), LeaseFence.of(1));
        backend.apply(List.of(link("b", "CITES", "e", 1, "{}")), LeaseFence.of(1));
        assertThat(edgeNames()).as("once the chunk exists again").containsExactly("b CITES c", "b CITES e");
    }

    @Test
    void endpointsThatOnlyALinkCreatedGoWhenTheirLastRelationshipGoes() {
        backend.apply(List.of(upsert("a", 1), link("a", "CITES", "x", 1, "{}"), link("a", "CITES", "y", 1, "{}"),
                link("z", "CITES", "y", 1, "{}")), LeaseFence.of(1));
        assertThat(node("x")).containsOnlyKeys("memory_id");
        backend.apply(List.of(unlink("a", "CITES", "x", 2)), LeaseFence.of(1));
        assertThat(node("x")).as("the stub held only that edge").isNull();
        backend.apply(List.of(Change.delete(id("a"), 2)), LeaseFence.of(1));
        assertThat(node("y")).as("still the endpoint of z's link").isNotNull();
        assertThat(edgeNames()).containsExactly("z CITES y");
        backend.apply(List.of(Change.delete(id("z"), 1)), LeaseFence.of(1));
        assertThat(node("y")).as("its last relationship went with z").isNull();
        assertThat(node("z")).isNull();
    }

    @Test
    void aWriteOfAnOlderLeaseEpochIsRefused() {
        Neo4jBackend fenced = new Neo4jBackend("fenced", BackendConfigs.of("type", "neo4j",
                "neo4j.url", Neo4jServer.boltUrl(), "neo4j.label", "FencedChunk"), 4);
        try {
            fenced.apply(List.of(Change.delete(id("f"), 1)), LeaseFence.of(5));
            fenced.apply(List.of(Change.delete(id("f"), 2)), LeaseFence.of(5));
            assertThatThrownBy(() -> fenced.apply(List.of(Change.delete(id("g"), 1)), LeaseFence.of(4)))
                    .isInstanceOf(BackendFencedException.class);
            assertThat(driver.executableQuery("MATCH (t:VectorsyncTombstone_FencedChunk {memory_id: $id}) RETURN t")
                    .withParameters(Map.of("id", id("g"))).execute().records()).as("the refused batch rolled back")
                    .isEmpty();
            fenced.apply(List.of(Change.delete(id("g"), 1)), LeaseFence.of(6));
        } finally {
            fenced.close();
        }
    }
}
