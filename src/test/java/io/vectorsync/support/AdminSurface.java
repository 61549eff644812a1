package io.vectorsync.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The admin surface checked from the outside over raw HTTP/1.1 (nothing normalised by a client library):
 * every guarded path (the admin API, Jolokia, Hawtio, every actuator endpoint but health and Prometheus)
 * refuses a request without credentials or with wrong ones, with a {@code VSYNC-AUTH-*} JSON body, and
 * answers with them; health and Prometheus stay open. Used with the management base path moved and with
 * a separate management port.
 */
public final class AdminSurface {

    /** A raw answer: status, lower-cased head, body. */
    public record Answer(int status, String head, String body) {
        public String code() {
            try {
                JsonNode n = new ObjectMapper().readTree(body);
                return n == null ? null : n.path("code").asText(null);
            } catch (IOException e) {
                return null;
            }
        }
    }

    /** Paths under the management base path that need the admin credentials. */
    public static final List<String> GUARDED_MANAGEMENT = List.of("", "/", "/jolokia", "/jolokia/", "/jolokia/list",
            "/jolokia/version", "/jolokia/read/java.lang:type=Memory/HeapMemoryUsage", "/hawtio", "/hawtio/",
            "/hawtio/index.html", "/hawtio/jolokia/version", "/hawtio/plugin", "/metrics", "/metrics/jvm.memory.used",
            "/alerts", "/info");

    /** Paths under the management base path that stay open. */
    public static final List<String> OPEN_MANAGEMENT = List.of("/health", "/health/liveness", "/health/readiness",
            "/prometheus");

    private AdminSurface() {}

    public static Answer send(int port, String method, String target, String authorization, String body) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(30_000);
            StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\nConnection: close\r\n");
            if (authorization != null) {
                head.append("Authorization: ").append(authorization).append("\r\n");
            }
            byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            if (body != null) {
                head.append("Content-Type: application/json\r\nContent-Length: ").append(b.length).append("\r\n");
            }
            head.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.UTF_8));
            out.write(b);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] raw = in.readAllBytes();
            String all = new String(raw, StandardCharsets.ISO_8859_1); // one char per byte
            int end = all.indexOf("\r\n\r\n");
            String h = all.substring(0, end).toLowerCase(Locale.ROOT);
            String rest = all.substring(end + 4);
            if (h.contains("transfer-encoding: chunked")) {
                StringBuilder sb = new StringBuilder();
                int p = 0;
                while (true) {
                    int nl = rest.indexOf("\r\n", p);
                    int size = Integer.parseInt(rest.substring(p, nl).trim(), 16);
                    if (size == 0) {
                        break;
                    }
                    sb.append(rest, nl + 2, nl + 2 + size);
                    p = nl + 2 + size + 2;
                }
                rest = sb.toString();
            }
            String text = new String(rest.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            return new Answer(Integer.parseInt(all.substring(9, 12)), h, text);
        } catch (IOException e) {
            throw new AssertionError(method + " " + target + ": " + e, e);
        }
    }

    public static String bearer(String token) {
        return "Bearer " + token;
    }

    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Asserts that a path refuses no credential and a wrong one, and passes with {@code good}. */
    public static void assertGuarded(int port, String method, String target, String body, String good) {
        Answer none = send(port, method, target, null, body);
        assertThat(none.status()).as(method + " " + target + " without credentials: " + none.body()).isEqualTo(401);
        assertThat(none.code()).as(method + " " + target + " without credentials").isEqualTo("VSYNC-AUTH-REQUIRED");
        assertThat(none.head()).as(target).contains("www-authenticate: bearer");
        for (String wrong : new String[] {bearer("not-the-token"), basic("admin", "admin"), "Token x"}) {
            Answer w = send(port, method, target, wrong, body);
            assertThat(w.status()).as(method + " " + target + " with " + wrong + ": " + w.body()).isEqualTo(401);
            assertThat(w.code()).as(method + " " + target + " with " + wrong).isEqualTo("VSYNC-AUTH-INVALID");
        }
        Answer ok = send(port, method, target, good, body);
        assertThat(ok.status()).as(method + " " + target + " with the admin credential: " + ok.body())
                .isNotIn(401, 403);
    }

    /**
     * Every guarded path under {@code base} (the management base path) on {@code managementPort}, the admin
     * API on {@code port}, and the open ones.
     */
    public static void assertWholeSurface(int port, int managementPort, String base, String good) {
        for (String p : GUARDED_MANAGEMENT) {
            assertGuarded(managementPort, "GET", base + p, null, good);
        }
        assertGuarded(managementPort, "POST", base + "/jolokia", "{\"type\":\"version\"}", good);
        assertGuarded(managementPort, "POST", base + "/jolokia/", "{\"type\":\"read\",\"mbean\":"
                + "\"org.apache.camel:context=vectorsync,type=routes,name=\\\"relay-replica\\\"\","
                + "\"attribute\":\"State\"}", good);
        Answer version = send(managementPort, "GET", base + "/jolokia/version", good, null);
        assertThat(version.body()).as("Jolokia answers with the credential").contains("\"agent\"");
        Answer hawtio = send(managementPort, "GET", base + "/hawtio/", good, null);
        assertThat(hawtio.body().toLowerCase(Locale.ROOT)).as("Hawtio answers with the credential").contains("hawtio");
        for (String p : new String[] {"/admin/v1/status", "/admin/v1/dead-letters", "/admin/v1/queue",
                "/admin/v1/jobs/1"}) {
            assertGuarded(port, "GET", p, null, good);
        }
        assertGuarded(port, "POST", "/admin/v1/sync-now", null, good);
        for (String p : OPEN_MANAGEMENT) {
            Answer a = send(managementPort, "GET", base + p, null, null);
            assertThat(a.status()).as(base + p + " is open: " + a.body()).isEqualTo(200);
        }
    }
}
