package io.vectorsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The CLI's output pieces without a service: the progress bar, the table, and what status calls a problem. */
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

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }
}
