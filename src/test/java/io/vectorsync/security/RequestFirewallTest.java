package io.vectorsync.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * The request firewall accepts every encoded spelling a chunk id needs and refuses the spellings that
 * could make the path a guard matches differ from the one Tomcat dispatches. Each request is built as
 * Tomcat hands it over: the raw URI, and the servlet path decoded with {@code %2F}/{@code %5C} passed
 * through and path parameters removed.
 */
class RequestFirewallTest {

    private final StrictHttpFirewall firewall = new SecurityConfig().firewall();

    private static MockHttpServletRequest request(String method, String rawUri, String servletPath) {
        MockHttpServletRequest r = new MockHttpServletRequest(method, rawUri);
        r.setServletPath(servletPath);
        return r;
    }

    @Test
    void everyEncodedSpellingOfAChunkIdIsAccepted() {
        String[][] accepted = {{"/api/v1/chunks/a%2Fb", "/api/v1/chunks/a%2Fb"},
                {"/api/v1/chunks/a%2F%2Fb", "/api/v1/chunks/a%2F%2Fb"},
                {"/api/v1/chunks/a%5Cb", "/api/v1/chunks/a%5Cb"},
                {"/api/v1/chunks/semi%3Bcolon", "/api/v1/chunks/semi;colon"},
                {"/api/v1/chunks/100%25", "/api/v1/chunks/100%"},
                {"/api/v1/chunks/a%2520b", "/api/v1/chunks/a%20b"},
                {"/api/v1/chunks/..%2F..%2Fetc%2Fpasswd", "/api/v1/chunks/..%2F..%2Fetc%2Fpasswd"},
                {"/api/v1/chunks/x%27%3B%20DROP%20TABLE%20chunks%3B%20--", "/api/v1/chunks/x'; DROP TABLE chunks; --"},
                {"/api/v1/chunks/chunk%3Fquery%3D1%26x%23frag", "/api/v1/chunks/chunk?query=1&x#frag"},
                {"/api/v1/chunks/%C3%BCn%C3%AF", "/api/v1/chunks/ünï"},
                {"/api/v1/chunks/a..b", "/api/v1/chunks/a..b"}};
        for (String[] a : accepted) {
            assertThatCode(() -> firewall.getFirewalledRequest(request("PUT", a[0], a[1]))).as(a[0])
                    .doesNotThrowAnyException();
        }
    }

    @Test
    void spellingsThatCouldSlipPastAGuardAreRefused() {
        String[][] refused = {{"/actuator/health/..;/jolokia/list", "/actuator/jolokia/list"},
                {"/api/..;/actuator/jolokia/list", "/actuator/jolokia/list"},
                {"/admin;x=1/v1/status", "/admin/v1/status"},
                {"/api/%2E%2E/admin/v1/status", "/admin/v1/status"},
                {"/api/%2e%2e/admin/v1/status", "/admin/v1/status"},
                {"/api/v1/../../admin/v1/status", "/admin/v1/status"},
                {"//admin/v1/status", "/admin/v1/status"},
                {"/api/v1/chunks/a\\b", "/api/v1/chunks/a/b"},
                {"/api/v1/chunks/a%00b", "/api/v1/chunks/a"},
                {"/api/v1/chunks/a%0Ab", "/api/v1/chunks/a\nb"}};
        List<String> passed = new ArrayList<>();
        for (String[] r : refused) {
            try {
                firewall.getFirewalledRequest(request("GET", r[0], r[1]));
                passed.add(r[0]);
            } catch (RequestRejectedException expected) {
                // refused, as it must be
            }
        }
        assertThat(passed).as("spellings the firewall let through").isEmpty();
    }

    @Test
    void aRefusedRequestIsA400AsProblemDetailsThatDoesNotEchoThePath() throws Exception {
        MockHttpServletRequest request = request("GET", "/admin;x=1/v1/status", "/admin/v1/status");
        MockHttpServletResponse response = new MockHttpServletResponse();
        SecurityConfig.rejectedHandler().handle(request, response, new RequestRejectedException("semicolon"));
        assertThat(response.getStatus()).isEqualTo(400);
        assertThat(response.getContentType()).startsWith("application/problem+json");
        JsonNode problem = new ObjectMapper().readTree(response.getContentAsString());
        assertThat(problem.get("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-bad-request");
        assertThat(problem.get("code").asText()).isEqualTo("VSYNC-BAD-REQUEST");
        assertThat(problem.get("title").asText()).isEqualTo("Bad request");
        assertThat(problem.get("status").asInt()).isEqualTo(400);
        assertThat(problem.get("detail").asText()).contains("refused before it was handled");
        assertThat(problem.has("instance")).as("the refused path is not echoed").isFalse();
        assertThat(response.getContentAsString()).doesNotContain("x=1");

        MockHttpServletResponse unknownMethod = new MockHttpServletResponse();
        SecurityConfig.rejectedHandler().handle(request("PROPFIND", "/admin/v1/status", "/admin/v1/status"),
                unknownMethod, new RequestRejectedException("method"));
        assertThat(unknownMethod.getStatus()).isEqualTo(405);
        assertThat(unknownMethod.getHeader("Allow")).contains("GET");
        assertThat(new ObjectMapper().readTree(unknownMethod.getContentAsString()).get("code").asText())
                .isEqualTo("VSYNC-METHOD-NOT-ALLOWED");
    }
}
