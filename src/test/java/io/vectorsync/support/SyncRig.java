package io.vectorsync.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.VectorsyncApplication;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A server and its devices on one machine, for the sync tests: the server is the whole application (test
 * profile) on its own database of the real PostgreSQL, with its relay delivering to the {@code replica}
 * table; each device is the application with the {@code local} profile on its own SQLite file, reaching the
 * server's database (the remote) through its own {@link TcpProxy} as a role that is only a member of
 * {@code vectorsync_sync}, with an {@link AdjustableClock}. Everything is closed with the rig.
 */
public final class SyncRig implements AutoCloseable {

    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String database;
    private final ConfigurableApplicationContext server;
    private final JdbcTemplate remote;
    private final String role;
    private final List<Device> devices = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(7);

    public SyncRig(String hint) {
        this.database = TestDatabases.create(hint);
        this.server = new SpringApplicationBuilder(VectorsyncApplication.class).profiles("test").properties(
                "spring.datasource.url=" + TestDatabases.url(database),
                "spring.datasource.username=" + TestDatabases.USER,
                "spring.datasource.password=",
                "spring.jmx.unique-names=true").run("--server.port=0");
        this.remote = server.getBean(JdbcTemplate.class);
        this.role = ("vst_dev_" + ProcessHandle.current().pid() + "_" + SEQ.incrementAndGet()).toLowerCase(Locale.ROOT);
        try (Connection c = TestDatabases.connect(database); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + role);
            s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'device' IN ROLE vectorsync_sync");
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot create the device role", e);
        }
    }

    /** The remote (the server's primary) as its owner sees it. */
    public JdbcTemplate remote() {
        return remote;
    }

    public ConfigurableApplicationContext server() {
        return server;
    }

    public String serverUrl() {
        return "http://127.0.0.1:" + server.getEnvironment().getProperty("local.server.port");
    }

    /** Starts a device with its SQLite file in {@code dir}; {@code extra} are more properties (key=value). */
    public Device device(String id, Path dir, AdjustableClock clock, String... extra) {
        TcpProxy proxy = TcpProxy.toTestPostgres();
        Device d = new Device(id, dir, clock, proxy, extra);
        devices.add(d);
        d.start();
        return d;
    }

    /** Stops every device started so far (their files stay). */
    public void closeDevices() {
        for (Device d : devices) {
            d.stop();
            d.proxy.close();
        }
        devices.clear();
    }

    @Override
    public void close() {
        closeDevices();
        server.close();
        TestDatabases.drop(database);
        try (Connection c = TestDatabases.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("DROP ROLE IF EXISTS " + role);
        } catch (java.sql.SQLException ignored) {
            // best effort
        }
    }

    /**
     * The properties (key=value) of device {@code id} with its SQLite file in {@code dir}, reaching the remote
     * at {@code hostPort} as the rig's device role, with the tests' short intervals.
     */
    private List<String> deviceProperties(String id, Path dir, String hostPort) {
        return new ArrayList<>(List.of(
                "vectorsync.local.database=" + dir.resolve(id + ".db"),
                "vectorsync.sync.device-id=" + id,
                "vectorsync.sync.remote.jdbc-url=jdbc:postgresql://" + hostPort + "/" + database,
                "vectorsync.sync.remote.username=" + role,
                "vectorsync.sync.remote.password=device",
                "vectorsync.sync.remote.connect-timeout=1s",
                "vectorsync.sync.upload.poll-interval=200ms",
                "vectorsync.sync.download.poll-interval=200ms",
                "vectorsync.sync.retry.base-delay=100ms",
                "vectorsync.sync.retry.max-delay=1s",
                "vectorsync.sync.conflict.folder=" + dir.resolve(id + "-conflicts"),
                // several applications in one JVM: JMX names of their own
                "spring.jmx.unique-names=true",
                "camel.main.name=vectorsync-" + id));
    }

    /**
     * Device {@code id} in a child JVM ({@link RelayProcess#startDevice}) on the SQLite file in {@code dir}
     * that {@link #device} would open, reaching the remote directly (no proxy); {@code extra} are more
     * properties (key=value). Not started with the rig's adjustable clock: the child has the system's.
     */
    public RelayProcess deviceProcess(String id, Path dir, String... extra) {
        List<String> props = deviceProperties(id, dir, TestDatabases.HOST_PORT);
        props.addAll(List.of(extra));
        return RelayProcess.startDevice(id, List.of(arguments(props)));
    }

    /**
     * Properties as command-line arguments: they outrank application-local.yaml (builder properties would
     * not); one per key, the later ones winning (a key given twice as an argument would be joined with a comma).
     */
    private static String[] arguments(List<String> props) {
        Map<String, String> byKey = new LinkedHashMap<>();
        props.forEach(p -> byKey.put(p.substring(0, p.indexOf('=')), p));
        return byKey.values().stream().map(p -> "--" + p).toArray(String[]::new);
    }

    /** A chunk body as the API takes it, with a random 384-dimension embedding. */
    public Map<String, Object> body(String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documentId", "doc-1");
        m.put("content", content);
        List<Float> e = new ArrayList<>(384);
        for (int i = 0; i < 384; i++) {
            e.add((float) random.nextDouble(-1, 1));
        }
        m.put("embedding", e);
        m.put("metadata", Map.of("lang", "en"));
        return m;
    }

    /** PUT a chunk on the server's API. */
    public JsonNode putOnServer(String chunkId, Map<String, Object> body) {
        return send(serverUrl(), "PUT", "/api/v1/chunks/" + chunkId, body);
    }

    /** DELETE a chunk on the server's API. */
    public void deleteOnServer(String chunkId) {
        send(serverUrl(), "DELETE", "/api/v1/chunks/" + chunkId, null);
    }

    static JsonNode send(String base, String method, String path, Object body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json");
            b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                    : b.method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300 && !(r.statusCode() == 404 && "GET".equals(method))) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            return r.statusCode() == 404 || r.body().isBlank() ? null : JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** One device: the application with the local profile, restartable on the same SQLite file. */
    public final class Device {
        private final String id;
        private final Path dir;
        private final AdjustableClock clock;
        private final TcpProxy proxy;
        private final String[] extra;
        private ConfigurableApplicationContext context;

        Device(String id, Path dir, AdjustableClock clock, TcpProxy proxy, String[] extra) {
            this.id = id;
            this.dir = dir;
            this.clock = clock;
            this.proxy = proxy;
            this.extra = extra;
        }

        public void start() {
            List<String> props = deviceProperties(id, dir, "127.0.0.1:" + proxy.port());
            props.add("vectorsync.admin.token=test-admin-token");
            props.addAll(List.of(extra));
            props.add("server.port=0");
            context = new SpringApplicationBuilder(VectorsyncApplication.class).profiles("local")
                    .initializers(ctx -> ctx.getBeanFactory().registerSingleton("clock", clock))
                    .run(arguments(props));
        }

        public void stop() {
            if (context != null) {
                context.close();
                context = null;
            }
        }

        public void restart() {
            stop();
            start();
        }

        public String id() {
            return id;
        }

        public TcpProxy proxy() {
            return proxy;
        }

        public AdjustableClock clock() {
            return clock;
        }

        public Path conflictFolder() {
            return dir.resolve(id + "-conflicts");
        }

        public <T> T bean(Class<T> type) {
            return context.getBean(type);
        }

        /** The device's SQLite database. */
        public JdbcTemplate local() {
            return context.getBean(JdbcTemplate.class);
        }

        public String url() {
            return "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port");
        }

        public JsonNode put(String chunkId, Map<String, Object> body) {
            return send(url(), "PUT", "/api/v1/chunks/" + chunkId, body);
        }

        public JsonNode batch(List<Map<String, Object>> chunks) {
            return send(url(), "POST", "/api/v1/chunks:batch", Map.of("chunks", chunks));
        }

        /** GET of the chunk on the device; null when it is absent or deleted. */
        public JsonNode get(String chunkId) {
            return send(url(), "GET", "/api/v1/chunks/" + chunkId, null);
        }
    }
}
