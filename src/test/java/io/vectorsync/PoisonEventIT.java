package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.HttpEntity;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A poison event (one the backend refuses for good) is isolated from its batch and parked, then
 * dead-lettered once its budget is spent, while the events around and behind it are delivered at
 * once (docs/design.md invariant 4). After the cause is fixed, replay through the admin API delivers it,
 * and the ledger still guards the replay: a dead letter whose chunk has moved on does not regress it.
 * The backend refuses chunks of document "poison" through a CHECK constraint (SQLSTATE 23514).
 */
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = {
        "vectorsync.relay.max-attempts=4",
        "vectorsync.relay.backoff-base=500ms",
        "vectorsync.relay.backoff-max=2s"})
class PoisonEventIT extends AbstractIT {

    @Autowired
    TransactionTemplate tx;

    private static final String SECRET = "poison-content-that-must-never-be-logged";

    @Test
    void aPoisonEventIsParkedThenDeadLetteredWhileTheEventsBehindItAreDeliveredAndReplayDeliversItOnceFixed(
            CapturedOutput output) throws Exception {
        refusePoison("no_poison");
        try {
            // One transaction, one batch: the poison sits in the middle of 20 chunks ...
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Map<String, Object> c = chunkBody(i == 7 ? SECRET : "batch " + i);
                c.put("chunkId", i == 7 ? "p-1" : "b-" + i);
                c.put("documentId", i == 7 ? "poison" : "doc-b");
                items.add(c);
            }
            assertThat(postBatch(write(Map.of("chunks", items))).getStatusCode().value()).isEqualTo(200);
            // ... and more events come behind it.
            for (int i = 0; i < 10; i++) {
                assertThat(put("after-" + i, chunkBody("after " + i)).getStatusCode().value()).isEqualTo(201);
            }

            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(10))
                    .until(() -> count("SELECT count(*) FROM parked WHERE chunk_id = 'p-1' AND attempts >= 1") == 1);
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                    .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id LIKE 'b-%'"
                            + " OR chunk_id LIKE 'after-%'") == 29);
            assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'p-1'")).isZero();

            // Retried with backoff, then dead-lettered after max-attempts (4), out of parked.
            await().atMost(Duration.ofSeconds(15))
                    .until(() -> count("SELECT count(*) FROM dead_letter WHERE chunk_id = 'p-1'") == 1);
            assertThat(count("SELECT count(*) FROM parked")).isZero();
            Map<String, Object> dl = jdbc.queryForMap("SELECT * FROM dead_letter WHERE chunk_id = 'p-1'");
            assertThat(dl.get("attempts")).isEqualTo(4);
            assertThat(dl.get("error_class")).isEqualTo("PERMANENT");
            assertThat(dl.get("version")).isEqualTo(1L);
            assertThat((String) dl.get("last_error")).contains("23514").contains("no_poison").doesNotContain(SECRET);
            assertThat((String) dl.get("first_error")).doesNotContain(SECRET);
            // The good events did not wait for the poison's budget: all were in the backend before it ran out.
            Timestamp lastGood = jdbc.queryForObject("SELECT max(synced_at) FROM replica_chunks", Timestamp.class);
            assertThat(lastGood).isBefore((Timestamp) dl.get("created_at"));
            assertThat(jdbc.queryForObject("SELECT max(attempts) FROM dead_letter", Integer.class)).isEqualTo(4);
            assertThat(jdbc.queryForList(
                    "SELECT DISTINCT status FROM outbox_status WHERE chunk_id = 'p-1' AND backend = 'replica'",
                    String.class)).containsExactly("FAILED");

            JsonNode listed = json.readTree(adminGet("/admin/v1/dead-letters?backend=replica")
                    .getBody()).get("deadLetters");
            assertThat(listed).hasSize(1);
            assertThat(listed.get(0).get("chunkId").asText()).isEqualTo("p-1");
            assertThat(listed.get(0).get("attempts").asInt()).isEqualTo(4);
            assertThat(listed.get(0).get("errorClass").asText()).isEqualTo("PERMANENT");
            assertThat(listed.toString()).doesNotContain(SECRET);

            // The relay did not stop: later events still flow.
            assertThat(put("later", chunkBody("later")).getStatusCode().value()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'later'") == 1);
        } finally {
            allowPoison("no_poison");
        }

        // Cause fixed: replay delivers the dead letter, once.
        long id = jdbc.queryForObject("SELECT id FROM dead_letter WHERE chunk_id = 'p-1'", Long.class);
        ResponseEntity<String> replay = adminPost("/admin/v1/dead-letters/{id}/replay", id);
        assertThat(replay.getStatusCode().value()).as(replay.getBody()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'p-1'") == 1);
        awaitReplicaInStep(Duration.ofSeconds(10));
        assertThat(jdbc.queryForObject("SELECT document_id FROM replica_chunks WHERE chunk_id = 'p-1'", String.class))
                .isEqualTo("poison");
        assertThat(count("SELECT version FROM delivery_ledger WHERE chunk_key = 'p-1'")).isOne();
        await().atMost(Duration.ofSeconds(5)).until(() -> count("SELECT count(*) FROM parked") == 0);
        assertThat(count("SELECT count(*) FROM dead_letter WHERE chunk_id = 'p-1' AND replayed_at IS NOT NULL"))
                .isOne();
        assertThat(adminPost("/admin/v1/dead-letters/{id}/replay", id)
                .getStatusCode().value()).isEqualTo(404);
        assertThat(json.readTree(adminGet("/admin/v1/dead-letters?backend=replica").getBody())
                .get("deadLetters")).isEmpty();

        assertThat(output.getAll()).contains("VSYNC-RELAY-PARKED").contains("VSYNC-RELAY-DEAD-LETTER")
                .doesNotContain(SECRET);
    }

    @Test
    void replayingADeadLetterWhoseChunkHasMovedOnDoesNotRegressIt(CapturedOutput output) throws Exception {
        refusePoison("no_poison_q");
        try {
            Map<String, Object> poisoned = chunkBody(SECRET);
            poisoned.put("documentId", "poison");
            assertThat(put("q-1", poisoned).getStatusCode().value()).isEqualTo(201);
            assertThat(put("q-2", poisoned).getStatusCode().value()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(15)).until(() -> count(
                    "SELECT count(*) FROM dead_letter WHERE chunk_id IN ('q-1', 'q-2') AND replayed_at IS NULL") == 2);

            // Meanwhile the chunks move on: q-1 gets a good version 2, q-2 is deleted (version 2).
            Map<String, Object> fine = chunkBody("fine now");
            fine.put("documentId", "fine");
            assertThat(put("q-1", fine).getStatusCode().value()).isEqualTo(200);
            assertThat(delete("q-2").getStatusCode().value()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> count(
                    "SELECT count(*) FROM delivery_ledger WHERE chunk_key IN ('q-1', 'q-2') AND version = 2") == 2);
            awaitReplicaInStep(Duration.ofSeconds(5));
        } finally {
            allowPoison("no_poison_q");
        }

        // Replaying the old version-1 dead letters must change nothing: the ledger has version 2 of both.
        ResponseEntity<String> replay = adminPost("/admin/v1/backends/replica/dead-letters:replay");
        assertThat(replay.getStatusCode().value()).as(replay.getBody()).isEqualTo(200);
        assertThat(json.readTree(replay.getBody()).get("replayed").asInt()).isEqualTo(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> count("SELECT count(*) FROM parked") == 0);
        // A marker written after the replay: once it is delivered the replayed events have been handled.
        assertThat(put("q-marker", chunkBody("marker")).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'q-marker'") == 1);

        assertThat(jdbc.queryForMap("SELECT version, document_id FROM replica_chunks WHERE chunk_id = 'q-1'"))
                .isEqualTo(Map.of("version", 2L, "document_id", "fine"));
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'q-2'")).isZero();
        assertThat(jdbc.queryForList("SELECT chunk_key || ':' || version || ':' || deleted FROM delivery_ledger"
                + " WHERE chunk_key IN ('q-1', 'q-2') ORDER BY chunk_key", String.class))
                .containsExactly("q-1:2:false", "q-2:2:true");
        awaitReplicaInStep(Duration.ofSeconds(5));
        assertThat(count("SELECT count(*) FROM dead_letter WHERE chunk_id IN ('q-1', 'q-2') AND replayed_at IS NULL"))
                .isZero();
        assertThat(output.getAll()).doesNotContain(SECRET);
    }

    @Test
    void aNewerEventThatCannotBeMaterialisedIsParkedEvenBehindAValidOneOfTheSameChunkInOneTransaction() {
        // One transaction: a valid v1, then a v2 whose embedding is not an array (the SQL function accepts
        // it, the relay cannot materialise it). Both land in one batch; the newest version decides.
        tx.executeWithoutResult(s -> {
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'pv-1', 1, ?::jsonb)", String.class,
                    "{\"content\":\"v1\"}");
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'pv-1', 2, ?::jsonb)", String.class,
                    "{\"content\":\"v2\",\"embedding\":\"oops\"}");
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> count("SELECT count(*) FROM outbox_status"
                + " WHERE chunk_id = 'pv-1' AND backend = 'replica' AND status = 'PENDING'") == 0);
        assertThat(jdbc.queryForList("SELECT version || ':' || status FROM outbox_status"
                + " WHERE chunk_id = 'pv-1' AND backend = 'replica' ORDER BY version", String.class))
                .containsExactly("1:PARKED", "2:PARKED");
        Map<String, Object> parked = jdbc.queryForMap(
                "SELECT version, error_class, last_error FROM parked WHERE chunk_id = 'pv-1' AND backend = 'replica'");
        assertThat(parked.get("version")).isEqualTo(2L);
        assertThat(parked.get("error_class")).isEqualTo("PERMANENT");
        assertThat((String) parked.get("last_error")).contains("VSYNC-EVENT-PAYLOAD");
        assertThat(count("SELECT count(*) FROM delivery_ledger WHERE chunk_key = 'pv-1'"))
                .as("the older version was not sent in place of the newer one").isZero();
    }

    private void refusePoison(String constraint) {
        jdbc.execute("ALTER TABLE replica_chunks ADD CONSTRAINT " + constraint
                + " CHECK (document_id IS DISTINCT FROM 'poison') NOT VALID"); // new rows only
    }

    private void allowPoison(String constraint) {
        jdbc.execute("ALTER TABLE replica_chunks DROP CONSTRAINT IF EXISTS " + constraint);
    }

    private ResponseEntity<String> postBatch(String body) {
        HttpHeaders h = new HttpHeaders();
        h.setContentType(MediaType.APPLICATION_JSON);
        return http.postForEntity("/api/v1/chunks:batch", new HttpEntity<>(body, h), String.class);
    }
}
