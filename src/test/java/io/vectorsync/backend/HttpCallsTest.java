package io.vectorsync.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The one status table of the HTTP backends, and the exception each row becomes, against a loopback
 * server that answers the status with a body quoting a secret and a {@code Retry-After}.
 */
class HttpCallsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private static HttpServer server;
    private static final HttpClient client = HttpCalls.client(Duration.ofSeconds(2));

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String[] q = ex.getRequestURI().getQuery().split("&");
            int status = Integer.parseInt(q[0].substring("status=".length()));
            if (q.length > 1) {
                ex.getResponseHeaders().add("Retry-After", q[1].substring("retry=".length()).replace('_', ' '));
            }
            byte[] body = "{\"error\":\"key sk-live-SECRET refused\"}".getBytes();
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static HttpResponse<String> answer(int status, String retryAfter) {
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/write?status=" + status
                + (retryAfter == null ? "" : "&retry=" + retryAfter.replace(' ', '_')));
        return HttpCalls.send(client, HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).build(), "store");
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({
            "200, APPLIED", "201, APPLIED", "204, APPLIED",
            "409, ALREADY_APPLIED",
            "401, CREDENTIALS", "403, CREDENTIALS",
            "408, TRANSIENT", "425, TRANSIENT", "429, TRANSIENT", "500, TRANSIENT", "502, TRANSIENT",
            "503, TRANSIENT", "504, TRANSIENT",
            "301, PERMANENT", "400, PERMANENT", "404, PERMANENT", "413, PERMANENT", "422, PERMANENT"})
    void everyHttpBackendReadsAStatusTheSameWay(int status, HttpCalls.Verdict verdict) {
        assertThat(HttpCalls.classify(status)).isEqualTo(verdict);
    }

    @ParameterizedTest(name = "HTTP {0} with Retry-After ''{1}''")
    @CsvSource(nullValues = "none", value = {
            "401, 30, TRANSIENT, PT30S", "403, none, TRANSIENT, none",
            "429, 7, TRANSIENT, PT7S", "503, 'Thu, 01 Jan 2026 00:01:00 GMT', TRANSIENT, PT1M", "500, soon, TRANSIENT, none",
            "400, 5, PERMANENT, none", "422, none, PERMANENT, none"})
    void aRefusalBecomesTheExceptionOfItsRowWithTheServersRetryAfterAndNeverTheBody(int status, String retryAfter,
            String type, String expectedRetry) {
        BackendException e = HttpCalls.refusal("store", "bulk write", answer(status, retryAfter), CLOCK, 3, "(a type)");

        assertThat(e.getMessage()).contains("'store'", "HTTP " + status).doesNotContain("SECRET");
        if (type.equals("TRANSIENT")) {
            assertThat(e).isInstanceOf(TransientBackendException.class);
            TransientBackendException t = (TransientBackendException) e;
            assertThat(t.retryAfter()).isEqualTo(expectedRetry == null ? null : Duration.parse(expectedRetry));
            assertThat(t.unreachable()).isFalse();
        } else {
            assertThat(e).isInstanceOfSatisfying(PermanentBackendException.class,
                    p -> assertThat(p.failedIndex()).isEqualTo(3));
            assertThat(e.getMessage()).contains("(a type)");
        }
        if (status == 401 || status == 403) {
            assertThat(e.getMessage()).startsWith("VSYNC-BACKEND-CREDENTIALS: backend 'store'")
                    .contains("vectorsync.backends.store.api-key").doesNotContain("(a type)");
        }
    }

    @ParameterizedTest(name = "HTTP {0} is no refusal")
    @CsvSource({"200", "409"})
    void anAppliedAnswerIsNoRefusal(int status) {
        assertThatThrownBy(() -> HttpCalls.refusal("store", "bulk write", answer(status, null), CLOCK, -1, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
