package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.cli.CliRunner;
import io.vectorsync.cli.CliRunner.Run;
import io.vectorsync.support.AbstractIT;
import java.io.File;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.TestPropertySource;

/**
 * The CLI (io.vectorsync.cli.VectorsyncCli) run in-process against the real service: every command but
 * verify (CliVerifyIT), its tables and JSON, and its exit codes: 0 ok, 1 problems found, 2 usage,
 * 3 cannot reach the service, 4 not authorised. The last test runs the `vectorsync` script on the
 * packaged jar, as an operator would.
 */
@TestPropertySource(properties = {
        "vectorsync.relay.max-attempts=2",
        "vectorsync.relay.backoff-base=300ms",
        "vectorsync.relay.backoff-max=1s"})
class CliIT extends AbstractIT {

    @LocalServerPort
    int port;

    @TempDir
    Path temp;

    private Map<String, String> env() {
        return Map.of("VECTORSYNC_URL", "http://127.0.0.1:" + port, "VECTORSYNC_ADMIN_TOKEN", ADMIN_TOKEN);
    }

    private Run cli(String... args) {
        return CliRunner.run(env(), args);
    }

    @AfterEach
    void cleanUp() {
        jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT IF EXISTS no_poison");
        jdbc.update("UPDATE relay_cursor SET paused = false, paused_until = NULL, consecutive_failures = 0");
        jdbc.update("DELETE FROM parked");
        jdbc.update("UPDATE dead_letter SET discarded_at = now(), discard_reason = 'test clean-up'"
                + " WHERE replayed_at IS NULL AND discarded_at IS NULL");
    }

    private boolean paused() {
        return Boolean.TRUE.equals(jdbc.queryForObject("SELECT paused FROM relay_cursor WHERE backend = 'replica'",
                Boolean.class));
    }

    private long inReplica(String chunkId) {
        return count("SELECT count(*) FROM replica_chunks WHERE chunk_id = ?", chunkId);
    }

    private void refusePoison() {
        jdbc.execute("ALTER TABLE replica_chunks ADD CONSTRAINT no_poison CHECK (document_id IS DISTINCT FROM"
                + " 'poison') NOT VALID");
    }

    private void putPoison(String id) {
        Map<String, Object> c = chunkBody("poison " + id);
        c.put("documentId", "poison");
        assertThat(put(id, c).getStatusCode().value()).isEqualTo(201);
    }

    @Test
    void statusPrintsATableOrJsonAndExitsOneWhileABackendFails() throws Exception {
        Run ok = cli("status");
        assertThat(ok.code()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("BACKEND").contains("STATE").contains("replica").contains("ok");
        assertThat(ok.err()).isEmpty(); // no progress bar or noise when not in a terminal

        Run asJson = cli("status", "--json");
        assertThat(asJson.code()).isZero();
        JsonNode status = json.readTree(asJson.out());
        assertThat(status.get("backends").get(0).get("backend").asText()).isEqualTo("replica");

        // A backend backing off after failures is a problem: exit 1, and the table says why.
        jdbc.update("UPDATE relay_cursor SET consecutive_failures = 3, paused_until = now() + interval '1 hour'"
                + " WHERE backend = 'replica'");
        Run failing = cli("status");
        assertThat(failing.code()).as(failing.toString()).isEqualTo(1);
        assertThat(failing.out()).contains("backing-off").contains("problem: replica: backing off after failures")
                .contains("3 consecutive failures");
        assertThat(cli("--json", "status").code()).isEqualTo(1);
    }

    @Test
    void nowWakesTheRelaysAndEndsABackoff() {
        jdbc.update("UPDATE relay_cursor SET paused_until = now() + interval '1 hour' WHERE backend = 'replica'");
        assertThat(put("now-1", chunkBody("now")).getStatusCode().value()).isEqualTo(201);
        Run now = cli("now");
        assertThat(now.code()).as(now.toString()).isZero();
        assertThat(now.out()).contains("Woke the relays of: replica");
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("now-1") == 1);
    }

