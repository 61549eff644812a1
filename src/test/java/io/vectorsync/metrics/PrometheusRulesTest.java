package io.vectorsync.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * deploy/prometheus: the rules pass {@code promtool check rules}, their unit tests pass
 * {@code promtool test rules}, and the scrape configuration passes {@code promtool check config}.
 * promtool comes from the Debian package {@code prometheus} (scripts/install-promtool.sh, run by the
 * build before the tests); without it these tests fail, they never skip.
 */
class PrometheusRulesTest {

    private static final Path DIR = Path.of("deploy/prometheus");

    @Test
    void alertRulesPassPromtoolCheck() throws Exception {
        Result r = promtool("check", "rules", "alerts.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 7 rules found");
    }

    @Test
    void alertRulesPassTheirPromtoolUnitTests() throws Exception {
        Result r = promtool("test", "rules", "alerts.test.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");
    }

    @Test
    void aBrokenExpectationFailsPromtoolTest(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // The unit tests can fail: the same file with one expected label changed must not pass.
        Files.copy(DIR.resolve("alerts.yml"), tmp.resolve("alerts.yml"));
        String tests = Files.readString(DIR.resolve("alerts.test.yml"));
        Files.writeString(tmp.resolve("alerts.test.yml"), tests.replace("code: VSYNC-ALERT-LAG", "code: WRONG"));
        Result r = run(tmp, "test", "rules", "alerts.test.yml");
        assertThat(r.exit()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("FAILED");
    }

    @Test
    void scrapeConfigurationPassesPromtoolCheckAndLoadsTheRules() throws Exception {
        Result r = promtool("check", "config", "prometheus.yml");
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("1 rule files found");
        assertThat(Files.readString(DIR.resolve("prometheus.yml")))
                .contains("metrics_path: /actuator/prometheus")
                .contains("\"vectorsync:8080\"");
    }

    private record Result(int exit, String output) {}

    private static Result promtool(String... args) throws IOException, InterruptedException {
        return run(DIR, args);
    }

    private static Result run(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed: run scripts/install-promtool.sh"
                    + " (Debian package prometheus)", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        return new Result(p.exitValue(), out);
    }
}
