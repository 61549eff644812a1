package io.vectorsync.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.retention.RetentionService;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.test.context.TestPropertySource;

/**
 * The remote's sync functions (V13, ADR 024) called through JDBC as a device calls them, against the
 * server's real database with its relay delivering to the replica: applying a device's change (outbox
 * event with its origin, the replica gets it), stored outcomes and their pruning, conflicts per policy,
 * invalid changes isolated, the download window in commit order, resync, the snapshot pages, and what the
 * device's role may do.
 */
@TestPropertySource(properties = {"vectorsync.retention.enabled=false", "vectorsync.sync.max-offline=30d"})
class RemoteSyncFunctionsIT extends AbstractIT {

    private static final DateTimeFormatter HLC =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final String LWW = "{\"policy\":\"last-write-wins\",\"maxClockSkewSeconds\":300}";

    @Value("${vectorsync.test.database}")
    String database;

    @Autowired
    RetentionService retention;

    /** 384 values exact in a {@code real} (the replica's vector column has the server's dimension). */
    private static final List<Double> EMBEDDING =
            java.util.stream.IntStream.range(0, 384).mapToObj(i -> (i % 16) * 0.25 - 2.0).toList();

    /** An embedding as devices send it (PostgreSQL's array literal text), of the server's dimension. */
    private static final String LITERAL = "{0.5,-1.25,3e-2" + ",0".repeat(381) + "}";

    private long uploadIds;

    private static String iso(Instant t) {
        return HLC.format(t);
    }

    private JsonNode call(String sql, Object... args) throws Exception {
        return json.readTree(jdbc.queryForObject(sql, String.class, args));
    }

    private JsonNode apply(String device, long acked, String options, List<Map<String, Object>> changes)
            throws Exception {
        return call("SELECT vectorsync.sync_apply(?, ?, ?::jsonb, ?::jsonb)::text", device, acked, write(changes),
                options);
    }

    private JsonNode changes(String device, JsonNode cursor, int limit) throws Exception {
        return call("SELECT vectorsync.sync_changes(?, ?::jsonb, ?)::text", device,
                cursor == null ? null : cursor.toString(), limit);
    }