    @Test
    void pauseAndResumeChangeTheDatabaseColumnAndTheRelayFollowsIt() throws Exception {
        Run pause = cli("pause", "replica");
        assertThat(pause.code()).as(pause.toString()).isZero();
        assertThat(pause.out()).contains("PAUSED").containsPattern("replica\\s+true");
        assertThat(paused()).isTrue();
        assertThat(put("cli-paused", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> inReplica("cli-paused") == 0);
        // The queue shows it pending meanwhile (no errors: exit 0).
        Run queue = cli("queue", "--backend", "replica", "--status", "pending");
        assertThat(queue.code()).as(queue.toString()).isZero();
        assertThat(queue.out()).contains("PENDING").contains("cli-paused");

        Run resume = cli("resume", "replica", "--json");
        assertThat(resume.code()).as(resume.toString()).isZero();
        assertThat(json.readTree(resume.out()).get("paused").asBoolean()).isFalse();
        assertThat(paused()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("cli-paused") == 1);

        // Every backend at once.
        assertThat(cli("pause").code()).isZero();
        assertThat(paused()).isTrue();
        assertThat(put("cli-all-paused", chunkBody("waits")).getStatusCode().value()).isEqualTo(201);
        await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2))
                .until(() -> inReplica("cli-all-paused") == 0);
        Run all = cli("resume");
        assertThat(all.code()).isZero();
        assertThat(all.out()).containsPattern("replica\\s+false");
        assertThat(paused()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> inReplica("cli-all-paused") == 1);
    }

    @Test
    void queueRetryAndReplayWorkThroughTheDeadLetterLifecycle() throws Exception {
        Run empty = cli("queue", "--errors");
        assertThat(empty.code()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("No event with an error.");

        refusePoison();
        putPoison("cli-dead");
        await().atMost(Duration.ofSeconds(15))
                .until(() -> count("SELECT count(*) FROM dead_letter WHERE chunk_id = 'cli-dead'") == 1);
        putPoison("cli-parked");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> count("SELECT count(*) FROM parked WHERE chunk_id = 'cli-parked'") == 1);
        jdbc.update("UPDATE parked SET next_attempt_at = now() + interval '1 hour' WHERE chunk_id = 'cli-parked'");

        Run errors = cli("queue", "--errors");
        assertThat(errors.code()).as(errors.toString()).isEqualTo(1);
        assertThat(errors.out()).contains("FAILED").contains("cli-dead").contains("PARKED").contains("cli-parked")
                .contains("SQLSTATE 23514");
        Run errorsJson = cli("queue", "--errors", "--json", "--backend", "replica");
        assertThat(errorsJson.code()).isEqualTo(1);
        assertThat(json.readTree(errorsJson.out()).get("counts").get(0).get("failed").asInt()).isEqualTo(1);

        // retry --force: due now with a fresh budget (the backend still refuses it, so hold the relay).
        assertThat(cli("pause", "replica").code()).isZero();
        Run retry = cli("retry", "--force", "--backend", "replica");
        assertThat(retry.code()).as(retry.toString()).isZero();
        assertThat(retry.out()).contains("1 parked events due now, attempts reset");
        assertThat(jdbc.queryForMap("SELECT attempts, next_attempt_at <= now() AS due FROM parked"
                + " WHERE chunk_id = 'cli-parked'")).isEqualTo(Map.of("attempts", 0, "due", true));

        // replay --dry-run lists the dead letter and changes nothing.
        Run dry = cli("replay", "--dry-run", "--backend", "replica");
        assertThat(dry.code()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("cli-dead").contains("Would replay 1 dead letters");
        assertThat(count("SELECT count(*) FROM dead_letter WHERE replayed_at IS NULL")).isOne();
        assertThat(cli("replay", "--dry-run", "--json").out()).contains("\"wouldReplay\" : 1");

        // The cause fixed: replay and retry deliver both.
        jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT no_poison");
        Run replay = cli("replay", "--backend", "replica");
        assertThat(replay.code()).as(replay.toString()).isZero();
        assertThat(replay.out()).contains("Replayed 1 dead letters.");
        assertThat(count("SELECT count(*) FROM dead_letter WHERE replayed_at IS NULL")).isZero();
        assertThat(cli("resume", "replica").code()).isZero();
        assertThat(cli("retry").code()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> inReplica("cli-dead") + inReplica("cli-parked") == 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> cli("queue", "--errors").code() == 0);
        Run none = cli("replay", "--backend", "replica");
        assertThat(none.out()).contains("Replayed 0 dead letters.");
        awaitReplicaInStep(Duration.ofSeconds(5));
    }

    @Test
    void backfillRebuildsAWipedBackendAndWaitsForIt() throws Exception {
        for (int i = 0; i < 30; i++) {
            assertThat(put("cli-bf-" + i, chunkBody("backfill " + i)).getStatusCode().value()).isEqualTo(201);
        }
        awaitReplicaInStep(Duration.ofSeconds(10));
        jdbc.execute("TRUNCATE replica_chunks");
        long live = count("SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'");

        Run backfill = cli("backfill", "replica");
        assertThat(backfill.code()).as(backfill.toString()).isZero();
        assertThat(backfill.out()).contains("Backfill of replica finished: " + live + " chunks copied");
        awaitReplicaInStep(Duration.ofSeconds(5));

        Run again = cli("backfill", "replica", "--json");
        assertThat(again.code()).as(again.toString()).isZero();
        JsonNode b = json.readTree(again.out());
        assertThat(b.get("backfill").get("running").asBoolean()).isFalse();
        assertThat(b.get("backfill").get("copied").asLong()).isEqualTo(live);
    }

    @Test
    void exitCodesTellUsageUnreachableAndUnauthorisedApart() throws Exception {
        // 2: usage.
        assertThat(cli().code()).isEqualTo(2);
        Run unknown = cli("frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("frobnicate");
        assertThat(cli("backfill").code()).isEqualTo(2);
        assertThat(cli("queue", "--limit").code()).isEqualTo(2);
        assertThat(cli("queue", "--status", "DONE").code()).isEqualTo(2);
        assertThat(cli("pause", "Not/A'Backend").code()).isEqualTo(2);
        assertThat(cli("queue", "--limit", "0").code()).isEqualTo(2); // the service refuses it: 400
        Run noSuch = cli("pause", "nope");
        assertThat(noSuch.code()).isEqualTo(2);
        assertThat(noSuch.err()).contains("VSYNC-BACKEND-NOT-FOUND");
        assertThat(cli("--url", "ftp://x", "status").code()).isEqualTo(2);
        assertThat(cli("--help").code()).isZero();
        Run help = cli("queue", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("--errors").contains("--backend");

        // 3: nothing listens on the port.
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Run unreachable = cli("--url", "http://127.0.0.1:" + closed, "status");
        assertThat(unreachable.code()).as(unreachable.toString()).isEqualTo(3);
        assertThat(unreachable.err()).contains("Cannot reach vectorsync at http://127.0.0.1:" + closed);

        // 4: a wrong token, or none; a token file with the right one works.
        Run wrong = CliRunner.run(Map.of("VECTORSYNC_URL", "http://127.0.0.1:" + port,
                "VECTORSYNC_ADMIN_TOKEN", "not-the-token"), "pause", "replica");
        assertThat(wrong.code()).as(wrong.toString()).isEqualTo(4);
        assertThat(wrong.err()).contains("VSYNC-AUTH-INVALID");
        assertThat(paused()).isFalse();
        Run none = CliRunner.run(Map.of("VECTORSYNC_URL", "http://127.0.0.1:" + port), "status");
        assertThat(none.code()).isEqualTo(4);
        assertThat(none.err()).contains("VSYNC-AUTH-REQUIRED").contains("VECTORSYNC_ADMIN_TOKEN");
        Path tokenFile = temp.resolve("token");
        Files.writeString(tokenFile, ADMIN_TOKEN + "\n");
        Run withFile = CliRunner.run(Map.of(), "--url", "http://127.0.0.1:" + port, "--token-file",
                tokenFile.toString(), "status");
        assertThat(withFile.code()).as(withFile.toString()).isZero();
    }

    @Test
    void theVectorsyncScriptRunsTheCliFromThePackagedJarWithoutStartingTheService() throws Exception {
        File script = new File("vectorsync");
        assertThat(script).exists();
        assertThat(script.canExecute()).isTrue();
        assertThat(new File("target").listFiles((d, n) -> n.matches("vectorsync-.*\\.jar"))).isNotEmpty();
        ProcessBuilder pb = new ProcessBuilder("./vectorsync", "status", "--json").redirectErrorStream(false);
        pb.environment().put("VECTORSYNC_URL", "http://127.0.0.1:" + port);
        pb.environment().put("VECTORSYNC_ADMIN_TOKEN", ADMIN_TOKEN);
        long started = System.nanoTime();
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out + err).isZero();
        // Only the JSON on stdout: no Spring banner, no Camel or Spring log lines.
        assertThat(json.readTree(out).get("backends").get(0).get("backend").asText()).isEqualTo("replica");
        assertThat(out + err).doesNotContain("Spring").doesNotContain("Camel").doesNotContain("INFO");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));

        ProcessBuilder bad = new ProcessBuilder("./vectorsync", "--url", "http://127.0.0.1:" + port, "status");
        bad.environment().remove("VECTORSYNC_ADMIN_TOKEN");
        bad.environment().put("VECTORSYNC_ADMIN_TOKEN", "wrong");
        Process q = bad.start();
        assertThat(q.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(q.exitValue()).isEqualTo(4);
    }
}
