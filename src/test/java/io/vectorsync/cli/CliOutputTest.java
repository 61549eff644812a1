package io.vectorsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * The CLI's output pieces without a service: the progress bar, the table, what status calls a problem, and
 * how a refusal (problem details) prints.
 */
class CliOutputTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theProgressBarDrawsOnOneLineOnlyWhenEnabled() {
        StringWriter s = new StringWriter();
        ProgressBar bar = new ProgressBar(new PrintWriter(s), true, "backfill replica");
        bar.update(0, 200);
        bar.update(100, 200);
        bar.update(200, 200);
        bar.finish();
        assertThat(s.toString()).startsWith("\rbackfill replica [" + ".".repeat(30) + "] 0% 0/200")
                .contains("\rbackfill replica [" + "#".repeat(15) + ".".repeat(15) + "] 50% 100/200")
                .endsWith("[" + "#".repeat(30) + "] 100% 200/200" + System.lineSeparator());

        StringWriter quiet = new StringWriter();
        ProgressBar off = new ProgressBar(new PrintWriter(quiet), false, "verify");
        off.update(5, 10);
        off.finish();
        assertThat(quiet.toString()).isEmpty();
    }

    @Test
    void verifyCountsEdgesAndUnreadablePayloadsAsDifferences() throws Exception {
        assertThat(Commands.Verify.differences(JSON.readTree("""
                {"missing": 0, "extra": 0, "stale": 0, "corrupt": 0, "unreadable": 0,
                 "links": {"missing": 0, "extra": 0, "stale": 0, "corrupt": 0, "unreadable": 0}}"""))).isZero();
        assertThat(Commands.Verify.differences(JSON.readTree("""
                {"missing": 0, "extra": 0, "stale": 0, "corrupt": 0,
                 "links": {"missing": 1, "extra": 2, "stale": 0, "corrupt": 1}}"""))).isEqualTo(4);
        assertThat(Commands.Verify.differences(JSON.readTree("""
                {"missing": 1, "extra": 0, "stale": 0, "corrupt": 0, "unreadable": 1}"""))).isEqualTo(2);
    }

    @Test
    void tablesAlignColumnsAndKeepEachRowOnOneLine() {
        StringWriter s = new StringWriter();
        new Table("BACKEND", "STATE", "LAST ERROR").row("replica", "ok", null)
                .row("a-much-longer-name", "paused", "line one\nline two").print(new PrintWriter(s));
        assertThat(s.toString().lines().toList()).containsExactly(
                "BACKEND             STATE   LAST ERROR",
                "replica             ok      -",
                "a-much-longer-name  paused  line one line two");
    }

    @Test
    void statusProblemsAreBackoffFailuresAnOpenCircuitDeadLettersAndAlerts() throws Exception {
        assertThat(Commands.problems(json("{\"backend\":\"r\",\"paused\":true,\"backingOff\":false,"
                + "\"consecutiveFailures\":0,\"circuit\":\"CLOSED\",\"deadLetters\":0,\"parked\":3}"))).isEmpty();
        assertThat(Commands.problems(json("{\"backingOff\":true,\"consecutiveFailures\":2}")))
                .containsExactly("backing off after failures", "2 consecutive failures");
        assertThat(Commands.problems(json("{\"circuit\":\"OPEN\"}"))).containsExactly("circuit OPEN");
        assertThat(Commands.problems(json("{\"circuit\":{\"state\":\"HALF_OPEN\"}}")))
                .containsExactly("circuit HALF_OPEN");
        assertThat(Commands.problems(json("{\"circuit\":{\"state\":\"closed\"}}"))).isEmpty();
        assertThat(Commands.problems(json("{\"deadLetters\":4}"))).containsExactly("4 dead letters");
        assertThat(Commands.problems(json("{\"alerts\":[\"lag\"]}"))).hasSize(1);
        assertThat(Commands.problems(json("{\"alerts\":[],\"alert\":false}"))).isEmpty();
        assertThat(Commands.problems(json("{\"state\":\"down\"}"))).containsExactly("state down");
    }

    @Test
    void refusalsPrintTheCodeAndDetailOfTheProblemDetails() throws Exception {
        CliException notFound = AdminClient.failure(404, json("""
                {"type":"https://vectorsync.io/errors/vsync-backend-not-found","title":"Backend not found",
                 "status":404,"detail":"No backend named 'nope'.","instance":"/admin/v1/backends/nope/pause",
                 "code":"VSYNC-BACKEND-NOT-FOUND","field":"backend","expected":"a configured backend"}"""),
                "POST /admin/v1/backends/nope/pause", true);
        assertThat(notFound.exitCode()).isEqualTo(VectorsyncCli.EXIT_USAGE);
        assertThat(notFound.getMessage()).isEqualTo("POST /admin/v1/backends/nope/pause failed: 404"
                + " VSYNC-BACKEND-NOT-FOUND: No backend named 'nope'.");

        CliException refused = AdminClient.failure(401, json("""
                {"type":"https://vectorsync.io/errors/vsync-auth-required","status":401,
                 "detail":"The admin API needs credentials.","code":"VSYNC-AUTH-REQUIRED"}"""), "GET /admin/v1/status",
                false);
        assertThat(refused.exitCode()).isEqualTo(VectorsyncCli.EXIT_UNAUTHORISED);
        assertThat(refused.getMessage()).isEqualTo("Not authorised (VSYNC-AUTH-REQUIRED): The admin API needs"
                + " credentials. Set VECTORSYNC_ADMIN_TOKEN or pass --token-file.");

        // Not problem details (a proxy's answer): the status stands in for the code, the body for the detail.
        CliException proxy = AdminClient.failure(502, json("{\"detail\":\"Bad Gateway\"}"), "GET /admin/v1/status",
                true);
        assertThat(proxy.exitCode()).isEqualTo(VectorsyncCli.EXIT_PROBLEMS);
        assertThat(proxy.getMessage()).isEqualTo("GET /admin/v1/status failed: 502 HTTP-502: Bad Gateway");
    }

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }
}
