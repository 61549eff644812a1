package io.vectorsync.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

    private static final Duration BASE = Duration.ofSeconds(1);
    private static final Duration MAX = Duration.ofMinutes(5);

    @Test
    void theCeilingDoublesPerAttemptUpToTheMaximum() {
        assertThat(RetryBackoff.ceiling(1, BASE, MAX)).isEqualTo(Duration.ofSeconds(1));
        assertThat(RetryBackoff.ceiling(2, BASE, MAX)).isEqualTo(Duration.ofSeconds(2));
        assertThat(RetryBackoff.ceiling(3, BASE, MAX)).isEqualTo(Duration.ofSeconds(4));
        assertThat(RetryBackoff.ceiling(9, BASE, MAX)).isEqualTo(Duration.ofSeconds(256));
        assertThat(RetryBackoff.ceiling(10, BASE, MAX)).isEqualTo(MAX);
        // No overflow however many attempts.
        assertThat(RetryBackoff.ceiling(64, BASE, MAX)).isEqualTo(MAX);
        assertThat(RetryBackoff.ceiling(Integer.MAX_VALUE, BASE, MAX)).isEqualTo(MAX);
        assertThat(RetryBackoff.ceiling(1, Duration.ofMinutes(10), MAX)).isEqualTo(MAX);
        assertThat(RetryBackoff.ceiling(5, Duration.ZERO, MAX)).isEqualTo(Duration.ZERO);
    }

    @Test
    void theDelayIsUniformBetweenZeroAndTheCeiling() {
        SplittableRandom random = new SplittableRandom(7);
        int n = 20_000;
        long below = 0;
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < n; i++) {
            long d = RetryBackoff.delay(3, BASE, MAX, random::nextLong).toMillis();
            min = Math.min(min, d);
            max = Math.max(max, d);
            if (d < 2000) {
                below++;
            }
        }
        // Full jitter over [0, 4 s]: everything in range, both ends reached, half below the middle.
        assertThat(min).isBetween(0L, 20L);
        assertThat(max).isBetween(3980L, 4000L);
        assertThat((double) below / n).isBetween(0.47, 0.53);
    }

    @Test
    void theRandomSourceIsAskedForTheWholeRangeIncludingTheCeiling() {
        assertThat(RetryBackoff.delay(2, BASE, MAX, bound -> bound - 1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(RetryBackoff.delay(2, BASE, MAX, bound -> 0)).isEqualTo(Duration.ZERO);
        assertThat(RetryBackoff.delay(4, Duration.ZERO, MAX, bound -> {
            throw new AssertionError("no random draw for a zero ceiling");
        })).isEqualTo(Duration.ZERO);
    }
}
