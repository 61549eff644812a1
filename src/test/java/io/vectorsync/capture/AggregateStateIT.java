package io.vectorsync.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.vectorsync.retention.RetentionService;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The primary keeps the current state of every aggregate the outbox carries (ADR 019): each capture path
 * writes it in the event's transaction, the newest version wins, a key belongs to the API or to the
 * application, and retention never removes the only copy of a payload.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.retention.enabled=false",
        "vectorsync.retention.outbox-age=1m",
        "vectorsync.retention.batch-size=2"})
class AggregateStateIT extends AbstractIT {

    @Autowired
    OutboxWriter writer;

    @Autowired
    TransactionTemplate tx;

    @Autowired
    RetentionService retention;

    /** A full UPSERT payload with a 384-dimension embedding (the replica's dimension). */
    private static final String PAYLOAD = "{\"documentId\": \"d\", \"content\": \"%s\", \"embedding\": ["
            + "0.5, ".repeat(383) + "0.25], \"metadata\": {\"n\": 1.10}, \"privacy\": \"%s\"}";

    private Map<String, Object> state(String key) {
        return jdbc.queryForMap("SELECT key, version, deleted, privacy, owner, payload::text AS payload"
                + " FROM current_state WHERE key = ?", key);
    }

    private void enqueue(String type, String key, long version, String payload) {
        jdbc.queryForObject("SELECT vectorsync.enqueue(?, ?, ?, ?::jsonb)", String.class, type, key, version, payload);
    }

    @Test
    void everyCapturePathKeepsTheNewestStateInTheEventsTransaction() {
        enqueue("UPSERT", "st-a", 2, PAYLOAD.formatted("two", "FULL"));
        assertThat(state("st-a")).containsEntry("version", 2L).containsEntry("deleted", false)
                .containsEntry("owner", "application");
        assertThat((String) state("st-a").get("payload")).contains("\"two\"");

        // An older version committed later leaves the state as it is; a newer one replaces it.
        enqueue("UPSERT", "st-a", 1, PAYLOAD.formatted("one", "FULL"));
        assertThat((String) state("st-a").get("payload")).contains("\"two\"");
        enqueue("UPSERT", "st-a", 3, PAYLOAD.formatted("three", "REDACTED"));
        assertThat(state("st-a")).containsEntry("version", 3L).containsEntry("privacy", "REDACTED");
        enqueue("DELETE", "st-a", 4, null);
        assertThat(state("st-a")).containsEntry("version", 4L).containsEntry("deleted", true)
                .containsEntry("payload", null);

        // Relationships by edge key; an UNLINK is the edge's tombstone.
        String edge = jdbc.queryForObject("SELECT vectorsync.link_key('st-a', 'CITES', 'st-b')", String.class);
        jdbc.queryForObject("SELECT vectorsync.enqueue_link('st-a', 'CITES', 'st-b', 1, false, '{\"w\": 2}')",
                String.class);
        assertThat(state(edge)).containsEntry("version", 1L).containsEntry("deleted", false);
        assertThat((String) state(edge).get("payload")).contains("\"w\": 2");
        jdbc.queryForObject("SELECT vectorsync.enqueue_link('st-a', 'CITES', 'st-b', 2, true)", String.class);
        assertThat(state(edge)).containsEntry("version", 2L).containsEntry("deleted", true);

        // OutboxWriter in the caller's Spring transaction: state and event commit or roll back together.
        tx.executeWithoutResult(s -> writer.enqueue("UPSERT", "st-w", 5, PAYLOAD.formatted("w", "FULL")));
        assertThat(state("st-w")).containsEntry("version", 5L).containsEntry("owner", "application");
        tx.executeWithoutResult(s -> {
            writer.enqueue("UPSERT", "st-rolled-back", 1, PAYLOAD.formatted("r", "FULL"));
            s.setRollbackOnly();
        });
        assertThat(count("SELECT count(*) FROM aggregates WHERE key = 'st-rolled-back'")).isZero();
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id = 'st-rolled-back'")).isZero();
    }

    @Test
    void aKeyBelongsToTheApiOrToTheApplication() {
        put("st-api", chunkBody("api"));
        long events = count("SELECT count(*) FROM outbox");
        assertThatThrownBy(() -> enqueue("UPSERT", "st-api", 9, PAYLOAD.formatted("x", "FULL")))
                .hasMessageContaining("VSYNC-ENQUEUE-OWNED");
        assertThatThrownBy(() -> tx.executeWithoutResult(
                s -> writer.enqueue("UPSERT", "st-api", 9, PAYLOAD.formatted("x", "FULL"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("VSYNC-ENQUEUE-OWNED");
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
        assertThat(count("SELECT count(*) FROM aggregates WHERE key = 'st-api'")).isZero();

        enqueue("UPSERT", "st-app", 1, PAYLOAD.formatted("app", "FULL"));
        var answer = put("st-app", chunkBody("api over app"));
        assertThat(answer.getStatusCode().value()).isEqualTo(409);
        assertThat(answer.getBody()).contains("VSYNC-CHUNK-OWNED");
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'st-app'")).isZero();
        var ifMatch = put("st-app", chunkBody("api over app"), "\"1\"");
        assertThat(ifMatch.getStatusCode().value()).isIn(404, 409, 412);
        assertThat(count("SELECT count(*) FROM chunks WHERE chunk_id = 'st-app'")).isZero();
    }

    @Test
    void retentionMovesTheOnlyCopyOfAPayloadIntoTheStateBeforeItDeletesTheEvent() {
        for (int i = 0; i < 5; i++) {
            enqueue("UPSERT", "st-r" + i, 1, PAYLOAD.formatted("kept " + i, "FULL"));
        }
        enqueue("UPSERT", "st-r0", 2, PAYLOAD.formatted("newer", "FULL"));
        jdbc.queryForObject("SELECT vectorsync.enqueue_link('st-r1', 'NEXT', 'st-r2', 1)", String.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> deliveredTo("replica")
                && count("SELECT count(*) FROM outbox_status WHERE backend = 'replica' AND status <> 'PROCESSED'") == 0);

        jdbc.update("UPDATE outbox SET created_at = created_at - interval '1 hour'"); // older than outbox-age
        retention.runOnce();
        assertThat(count("SELECT count(*) FROM outbox WHERE chunk_id LIKE 'st-r%' OR chunk_id LIKE 'link:%st-r%'"))
                .as("retention ran").isZero();
        List<Map<String, Object>> kept = jdbc.queryForList(
                "SELECT key, payload_event, payload::text AS payload FROM aggregates WHERE key LIKE 'st-r%' ORDER BY key");
        assertThat(kept).hasSize(5);
        for (Map<String, Object> r : kept) {
            assertThat(r.get("payload_event")).as("the event is gone").isNull();
            assertThat((String) r.get("payload")).as("its payload stayed")
                    .contains(r.get("key").equals("st-r0") ? "\"newer\"" : "\"kept ");
        }
        assertThat((String) state("st-r0").get("payload")).contains("\"newer\"");
        assertThat(count("SELECT count(*) FROM aggregates WHERE key LIKE 'link:%' AND payload IS NOT NULL"
                + " AND payload->>'from' = 'st-r1'")).isEqualTo(1);
    }
}
