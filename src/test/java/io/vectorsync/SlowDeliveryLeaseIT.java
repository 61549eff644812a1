package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Issue 12 item 1: a delivery that outlives the lease. The lease is 2 s, the webhook's read timeout 3 s,
 * and the receiver (a real HTTP server on loopback) hangs 4 s on any request that holds chunk
 * {@code slow-stall} and then fails it without applying anything. One batch holds that chunk and ten
 * good ones: every call with the stalled chunk times out, so isolating it takes several 3 s calls, far
 * longer than the lease. The lease is heartbeated while the delivery runs, so the isolation round ends:
 * each good chunk reaches the receiver exactly once and the stalled one is parked.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes/*.camel.yaml",
        "vectorsync.relay.lease-ttl=2s",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.webhook.secret=0123456789abcdef-test-secret",
        "vectorsync.backends.hooks.read-timeout=3s",
        "vectorsync.backends.hooks.connect-timeout=1s",
        "vectorsync.backends.hooks.retry.isolate-after-failures=1"})
class SlowDeliveryLeaseIT extends AbstractIT {

    private static final String STALLED = "slow-stall";
    /** Per chunk id, how many times the receiver applied it (answered 200 for a request holding it). */
    private static final Map<String, AtomicInteger> applied = new ConcurrentHashMap<>();
    private static final AtomicInteger stalledRequests = new AtomicInteger();
    @RegisterExtension
    static final LoopbackReceiver receiver = LoopbackReceiver.start(ex -> {
        List<String> ids = LoopbackReceiver.chunkIds(LoopbackReceiver.events(ex));
        int status = 200;
        if (ids.contains(STALLED)) {
            stalledRequests.incrementAndGet();
            SlowDeliveryLeaseIT.receiver.hang(4_000); // the receiver hangs on this chunk, then fails it
            status = 503;
        } else {
            ids.forEach(id -> applied.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
        }
        LoopbackReceiver.respond(ex, status);
    });

    @DynamicPropertySource
    static void receiver(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.hooks.webhook.url", () -> receiver.url("/hook"));
    }

    @Test
    void aDeliveryLongerThanTheLeaseDeliversTheGoodChunksOnceAndParksTheStalledOne() throws Exception {
        List<Map<String, Object>> items = new ArrayList<>();
        List<String> good = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            good.add("slow-" + i);
        }
        List<String> all = new ArrayList<>(good);
        all.add(5, STALLED);
        for (String id : all) {
            Map<String, Object> m = chunkBody("text of " + id);
            m.put("chunkId", id);
            items.add(m);
        }
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        // One transaction: the eleven events reach the relay in one batch.
        assertThat(http.postForEntity("/api/v1/chunks:batch",
                new HttpEntity<>(json.writeValueAsString(Map.of("chunks", items)), h), String.class)
                .getStatusCode().value()).isEqualTo(200);

        await("the stalled chunk to be parked for the webhook").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> count("SELECT count(*) FROM parked WHERE backend = 'hooks' AND chunk_id = '" + STALLED
                        + "'") == 1);
        await("the good chunks to be recorded as delivered").atMost(Duration.ofSeconds(10))
                .until(() -> count("SELECT count(*) FROM delivery_ledger WHERE backend = 'hooks'"
                        + " AND chunk_key LIKE 'slow-%' AND chunk_key <> '" + STALLED + "'") == good.size());
        for (String id : good) {
            assertThat(applied.get(id)).as("times the receiver got %s", id).isNotNull();
            assertThat(applied.get(id).get()).as("times the receiver got %s", id).isEqualTo(1);
        }
        assertThat(applied).doesNotContainKey(STALLED);
        assertThat(stalledRequests.get()).as("requests holding the stalled chunk").isPositive();
        assertThat(count("SELECT count(*) FROM outbox_status WHERE backend = 'hooks' AND chunk_id LIKE 'slow-%'"
                + " AND chunk_id <> '" + STALLED + "' AND status = 'PROCESSED'")).isEqualTo(good.size());
    }
}
