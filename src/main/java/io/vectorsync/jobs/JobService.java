package io.vectorsync.jobs;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.relay.RelayInstance;
import io.vectorsync.routes.RouteNudge;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * The one job queue (issue 16, ADR 027) in the table {@code jobs}, used by every instance alike.
 *
 * <p><b>Enqueue</b> is idempotent and race-safe: an {@code INSERT … ON CONFLICT DO NOTHING} against two
 * unique partial indexes (type + correlation key while PENDING, PROCESSING or COMPLETED; idempotency key),
 * and the loser of a race reads the winner. A holder that finished more than {@code completed-window} ago
 * releases its key and the insert is tried again.
 *
 * <p><b>Claim</b>: one statement claims up to the free workers of this instance ({@code workers}) among the
 * enabled types it has a handler for, due ({@code run_at} passed), highest priority first, then oldest, with
 * {@code FOR UPDATE SKIP LOCKED}; per-type concurrency holds across instances because a PROCESSING job holds
 * one of its type's numbered slots (1..concurrency) under a unique index, so two instances claiming the same
 * free slot at once collide and one claims again. The job gets a lease ({@code stale-after}) that the
 * heartbeat and progress calls renew; a job whose lease expired (its worker died) is put back to PENDING (or
 * FAILED when out of attempts) by whichever instance polls next, and taken over.
 *
 * <p><b>Outcome</b>: a result → COMPLETED; {@link PermanentJobException} → FAILED at once; any other
 * exception, and an {@link Error} ({@code VSYNC-JOB-FATAL}; a {@link VirtualMachineError} is rethrown once
 * recorded) → PENDING again after exponential backoff with full jitter ({@link RetryBackoff}), until
 * {@code max-attempts}, then FAILED (kept for {@link #retry}). A cancel of a PROCESSING job is seen by the
 * worker at its next progress call ({@link JobCancelledException}) → CANCELLED.
 *
 * <p>The work runs on the routes of {@code routes/jobs.camel.yaml}: {@code jobs-poll} (every
 * {@code poll-interval}) and {@code jobs-poll-now} (nudged) call {@link #pollQuietly}; {@code jobs-run}
 * ({@code workers} consumers) runs each claimed job; {@code jobs-heartbeat} renews the leases;
 * {@code jobs-stats} refreshes the backlog gauges.
 */
@Service("jobService")
@io.vectorsync.config.ServerOnly
public class JobService implements JobQueue {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);
    static final String POLL_NUDGE = "jobs-poll-now";
    static final String RUN_QUEUE = "seda:jobs-run";
    private static final Pattern TYPE = Pattern.compile("[A-Z][A-Z0-9_]{0,39}");
    private static final int MAX_ERROR = 2000;
    private static final long PROGRESS_WRITE_NANOS = 250_000_000L;
    private static final long EXPIRE_EVERY_NANOS = 1_000_000_000L;

    static final String COLUMNS = """
            id, type, status, created_at, started_at, finished_at, run_at, priority, attempts, max_attempts,
            correlation::text AS correlation, progress_done, progress_total, result::text AS result, last_error
            """;

    /** The request's fingerprint: its type, payload and correlation as jsonb prints them (keys sorted). */
    private static final String FINGERPRINT = "md5(?::text || ?::jsonb::text || ?::jsonb::text)";

    private static final String INSERT = """
            INSERT INTO jobs (id, type, status, correlation, correlation_key, idempotency_key, payload, priority, run_at,
                              max_attempts, request_fingerprint, subject)
            VALUES (?, ?, 'PENDING', ?::jsonb, CASE WHEN ?::jsonb = '{}' THEN NULL ELSE md5(?::jsonb::text) END, ?,
                    ?::jsonb, ?, coalesce(?, clock_timestamp()), ?, %s, ?)
            ON CONFLICT DO NOTHING
            RETURNING %s
            """.formatted(FINGERPRINT, COLUMNS);

    /**
     * The job holding the idempotency key (of this type), whether it was created for another request, and
     * whether the key's time is over.
     */
    private static final String KEY_HOLDER = """
            SELECT %s, request_fingerprint IS NOT NULL AND request_fingerprint <> %s AS mismatch,
                   created_at < clock_timestamp() - make_interval(secs => ?) AS expired
              FROM jobs WHERE type = ? AND idempotency_key = ? AND NOT idempotency_released
            """.formatted(COLUMNS, FINGERPRINT);

    /** The job holding the correlation, and whether its completed-window is over. */
    private static final String CORRELATION_HOLDER = """
            SELECT %s, (finished_at IS NOT NULL AND finished_at < clock_timestamp() - make_interval(secs => ?)) AS expired
              FROM jobs
             WHERE NOT key_released AND type = ? AND ?::jsonb <> '{}' AND correlation_key = md5(?::jsonb::text)
               AND status IN ('PENDING', 'PROCESSING', 'COMPLETED')
            """.formatted(COLUMNS);

    /** A new job about a subject: the older jobs about it give up their correlation (see JobHandler#subject). */
    private static final String SUPERSEDE = """
            UPDATE jobs SET key_released = true WHERE type = ? AND subject = ? AND id <> ? AND NOT key_released
            """;

    /**
     * The claim. {@code t}: the types this instance runs with their concurrency; {@code free}: the slot
     * numbers of each type no PROCESSING job holds, numbered 1.. per type; {@code cand}: per type at most
     * as many due PENDING jobs as it has free slots, by priority then age, locked (SKIP LOCKED); {@code pick}:
     * the best of them over all types, as many as this instance has free workers, each with a free slot.
     * Locking at most {@code free} per type keeps the rows locked but not taken few.
     */
    private static final String CLAIM = """
            WITH t AS (SELECT * FROM unnest(?::text[], ?::int[]) AS t(type, concurrency)),
            free AS (
              SELECT t.type, s.slot, row_number() OVER (PARTITION BY t.type ORDER BY s.slot) AS n
                FROM t CROSS JOIN LATERAL generate_series(1, t.concurrency) AS s(slot)
               WHERE NOT EXISTS (SELECT 1 FROM jobs b WHERE b.status = 'PROCESSING' AND b.type = t.type AND b.slot = s.slot)),
            cand AS (
              SELECT c.id, c.type, c.priority, c.created_at FROM t
               CROSS JOIN LATERAL (
                 SELECT j.id, j.type, j.priority, j.created_at FROM jobs j
                  WHERE j.status = 'PENDING' AND j.type = t.type AND j.run_at <= clock_timestamp()
                  ORDER BY j.priority DESC, j.created_at, j.id
                  LIMIT least((SELECT count(*) FROM free f WHERE f.type = t.type), ?)
                  FOR UPDATE SKIP LOCKED) c),
            ranked AS (
              SELECT c.*, row_number() OVER (PARTITION BY c.type ORDER BY c.priority DESC, c.created_at, c.id) AS n
                FROM cand c),
            pick AS (
              SELECT r.id, f.slot FROM ranked r JOIN free f ON f.type = r.type AND f.n = r.n
               ORDER BY r.priority DESC, r.created_at, r.id
               LIMIT ?)
            UPDATE jobs j SET status = 'PROCESSING', slot = pick.slot, owner = ?, attempts = j.attempts + 1,
                   lease_until = clock_timestamp() + make_interval(secs => ?), started_at = clock_timestamp(),
                   finished_at = NULL, cancel_requested = false
              FROM pick WHERE j.id = pick.id
            RETURNING j.id, j.type, j.attempts, j.max_attempts, j.payload::text AS payload, j.correlation::text AS correlation
            """;

    /** Jobs whose worker stopped renewing the lease: pending again (taken over), or failed when out of attempts. */
    private static final String EXPIRE = """
            UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'CANCELLED'
                                          WHEN attempts >= max_attempts THEN 'FAILED' ELSE 'PENDING' END,
                   last_error = CASE WHEN cancel_requested THEN last_error
                                     ELSE 'VSYNC-JOB-LEASE-EXPIRED: the worker (' || coalesce(owner, '?')
                                          || ') stopped renewing its lease' END,
                   finished_at = CASE WHEN cancel_requested OR attempts >= max_attempts THEN clock_timestamp() END,
                   run_at = clock_timestamp(), owner = NULL, lease_until = NULL, slot = NULL
             WHERE status = 'PROCESSING' AND lease_until < clock_timestamp()
            RETURNING id, type, status, attempts
            """;

    /** What the claim hands to a worker. */
    public record Claimed(String id, String type, int attempt, int maxAttempts, String payload, String correlation) {

        /** Without the payload: a claimed job may end up in a log (Camel's, for an error that passed). */
        @Override
        public String toString() {
            return "Claimed[" + id + " " + type + " attempt " + attempt + "/" + maxAttempts + "]";
        }
    }

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final Map<String, JobHandler> handlers;
    private final String owner;
    private final JobsProperties properties;
    private final RouteNudge nudge;
    private final Consumer<Claimed> dispatch;
    private final JobMetrics metrics;
    private final int workers;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private volatile boolean open = true;
    private volatile long lastBeat;
    private long lastExpire = System.nanoTime() - EXPIRE_EVERY_NANOS;

    @Autowired
    public JobService(JdbcTemplate jdbc, ObjectMapper json, List<JobHandler> handlers, RelayInstance instance,
            JobsProperties properties, RouteNudge nudge, ProducerTemplate producer, MeterRegistry registry) {
        this(jdbc, json, handlers, instance.id(), properties, nudge, c -> producer.sendBody(RUN_QUEUE, c), registry);
    }

    /**
     * An instance of the queue with its own owner id and its own way to run a claimed job (a test's second
     * instance on the same database runs them on an executor of its own).
     */
    JobService(JdbcTemplate jdbc, ObjectMapper json, List<JobHandler> handlers, String owner, JobsProperties properties,
            RouteNudge nudge, Consumer<Claimed> dispatch, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.json = json;
        this.handlers = handlers.stream().collect(Collectors.toMap(JobHandler::type, h -> h));
        this.handlers.keySet().forEach(t -> {
            if (!TYPE.matcher(t).matches()) {
                throw new IllegalStateException("job type '" + t + "' is not upper case letters, digits and _");
            }
        });
        this.owner = owner;
        this.properties = properties;
        this.nudge = nudge;
        this.dispatch = dispatch;
        this.workers = properties.workers();
        this.metrics = new JobMetrics(registry, new TreeMap<>(this.handlers).keySet());
    }

    // ---------------------------------------------------------------- JobQueue

    @Override
    public Enqueued enqueue(JobRequest request) {
        String type = request.type();
        if (type == null || !TYPE.matcher(type).matches()) {
            throw new CaptureException(404, "VSYNC-JOB-TYPE", "type", "a job type (upper case, e.g. NOOP)",
                    "No job type has this name.");
        }
        JobHandler handler = handlers.get(type);
        JsonNode payload = request.payload() == null ? json.createObjectNode() : request.payload();
        Map<String, String> correlation = new TreeMap<>(request.correlation() == null ? Map.of() : request.correlation());
        String subject = null;
        if (handler != null) {
            correlation.putAll(handler.correlation(payload));
            subject = handler.subject(payload);
        }
        JobsProperties.JobType settings = properties.type(type);
        int priority = request.priority() != null ? request.priority() : settings.priority();
        String correlationJson = write(correlation);
        String payloadJson = write(payload);
        String key = request.idempotencyKey() == null || request.idempotencyKey().isBlank() ? null
                : request.idempotencyKey();
        Timestamp runAt = request.runAt() == null ? null : Timestamp.from(request.runAt());
        double window = properties.completedWindow(type).toMillis() / 1000.0;
        double keyTtl = properties.idempotencyKeyTtl().toMillis() / 1000.0;
        for (int round = 0; round < 5; round++) {
            String id = UlidCreator.getMonotonicUlid().toString();
            List<JobView> created = jdbc.query(INSERT, this::view, id, type, correlationJson, correlationJson,
                    correlationJson, key, payloadJson, priority, runAt, settings.maxAttempts(), type, payloadJson,
                    correlationJson, subject);
            if (!created.isEmpty()) {
                JobView job = created.get(0);
                if (subject != null) {
                    jdbc.update(SUPERSEDE, type, subject, id);
                }
                if (!job.runAt().isAfter(Instant.now()) && nudge != null) {
                    nudge.nudge(POLL_NUDGE);
                }
                return new Enqueued(job, true);
            }
            if (key != null) {
                List<Object[]> byKey = jdbc.query(KEY_HOLDER, (rs, n) -> new Object[] {view(rs, n),
                    rs.getBoolean("mismatch"), rs.getBoolean("expired")}, type, payloadJson, correlationJson, keyTtl,
                        type, key);
                if (!byKey.isEmpty()) {
                    JobView existing = (JobView) byKey.get(0)[0];
                    if ((Boolean) byKey.get(0)[2]) {
                        jdbc.update("UPDATE jobs SET idempotency_released = true WHERE id = ?", existing.id());
                        continue;
                    }
                    if ((Boolean) byKey.get(0)[1]) {
                        throw new CaptureException(422, "VSYNC-JOB-IDEMPOTENCY-MISMATCH", "Idempotency-Key",
                                "a new key for a new request", "This Idempotency-Key was used for another " + type
                                        + " request (job " + existing.id() + "); nothing was queued.");
                    }
                    return new Enqueued(existing, false);
                }
            }
            List<Object[]> holder = jdbc.query(CORRELATION_HOLDER, (rs, n) -> new Object[] {view(rs, n),
                rs.getBoolean("expired")}, window, type, correlationJson, correlationJson);
            if (holder.isEmpty()) {
                continue; // the holder finished or was released in between: insert again
            }
            JobView existing = (JobView) holder.get(0)[0];
            if (!(Boolean) holder.get(0)[1]) {
                return new Enqueued(existing, false);
            }
            jdbc.update("UPDATE jobs SET key_released = true WHERE id = ? AND finished_at IS NOT NULL", existing.id());
        }
        throw new IllegalStateException("enqueue of a " + type + " job kept colliding; try again");
    }

    @Override
    public Optional<JobView> find(String id) {
        return jdbc.query("SELECT " + COLUMNS + " FROM jobs WHERE id = ?", this::view, id).stream().findFirst();
    }

    @Override
    public List<JobView> list(String type, JobStatus status, int limit) {
        if (limit < 1 || limit > 1000) {
            throw new CaptureException(400, "VSYNC-JOB-INVALID", "limit", "1 to 1000", "limit must be 1 to 1000.");
        }
        String s = status == null ? null : status.name();
        return jdbc.query("SELECT " + COLUMNS + """
                 FROM jobs WHERE (?::text IS NULL OR type = ?) AND (?::text IS NULL OR status = ?)
                 ORDER BY created_at DESC, id DESC LIMIT ?
                """, this::view, type, type, s, s, limit);
    }

    @Override
    public JobView cancel(String id) {
        List<JobView> done = jdbc.query("""
                UPDATE jobs SET status = CASE WHEN status = 'PENDING' THEN 'CANCELLED' ELSE status END,
                       cancel_requested = (status = 'PROCESSING'),
                       finished_at = CASE WHEN status = 'PENDING' THEN clock_timestamp() END
                 WHERE id = ? AND status IN ('PENDING', 'PROCESSING')
                RETURNING %s
                """.formatted(COLUMNS), this::view, id);
        if (done.isEmpty()) {
            JobView job = existing(id);
            throw new CaptureException(409, "VSYNC-JOB-STATE", "id", "a pending or processing job",
                    "The job is " + job.status() + ": only a pending or processing job can be cancelled.");
        }
        Running r = running.get(id);
        if (r != null) {
            r.cancelled = true; // seen at its next progress call without a round trip
        }
        log.info("Job {} ({}) cancel{}", id, done.get(0).type(),
                done.get(0).status() == JobStatus.CANCELLED ? "led" : " requested");
        return done.get(0);
    }

    @Override
    public JobView retry(String id) {
        JobView job = existing(id);
        List<JobView> done;
        try {
            done = jdbc.query("""
                    UPDATE jobs SET status = 'PENDING', max_attempts = attempts + ?, run_at = clock_timestamp(),
                           finished_at = NULL, started_at = NULL, cancel_requested = false, key_released = false,
                           owner = NULL, lease_until = NULL, slot = NULL, result = NULL, progress_done = 0
                     WHERE id = ? AND status IN ('FAILED', 'CANCELLED')
                    RETURNING %s
                    """.formatted(COLUMNS), this::view, properties.type(job.type()).maxAttempts(), id);
        } catch (DuplicateKeyException e) {
            throw new CaptureException(409, "VSYNC-JOB-DUPLICATE", "id", "a job no other active job duplicates",
                    "Another job with the same correlation or idempotency key is pending, processing or recently"
                            + " completed; retry that one or wait for it.");
        }
        if (done.isEmpty()) {
            throw new CaptureException(409, "VSYNC-JOB-STATE", "id", "a failed or cancelled job",
                    "The job is " + job.status() + ": only a failed or cancelled job can be retried.");
        }
        log.info("Job {} ({}) queued again by a retry", id, job.type());
        if (nudge != null) {
            nudge.nudge(POLL_NUDGE);
        }
        return done.get(0);
    }

    private JobView existing(String id) {
        return find(id).orElseThrow(() -> new CaptureException(404, "VSYNC-JOB-NOT-FOUND", "id", "the id of a job",
                "No job has this id."));
    }

    // ---------------------------------------------------------------- engine

    /**
     * Puts jobs with an expired lease back (taken over) or fails them (at most once a second), then claims up
     * to the free workers' worth of jobs and hands each to a worker. Synchronized: both poll routes call it.
     */
    synchronized void poll() {
        long now = System.nanoTime();
        if (now - lastExpire >= EXPIRE_EVERY_NANOS) {
            // At most once a second, however often nudges come: leases are seconds long.
            lastExpire = now;
            for (Map<String, Object> e : jdbc.queryForList(EXPIRE)) {
                log.warn("Job {} ({}): its worker's lease expired after attempt {}; now {}", e.get("id"), e.get("type"),
                        e.get("attempts"), e.get("status"));
                metrics.failure((String) e.get("type"), "lease");
            }
        }
        if (!open) {
            return;
        }
        int free = workers - inFlight.get();
        if (free <= 0) {
            return;
        }
        List<String> types = new ArrayList<>();
        List<Integer> concurrency = new ArrayList<>();
        new TreeMap<>(handlers).keySet().forEach(t -> {
            JobsProperties.JobType settings = properties.type(t);
            if (settings.enabled()) {
                types.add(t);
                concurrency.add(settings.concurrency());
            }
        });
        if (types.isEmpty()) {
            return;
        }
        List<Claimed> claimed = List.of();
        for (int round = 0; round < 3; round++) {
            try {
                claimed = jdbc.query(CLAIM, (rs, n) -> new Claimed(rs.getString("id"), rs.getString("type"),
                        rs.getInt("attempts"), rs.getInt("max_attempts"), rs.getString("payload"),
                        rs.getString("correlation")), types.toArray(String[]::new), concurrency.toArray(Integer[]::new),
                        free, free, owner, leaseSeconds());
                break;
            } catch (DuplicateKeyException e) {
                // Another instance took the same free slot at the same moment: read the slots again.
                log.debug("Job claim collided with another instance's; claiming again");
            }
        }
        for (Claimed c : claimed) {
            inFlight.incrementAndGet();
            metrics.attemptStarted(c.type());
            try {
                dispatch.accept(c);
            } catch (RuntimeException e) {
                // Camel is stopping: give the job back at once rather than after its lease.
                inFlight.decrementAndGet();
                release(c, "not started (" + e.getClass().getSimpleName() + ")");
            }
        }
    }

    /** The poll routes' entry point: a failure is logged and the next poll tries again. */
    public void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            log.warn("Job poll failed: {}", e.toString());
        }
    }

    /** Runs a claimed job to its end (route {@code jobs-run}), then nudges the poll for the next one. */
    public void runClaimed(Claimed job) {
        if (!open) {
            inFlight.decrementAndGet();
            release(job, "claimed but not started before shutdown");
            return;
        }
        Running r = new Running(job, Thread.currentThread());
        running.put(job.id(), r);
        try {
            execute(r);
        } finally {
            running.remove(job.id(), r); // not a later attempt's entry (this instance may have taken it over)
            inFlight.decrementAndGet();
            Thread.interrupted(); // an interrupt meant for the job must not reach the route's thread
            if (nudge != null) {
                nudge.nudge(POLL_NUDGE);
            }
        }
    }

    private void execute(Running r) {
        Claimed job = r.job;
        JobHandler handler = handlers.get(job.type());
        long started = System.nanoTime();
        String outcome;
        try {
            Map<String, Object> result = handler.run(r);
            outcome = complete(job, result == null ? Map.of() : result) ? "completed" : "lost";
        } catch (JobCancelledException e) {
            outcome = stopped(r);
        } catch (PermanentJobException e) {
            if (!open) {
                release(job, "interrupted by shutdown");
                outcome = "released";
            } else {
                outcome = fail(job, e.code() + ": " + e.getMessage(), "permanent") ? "failed" : "lost";
            }
        } catch (Exception | LinkageError e) {
            if (!open) {
                release(job, "interrupted by shutdown");
                outcome = "released";
            } else {
                outcome = transientFailure(job, e);
            }
        } catch (Error e) {
            // OutOfMemoryError, StackOverflowError, AssertionError…: without this the row stayed PROCESSING
            // until its lease expired, and then failed for good. A failed attempt instead (retried up to
            // max-attempts), recorded first, as far as the JVM still can; a VirtualMachineError is then
            // passed on, since this JVM may be unfit to go on and whatever watches it must see it.
            fatal(job, e, started);
            if (e instanceof VirtualMachineError) {
                throw e;
            }
            return;
        }
        metrics.attemptEnded(job.type(), outcome, Duration.ofNanos(System.nanoTime() - started));
    }

    /** Records an {@link Error} of a handler as a failed attempt ({@code VSYNC-JOB-FATAL}), best effort. */
    private void fatal(Claimed job, Error e, long started) {
        try {
            log.error("Job {} ({}) attempt {} of {} threw {}", job.id(), job.type(), job.attempt(), job.maxAttempts(),
                    e.getClass().getName());
            String outcome = failedAttempt(job, "VSYNC-JOB-FATAL", e);
            metrics.attemptEnded(job.type(), outcome, Duration.ofNanos(System.nanoTime() - started));
        } catch (Throwable t) {
            // Not even that worked (no heap, no database): the lease expires and the job is taken over.
            e.addSuppressed(t);
        }
    }

    private boolean complete(Claimed job, Map<String, Object> result) {
        int n = jdbc.update("""
                UPDATE jobs SET status = 'COMPLETED', result = ?::jsonb, last_error = NULL, finished_at = clock_timestamp(),
                       progress_done = coalesce(progress_total, progress_done), lease_until = NULL, slot = NULL,
                       cancel_requested = false, key_released = ?
                 WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING'
                """, write(result), properties.completedWindow(job.type()).isZero(), job.id(), owner, job.attempt());
        if (n == 0) {
            log.warn("Job {} ({}) finished after this worker lost its lease; its result is dropped", job.id(), job.type());
            return false;
        }
        log.info("Job {} ({}) completed on attempt {}", job.id(), job.type(), job.attempt());
        metrics.finished(job.type(), true, job.attempt());
        return true;
    }

    private String stopped(Running r) {
        if (!open) {
            release(r.job, "interrupted by shutdown");
            return "released";
        }
        int n = jdbc.update("""
                UPDATE jobs SET status = 'CANCELLED', finished_at = clock_timestamp(), lease_until = NULL, slot = NULL
                 WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING' AND cancel_requested
                """, r.job.id(), owner, r.job.attempt());
        if (n == 1) {
            log.info("Job {} ({}) cancelled while processing", r.job.id(), r.job.type());
            return "cancelled";
        }
        log.warn("Job {} ({}) stopped: this worker lost its lease", r.job.id(), r.job.type());
        return "lost";
    }

    private String transientFailure(Claimed job, Throwable e) {
        return failedAttempt(job, "VSYNC-JOB-ERROR", e);
    }

    /** A failed attempt with {@code code}: PENDING after a backoff, or FAILED when it was the last one. */
    private String failedAttempt(Claimed job, String code, Throwable e) {
        String error = code + ": " + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage());
        if (job.attempt() >= job.maxAttempts()) {
            return fail(job, error, "transient") ? "failed" : "lost";
        }
        JobsProperties.JobType settings = properties.type(job.type());
        Duration delay = RetryBackoff.delay(job.attempt(), settings.baseDelay(), settings.maxDelay(),
                n -> ThreadLocalRandom.current().nextLong(n));
        int n = jdbc.update("""
                UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'PENDING' END,
                       finished_at = CASE WHEN cancel_requested THEN clock_timestamp() END,
                       run_at = clock_timestamp() + make_interval(secs => ?),
                       last_error = ?, lease_until = NULL, slot = NULL, owner = NULL
                 WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING'
                """, delay.toMillis() / 1000.0, truncate(error), job.id(), owner, job.attempt());
        metrics.failure(job.type(), "transient");
        if (n == 0) {
            return "lost";
        }
        // (a job whose cancel was requested meanwhile is CANCELLED rather than retried)
        log.warn("Job {} ({}) attempt {} of {} failed ({}); next attempt in {} ms", job.id(), job.type(), job.attempt(),
                job.maxAttempts(), e.getClass().getSimpleName(), delay.toMillis());
        return "retry";
    }

    private boolean fail(Claimed job, String error, String kind) {
        int n = jdbc.update("""
                UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'FAILED' END, last_error = ?,
                       finished_at = clock_timestamp(), lease_until = NULL, slot = NULL
                 WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING'
                """, truncate(error), job.id(), owner, job.attempt());
        metrics.failure(job.type(), kind);
        if (n == 0) {
            return false;
        }
        log.warn("Job {} ({}) failed for good on attempt {} of {} ({})", job.id(), job.type(), job.attempt(),
                job.maxAttempts(), kind);
        metrics.finished(job.type(), false, job.attempt());
        return true;
    }

    /** Gives a job this instance holds back to the queue at once (shutdown), without spending an attempt. */
    private void release(Claimed job, String why) {
        String id = job.id();
        try {
            jdbc.update("""
                    UPDATE jobs SET status = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'PENDING' END,
                           finished_at = CASE WHEN cancel_requested THEN clock_timestamp() END,
                           attempts = greatest(attempts - 1, 0), run_at = clock_timestamp(),
                           owner = NULL, lease_until = NULL, slot = NULL
                     WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING'
                    """, id, owner, job.attempt());
            log.info("Job {} given back to the queue: {}", id, why);
        } catch (RuntimeException e) {
            log.info("Job {} not given back ({}); it is taken over after its lease", id, e.toString());
        }
    }

    /**
     * Renews the leases of the jobs running here (route {@code jobs-heartbeat}, every second; a round trip
     * every quarter of {@code stale-after}); notes the cancelled ones and the ones whose lease was lost.
     */
    public void heartbeat() {
        if (running.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastBeat < properties.staleAfter().toNanos() / 4) {
            return;
        }
        lastBeat = now;
        try {
            List<Running> beating = List.copyOf(running.values());
            String[] ids = beating.stream().map(r -> r.job.id()).toArray(String[]::new);
            Integer[] attempts = beating.stream().map(r -> r.job.attempt()).toArray(Integer[]::new);
            Map<String, Boolean> alive = new TreeMap<>();
            // Fenced by the attempt, not only the owner: this instance may have taken a job over from itself
            // (its lease expired while the heartbeat could not reach the database); the older attempt is lost.
            jdbc.query("""
                    UPDATE jobs j SET lease_until = clock_timestamp() + make_interval(secs => ?)
                      FROM unnest(?::text[], ?::int[]) AS b(id, attempt)
                     WHERE j.id = b.id AND j.attempts = b.attempt AND j.owner = ? AND j.status = 'PROCESSING'
                    RETURNING j.id, j.cancel_requested
                    """, rs -> {
                alive.put(rs.getString("id"), rs.getBoolean("cancel_requested"));
            }, leaseSeconds(), ids, attempts, owner);
            for (Running r : beating) {
                Boolean cancel = alive.get(r.job.id());
                if (cancel == null) {
                    r.lost = true;
                } else if (cancel) {
                    r.cancelled = true;
                }
            }
        } catch (RuntimeException e) {
            log.warn("Job heartbeat failed; the leases of {} running job(s) were not renewed: {}", running.size(),
                    e.toString());
        }
    }

    /** Refreshes the backlog gauges (route {@code jobs-stats}). */
    public void refreshStats() {
        try {
            metrics.refresh(jdbc);
        } catch (RuntimeException e) {
            log.debug("Job statistics not refreshed: {}", e.toString());
        }
    }

    /** How many jobs run here now. */
    int inFlight() {
        return inFlight.get();
    }

    /**
     * The application is closing: before Camel stops its routes (which would wait for the jobs in flight),
     * stop claiming and interrupt the running jobs; each is given back to the queue as it stops.
     */
    @EventListener(ContextClosedEvent.class)
    @Order(Ordered.HIGHEST_PRECEDENCE)
    public void stopJobs() {
        open = false;
        running.values().forEach(r -> r.thread.interrupt());
    }

    private double leaseSeconds() {
        return properties.staleAfter().toMillis() / 1000.0;
    }

    // ---------------------------------------------------------------- a running job

    /** A job running on this instance: its context, and the flags the heartbeat and cancel set. */
    private final class Running implements JobContext {
        final Claimed job;
        final Thread thread;
        final JsonNode payload;
        final Map<String, String> correlation;
        volatile boolean cancelled;
        volatile boolean lost;
        private long lastWrite;

        Running(Claimed job, Thread thread) {
            this.job = job;
            this.thread = thread;
            this.payload = read(job.payload());
            this.correlation = readCorrelation(job.correlation());
        }

        @Override
        public String id() {
            return job.id();
        }

        @Override
        public JsonNode payload() {
            return payload;
        }

        @Override
        public Map<String, String> correlation() {
            return correlation;
        }

        @Override
        public int attempt() {
            return job.attempt();
        }

        @Override
        public void progress(long done, Long total) {
            check();
            long now = System.nanoTime();
            if (lastWrite != 0 && now - lastWrite < PROGRESS_WRITE_NANOS && (total == null || done < total)) {
                return;
            }
            lastWrite = now;
            List<Boolean> row = jdbc.queryForList("""
                    UPDATE jobs SET progress_done = ?, progress_total = coalesce(?, progress_total),
                           lease_until = clock_timestamp() + make_interval(secs => ?)
                     WHERE id = ? AND owner = ? AND attempts = ? AND status = 'PROCESSING'
                    RETURNING cancel_requested
                    """, Boolean.class, done, total, leaseSeconds(), job.id(), owner, job.attempt());
            if (row.isEmpty()) {
                lost = true;
            } else if (Boolean.TRUE.equals(row.get(0))) {
                cancelled = true;
            }
            check();
        }

        private void check() {
            if (!open) {
                throw new JobCancelledException("the instance is shutting down");
            }
            if (cancelled) {
                throw new JobCancelledException("the job was cancelled");
            }
            if (lost) {
                throw new JobCancelledException("this worker lost the job's lease");
            }
        }
    }

    // ---------------------------------------------------------------- rows and JSON

    private JobView view(ResultSet rs, int n) throws SQLException {
        long total = rs.getLong("progress_total");
        Long progressTotal = rs.wasNull() ? null : total;
        String result = rs.getString("result");
        return new JobView(rs.getString("id"), rs.getString("type"), JobStatus.valueOf(rs.getString("status")),
                instant(rs, "created_at"), instant(rs, "started_at"), instant(rs, "finished_at"), instant(rs, "run_at"),
                rs.getInt("priority"), rs.getInt("attempts"), rs.getInt("max_attempts"),
                readCorrelation(rs.getString("correlation")), rs.getLong("progress_done"), progressTotal,
                result == null ? null : read(result), rs.getString("last_error"));
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalArgumentException("job payload or result is not serialisable as JSON", e);
        }
    }

    private JsonNode read(String s) {
        try {
            return s == null ? json.createObjectNode() : json.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException("a job's stored JSON is unreadable", e);
        }
    }

    private Map<String, String> readCorrelation(String s) {
        if (s == null) {
            return Map.of();
        }
        try {
            return json.readValue(s, new TypeReference<TreeMap<String, String>>() {});
        } catch (Exception e) {
            return Map.of();
        }
    }

    private static String truncate(String s) {
        return s.length() > MAX_ERROR ? s.substring(0, MAX_ERROR) : s;
    }
}
