package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Issue 12 item 1, the other half: a renewal that finds the lease gone stops the batch. The same
 * stalling receiver as {@code SlowDeliveryLeaseIT} (lease 2 s, read timeout 3 s, 4 s hang on one chunk);
 * while the isolation round is under way another holder takes the lease (as an instance would after
 * this one stalled). The heartbeat's next renewal finds the lease gone: the call in flight ends, and no
 * further call of that batch reaches the receiver; the lost lease is counted.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes/*.camel.yaml",
        "vectorsync.relay.lease-ttl=2s",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.secret=0123456789abcdef-test-secret",
        "vectorsync.backends.hooks.read-timeout=3s",
        "vectorsync.backends.hooks.connect-timeout=1s",
        "vectorsync.backends.hooks.retry.isolate-after-failures=1"})
@ExtendWith(OutputCaptureExtension.class)
class LeaseLostDuringDeliveryIT extends AbstractIT {

    private static final String STALLED = "lost-stall";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger stalledRequests = new AtomicInteger();
    private static final AtomicInteger requests = new AtomicInteger();
    /** Never counted down while the test runs: a request with the stalled chunk hangs its full 4 s. */
    private static final CountDownLatch released = new CountDownLatch(1);
    private static final HttpServer server = start();

    private static HttpServer start() {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            s.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
            s.createContext("/hook", ex -> {
                JsonNode events = JSON.readTree(ex.getRequestBody().readAllBytes()).get("events");
                List<String> ids = new ArrayList<>();
                events.forEach(e -> ids.add(e.get("chunkId").asText()));
                requests.incrementAndGet();
                int status = 200;
                if (ids.contains(STALLED)) {
                    stalledRequests.incrementAndGet();
                    try {
                        released.await(4, TimeUnit.SECONDS); // the receiver hangs on this chunk
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    status = 503;
                }
                try {
                    ex.sendResponseHeaders(status, -1);
                } catch (IOException clientGone) {
                    // the relay stopped waiting (its read timeout)
                }
                ex.close();
            });
            s.start();
            return s;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @DynamicPropertySource
    static void receiver(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.hooks.url",
                () -> "http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
    }

    @AfterAll
    static void stop() {
        released.countDown();
        server.stop(0);
    }

    @Autowired
    MeterRegistry meters;

    @Test
    void aBatchWhoseLeaseIsTakenDuringItsDeliveryMakesNoFurtherCall(CapturedOutput output) throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Map<String, Object> m = chunkBody("text " + i);
            m.put("chunkId", i == 5 ? STALLED : "lost-" + i);
            items.add(m);
        }
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        assertThat(http.postForEntity("/api/v1/chunks:batch",
                new HttpEntity<>(json.writeValueAsString(Map.of("chunks", items)), h), String.class)
                .getStatusCode().value()).isEqualTo(200);

        // The first attempt times out (one failure); the second isolates: its first call stalls too.
        await("the isolation round to start").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                .until(() -> stalledRequests.get() >= 2);
        long version = count("SELECT cursor_version FROM relay_cursor WHERE backend = 'hooks'");
        jdbc.update("UPDATE relay_cursor SET lease_owner = 'another-instance', lease_epoch = lease_epoch + 1,"
                + " lease_expires_at = clock_timestamp() + interval '1 hour' WHERE backend = 'hooks'");
        int requestsWhenTaken = requests.get();

        await("the heartbeat to find the lease gone").atMost(Duration.ofSeconds(10))
                .until(() -> output.getAll().contains("the lease was gone at a renewal during delivery"));
        await("the batch to give up").atMost(Duration.ofSeconds(10))
                .until(() -> meters.get("vectorsync.relay.failures").tag("backend", "hooks")
                        .tag("outcome", "lease_lost").counter().count() == 1.0);
        await("no further call of the lost batch").during(Duration.ofSeconds(6)).atMost(Duration.ofSeconds(8))
                .until(() -> requests.get() == requestsWhenTaken);
        assertThat(count("SELECT consecutive_failures FROM relay_cursor WHERE backend = 'hooks'"))
                .as("the lost lease counted against the batch's position").isEqualTo(2);
        assertThat(count("SELECT cursor_version FROM relay_cursor WHERE backend = 'hooks'")).isEqualTo(version);
        assertThat(count("SELECT count(*) FROM parked WHERE backend = 'hooks'")).isZero();
    }
}
