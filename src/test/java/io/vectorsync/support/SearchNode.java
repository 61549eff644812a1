package io.vectorsync.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A single-node OpenSearch (with the k-NN plugin) or Elasticsearch for one test class, run by
 * {@code scripts/search-node.sh} from the distributions the build copied into {@code target/search-dist}.
 * Binds 127.0.0.1 on free ports, keeps its data and logs under {@code target/search-nodes/<flavor>}, and
 * is stopped by its own pid (and its child processes: Elasticsearch's launcher runs the server as a
 * child) in {@link #close()} or, failing that, when the test JVM exits.
 */
public final class SearchNode implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final String flavor;
    private final Process process;
    private final Path console;
    private final int httpPort;
    private final Duration startup;
    private final Thread shutdownHook;

    private SearchNode(String flavor, Process process, Path console, int httpPort, Duration startup, Thread hook) {
        this.flavor = flavor;
        this.process = process;
        this.console = console;
        this.httpPort = httpPort;
        this.startup = startup;
        this.shutdownHook = hook;
    }

    public static SearchNode openSearch() {
        return start("opensearch");
    }

    public static SearchNode elasticsearch() {
        return start("elasticsearch");
    }

    private static SearchNode start(String flavor) {
        Path nodes = Path.of("target", "search-nodes").toAbsolutePath();
        Path nodeDir = nodes.resolve(flavor);
        Path console = nodes.resolve(flavor + ".log");
        int http = freePort();
        int transport = freePort();
        long t0 = System.nanoTime();
        Process p;
        try {
            Files.createDirectories(nodes);
            ProcessBuilder pb = new ProcessBuilder("bash", Path.of("scripts", "search-node.sh").toString(), flavor,
                    nodeDir.toString(), Integer.toString(http), Integer.toString(transport))
                    .redirectErrorStream(true).redirectOutput(console.toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            copy(pb, "vectorsync.searchDist", "SEARCH_DIST");
            copy(pb, "opensearch.test.version", "OPENSEARCH_VERSION");
            copy(pb, "opensearch-knn.test.version", "OPENSEARCH_KNN_VERSION");
            copy(pb, "elasticsearch.test.version", "ELASTICSEARCH_VERSION");
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Process process = p;
        Thread hook = new Thread(() -> stop(process), "stop-" + flavor);
        Runtime.getRuntime().addShutdownHook(hook);
        URI health = URI.create("http://127.0.0.1:" + http + "/_cluster/health?wait_for_status=yellow&timeout=1s");
        try {
            await(flavor + " on 127.0.0.1:" + http).atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(250))
                    .ignoreExceptionsInstanceOf(IOException.class)
                    .until(() -> {
                        if (!process.isAlive()) {
                            throw new IllegalStateException(flavor + " exited with " + process.exitValue()
                                    + "; its output:\n" + tail(console));
                        }
                        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(3))
                                .build(), HttpResponse.BodyHandlers.discarding());
                        return r.statusCode() == 200;
                    });
        } catch (RuntimeException e) {
            stop(process);
            Runtime.getRuntime().removeShutdownHook(hook);
            throw new IllegalStateException(flavor + " did not start; its output:\n" + tail(console), e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        System.out.printf("SearchNode: %s (pid %d) up on 127.0.0.1:%d in %d ms%n", flavor, process.pid(), http,
                took.toMillis());
        return new SearchNode(flavor, process, console, http, took, hook);
    }

    private static void copy(ProcessBuilder pb, String property, String variable) {
        String v = System.getProperty(property);
        if (v != null && !v.isBlank()) {
            pb.environment().put(variable, v);
        }
    }

    /** {@code http://127.0.0.1:<port>} */
    public String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** From launching the script to a yellow or green cluster. */
    public Duration startup() {
        return startup;
    }

    public String flavor() {
        return flavor;
    }

    @Override
    public void close() {
        stop(process);
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException exiting) {
            // the JVM is already shutting down: the hook runs (harmlessly) too
        }
    }

    /** SIGTERM to the node's pid (the launcher forwards it to the server), then SIGKILL to what is left. */
    private static void stop(Process process) {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        for (ProcessHandle child : children) {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return "SearchNode[" + flavor + " " + url() + ", pid " + process.pid() + "]";
    }
}
