package io.vectorsync.bench;

import io.vectorsync.support.BadInputGenerator;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bad-input run outside the tests ({@code bench/bad-input.sh [N] [THREADS]}): the application as a
 * child JVM on a fresh database, the {@link BadInputGenerator} in this JVM sending N requests over real
 * HTTP, then the checks of {@code BadInputIT} (no rule broken, the child still up, the primary and the
 * replica hold exactly the valid writes). Prints the table of request classes by status and writes it to
 * {@code bench/results/bad-input-<timestamp>.md}. Exits 1 if any check fails.
 */
public final class BadInputBench {

    private static final String TOKEN = "bench-admin-token";
    private static final long MAX_BODY = 1_048_576;

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Path results = Path.of(System.getProperty("bench.results", "bench/results"));
        RelayProcess.useProjectClassPath();
        String db = TestDatabases.create("bad_input_bench");
        boolean ok;
        StringBuilder report = new StringBuilder();
        try (RelayProcess app = RelayProcess.start("bad-input-bench", List.of(
                "--spring.datasource.url=" + TestDatabases.url(db),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--spring.datasource.password=",
                "--vectorsync.embedded.enabled=false",
                "--vectorsync.admin.token=" + TOKEN,
                "--vectorsync.api.max-body-bytes=" + MAX_BODY))) {
            app.awaitStarted(Duration.ofSeconds(120));
            BadInputGenerator.Result r = new BadInputGenerator("127.0.0.1", app.port(), TOKEN, 384, MAX_BODY,
                    "replica").run(n, threads, System.nanoTime());
            boolean alive = app.isAlive()
                    && app.request("GET", "/actuator/health/liveness", null).statusCode() == 200;

            Map<String, BadInputGenerator.Expected> actual = new HashMap<>();
            Set<String> replica = new HashSet<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            Set<String> expectedLive = new HashSet<>();
            r.rows().forEach((id, e) -> {
                if (!e.deleted()) {
                    expectedLive.add(id);
                }
            });
            try (Connection c = TestDatabases.connect(db); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT chunk_id, content, version, deleted FROM chunks")) {
                    while (rs.next()) {
                        actual.put(rs.getString(1), new BadInputGenerator.Expected(rs.getString(2), rs.getLong(3),
                                rs.getBoolean(4)));
                    }
                }
                // The relay catches up with the last valid writes (the check below reports it if it does not).
                try {
                    org.awaitility.Awaitility.await("the replica to hold the valid writes")
                            .atMost(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
                            .pollInterval(java.time.Duration.ofMillis(200))
                            .until(() -> {
                                replica.clear();
                                try (ResultSet rs = st.executeQuery("SELECT chunk_id FROM replica_chunks")) {
                                    while (rs.next()) {
                                        replica.add(rs.getString(1));
                                    }
                                }
                                return replica.equals(expectedLive);
                            });
                } catch (org.awaitility.core.ConditionTimeoutException notInStep) {
                    // replicaExact below is false and the report says so
                }
            }
            long sqlIds = expectedLive.stream().filter(id -> id.contains("DROP TABLE")).count();
            boolean primaryExact = actual.equals(r.rows());
            boolean replicaExact = replica.equals(expectedLive);
            ok = r.violations().isEmpty() && alive && primaryExact && replicaExact;

            report.append("# Bad input: ").append(n).append(" requests, ").append(threads).append(" connections\n\n")
                    .append(DateTimeFormatter.ISO_INSTANT.format(Instant.now())).append(", `bench/bad-input.sh ")
                    .append(n).append(' ').append(threads).append("`, vectorsync.api.max-body-bytes=").append(MAX_BODY)
                    .append(", ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs\n\n")
                    .append(r.markdown()).append('\n')
                    .append("- elapsed: ").append(r.elapsedMillis()).append(" ms (")
                    .append(n * 1000L / Math.max(1, r.elapsedMillis())).append(" requests/s)\n")
                    .append("- rule violations (hostile not 4xx+VSYNC-, or valid not 2xx): ").append(r.violations().size())
                    .append('\n')
                    .append("- service alive afterwards (liveness 200): ").append(alive).append('\n')
                    .append("- primary holds exactly the valid writes: ").append(primaryExact).append(" (")
                    .append(actual.size()).append(" rows, ").append(r.rows().size()).append(" expected)\n")
                    .append("- replica holds exactly the live valid chunks: ").append(replicaExact).append(" (")
                    .append(replica.size()).append(" rows, ").append(expectedLive.size()).append(" expected, ")
                    .append(sqlIds).append(" with SQL-looking 'DROP TABLE' ids)\n")
                    .append("- result: ").append(ok ? "PASS" : "FAIL").append('\n');
            r.violations().stream().limit(20).forEach(v -> report.append("  - ").append(v).append('\n'));
        } finally {
            TestDatabases.drop(db);
        }
        Files.createDirectories(results);
        Path out = results.resolve("bad-input-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC).format(Instant.now()) + ".md");
        Files.writeString(out, report);
        System.out.println(report);
        System.out.println("written to " + out);
        System.exit(ok ? 0 : 1);
    }
}
