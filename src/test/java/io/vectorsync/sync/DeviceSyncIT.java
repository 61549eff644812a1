package io.vectorsync.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.ChunkStore;
import io.vectorsync.config.SyncProperties;
import io.vectorsync.domain.Privacy;
import io.vectorsync.metrics.AlertEvaluator;
import io.vectorsync.metrics.SyncStuckAlert;
import io.vectorsync.support.AdjustableClock;
import io.vectorsync.support.RelayProcess;
import io.vectorsync.support.SyncRig;
import io.vectorsync.support.SyncRig.Device;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The device's sync end to end (issue 15): a server (its relay delivering to the replica table) and devices
 * on real SQLite files reaching the server's database through a real TCP proxy. The specification's five
 * scenarios (basic sync both ways, retry after the network is cut, batching, a conflict per policy, pause
 * and resume) and the harder cases: a device in a child JVM killed (SIGKILL) between the remote's commit
 * and its own record, 10,000 pending entries, a downgrade to LOCAL_ONLY racing a remote edit, a clock ten
 * minutes ahead.
 */
class DeviceSyncIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static SyncRig rig;

    @BeforeAll
    static void startServer() {
        rig = new SyncRig("DeviceSyncIT");
    }

    @AfterAll
    static void stopServer() {
        if (rig != null) {
            rig.close();
        }
    }

    @AfterEach
    void stopDevices() {
        rig.closeDevices();
    }

    private static AdjustableClock clock() {
        return new AdjustableClock(Duration.ZERO);
    }

    private static SyncEngine engine(Device d) {
        return d.bean(SyncEngine.class);
    }

    private static long remoteVersion(String chunkId) {
        List<Long> v = rig.remote().queryForList("SELECT version FROM chunks WHERE chunk_id = ?", Long.class, chunkId);
        return v.isEmpty() ? 0 : v.get(0);
    }

    private static String remoteContent(String chunkId) {
        List<String> v = rig.remote().queryForList("SELECT content FROM chunks WHERE chunk_id = ?", String.class, chunkId);
        return v.isEmpty() ? null : v.get(0);
    }

    private static long remoteCount(String like) {
        return rig.remote().queryForObject("SELECT count(*) FROM chunks WHERE chunk_id LIKE ? AND NOT deleted", Long.class,
                like);
    }

    private static Map<String, Object> local(Device d, String chunkId) {
        List<Map<String, Object>> rows = d.local().queryForList("SELECT * FROM chunks WHERE chunk_id = ?", chunkId);
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }

    private static long outbox(Device d, String status, String like) {
        return d.local().queryForObject("SELECT count(*) FROM outbox WHERE status = ? AND chunk_id LIKE ?", Long.class,
                status, like);
    }

    private static void awaitOnline(Device d) {
        await().atMost(WAIT).until(() -> engine(d).mode() == SyncControl.Mode.ONLINE);
    }

    @Test
    void aDeviceWriteReachesTheRemoteAndTheReplicaAndARemoteWriteReachesTheDevice(@TempDir Path dir) {
        Device a = rig.device("dev-basic", dir, clock());
        a.put("basic-1", rig.body("written on the device"));

        await().atMost(WAIT).until(() -> remoteVersion("basic-1") == 1);
        Map<String, Object> remote = rig.remote().queryForMap(
                "SELECT content, modified_by, modified_at IS NOT NULL AS stamped FROM chunks WHERE chunk_id = 'basic-1'");
        assertThat(remote).containsEntry("content", "written on the device").containsEntry("modified_by", "dev-basic")
                .containsEntry("stamped", true);
        // the server's relay delivers it on, at the remote's version
        await().atMost(WAIT).until(() -> rig.remote().queryForList(
                "SELECT version FROM replica_chunks WHERE chunk_id = 'basic-1'", Long.class).equals(List.of(1L)));
        await().atMost(WAIT).until(() -> "SYNCED".equals(a.get("basic-1").path("syncStatus").asText()));
        assertThat(local(a, "basic-1")).containsEntry("remote_version", 1).containsEntry("revision", 0);

        rig.putOnServer("basic-2", rig.body("written on the server"));
        await().atMost(WAIT).until(() -> a.get("basic-2") != null);
        assertThat(a.get("basic-2").path("content").asText()).isEqualTo("written on the server");
        assertThat(local(a, "basic-2")).containsEntry("remote_version", 1).containsEntry("sync_status", "SYNCED")
                .containsEntry("modified_by", "server");
        // no echo: the download made no outbox entry, and the remote holds one event per write
        assertThat(outbox(a, "%", "basic-2")).isZero();
        await().atMost(WAIT).until(() -> a.local().queryForObject(
                "SELECT count(*) FROM inbox WHERE chunk_id = 'basic-2' AND status = 'APPLIED'", Long.class) == 1);
        assertThat(rig.remote().queryForObject("SELECT count(*) FROM outbox WHERE chunk_id IN ('basic-1', 'basic-2')",
                Long.class)).isEqualTo(2);
        assertThat(a.local().queryForObject("SELECT count(*) FROM inbox WHERE chunk_id = 'basic-1'", Long.class))
                .as("the device's own change is not downloaded back").isZero();
        assertThat(engine(a).lastUploadAt()).isPresent();
        assertThat(engine(a).lastPullAt()).isPresent();
    }

    @Test
    void writesQueueWhileTheNetworkIsCutAndDrainByThemselvesWhenItIsBack(@TempDir Path dir) {
        Device a = rig.device("dev-cut", dir, clock());
        awaitOnline(a);
        a.proxy().stop();
        for (int i = 0; i < 5; i++) {
            a.put("cut-" + i, rig.body("offline " + i));
        }
        await().atMost(WAIT).until(() -> engine(a).mode() == SyncControl.Mode.OFFLINE);
        assertThat(outbox(a, "PENDING", "cut-%")).isEqualTo(5);
        assertThat(engine(a).lastError()).get().asString().contains("VSYNC-SYNC-001");
        assertThat(remoteCount("cut-%")).isZero();

        a.proxy().start();
        await().atMost(WAIT).until(() -> outbox(a, "SYNCED", "cut-%") == 5);
        assertThat(remoteCount("cut-%")).isEqualTo(5);
        assertThat(engine(a).mode()).isEqualTo(SyncControl.Mode.ONLINE);
        assertThat(a.local().queryForObject("SELECT max(retry_count) FROM outbox WHERE chunk_id LIKE 'cut-%'", Long.class))
                .as("an outage spends no attempts").isZero();
        // the changes made offline reach the server's replica at the remote's versions
        await().atMost(WAIT).until(() -> rig.remote().queryForObject("""
                SELECT count(*) FROM chunks c JOIN replica_chunks r ON r.chunk_id = c.chunk_id AND r.version = c.version
                 WHERE c.chunk_id LIKE 'cut-%'
                """, Long.class) == 5);
    }

    @Test
    void eachPrivacyLevelReachesTheRemoteAsItMay(@TempDir Path dir) {
        Device a = rig.device("dev-privacy", dir, clock());
        Map<String, Object> redacted = new java.util.LinkedHashMap<>(rig.body("redacted text"));
        redacted.put("privacy", "REDACTED");
        Map<String, Object> localOnly = new java.util.LinkedHashMap<>(rig.body("never leaves the device"));
        localOnly.put("privacy", "LOCAL_ONLY");
        a.put("level-full", rig.body("full text"));
        a.put("level-redacted", redacted);
        a.put("level-local", localOnly);
        await().atMost(WAIT).until(() -> remoteVersion("level-full") == 1 && remoteVersion("level-redacted") == 1);
        assertThat(remoteContent("level-full")).isEqualTo("full text");
        assertThat(rig.remote().queryForMap(
                "SELECT content, privacy, embedding IS NOT NULL AS embedded FROM chunks WHERE chunk_id = 'level-redacted'"))
                .containsEntry("privacy", "REDACTED").containsEntry("embedded", true).containsEntry("content", null);
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(3)).until(() -> remoteVersion("level-local") == 0);
        assertThat(outbox(a, "%", "level-local")).isZero();
        assertThat(local(a, "level-local")).containsEntry("sync_status", "LOCAL").containsEntry("content",
                "never leaves the device");
        // the device keeps its own redacted content: the remote's row without content never clears it
        await().atMost(WAIT).until(() -> "SYNCED".equals(local(a, "level-redacted").get("sync_status")));
        assertThat(local(a, "level-redacted")).containsEntry("content", "redacted text");
    }

    @Test
    void quickWritesGoToTheRemoteInBatches(@TempDir Path dir) {
        Device a = rig.device("dev-batch", dir, clock());
        awaitOnline(a);
        List<Map<String, Object>> bodies = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            bodies.add(rig.body("quick " + i));
        }
        java.util.stream.IntStream.range(0, 100).parallel().forEach(i -> a.put("quick-" + i, bodies.get(i)));
        await().atMost(WAIT).until(() -> remoteCount("quick-%") == 100);
        long transactions = rig.remote().queryForObject(
                "SELECT count(DISTINCT tx_id) FROM outbox WHERE origin = 'dev-batch' AND chunk_id LIKE 'quick-%'", Long.class);
        assertThat(transactions).as("remote transactions for 100 quick writes").isLessThanOrEqualTo(34);

        // 100 chunks committed together locally: two calls of 50 (upload.batch-size), two remote transactions
        List<Map<String, Object>> bulk = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Map<String, Object> b = new java.util.LinkedHashMap<>(rig.body("bulk " + i));
            b.put("chunkId", "bulk-" + i);
            bulk.add(b);
        }
        double calls = a.bean(SyncCounters.class).count("sync_apply", "ok");
        a.batch(bulk);
        await().atMost(WAIT).until(() -> remoteCount("bulk-%") == 100);
        assertThat(rig.remote().queryForList("""
                SELECT count(*) FROM outbox WHERE origin = 'dev-batch' AND chunk_id LIKE 'bulk-%' GROUP BY tx_id ORDER BY 1
                """, Long.class)).containsExactly(50L, 50L);
        assertThat(a.bean(SyncCounters.class).count("sync_apply", "ok") - calls).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(SyncProperties.Policy.class)
    void twoDevicesEditingOneChunkConflictAndThePolicyDecides(SyncProperties.Policy policy, @TempDir Path dir)
            throws Exception {
        String c = "conflict-" + policy.wire();
        Device a = rig.device("a-" + policy.wire(), dir, clock(), "vectorsync.sync.conflict.policy=" + policy.wire());
        Device b = rig.device("b-" + policy.wire(), dir, clock(), "vectorsync.sync.conflict.policy=" + policy.wire());
        a.put(c, rig.body("original"));
        await().atMost(WAIT).until(() -> Long.valueOf(1).equals(((Number) local(b, c).getOrDefault("remote_version", 0))
                .longValue()));
        engine(a).pause();
        engine(b).pause();
        b.put(c, rig.body("edit from b")); // the earlier edit
        a.put(c, rig.body("edit from a")); // the later one
        engine(a).resume();
        await().atMost(WAIT).until(() -> remoteVersion(c) == 2);
        engine(b).resume();
        await().atMost(WAIT).until(() -> outbox(b, "CONFLICT", c) == 1);

        boolean bWins = policy == SyncProperties.Policy.LOCAL_WINS;
        String expected = bWins ? "edit from b" : "edit from a";
        await().atMost(WAIT).until(() -> expected.equals(remoteContent(c)));
        assertThat(remoteVersion(c)).isEqualTo(bWins ? 3 : 2);
        await().atMost(WAIT).until(() -> expected.equals(local(a, c).get("content"))
                && expected.equals(local(b, c).get("content")));
        await().atMost(WAIT).until(() -> ((Number) local(a, c).get("remote_version")).longValue() == remoteVersion(c)
                && ((Number) local(b, c).get("remote_version")).longValue() == remoteVersion(c));

        Map<String, Object> conflict = b.local().queryForMap("SELECT * FROM conflicts WHERE chunk_id = ?", c);
        assertThat(conflict).containsEntry("policy", policy.wire()).containsEntry("winner", bWins ? "local" : "remote")
                .containsEntry("reason", "base-version");
        String loserContent = bWins ? "edit from a" : "edit from b";
        Path file = b.conflictFolder().resolve(c + "_v" + (bWins ? 2 : 1) + ".json");
        assertThat(conflict.get("loser_file")).isEqualTo(file.toString());
        assertThat(Files.readString(file)).contains(loserContent);
        assertThat((String) conflict.get("local_json")).contains("edit from b");
        assertThat((String) conflict.get("remote_json")).contains("edit from a");
    }

    @Test
    void aPausedDeviceSendsAndFetchesNothingEvenAfterARestartAndCatchesUpOnResume(@TempDir Path dir) {
        Device a = rig.device("dev-pause", dir, clock());
        awaitOnline(a);
        engine(a).pause();
        assertThat(engine(a).mode()).isEqualTo(SyncControl.Mode.PAUSED);
        a.put("paused-1", rig.body("made while paused"));
        rig.putOnServer("paused-2", rig.body("made on the server while paused"));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> remoteVersion("paused-1") == 0
                && local(a, "paused-2").isEmpty());

        a.restart();
        assertThat(engine(a).mode()).as("the pause is kept in the device's database").isEqualTo(SyncControl.Mode.PAUSED);
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(3)).until(() -> remoteVersion("paused-1") == 0);

        engine(a).resume();
        await().atMost(WAIT).until(() -> remoteVersion("paused-1") == 1 && !local(a, "paused-2").isEmpty());
        awaitOnline(a);
        assertThat(outbox(a, "SYNCED", "paused-1")).isEqualTo(1);
    }

    /**
     * Issue 15's crash: a device in a child JVM stalls at the failpoint between the remote's commit of a batch
     * and its own record of the outcomes, and is killed there with SIGKILL. Started again on the same SQLite
     * file, it sends the batch under the same keys and the remote answers with the outcomes it stored the
     * first time: each change is on the remote once, at version 1, with one outbox event.
     */
    @Test
    void aDeviceKilledAfterTheRemoteCommittedABatchAndBeforeItRecordedItGetsTheStoredOutcomes(@TempDir Path dir)
            throws Exception {
        String id = "dev-kill";
        List<Map<String, Object>> chunks = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Map<String, Object> b = new java.util.LinkedHashMap<>(rig.body("committed remotely, not recorded " + i));
            b.put("chunkId", "kill-" + i);
            chunks.add(b);
        }
        try (RelayProcess child = rig.deviceProcess(id, dir,
                "vectorsync.failpoints=" + SyncUploader.AFTER_REMOTE_COMMIT + "~60000")) {
            child.awaitStarted(Duration.ofMinutes(2));
            HttpResponse<String> put = child.request("POST", "/api/v1/chunks:batch",
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(Map.of("chunks", chunks)));
            assertThat(put.statusCode()).as(put.body()).isBetween(200, 299);
            await().atMost(WAIT).until(() -> child.output()
                    .contains("Failpoint " + SyncUploader.AFTER_REMOTE_COMMIT + " reached: stalling"));
            child.kill();
            assertThat(child.isAlive()).isFalse();
        }
        // The window: the remote committed the batch, the device's file still has it pending.
        assertThat(rig.remote().queryForList("SELECT version FROM chunks WHERE chunk_id LIKE 'kill-%'", Long.class))
                .containsExactly(1L, 1L, 1L);
        Map<String, String> keys = new java.util.TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(id + ".db"));
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT chunk_id, idempotency_key, status FROM outbox ORDER BY id")) {
            while (rs.next()) {
                assertThat(rs.getString("status")).as(rs.getString("chunk_id")).isEqualTo("PENDING");
                keys.put(rs.getString("chunk_id"), rs.getString("idempotency_key"));
            }
        }
        assertThat(keys).containsOnlyKeys("kill-0", "kill-1", "kill-2");
        String stored = "SELECT chunk_id, idempotency_key, applied_at::text AS applied_at FROM sync_applied"
                + " WHERE device_id = ? ORDER BY chunk_id";
        List<Map<String, Object>> before = rig.remote().queryForList(stored, id);
        assertThat(before).extracting(r -> r.get("idempotency_key")).containsExactlyElementsOf(keys.values());

        Device a = rig.device(id, dir, clock()); // the same file, in-process, no failpoint
        await().atMost(WAIT).until(() -> outbox(a, "SYNCED", "kill-%") == 3);
        assertThat(a.bean(SyncCounters.class).count("sync_apply", "ok")).as("the batch went again").isPositive();
        assertThat(a.local().queryForList("SELECT assigned_version FROM outbox WHERE chunk_id LIKE 'kill-%'", Long.class))
                .containsExactly(1L, 1L, 1L);
        assertThat(a.local().queryForList("SELECT idempotency_key FROM outbox ORDER BY chunk_id", String.class))
                .as("sent again under the same keys").containsExactlyElementsOf(keys.values());
        // applied once: version 1 (a second application would be a conflict at version 2), one event each, and
        // the stored outcomes are the first call's (not written again)
        assertThat(rig.remote().queryForList("SELECT version FROM chunks WHERE chunk_id LIKE 'kill-%'", Long.class))
                .containsExactly(1L, 1L, 1L);
        assertThat(rig.remote().queryForList("""
                SELECT chunk_id || ':' || version || ':' || count(*) FROM outbox WHERE chunk_id LIKE 'kill-%'
                 GROUP BY chunk_id, version ORDER BY chunk_id
                """, String.class)).containsExactly("kill-0:1:1", "kill-1:1:1", "kill-2:1:1");
        assertThat(rig.remote().queryForList(stored, id)).isEqualTo(before);
        for (int i = 0; i < 3; i++) {
            assertThat(local(a, "kill-" + i)).containsEntry("remote_version", 1).containsEntry("sync_status", "SYNCED");
        }
    }

    /**
     * The sync-stuck alert in the device's own evaluator, on the Prometheus rule's condition: entries waiting
     * longer than vectorsync.alerts.sync-stuck (15 m, reached by moving the device's clock) with no upload for
     * as long, not paused. It fires once, clears while paused, and clears when the remote is back and the
     * queue drains.
     */
    @Test
    void aQueueWaitingPastSyncStuckWithTheRemoteCutFiresTheSyncStuckAlertUntilItDrains(@TempDir Path dir) {
        AdjustableClock clock = clock();
        Device a = rig.device("dev-stuck", dir, clock, "vectorsync.alerts.evaluate-interval=100ms");
        SyncStuckAlert alert = a.bean(SyncStuckAlert.class);
        MeterRegistry meters = a.bean(MeterRegistry.class);
        awaitOnline(a);
        a.proxy().stop();
        a.put("stuck-1", rig.body("waits for the remote"));
        await().atMost(WAIT).until(() -> engine(a).mode() == SyncControl.Mode.OFFLINE);

        clock.setOffset(Duration.ofMinutes(14)); // queued 14 minutes ago, never uploaded: not yet
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() -> alert.active().isEmpty());
        clock.setOffset(Duration.ofMinutes(16));
        await().atMost(WAIT).until(() -> alert.active().size() == 1);
        AlertEvaluator.ActiveAlert active = alert.active().get(0);
        assertThat(active.code()).isEqualTo("VSYNC-ALERT-SYNC-STUCK");
        assertThat(active.alert()).isEqualTo("sync_stuck");
        assertThat(active.backend()).isEqualTo("remote");
        assertThat(active.threshold()).isEqualTo(900);
        assertThat(active.value()).isBetween(900.0, 1000.0);
        assertThat(alertMeter(meters, "fired")).isEqualTo(1);
        assertThat(alertMeter(meters, "active")).isEqualTo(1);

        engine(a).pause(); // the operator's choice: not stuck
        await().atMost(WAIT).until(() -> alert.active().isEmpty());
        assertThat(alertMeter(meters, "active")).isZero();
        engine(a).resume();
        await().atMost(WAIT).until(() -> alert.active().size() == 1);
        assertThat(alertMeter(meters, "fired")).isEqualTo(2);

        a.proxy().start(); // the queue drains by itself and the alert clears
        await().atMost(WAIT).until(() -> outbox(a, "SYNCED", "stuck-1") == 1);
        await().atMost(WAIT).until(() -> alert.active().isEmpty());
        assertThat(alertMeter(meters, "active")).isZero();
        assertThat(alertMeter(meters, "fired")).isEqualTo(2);
    }

    private static double alertMeter(MeterRegistry meters, String which) {
        var search = meters.get("vectorsync.alerts." + which).tags("alert", "sync_stuck", "backend", "remote");
        return "fired".equals(which) ? search.counter().count() : search.gauge().value();
    }

    @Test
    void tenThousandPendingEntriesDrain(@TempDir Path dir) {
        Device a = rig.device("dev-10k", dir, clock());
        awaitOnline(a);
        engine(a).pause();
        ChunkStore store = a.bean(ChunkStore.class);
        float[] e = new float[384];
        e[0] = 1;
        for (int k = 0; k < 10; k++) {
            List<ChunkInput> inputs = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                inputs.add(new ChunkInput("many-" + (k * 1000 + i), "doc", "content " + i, e, "{}", Privacy.FULL, null,
                        false));
            }
            store.upsertAll(inputs);
        }
        assertThat(outbox(a, "PENDING", "many-%")).isEqualTo(10_000);
        engine(a).resume();
        await().atMost(Duration.ofMinutes(3)).until(() -> outbox(a, "SYNCED", "many-%") == 10_000);
        assertThat(remoteCount("many-%")).isEqualTo(10_000);
    }

    @Test
    void aDowngradeToLocalOnlyRacingARemoteEditDeletesItRemotelyAndKeepsItLocally(@TempDir Path dir) {
        Device a = rig.device("dev-private", dir, clock());
        a.put("private-1", rig.body("shared at first"));
        await().atMost(WAIT).until(() -> "SYNCED".equals(local(a, "private-1").get("sync_status")));
        engine(a).pause();
        rig.putOnServer("private-1", rig.body("edited on the server meanwhile"));
        Map<String, Object> body = new java.util.LinkedHashMap<>(rig.body("now private"));
        body.put("privacy", "LOCAL_ONLY");
        a.put("private-1", body);
        engine(a).resume();

        await().atMost(WAIT).until(() -> rig.remote().queryForObject(
                "SELECT deleted FROM chunks WHERE chunk_id = 'private-1'", Boolean.class));
        assertThat(remoteContent("private-1")).isNull();
        await().atMost(WAIT).until(() -> rig.remote().queryForObject(
                "SELECT count(*) FROM replica_chunks WHERE chunk_id = 'private-1'", Long.class) == 0);
        await().atMost(WAIT).until(() -> a.local().queryForObject(
                "SELECT count(*) FROM inbox WHERE chunk_id = 'private-1' AND status IN ('RECEIVED', 'WAITING')", Long.class) == 0);
        assertThat(local(a, "private-1")).containsEntry("content", "now private").containsEntry("privacy", "LOCAL_ONLY")
                .containsEntry("deleted", 0);
        // The device records the outcome after the remote committed it: wait for that transaction too.
        await().atMost(WAIT).until(() -> a.local().queryForObject(
                "SELECT count(*) FROM conflicts WHERE chunk_id = 'private-1'", Long.class) == 1);
        Map<String, Object> conflict = a.local().queryForMap("SELECT * FROM conflicts WHERE chunk_id = 'private-1'");
        assertThat(conflict).containsEntry("winner", "local").containsEntry("reason", "local-only");
        assertThat((String) conflict.get("remote_json")).contains("edited on the server meanwhile");
    }

    @Test
    void aDeviceWhoseClockIsTenMinutesAheadNeverSilentlyWins(@TempDir Path dir) {
        Device fast = rig.device("dev-fast", dir, new AdjustableClock(Duration.ofMinutes(10)),
                "vectorsync.sync.retry.max-attempts=2");
        Device b = rig.device("dev-ontime", dir, clock());
        b.put("skew-1", rig.body("original"));
        await().atMost(WAIT).until(() -> !local(fast, "skew-1").isEmpty());
        engine(fast).pause();
        engine(b).pause();
        fast.put("skew-1", rig.body("edit from the fast clock")); // stamped ten minutes ahead: later by the clock
        b.put("skew-1", rig.body("edit on time"));
        engine(b).resume();
        await().atMost(WAIT).until(() -> "edit on time".equals(remoteContent("skew-1")));
        engine(fast).resume();

        await().atMost(WAIT).until(() -> outbox(fast, "FAILED", "skew-1") == 1);
        assertThat(remoteContent("skew-1")).as("the fast clock's edit did not win").isEqualTo("edit on time");
        assertThat(engine(fast).clockSkew()).isGreaterThan(Duration.ofMinutes(9));
        Map<String, Object> entry = fast.local().queryForMap(
                "SELECT last_code, last_error FROM outbox WHERE chunk_id = 'skew-1' AND status = 'FAILED'");
        assertThat(entry.get("last_code")).isEqualTo("VSYNC-SYNC-004");
        assertThat((String) entry.get("last_error")).contains("VSYNC-SYNC-005").contains("clock ahead");
        // the device converges to the remote's state, and a retry is refused again, visibly
        await().atMost(WAIT).until(() -> "edit on time".equals(local(fast, "skew-1").get("content")));
        List<SyncControl.Retried> retried = engine(fast).retry(false);
        assertThat(retried).hasSize(1);
        assertThat(retried.get(0).ok()).isFalse();
        assertThat(remoteContent("skew-1")).isEqualTo("edit on time");
    }

    @Test
    void aDeviceTheRemoteMarkedForResyncCopiesTheSnapshot(@TempDir Path dir) {
        Device a = rig.device("dev-resync", dir, clock());
        await().atMost(WAIT).until(() -> a.local().queryForObject(
                "SELECT count(*) FROM device WHERE key = 'last_resync_at'", Long.class) == 1);
        rig.putOnServer("resync-gone", rig.body("deleted while the device was away"));
        await().atMost(WAIT).until(() -> !local(a, "resync-gone").isEmpty());
        String first = a.local().queryForObject("SELECT value FROM device WHERE key = 'last_resync_at'", String.class);
        engine(a).pause();
        rig.putOnServer("resync-1", rig.body("written while the device was away"));
        rig.deleteOnServer("resync-gone");
        // as retention does for a device offline past max-offline: the events are gone, the device is marked
        rig.remote().update("DELETE FROM outbox WHERE chunk_id IN ('resync-1', 'resync-gone')");
        rig.remote().update("UPDATE sync_devices SET needs_resync = true WHERE device_id = 'dev-resync'");
        engine(a).resume();

        // A download already under way when the pause came may bring resync-1 by its event; the re-sync is
        // what the test waits for.
        await().atMost(WAIT).until(() -> a.local().queryForObject(
                "SELECT value FROM device WHERE key = 'last_resync_at'", String.class).compareTo(first) > 0);
        await().atMost(WAIT).until(() -> "written while the device was away".equals(local(a, "resync-1").get("content")));
        assertThat(engine(a).resyncing()).isFalse();
        assertThat(local(a, "resync-gone")).as("the remote's deletion reached the device through the snapshot")
                .containsEntry("deleted", 1).containsEntry("content", null);
        assertThat(a.get("resync-gone")).isNull();
        assertThat(rig.remote().queryForObject("SELECT needs_resync FROM sync_devices WHERE device_id = 'dev-resync'",
                Boolean.class)).isFalse();
    }

    /**
     * Two devices and the server edit five chunks while the devices' networks come and go. Afterwards every
     * local write is accounted for (applied on the remote at a version, or lost a conflict and kept as its
     * loser), and both devices hold exactly the remote's chunks.
     */
    @Test
    void everyLocalWriteIsOnTheRemoteOrKeptAsALoserAndTheDevicesConverge(@TempDir Path dir) {
        Device a = rig.device("hist-a", dir, clock());
        Device b = rig.device("hist-b", dir, clock());
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        for (int round = 0; round < 8; round++) {
            if (round % 2 == 1) {
                a.proxy().stop();
            } else {
                a.proxy().start();
            }
            if (round % 3 == 2) {
                b.proxy().stop();
            } else {
                b.proxy().start();
            }
            for (int i = 0; i < 4; i++) {
                a.put("hist-" + random.nextInt(5), rig.body("a " + round + "." + i));
                b.put("hist-" + random.nextInt(5), rig.body("b " + round + "." + i));
            }
            rig.putOnServer("hist-" + random.nextInt(5), rig.body("server " + round));
        }
        a.proxy().start();
        b.proxy().start();
        for (Device d : List.of(a, b)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> outbox(d, "PENDING", "hist-%") == 0
                    && d.local().queryForObject("SELECT count(*) FROM inbox WHERE status IN ('RECEIVED', 'WAITING')",
                            Long.class) == 0);
            assertThat(outbox(d, "FAILED", "hist-%")).isZero();
            // a lost write is kept: one conflict row per entry the remote's side won, with the device's content
            for (Map<String, Object> lost : d.local().queryForList(
                    "SELECT chunk_id, payload FROM outbox WHERE status = 'CONFLICT' AND chunk_id LIKE 'hist-%'")) {
                String content = json(lost.get("payload")).path("content").asText();
                assertThat(d.local().queryForObject("""
                        SELECT count(*) FROM conflicts WHERE chunk_id = ? AND (local_json LIKE ? OR remote_json LIKE ?)
                        """, Long.class, lost.get("chunk_id"), "%" + content + "%", "%" + content + "%"))
                        .as("the conflict of %s is kept", lost.get("chunk_id")).isPositive();
            }
            // an applied write got a remote version above its base
            assertThat(d.local().queryForObject("""
                    SELECT count(*) FROM outbox WHERE chunk_id LIKE 'hist-%' AND status = 'SYNCED'
                       AND (assigned_version IS NULL OR assigned_version <= base_version)
                    """, Long.class)).isZero();
        }
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            for (int c = 0; c < 5; c++) {
                String id = "hist-" + c;
                if (remoteVersion(id) == 0) {
                    continue;
                }
                for (Device d : List.of(a, b)) {
                    assertThat(local(d, id).get("content")).as(d.id() + " " + id).isEqualTo(remoteContent(id));
                    assertThat(((Number) local(d, id).get("remote_version")).longValue()).isEqualTo(remoteVersion(id));
                }
            }
        });
    }

    private static JsonNode json(Object text) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree((String) text);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
