package io.vectorsync.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.AdminSurface;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * Issue 12, item 9: with {@code management.endpoints.web.base-path=/manage}, Jolokia, Hawtio and every
 * actuator endpoint but health and Prometheus still need the admin credentials, and so does the admin API.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.endpoints.web.base-path=/manage"})
@AutoConfigureObservability(tracing = false) // the Prometheus endpoint exists, as in production
class MovedManagementBasePathIT extends AbstractIT {

    @Value("${local.server.port}")
    int port;

    @Test
    void everyGuardedPathUnderAMovedBasePathNeedsTheAdminCredentials() {
        AdminSurface.assertWholeSurface(port, port, "/manage", AdminSurface.bearer(ADMIN_TOKEN));
    }

    /**
     * Spellings that would make the path a guard matches differ from the path Tomcat dispatches (path
     * parameters, dot segments, encoded dots, doubled slashes) are refused before any guard or handler.
     */
    @Test
    void spellingsThatCouldSlipPastAGuardAreRefused() {
        for (String target : new String[] {"/manage/health/..;/jolokia/list", "/manage/health;x/../jolokia/list",
                "/api/..;/manage/jolokia/list", "/api/%2E%2E/manage/jolokia/list", "/api/%2e%2e/admin/v1/status",
                "/manage/health/%2E%2E/jolokia/list", "/api/v1/../../admin/v1/status", "/api/./../admin/v1/status",
                "//manage/jolokia/list", "/manage/prometheus/..;/hawtio/", "/admin;x=1/v1/status",
                "/manage/health/..%2Fjolokia/list", "/api/..%2F..%2Fadmin/v1/status", "/manage/%6Aolokia/list",
                "/%61dmin/v1/status", "/manage/%68awtio/", "/api/v1/chunks/x/..;/..;/..;/admin/v1/status"}) {
            AdminSurface.Answer a = AdminSurface.send(port, "GET", target, null, null);
            assertThat(a.status()).as(target + ": " + a.body()).isBetween(400, 499);
            assertThat(a.code()).as(target + ": " + a.body()).startsWith("VSYNC-");
            assertThat(a.body()).as(target).doesNotContain("\"agent\"", "HeapMemoryUsage", "\"backends\"");
        }
    }

    /** Chunk ids with encoded '/', '\\', ';', '%' and '?' (as the docs promise) still round-trip through the firewall. */
    @Test
    void chunkIdsWithEncodedSeparatorsAndOddCharactersRoundTrip() throws Exception {
        String[] ids = {"a/b", "a//b", "a\\b", "semi;colon", "100%", "a%2Fb", "q?x=1&y#f", "../../etc/passwd",
                "x'; DROP TABLE chunks; --", "ünïcödé 🚀", "./x", "a..b"};
        for (String id : ids) {
            String raw = write(chunkBody("content of " + id));
            String target = "/api/v1/chunks/" + encode(id);
            AdminSurface.Answer put = AdminSurface.send(port, "PUT", target, null, raw);
            assertThat(put.status()).as(id + " " + target + ": " + put.body()).isIn(200, 201);
            AdminSurface.Answer got = AdminSurface.send(port, "GET", target, null, null);
            assertThat(got.status()).as(id + ": " + got.body()).isEqualTo(200);
            JsonNode n = json.readTree(got.body());
            assertThat(n.path("chunkId").asText()).isEqualTo(id);
            assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = ?", id)).isOne();
        }
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters. */
    private static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }
}
