package io.vectorsync.support;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The application in a child JVM on the test's classpath, for tests that stop it the hard way
 * ({@code kill -9}, failpoints that halt, {@code kill -STOP}). Binds 127.0.0.1 on a free port, writes its output to a
 * file under {@code target/relay-logs/} and is stopped by its own pid. Children still alive when the
 * test JVM exits are killed.
 */
public final class RelayProcess implements AutoCloseable {

    /** The line the relay logs once its routes run; the child counts as started then. */
    private static final String READY = "Relay routes validated and started";
    /** The line a device ({@code local} profile, no relay routes) logs once its API and sync routes run. */
    private static final String DEVICE_READY = " sync started (";
    private static final Pattern PORT = Pattern.compile("Tomcat started on port (\\d+)");
    private static final Path LOG_DIR = Path.of("target", "relay-logs");
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    private final String name;
    private final Process process;
    private final Path log;
    private final String ready;
    private volatile int port = -1;
    private volatile boolean paused;

    private RelayProcess(String name, Process process, Path log, String ready) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.ready = ready;
    }

    /**
     * Under {@code exec:java} (the benches) the JVM's class path is Maven's; a child JVM needs the
     * project's, which is the one of the class loader exec:java runs the bench in. Call before start.
     */
    public static void useProjectClassPath() {
        if (Thread.currentThread().getContextClassLoader() instanceof java.net.URLClassLoader l) {
            StringBuilder cp = new StringBuilder();
            for (java.net.URL u : l.getURLs()) {
                try {
                    cp.append(cp.isEmpty() ? "" : java.io.File.pathSeparator).append(Path.of(u.toURI()));
                } catch (java.net.URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }
            if (!cp.isEmpty()) {
                System.setProperty("java.class.path", cp.toString());
            }
        }
    }

    /**
     * Starts {@code io.vectorsync.VectorsyncApplication} with these {@code --key=value} arguments (the
     * datasource, backends, instance id, failpoints); returns at once.
     */
    public static RelayProcess start(String name, List<String> args) {
        return start(name, List.of(), args, READY);
    }

    /**
     * The same with JVM options after the small defaults (a later {@code -Xmx} wins): a child that loads the
     * local embedding model in-process needs a larger heap.
     */
    public static RelayProcess start(String name, List<String> jvmOptions, List<String> args) {
        return start(name, jvmOptions, args, READY);
    }

    /**
     * Starts a device: the application with the {@code local} profile and these arguments (its SQLite file,
     * device id, remote); {@link #awaitStarted} waits for the device's start line instead of the relay's.
     */
    public static RelayProcess startDevice(String name, List<String> args) {
        List<String> all = new ArrayList<>(List.of("--spring.profiles.active=local"));
        all.addAll(args);
        return start(name, List.of(), all, DEVICE_READY);
    }

    private static RelayProcess start(String name, List<String> jvmOptions, List<String> args, String ready) {
        try {
            Files.createDirectories(LOG_DIR);
            Path log = LOG_DIR.resolve(name + ".log");
            List<String> cmd = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // Small and quick to start: this JVM is started a dozen times on a shared 2-core machine.
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData"));
            cmd.addAll(jvmOptions);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                    "io.vectorsync.VectorsyncApplication",
                    "--server.address=127.0.0.1", "--server.port=0", "--spring.main.banner-mode=off",
                    "--spring.jmx.enabled=false",
                    // The admin API refuses every call without a configured credential.
                    "--vectorsync.admin.token=" + AbstractIT.ADMIN_TOKEN));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            RUNNING.add(p);
            p.onExit().thenRun(() -> RUNNING.remove(p));
            return new RelayProcess(name, p, log, ready);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start child JVM " + name, e);
        }
    }

    /** Waits until the relay routes (a device: its sync) run, failing early (with the log's tail) if the child exits. */
    public RelayProcess awaitStarted(Duration within) {
        await("child " + name + " to start").atMost(within).pollInterval(Duration.ofMillis(100)).until(() -> {
            String out = output();
            if (!process.isAlive()) {
                throw new AssertionError("child " + name + " exited with " + process.exitValue()
                        + " before it started; log " + log.toAbsolutePath() + ":\n" + tail(out));
            }
            Matcher m = PORT.matcher(out);
            if (m.find()) {
                port = Integer.parseInt(m.group(1));
            }
            return port > 0 && out.contains(ready);
        });
        return this;
    }

    /** Waits for the child to exit on its own (a failpoint halts it) and returns its exit code. */
    public int awaitExit(Duration within) {
        try {
            if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("child " + name + " still runs after " + within + "; log "
                        + log.toAbsolutePath() + ":\n" + tail(output()));
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** {@code kill -9}: SIGKILL to this child's pid, then waits until it is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /** {@code kill -STOP}: freezes the child, as a long GC pause or a stalled VM would, until {@link #resume()}. */
    public void pause() {
        signal("STOP");
        paused = true;
    }

    /** {@code kill -CONT}: lets a paused child run on from where it stood. */
    public void resume() {
        signal("CONT");
        paused = false;
    }

    private void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String name() {
        return name;
    }

    public int port() {
        if (port < 0) {
            throw new IllegalStateException("child " + name + " has not started");
        }
        return port;
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path log() {
        return log;
    }

    /**
     * A counter of this process from {@code /actuator/metrics}, 0 when the meter was never registered
     * (the relay registers its counters on the first batch it delivers).
     */
    public double counter(String metric, String... tags) {
        StringBuilder uri = new StringBuilder("http://127.0.0.1:").append(port()).append("/actuator/metrics/")
                .append(metric);
        for (int i = 0; i < tags.length; i++) {
            uri.append(i == 0 ? '?' : '&').append("tag=").append(tags[i]);
        }
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(uri.toString()))
                .header("Authorization", "Bearer " + AbstractIT.ADMIN_TOKEN).GET());
        if (r.statusCode() == 404) {
            return 0;
        }
        if (r.statusCode() != 200) {
            throw new AssertionError("GET " + uri + " answered " + r.statusCode());
        }
        try {
            for (JsonNode m : JSON.readTree(r.body()).get("measurements")) {
                if ("COUNT".equals(m.get("statistic").asText())) {
                    return m.get("value").asDouble();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no COUNT in " + r.body());
    }

    /** An HTTP request to this child's API, e.g. {@code PUT /api/v1/chunks/x}. */
    public HttpResponse<String> request(String method, String path, String jsonBody) {
        HttpRequest.BodyPublisher body = jsonBody == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(jsonBody);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .header("Content-Type", "application/json")
                .method(method, body);
        if (path.startsWith("/admin/") || (path.startsWith("/actuator/") && !path.startsWith("/actuator/health"))) {
            b.header("Authorization", "Bearer " + AbstractIT.ADMIN_TOKEN);
        }
        return send(b);
    }

    private HttpResponse<String> send(HttpRequest.Builder b) {
        try {
            return HTTP.send(b.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static String tail(String out) {
        String[] lines = out.split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 40), lines.length));
    }

    /** Stops the child if it still runs: SIGTERM, then SIGKILL if it has not exited within 15 s. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        if (paused) {
            resume();
        }
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(15, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
