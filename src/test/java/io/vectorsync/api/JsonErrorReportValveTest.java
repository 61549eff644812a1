package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.junit.jupiter.api.Test;

/**
 * Tomcat's error report, for what Tomcat answers without the application (no error page reached it):
 * problem details through the one writer, without {@code instance} (the request line may be what was
 * malformed), and nothing when the application has already answered.
 */
class JsonErrorReportValveTest {

    @Test
    void anErrorTomcatAnswersItselfIsProblemDetails() throws Exception {
        Response response = mock(Response.class);
        StringWriter body = new StringWriter();
        when(response.getStatus()).thenReturn(414);
        when(response.getContentWritten()).thenReturn(0L);
        when(response.setErrorReported()).thenReturn(true);
        when(response.getReporter()).thenReturn(new PrintWriter(body));

        new JsonErrorReportValve().report(mock(Request.class), response, null);

        verify(response).setContentType("application/problem+json");
        verify(response).finishResponse();
        JsonNode p = new ObjectMapper().readTree(body.toString());
        assertThat(p.get("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-uri-too-long");
        assertThat(p.get("title").asText()).isEqualTo("URI too long");
        assertThat(p.get("status").asInt()).isEqualTo(414);
        assertThat(p.get("code").asText()).isEqualTo("VSYNC-URI-TOO-LONG");
        assertThat(p.get("detail").asText()).isEqualTo("The URI is too long.");
        assertThat(p.has("instance")).isFalse();
    }

    @Test
    void anAnswerTheApplicationWroteIsLeftAlone() throws Exception {
        Response response = mock(Response.class);
        when(response.getStatus()).thenReturn(400);
        when(response.getContentWritten()).thenReturn(120L);
        new JsonErrorReportValve().report(mock(Request.class), response, null);
        verify(response, never()).getReporter();
        verify(response, never()).setContentType("application/problem+json");
    }
}
