package io.vectorsync.backend.chroma;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import org.junit.jupiter.api.Test;

class ChromaMetadataTest {

    private final ObjectMapper json = new ObjectMapper();

    private ObjectNode record(String metadata, String documentId) {
        return ChromaMetadata.of(new ChunkData("c1", documentId, "text", new float[] {1f}, metadata, Privacy.REDACTED),
                4, json);
    }

    @Test
    void scalarsAreFlatNextToTheChunksOwnFields() throws Exception {
        ObjectNode m = record("{\"lang\":\"en\",\"n\":2,\"f\":1.5,\"ok\":false}", "d1");
        assertThat(json.readTree(m.toString())).isEqualTo(json.readTree("""
                {"chunk_id":"c1","version":4,"privacy":"REDACTED","document_id":"d1",
                 "lang":"en","n":2,"f":1.5,"ok":false}"""));
    }

    @Test
    void nestedValuesAreJsonTextAndKeptExactlyAside() throws Exception {
        ObjectNode m = record("{\"tags\":[1,2],\"o\":{\"a\":null},\"z\":null}", null);
        assertThat(m.has("document_id")).isFalse();
        assertThat(m.get("tags").asText()).isEqualTo("[1,2]");
        assertThat(m.get("o").asText()).isEqualTo("{\"a\":null}");
        assertThat(m.has("z")).as("Chroma refuses null values").isFalse();
        assertThat(json.readTree(m.get(ChromaMetadata.JSON).asText()))
                .isEqualTo(json.readTree("{\"tags\":[1,2],\"o\":{\"a\":null},\"z\":null}"));
    }

    @Test
    void reservedAndSpecialKeysAreNeverFlat() throws Exception {
        ObjectNode m = record("{\"version\":\"mine\",\"privacy\":1,\"chroma:document\":\"x\",\"#k\":1,\"$k\":2,\"\":3,"
                + "\"vectorsync_json\":\"nested?\"}", "d");
        assertThat(m.get("version").asLong()).isEqualTo(4);
        assertThat(m.get("privacy").asText()).isEqualTo("REDACTED");
        assertThat(m.has("chroma:document") || m.has("#k") || m.has("$k") || m.has("")).isFalse();
        assertThat(json.readTree(ChromaMetadata.userMetadata(m, json))).isEqualTo(json.readTree(
                "{\"version\":\"mine\",\"privacy\":1,\"chroma:document\":\"x\",\"#k\":1,\"$k\":2,\"\":3,"
                        + "\"vectorsync_json\":\"nested?\"}"));
    }

    @Test
    void readingBackGivesTheMetadataAsItWasSent() throws Exception {
        String sent = "{\"lang\":\"en\",\"n\":-3,\"f\":2.25,\"ok\":true,\"tags\":[\"a\"],\"o\":{\"k\":[1,{}]},"
                + "\"none\":null,\"big\":123456789012345678901234567890}";
        ObjectNode m = record(sent, "d");
        JsonNode roundTrip = json.readTree(json.writeValueAsString(m)); // as Chroma hands it back
        assertThat(json.readTree(ChromaMetadata.userMetadata(roundTrip, json))).isEqualTo(json.readTree(sent));
        assertThat(ChromaMetadata.version(roundTrip)).isEqualTo(4L);
    }

    @Test
    void missingOrUnreadableMetadataIsAnEmptyObject() {
        assertThat(ChromaMetadata.userMetadata(record(null, null), json)).isEqualTo("{}");
        assertThat(ChromaMetadata.userMetadata(record("not json", null), json)).isEqualTo("{}");
        assertThat(ChromaMetadata.version(json.createObjectNode())).isNull();
    }
}
