package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.ChunkWriters;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.ReplicaCheck;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Durability (docs/design.md invariants 2 and 3): the relay runs as a separate JVM and is stopped the hard
 * way again and again while application writers keep inserting, updating and deleting chunks: halted
 * at each named failpoint (between the backend write and the cursor commit above all), and killed with
 * SIGKILL at random moments. Restarted and drained, the backend equals the primary row for row, the
 * ledger holds the primary's version of every chunk, the cursor has passed every event, nothing was
 * parked, and no version in the backend ever went back or ran ahead of the primary meanwhile.
 *
 * <p>The random moments come from a seed printed at the start; rerun one with
 * {@code -Dvectorsync.crash.seed=...}. Each child's output is in {@code target/relay-logs/}.
 */
class CrashRecoveryIT {

    private static final long SEED = Long.getLong("vectorsync.crash.seed", System.nanoTime());
    private static final String BACKEND = "replica";
    private static final Duration START = Duration.ofSeconds(90);
    private static final Duration DRAIN = Duration.ofSeconds(90);

    private final List<RelayProcess> children = new ArrayList<>();

    @AfterEach
    void stopChildren() {
        children.forEach(RelayProcess::close);
    }

    /** The hard case: the backend commits in its own database, so a crash can split write and cursor. */
    @Test
    void backendInAnotherDatabaseEqualsThePrimaryAfterHaltsAtEveryFailpointAndKills() throws Exception {
        String primary = TestDatabases.create("crash_primary");
        String backendDb = TestDatabases.create("crash_backend");
        crashAndRecover("crash-remote", primary, backendDb,
                List.of("after-backend-write", "after-poll", "before-backend-write", "after-commit",
                        "after-backend-write"),
                3);
    }

    /** The backend shares the cursor's transaction: a crash anywhere rolls write and cursor back together. */
    @Test
    void backendInThePrimaryTransactionEqualsThePrimaryAfterHaltsAndKills() throws Exception {
        String primary = TestDatabases.create("crash_shared");
        crashAndRecover("crash-shared", primary, null, List.of("after-backend-write", "after-commit"), 2);
    }

    /**
     * Runs the relay once per failpoint (halting there after a random number of passes), then
     * {@code kills} times killing it after a random number of cursor moves, all while the writers
     * write; then stops the writers, runs it once more without failpoints and checks the drain.
     */
    private void crashAndRecover(String label, String primary, String backendDb, List<String> failpoints, int kills)
            throws Exception {
        long started = System.nanoTime();
        SplittableRandom random = new SplittableRandom(SEED ^ label.hashCode());
        System.out.printf("%s: seed %d (rerun with -Dvectorsync.crash.seed=%d)%n", label, SEED, SEED);
        ReplicaCheck check = new ReplicaCheck(BACKEND, primary, backendDb, "replica_chunks");
        ChunkWriters writers = null;
        int launch = 0;
        try {
            for (String point : failpoints) {
                int at = random.nextInt(2, 10);
                RelayProcess relay = launch(label, launch++, primary, backendDb, point + ":" + at);
                if (writers == null) {
                    // The first child migrates the primary; the writers need its tables.
                    relay.awaitStarted(START);
                    writers = ChunkWriters.start(primary, 384, 2, 6, random.nextLong());
                    check.startWatching();
                }
                int exit = relay.awaitExit(START.plusSeconds(60));
                assertThat(exit).as("exit code of %s", relay.name()).isEqualTo(137);
                assertThat(relay.output()).as("log of %s", relay.name())
                        .contains("Failpoint " + point + " reached: halting");
                System.out.printf("%s: %s halted at %s:%d, cursor version %d%n", label, relay.name(), point, at,
                        cursorVersion(check));
            }
            for (int k = 0; k < kills; k++) {
                RelayProcess relay = launch(label, launch++, primary, backendDb, "").awaitStarted(START);
                long from = cursorVersion(check);
                int moves = random.nextInt(0, 20);
                await("cursor of " + relay.name() + " to move " + moves + " times").atMost(START)
                        .pollInterval(Duration.ofMillis(random.nextInt(5, 60)))
                        .until(() -> cursorVersion(check) >= from + moves);
                relay.kill();
                System.out.printf("%s: killed %s (pid %d) with SIGKILL after %d cursor moves%n", label, relay.name(),
                        relay.pid(), moves);
            }
            writers.close();
            RelayProcess last = launch(label, launch++, primary, backendDb, "").awaitStarted(START);
            long drainFrom = System.nanoTime();
            // The cursor passes an event only once the backend has it, so once it has passed them all the
            // backend must equal the primary at once: no waiting for it to "catch up" below.
            await("cursor of " + label + " to pass every event").atMost(DRAIN)
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> check.undelivered() == 0);
            System.out.printf("%s: drained in %d ms by %s%n", label, (System.nanoTime() - drainFrom) / 1_000_000,
                    last.name());
            check.close();

            assertThat(writers.errors()).as("writer failures").isEmpty();
            assertThat(writers.committed()).as("transactions committed").isGreaterThan(500);
            assertThat(check.differences()).as("rows differing between backend and primary").isZero();
            assertThat(check.ledgerMismatches()).as("chunks whose ledger version is not the primary's").isZero();
            assertThat(check.undelivered()).as("outbox events the cursor has not passed").isZero();
            assertThat(check.isolated()).as("parked or dead-lettered events").isZero();
            assertThat(check.regressions()).as("version regressions seen in the backend").isEmpty();
            assertThat(check.samples()).as("samples of the backend").isPositive();
            System.out.printf("%s: %d transactions committed (%d rolled back), %d events, %d chunks, %d samples,"
                            + " %d launches, %d s in all%n", label, writers.committed(), writers.rolledBack(),
                    check.primaryCount("SELECT count(*) FROM outbox"), check.primaryCount("SELECT count(*) FROM chunks"),
                    check.samples(), launch, (System.nanoTime() - started) / 1_000_000_000);
        } finally {
            if (writers != null) {
                writers.close();
            }
            check.close();
        }
    }

    private RelayProcess launch(String label, int n, String primary, String backendDb, String failpoints) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=" + TestDatabases.url(primary),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--spring.datasource.password=",
                "--spring.datasource.hikari.maximum-pool-size=4",
                // A new identity each time, as a restarted pod would have: it takes the lease once the
                // dead one's expires.
                "--vectorsync.instance-id=" + label + "-" + n,
                "--vectorsync.relay.lease-ttl=3s",
                "--vectorsync.relay.poll-interval=50ms",
                "--vectorsync.relay.batch-size=20",
                "--vectorsync.relay.backoff-base=200ms",
                "--vectorsync.relay.backoff-max=2s",
                "--vectorsync.failpoints=" + failpoints));
        if (backendDb != null) {
            args.add("--vectorsync.backends." + BACKEND + ".postgres.jdbc-url=" + TestDatabases.url(backendDb));
            args.add("--vectorsync.backends." + BACKEND + ".postgres.username=" + TestDatabases.USER);
        }
        RelayProcess p = RelayProcess.start(label + "-" + n, args);
        children.add(p);
        return p;
    }

    private static long cursorVersion(ReplicaCheck check) throws Exception {
        return check.primaryCount("SELECT cursor_version FROM relay_cursor WHERE backend = ?", BACKEND);
    }
}
