package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A receiver whose API key was rotated answers 401 (then 403) to every request: the backend pauses
 * with an error naming it and the status, no good event is parked or dead-lettered however many times
 * it is refused (isolation rounds included), and once the receiver accepts again every event arrives.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes/*.camel.yaml",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.webhook.secret=0123456789abcdef-test-secret",
        "vectorsync.backends.hooks.read-timeout=2s",
        "vectorsync.relay.max-attempts=2",
        "vectorsync.relay.isolate-after-failures=1",
        "vectorsync.relay.backoff-base=50ms",
        "vectorsync.relay.backoff-max=200ms",
        "vectorsync.backends.hooks.circuit-breaker.wait-in-open=1s"})
class RotatedCredentialsIT extends AbstractIT {

    private static final Set<String> received = ConcurrentHashMap.newKeySet();
    private static final AtomicInteger refused = new AtomicInteger();
    private static volatile int refuseWith = 401;
    @RegisterExtension
    static final LoopbackReceiver receiver = LoopbackReceiver.start(ex -> {
        JsonNode events = LoopbackReceiver.events(ex);
        int status = refuseWith;
        String answer = "{\"error\":\"invalid api key for tenant secret-tenant\"}";
        if (status == 200) {
            events.forEach(e -> received.add(e.get("chunkId").asText()));
            answer = "";
        } else {
            refused.incrementAndGet();
        }
        LoopbackReceiver.respond(ex, status, answer);
    });

    @DynamicPropertySource
    static void receiver(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.hooks.webhook.url", () -> receiver.url("/hook"));
    }

    private String lastError() throws IOException {
        for (JsonNode b : json.readTree(adminGet("/admin/v1/status").getBody()).path("backends")) {
            if (b.path("backend").asText().equals("hooks")) {
                return b.path("lastError").asText("");
            }
        }
        return "";
    }

    @Test
    void aRotatedApiKeyPausesTheBackendWithoutParkingOrDeadLetteringGoodEvents() throws Exception {
        for (int i = 0; i < 6; i++) {
            put("key-" + i, chunkBody("text " + i));
        }
        // Many refusals: isolation rounds and more than max-attempts polls each (an open circuit in between).
        await().atMost(Duration.ofSeconds(30)).until(() -> refused.get() >= 10);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'hooks'")).as("dead letters").isZero();
        assertThat(count("SELECT count(*) FROM parked WHERE backend = 'hooks'")).as("parked").isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> lastError().contains("HTTP 401"));
        String error = lastError();
        assertThat(error).contains("VSYNC-BACKEND-CREDENTIALS", "'hooks'").doesNotContain("secret-tenant");
        Map<String, Object> cursor = jdbc.queryForMap(
                "SELECT consecutive_failures, last_error FROM relay_cursor WHERE backend = 'hooks'");
        assertThat(((Number) cursor.get("consecutive_failures")).intValue()).isGreaterThanOrEqualTo(2);

        refuseWith = 403;
        int before = refused.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> refused.get() >= before + 3 && lastError().contains("HTTP 403"));
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'hooks'")).isZero();
        assertThat(count("SELECT count(*) FROM parked WHERE backend = 'hooks'")).isZero();

        refuseWith = 200;
        await().atMost(Duration.ofSeconds(30)).until(() -> received.containsAll(
                Set.of("key-0", "key-1", "key-2", "key-3", "key-4", "key-5")));
        await().atMost(Duration.ofSeconds(10)).until(() -> count(
                "SELECT consecutive_failures FROM relay_cursor WHERE backend = 'hooks'") == 0);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'hooks'")).isZero();
    }
}
