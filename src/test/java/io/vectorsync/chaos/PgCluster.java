package io.vectorsync.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL 15 cluster of the harness's own: {@code initdb} into a temporary folder as the
 * {@code postgres} OS user (trust auth, loopback only, a free port), started and restarted with
 * {@code pg_ctl}, so a restart never disturbs another server on the machine. pgvector comes from the
 * system's PostgreSQL 15 lib dir. {@link #close()} stops it by its postmaster pid and deletes the folder.
 */
final class PgCluster implements AutoCloseable {

    private static final Path BIN = Path.of(System.getProperty("chaos.pg.bin", "/usr/lib/postgresql/15/bin"));

    private final Path dir;
    private final int port;
    private volatile boolean running;

    private PgCluster(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** Creates and starts a cluster; stops and removes it again if starting fails. */
    static PgCluster start() {
        try {
            Path dir = Files.createTempDirectory("vectorsync-chaos-pg-");
            run("chown", "postgres:postgres", dir.toString());
            PgCluster pg = new PgCluster(dir, freePort());
            try {
                pg.asPostgres(BIN.resolve("initdb").toString(), "-D", pg.data().toString(), "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-sync");
                pg.asPostgres(BIN.resolve("pg_ctl").toString(), "-D", pg.data().toString(), "-l",
                        dir.resolve("server.log").toString(), "-w", "-t", "60", "-o",
                        "-p " + pg.port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=100",
                        "start");
                pg.running = true;
                // Stopped by its pid even when the harness is interrupted (Ctrl-C, SIGTERM).
                Runtime.getRuntime().addShutdownHook(new Thread(pg::close, "chaos-pg-stop"));
                return pg;
            } catch (RuntimeException e) {
                pg.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path data() {
        return dir.resolve("data");
    }

    int port() {
        return port;
    }

    String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(url(database), "postgres", "");
    }

    /** Creates a database with the vector extension in it. */
    void createDatabase(String name) throws SQLException {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        try (Connection c = connect(name); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS vector");
        }
    }

    /** {@code pg_ctl restart -m fast|immediate}: every session is cut; returns once it accepts connections. */
    void restart(String mode) {
        asPostgres(BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-l",
                dir.resolve("server.log").toString(), "-w", "-t", "120", "-m", mode, "restart");
    }

    long postmasterPid() {
        try {
            return Long.parseLong(Files.readAllLines(data().resolve("postmaster.pid")).get(0).trim());
        } catch (IOException e) {
            return -1;
        }
    }

    private void asPostgres(String... cmd) {
        List<String> all = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        all.addAll(List.of(cmd));
        run(all.toArray(String[]::new));
    }

    private static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(180, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + new String(out));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /** Stops the server by its own postmaster pid (SIGINT: fast shutdown), then removes the folder. */
    @Override
    public synchronized void close() {
        if (!Files.exists(dir)) {
            return;
        }
        long pid = postmasterPid();
        if (pid > 0) {
            ProcessHandle.of(pid).ifPresent(h -> {
                try {
                    new ProcessBuilder("kill", "-INT", Long.toString(pid)).start().waitFor(10, TimeUnit.SECONDS);
                    h.onExit().get(60, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }
        running = false;
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp folder is harmless
        }
    }

    boolean isRunning() {
        return running;
    }
}
