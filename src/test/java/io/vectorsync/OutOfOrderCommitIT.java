package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Events;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

/**
 * Transactions commit in another order than they took their outbox ids (docs/design.md "Reading the
 * outbox"): 8 writers hold each transaction open for a random time between the enqueue and the
 * commit, some roll back, some are larger than a batch. Batches of 7 make windows span several
 * batches, so transactions commit while a window is being read. Every committed event must reach the
 * backend exactly once and no rolled-back one ever.
 */
@TestPropertySource(properties = "vectorsync.relay.batch-size=7")
class OutOfOrderCommitIT extends AbstractIT {

    private static final int WRITERS = 8;
    private static final int TRANSACTIONS_PER_WRITER = 40;

    /** Whether the cursor is inside a window, and how many events committed since that window began
     * by transactions that were still open when it began (their ids are below ones already read). */
    private static final String SAMPLE = """
            SELECT (c.cur_snapshot IS NOT NULL)::int AS mid_window,
                   (SELECT count(*) FROM outbox o
                     WHERE c.cur_snapshot IS NOT NULL
                       AND o.tx_id < pg_snapshot_xmax(c.cur_snapshot)
                       AND NOT pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)) AS landed_mid_window
              FROM relay_cursor c WHERE c.backend = 'replica'
            """;

    @Value("${vectorsync.test.database}")
    String database;

    @Autowired
    MeterRegistry meters;

    private final Set<String> committed = ConcurrentHashMap.newKeySet();
    private final Set<String> rolledBack = ConcurrentHashMap.newKeySet();
    /** (commit sequence, largest outbox id of the transaction), in the order the commits returned. */
    private final ConcurrentLinkedQueue<long[]> commits = new ConcurrentLinkedQueue<>();
    private final AtomicLong commitSequence = new AtomicLong();

    @Test
    void everyCommittedEventIsDeliveredWhateverTheCommitOrderAndNoRolledBackOneIs() throws Exception {
        double readBefore = eventsRead();
        AtomicInteger midWindowSamples = new AtomicInteger();
        AtomicLong landedMidWindow = new AtomicLong();
        AtomicInteger samples = new AtomicInteger();
        // Whether a commit lands while the relay is inside a window is up to timing, sampled every 15 ms:
        // a round that did not catch one is followed by another (at most three), so the run always shows
        // the case it is about; every round's events are checked below all the same.
        int rounds = 0;
        do {
            writeAndWatch(rounds++, midWindowSamples, landedMidWindow, samples);
        } while (rounds < 3 && (landedMidWindow.get() == 0 || midWindowSamples.get() == 0));
        // Every committed event delivered, none skipped: a skipped one would be reported by name here.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
                assertThat(keys("SELECT chunk_key || ':' || version FROM delivery_ledger WHERE chunk_key LIKE 'w%'"))
                        .containsExactlyInAnyOrderElementsOf(committed));

        // The run did what it says: commits out of id order, multi-batch windows, commits mid-window.
        List<long[]> inCommitOrder = new ArrayList<>(commits);
        inCommitOrder.sort(Comparator.comparingLong(c -> c[0]));
        long inversions = 0;
        long highest = 0;
        for (long[] c : inCommitOrder) {
            if (c[1] < highest) {
                inversions++;
            }
            highest = Math.max(highest, c[1]);
        }
        System.out.printf("OutOfOrderCommitIT: %d round(s), %d committed events, %d rolled back, %d commits after a"
                + " higher id, %d/%d samples mid-window, %d event-samples committed mid-window%n", rounds,
                committed.size(), rolledBack.size(), inversions, midWindowSamples.get(), samples.get(),
                landedMidWindow.get());
        assertThat(inversions).as("commits that returned after a commit holding a higher outbox id").isPositive();
        assertThat(rolledBack).isNotEmpty();
        assertThat(midWindowSamples.get()).as("samples with the cursor inside a multi-batch window").isPositive();
        assertThat(landedMidWindow.get()).as("events committed mid-window by transactions open at its start")
                .isPositive();

