package io.vectorsync.chaos;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.RelayProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The chaos run (issue 4): its own PostgreSQL cluster, the relay as a child JVM with three backends
 * ({@code replica} in the primary, {@code remote} in a second database, {@code hooks}: a webhook whose
 * receiver sits behind a fault-injecting proxy), concurrent writers through the HTTP API and through
 * {@code vectorsync.enqueue} (an application table of its own, full payloads), with updates and deletes.
 * Meanwhile the relay is killed with SIGKILL at random moments and halted at the named failpoints, and
 * restarted; PostgreSQL is restarted; one session sits idle in transaction; 0.1% of events are poison for
 * the webhook, and a few stall it longer than the lease (a delivery that outlives its lease, issue 12
 * item 1: the lease is heartbeated and the stalling event isolated and parked). The verdict compares every backend with the primary chunk by chunk, accounts for every
 * poison event, then "fixes" the receiver, replays the dead letters and checks again.
 *
 * <p>{@code bench/chaos.sh} runs {@link #main} (the full run); {@code ChaosIT} runs {@link #run} with small
 * settings. Randomness comes from one seed, printed at the start ({@code -Dchaos.seed=} reruns it; thread
 * timing still differs between runs).
 */
public final class ChaosRun {

    /** What to run. */
    public record Settings(long writes, int kills, int pgRestarts, int idleSeconds, int dimension, long seed,
            int apiWriters, int sqlWriters, Duration drain) {

        public static Settings full(long seed) {
            return new Settings(200_000, 24, 2, 60, 384, seed, 3, 3, Duration.ofMinutes(20));
        }

        public static Settings ci(long seed) {
            return new Settings(20_000, 5, 1, 15, 64, seed, 2, 2, Duration.ofMinutes(4));
        }
    }

    /** The result: the table (Markdown) and the problems found (none when the run passed). */
    public record Verdict(String table, List<String> problems, Map<String, Long> figures) {
        public boolean passed() {
            return problems.isEmpty();
        }
    }

    static final List<String> BACKENDS = List.of("replica", "remote", "hooks", "late");
    /** The backend added in the middle of the run (issue 13): backfilled from the primary's state. */
    static final String LATE = "late";
    private static final List<String> FAILPOINTS =
            List.of("after-backend-write", "before-backend-write", "after-commit", "after-poll");
    private static final String PRIMARY = "chaos";
    private static final String REMOTE = "chaos_remote";
    private static final String LATE_DB = "chaos_late";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(240);

    private static final String APP_TABLE = """
            CREATE TABLE app_notes (
                chunk_id text PRIMARY KEY, version bigint NOT NULL, deleted boolean NOT NULL DEFAULT false,
                document_id text, content text, embedding real[], metadata jsonb NOT NULL DEFAULT '{}',
                privacy text NOT NULL DEFAULT 'FULL')
            """;
    private static final String APP_UPSERT = """
            INSERT INTO app_notes AS n (chunk_id, version, document_id, content, embedding, metadata, privacy)
            VALUES (?, 1, ?, ?, ?::real[], ?::jsonb, ?)
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = n.version + 1, deleted = false, document_id = EXCLUDED.document_id,
                   content = EXCLUDED.content, embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata,
                   privacy = EXCLUDED.privacy
            RETURNING version
            """;
    private static final String APP_DELETE = """
            UPDATE app_notes SET version = version + 1, deleted = true, document_id = NULL, content = NULL,
                   embedding = NULL, metadata = '{}'
             WHERE chunk_id = ? AND NOT deleted
            RETURNING version
            """;
    /** The application's full payload, built from its own row; restricted fields stay out. */
    private static final String ENQUEUE_UPSERT = """
            SELECT vectorsync.enqueue('UPSERT', chunk_id, version, jsonb_build_object(
                       'documentId', document_id,
                       'content', CASE WHEN privacy = 'FULL' THEN content END,
                       'embedding', to_jsonb(embedding),
                       'metadata', metadata,
                       'privacy', privacy))
              FROM app_notes WHERE chunk_id = ?
            """;
    private static final String ENQUEUE_DELETE = "SELECT vectorsync.enqueue('DELETE', ?, ?, NULL)";
    private static final String PRIMARY_ROWS = """
            SELECT chunk_id, version, deleted, document_id, content, embedding, metadata::text, privacy FROM chunks
            UNION ALL
            SELECT chunk_id, version, deleted, document_id, content, embedding, metadata::text, privacy FROM app_notes
            """;
    private static final String PRIMARY_VERSIONS =
            "SELECT chunk_id, version FROM chunks UNION ALL SELECT chunk_id, version FROM app_notes";
    private static final String BACKEND_ROWS = """
            SELECT chunk_id, version, false, document_id, content, embedding::real[], metadata::text, privacy
              FROM replica_chunks
            """;
    /**
     * Per backend: events its cursor has not passed (the outbox_status rule, restricted to the index
     * range that can hold them) and the age of the oldest, leaving out the idle transaction's own event.
     */
    private static final String PENDING = """
            SELECT c.backend, count(o.id),
                   coalesce(extract(epoch FROM clock_timestamp()
                            - min(o.created_at) FILTER (WHERE o.chunk_id NOT LIKE 'e-idle-%')), 0)
              FROM relay_cursor c
              LEFT JOIN outbox o
                ON o.tx_id >= pg_snapshot_xmin(c.prev_snapshot)
               AND NOT pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
               AND NOT (c.cur_snapshot IS NOT NULL AND c.last_tx_id IS NOT NULL
                        AND pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)
                        AND (o.tx_id, o.id) <= (c.last_tx_id, c.last_id))
             GROUP BY c.backend
            """;
    private static final String OPEN_DEAD_LETTERS =
            "SELECT backend, chunk_id, version FROM dead_letter WHERE replayed_at IS NULL AND discarded_at IS NULL";
    private static final String ALL_DEAD_LETTERS = "SELECT backend, chunk_id, version FROM dead_letter";

    private final Settings s;
    private final SplittableRandom random;
    private final List<String> log = new ArrayList<>();
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();
    private final Queue<String> regressions = new ConcurrentLinkedQueue<>();
    private final Map<String, Map<String, Long>> highestSeen = new HashMap<>();
    private final Map<String, Double> maxLag = new ConcurrentHashMap<>();
    private final List<RelayProcess> children = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final AtomicLong apiWrites = new AtomicLong();
    private final AtomicLong sqlWrites = new AtomicLong();
    private final AtomicLong deletes = new AtomicLong();
    private final AtomicLong updates = new AtomicLong();
    private final AtomicLong apiFailures = new AtomicLong();
    private final AtomicLong sqlFailures = new AtomicLong();
    private final AtomicLong rolledBack = new AtomicLong();
    private final AtomicLong samples = new AtomicLong();
    private final AtomicLong ledgerSkips = new AtomicLong();
    private final Map<String, Integer> halts = new LinkedHashMap<>();
    private PgCluster pg;
    private Receiver receiver;
    private FaultyProxy proxy;
    private volatile RelayProcess child;
    private volatile double allowance;
    private volatile boolean idleDone;
    private volatile boolean lateAdded;
    private volatile long idleHeldMillis = -1;
    private int randomKills;
    private int pgRestarts;
    private int launches;

    private ChaosRun(Settings s) {
        this.s = s;
        this.random = new SplittableRandom(s.seed());
    }

    public static void main(String[] args) throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        Settings d = Settings.full(seed);
        Settings s = new Settings(args.length > 0 ? Long.parseLong(args[0]) : d.writes(),
                args.length > 1 ? Integer.parseInt(args[1]) : d.kills(),
                args.length > 2 ? Integer.parseInt(args[2]) : d.pgRestarts(),
                args.length > 3 ? Integer.parseInt(args[3]) : d.idleSeconds(),
                d.dimension(), seed, d.apiWriters(), d.sqlWriters(), d.drain());
        Verdict v = run(s);
        System.out.println(v.table());
        Path dir = Path.of(System.getProperty("chaos.results", "bench/results"));
        Files.createDirectories(dir);
        Path file = dir.resolve("chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + "-n" + s.writes() + ".md");
        Files.writeString(file, v.table());
        System.out.println("written to " + file);
        System.exit(v.passed() ? 0 : 1);
    }

    /** Runs the whole scenario and returns its verdict; everything it started is stopped before it returns. */
    public static Verdict run(Settings s) throws Exception {
        return new ChaosRun(s).execute();
    }

    private void note(String fmt, Object... args) {
        String line = String.format(Locale.ROOT, fmt, args);
        System.out.println("chaos: " + line);
        log.add(line);
    }

    private Verdict execute() throws Exception {
        long t0 = System.nanoTime();
        note("seed %d (rerun with -Dchaos.seed=%d); %d writes, %d kills, %d PostgreSQL restarts, idle %d s",
                s.seed(), s.seed(), s.writes(), s.kills(), s.pgRestarts(), s.idleSeconds());
        ScheduledExecutorService workers = Executors.newScheduledThreadPool(s.apiWriters() + s.sqlWriters() + 3, r -> {
            Thread t = new Thread(r, "chaos-worker");
            t.setDaemon(true);
            return t;
        });
        try {
            pg = PgCluster.start();
            note("PostgreSQL cluster on 127.0.0.1:%d (postmaster pid %d)", pg.port(), pg.postmasterPid());
            pg.createDatabase(PRIMARY);
            pg.createDatabase(REMOTE);
            pg.createDatabase(LATE_DB);
            receiver = new Receiver(random.nextLong(), 1, 20, 10);
            proxy = new FaultyProxy("127.0.0.1", receiver.port(), new FaultyProxy.Faults(10, 10, 5, 30, 1000),
                    random.nextLong());

            // The first child migrates the primary; the application's table comes after.
            allowance = 0;
            awaitUp(launch(""));
            try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement()) {
                st.execute(APP_TABLE);
            }
            startWriters(workers);
            workers.scheduleWithFixedDelay(this::sampleLag, 0, 1, TimeUnit.SECONDS);
            workers.scheduleWithFixedDelay(this::sampleVersions, 500, s.writes() >= 100_000 ? 3000 : 1000,
                    TimeUnit.MILLISECONDS);
            startIdleTransaction(workers);

            chaos();

            allowance = 1;
            if (!lateAdded) {
                lateAdded = true; // a run without kills adds it here
                note("backend '%s' added (%d written)", LATE, written());
            }
            RelayProcess last = launch("");
            awaitUp(last);
            await("writers to finish").atMost(Duration.ofMinutes(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> apiWrites.get() >= apiBudget() && sqlWrites.get() >= sqlBudget());
            await("the idle transaction to end").atMost(Duration.ofSeconds(s.idleSeconds() + 120L)).until(() -> idleDone);
            workers.shutdown();
            workers.awaitTermination(60, TimeUnit.SECONDS);
            note("writes done: %d through the API, %d through vectorsync.enqueue (%d updates, %d deletes, %d"
                    + " transactions rolled back); failed attempts %d API, %d SQL", apiWrites.get(), sqlWrites.get(),
                    updates.get(), deletes.get(), rolledBack.get(), apiFailures.get(), sqlFailures.get());

            long drainStart = System.nanoTime();
            try {
                await("every backend's cursor to pass every event and nothing to stay parked").atMost(s.drain())
                        .pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                        .until(() -> pending().values().stream().allMatch(p -> p == 0) && parked() == 0);
                note("drained in %d ms", (System.nanoTime() - drainStart) / 1_000_000);
            } catch (ConditionTimeoutException e) {
                problems.add("not drained within " + s.drain() + ": pending " + pending() + ", parked " + parked());
                note("not drained within %s: pending %s, parked %d", s.drain(), pending(), parked());
            }
            sampleVersions();

            Map<String, Compare> before = compareAll();
            Map<String, Set<String>> openDead = deadLetterChunks(OPEN_DEAD_LETTERS);
            Map<String, Long> unexplained = new LinkedHashMap<>();
            for (String b : BACKENDS) {
                Set<String> d = new HashSet<>(before.get(b).differing);
                d.removeAll(openDead.getOrDefault(b, Set.of()));
                unexplained.put(b, (long) d.size());
            }
            Poison poison = accountPoison();
            addSkips(last);

            // The fix: the receiver accepts everything again and the faults stop; then replay.
            receiver.refusing = false;
            receiver.failing = false;
            proxy.faults(false);
            long replayed = 0;
            for (String b : BACKENDS) {
                if (!openDead.getOrDefault(b, Set.of()).isEmpty()) {
                    HttpResponse<String> r = last.request("POST", "/admin/v1/backends/" + b + "/dead-letters:replay", null);
                    if (r.statusCode() != 200) {
                        problems.add("replay of " + b + " answered " + r.statusCode() + ": " + r.body());
                    } else {
                        replayed += JSON.readTree(r.body()).get("replayed").asLong();
                    }
                }
            }
            long replayStart = System.nanoTime();
            Map<String, Compare> after;
            try {
                await("every backend to equal the primary after the replay").atMost(s.drain())
                        .pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                        .until(() -> parked() == 0 && deadLetterChunks(OPEN_DEAD_LETTERS).isEmpty()
                                && compareAll().values().stream().allMatch(c -> c.differing.isEmpty()));
            } catch (ConditionTimeoutException e) {
                problems.add("not in step within " + s.drain() + " after the replay");
            }
            after = compareAll();
            note("replayed %d dead letters; in step %d ms later", replayed, (System.nanoTime() - replayStart) / 1_000_000);
            addSkips(last);
            return verdict(before, openDead, unexplained, poison, after, replayed, (System.nanoTime() - t0) / 1_000_000_000);
        } finally {
            workers.shutdownNow();
            children.forEach(RelayProcess::close);
            if (proxy != null) {
                proxy.close();
            }
            if (receiver != null) {
                receiver.close();
            }
            if (pg != null) {
                pg.close();
            }
        }
    }

    // ---- the relay child --------------------------------------------------------------------------------

    private RelayProcess launch(String failpoints) {
        int n = launches++;
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=" + pg.url(PRIMARY),
                "--spring.datasource.username=postgres",
                "--spring.datasource.password=",
                "--spring.datasource.hikari.maximum-pool-size=8",
                "--vectorsync.embedding-dimension=" + s.dimension(),
                "--vectorsync.embedding.provider=none", // relay only: no model to load or check
                "--vectorsync.instance-id=chaos-" + n,
                "--vectorsync.relay.lease-ttl=3s",
                "--vectorsync.relay.poll-interval=100ms",
                "--vectorsync.relay.backoff-base=200ms",
                "--vectorsync.relay.backoff-max=2s",
                "--vectorsync.relay.max-attempts=4",
                "--vectorsync.backends.remote.type=postgres",
                "--vectorsync.backends.remote.postgres.jdbc-url=" + pg.url(REMOTE),
                "--vectorsync.backends.remote.postgres.username=postgres",
                "--vectorsync.backends.hooks.type=webhook",
                "--vectorsync.backends.hooks.webhook.url=http://127.0.0.1:" + proxy.port() + "/hook",
                "--vectorsync.backends.hooks.webhook.secret=chaos-run-secret-0123456789",
                "--vectorsync.backends.hooks.connect-timeout=1s",
                "--vectorsync.backends.hooks.read-timeout=2s",
                "--vectorsync.failpoints=" + failpoints));
        if (lateAdded) {
            args.add("--vectorsync.backends.late.type=postgres");
            args.add("--vectorsync.backends.late.postgres.jdbc-url=" + pg.url(LATE_DB));
            args.add("--vectorsync.backends.late.postgres.username=postgres");
        }
        RelayProcess p = RelayProcess.start("chaos-" + n, args);
        children.add(p);
        return p;
    }

    /** Waits until the child runs its routes and makes it the API writers' target. */
    private void awaitUp(RelayProcess p) {
        p.awaitStarted(START);
        child = p;
    }

    /**
     * The kills: each child is either halted at a failpoint (the n-th pass, n random) or killed with
     * SIGKILL once the cursors have moved a random number of times; the writers may write a further
     * share of their budget per kill, so the kills are spread over the whole write phase. PostgreSQL is
     * restarted at even intervals among them (after the idle transaction has ended).
     */
    private void chaos() throws SQLException {
        Set<Integer> restartAt = new HashSet<>();
        for (int j = 0; j < s.pgRestarts(); j++) {
            restartAt.add((j + 1) * s.kills() / (s.pgRestarts() + 1));
        }
        for (int i = 0; i < s.kills(); i++) {
            allowance = Math.min(1.0, (i + 1.0) / (s.kills() + 1));
            double target = allowance;
            boolean failpoint = i % 2 == 1;
            String point = FAILPOINTS.get((i / 2) % FAILPOINTS.size());
            int at = random.nextInt(1, 60);
            if (i == s.kills() / 2 && !lateAdded) {
                // Half way: a backend the system never had, with history behind it (ADR 019's backfill).
                lateAdded = true;
                note("kill %d: backend '%s' added (%d written)", i + 1, LATE, written());
            }
            RelayProcess p = i == 0 ? child : launch(failpoint ? point + ":" + at : "");
            if (i == 0) {
                failpoint = false;
            }
            try {
                if (i > 0) {
                    awaitUp(p);
                }
            } catch (AssertionError e) {
                if (failpoint && !p.isAlive() && p.output().contains("Failpoint " + point + " reached")) {
                    halts.merge(point, 1, Integer::sum);
                    note("kill %d: %s halted at %s:%d while starting", i + 1, p.name(), point, at);
                    continue;
                }
                throw e;
            }
            if (restartAt.contains(i)) {
                restartPostgres();
            }
            // Let the writers reach their share, so each kill falls in the middle of the write stream.
            try {
                await("writers to reach " + Math.round(target * 100) + "%").atMost(Duration.ofMinutes(10))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> written() >= target * s.writes() * 0.9 || !p.isAlive());
            } catch (ConditionTimeoutException e) {
                note("kill %d: the writers are slow (%d of %d written)", i + 1, written(), s.writes());
            }
            if (failpoint) {
                try {
                    await("child to halt at " + point).atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(50))
                            .until(() -> !p.isAlive());
                    child = null;
                    if (p.output().contains("Failpoint " + point + " reached: halting")) {
                        halts.merge(point, 1, Integer::sum);
                        note("kill %d: %s halted at failpoint %s:%d (%d written)", i + 1, p.name(), point, at, written());
                        continue;
                    }
                    problems.add(p.name() + " exited without reaching its failpoint; see " + p.log());
                    continue;
                } catch (ConditionTimeoutException e) {
                    note("kill %d: %s did not reach %s:%d in time; killed instead", i + 1, p.name(), point, at);
                }
            } else {
                long from = cursorMoves();
                int moves = random.nextInt(1, 40);
                try {
                    await("cursors to move " + moves + " times").atMost(Duration.ofMinutes(2))
                            .pollInterval(Duration.ofMillis(random.nextInt(10, 80))).ignoreExceptions()
                            .until(() -> cursorMoves() >= from + moves);
                } catch (ConditionTimeoutException e) {
                    note("kill %d: cursors moved less than %d times", i + 1, moves);
                }
            }
            addSkips(p);
            child = null;
            p.kill();
            randomKills++;
            note("kill %d: SIGKILL to %s (pid %d, %d written)", i + 1, p.name(), p.pid(), written());
        }
    }

    private void restartPostgres() {
        try {
            await("the idle transaction to end before PostgreSQL restarts")
                    .atMost(Duration.ofSeconds(s.idleSeconds() + 120L)).until(() -> idleDone);
        } catch (ConditionTimeoutException e) {
            problems.add("the idle transaction did not end");
        }
        String mode = pgRestarts % 2 == 0 ? "fast" : "immediate";
        long t = System.nanoTime();
        pg.restart(mode);
        pgRestarts++;
        note("PostgreSQL restarted (-m %s) in %d ms, postmaster pid %d, %d written", mode,
                (System.nanoTime() - t) / 1_000_000, pg.postmasterPid(), written());
    }

    private void addSkips(RelayProcess p) {
        try {
            if (p.isAlive()) {
                ledgerSkips.addAndGet((long) p.counter("vectorsync.relay.changes", "outcome:skipped"));
            }
        } catch (RuntimeException | AssertionError e) {
            // the child is going down; its skips are lost (the figure is a lower bound)
        }
    }

    private long cursorMoves() throws SQLException {
        try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT coalesce(sum(cursor_version), 0) FROM relay_cursor")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- writers ----------------------------------------------------------------------------------------

    private long written() {
        return apiWrites.get() + sqlWrites.get();
    }

    private long apiBudget() {
        return s.writes() / 2;
    }

    private long sqlBudget() {
        return s.writes() - s.writes() / 2;
    }

    private void startWriters(ScheduledExecutorService workers) {
        for (int i = 0; i < s.apiWriters(); i++) {
            ApiWriter w = new ApiWriter(i, random.split());
            workers.scheduleWithFixedDelay(w::tick, 0, 1, TimeUnit.MILLISECONDS);
        }
        for (int i = 0; i < s.sqlWriters(); i++) {
            SqlWriter w = new SqlWriter(i, random.split());
            workers.scheduleWithFixedDelay(w::tick, 0, 1, TimeUnit.MILLISECONDS);
        }
    }

    private String embedding(SplittableRandom r) {
        StringBuilder sb = new StringBuilder(s.dimension() * 8);
        for (int i = 0; i < s.dimension(); i++) {
            sb.append(i > 0 ? "," : "").append((r.nextInt(1025) - 512) / 512f);
        }
        return sb.toString();
    }

    private static String privacy(SplittableRandom r) {
        int p = r.nextInt(100);
        return p < 80 ? "FULL" : p < 90 ? "REDACTED" : "LOCAL_ONLY";
    }

    /** Writes through the child's HTTP API: single PUTs, batches, DELETEs; waits for nothing when it is down. */
    private final class ApiWriter {
        private final int number;
        private final SplittableRandom r;
        private int created;

        ApiWriter(int number, SplittableRandom r) {
            this.number = number;
            this.r = r;
        }

        private String pick() {
            int x = r.nextInt(100);
            if (x < 35 || created == 0) {
                return "a-" + number + "-" + created++;
            }
            if (x < 70) {
                return "a-" + number + "-" + r.nextInt(created);
            }
            return "a-hot-" + r.nextInt(200);
        }

        private String body(String id, boolean withId) {
            return "{" + (withId ? "\"chunkId\":\"" + id + "\"," : "") + "\"documentId\":\"doc-" + r.nextInt(50)
                    + "\",\"content\":\"content " + Long.toHexString(r.nextLong()) + "\",\"embedding\":["
                    + embedding(r) + "],\"metadata\":{\"n\":" + r.nextInt(1000) + ",\"lang\":\"en\"},\"privacy\":\""
                    + privacy(r) + "\"}";
        }

        void tick() {
            RelayProcess p = child;
            if (p == null || apiWrites.get() >= allowance * apiBudget()) {
                return;
            }
            try {
                int x = r.nextInt(100);
                if (x < 12) {
                    HttpResponse<String> resp = send(p, "DELETE", "/api/v1/chunks/" + pick(), null);
                    if (resp.statusCode() == 200) {
                        apiWrites.incrementAndGet();
                        deletes.incrementAndGet();
                    } else if (resp.statusCode() != 404) {
                        apiFailures.incrementAndGet();
                    }
                } else if (x < 25) {
                    TreeSet<String> ids = new TreeSet<>();
                    int n = r.nextInt(2, 9);
                    while (ids.size() < n) {
                        ids.add(pick());
                    }
                    StringBuilder b = new StringBuilder("{\"chunks\":[");
                    for (String id : ids) {
                        b.append(b.length() > 11 ? "," : "").append(body(id, true));
                    }
                    HttpResponse<String> resp = send(p, "POST", "/api/v1/chunks:batch", b.append("]}").toString());
                    if (resp.statusCode() == 200) {
                        apiWrites.addAndGet(n);
                        for (JsonNode w : JSON.readTree(resp.body()).get("results")) {
                            if (w.get("version").asLong() > 1) {
                                updates.incrementAndGet();
                            }
                        }
                    } else {
                        apiFailures.incrementAndGet();
                    }
                } else {
                    String id = pick();
                    HttpResponse<String> resp = send(p, "PUT", "/api/v1/chunks/" + id, body(id, false));
                    if (resp.statusCode() == 200 || resp.statusCode() == 201) {
                        apiWrites.incrementAndGet();
                        if (resp.statusCode() == 200) {
                            updates.incrementAndGet();
                        }
                    } else {
                        apiFailures.incrementAndGet();
                    }
                }
            } catch (IOException e) {
                apiFailures.incrementAndGet(); // the child is down or going down; the next tick tries again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                apiFailures.incrementAndGet();
            }
        }
    }

    private HttpResponse<String> send(RelayProcess p, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.port() + path))
                .timeout(Duration.ofSeconds(15)).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * An application that owns its table {@code app_notes} and captures each change with
     * {@code vectorsync.enqueue(...)} in the same transaction: one to three chunks per transaction, locked
     * in id order, 15% deletes, some privacy changes, 5% rolled back. Reconnects after a PostgreSQL restart.
     */
    private final class SqlWriter {
        private final int number;
        private final SplittableRandom r;
        private Connection c;
        private int created;

        SqlWriter(int number, SplittableRandom r) {
            this.number = number;
            this.r = r;
        }

        private String pick() {
            int x = r.nextInt(100);
            if (x < 35 || created == 0) {
                return "e-" + number + "-" + created++;
            }
            if (x < 70) {
                return "e-" + number + "-" + r.nextInt(created);
            }
            return "e-hot-" + r.nextInt(200);
        }

        void tick() {
            if (sqlWrites.get() >= allowance * sqlBudget()) {
                return;
            }
            try {
                if (c == null) {
                    c = pg.connect(PRIMARY);
                    c.setAutoCommit(false);
                }
                TreeSet<String> ids = new TreeSet<>();
                int n = r.nextInt(10) < 7 ? 1 : r.nextInt(2, 4);
                while (ids.size() < n) {
                    ids.add(pick());
                }
                int done = 0;
                int dels = 0;
                int ups = 0;
                for (String id : ids) {
                    long v = change(c, id, r);
                    if (v < 0) {
                        dels++;
                        done++;
                    } else if (v > 0) {
                        ups += v > 1 ? 1 : 0;
                        done++;
                    }
                }
                if (r.nextInt(20) == 0) {
                    c.rollback();
                    rolledBack.incrementAndGet();
                } else {
                    c.commit();
                    sqlWrites.addAndGet(done);
                    deletes.addAndGet(dels);
                    updates.addAndGet(ups);
                }
            } catch (SQLException e) {
                sqlFailures.incrementAndGet();
                try {
                    c.close();
                } catch (Exception ignored) {
                    // broken by a restart
                }
                c = null;
            }
        }
    }

    /** One change of an application chunk and its event: its new version, -1 for a delete, 0 for none. */
    private long change(Connection c, String id, SplittableRandom r) throws SQLException {
        if (r.nextInt(100) < 15) {
            try (PreparedStatement ps = c.prepareStatement(APP_DELETE)) {
                ps.setString(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return 0;
                    }
                    long v = rs.getLong(1);
                    try (PreparedStatement e = c.prepareStatement(ENQUEUE_DELETE)) {
                        e.setString(1, id);
                        e.setLong(2, v);
                        e.executeQuery().close();
                    }
                    return -1;
                }
            }
        }
        long v;
        try (PreparedStatement ps = c.prepareStatement(APP_UPSERT)) {
            ps.setString(1, id);
            ps.setString(2, "doc-" + r.nextInt(50));
            ps.setString(3, "content " + Long.toHexString(r.nextLong()));
            ps.setString(4, "{" + embedding(r) + "}");
            ps.setString(5, "{\"n\":" + r.nextInt(1000) + ",\"lang\":\"en\"}");
            ps.setString(6, privacy(r));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                v = rs.getLong(1);
            }
        }
        try (PreparedStatement e = c.prepareStatement(ENQUEUE_UPSERT)) {
            e.setString(1, id);
            e.executeQuery().close();
        }
        return v;
    }

    /** One session writes a change and its event, then sits idle in transaction before it commits. */
    private void startIdleTransaction(ScheduledExecutorService workers) throws SQLException {
        Connection c = pg.connect(PRIMARY);
        c.setAutoCommit(false);
        change(c, "e-idle-1", new SplittableRandom(s.seed()));
        long opened = System.nanoTime();
        note("a session sits idle in transaction for %d s, its outbox event uncommitted", s.idleSeconds());
        workers.schedule(() -> {
            try (c) {
                c.commit();
                idleHeldMillis = (System.nanoTime() - opened) / 1_000_000;
                note("the idle transaction committed after %d ms", idleHeldMillis);
            } catch (SQLException e) {
                problems.add("the idle transaction failed: " + e.getMessage());
            } finally {
                idleDone = true;
            }
        }, s.idleSeconds(), TimeUnit.SECONDS);
    }

    // ---- samplers ---------------------------------------------------------------------------------------

    private Map<String, Long> pending() throws SQLException {
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(PENDING)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
                maxLag.merge(rs.getString(1), rs.getDouble(3), Math::max);
            }
        }
        return out;
    }

    private void sampleLag() {
        try {
            pending();
        } catch (SQLException | RuntimeException e) {
            // PostgreSQL restarting; the next sample sees the lag
        }
    }

    private long parked() throws SQLException {
        try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM parked")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Reads every backend's versions, then the primary's, and records a regression when a chunk's version
     * in a backend is below one seen there before, or above the primary's.
     */
    private synchronized void sampleVersions() {
        try {
            Map<String, Map<String, Long>> backends = new LinkedHashMap<>();
            backends.put("replica", versions(PRIMARY, "SELECT chunk_id, version FROM replica_chunks"));
            backends.put("remote", versions(REMOTE, "SELECT chunk_id, version FROM replica_chunks"));
            if (lateAdded) {
                try {
                    backends.put(LATE, versions(LATE_DB, "SELECT chunk_id, version FROM replica_chunks"));
                } catch (SQLException e) {
                    if (!"42P01".equals(e.getSQLState())) {
                        throw e;
                    }
                    // its table is made when a child with the backend starts
                }
            }
            Map<String, Long> hooks = new HashMap<>();
            receiver.snapshot().forEach((id, h) -> hooks.put(id, h.version()));
            backends.put("hooks", hooks);
            Map<String, Long> primary = versions(PRIMARY, PRIMARY_VERSIONS);
            backends.forEach((b, vs) -> {
                Map<String, Long> seen = highestSeen.computeIfAbsent(b, k -> new HashMap<>());
                vs.forEach((id, v) -> {
                    Long before = seen.get(id);
                    if (before != null && v < before) {
                        regressions.add(b + ": " + id + " went back from version " + before + " to " + v);
                    } else {
                        seen.put(id, v);
                    }
                    Long p = primary.get(id);
                    if (p == null || v > p) {
                        regressions.add(b + ": " + id + " has version " + v + " but the primary " + p);
                    }
                });
            });
            samples.incrementAndGet();
        } catch (SQLException e) {
            if (!"42P01".equals(e.getSQLState())) {
                return; // PostgreSQL restarting: skip this sample
            }
        }
    }

    private Map<String, Long> versions(String db, String sql) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    // ---- the verdict ------------------------------------------------------------------------------------

    /** A chunk as the primary says a backend must hold it, or as a backend holds it. */
    private record Row(long version, boolean present, String documentId, String content, JsonNode metadata,
            float[] embedding, String privacy) {

        boolean sameFields(Row o) {
            return Objects.equals(documentId, o.documentId) && Objects.equals(content, o.content)
                    && Objects.equals(metadata, o.metadata) && Arrays.equals(embedding, o.embedding)
                    && Objects.equals(privacy, o.privacy);
        }
    }

    /** One backend against the primary: what is wrong with each differing chunk. */
    private static final class Compare {
        long compared;
        final Map<String, String> kinds = new HashMap<>();
        final Set<String> differing = kinds.keySet();

        void mark(String id, String kind) {
            kinds.put(id, kind);
        }

        /** Chunks of this kind, leaving out those in {@code except}. */
        long count(String kind, Set<String> except) {
            return kinds.entrySet().stream().filter(e -> e.getValue().equals(kind) && !except.contains(e.getKey()))
                    .count();
        }
    }

    private Map<String, Row> rows(String db, String sql, boolean primary) throws SQLException, IOException {
        Map<String, Row> out = new HashMap<>();
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                boolean deleted = rs.getBoolean(3);
                String privacy = rs.getString(8);
                boolean present = !deleted && !"LOCAL_ONLY".equals(privacy);
                String content = primary && "REDACTED".equals(privacy) ? null : rs.getString(5);
                out.put(rs.getString(1), new Row(rs.getLong(2), present, rs.getString(4), content,
                        rs.getString(7) == null ? null : JSON.readTree(rs.getString(7)), floats(rs.getArray(6)),
                        privacy));
            }
        }
        return out;
    }

    private static float[] floats(Array a) throws SQLException {
        if (a == null) {
            return null;
        }
        Object o = a.getArray();
        if (o instanceof Float[] f) {
            float[] out = new float[f.length];
            for (int i = 0; i < f.length; i++) {
                out[i] = f[i];
            }
            return out;
        }
        throw new IllegalStateException("unexpected array type " + o.getClass());
    }

    private Map<String, Compare> compareAll() throws SQLException, IOException {
        Map<String, Row> primary = rows(PRIMARY, PRIMARY_ROWS, true);
        Map<String, Map<String, Row>> backends = new LinkedHashMap<>();
        backends.put("replica", rows(PRIMARY, BACKEND_ROWS, false));
        backends.put("remote", rows(REMOTE, BACKEND_ROWS, false));
        backends.put(LATE, rows(LATE_DB, BACKEND_ROWS, false));
        Map<String, Row> hooks = new HashMap<>();
        receiver.snapshot().forEach((id, h) -> hooks.put(id, new Row(h.version(), !h.deleted(), h.documentId(),
                h.content(), h.metadata(), h.embedding(), h.privacy())));
        backends.put("hooks", hooks);
        Map<String, Compare> out = new LinkedHashMap<>();
        backends.forEach((b, held) -> {
            Compare c = new Compare();
            Set<String> ids = new HashSet<>(primary.keySet());
            ids.addAll(held.keySet());
            for (String id : ids) {
                Row want = primary.get(id);
                Row got = held.get(id);
                boolean gotPresent = got != null && got.present();
                c.compared++;
                if (want == null) {
                    if (gotPresent) {
                        c.mark(id, "ahead"); // a chunk the primary never committed
                    }
                } else if (!want.present()) {
                    if (gotPresent) {
                        c.mark(id, "resurrected");
                    }
                } else if (!gotPresent) {
                    c.mark(id, got != null && got.version() > want.version() ? "ahead" : "missing");
                } else if (got.version() < want.version()) {
                    c.mark(id, "stale");
                } else if (got.version() > want.version()) {
                    c.mark(id, "ahead");
                } else if (!want.sameFields(got)) {
                    c.mark(id, "different");
                }
            }
            out.put(b, c);
        });
        return out;
    }

    private Map<String, Set<String>> deadLetterChunks(String sql) throws SQLException {
        Map<String, Set<String>> out = new HashMap<>();
        try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
            }
        }
        return out;
    }

    private record Poison(long refused, long deadLettered, long superseded, long unaccounted, long otherDeadLetters) {
    }

    /** True when the outbox holds an event of this chunk at this version. */
    private boolean hasEvent(String chunkId, long version) throws SQLException {
        try (Connection c = pg.connect(PRIMARY);
                java.sql.PreparedStatement ps = c.prepareStatement(
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE chunk_id = ? AND version = ?)")) {
            ps.setString(1, chunkId);
            ps.setLong(2, version);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /**
     * Every event the receiver refused as poison must be in dead_letter (its version, or a newer one of the
     * same chunk also refused) or superseded: the receiver holds a newer version of the chunk.
     */
    private Poison accountPoison() throws SQLException {
        Map<String, Long> newestDead = new HashMap<>();
        long other = 0;
        try (Connection c = pg.connect(PRIMARY); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT chunk_id, version FROM dead_letter WHERE backend = 'hooks'")) {
            while (rs.next()) {
                String id = rs.getString(1);
                long v = rs.getLong(2);
                newestDead.merge(id, v, Math::max);
                if (!receiver.isPoison(id, v)) {
                    other++;
                }
            }
        }
        Map<String, Receiver.Held> held = receiver.snapshot();
        long dead = 0;
        long superseded = 0;
        long unaccounted = 0;
        for (String key : receiver.refused) {
            int colon = key.lastIndexOf(':');
            String id = key.substring(0, colon);
            long v = Long.parseLong(key.substring(colon + 1));
            Receiver.Held h = held.get(id);
            if (newestDead.getOrDefault(id, 0L) >= v) {
                dead++;
            } else if (h != null && h.version() > v) {
                superseded++;
            } else if (newestDead.containsKey(id) && !hasEvent(id, v)) {
                // A version with no event of its own (a LOCAL_ONLY write after LOCAL_ONLY sends none, ADR 016)
                // reached the receiver as the current row of an older lean event (ADR 004), which is the one
                // dead-lettered: the replay delivers the row again.
                dead++;
            } else {
                unaccounted++;
                problems.add("poison event " + key + " is neither dead-lettered nor superseded");
            }
        }
        return new Poison(receiver.refused.size(), dead, superseded, unaccounted, other);
    }

    private Verdict verdict(Map<String, Compare> before, Map<String, Set<String>> openDead,
            Map<String, Long> unexplained, Poison poison,
            Map<String, Compare> after, long replayed, long seconds) throws SQLException {
        Map<String, Long> figures = new LinkedHashMap<>();
        StringBuilder t = new StringBuilder();
        t.append("# Chaos run\n\n");
        t.append(String.format(Locale.ROOT, "Seed %d; %d chunk writes (%d through the API, %d through"
                        + " vectorsync.enqueue; %d updates, %d deletes); %d s in all.%n%n", s.seed(), written(),
                apiWrites.get(), sqlWrites.get(), updates.get(), deletes.get(), seconds));
        t.append("| fault | count |\n| --- | ---: |\n");
        int haltsTotal = halts.values().stream().mapToInt(Integer::intValue).sum();
        row(t, "relay killed with SIGKILL at a random moment", randomKills);
        halts.forEach((p, n) -> row(t, "relay halted at failpoint " + p, n));
        row(t, "relay kills in all", randomKills + haltsTotal);
        row(t, "PostgreSQL restarts (pg_ctl restart -m fast / immediate)", pgRestarts);
        row(t, "idle in transaction, seconds", idleHeldMillis / 1000);
        row(t, "webhook requests through the proxy", proxy.requests.get());
        row(t, "connections reset before the request", proxy.resetsBefore.get());
        row(t, "connections reset after the request (applied, not acknowledged)", proxy.resetsAfter.get());
        row(t, "half-open stalls", proxy.stalls.get());
        row(t, "slow answers", proxy.slow.get());
        row(t, "receiver 5xx answers", receiver.answered5xx.get());
        row(t, "receiver 422 (poison) answers", receiver.answered422.get());
        row(t, "receiver stalls of " + Receiver.STALL_MILLIS / 1000 + " s, longer than the 3 s lease (events: "
                + receiver.stallingSince.size() + ")", receiver.stalled.get());
        t.append("\nBefore the replay, once drained (poison still refused): chunks of each backend compared with the"
                + " primary; a chunk whose newest event is dead-lettered counts under \"dead-lettered\" only.\n\n");
        t.append("| backend | chunks compared | missing | stale | different | ahead | resurrected deletes |"
                + " dead-lettered | version regressions | longest lag, s | differences after the replay |\n");
        t.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        long regressionCount = regressions.size();
        for (String b : BACKENDS) {
            Compare c = before.get(b);
            Set<String> dead = openDead.getOrDefault(b, Set.of());
            long deadDiffering = c.differing.stream().filter(dead::contains).count();
            long regB = regressions.stream().filter(r -> r.startsWith(b + ":")).count();
            t.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %.1f | %d |%n", b,
                    c.compared, c.count("missing", dead), c.count("stale", dead), c.count("different", dead),
                    c.count("ahead", dead), c.count("resurrected", dead), deadDiffering, regB,
                    maxLag.getOrDefault(b, 0.0), after.get(b).differing.size()));
            figures.put(b + ".differences", (long) after.get(b).differing.size());
            figures.put(b + ".differencesBeforeReplayUnexplained", unexplained.get(b));
            if (!after.get(b).differing.isEmpty()) {
                problems.add(b + ": " + after.get(b).differing.size() + " chunks differ from the primary after the"
                        + " replay, e.g. " + after.get(b).kinds.entrySet().stream().limit(5).toList());
            }
            if (unexplained.get(b) > 0) {
                problems.add(b + ": " + unexplained.get(b) + " chunks differed before the replay without a dead letter");
            }
        }
        t.append("\n\n| poison and duplicates | count |\n| --- | ---: |\n");
        row(t, "poison events refused by the receiver (distinct chunkId:version)", poison.refused());
        row(t, "... in dead_letter", poison.deadLettered());
        row(t, "... superseded by a newer version", poison.superseded());
        row(t, "... unaccounted for", poison.unaccounted());
        row(t, "other dead letters (transient failures charged), replayed too", poison.otherDeadLetters());
        row(t, "dead letters replayed after the fix", replayed);
        row(t, "duplicate deliveries absorbed by the receiver (same chunkId:version)", receiver.duplicates.get());
        row(t, "stale deliveries ignored by the receiver (older version)", receiver.stale.get());
        row(t, "ledger skips reported by the relays (lower bound: halted ones lost theirs)", ledgerSkips.get());
        row(t, "version samples taken", samples.get());
        t.append(String.format(Locale.ROOT, "%nLongest lag: the age of the oldest event a backend's cursor had not"
                + " passed, sampled every second (the idle transaction's own event left out); it includes the"
                + " restarts of the killed relay.%n"));
        figures.put("regressions", regressionCount);
        figures.put("receiver.stalls", receiver.stalled.get());
        figures.put("poison.refused", poison.refused());
        figures.put("poison.unaccounted", poison.unaccounted());
        figures.put("kills", (long) randomKills + haltsTotal);
        figures.put("pgRestarts", (long) pgRestarts);
        figures.put("duplicates", receiver.duplicates.get());
        if (regressionCount > 0) {
            problems.add(regressionCount + " version regressions, e.g. " + regressions.stream().limit(5).toList());
        }
        if (randomKills + haltsTotal < s.kills()) {
            problems.add("only " + (randomKills + haltsTotal) + " of " + s.kills() + " kills happened");
        }
        if (pgRestarts < s.pgRestarts()) {
            problems.add("only " + pgRestarts + " of " + s.pgRestarts() + " PostgreSQL restarts happened");
        }
        if (idleHeldMillis < s.idleSeconds() * 1000L) {
            problems.add("the idle transaction was held " + idleHeldMillis + " ms");
        }
        if (poison.refused() == 0) {
            problems.add("no poison event was refused: the poison path was not exercised");
        }
        if (samples.get() < 3) {
            problems.add("only " + samples.get() + " version samples");
        }
        t.append("\nVerdict: ").append(problems.isEmpty() ? "PASS" : "FAIL").append('\n');
        problems.forEach(p -> t.append("- ").append(p).append('\n'));
        t.append("\n<details><summary>Run log</summary>\n\n```\n");
        log.forEach(l -> t.append(l).append('\n'));
        t.append("```\n</details>\n");
        return new Verdict(t.toString(), List.copyOf(problems), figures);
    }

    private static void row(StringBuilder t, String what, long n) {
        t.append("| ").append(what).append(" | ").append(n).append(" |\n");
    }
}
