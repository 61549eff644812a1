package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.ChangesDeferredException;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.backend.neo4j.Neo4jBackend;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.OutboxEvent;
import io.vectorsync.domain.Privacy;
import io.vectorsync.relay.ChangePlanner.Group;
import io.vectorsync.relay.OutboxReader.ChunkRow;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.Neo4jServer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;

/**
 * A graph backend's result must not depend on where batches were cut: the events of chunk A and of a
 * LINK A→B are planned as the relay plans them ({@link ChangePlanner}, one change per key and batch),
 * written to the real in-process Neo4j, and the result of every cut is compared with the result of
 * delivering the events one by one. A LINK the backend defers (its endpoint has a tombstone) is parked
 * as the relay parks it, and retried with the next batch.
 */
class Neo4jBatchCutsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The relay's writer alone (its isolation by splitting), without the rest of a deliverer. */
    private static final RelayDeliverer ISOLATING =
            new RelayDeliverer(null, null, null, null, null, null, null, null, null, List.of(), null, null, null);
    private static final String LABEL = "CutChunk";
    private static Backend backend;
    private static Driver driver;
    private final ChangePlanner planner = new ChangePlanner(JSON);

    @BeforeAll
    static void start() {
        String url = Neo4jServer.boltUrl();
        backend = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "neo4j.url", url, "neo4j.label", LABEL),
                4);
        backend.bootstrap();
        driver = GraphDatabase.driver(url, AuthTokens.none());
    }

    @AfterAll
    static void stop() throws Exception {
        ((AutoCloseable) backend).close();
        driver.close();
    }

    /** One event of a scenario: U (upsert A), D (delete A) or L (link A→B), A's versions in order of appearance. */
    private List<OutboxEvent> events(String prefix, String kinds) {
        String a = prefix + "a";
        String b = prefix + "b";
        List<OutboxEvent> out = new ArrayList<>();
        long version = 0;
        for (char k : kinds.toCharArray()) {
            String id = UUID.randomUUID().toString();
            switch (k) {
                case 'U' -> {
                    version++;
                    out.add(new OutboxEvent(null, null, id, "UPSERT", a, version,
                            "{\"documentId\":\"doc\",\"content\":\"text " + version + "\",\"embedding\":[1,2,3,"
                                    + version + "],\"metadata\":{\"v\":" + version + "},\"privacy\":\"FULL\"}",
                            Instant.EPOCH, 0, false));
                }
                case 'D' -> {
                    version++;
                    out.add(new OutboxEvent(null, null, id, "DELETE", a, version, "{}", Instant.EPOCH, 0, false));
                }
                case 'L' -> out.add(new OutboxEvent(null, null, id, "LINK", Link.key(a, "CITES", b), 1,
                        "{\"from\":\"" + a + "\",\"type\":\"CITES\",\"to\":\"" + b + "\",\"op\":\"LINK\",\"properties\":{}}",
                        Instant.EPOCH, 0, false));
                default -> throw new IllegalArgumentException(String.valueOf(k));
            }
        }
        return out;
    }

    /**
     * Delivers the batches as the relay does: plan, skip what the ledger already has, write, record the
     * written keys in the ledger and park what the backend deferred (retried first in the next batch);
     * then a few rounds for what is still parked. Returns the chunk keys still parked at the end.
     */
    private Set<String> deliver(List<List<OutboxEvent>> batches, boolean redeliver) {
        return deliver(batches, redeliver, Map.of());
    }

    private Set<String> deliver(List<List<OutboxEvent>> batches, boolean redeliver, Map<String, ChunkRow> rows) {
        return deliver(batches, redeliver, rows, null);
    }

    /**
     * With {@code poison} set, every write goes through the relay's isolating writer and fails transiently
     * whenever it holds that key, as a backend timing out on one event does: the relay then splits the batch
     * until the poison is alone, and what it parks is retried with the next batch.
     */
    private Set<String> deliver(List<List<OutboxEvent>> batches, boolean redeliver, Map<String, ChunkRow> rows,
            String poison) {
        Map<String, Long> ledger = new HashMap<>();
        List<OutboxEvent> parked = new ArrayList<>();
        List<List<OutboxEvent>> rounds = new ArrayList<>(batches);
        for (int i = 0; i < 3; i++) {
            rounds.add(List.of());
        }
        for (List<OutboxEvent> events : rounds) {
            if (events.isEmpty() && parked.isEmpty()) {
                continue;
            }
            Map<String, Group> groups = planner.plan(new Batch("graph", null, null, events, parked, rows,
                    Map.of(), false), true);
            List<Change> toWrite = new ArrayList<>();
            for (Group g : groups.values()) {
                assertThat(g.change).as("no poison in these events").isNotNull();
                Long have = ledger.get(g.key);
                if (have == null || have < g.change.version()) {
                    toWrite.add(g.change);
                }
            }
            if (redeliver) {
                // Written, then the cursor's commit is lost (a lease lost, a crash): the same batch comes again.
                try {
                    backend.apply(toWrite, LeaseFence.of(1));
                } catch (ChangesDeferredException e) {
                    // parked only by the delivery that commits
                }
            }
            Set<Integer> deferred = new java.util.HashSet<>();
            if (poison != null) {
                RelayDeliverer.Outcome o;
                try {
                    o = ISOLATING.write(toWrite, true, list -> {
                        if (list.stream().anyMatch(c -> c.key().equals(poison))) {
                            throw new TransientBackendException("the backend times out on " + poison, null);
                        }
                        backend.apply(list, LeaseFence.of(1));
                    });
                } catch (TransientBackendException allFailed) { // nothing went through: all of it comes again
                    o = new RelayDeliverer.Outcome();
                    for (Change c : toWrite) {
                        o.failed.put(c.key(), allFailed);
                    }
                }
                for (int i = 0; i < toWrite.size(); i++) {
                    if (o.failed.containsKey(toWrite.get(i).key())) {
                        deferred.add(i);
                    }
                }
                RelayDeliverer.Outcome done = o;
                done.applied.stream().filter(c -> done.failed.containsKey(c.key()))
                        .forEach(c -> ledger.merge(c.key(), c.version(), Math::max)); // a part that went through
            } else {
                try {
                    backend.apply(toWrite, LeaseFence.of(1));
                } catch (ChangesDeferredException e) {
                    deferred = e.deferred();
                }
            }
            List<OutboxEvent> next = new ArrayList<>();
            for (int i = 0; i < toWrite.size(); i++) {
                Change c = toWrite.get(i);
                if (deferred.contains(i)) {
                    OutboxEvent e = groups.get(c.key()).newestEvent();
                    next.add(new OutboxEvent(e.outboxId(), e.txId(), e.eventId(), e.type(), e.chunkId(), e.version(),
                            e.payloadJson(), e.createdAt(), e.attempts() + 1, true));
                } else {
                    ledger.merge(c.key(), c.version(), Math::max);
                }
            }
            parked = next;
        }
        Set<String> still = new LinkedHashSet<>();
        parked.forEach(e -> still.add(e.chunkId()));
        still.remove(poison);
        return still;
    }

    /** Nodes (version, or "stub" for an endpoint without one), tombstones, edges and parked keys, prefix removed. */
    private String state(String prefix, Set<String> parked) {
        Map<String, String> nodes = new TreeMap<>();
        for (Record r : driver.executableQuery("MATCH (n:" + LABEL + ") WHERE n.memory_id STARTS WITH $p"
                + " RETURN n.memory_id AS id, n.version AS v, n.content AS c")
                .withParameters(Map.of("p", prefix)).execute().records()) {
            nodes.put(r.get("id").asString().substring(prefix.length()),
                    r.get("v").isNull() ? "stub" : "v" + r.get("v").asLong() + "/" + r.get("c").asString());
        }
        Map<String, Long> tombstones = new TreeMap<>();
        for (Record r : driver.executableQuery("MATCH (t:VectorsyncTombstone_" + LABEL + ") WHERE t.memory_id STARTS WITH $p"
                + " RETURN t.memory_id AS id, t.version AS v").withParameters(Map.of("p", prefix)).execute().records()) {
            tombstones.put(r.get("id").asString().substring(prefix.length()), r.get("v").asLong());
        }
        List<String> edges = driver.executableQuery("MATCH (a:" + LABEL + ")-[e]->(b:" + LABEL + ")"
                + " WHERE a.memory_id STARTS WITH $p RETURN a.memory_id AS a, type(e) AS t, b.memory_id AS b,"
                + " e.version AS v ORDER BY a, t, b").withParameters(Map.of("p", prefix)).execute().records().stream()
                .map(r -> r.get("a").asString().substring(prefix.length()) + "-" + r.get("t").asString() + "->"
                        + r.get("b").asString().substring(prefix.length()) + " v" + r.get("v").asLong())
                .toList();
        List<String> stillParked = parked.stream().map(k -> k.replace(prefix, "")).sorted().toList();
        return "nodes=" + nodes + " tombstones=" + tombstones + " edges=" + edges + " parked=" + stillParked;
    }

    private String oneByOne(String kinds) {
        String prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "-";
        List<List<OutboxEvent>> batches = new ArrayList<>();
        events(prefix, kinds).forEach(e -> batches.add(List.of(e)));
        return state(prefix, deliver(batches, false));
    }

    /** The events cut into batches after the positions whose bit is set in {@code cuts}. */
    private String cut(String kinds, int cuts) {
        return cut(kinds, cuts, false);
    }

    private String cut(String kinds, int cuts, boolean redeliver) {
        String prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "-";
        List<OutboxEvent> events = events(prefix, kinds);
        List<List<OutboxEvent>> batches = new ArrayList<>();
        List<OutboxEvent> current = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            current.add(events.get(i));
            if (i == events.size() - 1 || (cuts & (1 << i)) != 0) {
                batches.add(current);
                current = new ArrayList<>();
            }
        }
        return state(prefix, deliver(batches, redeliver));
    }

    private static String cutName(String kinds, int cuts) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < kinds.length(); i++) {
            s.append(kinds.charAt(i));
            if (i < kinds.length() - 1) {
                s.append((cuts & (1 << i)) != 0 ? "][" : " ");
            }
        }
        return s.append(']').toString();
    }

    private static Set<String> orders(String kinds) {
        Set<String> out = new LinkedHashSet<>();
        if (kinds.length() <= 1) {
            out.add(kinds);
            return out;
        }
        for (int i = 0; i < kinds.length(); i++) {
            String rest = kinds.substring(0, i) + kinds.substring(i + 1);
            for (String o : orders(rest)) {
                out.add(kinds.charAt(i) + o);
            }
        }
        return out;
    }

    @Test
    void aBatchOfUpsertLinkDeleteEndsAsThreeBatchesDo() {
        String single = cut("ULD", 0);
        assertThat(single).isEqualTo(oneByOne("ULD"));
        assertThat(single).as("A deleted, its edge gone with it; B was only the link's endpoint")
                .isEqualTo("nodes={} tombstones={a=2} edges=[] parked=[]");
    }

    @Test
    void aLinkAfterItsEndpointsDeleteWaitsForTheChunkInsteadOfCreatingAStub() {
        assertThat(oneByOne("UDL")).as("no stub A, no edge: the LINK stays parked")
                .isEqualTo("nodes={} tombstones={a=2} edges=[] parked=[link:11:a|CITES|b]");
        assertThat(oneByOne("UDLU")).as("the parked LINK goes through once A exists again")
                .isEqualTo("nodes={a=v3/text 3, b=stub} tombstones={} edges=[a-CITES->b v1] parked=[]");
    }

    @Test
    void upsertLinkDeleteUpsertInEveryOrderAndEveryBatchCutEndsAsOneByOne() {
        List<String> differences = new ArrayList<>();
        int compared = 0;
        for (String kinds : orders("ULDU")) {
            String expected = oneByOne(kinds);
            for (int cuts = 0; cuts < 1 << (kinds.length() - 1); cuts++) {
                String got = cut(kinds, cuts);
                compared++;
                if (!got.equals(expected)) {
                    differences.add(cutName(kinds, cuts) + ": " + got + "\n    one by one: " + expected);
                }
            }
        }
        assertThat(compared).isEqualTo(12 * 8);
        assertThat(differences).as("batch cuts whose result differs from delivering one by one").isEmpty();
    }

    @Test
    void everyBatchRedeliveredAfterItsWriteCommittedEndsAsOneByOne() {
        List<String> differences = new ArrayList<>();
        for (String kinds : orders("ULDU")) {
            String expected = oneByOne(kinds);
            for (int cuts = 0; cuts < 1 << (kinds.length() - 1); cuts++) {
                String got = cut(kinds, cuts, true);
                if (!got.equals(expected)) {
                    differences.add(cutName(kinds, cuts) + ": " + got + "\n    one by one: " + expected);
                }
            }
        }
        assertThat(differences).as("redelivered batch cuts whose result differs from delivering one by one").isEmpty();
    }

    /**
     * While the relay isolates a failing event it applies a batch in parts; each part must be a cut of the
     * batch's events, or a chunk and its LINK in different parts would be applied out of their order. An
     * unrelated chunk the backend keeps timing out on sits at every position of every order.
     */
    @Test
    void aBatchIsolatedAroundAFailingEventEndsAsOneByOneInEveryOrderAndEveryPositionOfTheFailure() {
        List<String> differences = new ArrayList<>();
        int compared = 0;
        for (String kinds : orders("ULDU")) {
            String expected = oneByOne(kinds);
            for (int at = 0; at <= kinds.length(); at++) {
                String prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "-";
                String poison = "p" + UUID.randomUUID().toString().substring(0, 8);
                List<OutboxEvent> batch = new ArrayList<>(events(prefix, kinds));
                batch.add(at, new OutboxEvent(null, null, UUID.randomUUID().toString(), "UPSERT", poison, 1,
                        "{\"documentId\":\"doc\",\"content\":\"x\",\"embedding\":[1,1,1,1],\"metadata\":{},"
                                + "\"privacy\":\"FULL\"}", Instant.EPOCH, 0, false));
                String got = state(prefix, deliver(List.of(batch), false, Map.of(), poison));
                compared++;
                if (!got.equals(expected)) {
                    differences.add(kinds + " with the failing event at " + at + ": " + got + "\n    one by one: "
                            + expected);
                }
            }
        }
        assertThat(compared).isEqualTo(12 * 5);
        assertThat(differences).as("isolated batches whose result differs from delivering one by one").isEmpty();
    }

    /**
     * Lean events (API writes) read the chunk's current row, whatever their own version: with the relay
     * behind all four writes, every cut ends with the graph that delivering them one by one from that row
     * gives. (What may differ is the LINK's own outcome when the row is deleted: alone, it waits parked for
     * a chunk that won't come back; in a batch with the chunk's delete, it is settled without a write.)
     */
    @Test
    void withLeanEventsEveryCutEndsAsOneByOneFromTheCurrentRow() {
        List<String> differences = new ArrayList<>();
        for (String kinds : orders("ULDU")) {
            String expected = null;
            for (int cuts = -1; cuts < 1 << (kinds.length() - 1); cuts++) {
                String prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "-";
                List<OutboxEvent> lean = new ArrayList<>();
                for (OutboxEvent e : events(prefix, kinds)) {
                    lean.add("LINK".equals(e.type()) ? e : new OutboxEvent(e.outboxId(), e.txId(), e.eventId(), e.type(),
                            e.chunkId(), e.version(), null, e.createdAt(), 0, false));
                }
                boolean deleted = kinds.charAt(kinds.length() - 1) == 'D';
                Map<String, ChunkRow> rows = Map.of(prefix + "a", new ChunkRow(new ChunkData(prefix + "a", "doc",
                        "text 3", new float[] {1, 2, 3, 3}, "{\"v\":3}", Privacy.FULL), 3, deleted));
                List<List<OutboxEvent>> batches = new ArrayList<>();
                List<OutboxEvent> current = new ArrayList<>();
                for (int i = 0; i < lean.size(); i++) {
                    current.add(lean.get(i));
                    if (i == lean.size() - 1 || cuts < 0 || (cuts & (1 << i)) != 0) { // -1: one by one
                        batches.add(current);
                        current = new ArrayList<>();
                    }
                }
                String got = state(prefix, deliver(batches, false, rows)).replaceAll(" parked=.*", "");
                if (cuts < 0) {
                    expected = got;
                } else if (!got.equals(expected)) {
                    differences.add(cutName(kinds, cuts) + ": " + got + "\n    one by one: " + expected);
                }
            }
        }
        assertThat(differences).as("lean batch cuts whose result differs from delivering one by one").isEmpty();
    }
}
