package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Lag and stall arithmetic of {@link RelayStats.BackendStats}. */
class RelayStatsTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");

    private static RelayStats.BackendStats stats(long backlog, Instant oldestBacklog, long parked, Instant oldestParked,
            Instant lastProgress) {
        return new RelayStats.BackendStats("replica", true, backlog, oldestBacklog, parked, oldestParked, 0, false,
                false, 0, null, null, null, lastProgress, false, NOW, null);
    }

    @Test
    void caughtUpMeansNoLagAndNoStall() {
        RelayStats.BackendStats s = stats(0, null, 0, null, NOW.minusSeconds(3600));
        assertThat(s.lagSeconds()).isZero();
        assertThat(s.stalledSeconds()).isZero();
    }

    @Test
    void lagIsTheOldestOfBacklogAndParked() {
        assertThat(stats(2, NOW.minusSeconds(30), 1, NOW.minusSeconds(90), NOW).lagSeconds()).isEqualTo(90);
        assertThat(stats(2, NOW.minusSeconds(30), 0, null, NOW).lagSeconds()).isEqualTo(30);
        assertThat(stats(0, null, 1, NOW.minusSeconds(5), NOW).lagSeconds()).isEqualTo(5);
    }

    @Test
    void aNewEventAfterALongIdleIsNotAStall() {
        // The cursor last moved an hour ago, but the backlog only started two seconds ago.
        assertThat(stats(1, NOW.minusSeconds(2), 0, null, NOW.minusSeconds(3600)).stalledSeconds()).isEqualTo(2);
    }

    @Test
    void anOldBacklogStallsSinceTheLastProgress() {
        assertThat(stats(500, NOW.minusSeconds(600), 0, null, NOW.minusSeconds(120)).stalledSeconds()).isEqualTo(120);
    }

    @Test
    void parkedEventsAloneAreNotAStall() {
        assertThat(stats(0, null, 3, NOW.minusSeconds(600), NOW.minusSeconds(600)).stalledSeconds()).isZero();
    }
}
