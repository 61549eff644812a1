package io.vectorsync.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.AdminAuthProperties;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

class AdminAuthFilterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static MockHttpServletRequest request(String uri, String authorization) {
        MockHttpServletRequest r = new MockHttpServletRequest("POST", uri);
        r.setServletPath(uri);
        if (authorization != null) {
            r.addHeader("Authorization", authorization);
        }
        return r;
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Runs the filter; returns the error code, or "PASSED" when the request reached the chain. */
    private static String run(AdminAuthProperties props, String uri, String authorization) throws Exception {
        MockHttpServletResponse resp = new MockHttpServletResponse();
        MockFilterChain chain = new MockFilterChain();
        new AdminAuthFilter(props, JSON).doFilter(request(uri, authorization), resp, chain);
        if (chain.getRequest() != null) {
            return "PASSED";
        }
        assertThat(resp.getStatus()).isEqualTo(401);
        assertThat(resp.getContentType()).startsWith("application/json");
        return JSON.readTree(resp.getContentAsString()).get("code").asText();
    }

    @Test
    void tokenAndBasicCredentialsPassAndEverythingElseIsRefused() throws Exception {
        AdminAuthProperties both = new AdminAuthProperties("s3cret-token", "ops", "pa:ss");
        assertThat(run(both, "/admin/v1/status", "Bearer s3cret-token")).isEqualTo("PASSED");
        assertThat(run(both, "/admin/v1/status", "bearer s3cret-token")).isEqualTo("PASSED");
        assertThat(run(both, "/admin/v1/status", basic("ops", "pa:ss"))).isEqualTo("PASSED");
        assertThat(run(both, "/admin/v1/status", null)).isEqualTo("VSYNC-AUTH-REQUIRED");
        assertThat(run(both, "/admin/v1/status", "Bearer s3cret-tokenX")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "/admin/v1/status", "Bearer s3cret-toke")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "/admin/v1/status", "s3cret-token")).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "/admin/v1/status", basic("ops", "wrong"))).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "/admin/v1/status", basic("other", "pa:ss"))).isEqualTo("VSYNC-AUTH-INVALID");
        assertThat(run(both, "/admin/v1/status", "Basic !!!")).isEqualTo("VSYNC-AUTH-INVALID");

        AdminAuthProperties tokenOnly = new AdminAuthProperties("t", null, null);
        assertThat(run(tokenOnly, "/admin/v1/status", basic("", ""))).isEqualTo("VSYNC-AUTH-INVALID");
    }

    @Test
    void withoutAnyConfiguredCredentialEveryAdminCallIsRefused() throws Exception {
        AdminAuthProperties none = new AdminAuthProperties(null, null, null);
        assertThat(run(none, "/admin/v1/status", null)).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        assertThat(run(none, "/admin/v1/status", "Bearer ")).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        assertThat(run(none, "/admin/v1/status", basic("", ""))).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
        // A blank token or a username without a password is no credential either.
        AdminAuthProperties blank = new AdminAuthProperties("  ", "ops", "");
        assertThat(run(blank, "/admin/v1/status", basic("ops", ""))).isEqualTo("VSYNC-AUTH-NOT-CONFIGURED");
    }

    @Test
    void everySpellingOfAnAdminPathIsGuardedAndOnlyThose() throws Exception {
        AdminAuthProperties p = new AdminAuthProperties("t", null, null);
        for (String uri : new String[] {"/admin", "/admin/v1/sync-now", "//admin/v1/status", "/admin;x=1/v1/status",
                "/ADMIN/v1/status", "/Admin/v1", "/admin%2Fv1/status", "/jolokia", "/jolokia/read/x",
                "/hawtio/", "/actuator/jolokia", "/actuator/hawtio/x"}) {
            assertThat(run(p, uri, null)).as(uri).isEqualTo("VSYNC-AUTH-REQUIRED");
        }
        for (String uri : new String[] {"/api/v1/chunks/admin", "/actuator/health", "/actuator/health/liveness",
                "/administrator", "/api/v1/chunks:batch"}) {
            assertThat(run(p, uri, null)).as(uri).isEqualTo("PASSED");
        }
    }
}
