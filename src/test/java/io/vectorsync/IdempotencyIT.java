package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Events;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.TestPropertySource;

/**
 * Duplicates are harmless (docs/design.md invariant 3): re-delivering events the backend already has changes
 * nothing, an older version never overwrites a newer one, and an older upsert replayed after a delete
 * does not bring the chunk back. One event per batch, so that an older version reaches the backend on
 * its own instead of being collapsed away behind a newer one in the same batch.
 */
@TestPropertySource(properties = "vectorsync.backends.replica.batch-size=1")
class IdempotencyIT extends AbstractIT {

    /** A backend row with what proves it was not rewritten: its xmin (the writing transaction) and synced_at. */
    private static final String REPLICA_ROWS = """
            SELECT chunk_id || ' v' || version || ' xmin=' || xmin::text || ' synced=' || synced_at::text
                   || ' doc=' || coalesce(document_id, '') || ' content=' || md5(coalesce(content, ''))
                   || ' emb=' || md5(coalesce(embedding::text, ''))
              FROM replica_chunks WHERE chunk_id LIKE ? ORDER BY chunk_id
            """;
    private static final String LEDGER_ROWS = """
            SELECT chunk_key || ' v' || version || ' deleted=' || deleted || ' at=' || applied_at::text
              FROM delivery_ledger WHERE backend = 'replica' AND chunk_key LIKE ? ORDER BY chunk_key
            """;
    private static final String RESET_CURSOR = """
            UPDATE relay_cursor SET prev_snapshot = '1:1:', cur_snapshot = NULL, last_tx_id = NULL, last_id = NULL,
                   cursor_version = cursor_version + 1
             WHERE backend = 'replica'
            """;

    private final AtomicInteger markers = new AtomicInteger();

    @Autowired
    MeterRegistry meters;

    @Test
    void redeliveringEverythingLeavesTheBackendAndTheLedgerUnchanged() {
        // Through the API (lean events: the relay reads the current row) ...
        for (int i = 1; i <= 5; i++) {
            assertThat(put("r-api-" + i, chunkBody("api " + i)).getStatusCode().is2xxSuccessful()).isTrue();
        }
        put("r-api-1", chunkBody("api 1 second"));
        put("r-api-2", chunkBody("api 2 second"));
        put("r-api-2", chunkBody("api 2 third"));
        assertThat(delete("r-api-3").getStatusCode().value()).isEqualTo(200);
        // ... and through vectorsync.enqueue (full payloads with explicit versions).
        Events.upsert(jdbc, "r-app-1", 1, "doc-a", "app 1 v1");
        Events.upsert(jdbc, "r-app-1", 2, "doc-a", "app 1 v2");
        Events.upsert(jdbc, "r-app-1", 3, "doc-a", "app 1 v3");
        Events.upsert(jdbc, "r-app-2", 1, "doc-a", "app 2 v1");
        Events.upsert(jdbc, "r-app-3", 1, "doc-a", "app 3 v1");
        Events.delete(jdbc, "r-app-3", 2);

        Map<String, String> expectedLedger = new LinkedHashMap<>();
        jdbc.query("SELECT chunk_id, version, deleted FROM chunks WHERE chunk_id LIKE 'r-api-%'",
                rs -> { expectedLedger.put(rs.getString(1), "v" + rs.getLong(2) + " deleted=" + rs.getBoolean(3)); });
        expectedLedger.put("r-app-1", "v3 deleted=false");
        expectedLedger.put("r-app-2", "v1 deleted=false");
        expectedLedger.put("r-app-3", "v2 deleted=true");
        await().atMost(Duration.ofSeconds(15)).until(() -> ledger("r-%").equals(expectedLedger));
        awaitMarker();
        assertThat(replicaVersions("r-%")).isEqualTo(Map.of("r-api-1", 2L, "r-api-2", 3L, "r-api-4", 1L,
                "r-api-5", 1L, "r-app-1", 3L, "r-app-2", 1L));
        assertThat(jdbc.queryForObject("SELECT content FROM replica_chunks WHERE chunk_id = 'r-app-1'", String.class))
                .isEqualTo("app 1 v3");
        List<String> replicaBefore = jdbc.queryForList(REPLICA_ROWS, String.class, "r-%");
        List<String> ledgerBefore = jdbc.queryForList(LEDGER_ROWS, String.class, "r-%");
        long outboxEvents = count("SELECT count(*) FROM outbox");

        // 1. The whole outbox again, ledger intact: the ledger filters every event out.
        double readBefore = eventsRead();
        jdbc.update(RESET_CURSOR);
        awaitMarker();
        assertThat(eventsRead() - readBefore).as("events read again").isGreaterThanOrEqualTo(outboxEvents);
        assertThat(jdbc.queryForList(REPLICA_ROWS, String.class, "r-%")).isEqualTo(replicaBefore);
        assertThat(jdbc.queryForList(LEDGER_ROWS, String.class, "r-%")).isEqualTo(ledgerBefore);

        // 2. Again, without the ledger rows of the chunks the backend holds: now every old event reaches
        // the backend, one per batch, and the version guard in the statement keeps each row as it was.
        readBefore = eventsRead();
        int forgotten = jdbc.update("""
                DELETE FROM delivery_ledger WHERE backend = 'replica'
                   AND chunk_key IN (SELECT chunk_id FROM replica_chunks WHERE chunk_id LIKE 'r-%')
                """);
        assertThat(forgotten).isEqualTo(6);
        jdbc.update(RESET_CURSOR);
        awaitMarker();
        assertThat(eventsRead() - readBefore).as("events read again").isGreaterThanOrEqualTo(outboxEvents);
        assertThat(jdbc.queryForList(REPLICA_ROWS, String.class, "r-%")).isEqualTo(replicaBefore);
        assertThat(ledger("r-%")).isEqualTo(expectedLedger);
        assertThat(count("SELECT count(*) FROM parked") + count("SELECT count(*) FROM dead_letter")).isZero();
    }

