package io.vectorsync.jobs;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * The delay before a job's next attempt after a transient failure: exponential backoff with full jitter
 * (a uniformly random delay between 0 and {@code min(maxDelay, baseDelay × 2^(attempt − 1))}), so jobs
 * that failed together do not all come back at the same moment.
 */
public final class RetryBackoff {

    private RetryBackoff() {}

    /** The cap for the attempt that just failed (1 for the first): {@code min(maxDelay, baseDelay × 2^(attempt − 1))}. */
    public static Duration ceiling(int attempt, Duration baseDelay, Duration maxDelay) {
        long base = Math.max(0, baseDelay.toMillis());
        long max = Math.max(0, maxDelay.toMillis());
        int shift = Math.max(0, Math.min(attempt - 1, 62));
        // base << shift without overflow: only when it stays under max.
        long ceiling = base <= (max >> shift) ? base << shift : max;
        return Duration.ofMillis(ceiling);
    }

    /**
     * The delay before the next attempt: uniform in [0, ceiling]; {@code random} maps a bound n to a value in
     * [0, n) (for example {@code n -> ThreadLocalRandom.current().nextLong(n)}).
     */
    public static Duration delay(int attempt, Duration baseDelay, Duration maxDelay, LongUnaryOperator random) {
        long ceiling = ceiling(attempt, baseDelay, maxDelay).toMillis();
        return Duration.ofMillis(ceiling <= 0 ? 0 : random.applyAsLong(ceiling + 1));
    }
}
