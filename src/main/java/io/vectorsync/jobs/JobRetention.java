package io.vectorsync.jobs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.retention.RetentionProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Retention of finished jobs (route {@code jobs-retention}, every {@code vectorsync.retention.interval}, only
 * with {@code vectorsync.retention.enabled}): COMPLETED, FAILED and CANCELLED rows whose {@code finished_at}
 * is older than {@code vectorsync.jobs.retention} are deleted, oldest first, {@code vectorsync.retention.batch-size}
 * rows per statement (each its own short transaction). PENDING and PROCESSING rows are never deleted, whatever
 * their age. The retention is at least every completed-window (checked at start-up, {@link JobsProperties}),
 * so a completed job is never deleted while an enqueue of the same work would still return it.
 *
 * <p>Several instances may run it at once: the candidates are locked with {@code SKIP LOCKED}, and a row a
 * {@code retry} made PENDING meanwhile no longer qualifies when its lock is taken (the condition is checked
 * again on the row as it is then).
 */
@Component
@ServerOnly
public class JobRetention {

    private static final Logger log = LoggerFactory.getLogger(JobRetention.class);

    private static final String BATCH = """
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs
                 WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED')
                   AND finished_at < clock_timestamp() - make_interval(secs => ?)
                 ORDER BY finished_at LIMIT ? FOR UPDATE SKIP LOCKED)
            """;

    private final JdbcTemplate jdbc;
    private final JobsProperties jobs;
    private final RetentionProperties retention;
    private final Counter deleted;
    private volatile boolean stopping;

    public JobRetention(JdbcTemplate jdbc, JobsProperties jobs, RetentionProperties retention, MeterRegistry registry) {
        this.jdbc = jdbc;
        this.jobs = jobs;
        this.retention = retention;
        this.deleted = Counter.builder("vectorsync.retention.deleted").tag("what", "jobs")
                .description("Rows deleted by retention").register(registry);
    }

    /** One run: batches until a batch deletes fewer rows than its size; returns how many rows went. */
    public long runOnce() {
        double age = jobs.retention().toMillis() / 1000.0;
        long total = 0;
        while (!stopping) {
            int n = jdbc.update(BATCH, age, retention.batchSize());
            total += n;
            deleted.increment(n);
            if (n < retention.batchSize()) {
                break;
            }
        }
        if (total > 0) {
            log.info("Job retention deleted {} job(s) finished more than {} ago", total, jobs.retention());
        }
        return total;
    }

    /** The run of the {@code jobs-retention} route: a failure is logged, the next run tries again. */
    public void runScheduled() {
        try {
            runOnce();
        } catch (RuntimeException e) {
            log.warn("Job retention run failed (next run in {}): {}", retention.interval(), e.toString());
        }
    }

    /** The application is closing: a long run stops after its current batch. */
    @EventListener(ContextClosedEvent.class)
    public void stop() {
        stopping = true;
    }
}
