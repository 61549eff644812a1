package io.vectorsync.backend.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A former lease holder's batch held by the receiver until the new holder's batch is applied, against
 * a loopback receiver that follows the documented rule (README, ADR 017) and keeps no tombstones: it
 * remembers the highest lease epoch per (backend, partition) and refuses (409) a batch of a lower one.
 */
class WebhookFenceTest {

    private static final String SECRET = "0123456789abcdef-secret";
    private final ObjectMapper json = new ObjectMapper();
    private final ExecutorService threads = Executors.newFixedThreadPool(4);
    private final Map<String, Long> highestEpoch = new ConcurrentHashMap<>();
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    private final Map<String, String> headers = new ConcurrentHashMap<>();
    private final CountDownLatch oldHolderArrived = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private HttpServer server;
    private WebhookBackend backend;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(threads);
        server.createContext("/hook", this::receive);
        server.start();
        backend = new WebhookBackend("hooks", BackendConfigs.of("type", "webhook", "connect-timeout", "1s",
                "read-timeout", "10s", "webhook.url", "http://127.0.0.1:" + server.getAddress().getPort() + "/hook",
                "webhook.secret", SECRET), json, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
        threads.shutdownNow();
    }

    private void receive(HttpExchange ex) throws IOException {
        JsonNode body = json.readTree(ex.getRequestBody().readAllBytes());
        String epochHeader = ex.getRequestHeaders().getFirst("Vectorsync-Lease-Epoch");
        headers.put("epoch", String.valueOf(epochHeader));
        headers.put("partition", String.valueOf(ex.getRequestHeaders().getFirst("Vectorsync-Lease-Partition")));
        long epoch = body.path("leaseEpoch").asLong(0);
        String fenceKey = body.path("backend").asText() + "/" + body.path("partition").asInt(0);
        if (body.path("events").get(0).path("op").asText().equals("UPSERT")) {
            oldHolderArrived.countDown(); // the old holder's request: held until the new holder is done
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int status;
        synchronized (this) {
            if (epoch < highestEpoch.getOrDefault(fenceKey, 0L)) {
                status = 409; // a newer holder has written: this batch is stale
            } else {
                highestEpoch.put(fenceKey, epoch);
                for (JsonNode e : body.path("events")) {
                    if (e.path("op").asText().equals("DELETE")) {
                        held.remove(e.path("chunkId").asText());
                    } else {
                        held.put(e.path("chunkId").asText(), e.path("version").asLong());
                    }
                }
                status = 200;
            }
        }
        ex.sendResponseHeaders(status, -1);
        ex.close();
    }

    private static Change upsert(String id, long version) {
        return Change.upsert(new ChunkData(id, "doc", "text", new float[] {0.1f}, "{}", Privacy.FULL), version);
    }

    @Test
    void aFormerHoldersBatchLandingAfterTheNewHoldersIsRefusedByItsEpoch() throws Exception {
        // Epoch 1 stalls with UPSERT x v4; epoch 2 took the lease and deletes x at v5.
        CompletableFuture<Void> oldHolder = CompletableFuture.runAsync(() -> backend.apply(List.of(upsert("x", 4)), LeaseFence.of(1L)));
        assertThat(oldHolderArrived.await(5, TimeUnit.SECONDS)).isTrue();
        backend.apply(List.of(Change.delete("x", 5)), LeaseFence.of(2L));
        assertThat(headers).containsEntry("epoch", "2").containsEntry("partition", "0");

        release.countDown();
        oldHolder.get(10, TimeUnit.SECONDS); // 409: counted as applied; its cursor's compare-and-set fails anyway
        assertThat(held).as("the stale upsert did not bring x back").doesNotContainKey("x");
    }
}
