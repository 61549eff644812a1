package io.vectorsync.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.VectorsyncApplication;
import io.vectorsync.api.AdminController;
import io.vectorsync.api.AdminOperationsController;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.capture.ChunkStore;
import io.vectorsync.capture.CommitListener;
import io.vectorsync.capture.OutboxWriter;
import io.vectorsync.capture.PostgresChunkStore;
import io.vectorsync.deadletter.FailureStore;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.jobs.JobService;
import io.vectorsync.ledger.DeliveryLedger;
import io.vectorsync.metrics.AlertEvaluator;
import io.vectorsync.metrics.RelayHealth;
import io.vectorsync.relay.CaptureWakeup;
import io.vectorsync.relay.Failpoints;
import io.vectorsync.relay.RelayDeliveryStatus;
import io.vectorsync.relay.RelayPoller;
import io.vectorsync.relay.RelayWakeup;
import io.vectorsync.retention.RetentionService;
import io.vectorsync.verify.VerifyService;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteConnection;

/**
 * A device (the {@code local} profile) on a SQLite file in a temporary folder, no PostgreSQL: the capture
 * API through HTTP, and what each write leaves in the file (read with plain JDBC): the chunk row and
 * exactly one outbox entry, privacy applied, versions as ADR 023 defines them; then a restart on the same
 * file. Started with {@link SpringApplicationBuilder} (not the PostgreSQL test base), so nothing gives it
 * a PostgreSQL database.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeviceStoreIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Path file;
    private ConfigurableApplicationContext app;
    private String base;
    private final AtomicInteger localWrites = new AtomicInteger();

    @BeforeAll
    void start(@TempDir Path dir) {
        file = dir.resolve("nested/folder/local.db"); // the folder is created at start-up
        app = device();
    }

    @AfterAll
    void stop() {
        if (app != null) {
            app.close();
        }
    }

    private ConfigurableApplicationContext device() {
        return device(null);
    }

    /** A device; with {@code clock}, that is the physical clock its hybrid clock reads (a test's Clock bean). */
    private ConfigurableApplicationContext device(Clock clock) {
        SpringApplicationBuilder builder = new SpringApplicationBuilder(VectorsyncApplication.class).profiles("local");
        if (clock != null) {
            builder.initializers(c -> c.getBeanFactory().registerSingleton("testClock", clock));
        }
        ConfigurableApplicationContext ctx = builder
                .listeners((ApplicationListener<LocalWriteCommitted>) e -> localWrites.incrementAndGet())
                .run("--server.port=0", "--vectorsync.local.database=" + file, "--vectorsync.embedding-dimension=3",
                        "--spring.jmx.enabled=false", "--camel.main.jmx-enabled=false");
        base = "http://127.0.0.1:" + ctx.getEnvironment().getProperty("local.server.port");
        return ctx;
    }

    // --- HTTP -----------------------------------------------------------------------------------------

    private record Answer(int status, String etag, JsonNode body, String text) {}

    private static Answer send(HttpRequest.Builder request) throws Exception {
        HttpResponse<String> r = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = r.body().isEmpty() ? JSON.missingNode() : JSON.readTree(r.body());
        return new Answer(r.statusCode(), r.headers().firstValue("ETag").orElse(null), body, r.body());
    }

    /** A PUT as the ingest fast path takes it (plain JSON), or through Spring MVC ({@code viaMvc}). */
    private Answer put(String id, String body, String ifMatch, boolean viaMvc) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/chunks/" + id))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body));
        if (viaMvc) {
            b.header("Accept", "application/json;q=0.9"); // a parameter: left to Spring MVC by ChunkPutFilter
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return send(b);
    }

    private Answer put(String id, String body) throws Exception {
        return put(id, body, null, false);
    }

    private Answer get(String id) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + "/api/v1/chunks/" + id)).GET());
    }

    private Answer delete(String id, String ifMatch) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/v1/chunks/" + id)).DELETE();
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return send(b);
    }

    private Answer batch(String body) throws Exception {
        return send(HttpRequest.newBuilder(URI.create(base + "/api/v1/chunks:batch"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static String chunk(String content, String privacy) {
        return "{\"documentId\":\"doc\",\"content\":\"" + content + "\",\"embedding\":[0.5,-1.25,3.0],"
                + "\"metadata\":{\"n\":1.50},\"privacy\":\"" + privacy + "\"}";
    }

    // --- the file, read with plain JDBC ---------------------------------------------------------------

    private Connection sqlite() throws SQLException {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA busy_timeout = 10000");
        }
        return c;
    }

    private List<Map<String, Object>> rows(String sql, Object... args) throws SQLException {
        try (Connection c = sqlite(); var ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<Map<String, Object>> out = new ArrayList<>();
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        Object v = rs.getObject(i);
                        row.put(rs.getMetaData().getColumnLabel(i), v instanceof byte[] b ? HexFormat.of().formatHex(b) : v);
                    }
                    out.add(row);
                }
                return out;
            }
        }
    }

    private void update(String sql, Object... args) throws SQLException {
        try (Connection c = sqlite(); var ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private List<Map<String, Object>> entries(String chunkId) throws SQLException {
        return rows("SELECT * FROM outbox WHERE chunk_id = ? ORDER BY id", chunkId);
    }

    private long count(String table) throws SQLException {
        return ((Number) rows("SELECT count(*) AS n FROM " + table).get(0).get("n")).longValue();
    }

    private Map<String, Object> chunkRow(String chunkId) throws SQLException {
        return rows("SELECT * FROM chunks WHERE chunk_id = ?", chunkId).get(0);
    }

    private static JsonNode payload(Map<String, Object> entry) throws Exception {
        String text = (String) entry.get("payload");
        assertThat(((Number) entry.get("payload_bytes")).intValue())
                .isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
        return JSON.readTree(text);
    }

    // --- tests ----------------------------------------------------------------------------------------

    @Test
    @Order(1)
    void putGetAndDeleteEachLeaveOneEntryInTheSameTransactionAsTheChunk() throws Exception {
        int told = localWrites.get();
        Answer created = put("a", chunk("first", "FULL"));
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.etag()).isEqualTo("\"1\"");
        Answer updated = put("a", chunk("second", "FULL"), null, true);
        assertThat(updated.status()).as(updated.body().toString()).isEqualTo(200);
        assertThat(updated.body().get("version").asLong()).isEqualTo(2);

        Answer read = get("a");
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.etag()).isEqualTo("\"2\"");
        assertThat(read.body().get("content").asText()).isEqualTo("second");
        assertThat(read.text()).contains("\"metadata\":{\"n\":1.50}"); // numbers exactly as sent
        assertThat(read.body().get("embedding")).hasSize(3);
        assertThat(read.body().get("syncStatus").isTextual()).as("one string on a device").isTrue();
        assertThat(read.body().get("syncStatus").asText()).isEqualTo("PENDING");

        Answer deleted = delete("a", null);
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.body().get("version").asLong()).isEqualTo(3);
        assertThat(get("a").status()).isEqualTo(404);
        assertThat(delete("a", null).status()).isEqualTo(404);
        assertThat(localWrites.get() - told).as("LocalWriteCommitted per committed write").isEqualTo(3);

        List<Map<String, Object>> entries = entries("a");
        assertThat(entries).extracting(e -> e.get("op")).containsExactly("UPSERT", "UPSERT", "DELETE");
        assertThat(entries).extracting(e -> ((Number) e.get("revision")).intValue()).containsExactly(1, 2, 3);
        assertThat(entries).extracting(e -> ((Number) e.get("base_version")).intValue()).containsExactly(0, 0, 0);
        assertThat(entries).allSatisfy(e -> {
            assertThat((String) e.get("idempotency_key")).matches("[0-9A-HJKMNP-TV-Z]{26}"); // a ULID
            assertThat(e.get("status")).isEqualTo("PENDING");
            assertThat(((Number) e.get("retry_count")).intValue()).isZero();
        });
        assertThat(entries).extracting(e -> (String) e.get("idempotency_key")).isSorted().doesNotHaveDuplicates();
        JsonNode first = payload(entries.get(0));
        assertThat(first.get("op").asText()).isEqualTo("UPSERT");
        assertThat(first.get("chunkId").asText()).isEqualTo("a");
        assertThat(first.get("content").asText()).isEqualTo("first");
        assertThat(first.get("privacy").asText()).isEqualTo("FULL");
        assertThat((String) entries.get(0).get("payload")).contains("\"metadata\":{\"n\":1.50}");
        assertThat(first.get("embedding").asText()).as("PostgreSQL's array literal, as the remote casts it")
                .isEqualTo("{5e-1,-125e-2,3}");
        assertThat(Embeddings.fromLiteral(first.get("embedding").asText())[1]).isEqualTo(-1.25f);
        assertThat(first.has("key") || first.has("baseVersion") || first.has("uploadId")).isFalse();
        JsonNode gone = payload(entries.get(2));
        assertThat(gone.get("op").asText()).isEqualTo("DELETE");
        assertThat(gone.has("content") || gone.has("embedding") || gone.has("reason")).isFalse();
        List<String> times = entries.stream().map(e -> {
            try {
                return payload(e).get("modifiedAt").asText();
            } catch (Exception x) {
                throw new IllegalStateException(x);
            }
        }).toList();
        assertThat(times).isSorted().doesNotHaveDuplicates()
                .allSatisfy(t -> assertThat(t).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z"));

        Map<String, Object> row = chunkRow("a");
        assertThat(row.get("deleted")).isEqualTo(1);
        assertThat(row.get("content")).isNull();
        assertThat(((Number) row.get("revision")).intValue()).isEqualTo(3);
        assertThat(row.get("modified_by")).isEqualTo(app.getBean(DeviceIdentity.class).deviceId());
        assertThat(row.get("modified_at")).isEqualTo(times.get(2));

        // A tombstone continues its sequence when the chunk is written again.
        assertThat(put("a", chunk("again", "FULL")).body().get("version").asLong()).isEqualTo(4);
        assertThat(entries("a")).hasSize(4);
    }

    @Test
    @Order(2)
    void aBatchCommitsAllItsChunksAndEntriesOrNone() throws Exception {
        long before = count("outbox");
        Answer ok = batch("{\"chunks\":[{\"chunkId\":\"b1\",\"embedding\":[1,2,3]},"
                + "{\"chunkId\":\"b2\",\"embedding\":[1,2,3],\"content\":\"two\"}]}");
        assertThat(ok.status()).as(ok.body().toString()).isEqualTo(200);
        assertThat(ok.body().get("results")).extracting(r -> r.get("version").asLong()).containsExactly(1L, 1L);
        assertThat(count("outbox")).isEqualTo(before + 2);

        Answer refused = batch("{\"chunks\":[{\"chunkId\":\"b3\",\"embedding\":[1,2,3]},"
                + "{\"chunkId\":\"b1\",\"embedding\":[1,2,3],\"version\":7}]}");
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.body().get("code").asText()).isEqualTo("VSYNC-VERSION-CONFLICT");
        assertThat(rows("SELECT * FROM chunks WHERE chunk_id = 'b3'")).as("rolled back").isEmpty();
        assertThat(count("outbox")).isEqualTo(before + 2);
        assertThat(entries("b3")).isEmpty();
    }

    @Test
    @Order(3)
    void ifMatchIsACompareAndSetOnTheVersionTheDeviceShows() throws Exception {
        put("c", chunk("one", "FULL"));
        assertThat(put("c", chunk("two", "FULL"), "\"1\"", false).status()).isEqualTo(200);
        Answer stale = put("c", chunk("three", "FULL"), "\"1\"", false);
        assertThat(stale.status()).isEqualTo(412);
        assertThat(stale.body().get("code").asText()).isEqualTo("VSYNC-VERSION-CONFLICT");
        assertThat(put("c", chunk("three", "FULL"), "\"1\"", true).status()).as("the same via Spring MVC")
                .isEqualTo(412);
        assertThat(delete("c", "\"1\"").status()).isEqualTo(412);
        assertThat(put("c", "{\"embedding\":[1,2,3],\"version\":0}").status()).as("0: must not exist")
                .isEqualTo(409);
        assertThat(get("c").body().get("content").asText()).isEqualTo("two");
        assertThat(entries("c")).as("a refused write leaves no entry").hasSize(2);
        assertThat(delete("c", "\"2\"").status()).isEqualTo(200);
        assertThat(entries("c")).hasSize(3);
    }

    @Test
    @Order(4)
    void aLocalOnlyChunkNeverEntersTheOutbox() throws Exception {
        assertThat(put("l", chunk("private", "LOCAL_ONLY")).status()).isEqualTo(201);
        assertThat(put("l", chunk("still private", "LOCAL_ONLY")).status()).isEqualTo(200);
        Answer read = get("l");
        assertThat(read.body().get("syncStatus").asText()).isEqualTo("LOCAL");
        assertThat(read.body().get("content").asText()).isEqualTo("still private");
        assertThat(read.body().get("version").asLong()).isEqualTo(2);
        assertThat(chunkRow("l").get("sync_status")).isEqualTo("LOCAL");
        assertThat(delete("l", null).status()).isEqualTo(200);
        assertThat(entries("l")).isEmpty();

        // FULL written, then downgraded before any upload: the pending UPSERT would reach the remote, so the
        // downgrade sends the local-only DELETE after it.
        put("p", chunk("soon private", "FULL"));
        put("p", chunk("private now", "LOCAL_ONLY"));
        assertThat(entries("p")).extracting(e -> e.get("op")).containsExactly("UPSERT", "DELETE");
        assertThat(payload(entries("p").get(1)).get("reason").asText()).isEqualTo("local-only");
    }

    @Test
    @Order(5)
    void aDowngradeOfASyncedChunkEnqueuesAContentFreeLocalOnlyDelete() throws Exception {
        put("d", chunk("on the remote too", "FULL"));
        // As the upload leaves it: the remote holds version 4 of it, nothing pending.
        update("UPDATE chunks SET remote_version = 4, revision = 0, sync_status = 'SYNCED' WHERE chunk_id = 'd'");
        update("UPDATE outbox SET status = 'SYNCED', assigned_version = 4 WHERE chunk_id = 'd'");
        assertThat(get("d").body().get("version").asLong()).isEqualTo(4);
        assertThat(get("d").body().get("syncStatus").asText()).isEqualTo("SYNCED");

        Answer down = put("d", chunk("secret now", "LOCAL_ONLY"), "\"4\"", false);
        assertThat(down.status()).isEqualTo(200);
        assertThat(down.etag()).isEqualTo("\"5\"");
        List<Map<String, Object>> entries = entries("d");
        assertThat(entries).hasSize(2);
        Map<String, Object> delete = entries.get(1);
        assertThat(delete.get("op")).isEqualTo("DELETE");
        assertThat(delete.get("status")).isEqualTo("PENDING");
        assertThat(((Number) delete.get("base_version")).intValue()).isEqualTo(4);
        JsonNode p = payload(delete);
        assertThat(p.get("reason").asText()).isEqualTo("local-only");
        assertThat(p.get("privacy").asText()).as("the level the remote had").isEqualTo("FULL");
        assertThat(p.has("content") || p.has("embedding") || p.has("metadata") || p.has("documentId")).isFalse();
        assertThat((String) delete.get("payload")).doesNotContain("secret");
        assertThat(chunkRow("d").get("sync_status")).isEqualTo("LOCAL");
        assertThat(get("d").body().get("content").asText()).as("the device keeps it").isEqualTo("secret now");

        put("d", chunk("more secret", "LOCAL_ONLY"));
        assertThat(entries("d")).as("already LOCAL_ONLY: nothing more").hasSize(2);
    }

    @Test
    @Order(6)
    void aRedactedChunkEntersTheOutboxWithoutContent() throws Exception {
        put("r", chunk("confidential", "REDACTED"));
        List<Map<String, Object>> entries = entries("r");
        assertThat(entries).hasSize(1);
        JsonNode p = payload(entries.get(0));
        assertThat(p.get("privacy").asText()).isEqualTo("REDACTED");
        assertThat(p.has("content")).isTrue();
        assertThat(p.get("content").isNull()).isTrue();
        assertThat(Embeddings.fromLiteral(p.get("embedding").asText())).hasSize(3);
        assertThat((String) entries.get(0).get("payload")).doesNotContain("confidential");
        assertThat(get("r").body().get("content").asText()).isEqualTo("confidential");
    }

    @Test
    @Order(7)
    void theDeviceRunsNoServerBeanAndItsDatabaseHasTheDevicePragmas() throws Exception {
        for (Class<?> server : List.of(RelayPoller.class, RelayWakeup.class, RelayDeliveryStatus.class,
                CaptureWakeup.class, BackendRegistry.class, PostgresChunkStore.class, OutboxWriter.class,
                RetentionService.class, JobService.class, VerifyService.class, FailureStore.class, DeliveryLedger.class,
                AdminController.class, AdminOperationsController.class, RelayHealth.class,
                AlertEvaluator.class)) {
            assertThat(app.getBeanNamesForType(server)).as(server.getSimpleName()).isEmpty();
        }
        // And generally: no bean of a server package, so a server bean added later without @ServerOnly shows.
        List<String> serverBeans = new ArrayList<>();
        for (String name : app.getBeanDefinitionNames()) {
            Class<?> type = app.getType(name);
            String pkg = type == null ? "" : type.getPackageName();
            if (type != null && type.isAnnotationPresent(ConfigurationProperties.class)) {
                continue; // settings only (validated on every profile)
            }
            if (type == Failpoints.class) {
                continue; // the tests' crash points, in both profiles (a device's: sync-after-remote-commit)
            }
            if (pkg.matches("io\\.vectorsync\\.(relay|backend|verify|jobs|retention|deadletter|ledger)(\\..*)?")) {
                serverBeans.add(name + ": " + type.getName());
            }
        }
        assertThat(serverBeans).isEmpty();
        assertThat(app.getBean(ChunkStore.class)).isInstanceOf(SqliteChunkStore.class);
        assertThat(app.getBeansOfType(CommitListener.class)).hasSize(1);
        assertThat(app.getBean(CamelContext.class).getRoutes()).as("no relay, jobs or housekeeping routes")
                .allSatisfy(r -> assertThat(r.getRouteId()).startsWith("sync-"));
        assertThat(app.getEnvironment().getProperty("spring.datasource.url")).startsWith("jdbc:sqlite:");

        try (Connection c = app.getBean(DataSource.class).getConnection(); Statement s = c.createStatement()) {
            assertThat(pragma(s, "journal_mode")).isEqualTo("wal");
            assertThat(pragma(s, "synchronous")).as("vectorsync.local.synchronous by default").isEqualTo("1"); // NORMAL
            assertThat(pragma(s, "foreign_keys")).isEqualTo("1");
            assertThat(Integer.parseInt(pragma(s, "busy_timeout"))).isPositive();
            assertThat(c.unwrap(SQLiteConnection.class).getConnectionConfig().getTransactionMode())
                    .isEqualTo(SQLiteConfig.TransactionMode.IMMEDIATE);
        }
        assertThat(Files.exists(file)).isTrue();

        Answer doc = send(HttpRequest.newBuilder(URI.create(base + "/v3/api-docs")).GET());
        JsonNode shapes = doc.body().at("/components/schemas/ChunkView/properties/syncStatus/oneOf");
        assertThat(shapes).hasSize(2);
        assertThat(shapes.toString()).as(shapes.toString()).contains("\"object\"", "\"string\"", "\"LOCAL\"");
    }

    private static String pragma(Statement s, String name) throws SQLException {
        try (ResultSet rs = s.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    @Order(8)
    void aRestartOnTheSameFileKeepsEverythingAndNeverReusesAnId() throws Exception {
        String deviceId = app.getBean(DeviceIdentity.class).deviceId();
        assertThat(deviceId).matches("device-[0-9a-z]{26}");
        List<Map<String, Object>> chunksBefore = rows("SELECT * FROM chunks ORDER BY chunk_id");
        List<Map<String, Object>> outboxBefore = rows("SELECT * FROM outbox ORDER BY id");
        String lastTime = (String) rows("SELECT max(modified_at) AS t FROM chunks").get(0).get("t");
        long maxId = ((Number) outboxBefore.get(outboxBefore.size() - 1).get("id")).longValue();
        // Retention (or an operator) removed the newest entries: their ids stay used.
        update("DELETE FROM outbox WHERE id >= ?", maxId - 1);

        app.close();
        Instant later = Instant.parse("2040-01-01T00:00:00Z");
        app = device(Clock.fixed(later, ZoneOffset.UTC));

        assertThat(app.getBean(DeviceIdentity.class).deviceId()).isEqualTo(deviceId);
        assertThat(rows("SELECT * FROM chunks ORDER BY chunk_id")).isEqualTo(chunksBefore);
        assertThat(get("b2").body().get("content").asText()).isEqualTo("two");
        assertThat(get("l").status()).isEqualTo(404);
        assertThat(get("d").body().get("syncStatus").asText()).isEqualTo("LOCAL");

        put("after-restart", chunk("new", "FULL"));
        Map<String, Object> entry = entries("after-restart").get(0);
        assertThat(((Number) entry.get("id")).longValue()).as("AUTOINCREMENT: never reused").isGreaterThan(maxId);
        assertThat(payload(entry).get("modifiedAt").asText()).as("the clock continues, on the test's Clock bean")
                .isGreaterThan(lastTime).isEqualTo("2040-01-01T00:00:00.000000Z");
    }

    @Test
    @Order(9)
    void anUploadOutcomeReplacesTheRevisionsAndADownloadIsAppliedAtTheRemoteVersionWithoutAnEntry() throws Exception {
        DeviceStore store = app.getBean(DeviceStore.class);
        put("u", chunk("u1", "FULL"));
        put("u", chunk("u2", "FULL"));
        List<Map<String, Object>> entries = entries("u");
        long first = ((Number) entries.get(0).get("id")).longValue();
        long second = ((Number) entries.get(1).get("id")).longValue();

        assertThat(store.uploaded(first, 1, "SYNCED")).isEqualTo("u");
        Map<String, Object> row = chunkRow("u");
        assertThat(row).containsEntry("remote_version", 1).containsEntry("revision", 1)
                .containsEntry("sync_status", "PENDING");
        assertThat(entries("u").get(1)).containsEntry("base_version", 1).containsEntry("revision", 1);
        assertThat(get("u").body().get("version").asLong()).as("the shown version stays").isEqualTo(2);
        store.uploaded(second, 2, "SYNCED");
        assertThat(chunkRow("u")).containsEntry("remote_version", 2).containsEntry("revision", 0)
                .containsEntry("sync_status", "SYNCED");
        assertThat(entries("u")).extracting(e -> e.get("status")).containsExactly("SYNCED", "SYNCED");
        assertThat(entries("u")).extracting(e -> e.get("assigned_version")).containsExactly(1, 2);

        long before = count("outbox");
        DeviceStore.RemoteChunk redacted = new DeviceStore.RemoteChunk("u", 5, false, "doc", null,
                new float[] {1, 2, 3}, "{\"from\":\"remote\"}", "REDACTED", "2030-01-01T00:00:00.000001+00:00",
                "server");
        assertThat(store.applyRemote(redacted, "SYNCED")).isEqualTo(DeviceStore.Applied.APPLIED);
        Answer read = get("u");
        assertThat(read.body().get("version").asLong()).isEqualTo(5);
        assertThat(read.body().get("content").asText()).as("absent content never replaces the device's")
                .isEqualTo("u2");
        assertThat(read.text()).contains("\"from\":\"remote\"");
        assertThat(chunkRow("u")).containsEntry("modified_by", "server")
                .containsEntry("modified_at", "2030-01-01T00:00:00.000001Z");
        assertThat(store.applyRemote(redacted, "SYNCED")).isEqualTo(DeviceStore.Applied.ALREADY_HELD);
        DeviceStore.RemoteChunk overPrivate = new DeviceStore.RemoteChunk("d", 9, false, "doc", "remote text",
                new float[] {1, 2, 3}, "{}", "FULL", "2030-01-01T00:00:00.000002Z", "server");
        assertThat(store.applyRemote(overPrivate, "SYNCED")).isEqualTo(DeviceStore.Applied.LOCAL_ONLY_KEPT);
        assertThat(get("d").body().get("content").asText()).isEqualTo("more secret");
        assertThat(count("outbox")).as("no echo").isEqualTo(before);

        put("u", chunk("u3", "FULL"), "\"5\"", false);
        Map<String, Object> next = entries("u").get(2);
        assertThat(next).containsEntry("base_version", 5).containsEntry("revision", 1);
        assertThat(payload(next).get("modifiedAt").asText()).as("the clock observed the download")
                .isGreaterThan("2030-01-01T00:00:00.000001Z");
    }

    @Test
    @Order(10)
    void concurrentWritersOfOneChunkEachGetTheirOwnRevisionAndEntry() throws Exception {
        int threads = 4;
        int each = 15;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Integer>>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    List<Integer> statuses = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        statuses.add(put("hot", chunk("t" + thread + "-" + i, "FULL")).status());
                        statuses.add(put("own-" + thread + "-" + i, chunk("x", "FULL")).status());
                    }
                    return statuses;
                }));
            }
            for (var f : done) {
                assertThat(f.get()).allSatisfy(st -> assertThat(st).isIn(200, 201));
            }
        } finally {
            pool.shutdown();
        }
        List<Map<String, Object>> hot = entries("hot");
        assertThat(hot).hasSize(threads * each);
        assertThat(hot).extracting(e -> ((Number) e.get("revision")).intValue())
                .containsExactlyElementsOf(IntStream.rangeClosed(1, threads * each).boxed().toList());
        assertThat(get("hot").body().get("version").asLong()).isEqualTo(threads * each);
        assertThat(rows("SELECT * FROM chunks WHERE chunk_id LIKE 'own-%'")).hasSize(threads * each);
    }
}
