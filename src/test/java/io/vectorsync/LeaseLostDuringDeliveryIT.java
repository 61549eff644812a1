package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
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
        "vectorsync.backends.hooks.webhook.secret=0123456789abcdef-test-secret",
        "vectorsync.backends.hooks.read-timeout=3s",
        "vectorsync.backends.hooks.connect-timeout=1s",
        "vectorsync.backends.hooks.retry.isolate-after-failures=1"})
@ExtendWith(OutputCaptureExtension.class)
class LeaseLostDuringDeliveryIT extends AbstractIT {

    private static final String STALLED = "lost-stall";
    private static final AtomicInteger stalledRequests = new AtomicInteger();
    private static final AtomicInteger requests = new AtomicInteger();
    @RegisterExtension
    static final LoopbackReceiver receiver = LoopbackReceiver.start(ex -> {
        List<String> ids = LoopbackReceiver.chunkIds(LoopbackReceiver.events(ex));
        requests.incrementAndGet();
        int status = 200;
        if (ids.contains(STALLED)) {
            stalledRequests.incrementAndGet();
            LeaseLostDuringDeliveryIT.receiver.hang(4_000); // the receiver hangs on this chunk, then fails it
            status = 503;
        }
        LoopbackReceiver.respond(ex, status);
    });

    @DynamicPropertySource
    static void receiver(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.hooks.webhook.url", () -> receiver.url("/hook"));
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
