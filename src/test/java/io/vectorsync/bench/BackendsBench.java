package io.vectorsync.bench;

import static io.vectorsync.bench.RelayThroughputBench.admin;
import static io.vectorsync.bench.RelayThroughputBench.load;
import static io.vectorsync.bench.RelayThroughputBench.loadAverage;
import static io.vectorsync.bench.RelayThroughputBench.say;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.vectorsync.VectorsyncApplication;
import io.vectorsync.relay.PauseControl;
import io.vectorsync.relay.RelayListener;
import io.vectorsync.relay.RelayWakeup;
import io.vectorsync.support.TestDatabases;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Events/s per backend, one backend at a time and several at once, and the lag of the healthy backends
 * while one is down (not a test: {@code bench/backends.sh [N]}).
 *
 * <p>Each run starts the application in-process on a fresh database with only the backends it measures
 * (a routes file with one templatedRoute each is generated), loads N chunks with 384-dimension
 * embeddings and their lean events with every relay paused, un-pauses them together, and times each
 * backend until it has delivered all N. The servers are the ones the tests use, on loopback: the
 * primary's own database ({@code replica}), another database on the same server ({@code remote}), an HTTP
 * receiver in this process that parses each batch and keeps the newest version per chunk
 * ({@code webhook}), Neo4j in-process ({@code neo4j-harness}), OpenSearch and Elasticsearch nodes from
 * their integ-test-zips, and Chroma from the npm CLI. Qdrant is not measured: no Qdrant server runs
 * here, and timing the in-memory contract server would say nothing about Qdrant.
 * System properties {@code bench.alone} and {@code bench.together} list the kinds of each part.
 *
 * <p>The outage run configures three backends, stops the webhook receiver, writes a steady load of R
 * events/s for D seconds (one transaction per 100 ms, as an application would), and reports the lag of
 * the two healthy backends (ledger {@code applied_at} minus the chunk's {@code updated_at}) as p50/p99/max,
 * then restarts the receiver and times how long the down backend takes to drain its backlog.
 */
public final class BackendsBench {

    /** One kind of backend the bench can run: its configuration and the server behind it. */
    interface Target extends AutoCloseable {
        String name();

        Map<String, String> properties();

        @Override
        default void close() {}
    }

    static final class Replica implements Target {
        public String name() {
            return "replica";
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends.replica.type", "postgres");
        }
    }

    static final class Remote implements Target {
        final String db = "vsbench_remote_" + ProcessHandle.current().pid();

        Remote() throws Exception {
            admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db);
        }

        public String name() {
            return "remote";
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends.remote.type", "postgres",
                    "vectorsync.backends.remote.postgres.jdbc-url", TestDatabases.url(db),
                    "vectorsync.backends.remote.postgres.username", TestDatabases.USER,
                    "vectorsync.backends.remote.postgres.table", "remote_chunks");
        }

        @Override
        public void close() {
            try {
                admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            } catch (Exception e) {
                say("could not drop %s: %s", db, e.getMessage());
            }
        }
    }

    /** A receiver that parses each batch and keeps the newest version per chunk, as a real one would. */
    static final class Webhook implements Target {
        final Map<String, Long> versions = new ConcurrentHashMap<>();
        final com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        volatile HttpServer server;
        final int port;

        Webhook() throws IOException {
            server = start(0);
            port = server.getAddress().getPort();
        }

        HttpServer start(int p) throws IOException {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", p), 64);
            s.setExecutor(Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "bench-webhook-receiver");
                t.setDaemon(true);
                return t;
            }));
            s.createContext("/hook", ex -> {
                var body = json.readTree(ex.getRequestBody().readAllBytes());
                for (var e : body.get("events")) {
                    versions.merge(e.get("chunkId").asText(), e.get("version").asLong(), Math::max);
                }
                ex.sendResponseHeaders(204, -1);
                ex.close();
            });
            s.start();
            return s;
        }

        void down() {
            server.stop(0);
        }

        void up() throws IOException {
            server = start(port);
        }

        public String name() {
            return "webhook";
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends.webhook.type", "webhook",
                    "vectorsync.backends.webhook.webhook.url", "http://127.0.0.1:" + port + "/hook",
                    "vectorsync.backends.webhook.webhook.secret", "bench-secret-0123456789",
                    "vectorsync.backends.webhook.connect-timeout", "250ms",
                    "vectorsync.backends.webhook.retry.backoff-max", "5s");
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    /** Neo4j in-process (neo4j-harness), as the tests run it; one server for the whole bench. */
    static final class Neo4j implements Target {
        public String name() {
            return "neo4j";
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends.neo4j.type", "neo4j",
                    "vectorsync.backends.neo4j.neo4j.url", io.vectorsync.support.Neo4jServer.boltUrl());
        }
    }

    /** An OpenSearch or Elasticsearch node from its integ-test-zip, as the tests run it. */
    static final class Search implements Target {
        final io.vectorsync.support.SearchNode node;
        final String flavor;

        Search(String flavor) {
            this.flavor = flavor;
            this.node = flavor.equals("opensearch") ? io.vectorsync.support.SearchNode.openSearch()
                    : io.vectorsync.support.SearchNode.elasticsearch();
        }

        public String name() {
            return flavor;
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends." + flavor + ".type", flavor,
                    "vectorsync.backends." + flavor + ".search.url", node.url());
        }

        @Override
        public void close() {
            node.close();
        }
    }

    /** A Chroma server from the npm chromadb CLI, as the tests run it. */
    static final class Chroma implements Target {
        final io.vectorsync.support.ChromaServer server = io.vectorsync.support.ChromaServer.start();

        public String name() {
            return "chroma";
        }

        public Map<String, String> properties() {
            return Map.of("vectorsync.backends.chroma.type", "chroma",
                    "vectorsync.backends.chroma.chroma.url", server.url());
        }

        @Override
        public void close() {
            server.close();
        }
    }

    static Target target(String kind) throws Exception {
        return switch (kind) {
            case "replica" -> new Replica();
            case "remote" -> new Remote();
            case "webhook" -> new Webhook();
            case "neo4j" -> new Neo4j();
            case "opensearch", "elasticsearch" -> new Search(kind);
            case "chroma" -> new Chroma();
            default -> throw new IllegalArgumentException("unknown backend kind " + kind
                    + " (replica, remote, webhook, neo4j, opensearch, elasticsearch, chroma)");
        };
    }

    /** Counts what each backend's relay delivered. */
    static final class Counter implements RelayListener {
        final Map<String, AtomicLong> events = new ConcurrentHashMap<>();
        final Map<String, Long> doneAt = new ConcurrentHashMap<>();
        volatile long expected = Long.MAX_VALUE;

        void expect(long n) {
            events.clear();
            doneAt.clear();
            expected = n;
        }

        @Override
        public void batchDelivered(String backend, int read, int applied, int skipped, int failed, long nanos) {
            long n = events.computeIfAbsent(backend, b -> new AtomicLong()).addAndGet(read);
            if (n >= expected) {
                doneAt.putIfAbsent(backend, System.nanoTime());
            }
        }
    }

    private final List<String> lines = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int rate = Integer.getInteger("bench.rate", 200);
        int seconds = Integer.getInteger("bench.seconds", 20);
        Path resultsDir = Path.of(System.getProperty("bench.results", "bench/results"));
        if ("catch-up".equals(System.getProperty("bench.mode"))) {
            new BackendsBench().catchUp(rate, Integer.getInteger("bench.outage", 600), resultsDir);
            return;
        }
        new BackendsBench().run(n, rate, seconds, resultsDir);
    }

    /**
     * A long outage under load: a remote PostgreSQL backend behind a TCP proxy that goes away for
     * {@code outageSeconds} while a steady {@code rate} of events keeps coming; then the proxy returns and
     * the backlog drains while the load goes on. Reports the backlog at the end of the outage, the
     * catch-up rate (events delivered per second while catching up, the ongoing load included), the time
     * from the backend's return to zero lag, and the healthy replica's lag during the outage.
     */
    void catchUp(int rate, int outageSeconds, Path resultsDir) throws Exception {
        Counter counter = new Counter();
        try (Remote remote = new Remote(); Replica replica = new Replica();
                io.vectorsync.support.TcpProxy proxy = io.vectorsync.support.TcpProxy.toTestPostgres()) {
            Target throughProxy = new Target() {
                public String name() {
                    return "remote";
                }

                public Map<String, String> properties() {
                    Map<String, String> p = new LinkedHashMap<>(remote.properties());
                    p.put("vectorsync.backends.remote.postgres.jdbc-url",
                            "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + remote.db);
                    p.put("vectorsync.backends.remote.connect-timeout", "1s");
                    p.put("vectorsync.backends.remote.read-timeout", "5s");
                    return p;
                }
            };
            try (App app = start(List.of(replica, throughProxy), counter)) {
                JdbcTemplate jdbc = app.ctx().getBean(JdbcTemplate.class);
                DataSource ds = app.ctx().getBean(DataSource.class);
                AtomicLong written = new AtomicLong();
                ScheduledExecutorService writer = steadyWriter(ds, rate, written);
                TimeUnit.SECONDS.sleep(5);
                proxy.stop();
                long outageStart = System.nanoTime();
                say("backend down for %d s under %d events/s", outageSeconds, rate);
                TimeUnit.SECONDS.sleep(outageSeconds);
                long backlog = written.get() - ledger(jdbc, "remote");
                long deliveredBefore = ledger(jdbc, "remote");
                proxy.start();
                long back = System.nanoTime();
                say("backend back; backlog %d events", backlog);
                // Caught up: within one writer tick or two of the head.
                await("the backend to catch up").atMost(Duration.ofSeconds(Math.max(600, outageSeconds * 2L)))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> written.get() - ledger(jdbc, "remote") <= rate / 5);
                long zeroAt = System.nanoTime();
                long deliveredAfter = ledger(jdbc, "remote");
                writer.shutdown();
                writer.awaitTermination(10, TimeUnit.SECONDS);
                double catchUpSeconds = (zeroAt - back) / 1e9;
                double catchUpRate = (deliveredAfter - deliveredBefore) / catchUpSeconds;
                Map<String, Object> lag = jdbc.queryForMap("""
                        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                               percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS mx
                          FROM (SELECT extract(epoch FROM l.applied_at - c.updated_at) * 1000 AS ms
                                  FROM delivery_ledger l JOIN chunks c ON c.chunk_id = l.chunk_key AND c.version = l.version
                                 WHERE l.backend = 'replica' AND c.chunk_id LIKE 'steady-%') x
                        """);
                lines.add("# Catch-up after a backend outage under load");
                lines.add("");
                lines.add("Run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + " with"
                        + " `bench/catch-up.sh " + outageSeconds + " " + rate + "`; " + Runtime.getRuntime().availableProcessors()
                        + " cores; load average " + loadAverage() + ". Backends: replica (primary) and remote"
                        + " PostgreSQL behind a TCP proxy that is stopped for the outage; default backoff (1 s x2, at"
                        + " most 5 min) and batch size 50.");
                lines.add("");
                lines.add("| figure | value |");
                lines.add("| --- | ---: |");
                lines.add(String.format(Locale.ROOT, "| steady load | %d events/s |", rate));
                lines.add(String.format(Locale.ROOT, "| outage | %d s |", outageSeconds));
                lines.add(String.format(Locale.ROOT, "| backlog when the backend returned | %d events |", backlog));
                lines.add(String.format(Locale.ROOT, "| time from return to zero lag | %.1f s |", catchUpSeconds));
                lines.add(String.format(Locale.ROOT, "| catch-up rate (delivered per second while catching up, load included) | %.0f events/s |",
                        catchUpRate));
                lines.add(String.format(Locale.ROOT, "| replica lag during the whole run, p50 / p99 / max | %.0f / %.0f / %.0f ms |",
                        ((Number) lag.get("p50")).doubleValue(), ((Number) lag.get("p99")).doubleValue(),
                        ((Number) lag.get("mx")).doubleValue()));
                say("outage started %.0f s before the return", (back - outageStart) / 1e9);
            }
        }
        Files.createDirectories(resultsDir);
        Path file = resultsDir.resolve("catch-up-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + ".md");
        Files.writeString(file, String.join("\n", lines) + "\n");
        say("%n%s%nwritten to %s", String.join("\n", lines), file);
    }

    /** Writes {@code rate} chunks and lean events per second, one transaction per 100 ms. */
    private static ScheduledExecutorService steadyWriter(DataSource ds, int rate, AtomicLong written) {
        int perTick = Math.max(1, rate / 10);
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-steady-writer");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleAtFixedRate(() -> {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                long from = written.get() + 1;
                try (PreparedStatement chunks = c.prepareStatement(RelayThroughputBench.LOAD_CHUNKS);
                        PreparedStatement events = c.prepareStatement(RelayThroughputBench.LOAD_EVENTS)) {
                    chunks.setString(1, "steady-");
                    chunks.setLong(2, from);
                    chunks.setLong(3, from + perTick - 1);
                    chunks.executeUpdate();
                    events.setString(1, "steady-");
                    events.setString(2, "steady-");
                    events.setLong(3, from);
                    events.setLong(4, from + perTick - 1);
                    events.executeUpdate();
                }
                c.commit();
                written.addAndGet(perTick);
            } catch (Exception e) {
                say("writer: %s", e.getMessage());
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
        return writer;
    }

    void run(int n, int rate, int seconds, Path resultsDir) throws Exception {
        lines.add("# Backends benchmark");
        lines.add("");
        lines.add("Run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + " with `bench/backends.sh "
                + n + "`; load average before: " + loadAverage() + "; " + Runtime.getRuntime().availableProcessors()
                + " cores. N=" + n + " chunks with 384-dimension embeddings, relay batch size 50, every relay un-paused"
                + " at once after the load.");
        lines.add("");
        lines.add("| run | backend | events | seconds | events/s |");
        lines.add("| --- | --- | ---: | ---: | ---: |");
        List<String> alone = List.of(System.getProperty("bench.alone",
                "replica,remote,webhook,neo4j,opensearch,elasticsearch,chroma").split(","));
        List<String> together = List.of(System.getProperty("bench.together", "replica,opensearch,chroma").split(","));
        for (String kind : alone) {
            try (Target t = target(kind.trim())) {
                throughput("alone", n, List.of(t));
            }
        }
        List<Target> three = new ArrayList<>();
        try {
            for (String kind : together) {
                three.add(target(kind.trim()));
            }
            throughput(together.size() + " at once", n, three);
        } finally {
            for (Target t : three) {
                t.close();
            }
        }
        try (Replica a = new Replica(); Remote b = new Remote(); Webhook c = new Webhook()) {
            outage(rate, seconds, a, b, c);
        }
        lines.add("");
        lines.add("Load average after: " + loadAverage() + ".");
        Files.createDirectories(resultsDir);
        Path file = resultsDir.resolve("backends-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + "-n" + n + ".md");
        Files.writeString(file, String.join("\n", lines) + "\n");
        say("%n%s%nwritten to %s", String.join("\n", lines), file);
    }

    interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    static <T> T unchecked(ThrowingSupplier<T> s) {
        try {
            return s.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private record App(ConfigurableApplicationContext ctx, String db, Path routes) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            ctx.close();
            admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            Files.deleteIfExists(routes);
        }
    }

    private App start(List<Target> targets, Counter counter) throws Exception {
        String db = "vsbench_backends_" + ProcessHandle.current().pid();
        admin("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "CREATE DATABASE " + db);
        StringBuilder yaml = new StringBuilder();
        for (Target t : targets) {
            yaml.append("- templatedRoute:\n    routeTemplateRef: relay\n    routeId: relay-").append(t.name())
                    .append("\n    parameters:\n      - name: backend\n        value: ").append(t.name()).append('\n');
        }
        Path routes = Files.createTempFile("vsbench-backends", ".camel.yaml");
        Files.writeString(routes, yaml);
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=" + TestDatabases.url(db),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--spring.datasource.password=",
                "--server.port=0",
                "--server.address=127.0.0.1",
                "--vectorsync.embedding-dimension=384",
                "--camel.main.routes-include-pattern=file:routes/error-handling.camel.yaml,file:routes/relay.camel.yaml,file:"
                        + routes,
                "--logging.level.root=WARN",
                "--logging.level.io.vectorsync=WARN"));
        // The default replica backend is configured in application.yaml: disable it unless measured.
        if (targets.stream().noneMatch(t -> t.name().equals("replica"))) {
            args.add("--vectorsync.backends.replica.enabled=false");
        }
        for (Target t : targets) {
            t.properties().forEach((k, v) -> args.add("--" + k + "=" + v));
        }
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(VectorsyncApplication.class)
                .initializers(c -> c.getBeanFactory().registerSingleton("benchBackendsCounter", counter))
                .bannerMode(org.springframework.boot.Banner.Mode.OFF)
                .logStartupInfo(false)
                .run(args.toArray(String[]::new));
        return new App(ctx, db, routes);
    }

    private void throughput(String run, int n, List<Target> targets) throws Exception {
        Counter counter = new Counter();
        try (App app = start(targets, counter)) {
            JdbcTemplate jdbc = app.ctx().getBean(JdbcTemplate.class);
            DataSource ds = app.ctx().getBean(DataSource.class);
            // Warm-up, untimed.
            counter.expect(2000);
            load(ds, "warm-", 2000);
            app.ctx().getBean(RelayWakeup.class).wakeAll();
            awaitAll(counter, targets, 300);
            PauseControl pauses = app.ctx().getBean(PauseControl.class);
            pauses.pauseAll(); // as an operator pauses: the relay routes are suspended too
            counter.expect(n);
            load(ds, "chunk-", n);
            jdbc.execute("VACUUM ANALYZE chunks");
            jdbc.execute("VACUUM ANALYZE outbox");
            long t0 = System.nanoTime();
            pauses.resumeAll(); // the routes resume at once and the relays are woken
            awaitAll(counter, targets, Math.max(300, n / 20));
            long total = 0;
            long slowest = 0;
            for (Target t : targets) {
                long nanos = counter.doneAt.get(t.name()) - t0;
                slowest = Math.max(slowest, nanos);
                total += n;
                double s = nanos / 1e9;
                row(run, t.name(), n, s);
            }
            if (targets.size() > 1) {
                row(run, "all " + targets.size() + " together", total, slowest / 1e9);
            }
            verify(app, targets, n);
        }
    }

    private void row(String run, String backend, long events, double s) {
        String line = String.format(Locale.ROOT, "| %s | %s | %d | %.2f | %.0f |", run, backend, events, s, events / s);
        say("%s", line);
        lines.add(line);
    }

    /** Every backend's ledger holds every chunk at its version. */
    private static void verify(App app, List<Target> targets, int n) {
        JdbcTemplate jdbc = app.ctx().getBean(JdbcTemplate.class);
        for (Target t : targets) {
            Long held = jdbc.queryForObject("SELECT count(*) FROM delivery_ledger l JOIN chunks c ON c.chunk_id ="
                    + " l.chunk_key AND c.version = l.version WHERE l.backend = ? AND c.chunk_id LIKE 'chunk-%'",
                    Long.class, t.name());
            if (held == null || held != n) {
                throw new IllegalStateException(t.name() + " holds " + held + " of " + n + " chunks");
            }
            if (t instanceof Webhook w && w.versions.keySet().stream().filter(k -> k.startsWith("chunk-")).count() != n) {
                throw new IllegalStateException("the webhook receiver holds fewer than " + n + " chunks");
            }
        }
    }

    private static void awaitAll(Counter counter, List<Target> targets, long limitSeconds) {
        await("every backend to deliver").atMost(Duration.ofSeconds(limitSeconds)).pollInterval(Duration.ofMillis(20))
                .until(() -> targets.stream().allMatch(t -> counter.doneAt.containsKey(t.name())));
    }

    private void outage(int rate, int seconds, Replica replica, Remote remote, Webhook webhook) throws Exception {
        Counter counter = new Counter();
        try (App app = start(List.of(replica, remote, webhook), counter)) {
            JdbcTemplate jdbc = app.ctx().getBean(JdbcTemplate.class);
            DataSource ds = app.ctx().getBean(DataSource.class);
            webhook.down();
            AtomicLong written = new AtomicLong();
            ScheduledExecutorService writer = steadyWriter(ds, rate, written);
            TimeUnit.SECONDS.sleep(seconds);
            writer.shutdown();
            writer.awaitTermination(10, TimeUnit.SECONDS);
            long n = written.get();
            // Let the healthy ones finish the last tick.
            await("the healthy backends to take the last tick").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> ledger(jdbc, "replica") >= n && ledger(jdbc, "remote") >= n);
            lines.add("");
            lines.add("Outage: three backends (replica, remote, webhook), the webhook receiver's server stopped,"
                    + " a steady load of " + rate + " events/s for " + seconds + " s (" + n + " events). Lag = ledger"
                    + " applied_at - chunk updated_at.");
            lines.add("");
            lines.add("| backend | delivered | lag p50 ms | lag p99 ms | lag max ms |");
            lines.add("| --- | ---: | ---: | ---: | ---: |");
            for (String b : List.of("replica", "remote")) {
                Map<String, Object> lag = jdbc.queryForMap("""
                        SELECT count(*) AS n,
                               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                               percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS mx
                          FROM (SELECT extract(epoch FROM l.applied_at - c.updated_at) * 1000 AS ms
                                  FROM delivery_ledger l JOIN chunks c ON c.chunk_id = l.chunk_key AND c.version = l.version
                                 WHERE l.backend = ? AND c.chunk_id LIKE 'steady-%') x
                        """, b);
                String line = String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f |", b, (Long) lag.get("n"),
                        ((Number) lag.get("p50")).doubleValue(), ((Number) lag.get("p99")).doubleValue(),
                        ((Number) lag.get("mx")).doubleValue());
                lines.add(line);
                say("%s", line);
            }
            long webhookHeld = ledger(jdbc, "webhook");
            long t0 = System.nanoTime();
            webhook.up();
            app.ctx().getBean(RelayWakeup.class).wakeAll();
            await("the webhook backlog to drain").atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(20))
                    .until(() -> ledger(jdbc, "webhook") >= n);
            double drain = (System.nanoTime() - t0) / 1e9;
            String line = String.format(Locale.ROOT,
                    "| webhook (down) | %d during the outage | drained %d events in %.2f s after the receiver came back"
                            + " (includes the rest of its backoff: 1 s x2, at most 5 s for this backend) | | |",
                    webhookHeld, n - webhookHeld, drain);
            lines.add(line);
            say("%s", line);
        }
    }

    private static long ledger(JdbcTemplate jdbc, String backend) {
        Long n = jdbc.queryForObject("SELECT count(*) FROM delivery_ledger l JOIN chunks c ON c.chunk_id = l.chunk_key"
                + " AND c.version = l.version WHERE l.backend = ? AND c.chunk_id LIKE 'steady-%'", Long.class, backend);
        return n == null ? 0 : n;
    }
}
