package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.relay.RelayInstance;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * Asynchronous jobs in the {@code jobs} table (ADR 011): enqueued idempotently per kind and correlation
 * key, claimed by any instance with {@code FOR UPDATE SKIP LOCKED}, run one at a time per instance with
 * progress and a heartbeat in the row. A job whose heartbeat stops (its instance died) is queued again,
 * up to {@value #MAX_ATTEMPTS} attempts, then failed. A finished job frees its correlation key, so a new
 * run of the same work can be enqueued.
 */
@Service
public class JobService implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(JobService.class);
    static final int MAX_ATTEMPTS = 3;

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
    private final Duration pollInterval;
    private ScheduledExecutorService scheduler;
    private ExecutorService worker;
    private volatile boolean busy;
    private volatile boolean running;

    public JobService(JdbcTemplate jdbc, ObjectMapper json, List<Runner> runners, RelayInstance instance,
            JobsProperties properties) {
        this.jdbc = jdbc;
        this.json = json;
        this.runners = runners.stream().collect(Collectors.toMap(Runner::kind, r -> r));
        this.owner = instance.id();
        this.staleAfter = properties.staleAfter();
        this.pollInterval = properties.pollInterval();
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
        if (!created.isEmpty() && scheduler != null) {
            scheduler.execute(this::pollQuietly);
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

    /** Re-queues jobs whose instance stopped beating, claims the oldest queued job when idle. */
    void poll() {
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
        Map<String, Object> job = claimed.get(0);
        busy = true;
        worker.execute(() -> {
            try {
                run((String) job.get("id"), (String) job.get("kind"), (String) job.get("request"));
            } finally {
                busy = false;
                scheduler.execute(this::pollQuietly);
            }
        });
    }

    private void pollQuietly() {
        try {
            poll();
        } catch (RuntimeException e) {
            log.warn("Job poll failed: {}", e.toString());
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
        ScheduledExecutorService beat = scheduler;
        var heartbeat = beat.scheduleWithFixedDelay(() -> {
            try {
                jdbc.update("UPDATE jobs SET heartbeat_at = clock_timestamp() WHERE id = ? AND owner = ?", id, owner);
            } catch (RuntimeException e) {
                log.debug("Job heartbeat failed: {}", e.toString());
            }
        }, 5, 5, TimeUnit.SECONDS);
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
        } finally {
            heartbeat.cancel(false);
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

    @Override
    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "vectorsync-jobs"));
        worker = Executors.newSingleThreadExecutor(r -> thread(r, "vectorsync-job-worker"));
        running = true;
        scheduler.scheduleWithFixedDelay(this::pollQuietly, 0, Math.max(100, pollInterval.toMillis()),
                TimeUnit.MILLISECONDS);
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void stop() {
        running = false;
        if (scheduler != null) {
            scheduler.shutdownNow();
            worker.shutdownNow();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
