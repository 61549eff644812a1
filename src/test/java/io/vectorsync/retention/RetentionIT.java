package io.vectorsync.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Retention with the real service and two backends, the replica and a remote PostgreSQL one that is
 * paused part way: old delivered events go in small batches; an event the paused backend has not read,
 * a parked one, one with an open dead letter and a young one stay; the ledger keeps every row; replayed
 * and discarded dead letters past their age go, open and recent ones stay; the relay goes on delivering
 * after the rows vanished.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-retention/*.camel.yaml",
        "vectorsync.backends.slow.postgres.table=slow_chunks",
        "vectorsync.retention.enabled=false",
        "vectorsync.retention.batch-size=3",
        "vectorsync.retention.outbox-age=7d",
        "vectorsync.retention.dead-letter-age=30d"})
class RetentionIT extends AbstractIT {

    private static final String SLOW = TestDatabases.create("retention_slow");

    @Autowired
    RetentionService retention;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DataSource dataSource;

    @Autowired
    org.apache.camel.CamelContext camel;

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.slow.postgres.jdbc-url", () -> TestDatabases.url(SLOW));
        registry.add("vectorsync.backends.slow.postgres.username", () -> TestDatabases.USER);
    }

    private boolean delivered(String backend, String chunkId) {
        return count("""
                SELECT count(*) FROM delivery_ledger l JOIN chunks c ON c.chunk_id = l.chunk_key
                 WHERE l.backend = ? AND l.chunk_key = ? AND l.version = c.version""", backend, chunkId) == 1;
    }

    private List<String> outboxChunks() {
        return jdbc.queryForList("SELECT chunk_id FROM outbox ORDER BY chunk_id", String.class);
    }

    private double deleted(String what) {
        return meters.get("vectorsync.retention.deleted").tag("what", what).counter().count();
    }

    private void deadLetter(String chunkId, String replayedAt, String discardedAt) {
        jdbc.update("""
                INSERT INTO dead_letter (backend, event_id, type, chunk_id, version, attempts, error_class,
                                         event_created_at, created_at, replayed_at, discarded_at, discard_reason)
                VALUES ('slow', 'dl-' || ?, 'UPSERT', ?, 1, 5, 'PERMANENT', now() - interval '40 days',
                        now() - interval '40 days', now() - ?::interval, now() - ?::interval,
                        CASE WHEN ?::text IS NULL THEN NULL ELSE 'test' END)""",
                chunkId + "-" + replayedAt + "-" + discardedAt, chunkId, replayedAt, discardedAt, discardedAt);
    }

    @Test
    void retentionDeletesOnlyWhatEveryCursorHasReadAndIsOldEnough() throws Exception {
        for (int i = 0; i < 10; i++) {
            put("a-" + i, chunkBody("old " + i));
        }
        put("y-0", chunkBody("young"));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> delivered("replica", "y-0") && delivered("slow", "y-0")
                        && delivered("replica", "a-9") && delivered("slow", "a-9"));

        // The slow backend is paused (kept in data, as an operator's pause is); b-* reach only the replica.
        jdbc.update("UPDATE relay_cursor SET paused = true WHERE backend = 'slow'");
        for (int i = 0; i < 3; i++) {
            put("b-" + i, chunkBody("after the pause " + i));
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> delivered("replica", "b-2"));
        assertThat(delivered("slow", "b-0")).isFalse();

        // a-3 is parked for the slow backend; a-4 has an open dead letter there.
        jdbc.update("""
                INSERT INTO parked (backend, event_id, type, chunk_id, version, attempts, next_attempt_at,
                                    error_class, event_created_at)
                VALUES ('slow', 'parked-a-3', 'UPSERT', 'a-3', 1, 1, now() + interval '1 hour', 'TRANSIENT',
                        now() - interval '8 days')""");
        jdbc.update("""
                INSERT INTO dead_letter (backend, event_id, type, chunk_id, version, attempts, error_class,
                                         event_created_at)
                VALUES ('slow', 'open-a-4', 'UPSERT', 'a-4', 1, 5, 'PERMANENT', now() - interval '8 days')""");
        deadLetter("d-open", null, null);
        deadLetter("d-replayed-old", "31 days", null);
        deadLetter("d-discarded-old", null, "31 days");
        deadLetter("d-replayed-recent", "1 day", null);

        // Everything but y-0 is older than the retention age.
        jdbc.update("UPDATE outbox SET created_at = now() - interval '8 days' WHERE chunk_id <> 'y-0'");
        long ledger = count("SELECT count(*) FROM delivery_ledger");

        assertThat(camel.getRouteController().getRouteStatus("housekeeping-retention").isStarted())
                .as("vectorsync.retention.enabled=false leaves the route stopped").isFalse();
        RetentionService.Run run = retention.runOnce();

        assertThat(run.skipped()).isFalse();
        assertThat(outboxChunks()).as("kept: parked, open dead letter, young, not read by the paused backend")
                .containsExactly("a-3", "a-4", "b-0", "b-1", "b-2", "y-0");
        assertThat(run.outbox()).isEqualTo(8);
        assertThat(jdbc.queryForList("SELECT chunk_id FROM dead_letter ORDER BY chunk_id", String.class))
                .containsExactly("a-4", "d-open", "d-replayed-recent");
        assertThat(run.deadLetters()).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM delivery_ledger")).as("the ledger is never pruned").isEqualTo(ledger);
        assertThat(deleted("outbox")).isEqualTo(8);
        assertThat(deleted("dead_letter")).isEqualTo(2);

        // Another instance holding the lock: this one skips the run and deletes nothing.
        jdbc.update("DELETE FROM parked WHERE backend = 'slow'");
        try (Connection other = dataSource.getConnection(); var ps = other.prepareStatement("SELECT pg_advisory_lock(?)")) {
            ps.setLong(1, RetentionService.LOCK);
            ps.execute();
            RetentionService.Run skipped = retention.runOnce();
            assertThat(skipped.skipped()).isTrue();
            assertThat(skipped.outbox()).isZero();
            assertThat(outboxChunks()).contains("a-3");
            try (var unlock = other.prepareStatement("SELECT pg_advisory_unlock_all()")) {
                unlock.execute();
            }
        }

        // Resumed, the slow backend catches up from its cursor although older events are gone.
        jdbc.update("UPDATE relay_cursor SET paused = false WHERE backend = 'slow'");
        put("a-0", chunkBody("rewritten"));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> delivered("slow", "b-2") && delivered("slow", "a-0") && delivered("replica", "a-0"));
        awaitReplicaInStep(Duration.ofSeconds(10));
        // Time passes for all but the newest event (ids grow with time: the walk stops at the first young one).
        jdbc.update("UPDATE outbox SET created_at = now() - interval '8 days' WHERE id < (SELECT max(id) FROM outbox)");
        assertThat(retention.runOnce().outbox()).isEqualTo(5);
        assertThat(outboxChunks()).containsExactly("a-0", "a-4");
    }
}