    @Test
    void anOlderVersionNeverOverwritesANewerOne() {
        // v3 commits first, then v2 (the application's events arrive out of version order).
        Events.upsert(jdbc, "o-1", 3, "doc-o", "three");
        Events.upsert(jdbc, "o-1", 2, "doc-o", "two");
        awaitMarker();
        assertThat(replicaVersions("o-1")).isEqualTo(Map.of("o-1", 3L));
        assertThat(jdbc.queryForObject("SELECT content FROM replica_chunks WHERE chunk_id = 'o-1'", String.class))
                .isEqualTo("three");
        assertThat(ledger("o-1")).isEqualTo(Map.of("o-1", "v3 deleted=false"));
        List<String> before = jdbc.queryForList(REPLICA_ROWS, String.class, "o-1");

        // Without the ledger row, an older upsert reaches the backend: the statement's guard refuses it.
        jdbc.update("DELETE FROM delivery_ledger WHERE backend = 'replica' AND chunk_key = 'o-1'");
        Events.upsert(jdbc, "o-1", 1, "doc-o", "one");
        Events.delete(jdbc, "o-1", 2);
        awaitMarker();
        assertThat(jdbc.queryForList(REPLICA_ROWS, String.class, "o-1")).isEqualTo(before);

        // A newer version still goes through.
        Events.upsert(jdbc, "o-1", 4, "doc-o", "four");
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaVersions("o-1").equals(Map.of("o-1", 4L)));
        assertThat(jdbc.queryForObject("SELECT content FROM replica_chunks WHERE chunk_id = 'o-1'", String.class))
                .isEqualTo("four");
    }

    @Test
    void anOlderUpsertReplayedAfterADeleteDoesNotResurrectTheChunk() throws Exception {
        Events.upsert(jdbc, "d-app", 1, "doc-d", "app v1");
        assertThat(put("d-api", chunkBody("api v1")).getStatusCode().value()).isEqualTo(201);
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaVersions("d-%").size() == 2);
        String deadLetterPayload = jdbc.queryForObject(
                "SELECT payload::text FROM outbox WHERE chunk_id = 'd-app' AND version = 1", String.class);
        Events.delete(jdbc, "d-app", 2);
        assertThat(delete("d-api").getStatusCode().value()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> replicaVersions("d-%").isEmpty()
                && ledger("d-%").equals(Map.of("d-app", "v2 deleted=true", "d-api", "v2 deleted=true")));

        // A late duplicate of the old upsert from the application.
        Events.upsert(jdbc, "d-app", 1, "doc-d", "app v1");
        awaitMarker();
        assertThat(replicaVersions("d-%")).isEmpty();

        // The whole outbox replayed from the beginning.
        jdbc.update(RESET_CURSOR);
        awaitMarker();
        assertThat(replicaVersions("d-%")).isEmpty();

        // An old dead letter of the upsert replayed through the admin API.
        long id = jdbc.queryForObject("""
                INSERT INTO dead_letter (backend, event_id, outbox_id, type, chunk_id, version, payload, attempts,
                                         first_error, last_error, error_class, event_created_at)
                SELECT 'replica', event_id, id, type, chunk_id, version, ?::jsonb, 5, 'test', 'test', 'PERMANENT',
                       created_at
                  FROM outbox WHERE chunk_id = 'd-app' AND version = 1 ORDER BY id LIMIT 1
                RETURNING id
                """, Long.class, deadLetterPayload);
        ResponseEntity<String> replay = adminPost("/admin/v1/dead-letters/{id}/replay", id);
        assertThat(replay.getStatusCode().value()).as(replay.getBody()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> count("SELECT count(*) FROM parked") == 0);
        awaitMarker();
        assertThat(replicaVersions("d-%")).isEmpty();
        assertThat(ledger("d-%")).isEqualTo(Map.of("d-app", "v2 deleted=true", "d-api", "v2 deleted=true"));
        assertThat(count("SELECT count(*) FROM dead_letter WHERE replayed_at IS NULL")).isZero();
    }

    /**
     * Writes a new chunk and waits until the backend has it. Events are read in commit order, so once
     * the marker (committed last) is delivered, every event committed before it has been processed.
     */
    private void awaitMarker() {
        String id = "marker-" + markers.incrementAndGet() + "-" + System.nanoTime();
        Events.upsert(jdbc, id, 1, "markers", "marker");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(() -> count("SELECT count(*) FROM delivery_ledger WHERE chunk_key = ?", id) == 1);
    }

    private Map<String, Long> replicaVersions(String like) {
        Map<String, Long> out = new LinkedHashMap<>();
        jdbc.query("SELECT chunk_id, version FROM replica_chunks WHERE chunk_id LIKE ? ORDER BY chunk_id",
                rs -> { out.put(rs.getString(1), rs.getLong(2)); }, like);
        return out;
    }

    private Map<String, String> ledger(String like) {
        Map<String, String> out = new LinkedHashMap<>();
        jdbc.query("SELECT chunk_key, version, deleted FROM delivery_ledger WHERE backend = 'replica'"
                + " AND chunk_key LIKE ? ORDER BY chunk_key",
                rs -> { out.put(rs.getString(1), "v" + rs.getLong(2) + " deleted=" + rs.getBoolean(3)); }, like);
        return out;
    }

    private double eventsRead() {
        var c = meters.find("vectorsync.relay.events").tag("backend", "replica").tag("outcome", "read").counter();
        return c == null ? 0 : c.count();
    }
}
