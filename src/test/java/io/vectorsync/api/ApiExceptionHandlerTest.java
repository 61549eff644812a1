package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpInputMessage;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.mock.http.MockHttpInputMessage;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.context.request.ServletWebRequest;

/**
 * What Spring MVC knows itself, through {@code ResponseEntityExceptionHandler}: Spring's status and
 * headers, a stable code, written at once as problem details (nothing left for content negotiation).
 */
class ApiExceptionHandlerTest {

    private final ApiExceptionHandler handler = new ApiExceptionHandler();

    private JsonNode handle(Exception e, MockHttpServletResponse response) throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/admin/v1/dead-letters/7/discard");
        assertThat(handler.handleException(e, new ServletWebRequest(request, response))).as("already written")
                .isNull();
        assertThat(response.getContentType()).startsWith("application/problem+json");
        JsonNode p = new ObjectMapper().readTree(response.getContentAsString());
        assertThat(p.get("instance").asText()).isEqualTo("/admin/v1/dead-letters/7/discard");
        assertThat(p.get("status").asInt()).isEqualTo(response.getStatus());
        return p;
    }

    @Test
    void aMissingParameterNamesItAndItsType() throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        JsonNode p = handle(new MissingServletRequestParameterException("reason", "String"), response);
        assertThat(response.getStatus()).isEqualTo(400);
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-BAD-REQUEST");
        assertThat(p.get("field").asText()).isEqualTo("reason");
        assertThat(p.get("expected").asText()).isEqualTo("String");
    }

    @Test
    void anUnreadableBodyIsMalformedJson() throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        HttpInputMessage body = new MockHttpInputMessage("{not json".getBytes());
        JsonNode p = handle(new HttpMessageNotReadableException("JSON parse error: {not json", body), response);
        assertThat(response.getStatus()).isEqualTo(400);
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-MALFORMED-JSON");
        assertThat(p.get("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-malformed-json");
        assertThat(response.getContentAsString()).as("the body is not echoed").doesNotContain("not json");
    }

    @Test
    void anUnsupportedMediaTypeKeepsSpringsAcceptHeader() throws Exception {
        MockHttpServletResponse response = new MockHttpServletResponse();
        JsonNode p = handle(new HttpMediaTypeNotSupportedException(MediaType.TEXT_PLAIN,
                List.of(MediaType.APPLICATION_JSON)), response);
        assertThat(response.getStatus()).isEqualTo(415);
        assertThat(response.getHeader("Accept")).isEqualTo("application/json");
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-UNSUPPORTED-MEDIA-TYPE");
        assertThat(p.get("title").asText()).isEqualTo("Body must be JSON");
    }
}
