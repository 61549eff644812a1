package io.vectorsync.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.AdminSurface;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * Every source of an error answers RFC 9457 problem details through the one writer (ADR 022): the
 * security entry point, the request firewall, the ingest fast path, Tomcat's refusals, a controller's
 * validation, and what Spring MVC knows itself (405, 406, 415, 404). Requests go over raw HTTP/1.1 where a
 * client library would normalise what is under test.
 */
class ProblemDetailsIT extends AbstractIT {

    @LocalServerPort
    int port;

    private AdminSurface.Answer raw(String method, String target, String authorization, String body) {
        return AdminSurface.send(port, method, target, authorization, body);
    }

    /** The problem of an answer, after checking its status, content type and the members every one has. */
    private JsonNode problem(AdminSurface.Answer a, int status, String code) throws Exception {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        assertThat(a.head()).contains("content-type: application/problem+json");
        JsonNode p = json.readTree(a.body());
        assertThat(p.get("type").asText()).isEqualTo("https://vectorsync.io/errors/" + code.toLowerCase(Locale.ROOT));
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("detail").asText()).isNotBlank();
        assertThat(p.get("code").asText()).isEqualTo(code);
        assertThat(p.has("message")).as("the old member is gone").isFalse();
        return p;
    }

    @Test
    void theSecurityEntryPointAnswersA401() throws Exception {
        JsonNode p = problem(raw("GET", "/admin/v1/status", null, null), 401, "VSYNC-AUTH-REQUIRED");
        assertThat(p.get("title").asText()).isEqualTo("Credentials required");
        assertThat(p.get("instance").asText()).isEqualTo("/admin/v1/status");
        assertThat(p.get("field").asText()).isEqualTo("Authorization");
        assertThat(p.get("expected").asText()).contains("Bearer");

        JsonNode wrong = problem(raw("GET", "/admin/v1/status", "Bearer wrong", null), 401, "VSYNC-AUTH-INVALID");
        assertThat(wrong.get("instance").asText()).isEqualTo("/admin/v1/status");
    }

    @Test
    void theFirewallAnswersA400WithoutEchoingThePath() throws Exception {
        AdminSurface.Answer a = raw("GET", "/api/..;/actuator/jolokia/list", null, null);
        JsonNode p = problem(a, 400, "VSYNC-BAD-REQUEST");
        assertThat(p.get("detail").asText()).contains("refused before it was handled");
        assertThat(p.has("instance")).isFalse();
        assertThat(a.body()).doesNotContain("jolokia");
    }

    @Test
    void theFastPutPathAnswersAValidationErrorWithFieldAndExpected() throws Exception {
        // (Without an embedding the chunk is embedded by the configured provider; IngestIT covers that path
        // and the refusal when neither an embedding nor content is sent.)
        AdminSurface.Answer a = raw("PUT", "/api/v1/chunks/problem-1", null,
                "{\"content\":\"too short\",\"embedding\":[0.25,0.5]}");
        JsonNode p = problem(a, 400, "VSYNC-EMBEDDING-DIMENSION");
        assertThat(p.get("title").asText()).isEqualTo("Wrong embedding dimension");
        assertThat(p.get("instance").asText()).isEqualTo("/api/v1/chunks/problem-1");
        assertThat(p.get("field").asText()).isEqualTo("embedding");
        assertThat(p.get("expected").asText()).isEqualTo("384 numbers");
        assertThat(a.body()).doesNotContain("too short").doesNotContain("0.25");
    }

    /**
     * Tomcat refuses the URI itself and forwards to its error page ({@code /error}, {@link ApiErrorController});
     * what it answers with no error page at all goes through {@link JsonErrorReportValve}
     * (JsonErrorReportValveTest). TRACE is refused first in the filter chain.
     */
    @Test
    void tomcatsOwnRefusalOfAMalformedUriIsProblemDetails() throws Exception {
        JsonNode p = problem(raw("GET", "/api/v1/chunks/%zz", null, null), 400, "VSYNC-BAD-REQUEST");
        assertThat(p.has("instance")).as("a malformed path is not echoed").isFalse();
        JsonNode trace = problem(raw("TRACE", "/api/v1/chunks/x", null, null), 405, "VSYNC-METHOD-NOT-ALLOWED");
        assertThat(trace.get("detail").asText()).isEqualTo("TRACE is not allowed.");
    }

    @Test
    void aControllersValidationErrorNamesTheParameter() throws Exception {
        JsonNode p = problem(raw("GET", "/admin/v1/queue?limit=0", "Bearer " + ADMIN_TOKEN, null), 400,
                "VSYNC-LIMIT-INVALID");
        assertThat(p.get("title").asText()).isEqualTo("Limit out of range");
        assertThat(p.get("instance").asText()).isEqualTo("/admin/v1/queue");
        assertThat(p.get("field").asText()).isEqualTo("limit");
        assertThat(p.get("expected").asText()).isEqualTo("1 to 10000");

        JsonNode missing = problem(raw("GET", "/api/v1/chunks/never-written", null, null), 404,
                "VSYNC-CHUNK-NOT-FOUND");
        assertThat(missing.get("instance").asText()).isEqualTo("/api/v1/chunks/never-written");
    }

    @Test
    void whatSpringMvcKnowsItselfAnswersWithAStableCode() throws Exception {
        AdminSurface.Answer method = raw("DELETE", "/api/v1/chunks:batch", null, null);
        JsonNode p = problem(method, 405, "VSYNC-METHOD-NOT-ALLOWED");
        assertThat(p.get("detail").asText()).isEqualTo("This path does not take DELETE.");
        assertThat(p.get("expected").asText()).isEqualTo("[POST]");
        assertThat(p.get("instance").asText()).isEqualTo("/api/v1/chunks:batch");
        assertThat(method.head()).contains("allow: post");

        HttpHeaders text = new HttpHeaders();
        text.setContentType(MediaType.TEXT_PLAIN);
        ResponseEntity<String> unsupported = http.exchange("/api/v1/chunks/{id}", HttpMethod.PUT,
                new HttpEntity<>("hello", text), String.class, "problem-2");
        assertThat(unsupported.getStatusCode().value()).isEqualTo(415);
        assertThat(unsupported.getHeaders().getContentType().isCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON))
                .isTrue();
        JsonNode media = json.readTree(unsupported.getBody());
        assertThat(media.get("code").asText()).isEqualTo("VSYNC-UNSUPPORTED-MEDIA-TYPE");
        assertThat(media.get("field").asText()).isEqualTo("Content-Type");

        HttpHeaders html = new HttpHeaders();
        html.setContentType(MediaType.APPLICATION_JSON);
        html.setAccept(List.of(MediaType.TEXT_HTML));
        ResponseEntity<String> notAcceptable = http.exchange("/api/v1/chunks/{id}", HttpMethod.PUT,
                new HttpEntity<>("{}", html), String.class, "problem-3");
        assertThat(notAcceptable.getStatusCode().value()).isEqualTo(406);
        assertThat(json.readTree(notAcceptable.getBody()).get("code").asText()).isEqualTo("VSYNC-NOT-ACCEPTABLE");

        JsonNode none = problem(raw("GET", "/api/v1/nothing-here", null, null), 404, "VSYNC-NOT-FOUND");
        assertThat(none.get("instance").asText()).isEqualTo("/api/v1/nothing-here");
    }
}
