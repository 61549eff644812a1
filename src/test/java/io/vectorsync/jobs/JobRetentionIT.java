package io.vectorsync.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * Retention of finished jobs (vectorsync.jobs.retention, 2h here; the completed-window 1h) with real rows:
 * COMPLETED, FAILED and CANCELLED rows finished longer ago than the retention go, in batches (3 here), and
 * are counted in {@code vectorsync_retention_deleted_total{what="jobs"}}; younger finished rows and PENDING
 * and PROCESSING rows stay, however old; the idempotency window still holds around it. The route is off
 * ({@code vectorsync.retention.enabled=false}): the test runs it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.retention.enabled=false",
        "vectorsync.retention.batch-size=3",
        "vectorsync.jobs.retention=2h",
        "vectorsync.jobs.completed-window=1h"})
class JobRetentionIT extends AbstractIT {

    @Autowired
    JobRetention retention;

    @Autowired
    JobQueue queue;

    @Autowired
    MeterRegistry meters;

    /**
     * A row of a type no instance runs (so nothing claims or finishes it), {@code finished} ago (an SQL
     * interval, or null); a PROCESSING one holds a lease for a day.
     */
    private String row(String id, String status, String finished) {
        jdbc.update("""
                INSERT INTO jobs (id, type, status, correlation, payload, created_at, started_at, finished_at, run_at,
                                  attempts, lease_until, slot, owner)
                VALUES (?, 'RETAINED', ?, '{}', '{}', now() - interval '30 days', now() - interval '30 days',
                        now() - ?::interval, now() - interval '30 days', 1,
                        CASE WHEN ? = 'PROCESSING' THEN now() + interval '1 day' END,
                        CASE WHEN ? = 'PROCESSING' THEN 1 END, CASE WHEN ? = 'PROCESSING' THEN 'elsewhere' END)
                """, id, status, finished, status, status, status);
        return id;
    }

    private List<String> retained() {
        return jdbc.queryForList("SELECT id FROM jobs WHERE type = 'RETAINED' ORDER BY id", String.class);
    }

    private double deleted() {
        return meters.get("vectorsync.retention.deleted").tag("what", "jobs").counter().count();
    }

    @Test
    void finishedJobsOlderThanTheRetentionGoInBatchesAndNothingElse() {
        for (int i = 0; i < 8; i++) {
            row("old-completed-" + i, "COMPLETED", "3 hours");
        }
        row("old-failed", "FAILED", "2 hours 1 minute");
        row("old-cancelled", "CANCELLED", "10 days");
        List<String> kept = List.of(
                row("keep-completed", "COMPLETED", "90 minutes"), // its window is over, its retention is not
                row("keep-failed", "FAILED", "1 hour 59 minutes"),
                row("keep-cancelled", "CANCELLED", "1 minute"),
                // Never, whatever their age (a finished_at left on them must not matter either).
                row("keep-pending", "PENDING", "30 days"),
                row("keep-processing", "PROCESSING", "30 days"));
        double before = deleted();

        assertThat(retention.runOnce()).as("jobs deleted").isEqualTo(10);

        assertThat(retained()).containsExactlyInAnyOrderElementsOf(kept);
        assertThat(deleted() - before).isEqualTo(10);
        assertThat(retention.runOnce()).as("a second run").isZero();
        assertThat(retained()).hasSize(kept.size());
    }

    @Test
    void theCompletedWindowStillHoldsAroundRetention() {
        Map<String, String> ids = Map.of("inside", enqueued("inside"), "after", enqueued("after"),
                "gone", enqueued("gone"));
        await().atMost(Duration.ofSeconds(30)).until(() -> count(
                "SELECT count(*) FROM jobs WHERE id IN (?, ?, ?) AND status = 'COMPLETED'", ids.get("inside"),
                ids.get("after"), ids.get("gone")) == 3);
        age(ids.get("inside"), "30 minutes");
        age(ids.get("after"), "90 minutes");
        age(ids.get("gone"), "3 hours");

        retention.runOnce();

        assertThat(count("SELECT count(*) FROM jobs WHERE id = ?", ids.get("gone"))).as("beyond the retention")
                .isZero();
        assertThat(count("SELECT count(*) FROM jobs WHERE id IN (?, ?)", ids.get("inside"), ids.get("after")))
                .isEqualTo(2);
        // Inside its window the completed job is what an enqueue of the same work returns; after it, or once
        // retention deleted it, the same work is a new job.
        Enqueued inside = queue.enqueue(request("inside"));
        assertThat(inside.created()).isFalse();
        assertThat(inside.job().id()).isEqualTo(ids.get("inside"));
        Enqueued after = queue.enqueue(request("after"));
        assertThat(after.created()).isTrue();
        assertThat(after.job().id()).isNotEqualTo(ids.get("after"));
        Enqueued gone = queue.enqueue(request("gone"));
        assertThat(gone.created()).isTrue();
        assertThat(gone.job().id()).isNotEqualTo(ids.get("gone"));
    }

    private JobRequest request(String work) {
        return new JobRequest("NOOP", Map.of("work", work), json.createObjectNode(), null, null, null);
    }

    private String enqueued(String work) {
        Enqueued e = queue.enqueue(request(work));
        assertThat(e.created()).isTrue();
        return e.job().id();
    }

    private void age(String id, String ago) {
        assertThat(jdbc.update("UPDATE jobs SET finished_at = now() - ?::interval WHERE id = ? AND status = 'COMPLETED'",
                ago, id)).isEqualTo(1);
    }
}
