package io.vectorsync.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.cli.CliRunner;
import io.vectorsync.cli.CliRunner.Run;
import io.vectorsync.support.AdjustableClock;
import io.vectorsync.support.SyncRig;
import io.vectorsync.support.SyncRig.Device;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's surface of a device's sync, against real devices (the local profile on SQLite files, the
 * remote through a TCP proxy, SyncRig): {@code vectorsync sync status | now | retry | pause | resume | queue
 * | conflicts} run in-process through the CLI's entry point over HTTP, their text and JSON and exit codes;
 * the admin endpoints' authentication and problem details; and the device's scrape (the sync gauges, every
 * {@code vectorsync_sync_*} metric the alert rules and the dashboard use, and {@code promtool check metrics}).
 */
class SyncCliIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String TOKEN = "test-admin-token";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Ticks that never come during a test: only the CLI's {@code sync now} (and a write's nudge) move anything. */
    private static final String[] QUIET = {"vectorsync.sync.upload.poll-interval=1h",
            "vectorsync.sync.download.poll-interval=1h"};
    private static SyncRig rig;

    @BeforeAll
    static void startServer() {
        rig = new SyncRig("SyncCliIT");
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

    private static Device device(String id, Path dir, AdjustableClock clock, String... extra) {
        return rig.device(id, dir, clock, extra);
    }

    private static Run cli(Device d, String... args) {
        return CliRunner.run(Map.of("VECTORSYNC_URL", d.url(), "VECTORSYNC_ADMIN_TOKEN", TOKEN), args);
    }

    private static long remoteCount(String like) {
        return rig.remote().queryForObject("SELECT count(*) FROM chunks WHERE chunk_id LIKE ? AND NOT deleted",
                Long.class, like);
    }

    @Test
    void statusQueuePauseNowAndResumeShowWhatTheDeviceDoes(@TempDir Path dir) throws Exception {
        Device a = device("cli-a", dir, new AdjustableClock(Duration.ZERO), QUIET);

        Run first = cli(a, "sync", "now");
        assertThat(first.code()).as(first.toString()).isZero();
        assertThat(first.out()).contains("Uploaded:   0").contains("Downloaded: ");
        Run online = cli(a, "sync", "status");
        assertThat(online.code()).as(online.toString()).isZero();
        assertThat(online.out()).contains("Sync status of device cli-a").contains("Mode:       Online")
                .contains("Queue:      0 items").contains("Local → Remote").contains("Remote → Local")
                .contains("Last pull:        ").doesNotContain("Last pull:        never");

        Run pause = cli(a, "sync", "pause");
        assertThat(pause.code()).as(pause.toString()).isZero();
        assertThat(pause.out()).contains("Sync paused; mode Paused.");
        a.put("st-1", rig.body("one"));
        a.put("st-2", rig.body("two"));

        Run paused = cli(a, "sync", "status");
        assertThat(paused.out()).as(paused.toString()).contains("Mode:       Paused").contains("Queue:      2 items")
                .contains("Pending:          2").contains("Failed:           0");
        Run queue = cli(a, "sync", "queue");
        assertThat(queue.code()).as(queue.toString()).isZero();
        assertThat(queue.out()).contains("2 pending, 0 failed").contains("ITEM").contains("RETRIES")
                .containsPattern("st-1\\s+UPSERT\\s+PENDING\\s+0").containsPattern("st-2\\s+UPSERT\\s+PENDING\\s+0");
        JsonNode entries = JSON.readTree(cli(a, "sync", "queue", "--json").out()).get("entries");
        assertThat(entries).hasSize(2);
        assertThat(entries.get(0).get("chunkId").asText()).isEqualTo("st-1");
        assertThat(entries.get(0).has("payload")).as("no payload in the queue").isFalse();
        assertThat(cli(a, "sync", "queue", "--errors").out()).contains("No entry with an error.");

        Run whilePaused = cli(a, "sync", "now");
        assertThat(whilePaused.code()).as(whilePaused.toString()).isEqualTo(1);
        assertThat(whilePaused.out()).contains("Not complete: the sync is paused");
        assertThat(remoteCount("st-%")).isZero();

        Run resume = cli(a, "sync", "resume");
        assertThat(resume.code()).as(resume.toString()).isZero();
        assertThat(resume.out()).contains("Sync resumed; mode ");
        Run now = cli(a, "sync", "now");
        assertThat(now.code()).as(now.toString()).isZero();
        assertThat(now.out()).contains("Uploaded:   2").contains("Downloaded: 0");
        assertThat(remoteCount("st-%")).isEqualTo(2);

        long downloaded = JSON.readTree(cli(a, "sync", "status", "--json").out()).at("/remoteToLocal/downloadedToday")
                .asLong();
        rig.putOnServer("st-server", rig.body("from the server"));
        Run pull = cli(a, "sync", "now");
        assertThat(pull.out()).as(pull.toString()).contains("Uploaded:   0").contains("Downloaded: 1");

        Run after = cli(a, "sync", "status");
        assertThat(after.code()).as(after.toString()).isZero();
        assertThat(after.out()).contains("Mode:       Online").contains("Queue:      0 items")
                .contains("Pending:          0").contains("Synced today:     2")
                .contains("Downloaded today: " + (downloaded + 1))
                .containsPattern("Last Sync:  \\d+ s ago \\(");
        JsonNode status = JSON.readTree(cli(a, "sync", "status", "--json").out());
        assertThat(status.at("/localToRemote/syncedToday").asLong()).isEqualTo(2);
        assertThat(status.at("/remoteToLocal/downloadedToday").asLong()).isEqualTo(downloaded + 1);
        assertThat(status.get("mode").asText()).isEqualTo("ONLINE");
        assertThat(status.get("deviceId").asText()).isEqualTo("cli-a");
        assertThat(cli(a, "sync", "queue").out()).contains("Nothing waiting: everything is on the remote.");
    }

    @Test
    void withTheNetworkCutStatusSaysOfflineAndNowSaysWhyAndTheQueueDrainsWhenItIsBack(@TempDir Path dir) {
        // A long backoff: the upload the offline write nudged must not get through by itself between the
        // network's return and `sync now` (which does not wait for the backoff), as it could on a loaded machine.
        Device a = device("cli-off", dir, new AdjustableClock(Duration.ZERO), QUIET[0], QUIET[1],
                "vectorsync.sync.retry.base-delay=10m", "vectorsync.sync.retry.max-delay=10m");
        assertThat(cli(a, "sync", "now").code()).isZero();
        a.proxy().stop();
        a.put("off-1", rig.body("written offline"));
        Run now = cli(a, "sync", "now");
        assertThat(now.code()).as(now.toString()).isEqualTo(1);
        assertThat(now.out()).contains("Uploaded:   0").contains("Not complete: VSYNC-SYNC-001")
                .contains("(mode Offline)");
        Run status = cli(a, "sync", "status");
        assertThat(status.code()).as("offline is not a failure: " + status).isZero();
        assertThat(status.out()).contains("Mode:       Offline").contains("Queue:      1 item")
                .contains("Pending:          1").contains("Last error: VSYNC-SYNC-001");
        assertThat(remoteCount("off-%")).isZero();

        a.proxy().start();
        Run back = cli(a, "sync", "now");
        assertThat(back.code()).as(back.toString()).isZero();
        assertThat(back.out()).contains("Uploaded:   1");
        assertThat(remoteCount("off-%")).isOne();
        assertThat(cli(a, "sync", "status").out()).contains("Mode:       Online").doesNotContain("Last error");
    }

    @Test
    void aFailedEntryShowsInStatusAndQueueAndRetryPrintsALineForIt(@TempDir Path dir) throws Exception {
        // Ten minutes ahead: the remote refuses the stamp (VSYNC-SYNC-005), and with one attempt it is FAILED.
        Device fast = device("cli-fast", dir, new AdjustableClock(Duration.ofMinutes(10)),
                "vectorsync.sync.retry.max-attempts=1", QUIET[0], QUIET[1]);
        assertThat(cli(fast, "sync", "pause").code()).isZero();
        fast.put("cli-skew", rig.body("stamped ahead"));
        assertThat(cli(fast, "sync", "resume").code()).isZero();
        cli(fast, "sync", "now");
        await().atMost(WAIT).until(() -> fast.local().queryForObject(
                "SELECT count(*) FROM outbox WHERE chunk_id = 'cli-skew' AND status = 'FAILED'", Long.class) == 1);

        Run status = cli(fast, "sync", "status");
        assertThat(status.code()).as(status.toString()).isEqualTo(1);
        assertThat(status.out()).contains("Failed:           1").contains("problem: 1 failed entries");
        Run errors = cli(fast, "sync", "queue", "--errors");
        assertThat(errors.code()).as(errors.toString()).isEqualTo(1);
        assertThat(errors.out()).contains("0 pending, 1 failed").containsPattern("cli-skew\\s+UPSERT\\s+FAILED\\s+1")
                .contains("VSYNC-SYNC-004").contains("clock ahead");

        Run retry = cli(fast, "sync", "retry");
        List<String> lines = retry.out().lines().filter(l -> l.contains("cli-skew")).toList();
        assertThat(lines).as(retry.toString()).hasSize(1);
        assertThat(lines.get(0)).matches("[✓✗] cli-skew \\(entry \\d+\\).*");
        boolean failedAgain = lines.get(0).startsWith("✗");
        assertThat(retry.code()).as(retry.toString()).isEqualTo(failedAgain ? 1 : 0);
        assertThat(retry.out()).contains("1 retried: " + (failedAgain ? "0 ok, 1 failed" : "1 ok, 0 failed"));
        String now = fast.local().queryForObject("SELECT status FROM outbox WHERE chunk_id = 'cli-skew'", String.class);
        assertThat(now).isEqualTo(failedAgain ? "FAILED" : "SYNCED");
        JsonNode json = JSON.readTree(cli(fast, "sync", "retry", "--force", "--json").out());
        assertThat(json.get("force").asBoolean()).isTrue();
    }

    @Test
    void conflictsListBothVersionsTheResolutionAndWhereTheOriginalIsKept(@TempDir Path dir) throws Exception {
        Device a = device("cli-ca", dir, new AdjustableClock(Duration.ZERO));
        Device b = device("cli-cb", dir, new AdjustableClock(Duration.ZERO));
        assertThat(cli(b, "sync", "conflicts").out()).contains("No conflicts.");
        a.put("cli-conflict", rig.body("original"));
        await().atMost(WAIT).until(() -> b.get("cli-conflict") != null);
        assertThat(cli(a, "sync", "pause").code()).isZero();
        assertThat(cli(b, "sync", "pause").code()).isZero();
        b.put("cli-conflict", rig.body("edit from b")); // the earlier edit
        a.put("cli-conflict", rig.body("edit from a")); // the later one: last-write-wins keeps it
        assertThat(cli(a, "sync", "resume").code()).isZero();
        await().atMost(WAIT).until(() -> rig.remote().queryForList(
                "SELECT version FROM chunks WHERE chunk_id = 'cli-conflict'", Long.class).equals(List.of(2L)));
        assertThat(cli(b, "sync", "resume").code()).isZero();
        await().atMost(WAIT).until(() -> b.local().queryForObject(
                "SELECT count(*) FROM conflicts WHERE chunk_id = 'cli-conflict'", Long.class) == 1);

        Run conflicts = cli(b, "sync", "conflicts");
        assertThat(conflicts.code()).as(conflicts.toString()).isZero();
        assertThat(conflicts.out()).containsPattern("Conflict #\\d+ on cli-conflict, detected \\d{4}-")
                .containsPattern("Local: +v(\\d+|\\?), modified \\S+ by cli-cb")
                .containsPattern("Remote: +v2, modified \\S+ by cli-ca")
                .contains("Resolution: remote wins (last-write-wins, base-version)")
                .contains("Original:   the local version");
        JsonNode c = JSON.readTree(cli(b, "sync", "conflicts", "--json").out()).get("conflicts").get(0);
        String file = c.get("loserFile").asText();
        assertThat(conflicts.out()).contains("is kept in " + file);
        assertThat(Path.of(file)).exists();
        assertThat(Files.readString(Path.of(file))).contains("edit from b");
        assertThat(c.toString()).as("no content in the admin answer").doesNotContain("edit from");
        assertThat(JSON.readTree(cli(b, "sync", "status", "--json").out()).at("/conflicts/total").asLong()).isOne();
    }

    @Test
    void theSyncEndpointsNeedTheAdminCredentialAndRefuseWithProblemDetails(@TempDir Path dir) throws Exception {
        Device a = device("cli-auth", dir, new AdjustableClock(Duration.ZERO), QUIET);
        HttpResponse<String> anonymous = call(a, "GET", "/admin/v1/sync/status", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("Content-Type")).get().asString().startsWith("application/problem+json");
        HttpResponse<String> badLimit = call(a, "GET", "/admin/v1/sync/queue?limit=0", TOKEN);
        assertThat(badLimit.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(badLimit.body()).get("code").asText()).isEqualTo("VSYNC-LIMIT-INVALID");
        Run wrong = CliRunner.run(Map.of("VECTORSYNC_URL", a.url(), "VECTORSYNC_ADMIN_TOKEN", "wrong"), "sync", "status");
        assertThat(wrong.code()).as(wrong.toString()).isEqualTo(4);
        Run server = CliRunner.run(Map.of("VECTORSYNC_URL", rig.serverUrl(), "VECTORSYNC_ADMIN_TOKEN", TOKEN), "sync",
                "status");
        assertThat(server.code()).as(server.toString()).isEqualTo(2);
        assertThat(server.err()).contains("404 VSYNC-NOT-FOUND").contains("Is --url a device?");
        Run limit = cli(a, "sync", "conflicts", "--limit", "0");
        assertThat(limit.code()).as(limit.toString()).isEqualTo(2);
        assertThat(limit.err()).contains("VSYNC-LIMIT-INVALID");

        // The OpenAPI document describes the sync endpoints with typed answers.
        JsonNode doc = JSON.readTree(call(a, "GET", "/v3/api-docs", null).body());
        for (String path : List.of("status", "queue", "conflicts")) {
            assertThat(doc.at("/paths/~1admin~1v1~1sync~1" + path + "/get/responses/200/content").toString())
                    .as(path).contains("#/components/schemas/");
        }
        for (String path : List.of("now", "retry", "pause", "resume")) {
            assertThat(doc.at("/paths/~1admin~1v1~1sync~1" + path + "/post/responses/200/content").toString())
                    .as(path).contains("#/components/schemas/");
        }
    }

    @Test
    void theDeviceScrapeHasTheSyncGaugesAndPromtoolFindsNothing(@TempDir Path dir) throws Exception {
        Device a = device("cli-metrics", dir, new AdjustableClock(Duration.ZERO), QUIET);
        cli(a, "sync", "now");
        cli(a, "sync", "pause");
        a.put("cli-m1", rig.body("queued"));
        String scrape = call(a, "GET", "/actuator/prometheus", null).body();
        Files.writeString(Path.of("target/device-prometheus.txt"), scrape);
        assertThat(sample(scrape, "vectorsync_sync_queue_depth")).isEqualTo(1.0);
        assertThat(sample(scrape, "vectorsync_sync_queue_oldest_age_seconds")).isGreaterThanOrEqualTo(0.0);
        assertThat(sample(scrape, "vectorsync_sync_last_pull_seconds")).isGreaterThan(1.7e9);
        assertThat(sample(scrape, "vectorsync_sync_last_upload_seconds")).isGreaterThanOrEqualTo(0.0);
        assertThat(scrape).contains("vectorsync_sync_mode{mode=\"paused\"} 1.0")
                .contains("vectorsync_sync_mode{mode=\"online\"} 0.0").contains("vectorsync_sync_clock_skew_seconds");

        // Every device metric the alert rules and the dashboard use is in the device's scrape.
        Set<String> exported = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").matcher(scrape);
        while (m.find()) {
            exported.add(m.group(1));
        }
        Set<String> used = syncMetrics(Files.readString(Path.of("deploy/prometheus/alerts.yml")));
        used.addAll(syncMetrics(Files.readString(Path.of("deploy/grafana/vectorsync.json"))));
        assertThat(used).hasSizeGreaterThanOrEqualTo(6);
        assertThat(exported).containsAll(used);

        Process p;
        try {
            p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed: run scripts/install-promtool.sh", e);
        }
        p.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String findings = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(findings).as("promtool check metrics on the device's /actuator/prometheus").isEmpty();
    }

    private static Set<String> syncMetrics(String text) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\bvectorsync_sync_[a-z_]+").matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    private static double sample(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(scrape);
        assertThat(m.find()).as(name + " in the scrape").isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static HttpResponse<String> call(Device d, String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(d.url() + path)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
