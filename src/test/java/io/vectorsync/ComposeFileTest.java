package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine runs where the tests run, so the container files are checked statically:
 * {@code docker-compose.yml} against the Compose Specification's JSON Schema (installed from the npm
 * registry by {@code scripts/compose-schema.sh}, pinned by its lock file), the services the README
 * documents against the file, and the Dockerfile's essentials. Nothing outside the repository is read.
 */
class ComposeFileTest {

    static final Path COMPOSE = Path.of("docker-compose.yml");
    static final Path README = Path.of("README.md");
    static final Path DOCKERFILE = Path.of("Dockerfile");

    final ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    final ObjectMapper json = new ObjectMapper();

    @Test
    void composeFileIsValidAgainstTheComposeSpecification() throws Exception {
        Set<ValidationMessage> messages = schema().validate(compose());

        assertThat(messages).as("validation messages for %s", COMPOSE).isEmpty();
    }

    @Test
    void schemaCheckCatchesAnInvalidComposeFile() throws Exception {
        JsonNode broken = yaml.readTree("""
                services:
                  app:
                    image: vectorsync:local
                    ports: 8080
                    environment: 42
                    no_such_key: true
                """);

        assertThat(schema().validate(broken).toString())
                .contains("$.services.app.ports", "$.services.app.environment", "no_such_key");
    }

    @Test
    void servicesInTheReadmeExistInTheComposeFile() throws IOException {
        JsonNode services = compose().path("services");
        List<String> documented = readmeServices();

        assertThat(documented).as("services listed in README.md, section 'Running in containers'")
                .contains("postgres", "vectorsync");
        for (String name : documented) {
            assertThat(services.has(name)).as("service '%s' named in README.md exists in %s", name, COMPOSE).isTrue();
        }
    }

    @Test
    void appServiceUsesThePgvectorDatabaseService() throws IOException {
        JsonNode services = compose().path("services");

        assertThat(services.path("postgres").path("image").asText())
                .as("a pgvector release for PostgreSQL 15, not the floating pg15 tag")
                .matches("pgvector/pgvector:\\d+\\.\\d+\\.\\d+-pg15");
        JsonNode app = services.path("vectorsync");
        assertThat(app.path("environment").path("SPRING_DATASOURCE_URL").asText())
                .isEqualTo("jdbc:postgresql://postgres:5432/vectorsync");
        assertThat(app.path("depends_on").path("postgres").path("condition").asText()).isEqualTo("service_healthy");
        assertThat(app.path("build").asText()).isEqualTo(".");
    }

    @Test
    void dockerfileBuildsWithTheWrapperAndRunsTheLayeredJarAsNonRootWithALivenessCheck() throws IOException {
        String dockerfile = Files.readString(DOCKERFILE);

        assertThat(Pattern.compile("(?m)^FROM .+ AS build$").matcher(dockerfile).find()).as("a build stage").isTrue();
        assertThat(dockerfile).contains("./mvnw ").contains("-Djarmode=tools").contains("extract --layers")
                .contains("org.springframework.boot.loader.launch.JarLauncher");
        Matcher user = Pattern.compile("(?m)^USER (\\S+)$").matcher(dockerfile);
        assertThat(user.find()).as("a USER instruction").isTrue();
        assertThat(user.group(1)).isNotIn("root", "0");
        assertThat(dockerfile).containsPattern("(?m)^HEALTHCHECK .*[\\r\\n]+.*/actuator/health/liveness");
        assertThat(dockerfile).as("start-up is not counted as failing")
                .containsPattern("(?m)^HEALTHCHECK .*--start-period=\\d+s");
        // Every base image pinned to a full release (e.g. 17.0.18_8-jre-noble), never a floating 17-jre.
        Matcher from = Pattern.compile("(?m)^FROM (\\S+)").matcher(dockerfile);
        int images = 0;
        while (from.find()) {
            images++;
            assertThat(from.group(1))
                    .matches("[a-z0-9./-]+:\\d+\\.\\d+\\.\\d+[._][0-9A-Za-z._-]*(@sha256:[0-9a-f]{64})?");
        }
        assertThat(images).isEqualTo(2);
    }

    @Test
    void theStackHasTheDatabaseTheStoresTheAppPrometheusAndGrafana() throws IOException {
        JsonNode services = compose().path("services");

        assertThat(services.fieldNames()).toIterable()
                .contains("postgres", "qdrant", "neo4j", "vectorsync", "prometheus", "grafana");
        for (String name : List.of("postgres", "qdrant", "neo4j", "prometheus", "grafana")) {
            String image = services.path(name).path("image").asText();
            assertThat(image).as("%s pins an image tag", name).matches("[a-z0-9./_-]+:[A-Za-z0-9._-]+")
                    .doesNotEndWith(":latest");
        }
    }

    @Test
    void theStacksQdrantHasEverythingTheBackendUses() throws IOException {
        String image = compose().path("services").path("qdrant").path("image").asText();
        String tag = image.substring(image.indexOf(':') + 1);

        assertThat(image).startsWith("qdrant/qdrant:v");
        assertThat(io.vectorsync.backend.qdrant.QdrantVersion.problem("qdrant", "compose", tag))
                .as("the pinned Qdrant %s against the backend's minimum", tag).isNull();
    }

