package io.vectorsync.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The device's hybrid logical clock over a clock the test moves. */
class HybridClockTest {

    private static final Instant T0 = Instant.parse("2026-12-02T03:04:05.123456789Z");

    /** A clock the test sets. */
    private static final class MovableClock extends Clock {
        Instant now = T0;

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void aFixedClockGivesItsTimeWithMicrosecondsThenStrictlyIncreasingTimes() {
        HybridClock hlc = new HybridClock(Clock.fixed(T0, ZoneOffset.UTC));

        assertThat(hlc.last()).isNull();
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:04:05.123456Z");
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:04:05.123457Z");
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:04:05.123458Z");
        assertThat(hlc.last()).isEqualTo("2026-12-02T03:04:05.123458Z");
    }

    @Test
    void timesNeverGoBackWhenThePhysicalClockDoes() {
        MovableClock clock = new MovableClock();
        HybridClock hlc = new HybridClock(clock);
        List<String> times = new ArrayList<>();
        times.add(hlc.now());
        clock.now = T0.minusSeconds(60); // NTP stepped the clock back
        times.add(hlc.now());
        times.add(hlc.now());
        clock.now = T0.plusSeconds(1);
        times.add(hlc.now());

        assertThat(times).isSorted().doesNotHaveDuplicates();
        assertThat(times.get(1)).isEqualTo("2026-12-02T03:04:05.123457Z");
        assertThat(times.get(3)).isEqualTo("2026-12-02T03:04:06.123456Z");
    }

    @Test
    void anObservedTimePushesTheNextTimePastIt() {
        HybridClock hlc = new HybridClock(Clock.fixed(T0, ZoneOffset.UTC));
        hlc.now();

        hlc.observe("2026-12-02T03:14:05.000001+00:00"); // as PostgreSQL writes a timestamptz in JSON
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:14:05.000002Z");

        hlc.observe("2026-01-01T00:00:00.000000Z"); // older: no effect
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:14:05.000003Z");
    }

    @Test
    void aCorrectionSubtractsTheMeasuredSkewButNeverTakesBackAGivenTime() {
        MovableClock clock = new MovableClock();
        List<Long> saved = new ArrayList<>();
        HybridClock hlc = new HybridClock(clock, null, Duration.ZERO, saved::add);

        hlc.correct(Duration.ofMinutes(-10)); // this device is 10 minutes behind the remote
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:14:05.123456Z");
        assertThat(hlc.correction()).isEqualTo(Duration.ofMinutes(10));

        hlc.correct(Duration.ofMinutes(10)); // now 10 minutes ahead of it
        assertThat(hlc.now()).as("still after the last time given").isEqualTo("2026-12-02T03:14:05.123457Z");
        clock.now = T0.plus(Duration.ofMinutes(30));
        assertThat(hlc.now()).isEqualTo("2026-12-02T03:24:05.123456Z");
        assertThat(saved).containsExactly(600_000_000L, -600_000_000L);
    }

    @Test
    void aClockContinuesAfterTheTimeItWasGivenAndKeepsItsCorrection() {
        HybridClock hlc = new HybridClock(Clock.fixed(T0, ZoneOffset.UTC), "2026-12-02T05:00:00.000000Z",
                Duration.ofSeconds(2), m -> { });

        assertThat(hlc.now()).isEqualTo("2026-12-02T05:00:00.000001Z");
        assertThat(hlc.correction()).isEqualTo(Duration.ofSeconds(2));
        HybridClock fresh = new HybridClock(Clock.fixed(T0, ZoneOffset.UTC), null, Duration.ofSeconds(2), m -> { });
        assertThat(fresh.now()).isEqualTo("2026-12-02T03:04:07.123456Z");
    }

    @Test
    void formatAndParseAgreeAndAnythingElseIsRefused() {
        Instant t = Instant.parse("2026-12-02T03:04:05.123456Z");
        assertThat(HybridClock.parse(HybridClock.format(t))).isEqualTo(t);
        assertThat(HybridClock.format(Instant.parse("2026-12-02T03:04:05Z"))).isEqualTo("2026-12-02T03:04:05.000000Z");
        assertThatThrownBy(() -> HybridClock.parse("yesterday")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("VSYNC-SYNC-005");
        assertThatThrownBy(() -> HybridClock.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
