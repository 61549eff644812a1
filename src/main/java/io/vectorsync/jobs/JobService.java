package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.relay.RelayInstance;
import io.vectorsync.routes.RouteNudge;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * Asynchronous jobs in the {@code jobs} table (ADR 011): enqueued idempotently per kind and correlation
 * key, claimed by any instance with {@code FOR UPDATE SKIP LOCKED}, run one at a time per instance with
 * progress and a heartbeat in the row. A job whose heartbeat stops (its instance died) is queued again,
 * up to {@value #MAX_ATTEMPTS} attempts, then failed. A finished job frees its correlation key, so a new
 * run of the same work can be enqueued.
 *
 * <p>The work runs on the routes of {@code routes/jobs.camel.yaml} (ADR 021): {@code jobs-poll} every
 * {@code vectorsync.jobs.poll-interval} and {@code jobs-poll-now} when nudged (a job enqueued here, a job
 * finished) re-queue stale jobs and claim one; {@code jobs-run} runs the claimed job, one at a time;
 * {@code jobs-heartbeat} beats the running job's row every {@value #HEARTBEAT_SECONDS} s. When the
 * application closes, the running job is interrupted and left RUNNING, to run again after
 * {@code stale-after}.
 */
@Service
@io.vectorsync.config.ServerOnly
public class JobService {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);
    static final int MAX_ATTEMPTS = 3;
    static final int HEARTBEAT_SECONDS = 5;
    static final String POLL_NUDGE = "jobs-poll-now";
    static final String RUN_QUEUE = "seda:jobs-run";

    /** What a job of one kind does. */
    public interface Runner {
        String kind();

        /** Runs the job and returns its result (a JSON-serialisable map). */
        Map<String, Object> run(JsonNode request, Progress progress) throws Exception;
    }

    /** Reports a running job's progress; also its heartbeat. */
    public interface Progress {
        void update(long done, Long total);
    }

    /** A job as the API shows it. */
    public record Job(String id, String kind, String status, long done, Long total, JsonNode result, String error) {

        public Map<String, Object> toJson() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("id", id);
            out.put("kind", kind);
            out.put("status", status);
            Map<String, Object> progress = new LinkedHashMap<>();
            progress.put("done", done);
            if (total != null) {
                progress.put("total", total); // unknown until the job has counted
            }
            out.put("progress", progress);
            if (result != null) {
                out.put("result", result);
            }
            if (error != null) {
                out.put("error", error);
            }
            return out;
        }
    }

    private static final String SELECT = """
            SELECT id, kind, status, progress_done, progress_total, result::text AS result, last_error FROM jobs
            """;

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final Map<String, Runner> runners;
    private final String owner;
    private final Duration staleAfter;
    private final RouteNudge nudge;
    private final ProducerTemplate producer;
    private volatile boolean busy;
    private volatile boolean running = true;
    /** The job {@code jobs-run} is running and its thread, for the heartbeat and for shutdown. */
    private volatile String current;
    private volatile Thread runner;

    /** The poll interval ({@code vectorsync.jobs.poll-interval}, default 2s) is the route {@code jobs-poll}'s. */
    public JobService(JdbcTemplate jdbc, ObjectMapper json, List<Runner> runners, RelayInstance instance,
            JobsProperties properties, RouteNudge nudge, ProducerTemplate producer) {
        this.jdbc = jdbc;
        this.json = json;
        this.runners = runners.stream().collect(Collectors.toMap(Runner::kind, r -> r));
        this.owner = instance.id();
        this.staleAfter = properties.staleAfter();
        this.nudge = nudge;
        this.producer = producer;
    }

    /**
     * Enqueues a job, or returns the QUEUED or RUNNING one with the same kind and correlation key.
     */
    public Job enqueue(String kind, String correlationKey, Map<String, Object> request) {
        String body;
        try {
            body = json.writeValueAsString(request);
        } catch (Exception e) {
            throw new IllegalArgumentException("job request is not serialisable", e);
        }
        String id = UlidCreator.getMonotonicUlid().toString();
        List<String> created = jdbc.queryForList("""
                INSERT INTO jobs (id, kind, correlation_key, status, request) VALUES (?, ?, ?, 'QUEUED', ?::jsonb)
                ON CONFLICT (kind, correlation_key) DO NOTHING RETURNING id
                """, String.class, id, kind, correlationKey, body);
        String jobId = created.isEmpty()
                ? jdbc.queryForObject("SELECT id FROM jobs WHERE kind = ? AND correlation_key = ?", String.class,
                        kind, correlationKey)
                : created.get(0);
        if (!created.isEmpty()) {
            nudge.nudge(POLL_NUDGE);
        }
        return find(jobId).orElseThrow();
    }

    public Optional<Job> find(String id) {
        return jdbc.query(SELECT + " WHERE id = ?", (rs, n) -> {
            String result = rs.getString("result");
            long total = rs.getLong("progress_total");
            return new Job(rs.getString("id"), rs.getString("kind"), rs.getString("status"), rs.getLong("progress_done"),
                    rs.wasNull() ? null : total, result == null ? null : readTree(result), rs.getString("last_error"));
        }, id).stream().findFirst();
    }

    private JsonNode readTree(String s) {
        try {
            return json.readTree(s);
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Re-queues jobs whose instance stopped beating, claims the oldest queued job when idle and hands it
     * to {@code jobs-run}. Synchronized: {@code jobs-poll} and {@code jobs-poll-now} both call it, and
     * two polls at once could claim two jobs.
     */
    synchronized void poll() {
        int requeued = jdbc.update("""
                UPDATE jobs SET status = CASE WHEN attempts >= ? THEN 'FAILED' ELSE 'QUEUED' END,
                       last_error = 'VSYNC-JOB-INTERRUPTED: the instance running the job (' || coalesce(owner, '?')
                                    || ') stopped', owner = NULL,
                       finished_at = CASE WHEN attempts >= ? THEN clock_timestamp() END,
                       correlation_key = CASE WHEN attempts >= ? THEN correlation_key || '#' || id
                                              ELSE correlation_key END
                 WHERE status = 'RUNNING' AND heartbeat_at < clock_timestamp() - make_interval(secs => ?)
                """, MAX_ATTEMPTS, MAX_ATTEMPTS, MAX_ATTEMPTS, staleAfter.toMillis() / 1000.0);
        if (requeued > 0) {
            log.warn("{} job(s) left RUNNING by a stopped instance were queued again (or failed after {} attempts)",
                    requeued, MAX_ATTEMPTS);
        }
        if (busy || !running) {
            return;
        }
        List<Map<String, Object>> claimed = jdbc.queryForList("""
                UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, owner = ?, started_at = clock_timestamp(),
                       heartbeat_at = clock_timestamp(), progress_done = 0, last_error = NULL
                 WHERE id = (SELECT id FROM jobs WHERE status = 'QUEUED' AND kind = ANY (?)
                              ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, kind, request::text AS request
                """, owner, runners.keySet().toArray(String[]::new));
        if (claimed.isEmpty()) {
            return;
        }
        busy = true;
        try {
            producer.sendBody(RUN_QUEUE, claimed.get(0));
        } catch (RuntimeException e) {
            // Camel is stopping: the job stays RUNNING without a heartbeat and runs again after stale-after.
            busy = false;
            log.info("Job {} claimed but not started ({}); it will run again", claimed.get(0).get("id"), e.toString());
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

    /** Runs a job claimed by {@link #poll} (route {@code jobs-run}), then nudges the poll for the next one. */
    public void runClaimed(Map<String, Object> job) {
        String id = (String) job.get("id");
        current = id;
        runner = Thread.currentThread();
        try {
            run(id, (String) job.get("kind"), (String) job.get("request"));
        } finally {
            current = null;
            runner = null;
            busy = false;
            Thread.interrupted(); // an interrupt meant for the job must not reach the route's thread
            nudge.nudge(POLL_NUDGE);
        }
    }

    /** Beats the running job's row (route {@code jobs-heartbeat}), so no instance takes it for stale. */
    public void heartbeat() {
        String id = current;
        if (id == null) {
            return;
        }
        try {
            jdbc.update("UPDATE jobs SET heartbeat_at = clock_timestamp() WHERE id = ? AND owner = ?", id, owner);
        } catch (RuntimeException e) {
            log.debug("Job heartbeat failed: {}", e.toString());
        }
    }

    private void run(String id, String kind, String request) {
        long[] lastWrite = {0};
        Progress progress = (done, total) -> {
            long now = System.nanoTime();
            if (now - lastWrite[0] >= 250_000_000L || (total != null && done >= total)) {
                lastWrite[0] = now;
                jdbc.update("""
                        UPDATE jobs SET progress_done = ?, progress_total = coalesce(?, progress_total),
                               heartbeat_at = clock_timestamp() WHERE id = ? AND owner = ?
                        """, done, total, id, owner);
            }
        };
        try {
            Map<String, Object> result = runners.get(kind).run(json.readTree(request), progress);
            finish(id, "SUCCEEDED", json.writeValueAsString(result), null);
            log.info("Job {} ({}) succeeded", id, kind);
        } catch (Exception | LinkageError e) {
            if (!running) {
                // Shutting down: leave the job RUNNING; its heartbeat stops and another instance (or this
                // one after its restart) runs it again after stale-after.
                log.info("Job {} ({}) interrupted by shutdown; it will run again", id, kind);
                return;
            }
            String error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            log.warn("Job {} ({}) failed: {}", id, kind, error);
            finish(id, "FAILED", null, error.length() > 2000 ? error.substring(0, 2000) : error);
        }
    }

    private void finish(String id, String status, String result, String error) {
        // The finished job gives up its correlation key: a later request starts a new run.
        jdbc.update("""
                UPDATE jobs SET status = ?, result = ?::jsonb, last_error = ?, finished_at = clock_timestamp(),
                       progress_done = CASE WHEN ? = 'SUCCEEDED' THEN coalesce(progress_total, progress_done)
                                            ELSE progress_done END,
                       correlation_key = correlation_key || '#' || id
                 WHERE id = ? AND owner = ?
                """, status, result, error, status, id, owner);
    }

    /**
     * The application is closing: before Camel stops its routes (which would wait for the job in flight),
     * stop claiming and interrupt the running job; it stays RUNNING and runs again after stale-after.
     */
    @EventListener(ContextClosedEvent.class)
    @Order(Ordered.HIGHEST_PRECEDENCE)
    public void stopJobs() {
        running = false;
        Thread t = runner;
        if (t != null) {
            t.interrupt();
        }
    }
}
