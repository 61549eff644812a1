package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.Events;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;

/**
 * Long transactions don't stall the relay (docs/design.md invariant 7): a session left idle in transaction
 * for 30 s, holding an uncommitted event, does not keep the events of other, committed transactions
 * from reaching the backend within seconds; its own event arrives once it commits.
 */
class IdleTransactionIT extends AbstractIT {

    private static final Duration HELD_OPEN = Duration.ofSeconds(30);
    private static final Duration A_FEW_SECONDS = Duration.ofSeconds(5);

    @Value("${vectorsync.test.database}")
    String database;

    @Test
    void aSessionIdleInTransactionFor30SecondsDoesNotHoldBackOtherEventsAndItsOwnArrivesAfterItCommits()
            throws Exception {
        assertThat(put("warm-up", chunkBody("warm up")).getStatusCode().value()).isEqualTo(201);
        awaitReplicaInStep(Duration.ofSeconds(10));

        try (Connection idle = TestDatabases.connect(database); Statement s = idle.createStatement()) {
            idle.setAutoCommit(false);
            Events.upsert(idle, "idle-1", 1, "doc-idle", "held in an open transaction");
            long pid;
            String xid;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), pg_current_xact_id()::text")) {
                rs.next();
                pid = rs.getLong(1);
                xid = rs.getString(2);
            }
            long opened = System.nanoTime();
            await().atMost(Duration.ofSeconds(5)).until(() -> count("""
                    SELECT count(*) FROM pg_stat_activity
                     WHERE pid = ? AND state = 'idle in transaction' AND backend_xid IS NOT NULL
                    """, pid) == 1);

            List<Long> latenciesMs = new ArrayList<>();
            int i = 0;
            while (System.nanoTime() - opened < HELD_OPEN.toNanos()) {
                i++;
                String api = "live-api-" + i;
                String app = "live-app-" + i;
                long start = System.nanoTime();
                // Through the API (which wakes the relay) and through enqueue (found by the poll).
                assertThat(put(api, chunkBody("live " + i)).getStatusCode().value()).isEqualTo(201);
                Events.upsert(jdbc, app, 1, "doc-live", "live " + i);
                await().atMost(A_FEW_SECONDS).pollInterval(Duration.ofMillis(20)).until(() -> count(
                        "SELECT count(*) FROM replica_chunks WHERE chunk_id IN (?, ?)", api, app) == 2);
                latenciesMs.add((System.nanoTime() - start) / 1_000_000);
                // Meanwhile the open transaction's event stays where it is.
                await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(2)).until(() -> count(
                        "SELECT count(*) FROM replica_chunks WHERE chunk_id = 'idle-1'") == 0);
            }
            System.out.printf("IdleTransactionIT: %d rounds while the transaction was open, delivery %d–%d ms%n",
                    i, Collections.min(latenciesMs), Collections.max(latenciesMs));
            assertThat(i).isGreaterThanOrEqualTo(10);

            // Still open, still idle in transaction, and the cursor still treats it as in progress.
            assertThat(count("SELECT count(*) FROM pg_stat_activity WHERE pid = ? AND state = 'idle in transaction'",
                    pid)).isOne();
            assertThat(jdbc.queryForObject("""
                    SELECT ?::xid8 = ANY (ARRAY(SELECT pg_snapshot_xip(prev_snapshot)))
                      FROM relay_cursor WHERE backend = 'replica'
                    """, Boolean.class, xid)).isTrue();
            assertThat(count("SELECT count(*) FROM delivery_ledger WHERE chunk_key = 'idle-1'")).isZero();

            idle.commit();
            long committedAt = System.nanoTime();
            await().atMost(A_FEW_SECONDS).pollInterval(Duration.ofMillis(20)).until(
                    () -> count("SELECT count(*) FROM replica_chunks WHERE chunk_id = 'idle-1' AND version = 1") == 1);
            System.out.printf("IdleTransactionIT: the idle transaction's event arrived %d ms after its commit%n",
                    (System.nanoTime() - committedAt) / 1_000_000);
        }
        assertThat(count("SELECT count(*) FROM delivery_ledger WHERE chunk_key = 'idle-1' AND version = 1")).isOne();
        assertThat(count("SELECT count(*) FROM replica_chunks WHERE chunk_id LIKE 'live-%'"))
                .isEqualTo(count("SELECT count(*) FROM outbox WHERE chunk_id LIKE 'live-%'"));
    }
}
