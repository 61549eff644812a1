package io.vectorsync.bench;

import io.vectorsync.VectorsyncApplication;
import io.vectorsync.relay.PauseControl;
import io.vectorsync.relay.RelayListener;
import io.vectorsync.relay.RelayWakeup;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The relay's throughput into the pgvector backend against its ceiling, in one run (not a test: run it
 * with {@code bench/relay-throughput.sh [N] [BATCH]}).
 *
 * <ol>
 *   <li>Creates a fresh database on the local PostgreSQL and starts the application in-process on it
 *       (random port, the relay's batch size as given), with the default {@code replica} backend.
 *   <li>Lets the relay deliver 2,000 other chunks first, untimed, so its code is compiled (the ceiling loop
 *       warms up on the same rows).
 *   <li>Pauses the relay ({@code relay_cursor.paused}) and loads N chunks with 384-dimension embeddings
 *       and their lean outbox events in bulk by SQL, 1,000 per transaction as the capture API would.
 *   <li>Un-pauses and times the relay until it has delivered all N events (ledger and replica written).
 *   <li>Ceiling: the same rows, read into memory beforehand, written by a plain JDBC loop in batches of the
 *       same size, one transaction each, with the backend's version-guarded upsert into a fresh copy of
 *       the replica table ({@code LIKE ... INCLUDING ALL}), through the same connection pool: no outbox,
 *       no ledger, no cursor. It runs once before and once after the relay, into two copies, and the
 *       mean counts, so load that drifts on the shared machine weighs on both sides alike.
 * </ol>
 *
 * Prints the settings and events/s of both with their ratio, and writes them to {@code bench/results/}.
 * System properties: {@code bench.results} (folder), {@code bench.batchBytes}, {@code bench.jfr} (a file:
 * records the relay phase with Java Flight Recorder's profile settings), {@code bench.keep} (keep the
 * database).
 */
public final class RelayThroughputBench {

    static final int DIMENSION = 384;
    static final int LOAD_PER_TRANSACTION = 1000;
    /** Events the relay and the ceiling loop process before they are timed, so the JIT is warm for both. */
    static final int WARM_UP = 2000;
    static final String BACKEND = "replica";

    /** The PostgreSQL backend's statement (PostgresBackend.UPSERT), here for a ceiling table. */
    static final String CEILING_UPSERT = """
            INSERT INTO %s AS t (chunk_id, version, document_id, content, embedding, metadata, privacy, synced_at)
            VALUES (?, ?, ?, ?, ?::vector, ?::jsonb, ?, clock_timestamp())
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = EXCLUDED.version, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
                   embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
                   synced_at = EXCLUDED.synced_at
             WHERE t.version < EXCLUDED.version
            """;

    /** Chunks like an application's: ~200 characters of text, a small metadata object, a random embedding. */
    static final String LOAD_CHUNKS = """
            INSERT INTO chunks (chunk_id, version, document_id, content, embedding, metadata, privacy)
            SELECT ? || lpad(g::text, 9, '0'), 1, 'doc-' || (g / 20),
                   'Chunk ' || g || ' of the benchmark corpus. ' || repeat('lorem ipsum dolor sit amet ', 6),
                   (SELECT array_agg((random() * 2 - 1)::real) FROM generate_series(1, %d) d WHERE g IS NOT NULL),
                   jsonb_build_object('source', 'bench', 'position', g, 'lang', 'en'), 'FULL'
              FROM generate_series(?, ?) g
            """.formatted(DIMENSION);
    static final String LOAD_EVENTS = """
            INSERT INTO outbox (event_id, type, chunk_id, version)
            SELECT 'ev-' || ? || lpad(g::text, 20, '0'), 'UPSERT', ? || lpad(g::text, 9, '0'), 1
              FROM generate_series(?, ?) g
            """;
    static final String READ_ROWS = """
            SELECT c.chunk_id, c.version, c.document_id, c.content, c.embedding, c.metadata::text AS metadata, c.privacy
              FROM chunks c JOIN outbox o ON o.chunk_id = c.chunk_id
             WHERE c.chunk_id LIKE ? || '%'
             ORDER BY o.id
             LIMIT ?
            """;

    private RelayThroughputBench() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        long batchBytes = Long.getLong("bench.batchBytes", 1_048_576L);
        Path resultsDir = Path.of(System.getProperty("bench.results", "bench/results"));
        String jfr = System.getProperty("bench.jfr", "");
        boolean keep = Boolean.getBoolean("bench.keep");
        if (n < 1 || batch < 1) {
            throw new IllegalArgumentException("usage: RelayThroughputBench [N >= 1] [BATCH >= 1]");
        }

        String db = "vsbench_" + ProcessHandle.current().pid();
        admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db);
        Counter counter = new Counter();
        say("vectorsync relay benchmark: N=%d, batch size=%d, batch bytes=%d, database %s", n, batch, batchBytes, db);
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(VectorsyncApplication.class)
                .initializers(c -> c.getBeanFactory().registerSingleton("benchRelayListener", counter))
                .bannerMode(org.springframework.boot.Banner.Mode.OFF)
                .logStartupInfo(false)
                .run("--spring.datasource.url=" + TestDatabases.url(db),
                        "--spring.datasource.username=" + TestDatabases.USER,
                        "--spring.datasource.password=",
                        "--server.port=0",
                        "--vectorsync.relay.batch-size=" + batch,
                        "--vectorsync.relay.batch-bytes=" + batchBytes,
                        "--vectorsync.embedding-dimension=" + DIMENSION,
                        "--logging.level.root=WARN",
                        "--logging.level.io.vectorsync=WARN");
        Report r = new Report();
        r.n = n;
        r.batch = batch;
        r.batchBytes = batchBytes;
        try {
            JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);
            DataSource ds = ctx.getBean(DataSource.class);
            describeMachine(jdbc, r);

            // Warm-up: the relay delivers a few thousand other chunks, untimed.
            int warm = Math.min(WARM_UP, n);
            counter.expect(warm);
            load(ds, "warm-", warm);
            ctx.getBean(RelayWakeup.class).wakeAll();
            if (!counter.done.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the relay did not deliver the warm-up events");
            }

            // Load with the relay paused.
            // As an operator pauses (the admin API's PauseControl): the relay route is suspended too.
            ctx.getBean(PauseControl.class).pause(BACKEND);
            counter.expect(n);
            long loadStart = System.nanoTime();
            load(ds, "chunk-", n);
            jdbc.execute("VACUUM ANALYZE chunks");
            jdbc.execute("VACUUM ANALYZE outbox");
            r.loadSeconds = seconds(System.nanoTime() - loadStart);
            r.rowBytes = jdbc.queryForObject(
                    "SELECT avg(pg_column_size(c.*))::bigint FROM (SELECT * FROM chunks LIMIT 1000) c", Long.class);
            say("loaded %d chunks and events in %.1f s (about %d bytes per chunk row)", n, r.loadSeconds, r.rowBytes);

            // The ceiling's rows, in the relay's order (the first bench.ceilingRows of them for a large N, read
            // before each ceiling run and dropped after it, so they never weigh on the relay's heap), and two
            // fresh copies of the backend's table; the ceiling loop warms up on the warm-up rows, untimed.
            int ceilingN = Math.min(n, Integer.getInteger("bench.ceilingRows", 100_000));
            r.ceilingN = ceilingN;
            List<Row> rows = readRows(ds, "chunk-", ceilingN);
            jdbc.execute("CREATE TABLE bench_warm_up (LIKE replica_chunks INCLUDING ALL)");
            ceiling(ds, readRows(ds, "warm-"), batch, "bench_warm_up");
            jdbc.execute("DROP TABLE bench_warm_up");
            jdbc.execute("CREATE TABLE bench_ceiling_1 (LIKE replica_chunks INCLUDING ALL)");
            jdbc.execute("CREATE TABLE bench_ceiling_2 (LIKE replica_chunks INCLUDING ALL)");
            r.loadBefore = loadAverage();

            // Ceiling, first run (before the relay, so machine load that drifts during the run is averaged).
            jdbc.execute("CHECKPOINT");
            r.ceilingSeconds1 = ceiling(ds, rows, batch, "bench_ceiling_1");
            say("ceiling: %d rows   in %.2f s = %.0f rows/s (first run)", ceilingN, r.ceilingSeconds1,
                    ceilingN / r.ceilingSeconds1);
            rows = null;
            System.gc();

            // The relay.
            jdbc.execute("CHECKPOINT");
            Recording recording = startRecording(jfr);
            Instant relayFrom = Instant.now();
            HeapSampler heap = new HeapSampler();
            long t0 = System.nanoTime();
            // As an operator resumes: the route is resumed at once and the relay woken; before, the resume was
            // written to the table, and the route stayed suspended until the next reconciliation (up to 2 s).
            ctx.getBean(PauseControl.class).resume(BACKEND);
            long limitSeconds = Math.max(300, n / 50L);
            if (!counter.done.await(limitSeconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the relay delivered only " + counter.events.get() + " of " + n
                        + " events in " + limitSeconds + " s");
            }
            long relayNanos = counter.lastCommitAt - t0;
            r.heapPeakMiB = heap.stop() / 1048576.0;
            r.heapMaxMiB = Runtime.getRuntime().maxMemory() / 1048576.0;
            say("heap during the relay: peak %.0f MiB used of %.0f MiB max", r.heapPeakMiB, r.heapMaxMiB);
            Instant relayTo = Instant.now();
            r.relaySeconds = seconds(relayNanos);
            r.relayBatches = counter.batches.get();
            r.deliverSeconds = seconds(counter.deliverNanos.get());
            say("relay:   %d events in %.2f s = %.0f events/s (%d batches; %.2f s inside delivery)", n, r.relaySeconds,
                    r.relayRate(), r.relayBatches, r.deliverSeconds);

            // Ceiling, second run.
            jdbc.execute("CHECKPOINT");
            rows = readRows(ds, "chunk-", ceilingN);
            r.ceilingSeconds2 = ceiling(ds, rows, batch, "bench_ceiling_2");
            rows = null;
            r.loadAfter = loadAverage();
            say("ceiling: %d rows   in %.2f s = %.0f rows/s (second run)", ceilingN, r.ceilingSeconds2,
                    ceilingN / r.ceilingSeconds2);

            // Both paths wrote what they should.
            long replicaRows = jdbc.queryForObject("SELECT count(*) FROM replica_chunks", Long.class);
            long ledgerRows = jdbc.queryForObject("SELECT count(*) FROM delivery_ledger WHERE backend = ?", Long.class,
                    BACKEND);
            long differences = jdbc.queryForObject(AbstractIT.REPLICA_DIFF.formatted("replica_chunks"), Long.class);
            if (replicaRows != n + warm || ledgerRows != n + warm || differences != 0) {
                throw new IllegalStateException("relay result is wrong: replica rows " + replicaRows + ", ledger rows "
                        + ledgerRows + " (expected " + (n + warm) + "), rows differing from the primary " + differences);
            }
            for (String table : List.of("bench_ceiling_1", "bench_ceiling_2")) {
                long ceilingRows = jdbc.queryForObject("SELECT count(*) FROM " + table, Long.class);
                if (ceilingRows != ceilingN) {
                    throw new IllegalStateException("ceiling wrote " + ceilingRows + " rows to " + table + ", expected "
                            + ceilingN);
                }
            }
            say("ceiling: %.0f rows/s (mean of both runs)", r.ceilingRate());
            say("ratio relay/ceiling: %.2f (target >= 0.60)", r.ratio());
            if (recording != null) {
                Path p = stopRecording(recording, jfr);
                r.profile = JfrSummary.summarize(p, relayFrom, relayTo);
            }

            Path file = r.write(resultsDir);
            say("%n%s", r.markdown());
            say("written to %s", file);
        } finally {
            ctx.close();
            if (keep) {
                say("kept database %s", db);
            } else {
                admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
        }
    }

    /** The peak of the heap in use, sampled every 50 ms until stopped. */
    static final class HeapSampler {
        private final java.lang.management.MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        private volatile boolean running = true;
        private volatile long peak;
        private final Thread thread;

        HeapSampler() {
            thread = new Thread(() -> {
                while (running) {
                    peak = Math.max(peak, memory.getHeapMemoryUsage().getUsed());
                    try {
                        TimeUnit.MILLISECONDS.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        long stop() throws InterruptedException {
            running = false;
            thread.join();
            return Math.max(peak, memory.getHeapMemoryUsage().getUsed());
        }
    }

    /** Counts what the relay delivered, through the same listener hook the metrics use. */
    static final class Counter implements RelayListener {
        final AtomicLong events = new AtomicLong();
        final AtomicLong batches = new AtomicLong();
        final AtomicLong deliverNanos = new AtomicLong();
        volatile int expected = Integer.MAX_VALUE;
        volatile CountDownLatch done = new CountDownLatch(1);
        volatile long lastCommitAt;

        /** Starts counting afresh (while the relay is idle). */
        void expect(int n) {
            events.set(0);
            batches.set(0);
            deliverNanos.set(0);
            done = new CountDownLatch(1);
            expected = n;
        }

        @Override
        public void batchDelivered(String backend, int read, int applied, int skipped, int failed, long nanos) {
            if (!BACKEND.equals(backend)) {
                return;
            }
            lastCommitAt = System.nanoTime();
            batches.incrementAndGet();
            deliverNanos.addAndGet(nanos);
            if (events.addAndGet(read) >= expected) {
                done.countDown();
            }
        }
    }

    /** Runs statements on the server's maintenance database (the server and user of the test suite). */
    static void admin(String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(TestDatabases.url("postgres"), TestDatabases.USER, "");
                Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    /** Loads chunks {@code prefix000000001} to {@code prefix<n>} and one lean event each. */
    static void load(DataSource ds, String prefix, int n) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT setseed(0.42)");
            }
            try (PreparedStatement chunks = c.prepareStatement(LOAD_CHUNKS);
                    PreparedStatement events = c.prepareStatement(LOAD_EVENTS)) {
                for (int from = 1; from <= n; from += LOAD_PER_TRANSACTION) {
                    int to = Math.min(n, from + LOAD_PER_TRANSACTION - 1);
                    chunks.setString(1, prefix);
                    chunks.setInt(2, from);
                    chunks.setInt(3, to);
                    chunks.executeUpdate();
                    events.setString(1, prefix);
                    events.setString(2, prefix);
                    events.setInt(3, from);
                    events.setInt(4, to);
                    events.executeUpdate();
                    c.commit();
                }
            }
            c.setAutoCommit(true);
        }
    }

    /** A chunk as the relay hands it to the backend. */
    record Row(String chunkId, long version, String documentId, String content, float[] embedding, String metadata,
            String privacy) {}

    static List<Row> readRows(DataSource ds, String prefix) throws SQLException {
        return readRows(ds, prefix, Integer.MAX_VALUE);
    }

    static List<Row> readRows(DataSource ds, String prefix, int limit) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(READ_ROWS)) {
            ps.setString(1, prefix);
            ps.setInt(2, limit);
            ResultSet rs = ps.executeQuery();
            while (rs.next()) {
                rows.add(new Row(rs.getString("chunk_id"), rs.getLong("version"), rs.getString("document_id"),
                        rs.getString("content"), floats(rs.getArray("embedding")), rs.getString("metadata"),
                        rs.getString("privacy")));
            }
        }
        return rows;
    }

    /** The plain loop: batches of the relay's size, one transaction each, nothing else; returns seconds. */
    static double ceiling(DataSource ds, List<Row> rows, int batch, String table) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(CEILING_UPSERT.formatted(table))) {
                for (int i = 0; i < rows.size(); i += batch) {
                    for (Row row : rows.subList(i, Math.min(rows.size(), i + batch))) {
                        ps.setString(1, row.chunkId());
                        ps.setLong(2, row.version());
                        ps.setString(3, row.documentId());
                        ps.setString(4, row.content());
                        ps.setString(5, vectorLiteral(row.embedding()));
                        ps.setString(6, row.metadata());
                        ps.setString(7, row.privacy());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                    c.commit();
                }
            }
            c.setAutoCommit(true);
        }
        return seconds(System.nanoTime() - started);
    }

    /** The 1-minute load average, to judge how busy the shared machine was. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** The same text the relay's backend writes, so both sides pay the same formatting. */
    static String vectorLiteral(float[] v) {
        return io.vectorsync.backend.FloatText.vector(v, true);
    }

    static float[] floats(Array array) throws SQLException {
        return io.vectorsync.relay.OutboxReader.floats(array);
    }

    static void describeMachine(JdbcTemplate jdbc, Report r) {
        r.cores = Runtime.getRuntime().availableProcessors();
        r.postgres = jdbc.queryForObject("SHOW server_version", String.class);
        r.pgvector = jdbc.queryForList("SELECT extversion FROM pg_extension WHERE extname = 'vector'", String.class)
                .stream().findFirst().orElse("absent");
        r.embeddingType = jdbc.queryForObject("""
                SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = 'replica_chunks'::regclass AND attname = 'embedding'
                """, String.class);
        r.durability = "fsync " + jdbc.queryForObject("SHOW fsync", String.class) + ", synchronous_commit "
                + jdbc.queryForObject("SHOW synchronous_commit", String.class) + ", shared_buffers "
                + jdbc.queryForObject("SHOW shared_buffers", String.class);
        r.jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + ", max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB";
        r.os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
        long mem = 0;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            mem = os.getTotalMemorySize();
        }
        r.memoryGiB = mem / (1024.0 * 1024 * 1024);
    }

    static Recording startRecording(String file) throws Exception {
        if (file.isBlank()) {
            return null;
        }
        Recording rec = new Recording(Configuration.getConfiguration("profile"));
        rec.setName("vectorsync-relay-bench");
        // Every wait for PostgreSQL and every park, however short, with the stack that caused it.
        rec.enable("jdk.SocketRead").withThreshold(Duration.ZERO).withStackTrace();
        rec.enable("jdk.SocketWrite").withThreshold(Duration.ZERO).withStackTrace();
        rec.enable("jdk.ThreadPark").withThreshold(Duration.ZERO).withStackTrace();
        rec.enable("jdk.ThreadSleep").withThreshold(Duration.ZERO).withStackTrace();
        rec.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
        rec.start();
        return rec;
    }

    static Path stopRecording(Recording rec, String file) throws IOException {
        rec.stop();
        Path p = Path.of(file).toAbsolutePath();
        Files.createDirectories(p.getParent());
        rec.dump(p);
        rec.close();
        say("flight recording of the relay and ceiling phases written to %s", p);
        return p;
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    static void say(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
        System.out.flush();
    }

    /** The settings and the figures of one run, as printed and as written to bench/results/. */
    static final class Report {
        final LocalDateTime at = LocalDateTime.now().withNano(0);
        int n;
        int batch;
        long batchBytes;
        long rowBytes;
        int cores;
        double memoryGiB;
        String postgres;
        String pgvector;
        String embeddingType;
        String durability;
        String jvm;
        String os;
        double loadSeconds;
        double relaySeconds;
        double deliverSeconds;
        long relayBatches;
        double ceilingSeconds1;
        double ceilingSeconds2;
        String loadBefore;
        String loadAfter;
        String profile;
        int ceilingN;
        double heapPeakMiB;
        double heapMaxMiB;

        double relayRate() {
            return n / relaySeconds;
        }

        /** Rows per second over both ceiling runs. */
        double ceilingRate() {
            return 2.0 * ceilingN / (ceilingSeconds1 + ceilingSeconds2);
        }

        double ratio() {
            return relayRate() / ceilingRate();
        }

        String markdown() {
            return String.format(Locale.ROOT, """
                    # Relay throughput, %s

                    `bench/relay-throughput.sh %d %d`

                    | setting | value |
                    | --- | --- |
                    | N | %d chunks, one lean UPSERT event each (loaded by SQL, 1,000 per transaction, relay paused; timed after 2,000 warm-up events) |
                    | embedding | %d dimensions, target column `%s` |
                    | batch size | %d events |
                    | batch bytes | %d (a chunk row is about %d bytes, so the count limits) |
                    | machine | %d cores (nproc), %.0f GiB, %s; load average (1 min) %s before, %s after |
                    | PostgreSQL | %s, pgvector %s, %s; same server for primary and backend |
                    | JVM | %s |

                    | path | seconds | events/s |
                    | --- | ---: | ---: |
                    | relay: outbox → `replica_chunks` (ledger, cursor, %d batches) | %.2f | %.0f |
                    | ceiling: plain JDBC loop, same rows (the first %d), batch size and table definition, no outbox or ledger (runs before and after the relay: %.2f s, %.2f s; mean) | %.2f | %.0f |
                    | **ratio relay / ceiling** | | **%.2f** (target ≥ 0.60) |

                    Time inside the relay's delivery step: %.2f s of %.2f s (the rest: polling the outbox window,
                    reading the chunk rows, the lease, and the scheduler between polls).
                    Heap of the JVM running the relay (sampled every 50 ms while it drained): peak %.0f MiB used,
                    maximum %.0f MiB.
                    %s""",
                    at, n, batch, n, DIMENSION, embeddingType, batch, batchBytes, rowBytes, cores, memoryGiB, os,
                    loadBefore, loadAfter, postgres, pgvector, durability, jvm, relayBatches, relaySeconds, relayRate(), ceilingN, ceilingSeconds1,
                    ceilingSeconds2, (ceilingSeconds1 + ceilingSeconds2) / 2, ceilingRate(), ratio(), deliverSeconds, relaySeconds,
                    heapPeakMiB, heapMaxMiB, profile == null ? "" : "\n## Profile (Java Flight Recorder, bench.jfr)\n" + profile);
        }

        Path write(Path dir) throws IOException {
            Files.createDirectories(dir);
            String stamp = at.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            Path file = dir.resolve("relay-throughput-" + stamp + "-n" + n + "-b" + batch + ".md");
            Files.writeString(file, markdown());
            return file;
        }
    }
}