    @Test
    void everyFileTheStackMountsExistsInTheRepository() throws IOException {
        List<String> mounted = new ArrayList<>();
        compose().path("services").forEach(service -> service.path("volumes").forEach(v -> {
            String source = v.asText().split(":")[0];
            if (source.startsWith("./")) {
                mounted.add(source);
            }
        }));

        assertThat(mounted).contains("./deploy/prometheus/alerts.yml", "./deploy/grafana/vectorsync.json");
        for (String source : mounted) {
            assertThat(Path.of(source)).as("mounted by %s", COMPOSE).exists();
        }
    }

    @Test
    void everyRelayRouteOfTheStackHasABackendConfiguredAndEveryBackendARoute() throws IOException {
        JsonNode app = compose().path("services").path("vectorsync");
        String routesFile = null;
        for (JsonNode v : app.path("volumes")) {
            String[] parts = v.asText().split(":");
            if (parts[1].equals("/app/routes/backends.camel.yaml")) {
                routesFile = parts[0];
            }
        }
        assertThat(routesFile).as("the app mounts its own backends.camel.yaml").isNotNull();
        List<String> routed = new ArrayList<>();
        for (JsonNode route : yaml.readTree(Path.of(routesFile).toFile())) {
            JsonNode t = route.path("templatedRoute");
            assertThat(t.path("routeTemplateRef").asText()).isEqualTo("relay");
            routed.add(t.path("parameters").get(0).path("value").asText());
        }
        List<String> configured = new ArrayList<>(List.of("replica")); // application.yaml's default backend
        app.path("environment").fieldNames().forEachRemaining(k -> {
            Matcher m = Pattern.compile("^VECTORSYNC_BACKENDS_([A-Z0-9]+)_TYPE$").matcher(k);
            if (m.find()) {
                configured.add(m.group(1).toLowerCase(java.util.Locale.ROOT));
            }
        });

        assertThat(routed).containsExactlyInAnyOrderElementsOf(configured).contains("qdrant", "neo4j");
    }

    @Test
    void theDockerfilePassesTheLinter() throws Exception {
        Lint lint = lint(DOCKERFILE);

        assertThat(lint.exit).as(lint.output).isZero();
        assertThat(lint.output).contains("Issues: None found");
    }

    @Test
    void theLinterCatchesABrokenDockerfile(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path broken = dir.resolve("Dockerfile");
        Files.writeString(broken, "FROM\nRUN apt-get install curl\nEXPOSE eighty\nHEALTHCHECK --bogus=1 CMD true\n");

        Lint lint = lint(broken);

        assertThat(lint.exit).as(lint.output).isNotZero();
        assertThat(lint.output).contains("Issues:").doesNotContain("None found");
    }

    record Lint(int exit, String output) {}

    private static Lint lint(Path dockerfile) throws Exception {
        Process p = new ProcessBuilder("bash", "scripts/lint-dockerfile.sh", dockerfile.toAbsolutePath().toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        return new Lint(p.waitFor(), out);
    }

    /**
     * The Compose schema (JSON Schema draft 2019-09, as its {@code $schema} says), from the file the script
     * installs; its references are all inside the file, so nothing is fetched. It still carries a draft-04
     * {@code id} at the top, which 2019-09 does not know: that keyword is accepted and ignored.
     */
    private JsonSchema schema() throws Exception {
        Path spec = composeSchema();
        JsonNode schema = json.readTree(spec.toFile());
        JsonMetaSchema draft201909 = JsonMetaSchema.builder(schema.path("$schema").asText(), JsonMetaSchema.getV201909())
                .keyword(new NonValidationKeyword("id"))
                .build();
        JsonSchemaFactory factory = JsonSchemaFactory.builder(JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V201909))
                .metaSchema(draft201909)
                .build();
        return factory.getSchema(SchemaLocation.of(spec.toUri().toString()), schema);
    }

    /** Runs {@code scripts/compose-schema.sh}, which installs the schema once and prints its path. */
    static Path composeSchema() throws Exception {
        Process p = new ProcessBuilder("bash", "scripts/compose-schema.sh")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("scripts/compose-schema.sh (its errors are in the test output)").isZero();
        Path spec = Path.of(out);
        assertThat(spec).as("the Compose schema installed by scripts/compose-schema.sh").isRegularFile();
        return spec;
    }

    private JsonNode compose() throws IOException {
        return yaml.readTree(COMPOSE.toFile());
    }

    /** The first cells of the services table under the README's "Running in containers" heading. */
    static List<String> readmeServices() throws IOException {
        List<String> lines = Files.readAllLines(README);
        List<String> names = new ArrayList<>();
        boolean inSection = false;
        Pattern row = Pattern.compile("^\\|\\s*`([a-zA-Z0-9._-]+)`\\s*\\|");
        for (String line : lines) {
            if (line.startsWith("## ")) {
                inSection = line.startsWith("## Running in containers");
                continue;
            }
            Matcher m = row.matcher(line);
            if (inSection && m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
