package io.vectorsync.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * The open-loop load driver of {@code bench/perf.sh}: a separate process from the service it measures.
 * It sends {@code PUT /api/v1/chunks/{id}} (384-dimension embeddings, one in five an update of an
 * earlier chunk) at a fixed rate, timing each request from the moment it was due (so a stalled server
 * can't hide its queue: no coordinated omission), and reads from the database how long each chunk took to
 * become visible in the backend ({@code replica_chunks.synced_at - chunks.updated_at}). It samples the
 * service's CPU time and resident memory from {@code /proc/<pid>} at idle and under each load.
 *
 * <p>Arguments: base URL, service pid, database name, then phases {@code name:rate:seconds}, or
 * {@code name:rate:seconds:floor} for the floor: {@code GET /actuator/health/liveness} at the same rate,
 * which writes nothing and touches no database, so its latency is what the driver, the HTTP stack and the
 * shared cores cost before any of the ingest path.
 */
public final class LoadDriver {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DIMENSION = 384;

    record Sample(double cpuPercent, long maxRssKb) {}

    record Result(String phase, int rate, int seconds, long sent, long ok, long failed, long[] latencyMicros,
            double[] lagMillis, Sample sample) {}

    public static void main(String[] args) throws Exception {
        String base = args[0];
        long pid = Long.parseLong(args[1]);
        String db = args[2];
        List<String> phases = Arrays.asList(args).subList(3, args.length);
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        List<String> lines = new ArrayList<>();
        lines.add("# Ingest latency, end-to-end lag, CPU and memory");
        lines.add("");
        lines.add("Run " + LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + " with `bench/perf.sh`; "
                + Runtime.getRuntime().availableProcessors() + " cores; load average before: "
                + RelayThroughputBench.loadAverage() + ". The service runs as its own process (`java -Xmx512m -jar`,"
                + " the default `replica` backend in the primary); this driver is a second process sending"
                + " `PUT /api/v1/chunks/{id}` with 384-dimension embeddings at a fixed rate (open loop, latency from"
                + " the moment each request was due). Lag = `replica_chunks.synced_at - chunks.updated_at`.");
        lines.add("");
        lines.add("| phase | rate/s | s | sent | ok | failed | p50 ms | p95 ms | p99 ms | max ms | lag p50 ms | lag p99 ms"
                + " | lag max ms | service CPU % | service max RSS MB |");
        lines.add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (String phase : phases) {
            String[] p = phase.split(":");
            boolean floor = p.length > 3 && p[3].equals("floor");
            Result r = p[1].equals("0") ? idle(p[0], Integer.parseInt(p[2]), pid)
                    : load(client, base, pid, db, p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), floor);
            lines.add(row(r));
            System.out.println(row(r));
        }
        lines.add("");
        lines.add("Load average after: " + RelayThroughputBench.loadAverage() + ".");
        Files.createDirectories(results);
        Path file = results.resolve("perf-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + ".md");
        Files.writeString(file, String.join("\n", lines) + "\n");
        System.out.println(String.join("\n", lines));
        System.out.println("written to " + file);
    }

    private static String row(Result r) {
        if (r.latencyMicros() == null) {
            return String.format(Locale.ROOT, "| %s | 0 | %d | | | | | | | | | | | %.1f | %d |", r.phase(), r.seconds(),
                    r.sample().cpuPercent(), r.sample().maxRssKb() / 1024);
        }
        long[] l = r.latencyMicros();
        double[] g = r.lagMillis();
        String lag = g.length == 0 ? " | | " // the floor phase writes nothing: no lag
                : String.format(Locale.ROOT, " %.0f | %.0f | %.0f ", pct(g, 0.50), pct(g, 0.99), g[g.length - 1]);
        return String.format(Locale.ROOT,
                "| %s | %d | %d | %d | %d | %d | %.2f | %.2f | %.2f | %.1f |%s| %.1f | %d |",
                r.phase(), r.rate(), r.seconds(), r.sent(), r.ok(), r.failed(), pct(l, 0.50) / 1000.0,
                pct(l, 0.95) / 1000.0, pct(l, 0.99) / 1000.0, l[l.length - 1] / 1000.0, lag,
                r.sample().cpuPercent(), r.sample().maxRssKb() / 1024);
    }

    private static double pct(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static double pct(double[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** CPU and memory of the service while nothing is sent. */
    private static Result idle(String phase, int seconds, long pid) throws Exception {
        Sampler s = new Sampler(pid);
        s.start();
        TimeUnit.SECONDS.sleep(seconds);
        return new Result(phase, 0, seconds, 0, 0, 0, null, null, s.stop());
    }

    private static Result load(HttpClient client, String base, long pid, String db, String phase, int rate,
            int seconds, boolean floor) throws Exception {
        String[] bodies = new String[16];
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < bodies.length; i++) {
            float[] v = new float[DIMENSION];
            for (int d = 0; d < DIMENSION; d++) {
                v[d] = (float) random.nextDouble(-1, 1);
            }
            var o = JSON.createObjectNode();
            o.put("documentId", "doc-" + i);
            o.put("content", "Benchmark chunk " + i + ". " + "lorem ipsum dolor sit amet ".repeat(6));
            var a = o.putArray("embedding");
            for (float f : v) {
                a.add(f);
            }
            o.putObject("metadata").put("lang", "en").put("source", "perf");
            bodies[i] = JSON.writeValueAsString(o);
        }
        // Warm the connection pool and the service's code paths, untimed.
        for (int i = 0; i < 200; i++) {
            client.send(floor ? floorRequest(base) : request(base, phase + "-warm-" + i, bodies[i % bodies.length]),
                    HttpResponse.BodyHandlers.discarding());
        }
        Sampler s = new Sampler(pid);
        s.start();
        // One request in five updates a chunk written earlier in this phase.
        OpenLoop run = openLoop(client, rate, seconds, i -> floor ? floorRequest(base)
                : request(base, phase + "-" + ((i % 5 == 4 && i > 10) ? random.nextInt(i - 1) : i),
                        bodies[i % bodies.length]));
        Sample sample = s.stop();
        double[] lag = floor ? new double[0] : lag(db, phase + "-%", 60);
        return new Result(phase, rate, seconds, (long) rate * seconds, run.ok(), run.failed(), run.latencyMicros(), lag, sample);
    }

    /**
     * The outcome of {@link #openLoop}: every operation's latency in µs, sorted, how many succeeded (2xx) and
     * failed, and what the first failure was (null when none).
     */
    record OpenLoop(long[] latencyMicros, long ok, long failed, String firstFailure) {}

    /**
     * Sends {@code rate × seconds} requests (the i-th built by {@code request}) at their due times on the
     * monotonic clock, without waiting for answers (open loop), and times each from the moment it was due,
     * so a stalled server cannot hide its queue (no coordinated omission). Also used by {@code JobsBench}.
     */
    static OpenLoop openLoop(HttpClient client, int rate, int seconds, IntFunction<HttpRequest> request)
            throws InterruptedException {
        return openLoop(rate, seconds, i -> client.sendAsync(request.apply(i), HttpResponse.BodyHandlers.discarding())
                .thenApply(resp -> {
                    if (resp.statusCode() / 100 != 2) {
                        throw new IllegalStateException("HTTP " + resp.statusCode());
                    }
                    return true;
                }));
    }

    /**
     * The same pacing for any asynchronous operation: the i-th is started by {@code send} at its due time
     * without waiting for earlier ones, and timed from that due time until its future completes (true: ok;
     * false or an exception: failed). What bounds how many run at once is the caller's executor, as an HTTP
     * server's threads and pool bound the requests in flight. {@code JobsBench} drives its plain INSERTs
     * through the application's pool this way.
     */
    static OpenLoop openLoop(int rate, int seconds, IntFunction<? extends CompletableFuture<Boolean>> send)
            throws InterruptedException {
        int n = rate * seconds;
        AtomicLongArray latency = new AtomicLongArray(n);
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(n);
        long interval = 1_000_000_000L / rate;
        long t0 = System.nanoTime() + 10_000_000L;
        for (int i = 0; i < n; i++) {
            long due = t0 + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            int slot = i;
            CompletableFuture<Boolean> started;
            try {
                started = send.apply(i);
            } catch (RuntimeException e) {
                started = CompletableFuture.failedFuture(e); // counted as failed, not left open
            }
            started.whenComplete((good, err) -> {
                latency.set(slot, (System.nanoTime() - due) / 1000);
                if (err == null && Boolean.TRUE.equals(good)) {
                    ok.incrementAndGet();
                } else {
                    failed.incrementAndGet();
                    Throwable cause = err instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                            ? c.getCause() : err;
                    firstFailure.compareAndSet(null, cause == null ? "false" : cause.toString());
                }
                done.countDown();
            });
        }
        if (!done.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("operations still open 120 s after the last was started");
        }
        long[] l = new long[n];
        for (int i = 0; i < n; i++) {
            l[i] = latency.get(i);
        }
        Arrays.sort(l);
        return new OpenLoop(l, ok.get(), failed.get(), firstFailure.get());
    }

    private static HttpRequest floorRequest(String base) {
        return HttpRequest.newBuilder(URI.create(base + "/actuator/health/liveness")).timeout(Duration.ofSeconds(30))
                .GET().build();
    }

    private static HttpRequest request(String base, String id, String body) {
        return HttpRequest.newBuilder(URI.create(base + "/api/v1/chunks/" + id))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    /** Waits until the backend holds every chunk of the phase at its version, then reads the lags. */
    private static double[] lag(String db, String like, int waitSeconds) throws Exception {
        try (Connection c = DriverManager.getConnection(TestDatabases.url(db), TestDatabases.USER, "");
                Statement st = c.createStatement()) {
            org.awaitility.Awaitility.await("every chunk of the phase in the backend")
                    .atMost(Duration.ofSeconds(waitSeconds)).pollInterval(Duration.ofMillis(100))
                    .until(() -> {
                        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM chunks c LEFT JOIN replica_chunks r"
                                + " ON r.chunk_id = c.chunk_id AND r.version = c.version WHERE c.chunk_id LIKE '" + like
                                + "' AND r.chunk_id IS NULL")) {
                            rs.next();
                            return rs.getLong(1) == 0;
                        }
                    });
            // The update's lag is measured from its own write: updated_at is set by every write.
            ResultSet rs = st.executeQuery("SELECT extract(epoch FROM r.synced_at - c.updated_at) * 1000 FROM chunks c"
                    + " JOIN replica_chunks r ON r.chunk_id = c.chunk_id AND r.version = c.version"
                    + " WHERE c.chunk_id LIKE '" + like + "' ORDER BY 1");
            List<Double> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getDouble(1));
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        }
    }

    /** Samples the service's CPU time and resident set from /proc while a phase runs. */
    static final class Sampler {
        private final long pid;
        private volatile boolean running = true;
        private volatile long maxRss;
        private long cpu0;
        private long t0;
        private Thread thread;

        Sampler(long pid) {
            this.pid = pid;
        }

        void start() throws Exception {
            cpu0 = cpuTicks();
            t0 = System.nanoTime();
            thread = new Thread(() -> {
                while (running) {
                    try {
                        maxRss = Math.max(maxRss, rssKb());
                        TimeUnit.MILLISECONDS.sleep(200);
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        Sample stop() throws Exception {
            long cpu = cpuTicks() - cpu0;
            double wall = (System.nanoTime() - t0) / 1e9;
            running = false;
            thread.join();
            // Clock ticks are 1/100 s on Linux.
            return new Sample(cpu / 100.0 / wall * 100.0, Math.max(maxRss, rssKb()));
        }

        private long cpuTicks() throws Exception {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
        }

        private long rssKb() throws Exception {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            return 0;
        }
    }
}
