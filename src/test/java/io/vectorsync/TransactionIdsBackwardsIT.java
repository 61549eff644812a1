package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Issue 12 item 4: transaction ids going backwards. As after a restore into a cluster whose transaction
 * ids are lower than the ones the cursor was made with, the cursor's snapshot is moved above the
 * database's current transaction ids: every new event then looks older than the cursor. The relay must
 * not report such an event PROCESSED with a backlog of 0 and health UP; it halts the backend with
 * VSYNC-RELAY-IDENTITY in the admin status, health and metrics, and the documented recovery (a backfill)
 * re-baselines the cursor and delivers what was written meanwhile.
 */
class TransactionIdsBackwardsIT extends AbstractIT {

    @Autowired
    MeterRegistry meters;

    @Test
    void aCursorAheadOfTheDatabasesTransactionIdsHaltsTheBackendVisiblyUntilABackfillRebaselinesIt()
            throws Exception {
        assertThat(put("xid-before", chunkBody("delivered before the restore")).getStatusCode().value())
                .isEqualTo(201);
        awaitReplicaInStep(Duration.ofSeconds(15));

        // The cursor now stands a million transactions ahead of this database, as a restored cursor would
        // (a new cursor version, so a batch in flight can't move it back).
        jdbc.update("""
                UPDATE relay_cursor
                   SET prev_snapshot = ((pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text || ':'
                                        || (pg_snapshot_xmax(pg_current_snapshot())::text::bigint + 1000000)::text
                                        || ':')::pg_snapshot,
                       cur_snapshot = NULL, last_tx_id = NULL, last_id = NULL, cursor_version = cursor_version + 1
                 WHERE backend = 'replica'
                """);
        assertThat(put("xid-after", chunkBody("written after the restore")).getStatusCode().value()).isEqualTo(201);

        // What an operator sees: today the new event is PROCESSED, the backlog 0 and health UP.
        await("the backend to be reported halted").atMost(Duration.ofSeconds(15))
                .pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(seen()).isEqualTo(
                        "outbox_status=HALTED health=DOWN reason=VSYNC-RELAY-IDENTITY status.halted=VSYNC-RELAY-IDENTITY"));
        assertThat(meters.get("vectorsync.halted").tag("backend", "replica").gauge().value()).isEqualTo(1.0);
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'xid-after'")).isZero();
        assertThat(count("SELECT count(*) FROM delivery_ledger WHERE backend = 'replica' AND chunk_key = 'xid-after'"))
                .isZero();

        // Recovery (README, "Transaction ids went backwards"): a backfill re-baselines the cursor.
        assertThat(adminPost("/admin/v1/backends/{b}/backfill", "replica").getStatusCode().value()).isEqualTo(202);
        awaitReplicaInStep(Duration.ofSeconds(30));
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'xid-after'")).isOne();
        await("the halt to be cleared").atMost(Duration.ofSeconds(10))
                .until(() -> replicaStatus().path("halted").asText("").isEmpty()
                        && meters.get("vectorsync.halted").tag("backend", "replica").gauge().value() == 0.0);
        assertThat(put("xid-later", chunkBody("written after the recovery")).getStatusCode().value()).isEqualTo(201);
        awaitReplicaInStep(Duration.ofSeconds(15));
        assertThat(jdbc.queryForObject("SELECT status FROM outbox_status WHERE backend = 'replica'"
                + " AND chunk_id = 'xid-later'", String.class)).isEqualTo("PROCESSED");
    }

    /** The new event's status, the backend's health and its admin status, as one line. */
    private String seen() throws Exception {
        String status = jdbc.queryForObject("SELECT status FROM outbox_status WHERE backend = 'replica'"
                + " AND chunk_id = 'xid-after'", String.class);
        JsonNode health = json.readTree(http.getForEntity("/actuator/health/backend-replica", String.class).getBody());
        String reason = health.at("/components/relay-backend-replica/details/reason").asText("none");
        String halted = replicaStatus().path("halted").asText("none");
        return "outbox_status=" + status + " health=" + health.path("status").asText()
                + " reason=" + code(reason) + " status.halted=" + code(halted)
                + (status.equals("HALTED") ? "" : " (backlog " + replicaStatus().path("backlog").asText() + ")");
    }

    private static String code(String message) {
        return message.startsWith("VSYNC-") ? message.substring(0, message.indexOf(':') < 0 ? message.length()
                : message.indexOf(':')) : message;
    }

    private JsonNode replicaStatus() throws Exception {
        JsonNode all = json.readTree(adminGet("/admin/v1/status").getBody()).path("backends");
        for (JsonNode b : all) {
            if (b.path("backend").asText().equals("replica")) {
                return b;
            }
        }
        throw new AssertionError("no replica in the status: " + all);
    }
}
