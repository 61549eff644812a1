package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI validator behind {@link FakeQdrant} is not a rubber stamp: it accepts the requests Qdrant
 * documents and refuses malformed ones, in the path, the query and the body, and malformed responses.
 */
class OpenApiContractTest {

    private static final OpenApiContract CONTRACT = OpenApiContract.load();
    private static final String ID = "16b2e408-b785-52a3-a67e-f35d212783dc";
    private static final String UPSERT = """
            {"points": [{"id": "%s", "vector": [0.5, 1.0], "payload": {"chunk_id": "a", "version": 2}}],
             "update_filter": {"should": [{"must": [{"has_id": ["%s"]}, {"key": "version", "range": {"lt": 2}}]}]}}
            """.formatted(ID, ID);

    private static List<String> problems(String method, String path, String query, String body) {
        return CONTRACT.checkRequest(method, path, query, body == null ? null : body.getBytes(StandardCharsets.UTF_8),
                "application/json").problems();
    }

    @Test
    void aDocumentedUpsertWithAnUpdateFilterIsValid() {
        OpenApiContract.RequestCheck check = CONTRACT.checkRequest("PUT", "/collections/vectors/points", "wait=true",
                UPSERT.getBytes(StandardCharsets.UTF_8), "application/json");

        assertThat(check.problems()).isEmpty();
        assertThat(check.operation().operationId()).isEqualTo("upsert_points");
        assertThat(check.pathParameters()).containsEntry("collection_name", "vectors");
    }

    @Test
    void unknownPathsAndMethodsAreRefused() {
        assertThat(problems("PUT", "/colections/vectors/points", null, UPSERT)).singleElement().asString()
                .contains("no path template");
        assertThat(problems("PUT", "/collections/vectors/pointz", null, UPSERT)).as("an id that is no point id")
                .isNotEmpty();
        assertThat(problems("DELETE", "/collections/vectors/points/delete", null, null)).singleElement().asString()
                .contains("is not an operation");
    }

    @Test
    void undeclaredOrMistypedQueryParametersAreRefused() {
        assertThat(problems("PUT", "/collections/vectors/points", "wiat=true", UPSERT)).singleElement().asString()
                .contains("'wiat' is not declared");
        assertThat(problems("PUT", "/collections/vectors/points", "wait=maybe", UPSERT)).isNotEmpty();
        assertThat(problems("PUT", "/collections/vectors/points", "ordering=chaotic", UPSERT)).isNotEmpty();
    }

    @Test
    void malformedBodiesAreRefused() {
        String path = "/collections/vectors/points";
        assertThat(problems("PUT", path, null, UPSERT.replace("[0.5, 1.0]", "\"0.5,1.0\""))).as("vector as text")
                .isNotEmpty();
        assertThat(problems("PUT", path, null, UPSERT.replaceFirst(ID, "not-a-uuid"))).as("point id").isNotEmpty();
        assertThat(problems("PUT", path, null, UPSERT.replace("update_filter", "update_filtr")))
                .as("a misspelt update_filter").isNotEmpty();
        assertThat(problems("PUT", path, null, UPSERT.replace("\"lt\": 2", "\"lt\": \"two\""))).as("range bound")
                .isNotEmpty();
        assertThat(problems("PUT", path, null, UPSERT.replace("\"should\"", "\"shuold\""))).as("filter clause")
                .isNotEmpty();
        assertThat(problems("PUT", path, null, "{\"ids\": []}")).as("no points").isNotEmpty();
        assertThat(problems("PUT", path, null, "{not json")).as("not JSON").isNotEmpty();
        assertThat(problems("PUT", path, null, null)).as("no body").isNotEmpty();
        assertThat(problems("PUT", "/collections/vectors", null, "{\"vectors\": {\"size\": 0, \"distance\": \"Cosine\"}}"))
                .as("a vector size below 1").isNotEmpty();
        assertThat(problems("PUT", "/collections/vectors", null, "{\"vectors\": {\"size\": 8, \"distance\": \"Cosinus\"}}"))
                .as("an unknown distance").isNotEmpty();
        assertThat(problems("PUT", "/collections/vectors/index", "wait=true", "{\"field_name\": \"version\", \"field_schema\": \"int\"}"))
                .as("an unknown payload index type").isNotEmpty();
        assertThat(problems("POST", "/collections/vectors/points", null, "{\"ids\": [\"" + ID + "\"], \"with_payload\": null, \"with_vector\": 3}"))
                .as("with_vector as a number").isNotEmpty();
    }

    @Test
    void malformedResponsesAreRefused() throws Exception {
        OpenApiContract.Operation upsert = CONTRACT.checkRequest("PUT", "/collections/vectors/points", "wait=true",
                UPSERT.getBytes(StandardCharsets.UTF_8), "application/json").operation();
        ObjectMapper json = new ObjectMapper();

        assertThat(CONTRACT.checkResponse(upsert, 200, json.readTree(
                "{\"result\": {\"operation_id\": 3, \"status\": \"completed\"}, \"status\": \"ok\", \"time\": 0.1}"))).isEmpty();
        assertThat(CONTRACT.checkResponse(upsert, 200, json.readTree(
                "{\"result\": {\"operation_id\": 3, \"status\": \"done\"}, \"status\": \"ok\", \"time\": 0.1}"))).isNotEmpty();
        assertThat(CONTRACT.checkResponse(upsert, 404, json.readTree("{\"status\": {\"error\": \"Not found\"}, \"time\": 0}")))
                .isEmpty();
        assertThat(CONTRACT.checkResponse(upsert, 503, json.readTree("{\"status\": {\"error\": 42}}"))).isNotEmpty();
    }
}
