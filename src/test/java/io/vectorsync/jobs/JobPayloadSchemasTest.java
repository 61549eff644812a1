package io.vectorsync.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.capture.CaptureException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The job payload schemas as shipped, and what a refusal says. */
class JobPayloadSchemasTest {

    static final ObjectMapper JSON = new ObjectMapper();
    final JobPayloadSchemas schemas = JobPayloadSchemas.load(List.of("VERIFY", "BACKFILL", "NOOP"), JSON);

    JsonNode json(String s) throws IOException {
        return JSON.readTree(s);
    }

    @Test
    void everySchemaShippedIsValidDraft202012AndLoads() throws IOException {
        List<String> types;
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/jobs"))) {
            types = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".schema.json"))
                    .map(n -> n.substring(0, n.length() - ".schema.json".length()).toUpperCase(Locale.ROOT))
                    .toList();
        }
        assertThat(types).contains("VERIFY", "BACKFILL", "NOOP");
        JobPayloadSchemas all = JobPayloadSchemas.load(types, JSON);
        assertThat(all.types()).containsExactlyInAnyOrderElementsOf(types);
        for (String type : types) {
            JsonNode doc = all.document(type).orElseThrow();
            assertThat(doc.path("$schema").asText()).as(type).isEqualTo("https://json-schema.org/draft/2020-12/schema");
            assertThat(doc.path("type").asText()).as(type).isEqualTo("object");
        }
    }

    @Test
    void validPayloadsPass() throws IOException {
        schemas.validate("NOOP", json("{}"));
        schemas.validate("NOOP", json("{\"sleepMs\": 20, \"failTimes\": 2}"));
        schemas.validate("VERIFY", json("{\"backend\": \"replica\", \"repair\": true}"));
        schemas.validate("BACKFILL", json("{\"backend\": \"replica\"}"));
    }

    @Test
    void aWrongTypeIsNamedByItsPathUnderPayload() throws IOException {
        CaptureException e = refused("NOOP", "{\"sleepMs\": \"soon\"}");
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("VSYNC-JOB-INVALID");
        assertThat(e.field()).isEqualTo("payload.sleepMs");
        assertThat(e.expected()).isEqualTo("a payload valid against jobs/noop.schema.json");
        assertThat(e.getMessage()).contains("jobs/noop.schema.json", "payload.sleepMs", "integer", "Nothing was queued")
                .doesNotContain("soon");
    }

    @Test
    void aMissingRequiredMemberAndAnUnknownOneAreNamed() throws IOException {
        assertThat(refused("VERIFY", "{\"repair\": false}").field()).isEqualTo("payload.backend");
        assertThat(refused("BACKFILL", "{\"backend\": \"replica\", \"rewrite\": true}").field())
                .isEqualTo("payload.rewrite");
        assertThat(refused("NOOP", "{\"failTimes\": -1}").field()).isEqualTo("payload.failTimes");
        assertThat(refused("VERIFY", "{\"backend\": \"\"}").field()).isEqualTo("payload.backend");
    }

    @Test
    void manyMistakesAreCappedInTheDetail() throws IOException {
        StringBuilder body = new StringBuilder("{");
        for (int i = 0; i < 8; i++) {
            body.append(i == 0 ? "" : ",").append("\"x").append(i).append("\": 1");
        }
        CaptureException e = refused("NOOP", body.append("}").toString());
        assertThat(e.getMessage()).contains("(and 3 more)");
    }

    @Test
    void aTypeWithoutASchemaOrWithABrokenOneStopsTheStart() {
        assertThatThrownBy(() -> JobPayloadSchemas.load(List.of("NO_SUCH_TYPE"), JSON))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("jobs/no_such_type.schema.json");
        assertThatThrownBy(() -> JobPayloadSchemas.load(List.of("BROKEN"), JSON))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a valid JSON Schema 2020-12");
    }

    private CaptureException refused(String type, String payload) throws IOException {
        JsonNode p = json(payload);
        try {
            schemas.validate(type, p);
        } catch (CaptureException e) {
            return e;
        }
        throw new AssertionError(type + " payload " + payload + " was accepted");
    }
}
