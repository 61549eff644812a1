package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.TestDatabases;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The jar that `./mvnw package` builds starts as a service (every run-time dependency inside it, the
 * OpenAPI document served) and the `vectorsync` script drives it: the packaged artefact, not the test
 * classpath, which can hide a dependency missing from the jar.
 */
class PackagedJarIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "packaged-jar-token";
    private static String database;
    private static Process service;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        File[] jars = new File("target").listFiles((d, n) -> n.matches("vectorsync-.*\\.jar"));
        assertThat(jars).as("run in the verify phase, after package").isNotEmpty();
        database = TestDatabases.create("packaged");
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        File log = new File("target/packaged-jar-it.log");
        service = new ProcessBuilder("java", "-Xmx512m", "-jar", jars[0].getPath(),
                "--server.port=" + port, "--server.address=127.0.0.1",
                "--spring.datasource.url=" + TestDatabases.url(database),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--vectorsync.admin.token=" + TOKEN)
                .redirectErrorStream(true).redirectOutput(log).start();
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
            assertThat(service.isAlive()).as("the service died; see " + log).isTrue();
            try {
                return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (service != null) {
            service.destroy();
            if (!service.waitFor(30, TimeUnit.SECONDS)) {
                service.destroyForcibly();
            }
        }
        if (database != null) {
            TestDatabases.drop(database);
        }
    }

    @Test
    void thePackagedServiceStartsServesItsOpenApiDocumentAndTheScriptDrivesIt() throws Exception {
        HttpResponse<String> docs = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/v3/api-docs")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(docs.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(docs.body()).get("paths").has("/admin/v1/queue")).isTrue();

        String pause = script("pause", "replica", "--json");
        assertThat(JSON.readTree(pause).get("paused").asBoolean()).isTrue();
        JsonNode status = JSON.readTree(script("status", "--json"));
        assertThat(status.get("backends").get(0).get("paused").asBoolean()).isTrue();
        assertThat(JSON.readTree(script("resume", "--json")).get("backends").get(0).get("paused").asBoolean())
                .isFalse();
    }

    private static String script(String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "./vectorsync";
        cmd[1] = "--url";
        cmd[2] = "http://127.0.0.1:" + port;
        System.arraycopy(args, 0, cmd, 3, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("VECTORSYNC_ADMIN_TOKEN", TOKEN);
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out + err).isZero();
        return out;
    }
}
