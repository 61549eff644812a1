package io.vectorsync.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The one status table of the HTTP backends, and the exception each row becomes, against a loopback
 * server that answers the status with a body quoting a secret and a {@code Retry-After}; and what the
 * helper puts on every request (the backend's headers, a JSON body) and reads from an answer.
 */
class HttpCallsTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    private static HttpServer server;
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/echo", ex -> {
            String answer = ex.getRequestURI().getQuery() == null ? JSON.createObjectNode()
                    .put("key", ex.getRequestHeaders().getFirst("api-key"))
                    .put("type", ex.getRequestHeaders().getFirst("Content-Type"))
                    .put("body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)).toString()
                    : "<html>a proxy's page</html>";
            byte[] body = answer.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
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

    private static HttpCalls calls() {
        return new HttpCalls("store", "http://127.0.0.1:" + server.getAddress().getPort(), Duration.ofSeconds(2),
                Duration.ofSeconds(2), JSON, CLOCK).withHeader("api-key", "k-1").withHeader("unset", null);
    }

    private static HttpCalls.Reply answer(HttpCalls calls, int status, String retryAfter) {
        return calls.call("GET", "/write?status=" + status
                + (retryAfter == null ? "" : "&retry=" + retryAfter.replace(' ', '_')), null);
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
            "400, 5, PERMANENT, none", "422, none, PERMANENT, none", "409, none, PERMANENT, none"})
    void aRefusalBecomesTheExceptionOfItsRowWithTheServersRetryAfterAndNeverTheBody(int status, String retryAfter,
            String type, String expectedRetry) {
        HttpCalls calls = calls();
        BackendException e = calls.withErrorDetail(r -> "(a type)").failure("bulk write", answer(calls, status, retryAfter), 3);

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
    @CsvSource({"200", "204"})
    void anAppliedAnswerIsNoRefusal(int status) {
        HttpCalls calls = calls();
        assertThatThrownBy(() -> calls.failure("bulk write", answer(calls, status, null), -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @org.junit.jupiter.api.Test
    void everyRequestCarriesTheBackendsHeadersAndAJsonBody() {
        HttpCalls.Reply r = calls().call("PUT", "/echo", JSON.createObjectNode().put("n", 1));
        assertThat(r.ok()).isTrue();
        assertThat(r.json("echo").path("key").asText()).isEqualTo("k-1");
        assertThat(r.body().path("type").asText()).isEqualTo("application/json");
        assertThat(r.body().path("body").asText()).isEqualTo("{\"n\":1}");
        assertThat(calls().call("POST", "/echo", "a\nb\n".getBytes(StandardCharsets.UTF_8), "application/x-ndjson",
                Map.of("Idempotency-Key", "i")).body().path("type").asText()).isEqualTo("application/x-ndjson");
    }

    @org.junit.jupiter.api.Test
    void anExpectedAnswerIsItsJsonAndAnyOtherIsTheFailureWithTheStoresDetail() {
        HttpCalls calls = calls().withErrorDetail(r -> "(busy)");
        assertThat(calls.expect("PUT", "/echo", JSON.createObjectNode(), "echo").path("key").asText()).isEqualTo("k-1");
        assertThatThrownBy(() -> calls.expect("GET", "/write?status=503", null, "a write"))
                .isInstanceOf(TransientBackendException.class)
                .hasMessage("backend 'store': a write answered HTTP 503 (busy)");
    }

    @org.junit.jupiter.api.Test
    void aReadWhereNothingIsHeldIsEmptyAndAProbeSaysWhatIsWrong() {
        HttpCalls calls = calls();
        assertThat(calls.expectHeld("GET", "/write?status=404", null, "a read").isEmpty()).isTrue();
        assertThatThrownBy(() -> calls.expectHeld("GET", "/write?status=500", null, "a read"))
                .isInstanceOf(TransientBackendException.class);
        assertThat(calls.probe("/echo", answer -> java.util.Optional.empty())).isEmpty();
        assertThat(calls.probe("/echo", answer -> java.util.Optional.of("key " + answer.path("key").asText())))
                .contains("key k-1");
        assertThat(calls.probe("/write?status=503", answer -> java.util.Optional.empty()))
                .contains("backend 'store': GET /write?status=503 answered HTTP 503");
        assertThat(calls.probe("/echo?page", answer -> java.util.Optional.empty()))
                .hasValueSatisfying(p -> assertThat(p).contains("not JSON"));
    }

    @org.junit.jupiter.api.Test
    void anAnswerThatIsNotJsonIsEmptyWhenReadLeniently() {
        HttpCalls.Reply r = calls().call("GET", "/echo?page", null);
        assertThat(r.body().isEmpty()).isTrue();
        assertThatThrownBy(() -> r.json("the echo")).isInstanceOf(TransientBackendException.class)
                .hasMessage("backend 'store': the echo answered HTTP 200 with a body that is not JSON");
    }

    @org.junit.jupiter.api.Test
    void theServersErrorTextIsScrubbedOfQuotedValuesAndCut() {
        assertThat(HttpCalls.scrub("bad value \"secret\" in 'field' `x`")).isEqualTo("bad value … in … …");
        assertThat(HttpCalls.scrub("x".repeat(300))).hasSize(201);
    }
}
