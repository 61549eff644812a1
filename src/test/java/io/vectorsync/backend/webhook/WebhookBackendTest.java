package io.vectorsync.backend.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook backend against a real HTTP server on loopback. */
class WebhookBackendTest {

    private static final String SECRET = "0123456789abcdef-secret";
    private final ObjectMapper json = new ObjectMapper();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private volatile Function<JsonNode, int[]> answer = n -> new int[] {200};
    private volatile String answerBody = "";
    private volatile String retryAfter;
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile boolean stall;
    private HttpServer server;
    private WebhookBackend backend;

    record Received(JsonNode body, String raw, String signature, String idempotencyKey) {}

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", this::handle);
        server.start();
        backend = backend(Duration.ofSeconds(2));
    }

    private WebhookBackend backend(Duration readTimeout) {
        var config = BackendConfigs.of("type", "webhook", "connect-timeout", "1s",
                "read-timeout", readTimeout.toMillis() + "ms",
                "webhook.url", "http://127.0.0.1:" + server.getAddress().getPort() + "/hook", "webhook.secret", SECRET);
        return new WebhookBackend("hooks", config, json, Clock.fixed(Instant.ofEpochSecond(1_700_000_000L),
                ZoneOffset.UTC));
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] raw = ex.getRequestBody().readAllBytes();
        JsonNode n = json.readTree(raw);
        received.add(new Received(n, new String(raw, StandardCharsets.UTF_8),
                ex.getRequestHeaders().getFirst(WebhookBackend.SIGNATURE_HEADER),
                ex.getRequestHeaders().getFirst("Idempotency-Key")));
        if (stall) {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int status = answer.apply(n)[0];
        if (retryAfter != null) {
            ex.getResponseHeaders().add("Retry-After", retryAfter);
        }
        byte[] out = answerBody.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            ex.getResponseBody().write(out);
        }
        ex.close();
    }

    private static Change upsert(String id, long v) {
        return Change.upsert(new ChunkData(id, "doc", "text " + id, new float[] {0.25f, -1f}, "{\"k\":1}",
                Privacy.FULL), v);
    }

    @Test
    void postsASignedBatchWithAnIdempotencyKeyPerEvent() throws Exception {
        backend.apply(List.of(upsert("a", 2), Change.delete("b", 5)), LeaseFence.of(1));
        assertThat(received).hasSize(1);
        Received r = received.get(0);
        JsonNode events = r.body().get("events");
        assertThat(events).hasSize(2);
        assertThat(events.get(0).get("idempotencyKey").asText()).isEqualTo("a:2");
        assertThat(events.get(0).get("embedding").get(1).floatValue()).isEqualTo(-1f);
        assertThat(events.get(1).get("op").asText()).isEqualTo("DELETE");
        assertThat(events.get(1).has("content")).isFalse();

        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        String expected = HexFormat.of().formatHex(mac.doFinal(("1700000000." + r.raw()).getBytes(StandardCharsets.UTF_8)));
        assertThat(r.signature()).isEqualTo("t=1700000000,v1=" + expected);

        backend.apply(List.of(upsert("a", 2), Change.delete("b", 5)), LeaseFence.of(1));
        assertThat(received.get(1).idempotencyKey()).as("stable across retries").isEqualTo(r.idempotencyKey());
    }

    @Test
    void conflictMeansAlreadyAppliedAndNotFoundOnDeleteIsANoOp() {
        answer = n -> new int[] {409};
        backend.apply(List.of(upsert("a", 1)), LeaseFence.of(1));
        answer = n -> new int[] {404};
        backend.apply(List.of(Change.delete("gone", 3)), LeaseFence.of(1));
        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1)), LeaseFence.of(1))).isInstanceOf(PermanentBackendException.class);
    }

    @Test
    void serverErrorsAndRateLimitsAreTransientAndHonourRetryAfter() {
        answer = n -> new int[] {503};
        retryAfter = "7";
        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1)), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class,
                        e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7)));
        answer = n -> new int[] {429};
        retryAfter = "Tue, 14 Nov 2023 22:13:40 GMT"; // 20 s after the fixed clock
        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1)), LeaseFence.of(1)))
                .isInstanceOfSatisfying(TransientBackendException.class,
                        e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(20)));
    }

    @Test
    void aClientErrorNamingTheRefusedChangeIsPermanentForThatChange() {
        answer = n -> new int[] {422};
        answerBody = "{\"failedIndex\": 1}";
        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1), upsert("poison", 1)), LeaseFence.of(1)))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> assertThat(e.failedIndex()).isEqualTo(1));
    }

    @Test
    void noAnswerWithinTheReadTimeoutAndAStoppedReceiverAreTransient() {
        stall = true;
        WebhookBackend impatient = backend(Duration.ofMillis(300));
        assertThatThrownBy(() -> impatient.apply(List.of(upsert("a", 1)), LeaseFence.of(1))).isInstanceOf(TransientBackendException.class)
                .hasMessageContaining("no answer within");
        release.countDown();
        server.stop(0);
        assertThatThrownBy(() -> backend.apply(List.of(upsert("a", 1)), LeaseFence.of(1))).isInstanceOf(TransientBackendException.class);
    }

    @Test
    void aReceiverIsNotReadBackAndTheConfigurationIsChecked() {
        assertThat(backend).as("verify refuses what it can't read back").isNotInstanceOf(ReadBack.class);
        var noSecret = BackendConfigs.of("type", "webhook", "webhook.url", "http://127.0.0.1:1/hook", "webhook.secret", "short");
        assertThatThrownBy(() -> new WebhookBackend("w", noSecret, json, Clock.systemUTC()))
                .hasMessageContaining("vectorsync.backends.w.webhook.secret");
    }
}
