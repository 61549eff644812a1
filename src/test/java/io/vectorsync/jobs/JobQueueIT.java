package io.vectorsync.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * The job queue against the real PostgreSQL with the real routes of this application (instance A: NOOP,
 * VERIFY, BACKFILL) and, where a test needs more, further instances of {@link JobService} on the same
 * database with their own owner ids, settings and handlers of test types that A does not run (each polled
 * by a scheduler of the test, as the routes poll A): per-type concurrency across instances, priorities,
 * run-at, retries with backoff, permanent failures, take-over after a lease expires, the idempotency race,
 * cancel and retry, and the migration of rows of before V15.
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

    @Autowired
    MeterRegistry registry;

    private final List<ScheduledExecutorService> pollers = new ArrayList<>();
    private final List<ExecutorService> workers = new ArrayList<>();

    @AfterEach
    void stopInstances() throws InterruptedException {
        pollers.forEach(ScheduledExecutorService::shutdownNow);
        workers.forEach(ExecutorService::shutdownNow);
        for (ExecutorService w : workers) {
            w.awaitTermination(10, TimeUnit.SECONDS);
        }
        pollers.clear();
        workers.clear();
    }

    private ObjectNode noop() {
        return json.createObjectNode();
    }

    private JobRequest request(String type, Map<String, String> correlation, ObjectNode payload) {
        return new JobRequest(type, correlation, payload, null, null, null);
    }

    private JobView awaitStatus(String id, JobStatus status) {
        JobView[] last = new JobView[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = queue.find(id).orElseThrow();
            return last[0].status() == status;
        });
        return last[0];
    }

    private static JobsProperties settings(Duration staleAfter, int workers, Map<String, JobsProperties.JobType> types) {
        return new JobsProperties(staleAfter, Duration.ofMillis(50), Duration.ofHours(1), Duration.ofHours(24), workers,
                types, Duration.ofDays(7));
    }

    private static JobsProperties.JobType type(int concurrency, int maxAttempts) {
        return new JobsProperties.JobType(true, concurrency, 0, maxAttempts, Duration.ofMillis(50),
                Duration.ofMillis(200), 0);
    }

    /** Another instance of the queue on this database, running its claimed jobs on a pool of its own. */
    private JobService instance(String owner, JobsProperties settings, JobHandler... handlers) {
        ExecutorService pool = Executors.newFixedThreadPool(settings.workers());
        workers.add(pool);
        JobService[] self = new JobService[1];
        self[0] = new JobService(jdbc, json, List.of(handlers), owner, settings, null,
                c -> pool.submit(() -> self[0].runClaimed(c)), new SimpleMeterRegistry());
        return self[0];
    }

    /** Polls the instance (and renews its leases, if beating) every 30 ms, as the routes do for A. */
    private void poll(JobService instance, boolean beating) {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        pollers.add(s);
        s.scheduleWithFixedDelay(() -> {
            instance.pollQuietly();
            if (beating) {
                instance.heartbeat();
            }
        }, 0, 30, TimeUnit.MILLISECONDS);
    }

    /** A handler of a test type that runs {@code body} with its context. */
    private static JobHandler handler(String type, ThrowingBody body) {
        return new JobHandler() {
            @Override
            public String type() {
                return type;
            }

            @Override
            public Map<String, Object> run(JobContext context) throws Exception {
                return body.run(context);
            }
        };
    }

    @FunctionalInterface
    private interface ThrowingBody {
        Map<String, Object> run(JobContext context) throws Exception;
    }

    @Test
    void aNoopJobRunsToCompletion() {
        Enqueued e = queue.enqueue(request("NOOP", Map.of(), noop().put("sleepMs", 120)));
        assertThat(e.created()).isTrue();
        assertThat(e.job().status()).isEqualTo(JobStatus.PENDING);
        assertThat(e.job().maxAttempts()).isEqualTo(3);
        JobView done = awaitStatus(e.job().id(), JobStatus.COMPLETED);
        assertThat(done.attempts()).isEqualTo(1);
        assertThat(done.result().path("sleptMs").asLong()).isEqualTo(120);
        assertThat(done.progressDone()).isEqualTo(120);
        assertThat(done.progressTotal()).isEqualTo(120);
        assertThat(done.startedAt()).isNotNull();
        assertThat(done.finishedAt()).isAfterOrEqualTo(done.startedAt());
        assertThat(done.lastError()).isNull();
        assertThat(queue.list("NOOP", JobStatus.COMPLETED, 10)).extracting(JobView::id).contains(e.job().id());
        assertThat(queue.list("NOOP", JobStatus.FAILED, 10)).extracting(JobView::id).doesNotContain(e.job().id());
        assertThat(registry.find("vectorsync.jobs.duration").tags("type", "NOOP", "outcome", "completed").timer())
                .isNotNull().satisfies(t -> assertThat(t.count()).isPositive());
        assertThat(registry.find("vectorsync.jobs.attempts").tags("type", "NOOP").counter().count()).isPositive();
    }

    @Test
    void theSameCorrelationOrIdempotencyKeyReturnsTheActiveOrRecentlyCompletedJob() {
        Map<String, String> corr = Map.of("doc", "same-" + System.nanoTime());
        Enqueued first = queue.enqueue(request("NOOP", corr, noop()));
        Enqueued second = queue.enqueue(request("NOOP", corr, noop().put("sleepMs", 5)));
        assertThat(second.created()).isFalse();
        assertThat(second.job().id()).isEqualTo(first.job().id());
        awaitStatus(first.job().id(), JobStatus.COMPLETED);
        Enqueued third = queue.enqueue(request("NOOP", corr, noop()));
        assertThat(third.created()).isFalse();
        assertThat(third.job().id()).isEqualTo(first.job().id());
        assertThat(third.job().status()).isEqualTo(JobStatus.COMPLETED);
        // Another correlation is another job; no correlation at all never collides.
        assertThat(queue.enqueue(request("NOOP", Map.of("doc", "other-" + System.nanoTime()), noop())).created())
                .isTrue();
        assertThat(queue.enqueue(request("NOOP", Map.of(), noop())).created()).isTrue();
        assertThat(queue.enqueue(request("NOOP", Map.of(), noop())).created()).isTrue();
        // The Idempotency-Key: the same key and the same request is the same job.
        String key = "key-" + System.nanoTime();
        Enqueued keyed = queue.enqueue(new JobRequest("NOOP", Map.of("a", "1"), noop(), null, null, key));
        Enqueued again = queue.enqueue(new JobRequest("NOOP", Map.of("a", "1"), noop(), null, null, key));
        assertThat(keyed.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(again.job().id()).isEqualTo(keyed.job().id());
    }

    /**
     * An Idempotency-Key names one request of one client: per type, refused (422) for another request, and
     * held for {@code idempotency-key-ttl} from the job's creation whatever its status, not released with the
     * correlation's completed-window.
     */
    @Test
    void anIdempotencyKeyIsPerTypeHeldForItsTtlAndRefusedForAnotherRequest() {
        String key = "client-key-" + System.nanoTime();
        Enqueued noop = queue.enqueue(new JobRequest("NOOP", Map.of("n", "1"), noop(), null, null, key));
        assertThat(noop.created()).isTrue();
        // Another type with the same key is another request of another kind: its own job.
        ObjectNode verify = json.createObjectNode().put("backend", "replica");
        Enqueued other = queue.enqueue(new JobRequest("VERIFY", Map.of("t", key), verify, Instant.now().plusSeconds(3600),
                null, key));
        assertThat(other.created()).isTrue();
        assertThat(other.job().id()).isNotEqualTo(noop.job().id());
        queue.cancel(other.job().id());
        // The same key with another payload or correlation: refused, nothing queued.
        long before = count("SELECT count(*) FROM jobs");
        for (JobRequest reused : List.of(
                new JobRequest("NOOP", Map.of("n", "1"), noop().put("sleepMs", 5), null, null, key),
                new JobRequest("NOOP", Map.of("n", "2"), noop(), null, null, key))) {
            assertThatThrownBy(() -> queue.enqueue(reused)).isInstanceOfSatisfying(CaptureException.class, e -> {
                assertThat(e.status()).isEqualTo(422);
                assertThat(e.code()).isEqualTo("VSYNC-JOB-IDEMPOTENCY-MISMATCH");
                assertThat(e.field()).isEqualTo("Idempotency-Key");
            });
        }
        assertThat(count("SELECT count(*) FROM jobs")).isEqualTo(before);
        // Completed long past its completed-window: the key still returns the job it created.
        awaitStatus(noop.job().id(), JobStatus.COMPLETED);
        jdbc.update("UPDATE jobs SET finished_at = now() - interval '2 hours' WHERE id = ?", noop.job().id());
        Enqueued retried = queue.enqueue(new JobRequest("NOOP", Map.of("n", "1"), noop(), null, null, key));
        assertThat(retried.created()).isFalse();
        assertThat(retried.job().id()).isEqualTo(noop.job().id());
        // Past the key's ttl (24 h from creation) it is free for a new job.
        jdbc.update("UPDATE jobs SET created_at = now() - interval '25 hours' WHERE id = ?", noop.job().id());
        Enqueued fresh = queue.enqueue(new JobRequest("NOOP", Map.of("n", "3"), noop(), null, null, key));
        assertThat(fresh.created()).isTrue();
    }

    @Test
    void aCompletedJobOlderThanTheWindowReleasesItsCorrelation() {
        Map<String, String> corr = Map.of("doc", "window-" + System.nanoTime());
        Enqueued first = queue.enqueue(request("NOOP", corr, noop()));
        awaitStatus(first.job().id(), JobStatus.COMPLETED);
        jdbc.update("UPDATE jobs SET finished_at = now() - interval '2 hours' WHERE id = ?", first.job().id());
        Enqueued next = queue.enqueue(request("NOOP", corr, noop()));
        assertThat(next.created()).isTrue();
        assertThat(next.job().id()).isNotEqualTo(first.job().id());
        assertThat(queue.enqueue(request("NOOP", corr, noop())).job().id()).isEqualTo(next.job().id());
    }

    @Test
    void concurrentEnqueuesOfTheSameCorrelationMakeOneJob() throws Exception {
        Map<String, String> corr = Map.of("doc", "race-" + System.nanoTime());
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        workers.add(pool);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Enqueued>> results = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            results.add(pool.submit(() -> {
                start.await();
                // a delayed job, so none completes (and frees nothing) during the race
                return queue.enqueue(new JobRequest("NOOP", corr, noop(), Instant.now().plusSeconds(60), null, null));
            }));
        }
        start.countDown();
        List<Enqueued> out = new ArrayList<>();
        for (Future<Enqueued> f : results) {
            out.add(f.get(30, TimeUnit.SECONDS));
        }
        assertThat(out).filteredOn(Enqueued::created).hasSize(1);
        assertThat(out).extracting(e -> e.job().id()).containsOnly(out.get(0).job().id());
        assertThat(jdbc.queryForObject("SELECT count(*) FROM jobs WHERE correlation = ?::jsonb", Long.class,
                json.writeValueAsString(corr))).isEqualTo(1);
        queue.cancel(out.get(0).job().id());
    }

    @Test
    void aDelayedJobWaitsForItsRunAt() {
        Instant runAt = Instant.now().plusMillis(1500);
        Enqueued e = queue.enqueue(new JobRequest("NOOP", Map.of(), noop(), runAt, null, null));
        assertThat(Duration.between(runAt, e.job().runAt()).abs()).isLessThan(Duration.ofMillis(1));
        JobView done = awaitStatus(e.job().id(), JobStatus.COMPLETED);
        assertThat(done.startedAt()).isAfterOrEqualTo(e.job().runAt());
    }

    @Test
    void transientFailuresAreRetriedWithBackoffThenFailedAndKeptForRetry() {
        // Fails twice, completes on the third of three attempts.
        JobView healed = awaitStatus(queue.enqueue(request("NOOP", Map.of(), noop().put("failTimes", 2))).job().id(),
                JobStatus.COMPLETED);
        assertThat(healed.attempts()).isEqualTo(3);
        assertThat(healed.result().path("attempt").asInt()).isEqualTo(3);
        // Fails more often than max-attempts: FAILED with its error after three attempts.
        String id = queue.enqueue(request("NOOP", Map.of(), noop().put("failTimes", 3))).job().id();
        JobView failed = awaitStatus(id, JobStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(3);
        assertThat(failed.lastError()).startsWith("VSYNC-JOB-ERROR: IllegalStateException: NOOP fails on purpose");
        assertThat(failed.finishedAt()).isNotNull();
        // Retry: a fresh budget of three attempts; the fourth attempt completes.
        JobView retried = queue.retry(id);
        assertThat(retried.status()).isEqualTo(JobStatus.PENDING);
        assertThat(retried.maxAttempts()).isEqualTo(6);
        JobView done = awaitStatus(id, JobStatus.COMPLETED);
        assertThat(done.attempts()).isEqualTo(4);
        assertThat(done.lastError()).isNull();
        assertThat(registry.find("vectorsync.jobs.retried").tags("type", "NOOP", "outcome", "completed").counter()
                .count()).isGreaterThanOrEqualTo(2);
        assertThat(registry.find("vectorsync.jobs.failures").tags("type", "NOOP", "kind", "transient").counter()
                .count()).isGreaterThanOrEqualTo(5);
    }

    @Test
    void theRetryDelayGrowsWithinItsCap() {
        List<Instant> attemptsAt = Collections.synchronizedList(new ArrayList<>());
        JobService b = instance("inst-backoff", settings(Duration.ofSeconds(3), 1, Map.of("BACKOFF",
                new JobsProperties.JobType(true, 1, 0, 4, Duration.ofMillis(300), Duration.ofMillis(600), 0))),
                handler("BACKOFF", c -> {
                    attemptsAt.add(Instant.now());
                    throw new java.io.IOException("transient on attempt " + c.attempt());
                }));
        String id = b.enqueue(request("BACKOFF", Map.of(), noop())).job().id();
        poll(b, true);
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            return b.find(id).orElseThrow().status() == JobStatus.FAILED;
        });
        JobView failed = b.find(id).orElseThrow();
        assertThat(failed.attempts()).isEqualTo(4);
        assertThat(attemptsAt).hasSize(4);
        // Full jitter: each wait is at most min(max-delay, base × 2^(attempt − 1)) plus the poll's own delay.
        for (int i = 1; i < attemptsAt.size(); i++) {
            long waited = Duration.between(attemptsAt.get(i - 1), attemptsAt.get(i)).toMillis();
            long cap = Math.min(600, 300L << (i - 1));
            assertThat(waited).as("wait before attempt %d", i + 1).isLessThan(cap + 1000);
        }
        assertThat(failed.lastError()).isEqualTo("VSYNC-JOB-ERROR: IOException: transient on attempt 4");
    }

    @Test
    void aPermanentFailureFailsAtOnce() {
        JobService b = instance("inst-permanent", settings(Duration.ofSeconds(3), 1, Map.of("PERMANENT", type(1, 5))),
                handler("PERMANENT", c -> {
                    throw new PermanentJobException("VSYNC-JOB-TEST", "nothing can mend this");
                }));
        String id = b.enqueue(request("PERMANENT", Map.of(), noop())).job().id();
        poll(b, true);
        JobView failed = awaitStatus(id, JobStatus.FAILED);
        assertThat(failed.attempts()).isEqualTo(1);
        assertThat(failed.lastError()).isEqualTo("VSYNC-JOB-TEST: nothing can mend this");
    }

    @Test
    void anErrorThrownByAHandlerIsAFailedAttemptAndTheWorkerGoesOn() {
        // A lease far longer than the test: only the worker's own record can end these attempts.
        JobService b = instance("inst-error", settings(Duration.ofMinutes(5), 1, Map.of("ERRORS", type(1, 2),
                "AFTER", type(1, 1))), handler("ERRORS", c -> {
                    if (c.attempt() == 1) {
                        throw new OutOfMemoryError("test: the heap is exhausted");
                    }
                    throw new AssertionError("test: a broken invariant");
                }), handler("AFTER", c -> Map.of("ran", true)));
        String id = b.enqueue(request("ERRORS", Map.of(), noop())).job().id();
        poll(b, true);
        JobView failed = awaitStatus(id, JobStatus.FAILED);
        assertThat(failed.attempts()).as("the OutOfMemoryError was a failed attempt, retried").isEqualTo(2);
        assertThat(failed.lastError()).isEqualTo("VSYNC-JOB-FATAL: AssertionError: test: a broken invariant");
        assertThat(jdbc.queryForObject("SELECT slot IS NULL AND lease_until IS NULL FROM jobs WHERE id = ?",
                Boolean.class, id)).isTrue();
        // The worker (its only one) is free again.
        String after = b.enqueue(request("AFTER", Map.of(), noop())).job().id();
        assertThat(awaitStatus(after, JobStatus.COMPLETED).result().path("ran").asBoolean()).isTrue();
    }

    @Test
    void perTypeConcurrencyAndWorkersHoldAcrossInstances() {
        AtomicInteger now = new AtomicInteger();
        AtomicInteger max = new AtomicInteger();
        Map<String, AtomicInteger> nowBy = new ConcurrentHashMap<>();
        Map<String, AtomicInteger> maxBy = new ConcurrentHashMap<>();
        // Two instances of two workers each, SLOW limited to three at once: the limit, not the workers, binds.
        JobService[] both = new JobService[2];
        for (int i = 0; i < 2; i++) {
            String owner = "inst-" + (char) ('b' + i);
            nowBy.put(owner, new AtomicInteger());
            maxBy.put(owner, new AtomicInteger());
            both[i] = instance(owner, settings(Duration.ofSeconds(3), 2, Map.of("SLOW", type(3, 3))),
                    handler("SLOW", c -> {
                        max.accumulateAndGet(now.incrementAndGet(), Math::max);
                        maxBy.get(owner).accumulateAndGet(nowBy.get(owner).incrementAndGet(), Math::max);
                        try {
                            return new NoopJob().run(c); // 250 ms of work
                        } finally {
                            now.decrementAndGet();
                            nowBy.get(owner).decrementAndGet();
                        }
                    }));
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(both[0].enqueue(request("SLOW", Map.of(), noop().put("sleepMs", 250))).job().id());
        }
        poll(both[0], true);
        poll(both[1], true);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> ids.stream().allMatch(id -> queue.find(id).orElseThrow().status() == JobStatus.COMPLETED));
        assertThat(max.get()).isEqualTo(3);
        // Never more than its two workers on one instance; three at once means both instances ran jobs.
        assertThat(maxBy.get("inst-b").get()).isBetween(1, 2);
        assertThat(maxBy.get("inst-c").get()).isBetween(1, 2);
        assertThat(ids).allSatisfy(id -> assertThat(queue.find(id).orElseThrow().attempts()).isEqualTo(1));
    }

    @Test
    void theHeartbeatKeepsALongJobsLease() {
        JobsProperties short1 = settings(Duration.ofSeconds(1), 1, Map.of("LONG", type(1, 3)));
        JobHandler quiet = handler("LONG", c -> {
            // Three times the lease, without a progress call: only the heartbeat renews it.
            JobContext silent = new JobContext() {
                public String id() {
                    return c.id();
                }

                public com.fasterxml.jackson.databind.JsonNode payload() {
                    return c.payload();
                }

                public Map<String, String> correlation() {
                    return c.correlation();
                }

                public int attempt() {
                    return c.attempt();
                }

                public void progress(long done, Long total) {}
            };
            return new NoopJob().run(silent);
        });
        JobService b = instance("inst-long", short1, quiet);
        JobService c = instance("inst-watcher", short1, handler("LONG", ctx -> Map.of("by", "inst-watcher")));
        String id = b.enqueue(request("LONG", Map.of(), noop().put("sleepMs", 3000))).job().id();
        poll(b, true);
        awaitStatus(id, JobStatus.PROCESSING);
        poll(c, true); // would take the job over if its lease expired
        JobView done = awaitStatus(id, JobStatus.COMPLETED);
        assertThat(done.attempts()).isEqualTo(1);
        assertThat(done.result().path("sleptMs").asLong()).isEqualTo(3000);
    }

    @Test
    void aDisabledTypeIsNotClaimed() {
        JobService b = instance("inst-disabled", settings(Duration.ofSeconds(3), 1, Map.of("DISABLED",
                new JobsProperties.JobType(false, 1, 0, 3, Duration.ofMillis(50), Duration.ofMillis(200), 0))),
                handler("DISABLED", c -> Map.of()));
        String id = b.enqueue(request("DISABLED", Map.of(), noop())).job().id();
        poll(b, true);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> queue.find(id).orElseThrow().status() == JobStatus.PENDING);
        assertThat(queue.find(id).orElseThrow().attempts()).isZero();
        queue.cancel(id);
    }

    @Test
    void higherPriorityRunsFirstThenTheOldest() {
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        JobService b = instance("inst-order", settings(Duration.ofSeconds(3), 1, Map.of("ORDERED", type(1, 1))),
                handler("ORDERED", c -> {
                    order.add(c.payload().path("name").asText());
                    return Map.of();
                }));
        for (String[] job : new String[][] {{"low-old", "0"}, {"high-old", "5"}, {"low-new", "0"}, {"high-new", "5"},
                {"mid", "2"}}) {
            b.enqueue(new JobRequest("ORDERED", Map.of(), noop().put("name", job[0]), null,
                    Integer.parseInt(job[1]), null));
        }
        poll(b, true);
        await().atMost(Duration.ofSeconds(20)).until(() -> order.size() == 5);
        assertThat(order).containsExactly("high-old", "high-new", "mid", "low-old", "low-new");
    }

    @Test
    void aJobWhoseWorkerStoppedRenewingItsLeaseIsTakenOver() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        JobsProperties short1 = settings(Duration.ofSeconds(1), 1, Map.of("TAKEOVER", type(1, 3)));
        // b claims the job and hangs without renewing its lease (a worker that died, as far as the table knows).
        java.util.concurrent.atomic.AtomicReference<Exception> late = new java.util.concurrent.atomic.AtomicReference<>();
        JobService b = instance("inst-dying", short1, handler("TAKEOVER", c -> {
            started.countDown();
            release.await();
            try {
                c.progress(1, 2L);
            } catch (JobCancelledException e) {
                late.set(e);
            }
            return Map.of("by", "inst-dying");
        }));
        String id = b.enqueue(request("TAKEOVER", Map.of(), noop())).job().id();
        poll(b, false);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(queue.find(id).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
        JobService c = instance("inst-taker", short1, handler("TAKEOVER", ctx -> Map.of("by", "inst-taker")));
        poll(c, true);
        JobView done = awaitStatus(id, JobStatus.COMPLETED);
        assertThat(done.attempts()).isEqualTo(2);
        assertThat(done.result().path("by").asText()).isEqualTo("inst-taker");
        // The first worker finishes late: its result is dropped, the job stays as the taker left it.
        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> b.inFlight() == 0);
        assertThat(late.get()).isInstanceOf(JobCancelledException.class).hasMessageContaining("lost the job's lease");
        assertThat(queue.find(id).orElseThrow().result().path("by").asText()).isEqualTo("inst-taker");
    }

    @Test
    void cancelAndRetry() {
        // A pending job is cancelled at once.
        String pending = queue.enqueue(new JobRequest("NOOP", Map.of(), noop(), Instant.now().plusSeconds(60), null,
                null)).job().id();
        JobView cancelled = queue.cancel(pending);
        assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(cancelled.finishedAt()).isNotNull();
        // A processing one stops at its next progress call.
        String running = queue.enqueue(request("NOOP", Map.of(), noop().put("sleepMs", 60_000))).job().id();
        awaitStatus(running, JobStatus.PROCESSING);
        assertThat(queue.cancel(running).status()).isEqualTo(JobStatus.PROCESSING);
        JobView stopped = awaitStatus(running, JobStatus.CANCELLED);
        assertThat(stopped.progressDone()).isLessThan(60_000);
        // Finished jobs can't be cancelled; unknown ones are 404; only failed or cancelled ones are retried.
        assertThatThrownBy(() -> queue.cancel(running)).isInstanceOfSatisfying(CaptureException.class,
                e -> assertThat(e.status()).isEqualTo(409));
        assertThatThrownBy(() -> queue.cancel("01NOSUCHJOB000000000000000")).isInstanceOfSatisfying(
                CaptureException.class, e -> assertThat(e.status()).isEqualTo(404));
        String done = queue.enqueue(request("NOOP", Map.of(), noop())).job().id();
        awaitStatus(done, JobStatus.COMPLETED);
        assertThatThrownBy(() -> queue.retry(done)).isInstanceOfSatisfying(CaptureException.class,
                e -> assertThat(e.code()).isEqualTo("VSYNC-JOB-STATE"));
        // A cancelled job retried runs.
        assertThat(queue.retry(pending).status()).isEqualTo(JobStatus.PENDING);
        jdbc.update("UPDATE jobs SET run_at = now() WHERE id = ?", pending);
        assertThat(awaitStatus(pending, JobStatus.COMPLETED).attempts()).isEqualTo(1);
    }

    @Test
    void aJobThatFailsAfterItsCancelWasRequestedIsCancelledNotRetried() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        JobService b = instance("inst-cancel", settings(Duration.ofSeconds(3), 1, Map.of("CANCELFAIL", type(1, 5))),
                handler("CANCELFAIL", c -> {
                    started.countDown();
                    release.await();
                    throw new java.io.IOException("failed after the cancel");
                }));
        String id = b.enqueue(request("CANCELFAIL", Map.of(), noop())).job().id();
        poll(b, true);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(queue.cancel(id).status()).isEqualTo(JobStatus.PROCESSING);
        release.countDown();
        JobView cancelled = awaitStatus(id, JobStatus.CANCELLED);
        assertThat(cancelled.attempts()).isEqualTo(1);
        assertThat(cancelled.finishedAt()).isNotNull();
    }

    /**
     * A job's subject (INGEST: the document): after a newer request about it, repeating an older request (a
     * document edited, then reverted) is a new job that comes after the newer one — pending or completed —
     * instead of the older job, whose content is no longer the latest. The newest request repeated is still
     * the same job, and other subjects keep theirs.
     */
    @Test
    void aRepeatOfAnOlderRequestAboutTheSameSubjectIsANewJob() {
        JobHandler subjectType = new JobHandler() {
            @Override
            public String type() {
                return "SUBJ";
            }

            @Override
            public Map<String, String> correlation(com.fasterxml.jackson.databind.JsonNode p) {
                return Map.of("doc", p.path("doc").asText(), "text", p.path("text").asText());
            }

            @Override
            public String subject(com.fasterxml.jackson.databind.JsonNode p) {
                return p.path("doc").asText();
            }

            @Override
            public Map<String, Object> run(JobContext context) {
                return Map.of();
            }
        };
        JobService x = instance("inst-subject", settings(Duration.ofSeconds(3), 1, Map.of("SUBJ", type(1, 3))),
                subjectType);
        poll(x, true);
        java.util.function.BiFunction<String, String, JobRequest> req = (doc, text) -> request("SUBJ", Map.of(),
                noop().put("doc", doc).put("text", text));
        // Completed ones (within the 1 h completed-window).
        String v1 = x.enqueue(req.apply("d1", "v1")).job().id();
        awaitStatus(v1, JobStatus.COMPLETED);
        String other = x.enqueue(req.apply("d2", "v1")).job().id();
        awaitStatus(other, JobStatus.COMPLETED);
        String v2 = x.enqueue(req.apply("d1", "v2")).job().id();
        awaitStatus(v2, JobStatus.COMPLETED);
        Enqueued reverted = x.enqueue(req.apply("d1", "v1"));
        assertThat(reverted.created()).as("the revert is a new job").isTrue();
        assertThat(x.enqueue(req.apply("d1", "v1")).job().id()).isEqualTo(reverted.job().id());
        assertThat(x.enqueue(req.apply("d2", "v1")).job().id()).as("another subject keeps its job").isEqualTo(other);
        awaitStatus(reverted.job().id(), JobStatus.COMPLETED);
        // Pending ones.
        Instant later = Instant.now().plusSeconds(3600);
        java.util.function.BiFunction<String, String, JobRequest> delayed = (doc, text) -> new JobRequest("SUBJ",
                Map.of(), noop().put("doc", doc).put("text", text), later, null, null);
        String p1 = x.enqueue(delayed.apply("d3", "v1")).job().id();
        String p2 = x.enqueue(delayed.apply("d3", "v2")).job().id();
        Enqueued p3 = x.enqueue(delayed.apply("d3", "v1"));
        assertThat(p3.created()).isTrue();
        assertThat(List.of(p1, p2)).doesNotContain(p3.job().id());
        assertThat(x.enqueue(delayed.apply("d3", "v1")).job().id()).isEqualTo(p3.job().id());
        List.of(p1, p2, p3.job().id()).forEach(queue::cancel);
    }

    /** The same on the last attempt: a cancel requested meanwhile ends it CANCELLED, not FAILED. */
    @Test
    void aLastAttemptThatFailsAfterItsCancelWasRequestedIsCancelled() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        JobService b = instance("inst-cancel-last", settings(Duration.ofSeconds(3), 1,
                Map.of("CANCELLAST", type(1, 1))), handler("CANCELLAST", c -> {
                    started.countDown();
                    release.await();
                    throw new java.io.IOException("failed after the cancel, on its last attempt");
                }));
        String id = b.enqueue(request("CANCELLAST", Map.of(), noop())).job().id();
        poll(b, true);
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(queue.cancel(id).status()).isEqualTo(JobStatus.PROCESSING);
        release.countDown();
        assertThat(awaitStatus(id, JobStatus.CANCELLED).attempts()).isEqualTo(1);
    }

    /**
     * An instance whose heartbeat could not renew a lease takes the job over from itself (attempt 2) while
     * attempt 1 still runs: every write of a worker is fenced by its attempt, so attempt 1 ending first
     * neither completes the job attempt 2 runs nor stops attempt 2's heartbeat.
     */
    @Test
    void anAttemptTakenOverByItsOwnInstanceIsFencedByItsNumber() throws Exception {
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch secondStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        CountDownLatch releaseSecond = new CountDownLatch(1);
        JobService x = instance("inst-self", settings(Duration.ofSeconds(1), 2, Map.of("SELFTAKE", type(1, 5))),
                handler("SELFTAKE", c -> {
                    if (c.attempt() == 1) {
                        firstStarted.countDown();
                        releaseFirst.await();
                        return Map.of("by", "attempt-1");
                    }
                    secondStarted.countDown();
                    releaseSecond.await();
                    return Map.of("by", "attempt-" + c.attempt());
                }));
        String id = x.enqueue(request("SELFTAKE", Map.of(), noop())).job().id();
        poll(x, false); // no heartbeat yet: attempt 1's lease expires and this instance claims attempt 2
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(secondStarted.await(20, TimeUnit.SECONDS)).isTrue();
        // From now on the heartbeat works again (the database is reachable): it renews attempt 2 only.
        ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
        pollers.add(beat);
        beat.scheduleWithFixedDelay(x::heartbeat, 0, 30, TimeUnit.MILLISECONDS);
        releaseFirst.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> x.inFlight() == 1);
        JobView during = queue.find(id).orElseThrow();
        assertThat(during.status()).as("attempt 1's result must not complete attempt 2's job")
                .isEqualTo(JobStatus.PROCESSING);
        assertThat(during.attempts()).isEqualTo(2);
        // Attempt 2 keeps its lease over several lease periods (its heartbeat entry was not removed).
        await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6)).until(() -> {
            JobView j = queue.find(id).orElseThrow();
            return j.status() == JobStatus.PROCESSING && j.attempts() == 2;
        });
        releaseSecond.countDown();
        JobView done = awaitStatus(id, JobStatus.COMPLETED);
        assertThat(done.result().path("by").asText()).isEqualTo("attempt-2");
        assertThat(done.attempts()).isEqualTo(2);
    }

    @Test
    void aRetryThatWouldDuplicateAnActiveJobIsRefused() {
        Map<String, String> corr = Map.of("doc", "dup-" + System.nanoTime());
        String first = queue.enqueue(new JobRequest("NOOP", corr, noop(), Instant.now().plusSeconds(60), null, null))
                .job().id();
        queue.cancel(first);
        String second = queue.enqueue(new JobRequest("NOOP", corr, noop(), Instant.now().plusSeconds(60), null, null))
                .job().id();
        assertThat(second).isNotEqualTo(first);
        assertThatThrownBy(() -> queue.retry(first)).isInstanceOfSatisfying(CaptureException.class,
                e -> assertThat(e.code()).isEqualTo("VSYNC-JOB-DUPLICATE"));
        assertThat(queue.find(first).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
        queue.cancel(second);
    }

    @Test
    void theBacklogGaugesCountPendingJobsAndTheOldestOnesAge() {
        String id = queue.enqueue(new JobRequest("NOOP", Map.of(), noop(), Instant.now().plusSeconds(600), null, null))
                .job().id();
        await().atMost(Duration.ofSeconds(20)).until(() -> registry.find("vectorsync.jobs.backlog")
                .tags("type", "NOOP", "status", "PENDING").gauge().value() >= 1);
        queue.cancel(id);
        assertThat(registry.find("vectorsync.jobs.oldest.pending.seconds").tags("type", "NOOP").gauge()).isNotNull();
    }

    @Test
    void aBackfillJobRestartsTheBackfillAndMirrorsTheRelaysProgress() {
        for (int i = 0; i < 30; i++) {
            put("backfill-job-" + i, chunkBody("backfilled by a job " + i));
        }
        awaitReplicaInStep(Duration.ofSeconds(20));
        // The replica loses its rows behind the relay's back; the ledger still says it holds them.
        jdbc.update("DELETE FROM replica_chunks WHERE chunk_id LIKE 'backfill-job-%'");
        Enqueued e = queue.enqueue(request("BACKFILL", Map.of(), noop().put("backend", "replica")));
        assertThat(e.job().correlation()).containsEntry("backend", "replica");
        JobView done = awaitStatus(e.job().id(), JobStatus.COMPLETED);
        long live = jdbc.queryForObject("""
                SELECT (SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')
                     + (SELECT count(*) FROM aggregates WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')""", Long.class);
        assertThat(done.result().path("backend").asText()).isEqualTo("replica");
        assertThat(done.result().path("total").asLong()).isEqualTo(live);
        assertThat(done.result().path("copied").asLong()).isEqualTo(live);
        assertThat(done.progressDone()).isEqualTo(live);
        // The relay wrote the rows again (the job itself writes to no backend).
        awaitReplicaInStep(Duration.ofSeconds(20));
        assertThat(jdbc.queryForObject("SELECT backfilling FROM relay_cursor WHERE backend = 'replica'", Boolean.class))
                .isFalse();
        // An unknown backend fails at once.
        JobView unknown = awaitStatus(queue.enqueue(request("BACKFILL", Map.of(), noop().put("backend", "nowhere")))
                .job().id(), JobStatus.FAILED);
        assertThat(unknown.attempts()).isEqualTo(1);
        assertThat(unknown.lastError()).startsWith("VSYNC-BACKEND-NOT-FOUND:");
    }

    @Test
    void rowsOfBeforeV15AreMigratedToTheNewNamesAndStillDeduplicate() {
        String db = TestDatabases.create("jobs_migration");
        try {
            DriverManagerDataSource ds = new DriverManagerDataSource(TestDatabases.url(db), TestDatabases.USER, "");
            Flyway.configure().dataSource(ds).locations("classpath:db/migration").target("13").load().migrate();
            JdbcTemplate old = new JdbcTemplate(ds);
            String insert = """
                    INSERT INTO jobs (id, kind, correlation_key, status, attempts, request, result, owner, heartbeat_at,
                                      started_at, finished_at)
                    VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::timestamptz, ?::timestamptz, ?::timestamptz)
                    """;
            old.update(insert, "01OLDQUEUED000000000000000", "verify", "replica:repair=false", "QUEUED", 0,
                    "{\"backend\":\"replica\",\"repair\":false}", null, null, null, null, null);
            old.update(insert, "01OLDRUNNING00000000000000", "verify", "replica:repair=true", "RUNNING", 1,
                    "{\"backend\":\"replica\",\"repair\":true}", null, "gone-instance", "2026-12-01T10:00:00Z",
                    "2026-12-01T09:59:00Z", null);
            old.update(insert, "01OLDSUCCEEDED000000000000", "verify", "replica:repair=false#01OLDSUCCEEDED000000000000",
                    "SUCCEEDED", 1, "{\"backend\":\"replica\",\"repair\":false}", "{\"missing\":0}", "x", null,
                    "2026-12-01T09:00:00Z", "2026-12-01T09:01:00Z");
            old.update(insert, "01OLDFAILED000000000000000", "other", "k#01OLDFAILED000000000000000", "FAILED", 3,
                    "{}", null, "x", null, "2026-12-01T08:00:00Z", "2026-12-01T08:01:00Z");

            Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();

            List<Map<String, Object>> rows = old.queryForList("""
                    SELECT id, type, status, correlation::text AS correlation, lease_until IS NOT NULL AS leased, slot,
                           key_released FROM jobs ORDER BY id""");
            assertThat(rows).extracting(r -> r.get("id") + " " + r.get("type") + " " + r.get("status") + " "
                    + r.get("correlation") + " " + r.get("leased") + " " + r.get("slot") + " " + r.get("key_released"))
                    .containsExactly(
                            "01OLDFAILED000000000000000 OTHER FAILED {\"key\": \"k\"} false null true",
                            "01OLDQUEUED000000000000000 VERIFY PENDING {\"repair\": \"false\", \"backend\": \"replica\"}"
                                    + " false null false",
                            "01OLDRUNNING00000000000000 VERIFY PROCESSING {\"repair\": \"true\", \"backend\":"
                                    + " \"replica\"} true 1 false",
                            "01OLDSUCCEEDED000000000000 VERIFY COMPLETED {\"repair\": \"false\", \"backend\":"
                                    + " \"replica\"} false null true");
            // The migrated pending verify is the one a new enqueue of the same work gets.
            JobService onOld = new JobService(old, json, List.of(), "inst-migrated",
                    settings(Duration.ofSeconds(3), 1, Map.of()), null, c -> {}, new SimpleMeterRegistry());
            Enqueued same = onOld.enqueue(new JobRequest("VERIFY", Map.of("backend", "replica", "repair", "false"),
                    json.createObjectNode().put("backend", "replica").put("repair", false), null, null, null));
            assertThat(same.created()).isFalse();
            assertThat(same.job().id()).isEqualTo("01OLDQUEUED000000000000000");
            assertThat(onOld.find("01OLDSUCCEEDED000000000000").orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(JobStatus.COMPLETED.legacyName()).isEqualTo("SUCCEEDED");
        } finally {
            TestDatabases.drop(db);
        }
    }
}