    private Map<String, Object> upsert(String chunkId, long base, Instant modifiedAt, String content) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("key", UUID.randomUUID().toString());
        c.put("uploadId", ++uploadIds);
        c.put("op", "UPSERT");
        c.put("chunkId", chunkId);
        c.put("baseVersion", base);
        c.put("modifiedAt", iso(modifiedAt));
        c.put("privacy", "FULL");
        c.put("documentId", "doc-1");
        c.put("content", content);
        c.put("embedding", EMBEDDING);
        c.put("metadata", Map.of("lang", "en"));
        return c;
    }

    private Map<String, Object> delete(String chunkId, long base, Instant modifiedAt, boolean localOnly) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("key", UUID.randomUUID().toString());
        c.put("uploadId", ++uploadIds);
        c.put("op", "DELETE");
        c.put("chunkId", chunkId);
        c.put("baseVersion", base);
        c.put("modifiedAt", iso(modifiedAt));
        if (localOnly) {
            c.put("reason", "local-only");
        }
        return c;
    }

    private Map<String, Object> row(String chunkId) {
        return jdbc.queryForMap("SELECT version, content, deleted, modified_by, modified_at FROM chunks WHERE chunk_id = ?",
                chunkId);
    }

    private long outboxEvents(String chunkId) {
        return count("SELECT count(*) FROM outbox WHERE chunk_id = ?", chunkId);
    }

    private void awaitOnReplica(String chunkId, long version) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() ->
                count("SELECT count(*) FROM replica_chunks WHERE chunk_id = ? AND version = ?", chunkId, version) == 1);
    }

    /** The server's clock: a device's time later or earlier than a server write is taken from here. */
    private Instant serverNow() {
        return jdbc.queryForObject("SELECT clock_timestamp()", java.sql.Timestamp.class).toInstant();
    }

    @Test
    void helloRegistersTheDeviceAndTellsTheSystemIdentifier() throws Exception {
        JsonNode first = call("SELECT vectorsync.sync_hello('hello-dev')::text");
        assertThat(first.path("knownDevice").asBoolean()).isFalse();
        assertThat(first.path("systemId").asText())
                .isEqualTo(jdbc.queryForObject("SELECT system_identifier::text FROM pg_control_system()", String.class));
        assertThat(first.path("serverTime").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
        assertThat(call("SELECT vectorsync.sync_hello('hello-dev')::text").path("knownDevice").asBoolean()).isTrue();
        assertThatThrownBy(() -> call("SELECT vectorsync.sync_hello('server')::text"))
                .hasMessageContaining("VSYNC-SYNC-005");
    }

    @Test
    void aNewChunkIsWrittenWithItsEventAndTheRelayDeliversIt() throws Exception {
        Instant t = serverNow().minusSeconds(1).truncatedTo(ChronoUnit.MICROS);
        JsonNode r = apply("dev-new", 0, LWW, List.of(upsert("new-1", 0, t, "written offline")));
        JsonNode o = r.path("outcomes").get(0);
        assertThat(o.path("status").asText()).isEqualTo("APPLIED");
        assertThat(o.path("version").asLong()).isEqualTo(1);
        assertThat(o.has("winner") || o.has("code") || o.has("loser")).isFalse();
        assertThat(r.path("serverTime").asText()).endsWith("Z");

        Map<String, Object> row = row("new-1");
        assertThat(row.get("content")).isEqualTo("written offline");
        assertThat(row.get("modified_by")).isEqualTo("dev-new");
        assertThat(((java.sql.Timestamp) row.get("modified_at")).toInstant()).isEqualTo(t);
        Map<String, Object> event = jdbc.queryForMap(
                "SELECT type, version, origin, payload IS NULL AS lean FROM outbox WHERE chunk_id = 'new-1'");
        assertThat(event).containsEntry("type", "UPSERT").containsEntry("version", 1L)
                .containsEntry("origin", "dev-new").containsEntry("lean", true);
        awaitOnReplica("new-1", 1);
        assertThat(jdbc.queryForObject("SELECT content FROM replica_chunks WHERE chunk_id = 'new-1'", String.class))
                .isEqualTo("written offline");

        // The API's next write makes the row the server's again.
        assertThat(put("new-1", chunkBody("server edit")).getStatusCode().value()).isEqualTo(200);
        Map<String, Object> after = row("new-1");
        assertThat(after.get("modified_by")).isEqualTo("server");
        assertThat(after.get("modified_at")).isNull();
    }

    @Test
    void aReplayedKeyReturnsTheStoredOutcomeAndWritesNothingUntilAcknowledged() throws Exception {
        put("replay-2", chunkBody("the server's"));
        Instant t = serverNow().plusSeconds(1);
        Map<String, Object> first = upsert("replay-1", 0, t, "once");
        Map<String, Object> second = upsert("replay-2", 0, t, "twice, over the server's");
        Map<String, Object> third = upsert("replay-3", 0, t, "thrice");
        String before = jdbc.queryForObject(
                "SELECT (vectorsync.sync_apply('dev-replay', 0, ?::jsonb, ?::jsonb)->'outcomes')::text", String.class,
                write(List.of(first, second, third)), LWW);
        long events = count("SELECT count(*) FROM outbox WHERE chunk_id LIKE 'replay-%'");
        assertThat(events).isEqualTo(4);
        assertThat(json.readTree(before).findValuesAsText("status")).containsExactly("APPLIED", "CONFLICT", "APPLIED");
        assertThat(json.readTree(before).get(1).path("loser").path("content").asText()).isEqualTo("the server's");

        // The device did not see the answer (it was killed) and sends the same batch again.
        String again = jdbc.queryForObject(
                "SELECT (vectorsync.sync_apply('dev-replay', 0, ?::jsonb, ?::jsonb)->'outcomes')::text", String.class,
                write(List.of(first, second, third)), LWW);
        assertThat(again).isEqualTo(before);
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id LIKE 'replay-%'")).isEqualTo(events);
        assertThat(row("replay-1").get("version")).isEqualTo(1L);
        assertThat(row("replay-2").get("version")).isEqualTo(2L);

        // Acknowledging up to the second upload forgets the first two outcomes, keeps the third.
        long acked = ((Number) second.get("uploadId")).longValue();
        assertThat(apply("dev-replay", acked, LWW, List.of()).path("outcomes").size()).isZero();
        assertThat(jdbc.queryForList("SELECT chunk_id FROM sync_applied WHERE device_id = 'dev-replay' ORDER BY 1",
                String.class)).containsExactly("replay-3");
        assertThat(count("SELECT acked_upload_id FROM sync_devices WHERE device_id = 'dev-replay'")).isEqualTo(acked);
    }

    @Test
    void lastWriteWinsTakesTheLaterTimeAndReturnsTheLoser() throws Exception {
        put("lww-1", chunkBody("server v1"));
        Instant later = serverNow().plusSeconds(5);
        JsonNode won = apply("dev-lww", 0, LWW, List.of(upsert("lww-1", 0, later, "device later"))).path("outcomes").get(0);
        assertThat(won.path("status").asText()).isEqualTo("CONFLICT");
        assertThat(won.path("winner").asText()).isEqualTo("local");
        assertThat(won.path("code").asText()).isEqualTo("VSYNC-SYNC-003");
        assertThat(won.path("version").asLong()).isEqualTo(2);
        assertThat(won.path("loser").path("content").asText()).isEqualTo("server v1");
        assertThat(won.path("loser").path("modifiedBy").asText()).isEqualTo("server");
        assertThat(won.path("loser").path("version").asLong()).isEqualTo(1);
        assertThat(row("lww-1").get("content")).isEqualTo("device later");
        assertThat(jdbc.queryForObject("SELECT origin FROM outbox WHERE chunk_id = 'lww-1' AND version = 2", String.class))
                .isEqualTo("dev-lww");

        put("lww-2", chunkBody("server v1"));
        Instant earlier = serverNow().minusSeconds(60);
        JsonNode lost = apply("dev-lww", 0, LWW, List.of(upsert("lww-2", 0, earlier, "device earlier")))
                .path("outcomes").get(0);
        assertThat(lost.path("status").asText()).isEqualTo("CONFLICT");
        assertThat(lost.path("winner").asText()).isEqualTo("remote");
        assertThat(lost.path("version").asLong()).isEqualTo(1);
        assertThat(lost.path("remote").path("content").asText()).isEqualTo("server v1");
        assertThat(lost.path("remote").path("version").asLong()).isEqualTo(1);
        assertThat(lost.path("loser").path("content").asText()).isEqualTo("device earlier");
        assertThat(lost.path("loser").path("modifiedBy").asText()).isEqualTo("dev-lww");
        assertThat(lost.path("loser").path("modifiedAt").asText()).isEqualTo(iso(earlier));
        assertThat(row("lww-2").get("content")).isEqualTo("server v1");
        assertThat(outboxEvents("lww-2")).as("nothing written for a lost change").isEqualTo(1);
    }

    @Test
    void aTieOfTimesGoesToTheGreaterDeviceId() throws Exception {
        Instant t = serverNow().minusSeconds(2);
        assertThat(apply("dev-m", 0, LWW, List.of(upsert("tie-1", 0, t, "m"))).path("outcomes").get(0)
                .path("status").asText()).isEqualTo("APPLIED");
        JsonNode smaller = apply("dev-a", 0, LWW, List.of(upsert("tie-1", 0, t, "a"))).path("outcomes").get(0);
        assertThat(smaller.path("winner").asText()).isEqualTo("remote");
        JsonNode greater = apply("dev-z", 0, LWW, List.of(upsert("tie-1", 0, t, "z"))).path("outcomes").get(0);
        assertThat(greater.path("winner").asText()).isEqualTo("local");
        assertThat(greater.path("loser").path("modifiedBy").asText()).isEqualTo("dev-m");
        assertThat(row("tie-1").get("content")).isEqualTo("z");
    }

    @Test
    void localWinsAndRemoteWinsIgnoreTheTimes() throws Exception {
        put("pol-1", chunkBody("server"));
        put("pol-2", chunkBody("server"));
        JsonNode local = apply("dev-pol", 0, "{\"policy\":\"local-wins\",\"maxClockSkewSeconds\":300}",
                List.of(upsert("pol-1", 0, serverNow().minusSeconds(3600), "old but local"))).path("outcomes").get(0);
        assertThat(local.path("winner").asText()).isEqualTo("local");
        assertThat(row("pol-1").get("content")).isEqualTo("old but local");
        JsonNode remote = apply("dev-pol", 0, "{\"policy\":\"remote-wins\",\"maxClockSkewSeconds\":300}",
                List.of(upsert("pol-2", 0, serverNow().plusSeconds(60), "new but remote"))).path("outcomes").get(0);
        assertThat(remote.path("winner").asText()).isEqualTo("remote");
        assertThat(row("pol-2").get("content")).isEqualTo("server");
    }

    @Test
    void consecutiveEditsOfOneChunkInOneCallAreBasedOnEachOther() throws Exception {
        put("seq-1", chunkBody("v1"));
        put("seq-1", chunkBody("v2"));
        put("seq-1", chunkBody("v3"));
        Instant t = serverNow();
        JsonNode out = apply("dev-seq", 0, "{\"policy\":\"remote-wins\"}", List.of(
                upsert("seq-1", 3, t, "edit 1"), upsert("seq-1", 3, t.plusMillis(1), "edit 2"),
                delete("seq-1", 3, t.plusMillis(2), false))).path("outcomes");
        assertThat(out.findValuesAsText("status")).containsExactly("APPLIED", "APPLIED", "APPLIED");
        assertThat(out.findValues("version").stream().map(JsonNode::asLong)).containsExactly(4L, 5L, 6L);
        assertThat(row("seq-1").get("deleted")).isEqualTo(true);
        assertThat(jdbc.queryForList("SELECT type FROM outbox WHERE chunk_id = 'seq-1' AND origin = 'dev-seq' ORDER BY id",
                String.class)).containsExactly("UPSERT", "UPSERT", "DELETE");
    }

    @Test
    void aLocalOnlyDeleteWinsEveryConflict() throws Exception {
        put("lo-1", chunkBody("v1"));
        put("lo-1", chunkBody("v2 by the server, later"));
        awaitOnReplica("lo-1", 2);
        JsonNode o = apply("dev-lo", 0, "{\"policy\":\"remote-wins\"}",
                List.of(delete("lo-1", 1, serverNow().minusSeconds(600), true))).path("outcomes").get(0);
        assertThat(o.path("status").asText()).isEqualTo("CONFLICT");
        assertThat(o.path("winner").asText()).isEqualTo("local");
        assertThat(o.path("version").asLong()).isEqualTo(3);
        assertThat(o.path("loser").path("content").asText()).isEqualTo("v2 by the server, later");
        Map<String, Object> row = row("lo-1");
        assertThat(row.get("deleted")).isEqualTo(true);
        assertThat(row.get("content")).isNull();
        assertThat(jdbc.queryForObject("SELECT type FROM outbox WHERE chunk_id = 'lo-1' AND version = 3", String.class))
                .isEqualTo("DELETE");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'lo-1'") == 0);
    }

    @Test
    void anInvalidChangeIsIsolatedAndTheOthersApply() throws Exception {
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'app-owned', 1, '{\"content\":\"app\"}')", String.class);
        Instant t = serverNow().minusSeconds(1);
        Map<String, Object> localOnly = upsert("inv-2", 0, t, "secret");
        localOnly.put("privacy", "LOCAL_ONLY");
        Map<String, Object> badEmbedding = upsert("inv-3", 0, t, "x");
        badEmbedding.put("embedding", List.of("not a number"));
        Map<String, Object> overflow = upsert("inv-4", 0, t, "the content must not show in the error");
        overflow.put("embedding", List.of(1e300));
        Map<String, Object> badOp = upsert("inv-5", 0, t, "x");
        badOp.put("op", "MERGE");
        Map<String, Object> notFinite = upsert("inv-7", 0, t, "x");
        notFinite.put("embedding", "{0.5,NaN}"); // the array literal form devices send
        Map<String, Object> literal = upsert("inv-8", 0, t, "as a device sends it");
        literal.put("embedding", LITERAL);
        JsonNode out = apply("dev-inv", 0, LWW, List.of(upsert("inv-1", 0, t, "good"), localOnly, badEmbedding,
                overflow, badOp, upsert("app-owned", 0, t, "x"), upsert("inv-6", 0, t, "good too"), notFinite,
                literal)).path("outcomes");
        assertThat(out.findValuesAsText("status")).containsExactly("APPLIED", "INVALID", "INVALID", "INVALID",
                "INVALID", "INVALID", "APPLIED", "INVALID", "APPLIED");
        assertThat(out.get(7).path("error").asText()).contains("finite numbers");
        assertThat(jdbc.queryForObject("SELECT embedding::text FROM chunks WHERE chunk_id = 'inv-8'", String.class))
                .isEqualTo("{0.5,-1.25,0.03" + ",0".repeat(381) + "}");
        for (int i = 1; i <= 5; i++) {
            assertThat(out.get(i).path("code").asText()).isEqualTo("VSYNC-SYNC-005");
            assertThat(out.get(i).path("error").asText()).isNotBlank().doesNotContain("content must not show");
        }
        assertThat(out.get(5).path("error").asText()).contains("captured by the application");
        assertThat(jdbc.queryForList("SELECT chunk_id FROM chunks WHERE chunk_id LIKE 'inv-%' ORDER BY 1", String.class))
                .containsExactly("inv-1", "inv-6", "inv-8");
        assertThat(count("SELECT count(*) FROM sync_applied WHERE device_id = 'dev-inv'"))
                .as("an INVALID change wrote nothing and is not stored").isEqualTo(3);
    }

    /**
     * A batch of every kind of change: new, conflicting (either side winning, a local-only delete), a key
     * stored by an earlier call, a key sent twice in the batch, consecutive edits of one chunk, deletes of a
     * live and of a gone chunk, REDACTED, an embedding as a JSON array, and invalid ones (op, NaN, a chunk of
     * the application, a clock ahead, not an object).
     */
    private List<Object> mixedBatch(String p) throws Exception {
        put(p + "-remote", chunkBody("the server's, later"));
        put(p + "-local", chunkBody("the server's, earlier"));
        put(p + "-del", chunkBody("to be deleted"));
        put(p + "-gone", chunkBody("deleted before"));
        delete(p + "-gone");
        put(p + "-lo", chunkBody("v1"));
        put(p + "-lo", chunkBody("v2"));
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', ?, 1, '{\"content\":\"app\"}')", String.class, p + "-app");
        Instant now = serverNow();
        Map<String, Object> earlier = upsert(p + "-prev", 0, now.minusSeconds(5), "sent before");
        apply("dev-" + p, 0, LWW, List.of(earlier)); // committed: its outcome is stored
        Map<String, Object> twice = upsert(p + "-new", 0, now.minusSeconds(1), "new");
        Map<String, Object> badOp = upsert(p + "-op", 0, now, "x");
        badOp.put("op", "MERGE");
        Map<String, Object> nan = upsert(p + "-nan", 0, now, "x");
        nan.put("embedding", "{0.5,NaN}");
        Map<String, Object> redacted = upsert(p + "-red", 0, now, "hidden");
        redacted.put("privacy", "REDACTED");
        Map<String, Object> literal = upsert(p + "-lit", 0, now, "as a device sends it");
        literal.put("embedding", LITERAL);
        List<Object> batch = new ArrayList<>(List.of(twice,
                upsert(p + "-remote", 0, now.minusSeconds(3600), "device, earlier"),
                upsert(p + "-local", 0, now.plusSeconds(5), "device, later"),
                earlier, badOp, nan, upsert(p + "-app", 0, now, "x"),
                upsert(p + "-ahead", 0, now.plus(Duration.ofSeconds(600, 500_000_000)), "ahead"),
                delete(p + "-del", 1, now, false), delete(p + "-gone", 2, now, false), delete(p + "-lo", 1, now, true),
                upsert(p + "-seq", 0, now, "edit 1"), upsert(p + "-seq", 0, now.plusMillis(1), "edit 2"),
                twice, redacted, literal, upsert(p + "-arr", 0, now, "array")));
        batch.add(42); // not an object
        return batch;
    }

    /**
     * What a call left behind on the remote, times of writing left out. Events by chunk: the set-based part
     * writes its events before those of the changes that went one by one, so events of different chunks of
     * one batch (one transaction, delivered together) may be in another order; a chunk's own are in its order.
     */
    private static String state(Connection c, String p) throws SQLException {
        StringBuilder b = new StringBuilder();
        for (String sql : List.of(
                "SELECT chunk_id, version, document_id, content, embedding::text, metadata::text, privacy, deleted,"
                        + " modified_at, modified_by FROM chunks WHERE chunk_id LIKE ? ORDER BY 1",
                "SELECT chunk_id, type, version, origin, payload::text FROM outbox WHERE chunk_id LIKE ? ORDER BY chunk_id, id",
                "SELECT idempotency_key, upload_id, chunk_id, outcome::text FROM sync_applied WHERE chunk_id LIKE ?"
                        + " ORDER BY upload_id, idempotency_key")) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, p + "-%");
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                            b.append(rs.getString(i)).append('|');
                        }
                        b.append('\n');
                    }
                }
            }
        }
        return b.toString();
    }

    /**
     * A call's outcomes and what it wrote; whether the set-based part of sync_apply committed (a rolled-back
     * subtransaction's function calls are not counted) and how many changes sync_apply_one wrote (an INVALID
     * one is rolled back too).
     */
    private record Run(String outcomes, String state, boolean setBased, long perChangeWrites) {}

    /**
     * Runs {@code sql} (the batch as its one parameter) in a transaction that is rolled back, so both paths
     * start from the same database: its outcomes, what it wrote, and how many changes sync_apply_one took.
     */
    private Run rolledBack(String sql, String batch, String p) throws Exception {
        try (Connection c = TestDatabases.connect(database)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET LOCAL track_functions = 'all'");
            }
            String outcomes;
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, batch);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    outcomes = rs.getString(1);
                }
            }
            Map<String, Long> calls = new java.util.HashMap<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT funcname, calls"
                    + " FROM pg_stat_xact_user_functions WHERE schemaname = 'vectorsync'")) {
                while (rs.next()) {
                    calls.put(rs.getString(1), rs.getLong(2));
                }
            }
            Run run = new Run(outcomes, state(c, p), calls.getOrDefault("sync_apply_set", 0L) > 0,
                    calls.getOrDefault("sync_apply_one", 0L));
            c.rollback();
            return run;
        }
    }

    /** Runs the batch through sync_apply and through the per-change path alone; returns the former's run. */
    private Run bothPathsAgree(String p, List<Object> batch) throws Exception {
        String changes = write(batch);
        Run set = rolledBack("SELECT (vectorsync.sync_apply('dev-" + p + "', 0, ?::jsonb, '" + LWW + "'::jsonb)"
                + "->'outcomes')::text", changes, p);
        Run each = rolledBack("SELECT to_jsonb(vectorsync.sync_apply_each('dev-" + p + "', ?::jsonb, 'last-write-wins',"
                + " 300, NULL))::text", changes, p);
        // The seconds a clock is ahead by depend on when the change was looked at, a second apart here.
        String ahead = "clock ahead by \\d+ s";
        assertThat(set.outcomes().replaceAll(ahead, "clock ahead by N s"))
                .isEqualTo(each.outcomes().replaceAll(ahead, "clock ahead by N s"));
        assertThat(set.state()).isEqualTo(each.state());
        assertThat(each.setBased()).isFalse();
        return set;
    }

    @Test
    void aMixedBatchReturnsExactlyWhatThePerChangePathReturns() throws Exception {
        List<Object> batch = mixedBatch("mix");
        Run run = bothPathsAgree("mix", batch);
        // One by one: the key sent twice (its first time; the second is its stored outcome) and the two
        // edits of one chunk; the other 15 are decided set-based.
        assertThat(run.setBased()).isTrue();
        assertThat(run.perChangeWrites()).isEqualTo(3);
        JsonNode out = json.readTree(jdbc.queryForObject(
                "SELECT (vectorsync.sync_apply('dev-mix', 0, ?::jsonb, ?::jsonb)->'outcomes')::text", String.class,
                write(batch), LWW));
        assertThat(out.findValuesAsText("status")).containsExactly("APPLIED", "CONFLICT", "CONFLICT", "APPLIED",
                "INVALID", "INVALID", "INVALID", "INVALID", "APPLIED", "APPLIED", "CONFLICT", "APPLIED", "APPLIED",
                "APPLIED", "APPLIED", "APPLIED", "APPLIED", "INVALID");
        assertThat(out.get(1).path("winner").asText()).isEqualTo("remote");
        assertThat(out.get(2).path("winner").asText()).isEqualTo("local");
        assertThat(out.get(10).path("winner").asText()).isEqualTo("local");
        assertThat(out.get(13)).as("the key sent twice: the outcome of its first time").isEqualTo(out.get(0));
        assertThat(out.get(11).path("version").asLong()).isEqualTo(1);
        assertThat(out.get(12).path("version").asLong()).isEqualTo(2);
        assertThat(out.get(7).path("error").asText()).matches("clock ahead by (59\\d|60\\d) s.*");
        assertThat(out.get(17).path("key").isNull()).isTrue();
    }

    @Test
    void aValueThePostgresCannotReadSendsTheWholeBatchOneByOneAndIsIsolated() throws Exception {
        List<Object> batch = mixedBatch("fall");
        Map<String, Object> overflow = upsert("fall-overflow", 0, serverNow(), "the content must not show in the error");
        overflow.put("embedding", "{1e300}"); // beyond real: the set-based statement fails as a whole
        batch.add(3, overflow);
        Run run = bothPathsAgree("fall", batch);
        assertThat(run.setBased()).as("the set-based part rolled back").isFalse();
        assertThat(run.perChangeWrites()).as("all 19 but the 2 stored and the 6 invalid, one by one").isEqualTo(11);
        JsonNode out = json.readTree(jdbc.queryForObject(
                "SELECT (vectorsync.sync_apply('dev-fall', 0, ?::jsonb, ?::jsonb)->'outcomes')::text", String.class,
                write(batch), LWW));
        assertThat(out.get(3).path("status").asText()).isEqualTo("INVALID");
        assertThat(out.get(3).path("error").asText()).contains("finite numbers").doesNotContain("must not show");
        assertThat(out.get(0).path("status").asText()).isEqualTo("APPLIED");
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'fall-overflow'")).isZero();
    }

    /**
     * The remote holds a device's embeddings to the server's dimension (vectorsync.embedding-dimension, 384
     * here, recorded in server_settings at start-up), in both forms a device may send, for a new chunk and an
     * update: INVALID with the stable code VSYNC-EMBEDDING-DIMENSION, nothing written or stored for it, the
     * rest of the batch applied.
     */
    @Test
    void anEmbeddingOfAnotherDimensionThanTheServersIsRefusedAndTheRestOfTheBatchApplies() throws Exception {
        assertThat(jdbc.queryForObject("SELECT embedding_dimension FROM server_settings", Integer.class)).isEqualTo(384);
        Instant t = serverNow().minusSeconds(1);
        apply("dev-dim", 0, LWW, List.of(upsert("dim-existing", 0, t.minusSeconds(5), "version 1")));
        Map<String, Object> shorter = upsert("dim-383", 0, t, "x");
        shorter.put("embedding", EMBEDDING.subList(0, 383));
        Map<String, Object> longer = upsert("dim-385", 0, t, "the content must not show in the error");
        longer.put("embedding", "{0" + ",0".repeat(384) + "}");
        Map<String, Object> update = upsert("dim-existing", 1, t, "version 2 of another dimension");
        update.put("embedding", "{0.5,-1.25,3e-2}");
        Map<String, Object> exact = upsert("dim-384", 0, t, "as a device sends it");
        exact.put("embedding", LITERAL);
        JsonNode out = apply("dev-dim", 0, LWW, List.of(upsert("dim-good", 0, t, "good"), shorter, longer, update,
                exact)).path("outcomes");

        assertThat(out.findValuesAsText("status")).containsExactly("APPLIED", "INVALID", "INVALID", "INVALID", "APPLIED");
        for (int i = 1; i <= 3; i++) {
            assertThat(out.get(i).path("code").asText()).isEqualTo("VSYNC-EMBEDDING-DIMENSION");
            assertThat(out.get(i).path("error").asText()).contains("the server takes 384")
                    .doesNotContain("must not show");
        }
        assertThat(out.get(1).path("error").asText()).contains("383 dimensions");
        assertThat(out.get(2).path("error").asText()).contains("385 dimensions");
        assertThat(out.get(3).path("error").asText()).contains("3 dimensions");
        assertThat(out.get(3).path("version").asLong()).as("the chunk's version, unchanged").isEqualTo(1);
        assertThat(jdbc.queryForList("SELECT chunk_id || ':' || version FROM chunks WHERE chunk_id LIKE 'dim-%' ORDER BY 1",
                String.class)).containsExactly("dim-384:1", "dim-existing:1", "dim-good:1");
        assertThat(row("dim-existing")).containsEntry("content", "version 1");
        assertThat(jdbc.queryForList("SELECT chunk_id FROM outbox WHERE chunk_id LIKE 'dim-%' ORDER BY 1", String.class))
                .containsExactly("dim-384", "dim-existing", "dim-good");
        assertThat(jdbc.queryForList("SELECT chunk_id FROM sync_applied WHERE device_id = 'dev-dim' ORDER BY 1",
                String.class)).as("a refused change is not stored").containsExactly("dim-384", "dim-existing", "dim-good");

        // The same batch through the per-change path alone gives the same outcomes (the check is where both write).
        Map<String, Object> again = upsert("dim-each", 0, t, "x");
        again.put("embedding", EMBEDDING.subList(0, 10));
        JsonNode each = json.readTree(jdbc.queryForObject(
                "SELECT to_jsonb(vectorsync.sync_apply_each('dev-dim', ?::jsonb, 'last-write-wins', 300, NULL))::text",
                String.class, write(List.of(again))));
        assertThat(each.get(0).path("status").asText()).isEqualTo("INVALID");
        assertThat(each.get(0).path("code").asText()).isEqualTo("VSYNC-EMBEDDING-DIMENSION");

        // The server's own writes are the API's to check: a server write of its dimension is untouched.
        put("dim-server", chunkBody("written on the server"));
        assertThat(row("dim-server")).containsEntry("modified_by", "server");
    }

    @Test
    void aClockTooFarAheadIsRefused() throws Exception {
        Instant ahead = serverNow().plus(Duration.ofMinutes(10));
        JsonNode o = apply("dev-fast", 0, LWW, List.of(upsert("clock-1", 0, ahead, "from the future")))
                .path("outcomes").get(0);
        assertThat(o.path("status").asText()).isEqualTo("INVALID");
        assertThat(o.path("code").asText()).isEqualTo("VSYNC-SYNC-005");
        assertThat(o.path("error").asText()).matches("clock ahead by (59\\d|600) s.*");
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'clock-1'")).isZero();
        assertThat(outboxEvents("clock-1")).isZero();
    }

    @Test
    void changesComeInCommitOrderWithoutLinksEnqueuedEventsOrTheDevicesOwn() throws Exception {
        JsonNode start = changes("dev-down", null, 100);
        assertThat(start.path("resync").asBoolean()).isTrue();
        assertThat(start.path("changes").size()).isZero();
        JsonNode cursor = start.path("cursor");

        Instant t = serverNow().minusSeconds(1);
        put("down-1", chunkBody("server write"));
        jdbc.queryForObject("SELECT vectorsync.enqueue_link('down-1', 'CITES', 'down-2', 1)", String.class);
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'down-app', 1, '{\"content\":\"app\"}')", String.class);
        jdbc.queryForObject("SELECT vectorsync.enqueue('DELETE', 'down-app', 2)", String.class);
        apply("dev-down", 0, LWW, List.of(upsert("down-own", 0, t, "mine")));
        apply("dev-other", 0, LWW, List.of(upsert("down-2", 0, t, "another device's")));
        Map<String, Object> redacted = chunkBody("hidden");
        redacted.put("privacy", "REDACTED");
        put("down-3", redacted);
        put("down-4", chunkBody("soon local only"));
        Map<String, Object> localOnly = chunkBody("never leaves");
        localOnly.put("privacy", "LOCAL_ONLY");
        put("down-4", localOnly);
        put("down-5", localOnly);

        JsonNode r = changes("dev-down", cursor, 100);
        assertThat(r.path("resync").asBoolean()).isFalse();
        assertThat(r.path("systemId").asText()).isNotBlank();
        JsonNode ch = r.path("changes");
        assertThat(ch.findValuesAsText("chunkId")).containsExactly("down-1", "down-2", "down-3", "down-4", "down-4");
        assertThat(ch.findValuesAsText("op")).containsExactly("UPSERT", "UPSERT", "UPSERT", "DELETE", "DELETE");
        assertThat(r.path("skipped").asInt()).as("the LINK, the two enqueued events and the device's own")
                .isEqualTo(4);
        assertThat(ch.get(0).path("content").asText()).isEqualTo("server write");
        assertThat(ch.get(0).path("modifiedBy").asText()).isEqualTo("server");
        assertThat(ch.get(1).path("modifiedBy").asText()).isEqualTo("dev-other");
        assertThat(ch.get(1).path("modifiedAt").asText()).isEqualTo(iso(t.truncatedTo(ChronoUnit.MICROS)));
        List<Double> embedding = new ArrayList<>(); // the array literal text of real[]
        for (float f : Embeddings.fromLiteral(ch.get(1).path("embedding").asText())) {
            embedding.add((double) f);
        }
        assertThat(embedding).isEqualTo(EMBEDDING);
        assertThat(ch.get(2).path("privacy").asText()).isEqualTo("REDACTED");
        assertThat(ch.get(2).path("content").isNull()).isTrue();
        assertThat(Embeddings.fromLiteral(ch.get(2).path("embedding").asText())).hasSize(384);
        // down-4 is LOCAL_ONLY now: both its events carry its current row, as a delete without data.
        for (JsonNode d : List.of(ch.get(3), ch.get(4))) {
            assertThat(d.path("content").isNull() && d.path("embedding").isNull() && d.path("deleted").asBoolean())
                    .as(d.toString()).isTrue();
            assertThat(d.path("version").asLong()).isEqualTo(2);
            assertThat(d.path("eventId").asText()).hasSize(26);
        }
        assertThat(r.toString()).doesNotContain("never leaves").doesNotContain("hidden");
        assertThat(r.path("more").asBoolean()).isFalse();

        JsonNode next = changes("dev-down", r.path("cursor"), 100);
        assertThat(next.path("changes").size()).isZero();
        assertThat(next.path("skipped").asInt()).isZero();
        assertThat(next.path("more").asBoolean()).isFalse();
        assertThat(json.readTree(jdbc.queryForObject("SELECT cursor::text FROM sync_devices WHERE device_id = 'dev-down'",
                String.class))).as("the cursor sent is acknowledged").isEqualTo(r.path("cursor"));
    }

    @Test
    void aWindowLargerThanTheLimitIsReadInPages() throws Exception {
        JsonNode cursor = changes("dev-pages", null, 10).path("cursor");
        for (int i = 0; i < 5; i++) {
            put("page-" + i, chunkBody("p" + i));
        }
        List<String> seen = new ArrayList<>();
        JsonNode r;
        int calls = 0;
        do {
            r = changes("dev-pages", cursor, 2);
            r.path("changes").forEach(c -> seen.add(c.path("chunkId").asText()));
            cursor = r.path("cursor");
            calls++;
        } while (r.path("more").asBoolean() && calls < 20);
        assertThat(seen).containsExactly("page-0", "page-1", "page-2", "page-3", "page-4");
        assertThat(calls).isGreaterThanOrEqualTo(3);

        // A position without its window (a device that kept only snapshot, txId and id) reads the window
        // again from its start: changes twice, none skipped.
        JsonNode mid = changes("dev-pages-2", null, 10).path("cursor");
        changes("dev-pages-2", mid, 10);
        put("page-5", chunkBody("p5"));
        put("page-6", chunkBody("p6"));
        JsonNode firstPage = changes("dev-pages-2", mid, 1);
        assertThat(firstPage.path("cursor").has("window")).isTrue();
        com.fasterxml.jackson.databind.node.ObjectNode withoutWindow =
                ((com.fasterxml.jackson.databind.node.ObjectNode) firstPage.path("cursor").deepCopy());
        withoutWindow.remove("window");
        assertThat(changes("dev-pages-2", withoutWindow, 100).path("changes").findValuesAsText("chunkId"))
                .containsExactly("page-5", "page-6");
    }

    @Test
    void aTransactionThatCommitsLateIsStillDelivered() throws Exception {
        JsonNode cursor = changes("dev-window", null, 100).path("cursor");
        Instant t = serverNow().minusSeconds(1);
        try (Connection late = TestDatabases.connect(database)) {
            late.setAutoCommit(false);
            try (PreparedStatement ps = late.prepareStatement("SELECT vectorsync.sync_apply(?, 0, ?::jsonb, ?::jsonb)")) {
                ps.setString(1, "dev-late");
                ps.setString(2, write(List.of(upsert("late-1", 0, t, "committed late"))));
                ps.setString(3, LWW);
                ps.executeQuery().close();
            }
            // A later transaction takes a higher outbox id and commits first.
            apply("dev-early", 0, LWW, List.of(upsert("late-2", 0, t, "committed first")));
            JsonNode first = changes("dev-window", cursor, 100);
            assertThat(first.path("changes").findValuesAsText("chunkId")).containsExactly("late-2");
            cursor = first.path("cursor");
            late.commit();
        }
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'late-1' AND id < (SELECT id FROM outbox"
                + " WHERE chunk_id = 'late-2')")).as("the late event has the lower id").isOne();
        JsonNode second = changes("dev-window", cursor, 100);
        assertThat(second.path("changes").findValuesAsText("chunkId")).containsExactly("late-1");
    }

    @Test
    void aDeviceOfflineLongerThanMaxOfflineResyncsAfterRetentionRemovedWhatItHadNotRead() throws Exception {
        JsonNode staleCursor = changes("dev-stale", null, 100).path("cursor");
        JsonNode freshCursor = changes("dev-fresh", null, 100).path("cursor");
        changes("dev-stale", staleCursor, 100); // acknowledges its cursor
        changes("dev-fresh", freshCursor, 100);
        put("ret-1", chunkBody("old event"));
        awaitOnReplica("ret-1", 1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> count("""
                SELECT count(*) FROM outbox o, relay_cursor c
                 WHERE o.chunk_id = 'ret-1' AND NOT pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)""") == 0);
        jdbc.update("UPDATE outbox SET created_at = now() - interval '8 days' WHERE chunk_id = 'ret-1'");
        // Every other device of this class has been away longer than max-offline, dev-fresh alone was seen.
        jdbc.update("UPDATE sync_devices SET last_seen = now() - interval '31 days' WHERE device_id <> 'dev-fresh'");

        // dev-fresh was seen recently and has not read it: retention keeps it (and dev-stale loses nothing).
        retention.runOnce();
        assertThat(outboxEvents("ret-1")).isOne();
        assertThat(jdbc.queryForObject("SELECT needs_resync FROM sync_devices WHERE device_id = 'dev-stale'",
                Boolean.class)).isFalse();

        // dev-fresh reads past it and acknowledges that: retention removes it, dev-stale must re-sync.
        JsonNode read = changes("dev-fresh", freshCursor, 100);
        assertThat(read.path("changes").findValuesAsText("chunkId")).contains("ret-1");
        changes("dev-fresh", read.path("cursor"), 100);
        jdbc.update("UPDATE sync_devices SET last_seen = now() - interval '31 days' WHERE device_id <> 'dev-fresh'");
        retention.runOnce();
        assertThat(outboxEvents("ret-1")).isZero();
        assertThat(jdbc.queryForObject("SELECT needs_resync FROM sync_devices WHERE device_id = 'dev-stale'",
                Boolean.class)).isTrue();
        assertThat(jdbc.queryForObject("SELECT needs_resync FROM sync_devices WHERE device_id = 'dev-fresh'",
                Boolean.class)).isFalse();

        JsonNode back = changes("dev-stale", staleCursor, 100);
        assertThat(back.path("resync").asBoolean()).isTrue();
        assertThat(back.path("changes").size()).isZero();
        assertThat(back.path("cursor").path("snapshot").asText()).isNotBlank();
        JsonNode afterResync = changes("dev-stale", back.path("cursor"), 100);
        assertThat(afterResync.path("resync").asBoolean()).isFalse();

        // A cursor with transaction ids above the database's (taken before a restore into another cluster).
        JsonNode restored = changes("dev-stale", json.readTree("{\"snapshot\":\"900000000:900000000:\"}"), 100);
        assertThat(restored.path("resync").asBoolean()).isTrue();
        assertThat(restored.path("resyncReason").asText()).contains("backwards");
    }

    @Test
    void theSnapshotPagesTheLiveApiChunksInChunkIdOrder() throws Exception {
        put("snap-1", chunkBody("one"));
        put("snap-2", chunkBody("two"));
        put("snap-3", chunkBody("gone"));
        delete("snap-3");
        Map<String, Object> localOnly = chunkBody("private");
        localOnly.put("privacy", "LOCAL_ONLY");
        put("snap-4", localOnly);
        Map<String, Object> redacted = chunkBody("redacted");
        redacted.put("privacy", "REDACTED");
        put("snap-5", redacted);
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'snap-app', 1, '{\"content\":\"app\"}')", String.class);

        List<JsonNode> rows = new ArrayList<>();
        String after = null;
        int pages = 0;
        while (true) {
            JsonNode page = call("SELECT vectorsync.sync_snapshot('dev-snap', ?, 2)::text", after);
            pages++;
            if (page.path("chunks").isEmpty()) {
                assertThat(page.path("last").isNull()).isTrue();
                break;
            }
            page.path("chunks").forEach(rows::add);
            after = page.path("last").asText();
            assertThat(after).isEqualTo(rows.get(rows.size() - 1).path("chunkId").asText());
        }
        List<String> ids = rows.stream().map(r -> r.path("chunkId").asText()).toList();
        assertThat(ids).isEqualTo(jdbc.queryForList(
                "SELECT chunk_id FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY' ORDER BY chunk_id", String.class));
        assertThat(ids).contains("snap-1", "snap-2", "snap-5").doesNotContain("snap-3", "snap-4", "snap-app");
        assertThat(pages).isGreaterThan(2);
        JsonNode snap5 = rows.get(ids.indexOf("snap-5"));
        assertThat(snap5.path("content").isNull()).isTrue();
        assertThat(snap5.path("privacy").asText()).isEqualTo("REDACTED");
        assertThat(rows.get(ids.indexOf("snap-1")).path("content").asText()).isEqualTo("one");
    }

    @Test
    void theDevicesRoleMaySyncAndNothingElse() throws Exception {
        String role = "vsync_device_" + Long.toHexString(System.nanoTime());
        try (Connection admin = TestDatabases.connect(database); Statement s = admin.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN IN ROLE vectorsync_sync");
        }
        try {
            try (Connection admin = TestDatabases.connect(database)) {
                query(admin, "SELECT vectorsync.sync_hello('dev-owned')::text"); // registered by the admin role
            }
            try (Connection device = DriverManager.getConnection(TestDatabases.url(database), role, "")) {
                assertThat(query(device, "SELECT vectorsync.sync_hello('dev-role')::text")).contains("systemId");
                String changes = write(List.of(upsert("role-1", 0, serverNow().minusSeconds(1), "via the role")));
                assertThat(query(device, "SELECT vectorsync.sync_apply('dev-role', 0, '" + changes + "'::jsonb, '"
                        + LWW + "'::jsonb)::text")).contains("APPLIED");
                assertThat(query(device, "SELECT vectorsync.sync_changes('dev-role', NULL, 10)::text")).contains("\"resync\": true");
                assertThat(query(device, "SELECT vectorsync.sync_snapshot('dev-role', NULL, 10)::text")).contains("role-1");
                for (String table : List.of("chunks", "outbox", "relay_cursor", "sync_devices", "sync_applied",
                        "aggregates", "delivery_ledger")) {
                    denied(device, "SELECT * FROM " + table);
                    denied(device, "DELETE FROM " + table);
                }
                denied(device, "INSERT INTO chunks (chunk_id, version) VALUES ('role-x', 1)");
                denied(device, "UPDATE chunks SET content = 'x'");
                denied(device, "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('e', 'UPSERT', 'x', 1)");
                denied(device, "UPDATE outbox SET version = 1");
                denied(device, "UPDATE sync_devices SET needs_resync = false");
                denied(device, "INSERT INTO sync_applied (device_id, idempotency_key, upload_id, chunk_id, outcome)"
                        + " VALUES ('d', 'k', 1, 'c', '{}')");
                denied(device, "SELECT vectorsync.enqueue('UPSERT', 'role-app', 1, '{}'::jsonb)");
                denied(device, "SELECT vectorsync.sync_apply_one('dev-role', '{}'::jsonb, 'local-wins', 300, NULL)");
                // Another member of the group can't act as a device this role registered.
                denied(device, "SELECT vectorsync.sync_hello('dev-owned')");
            }
            assertThat(row("role-1").get("modified_by")).isEqualTo("dev-role");
        } finally {
            try (Connection admin = TestDatabases.connect(database); Statement s = admin.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + role);
            }
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void denied(Connection c, String sql) {
        assertThatThrownBy(() -> {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }).as(sql).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).as(sql + ": " + e.getMessage()).isEqualTo("42501"));
    }
}
