package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A second backend added with one class and one template instance: a webhook receiver (a real HTTP
 * server on loopback that keeps the newest version per chunk, as a receiver honouring the idempotency
 * keys would). It keeps in step with the primary; while it answers 503 the replica keeps flowing and
 * nothing is charged; an event it refuses is parked without holding back the others.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes/*.camel.yaml",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.webhook.secret=0123456789abcdef-test-secret",
        "vectorsync.backends.hooks.read-timeout=2s",
        "vectorsync.relay.max-attempts=10"})
class WebhookRelayIT extends AbstractIT {

    private static final Map<String, Long> versions = new ConcurrentHashMap<>();
    private static final Map<String, String> contents = new ConcurrentHashMap<>();
    private static volatile boolean down;
    private static final AtomicInteger answered503 = new AtomicInteger();
    private static volatile String refuse = "";
    private static final java.util.Queue<JsonNode> received = new java.util.concurrent.ConcurrentLinkedQueue<>();
    @RegisterExtension
    static final LoopbackReceiver receiver = LoopbackReceiver.start(ex -> {
        JsonNode events = LoopbackReceiver.events(ex);
        int status = 200;
        String answer = "";
        if (down) {
            answered503.incrementAndGet();
            status = 503;
        } else {
            for (int i = 0; i < events.size(); i++) {
                if (events.get(i).get("chunkId").asText().equals(refuse)) {
                    status = 422;
                    answer = "{\"failedIndex\": " + i + "}";
                }
            }
            if (status == 200) {
                events.forEach(WebhookRelayIT::apply);
                events.forEach(received::add);
            }
        }
        LoopbackReceiver.respond(ex, status, answer);
    });

    /** What a receiver honouring versions does: keep the newest, deletes included. */
    private static synchronized void apply(JsonNode e) {
        String id = e.get("chunkId").asText();
        long v = e.get("version").asLong();
        if (versions.getOrDefault(id, 0L) >= v) {
            return;
        }
        versions.put(id, v);
        if (e.get("op").asText().equals("DELETE")) {
            contents.remove(id);
        } else {
            contents.put(id, e.has("content") ? e.get("content").asText() : "<redacted>");
        }
    }

    @DynamicPropertySource
    static void receiver(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.hooks.webhook.url", () -> receiver.url("/hook"));
    }

    private boolean receiverInStep() {
        List<Map<String, Object>> rows = jdbc.queryForList(
                "SELECT chunk_id, version, deleted, privacy, content FROM chunks WHERE chunk_id LIKE 'w-%'");
        for (Map<String, Object> r : rows) {
            String id = (String) r.get("chunk_id");
            boolean gone = Boolean.TRUE.equals(r.get("deleted")) || "LOCAL_ONLY".equals(r.get("privacy"));
            if (gone ? contents.containsKey(id) : !contents.containsKey(id)) {
                return false;
            }
            if (!gone && !String.valueOf(r.get("version")).equals(String.valueOf(versions.get(id)))) {
                return false;
            }
            if (!gone && "REDACTED".equals(r.get("privacy")) && !"<redacted>".equals(contents.get(id))) {
                return false;
            }
        }
        return true;
    }

    @Test
    void aWebhookBackendKeepsInStepAndAnOutageOfItNeverHoldsBackTheReplica() {
        for (int i = 0; i < 30; i++) {
            put("w-" + i, chunkBody("text " + i));
        }
        for (int i = 0; i < 10; i++) {
            put("w-" + i, chunkBody("second " + i));
        }
        delete("w-3");
        Map<String, Object> redacted = chunkBody("secret");
        redacted.put("privacy", "REDACTED");
        put("w-4", redacted);
        Map<String, Object> local = chunkBody("local");
        local.put("privacy", "LOCAL_ONLY");
        put("w-5", local);
        await().atMost(Duration.ofSeconds(20)).until(this::receiverInStep);
        awaitReplicaInStep(Duration.ofSeconds(20));
        assertThat(contents).doesNotContainKeys("w-3", "w-5");
        assertThat(contents.get("w-4")).isEqualTo("<redacted>");

        // The receiver answers 503 for a while: the replica keeps flowing; the receiver catches up after.
        down = true;
        for (int i = 30; i < 40; i++) {
            put("w-" + i, chunkBody("during outage " + i));
        }
        awaitReplicaInStep(Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(20)).until(() -> answered503.get() >= 3);
        assertThat(contents).doesNotContainKeys("w-30", "w-39");
        assertThat(count("SELECT count(*) FROM parked WHERE backend = 'hooks'")).as("nothing charged while down")
                .isZero();
        down = false;
        await().atMost(Duration.ofSeconds(30)).until(this::receiverInStep);
        // A change caught by the end of the outage in the middle of an isolation trial may be charged
        // once; it is retried and delivered, and nothing is dead-lettered.
        await().atMost(Duration.ofSeconds(20)).until(() ->
                count("SELECT count(*) FROM parked WHERE backend = 'hooks'") == 0);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'hooks'")).isZero();

        // A change the receiver refuses is isolated; the others around it arrive.
        refuse = "w-41";
        for (int i = 40; i < 45; i++) {
            put("w-" + i, chunkBody("refusal " + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() ->
                count("SELECT count(*) FROM parked WHERE backend = 'hooks' AND chunk_id = 'w-41'") == 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> contents.keySet().containsAll(
                List.of("w-40", "w-42", "w-43", "w-44")));
        assertThat(contents).doesNotContainKey("w-41");
        awaitReplicaInStep(Duration.ofSeconds(20));
        refuse = "";
        await().atMost(Duration.ofSeconds(30)).until(this::receiverInStep);
        // The receiver holds w-41 as soon as it answers; the relay clears the parked row in the
        // transaction that follows that answer, so wait for it rather than race it.
        await().atMost(Duration.ofSeconds(20)).until(() ->
                count("SELECT count(*) FROM parked WHERE backend = 'hooks'") == 0);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE backend = 'hooks'")).isZero();
    }
    private List<JsonNode> receivedFor(String chunkId) {
        return received.stream().filter(e -> e.get("chunkId").asText().equals(chunkId)).toList();
    }

    /** Writes a marker chunk and waits until the receiver has it: every change before it has been handled. */
    private void awaitHandled(String marker) {
        put(marker, chunkBody("marker"));
        await().atMost(Duration.ofSeconds(20)).until(() -> !receivedFor(marker).isEmpty());
    }

    @Test
    void aChunkLocalOnlyFromItsFirstWriteIsNeverAnnouncedAndADowngradeSendsOneContentFreeDelete() {
        Map<String, Object> local = chunkBody("local secret");
        local.put("privacy", "LOCAL_ONLY");
        put("lo-1", local);
        put("lo-1", local); // LOCAL_ONLY after LOCAL_ONLY
        delete("lo-1"); // a delete of a chunk no backend ever had
        put("lo-1", local); // re-created LOCAL_ONLY after its tombstone
        awaitHandled("lo-marker-1");
        assertThat(receivedFor("lo-1")).as("nothing about a chunk that never left the primary").isEmpty();

        put("lo-2", chunkBody("shared first"));
        await().atMost(Duration.ofSeconds(20)).until(() -> receivedFor("lo-2").size() == 1);
        put("lo-2", local); // downgrade
        put("lo-2", local); // and LOCAL_ONLY again
        awaitHandled("lo-marker-2");
        List<JsonNode> events = receivedFor("lo-2");
        assertThat(events).hasSize(2);
        JsonNode downgrade = events.get(1);
        assertThat(downgrade.get("op").asText()).isEqualTo("DELETE");
        assertThat(downgrade.has("content") || downgrade.has("embedding") || downgrade.has("metadata")
                || downgrade.toString().contains("local secret")).as(downgrade.toString()).isFalse();
        assertThat(contents).doesNotContainKey("lo-2");
    }
}
