package io.vectorsync.jobs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The job queue's meters (issue 16): backlog per type and status and the age of the oldest pending job per
 * type (gauges over a statistics query refreshed by the route {@code jobs-stats}), processing duration per
 * type and outcome (histogram), attempts started, failures by kind, and the outcome of jobs that needed a
 * retry (counters, and the in-process success ratio since start).
 */
public final class JobMetrics {

    /** The statuses with a backlog gauge: the work not yet done (FAILED is kept for retry). */
    static final List<JobStatus> BACKLOG = List.of(JobStatus.PENDING, JobStatus.PROCESSING, JobStatus.FAILED);

    private static final String STATS = """
            SELECT type, status, count(*) AS n,
                   coalesce(extract(epoch FROM clock_timestamp() - min(run_at) FILTER (WHERE run_at <= clock_timestamp())), 0)
                       AS oldest
              FROM jobs WHERE status IN ('PENDING', 'PROCESSING', 'FAILED') GROUP BY type, status
            """;

    private final MeterRegistry registry;
    private final Map<String, AtomicLong> backlog = new ConcurrentHashMap<>();
    private final Map<String, double[]> oldestPending = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong[]> retried = new ConcurrentHashMap<>();

    public JobMetrics(MeterRegistry registry, Collection<String> types) {
        this.registry = registry;
        for (String type : types) {
            for (JobStatus status : BACKLOG) {
                AtomicLong n = backlog.computeIfAbsent(type + "/" + status, k -> new AtomicLong());
                Gauge.builder("vectorsync.jobs.backlog", n, AtomicLong::get)
                        .description("Jobs by type and status: pending (due or delayed), processing, failed (kept"
                                + " for retry)")
                        .tags("type", type, "status", status.name()).register(registry);
            }
            double[] age = oldestPending.computeIfAbsent(type, k -> new double[1]);
            Gauge.builder("vectorsync.jobs.oldest.pending.seconds", age, a -> a[0])
                    .description("Age of the type's oldest pending job that is due (run-at passed); 0 when none waits")
                    .baseUnit("seconds").tags("type", type).register(registry);
            AtomicLong[] outcomes = retried.computeIfAbsent(type, k -> new AtomicLong[] {new AtomicLong(), new AtomicLong()});
            Gauge.builder("vectorsync.jobs.retry.success.ratio", outcomes, o -> {
                long total = o[0].get() + o[1].get();
                return total == 0 ? Double.NaN : (double) o[0].get() / total;
            }).description("Of the jobs that needed a retry and finished since start, the share that completed")
                    .tags("type", type).register(registry);
        }
    }

    /** Reads the backlog and oldest-pending statistics from the table (one grouped query). */
    void refresh(JdbcTemplate jdbc) {
        Map<String, Long> counts = new ConcurrentHashMap<>();
        Map<String, Double> ages = new ConcurrentHashMap<>();
        jdbc.query(STATS, rs -> {
            counts.put(rs.getString("type") + "/" + rs.getString("status"), rs.getLong("n"));
            if ("PENDING".equals(rs.getString("status"))) {
                ages.put(rs.getString("type"), rs.getDouble("oldest"));
            }
        });
        backlog.forEach((key, n) -> n.set(counts.getOrDefault(key, 0L)));
        oldestPending.forEach((type, a) -> a[0] = ages.getOrDefault(type, 0.0));
    }

    void attemptStarted(String type) {
        Counter.builder("vectorsync.jobs.attempts").description("Job attempts started (claims), by type")
                .tag("type", type).register(registry).increment();
    }

    /** A failed attempt: {@code kind} transient (retried or out of attempts), permanent, or lease (expired). */
    void failure(String type, String kind) {
        Counter.builder("vectorsync.jobs.failures")
                .description("Failed job attempts, by type and kind (transient, permanent, lease)")
                .tags("type", type, "kind", kind).register(registry).increment();
    }

    /** An attempt ended: its duration by outcome (completed, retry, failed, cancelled). */
    void attemptEnded(String type, String outcome, Duration took) {
        Timer.builder("vectorsync.jobs.duration").description("Processing time of job attempts, by type and outcome")
                .publishPercentileHistogram().tags("type", type, "outcome", outcome).register(registry).record(took);
    }

    /** A job finished for good (completed or failed) after {@code attempts} attempts. */
    void finished(String type, boolean completed, int attempts) {
        if (attempts <= 1) {
            return;
        }
        Counter.builder("vectorsync.jobs.retried")
                .description("Jobs that needed a retry, by how they ended (completed or failed)")
                .tags("type", type, "outcome", completed ? "completed" : "failed").register(registry).increment();
        AtomicLong[] o = retried.get(type);
        if (o != null) {
            o[completed ? 0 : 1].incrementAndGet();
        }
    }
}
