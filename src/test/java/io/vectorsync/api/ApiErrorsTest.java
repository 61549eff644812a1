package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** The one error writer: problem details with a type URI and a title per code, and the extension members. */
class ApiErrorsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anErrorIsWrittenAsProblemDetailsWithItsExtensionMembersAtTheTop() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("PUT", "/api/v1/chunks/a%2Fb");
        request.setQueryString("secret=1");
        MockHttpServletResponse response = new MockHttpServletResponse();
        response.setHeader("ETag", "\"3\"");
        ApiErrors.write(request, response, 409, new ApiError("VSYNC-CHUNK-OWNED", "The application captures it.",
                "chunkId", "a chunk id the application does not enqueue"));

        assertThat(response.getStatus()).isEqualTo(409);
        assertThat(response.getContentType()).isEqualTo("application/problem+json;charset=UTF-8");
        assertThat(response.getHeader("ETag")).as("headers set before are kept").isEqualTo("\"3\"");
        JsonNode p = JSON.readTree(response.getContentAsString());
        assertThat(p.fieldNames().next()).as("type comes first").isEqualTo("type");
        assertThat(p.get("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-chunk-owned");
        assertThat(p.get("title").asText()).isEqualTo("Chunk captured by the application");
        assertThat(p.get("status").asInt()).isEqualTo(409);
        assertThat(p.get("detail").asText()).isEqualTo("The application captures it.");
        assertThat(p.get("instance").asText()).as("the path as sent, without the query")
                .isEqualTo("/api/v1/chunks/a%2Fb");
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-CHUNK-OWNED");
        assertThat(p.get("field").asText()).isEqualTo("chunkId");
        assertThat(p.get("expected").asText()).isEqualTo("a chunk id the application does not enqueue");
        assertThat(p.has("properties")).isFalse();
        assertThat(p.has("message")).isFalse();
    }

    @Test
    void absentMembersAreLeftOutAndAnErrorDispatchNamesTheOriginalPath() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/error");
        request.setAttribute("jakarta.servlet.error.request_uri", "/api/v1/nope");
        MockHttpServletResponse response = new MockHttpServletResponse();
        ApiErrors.write(request, response, 404, ApiErrors.forStatus(404));
        JsonNode p = JSON.readTree(response.getContentAsString());
        assertThat(p.get("instance").asText()).isEqualTo("/api/v1/nope");
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-NOT-FOUND");
        assertThat(p.has("field")).isFalse();
        assertThat(p.has("expected")).isFalse();

        JsonNode none = JSON.readTree(ApiErrors.json(ApiErrors.problem(500, ApiErrors.internal(), null)));
        assertThat(none.has("instance")).isFalse();
        assertThat(none.get("title").asText()).isEqualTo("Internal error");
    }

    @Test
    void everyCodeHasATitleAndAStatusOnlyCodeTakesTheReasonPhrase() {
        ProblemTitles.TITLES.forEach((code, title) -> {
            assertThat(code).matches("VSYNC-[A-Z0-9-]+");
            assertThat(title).as(code).isNotBlank().doesNotEndWith(".");
            assertThat(ApiErrors.type(code).toString()).isEqualTo(ApiErrors.TYPE_BASE + code.toLowerCase(Locale.ROOT));
        });
        for (int status : new int[] {400, 401, 403, 404, 405, 406, 413, 414, 415, 431, 418, 500, 503}) {
            assertThat(ProblemTitles.TITLES).as("status %d", status).containsKey(ApiErrors.forStatus(status).code());
        }
        assertThat(ProblemTitles.title("VSYNC-SOMETHING-NEW", 409)).isEqualTo("Conflict");
    }
}
