package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.http.ResponseEntity;

/**
 * What operators' tools expect of the actuator: a scrape of {@code /actuator/prometheus} that
 * {@code promtool check metrics} accepts without a single finding (snake_case label names, a help text
 * on every metric, Camel's meters included), and {@code /actuator/info} naming the build's version
 * (from {@code spring-boot-maven-plugin}'s {@code build-info}). promtool comes from
 * scripts/install-promtool.sh, run by the build before the tests; without it this test fails.
 */
@AutoConfigureObservability(tracing = false)
class ActuatorConventionsIT extends AbstractIT {

    @Autowired
    CamelContext camel;

    @Autowired
    ConfigurableEnvironment environment;

    @Test
    void promtoolCheckMetricsFindsNothingInTheScrape() throws Exception {
        // A delivery first, so the relay's timers, summaries and Camel's exchange meters have samples.
        put("promtool-0", chunkBody("scraped by promtool"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        ResponseEntity<String> scrape = http.getForEntity("/actuator/prometheus", String.class);
        assertThat(scrape.getStatusCode().value()).isEqualTo(200);
        // Kept for reading promtool's findings against the lines they name.
        Files.writeString(Path.of("target/actuator-prometheus.txt"), scrape.getBody());
        assertThat(scrape.getBody()).contains("vectorsync_relay_delivery_seconds_bucket")
                .contains("camel_exchanges_total");

        Process p = start("promtool", "check", "metrics");
        p.getOutputStream().write(scrape.getBody().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String findings = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();

        assertThat(findings).as("promtool check metrics on /actuator/prometheus").isEmpty();
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void infoNamesTheBuildVersionToTheAdmin() throws Exception {
        ResponseEntity<String> info = adminGet("/actuator/info");
        assertThat(info.getStatusCode().value()).as(info.getBody()).isEqualTo(200);
        JsonNode build = json.readTree(info.getBody()).path("build");

        assertThat(build.path("version").asText()).isEqualTo(pomVersion());
        assertThat(build.path("artifact").asText()).isEqualTo("vectorsync");
        // Like every actuator endpoint but health and prometheus, info is the admin's.
        assertThat(http.getForEntity("/actuator/info", String.class).getStatusCode().value()).isEqualTo(401);
    }

    @Test
    void camelReadsItsCamelMainKeys() {
        // application.yaml's camel.main.* / camel.trace.* keys are bound (camel.springboot.* no longer is).
        assertThat(camel.getName()).isEqualTo("vectorsync");
        assertThat(camel.isMessageHistory()).isFalse();
        assertThat(camel.isUseBreadcrumb()).isFalse();
        assertThat(camel.isBacklogTracing()).isFalse();
        assertThat(camel.isTracing()).isFalse();
        for (PropertySource<?> source : environment.getPropertySources()) {
            if (source instanceof EnumerablePropertySource<?> e) {
                assertThat(e.getPropertyNames()).as(e.getName()).noneMatch(k -> k.startsWith("camel.springboot."));
            }
        }
    }

    private static String pomVersion() throws Exception {
        var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
        return XPathFactory.newInstance().newXPath().evaluate("/project/version", pom);
    }

    private static Process start(String... command) {
        try {
            return new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is not installed: run scripts/install-promtool.sh"
                    + " (Debian package prometheus)", e);
        }
    }
}
