package io.vectorsync.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.AdminAuthProperties;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.authentication.www.BasicAuthenticationConverter;

/**
 * The admin credential check and the refusals (the same cases the hand-written filter was held to): the
 * token and basic credentials pass, everything else is refused with the right {@code VSYNC-AUTH-*} code,
 * and with no credential configured every call is refused with {@code VSYNC-AUTH-NOT-CONFIGURED}.
 */
class AdminAuthenticationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** What the chain does with one Authorization header: "PASSED", or the refusal's code. */
    private static String run(AdminAuthProperties props, String authorization) throws Exception {
        AdminAuthenticationProvider provider = new AdminAuthenticationProvider(props);
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/admin/v1/status");
        if (authorization != null) {
            request.addHeader("Authorization", authorization);
        }
        AuthenticationException failure = null;
        try {
            var bearer = SecurityConfig.bearerToken(request);
            UsernamePasswordAuthenticationToken basic = bearer == null
                    ? new BasicAuthenticationConverter().convert(request) : null;
            if (bearer != null || basic != null) {
                var result = provider.authenticate(bearer != null ? bearer : basic);
                if (result.isAuthenticated()) {
                    return "PASSED";
                }
            }
        } catch (AuthenticationException e) {
            failure = e;
        }
        MockHttpServletResponse response = new MockHttpServletResponse();
        new AdminAuthEntryPoint(provider).commence(request, response, failure);
        assertThat(response.getStatus()).isEqualTo(401);
        assertThat(response.getContentType()).startsWith("application/problem+json");
        assertThat(response.getHeaders("WWW-Authenticate")).isNotEmpty();
        JsonNode problem = JSON.readTree(response.getContentAsString());
        String code = problem.get("code").asText();
        assertThat(problem.get("type").asText())
                .isEqualTo("https://vectorsync.io/errors/" + code.toLowerCase(Locale.ROOT));
        assertThat(problem.get("status").asInt()).isEqualTo(401);
        assertThat(problem.get("instance").asText()).isEqualTo("/admin/v1/status");
        assertThat(problem.get("field").asText()).isEqualTo("Authorization");
        assertThat(problem.get("detail").asText()).isNotBlank();
        assertThat(problem.get("title").asText()).isNotBlank();
        assertThat(problem.has("expected")).isTrue();
        return code;
    }

    @Test
    void tokenAndBasicCredentialsPassAndEverythingElseIsRefused() throws Exception {
        AdminAuthProperties both = new AdminAuthProperties("s3cret-token", "ops", "pa:ss");
        assertThat(run(both, "Bearer s3cret-token")).isEqualTo("PASSED");
        assertThat(run(both, "bearer s3cret-token")).isEqualTo("PASSED");
        assertThat(run(both, basic("ops", "pa:ss"))).isEqualTo("PASSED");
        assertThat(run(both, null)).isEqualTo("VSYNC-AUTH-REQUIRED");
        assertThat(run(both, "Bearer s3cret-tokenX")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "Bearer s3cret-toke")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "s3cret-token")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "Bearer")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, basic("ops", "wrong"))).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, basic("other", "pa:ss"))).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "Basic !!!")).isEqualTo("VSYNC-AUTH-INVALID");

        AdminAuthProperties tokenOnly = new AdminAuthProperties("t", null, null);
        assertThat(run(tokenOnly, basic("", ""))).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(tokenOnly, "Bearer t")).isEqualTo("PASSED");
        AdminAuthProperties basicOnly = new AdminAuthProperties(null, "ops", "pw");
        assertThat(run(basicOnly, "Bearer ")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(basicOnly, basic("ops", "pw"))).isEqualTo("PASSED");
    }

    @Test
    void withoutAnyConfiguredCredentialEveryAdminCallIsRefused() throws Exception {
        AdminAuthProperties none = new AdminAuthProperties(null, null, null);
        assertThat(run(none, null)).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        assertThat(run(none, "Bearer ")).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        assertThat(run(none, basic("", ""))).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        // A blank token or a username without a password is no credential either.
        AdminAuthProperties blank = new AdminAuthProperties("  ", "ops", "");
        assertThat(run(blank, basic("ops", ""))).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        assertThat(run(blank, "Bearer   ")).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
    }

    @Test
    void anAuthenticatedCallARuleRefusesIsA403AsProblemDetails() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/admin/v1/status");
        MockHttpServletResponse response = new MockHttpServletResponse();
        SecurityConfig.accessDeniedHandler().handle(request, response, new AccessDeniedException("denied"));
        assertThat(response.getStatus()).isEqualTo(403);
        assertThat(response.getContentType()).startsWith("application/problem+json");
        JsonNode problem = JSON.readTree(response.getContentAsString());
        assertThat(problem.get("code").asText()).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(problem.get("type").asText()).isEqualTo("https://vectorsync.io/errors/vsync-auth-invalid");
        assertThat(problem.get("title").asText()).isEqualTo("Credentials refused");
        assertThat(problem.get("status").asInt()).isEqualTo(403);
        assertThat(problem.get("instance").asText()).isEqualTo("/admin/v1/status");
        assertThat(problem.get("field").asText()).isEqualTo("Authorization");
        assertThat(problem.has("expected")).isFalse();
    }
}