        // The backend holds exactly the committed events; no rolled-back one reached it.
        Set<String> outbox = keys("SELECT chunk_id || ':' || version FROM outbox WHERE chunk_id LIKE 'w%'");
        Set<String> backend = keys("SELECT chunk_id || ':' || version FROM replica_chunks WHERE chunk_id LIKE 'w%'");
        Set<String> ledger = keys("SELECT chunk_key || ':' || version FROM delivery_ledger WHERE chunk_key LIKE 'w%'");
        assertThat(outbox).isEqualTo(committed);
        assertThat(backend).isEqualTo(committed);
        assertThat(ledger).isEqualTo(committed);
        Set<String> rolledBackChunks = new HashSet<>();
        rolledBack.forEach(k -> rolledBackChunks.add(k.substring(0, k.indexOf(':'))));
        assertThat(keys("SELECT chunk_id FROM replica_chunks")).doesNotContainAnyElementsOf(rolledBackChunks);
        assertThat(keys("SELECT chunk_key FROM delivery_ledger")).doesNotContainAnyElementsOf(rolledBackChunks);
        assertThat(count("SELECT count(*) FROM parked") + count("SELECT count(*) FROM dead_letter")).isZero();
        // Read exactly once: no failure made the relay read a batch again.
        assertThat(jdbc.queryForObject("SELECT last_error FROM relay_cursor WHERE backend = 'replica'", String.class))
                .isNull();
        assertThat(eventsRead() - readBefore).isEqualTo((double) committed.size());
    }

    /** One round: the writers run while the relay is watched; a writer's failure fails the test. */
    private void writeAndWatch(int round, AtomicInteger midWindowSamples, AtomicLong landedMidWindow,
            AtomicInteger samples) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    write(round, writer);
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(15)).until(() -> {
                Map<String, Object> s = jdbc.queryForMap(SAMPLE);
                samples.incrementAndGet();
                midWindowSamples.addAndGet(((Number) s.get("mid_window")).intValue());
                landedMidWindow.addAndGet(((Number) s.get("landed_mid_window")).longValue());
                return writers.stream().allMatch(Future::isDone);
            });
            for (Future<?> f : writers) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One writer: transactions of 1–3 events (now and then 8–15, more than a batch), held open 0–300 ms. */
    private void write(int round, int writer) throws Exception {
        SplittableRandom r = new SplittableRandom(1000L + 100L * round + writer);
        try (Connection c = TestDatabases.connect(database); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            for (int t = 0; t < TRANSACTIONS_PER_WRITER; t++) {
                int events = r.nextInt(8) == 0 ? 8 + r.nextInt(8) : 1 + r.nextInt(3);
                List<String> keys = new ArrayList<>();
                long maxId = 0;
                for (int e = 0; e < events; e++) {
                    String chunk = "w" + writer + "-r" + round + "-t" + t + "-e" + e;
                    long version = 1 + r.nextInt(5);
                    maxId = Math.max(maxId, Events.upsert(c, chunk, version, "doc-w" + writer, chunk));
                    keys.add(chunk + ":" + version);
                }
                // The database holds the transaction open: others commit meanwhile, out of id order.
                s.execute("SELECT pg_sleep(" + r.nextDouble(0, 0.3) + ")");
                if (r.nextInt(10) == 0) {
                    c.rollback();
                    rolledBack.addAll(keys);
                } else {
                    c.commit();
                    commits.add(new long[] {commitSequence.incrementAndGet(), maxId});
                    committed.addAll(keys);
                }
            }
        }
    }

    private Set<String> keys(String sql) {
        return new HashSet<>(jdbc.queryForList(sql, String.class));
    }

    private double eventsRead() {
        var c = meters.find("vectorsync.relay.events").tag("backend", "replica").tag("outcome", "read").counter();
        return c == null ? 0 : c.count();
    }
}
