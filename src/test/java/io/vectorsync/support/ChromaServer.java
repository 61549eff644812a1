package io.vectorsync.support;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Chroma server on 127.0.0.1 for one test class: {@code scripts/chroma-server.sh} installs the pinned
 * npm {@code chromadb} CLI under {@code target/chroma-server} (once; later calls find it there) and runs
 * it on a free port with its data in a fresh folder under {@code target/chroma-data}. The server is up
 * when {@code GET /api/v2/heartbeat} answers; {@link #close()} stops it by its own pid, and a JVM
 * shutdown hook stops any left running. Its output goes to {@code target/chroma-logs/<port>.log}.
 */
public final class ChromaServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ChromaServer.class);
    private static final Path SCRIPT = Path.of("scripts", "chroma-server.sh").toAbsolutePath();
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(Process::destroyForcibly)));
    }

    private final Process process;
    private final int port;
    private final Path dataDir;

    private ChromaServer(Process process, int port, Path dataDir) {
        this.process = process;
        this.port = port;
        this.dataDir = dataDir;
    }

    /** Installs Chroma if needed, starts it and waits until its heartbeat answers. */
    public static ChromaServer start() {
        try {
            long t0 = System.nanoTime();
            install();
            long t1 = System.nanoTime();
            int port = freePort();
            Path data = Path.of("target", "chroma-data", UUID.randomUUID().toString()).toAbsolutePath();
            Path logs = Files.createDirectories(Path.of("target", "chroma-logs"));
            File logFile = logs.resolve(port + ".log").toFile();
            Process p = new ProcessBuilder("bash", SCRIPT.toString(), "run", Integer.toString(port), data.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile))
                    .start();
            RUNNING.add(p);
            ChromaServer server = new ChromaServer(p, port, data);
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            HttpRequest heartbeat = HttpRequest.newBuilder(URI.create(server.url() + "/api/v2/heartbeat"))
                    .timeout(Duration.ofSeconds(2)).build();
            try {
                await("Chroma heartbeat on port " + port).atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(50)).ignoreExceptionsInstanceOf(IOException.class)
                        .until(() -> {
                            if (!p.isAlive()) {
                                throw new IllegalStateException("chroma exited with " + p.exitValue() + ", see " + logFile);
                            }
                            return http.send(heartbeat, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                        });
            } catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
            long t2 = System.nanoTime();
            log.info("Chroma on 127.0.0.1:{} (pid {}): install check {} ms, start-up {} ms", port, p.pid(),
                    TimeUnit.NANOSECONDS.toMillis(t1 - t0), TimeUnit.NANOSECONDS.toMillis(t2 - t1));
            return server;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start Chroma", e);
        }
    }

    private static void install() throws IOException {
        Path logs = Files.createDirectories(Path.of("target", "chroma-logs"));
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), "install")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("install.log").toFile()))
                .start();
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("installing Chroma took over 10 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted while installing Chroma", e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("installing Chroma failed (" + p.exitValue()
                    + "), see target/chroma-logs/install.log");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    /** The server's data folder. */
    public Path dataDir() {
        return dataDir;
    }

    /** Stops the server by its pid (SIGTERM, then SIGKILL after 10 s) and waits until it is gone. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        RUNNING.remove(process);
    }
}
