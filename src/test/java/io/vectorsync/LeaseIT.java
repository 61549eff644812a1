package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.ReplicaCheck;
import io.vectorsync.support.TestDatabases;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One writer per backend (docs/design.md invariant 5): two relay instances, each a child JVM, against one
 * database. Only the holder of the backend's lease delivers, although the standby is woken by every
 * write made through its own API; killing the holder with SIGKILL hands the backend over to the
 * standby once the lease expires, and the standby then delivers everything. A former holder that
 * stalls past its lease (frozen with SIGSTOP, or its backend write held up) can't write its stale batch
 * over the new holder's writes, with a backend in another database (its own transactions).
 */
class LeaseIT {

    private static final String BACKEND = "replica";
    private static final Duration START = Duration.ofSeconds(90);
    /** Short, so hand-overs are quick, yet long enough that a loaded machine does not lose it by itself. */
    private static final Duration LEASE_TTL = Duration.ofSeconds(5);
    private static final String[] APPLIED = {"backend:" + BACKEND, "outcome:applied"};
    private static final String[] READ = {"backend:" + BACKEND, "outcome:read"};

    private final ObjectMapper json = new ObjectMapper();
    private final SplittableRandom random = new SplittableRandom(7);
    private final List<RelayProcess> children = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        children.forEach(RelayProcess::close);
    }

    @Test
    void onlyTheLeaseHolderDeliversAndKillingItHandsTheBackendToTheStandby() throws Exception {
        long started = System.nanoTime();
        String db = TestDatabases.create("lease");
        ReplicaCheck check = new ReplicaCheck(BACKEND, db, null, "replica_chunks");

        RelayProcess a = launch("lease-a", db).awaitStarted(START);
        await("lease-a to hold the lease").atMost(Duration.ofSeconds(30)).until(() -> "lease-a".equals(owner(check)));
        RelayProcess b = launch("lease-b", db).awaitStarted(START);

        List<String> owners = new CopyOnWriteArrayList<>();
        ScheduledExecutorService watcher = Executors.newSingleThreadScheduledExecutor();
        watcher.scheduleWithFixedDelay(() -> {
            try {
                String o = owner(check);
                if (owners.isEmpty() || !owners.get(owners.size() - 1).equals(String.valueOf(o))) {
                    owners.add(String.valueOf(o));
                }
            } catch (SQLException e) {
                owners.add("error: " + e.getSQLState());
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
        try {
            // Every write goes through the standby's API, so the standby's relay is woken each time.
            writeThrough(b, "a", 40);
            await("the holder to deliver the first writes").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100)).until(() -> check.undelivered() == 0);
            assertInStep(check);
            assertThat(a.counter("vectorsync.relay.changes", APPLIED)).as("changes applied by the holder").isPositive();
            assertThat(b.counter("vectorsync.relay.changes", APPLIED)).as("changes applied by the standby").isZero();
            assertThat(b.counter("vectorsync.relay.events", READ)).as("events read by the standby").isZero();
            assertThat(owner(check)).isEqualTo("lease-a");

            a.kill();
            long killed = System.nanoTime();
            writeThrough(b, "b", 40);
            await("the standby to take the lease").atMost(LEASE_TTL.multipliedBy(5)).pollInterval(Duration.ofMillis(50))
                    .until(() -> "lease-b".equals(owner(check)));
            long handover = (System.nanoTime() - killed) / 1_000_000;
            await("the standby to deliver everything").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(100)).until(() -> check.undelivered() == 0);
            assertInStep(check);
            double appliedByB = b.counter("vectorsync.relay.changes", APPLIED);
            assertThat(appliedByB).as("changes applied by the new holder").isPositive();
            assertThat(owner(check)).isEqualTo("lease-b");
            watcher.shutdown();
            assertThat(watcher.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(owners).as("lease owners in order").containsExactly("lease-a", "lease-b");
            System.out.printf("lease: handed over %d ms after the kill (TTL %s); lease-b applied %.0f changes;"
                    + " %d s in all%n", handover, LEASE_TTL, appliedByB, (System.nanoTime() - started) / 1_000_000_000);
        } finally {
            watcher.shutdownNow();
        }
    }

    /**
     * A holder that stalls between reading a batch and writing it (a GC pause, a stalled VM, a slow
     * backend call: anything longer than the lease) must not write that stale batch over what the new
     * holder wrote meanwhile. Here the stale batch upserts chunk x at version 1 and the new holder has
     * already deleted x at version 2: a backend without tombstones can't refuse the upsert by version,
     * so the old holder must be fenced out. The backend is another database (its own transactions).
     *
     * <p>Deterministic: the holder runs with a failpoint that stalls it for 20 s right after its first
     * poll that returns a batch (between reading x and writing it), longer than its 5 s lease; the test
     * deletes x meanwhile and lets the standby take over and deliver the delete before the stall ends.
     */
    @Test
    void aHolderPausedPastItsLeaseCannotWriteItsStaleBatchOverTheNewHoldersDelete() throws Exception {
        String db = TestDatabases.create("zombie");
        String backendDb = TestDatabases.create("zombie_backend");
        ReplicaCheck check = new ReplicaCheck(BACKEND, db, backendDb, "replica_chunks");
        RelayProcess a = launch("zombie-a", db, backendDb, "--vectorsync.failpoints=after-poll~20000")
                .awaitStarted(START);
        await("zombie-a to hold the lease").atMost(Duration.ofSeconds(30)).until(() -> "zombie-a".equals(owner(check)));
        RelayProcess b = launch("zombie-b", db, backendDb).awaitStarted(START);

        try (Connection app = TestDatabases.connect(db)) {
            sql(app, "INSERT INTO chunks (chunk_id, version, document_id, content, embedding) VALUES"
                    + " ('x', 1, 'doc', 'content', array_fill(0.5::real, ARRAY[384]))");
            sql(app, "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (vectorsync.ulid(), 'UPSERT', 'x', 1)");
            await("zombie-a to have read x and stall").atMost(Duration.ofSeconds(30))
                    .until(() -> a.output().contains("Failpoint after-poll reached: stalling"));
            sql(app, "UPDATE chunks SET version = 2, deleted = true, content = NULL, embedding = NULL,"
                    + " document_id = NULL WHERE chunk_id = 'x'");
            sql(app, "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (vectorsync.ulid(), 'DELETE', 'x', 2)");
        }
        await("zombie-b to take the lease and deliver the delete").atMost(Duration.ofSeconds(30))
                .until(() -> "zombie-b".equals(owner(check)) && check.undelivered() == 0);
        assertThat(check.ledgerMismatches()).isZero();

        assertThat(a.output()).as("the standby delivered while the holder still stalled")
                .doesNotContain("Failpoint after-poll: stall over");
        await("zombie-a to give up its stale batch").atMost(Duration.ofSeconds(40))
                .until(() -> a.output().contains("VSYNC-RELAY-LEASE"));
        assertThat(check.differences()).as("rows differing between backend and primary (x resurrected?)").isZero();
        assertThat(check.ledgerMismatches()).isZero();
        assertThat(owner(check)).isEqualTo("zombie-b");
        assertThat(b.counter("vectorsync.relay.changes", APPLIED)).as("changes applied by zombie-b").isPositive();
    }

    /**
     * A holder whose backend write outlasts its lease while the new holder delivers a delete of the same
     * chunk: the new holder's delete must not land before the old holder's stale upsert of that chunk
     * (here it waits behind it, fenced). The test stalls the old holder's write with an uncommitted row of
     * chunk x in the backend, which the new holder's delete can't see and so would not wait for by itself.
     * A slow write alone no longer loses the lease (the heartbeat renews it during the delivery, ADR 014),
     * so the old holder's heartbeat is stalled too (failpoint {@code lease-renewal}, as if it could not
     * reach the primary in time): its lease expires while its write waits.
     */
    @Test
    void aWriteThatOutlastsItsLeaseCannotResurrectAChunkTheNewHolderDeleted() throws Exception {
        String db = TestDatabases.create("slow");
        String backendDb = TestDatabases.create("slow_backend");
        ReplicaCheck check = new ReplicaCheck(BACKEND, db, backendDb, "replica_chunks");
        RelayProcess a = launch("slow-a", db, backendDb, "--vectorsync.failpoints=lease-renewal~20000")
                .awaitStarted(START);
        await("slow-a to hold the lease").atMost(Duration.ofSeconds(30)).until(() -> "slow-a".equals(owner(check)));
        launch("slow-b", db, backendDb).awaitStarted(START);

        try (Connection blocker = TestDatabases.connect(backendDb); Connection app = TestDatabases.connect(db)) {
            blocker.setAutoCommit(false);
            sql(blocker, "INSERT INTO replica_chunks (chunk_id, version, privacy) VALUES ('x', 1000, 'FULL')");
            sql(app, "INSERT INTO chunks (chunk_id, version, document_id, content, embedding) VALUES"
                    + " ('x', 1, 'doc', 'content', array_fill(0.5::real, ARRAY[384]))");
            sql(app, "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (vectorsync.ulid(), 'UPSERT', 'x', 1)");
            await("slow-a's write of x to wait").atMost(Duration.ofSeconds(30))
                    .until(() -> waiting(check, backendDb, "%INSERT INTO replica_chunks%") == 1);
            sql(app, "UPDATE chunks SET version = 2, deleted = true, content = NULL, embedding = NULL,"
                    + " document_id = NULL WHERE chunk_id = 'x'");
            sql(app, "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (vectorsync.ulid(), 'DELETE', 'x', 2)");
            // Either the new holder's write waits behind the old one's, or it lands first: then the old
            // one must be refused when it is let go.
            await("slow-b to take the lease and deliver or wait").atMost(Duration.ofSeconds(30))
                    .until(() -> "slow-b".equals(owner(check))
                            && (waiting(check, backendDb, "%") == 2 || check.undelivered() == 0));
            blocker.rollback();
        }
        await("slow-b to deliver the delete").atMost(Duration.ofSeconds(30)).until(() -> check.undelivered() == 0);
        await("slow-a to give up its batch").atMost(Duration.ofSeconds(30))
                .until(() -> a.output().contains("VSYNC-RELAY-LEASE"));
        assertThat(check.differences()).as("rows differing between backend and primary (x resurrected?)").isZero();
        assertThat(check.ledgerMismatches()).isZero();
        assertThat(owner(check)).isEqualTo("slow-b");
    }

    /** Sessions of {@code database} waiting for a lock in a statement like {@code pattern}. */
    private static long waiting(ReplicaCheck check, String database, String pattern) throws SQLException {
        return check.primaryCount("""
                SELECT count(*) FROM pg_stat_activity
                 WHERE datname = ? AND wait_event_type = 'Lock' AND query LIKE ?
                """, database, pattern);
    }

    private static void sql(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void assertInStep(ReplicaCheck check) throws SQLException {
        assertThat(check.differences()).as("rows differing between backend and primary").isZero();
        assertThat(check.ledgerMismatches()).as("chunks whose ledger version is not the primary's").isZero();
        assertThat(check.isolated()).as("parked or dead-lettered events").isZero();
    }

    /** Creates {@code n} chunks, updates half of them and deletes a quarter, through the API of {@code via}. */
    private void writeThrough(RelayProcess via, String prefix, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            assertThat(put(via, prefix + "-" + i).statusCode()).isEqualTo(201);
        }
        for (int i = 0; i < n; i += 2) {
            assertThat(put(via, prefix + "-" + i).statusCode()).isEqualTo(200);
        }
        for (int i = 0; i < n; i += 4) {
            assertThat(via.request("DELETE", "/api/v1/chunks/" + prefix + "-" + i, null).statusCode()).isEqualTo(200);
        }
    }

    private HttpResponse<String> put(RelayProcess via, String chunkId) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("documentId", "doc-" + random.nextInt(5));
        body.put("content", "content " + Long.toHexString(random.nextLong()));
        float[] e = new float[384];
        for (int i = 0; i < e.length; i++) {
            e[i] = (random.nextInt(1025) - 512) / 512f;
        }
        body.put("embedding", e);
        body.put("metadata", Map.of("lang", "en"));
        body.put("privacy", random.nextInt(10) == 0 ? "REDACTED" : "FULL");
        return via.request("PUT", "/api/v1/chunks/" + chunkId, json.writeValueAsString(body));
    }

    private static String owner(ReplicaCheck check) throws SQLException {
        try (var c = TestDatabases.connect(check.primaryDatabase());
                var ps = c.prepareStatement("SELECT lease_owner FROM relay_cursor WHERE backend = ?")) {
            ps.setString(1, BACKEND);
            try (var rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private RelayProcess launch(String instance, String db) {
        return launch(instance, db, null);
    }

    /** An instance relaying {@code db}'s outbox to {@code replica_chunks} in {@code backendDb} (or in db). */
    private RelayProcess launch(String instance, String db, String backendDb, String... extra) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=" + TestDatabases.url(db),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--spring.datasource.password=",
                "--spring.datasource.hikari.maximum-pool-size=4",
                "--vectorsync.instance-id=" + instance,
                "--vectorsync.relay.lease-ttl=" + LEASE_TTL.toSeconds() + "s",
                "--vectorsync.relay.poll-interval=50ms"));
        if (backendDb != null) {
            args.add("--vectorsync.backends." + BACKEND + ".postgres.jdbc-url=" + TestDatabases.url(backendDb));
            args.add("--vectorsync.backends." + BACKEND + ".postgres.username=" + TestDatabases.USER);
        }
        args.addAll(List.of(extra));
        RelayProcess p = RelayProcess.start(instance, args);
        children.add(p);
        return p;
    }
}
