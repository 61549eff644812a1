package io.vectorsync.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * {@code bench/verify.sh [N] [DIM]}: verify of the default {@code replica} backend holding N chunks, in a
 * child JVM capped at {@code -Xmx256m}, twice: with page checksums computed inside PostgreSQL (the
 * default for a table in the primary database) and with every page read back and compared in the JVM
 * ({@code vectorsync.verify.checksum-pages=false}, the path of every other backend). 20 chunks are
 * tampered with beforehand (5 of each kind), so both runs must find exactly those. Reports the time and
 * the peak heap (sampled {@code jvm.memory.used}, area heap, every 100 ms) to
 * {@code bench/results/verify-<time>-n<N>.md}.
 */
public final class VerifyBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 384;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        RelayProcess.useProjectClassPath();
        String db = TestDatabases.create("verify_bench");
        StringBuilder report = new StringBuilder();
        boolean ok = true;
        try {
            report.append("# Verify: ").append(n).append(" chunks of dimension ").append(dim).append("\n\n")
                    .append(DateTimeFormatter.ISO_INSTANT.format(Instant.now())).append(", `bench/verify.sh ")
                    .append(n).append(' ').append(dim).append("`, ").append(Runtime.getRuntime().availableProcessors())
                    .append(" CPUs, load average ").append(Files.readString(Path.of("/proc/loadavg")).trim())
                    .append(", service JVM -Xmx256m SerialGC\n\n");
            boolean loaded = false;
            for (boolean checksums : new boolean[] {true, false}) {
                try (RelayProcess app = RelayProcess.start("verify-bench-" + (checksums ? "checksum" : "stream"), List.of(
                        "--spring.datasource.url=" + TestDatabases.url(db),
                        "--spring.datasource.username=" + TestDatabases.USER,
                        "--spring.datasource.password=",
                        "--vectorsync.embedded.enabled=false",
                        "--vectorsync.embedding-dimension=" + dim,
                        "--vectorsync.embedding.provider=none", // relay only: no model to load or check
                        "--vectorsync.retention.enabled=false",
                        "--vectorsync.verify.checksum-pages=" + checksums))) {
                    app.awaitStarted(Duration.ofSeconds(180));
                    if (!loaded) {
                        long t0 = System.nanoTime();
                        load(db, n, dim);
                        report.append("- load: ").append((System.nanoTime() - t0) / 1_000_000_000).append(" s (SQL, ")
                                .append("primary and replica, then 20 tamperings and VACUUM ANALYZE)\n");
                        loaded = true;
                    }
                    ok &= run(app, checksums, report);
                }
            }
            report.append("\n- result: ").append(ok ? "PASS" : "FAIL").append('\n');
        } finally {
            TestDatabases.drop(db);
        }
        Files.createDirectories(results);
        Path out = results.resolve("verify-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC).format(Instant.now()) + "-n" + n + ".md");
        Files.writeString(out, report);
        System.out.println(report);
        System.out.println("written to " + out);
        System.exit(ok ? 0 : 1);
    }

    private static void load(String db, int n, int dim) throws Exception {
        try (Connection c = TestDatabases.connect(db); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            for (int from = 1; from <= n; from += 50_000) {
                int to = Math.min(n, from + 49_999);
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO chunks (chunk_id, version, document_id, content, embedding, metadata, privacy)
                        SELECT 'c-' || lpad(i::text, 8, '0'), 1, 'doc-' || (i / 20),
                               'text of chunk ' || i || repeat(' lorem ipsum', 15),
                               ARRAY(SELECT (random() * 2 - 1)::real FROM generate_series(1, ?) WHERE i > 0),
                               jsonb_build_object('lang', 'en', 'n', i), CASE WHEN i % 10 = 0 THEN 'REDACTED' ELSE 'FULL' END
                          FROM generate_series(?, ?) i""")) {
                    ps.setInt(1, dim);
                    ps.setInt(2, from);
                    ps.setInt(3, to);
                    ps.execute();
                }
            }
            st.execute("""
                    INSERT INTO replica_chunks (chunk_id, version, document_id, content, embedding, metadata, privacy)
                    SELECT chunk_id, version, document_id, CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END,
                           embedding, metadata, privacy FROM chunks""");
            // 5 of each kind, spread over the range.
            for (int k = 1; k <= 5; k++) {
                int step = Math.max(1, n / 23);
                st.execute("DELETE FROM replica_chunks WHERE chunk_id = 'c-" + String.format("%08d", k * step + 1) + "'");
                st.execute("UPDATE replica_chunks SET version = 0 WHERE chunk_id = 'c-" + String.format("%08d", k * step + 2) + "'");
                st.execute("UPDATE replica_chunks SET content = 'changed' WHERE chunk_id = 'c-"
                        + String.format("%08d", k * step + 3) + "'");
                st.execute("INSERT INTO replica_chunks (chunk_id, version, content, metadata, privacy) VALUES ('c-"
                        + String.format("%08d", k * step + 4) + "-orphan', 1, 'orphan', '{}', 'FULL')");
            }
            st.execute("VACUUM ANALYZE chunks");
            st.execute("VACUUM ANALYZE replica_chunks");
        }
    }

    private static boolean run(RelayProcess app, boolean checksums, StringBuilder report) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<String> started = app.request("POST", "/admin/v1/backends/replica/verify?repair=false", null);
        if (started.statusCode() != 202) {
            throw new IllegalStateException("verify answered " + started.statusCode() + ": " + started.body());
        }
        String id = JSON.readTree(started.body()).path("id").asText();
        double[] peakHolder = {0};
        JsonNode[] last = new JsonNode[1];
        org.awaitility.Awaitility.await("verify job " + id).atMost(Duration.ofHours(1))
                .pollInterval(Duration.ofMillis(100)).until(() -> {
                    peakHolder[0] = Math.max(peakHolder[0], gauge(app, "jvm.memory.used", "area:heap"));
                    last[0] = JSON.readTree(app.request("GET", "/admin/v1/jobs/" + id, null).body());
                    return !last[0].path("status").asText().matches("QUEUED|RUNNING");
                });
        double peak = peakHolder[0];
        JsonNode job = last[0];
        long ms = (System.nanoTime() - t0) / 1_000_000;
        JsonNode r = job.path("result");
        boolean ok = job.path("status").asText().equals("SUCCEEDED") && r.path("missing").asLong() == 5
                && r.path("extra").asLong() == 5 && r.path("stale").asLong() == 5 && r.path("corrupt").asLong() == 5;
        long primary = r.path("primaryCount").asLong();
        report.append("\n## ").append(checksums ? "Page checksums in PostgreSQL (default for the replica)"
                        : "Every page read back and compared in the JVM (checksum-pages=false)").append("\n\n")
                .append("- time: ").append(ms).append(" ms (").append(primary * 1000 / Math.max(1, ms))
                .append(" chunks/s)\n")
                .append("- peak heap used (sampled every 100 ms): ").append(Math.round(peak / 1048576)).append(" MiB of 256\n")
                .append("- result: ").append(r.isMissingNode() ? job.toString() : r.toString()).append('\n')
                .append("- found exactly the 5 missing, 5 extra, 5 stale, 5 corrupt: ").append(ok).append('\n');
        return ok;
    }

    private static double gauge(RelayProcess app, String metric, String tag) throws Exception {
        HttpResponse<String> r = app.request("GET", "/actuator/metrics/" + metric + "?tag=" + tag, null);
        if (r.statusCode() != 200) {
            return 0;
        }
        for (JsonNode m : JSON.readTree(r.body()).path("measurements")) {
            if ("VALUE".equals(m.path("statistic").asText())) {
                return m.path("value").asDouble();
            }
        }
        return 0;
    }
}
