package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.jobs.*}: the one job queue (issue 16).
 *
 * @param staleAfter a PROCESSING job whose worker has not renewed its lease for this long is taken over by
 *     whichever instance polls next (this one too: every write of a worker is fenced by its attempt)
 * @param pollInterval how often an idle instance looks for a claimable job
 * @param completedWindow an enqueue with the correlation of a job COMPLETED less than this long ago returns
 *     that job instead of a new one
 * @param idempotencyKeyTtl how long an {@code Idempotency-Key} returns the job it created (from the job's
 *     creation, whatever its status); the same key with another request is refused meanwhile
 * @param workers how many jobs one instance runs at once (over all types)
 * @param types per type (upper-case key: INGEST, REEMBED, VERIFY, BACKFILL, NOOP); a type not listed gets
 *     the defaults of each vectorsync.jobs.types key below
 * @param retention COMPLETED, FAILED and CANCELLED jobs finished longer ago than this are deleted (by the
 *     route jobs-retention, every vectorsync.retention.interval); at least 1m, and at least completed-window
 *     and every type's completed-window, so a job is never deleted while an enqueue would still return it
 */
@Validated
@ConfigurationProperties("vectorsync.jobs")
public record JobsProperties(
        @DefaultValue("60s") @NotNull Duration staleAfter,
        @DefaultValue("2s") @NotNull Duration pollInterval,
        @DefaultValue("1h") @NotNull Duration completedWindow,
        @DefaultValue("24h") @NotNull Duration idempotencyKeyTtl,
        @DefaultValue("2") @Min(1) int workers,
        @DefaultValue Map<String, @Valid JobType> types,
        @DefaultValue("7d") @NotNull Duration retention) {

    /** The least retention: a shorter one would delete jobs before anyone could look at them. */
    public static final Duration MIN_RETENTION = Duration.ofMinutes(1);

    /**
     * Refuses a retention that would delete what is still in use (start-up fails with the setting named): a
     * COMPLETED job inside its completed-window is the one an enqueue of the same work returns, and a
     * finished job's idempotency key is held for as long.
     */
    public JobsProperties {
        if (retention != null) {
            if (retention.compareTo(MIN_RETENTION) < 0) {
                throw new IllegalArgumentException("VSYNC-CONFIG-JOBS: vectorsync.jobs.retention must be at least "
                        + MIN_RETENTION + " but was " + retention);
            }
            atLeast(retention, completedWindow, "vectorsync.jobs.completed-window");
            if (types != null) {
                types.forEach((name, t) -> atLeast(retention, t == null ? null : t.completedWindow(),
                        "vectorsync.jobs.types." + name + ".completed-window"));
            }
        }
    }

    private static void atLeast(Duration retention, Duration window, String setting) {
        if (window != null && retention.compareTo(window) < 0) {
            throw new IllegalArgumentException("VSYNC-CONFIG-JOBS: vectorsync.jobs.retention (" + retention
                    + ") is shorter than " + setting + " (" + window + "): a completed job would be deleted while"
                    + " an enqueue of the same work still returns it; make the retention at least the window");
        }
    }

    /** A type's settings (its key matched case-insensitively: the binder may lower-case map keys); defaults when not configured. */
    public JobType type(String type) {
        JobType t = types == null ? null : types.get(type);
        if (t == null && types != null) {
            t = types.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(type)).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
        }
        return t != null ? t : new JobType(true, 1, 0, 5, Duration.ofSeconds(1), Duration.ofMinutes(5), 0, null);
    }

    /** How long a COMPLETED job of this type is returned for an enqueue with its correlation. */
    public Duration completedWindow(String type) {
        Duration own = type(type).completedWindow();
        return own != null ? own : completedWindow;
    }

    /**
     * One job type's settings.
     *
     * @param enabled false: enqueues of this type are refused and pending ones are not claimed
     * @param concurrency at most this many PROCESSING at once across all instances
     * @param priority default priority of its jobs (higher first)
     * @param maxAttempts attempts before a transiently failing job is FAILED
     * @param baseDelay first retry delay (exponential with full jitter)
     * @param maxDelay retry delay cap
     * @param ratePerMinute enqueues accepted per minute across all instances (0: unlimited)
     * @param completedWindow the type's own completed-window (unset: vectorsync.jobs.completed-window);
     *     0s for work that is meant to run again whenever asked (VERIFY, BACKFILL)
     */
    public record JobType(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("1") @Min(1) int concurrency,
            @DefaultValue("0") int priority,
            @DefaultValue("5") @Min(1) int maxAttempts,
            @DefaultValue("1s") @NotNull Duration baseDelay,
            @DefaultValue("5m") @NotNull Duration maxDelay,
            @DefaultValue("0") @Min(0) int ratePerMinute,
            Duration completedWindow) {

        /** The settings without a completed-window of their own. */
        public JobType(boolean enabled, int concurrency, int priority, int maxAttempts, Duration baseDelay,
                Duration maxDelay, int ratePerMinute) {
            this(enabled, concurrency, priority, maxAttempts, baseDelay, maxDelay, ratePerMinute, null);
        }

        @org.springframework.boot.context.properties.bind.ConstructorBinding
        public JobType {}
    }
}
