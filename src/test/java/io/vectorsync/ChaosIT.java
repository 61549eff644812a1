package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.chaos.ChaosRun;
import org.junit.jupiter.api.Test;

/**
 * The chaos run of {@code bench/chaos.sh}, small: 20,000 chunk writes through the API and through
 * {@code vectorsync.enqueue}, 5 kills of the relay (SIGKILL and failpoint halts), one PostgreSQL restart,
 * a session idle in transaction for 15 s and poison events for the webhook, in a PostgreSQL cluster of its
 * own. Every backend must equal the primary chunk by chunk, no version may ever go back, every poison event
 * must be dead-lettered or superseded, and after the fix and a replay nothing may differ. The seed is
 * printed; rerun one with {@code -Dchaos.seed=...}. The relays' output is in {@code target/relay-logs/}.
 */
class ChaosIT {

    @Test
    void everyBackendEqualsThePrimaryAfterKillsRestartsFaultsAndPoison() throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        ChaosRun.Verdict v = ChaosRun.run(ChaosRun.Settings.ci(seed));
        System.out.println(v.table());

        assertThat(v.problems()).as("problems found by the chaos run (seed %d)", seed).isEmpty();
        for (String backend : new String[] {"replica", "remote", "hooks"}) {
            assertThat(v.figures().get(backend + ".differences")).as("%s differences after the replay", backend)
                    .isZero();
            assertThat(v.figures().get(backend + ".differencesBeforeReplayUnexplained"))
                    .as("%s differences before the replay that no dead letter explains", backend).isZero();
        }
        assertThat(v.figures().get("regressions")).as("version regressions").isZero();
        assertThat(v.figures().get("poison.refused")).as("poison events refused").isPositive();
        assertThat(v.figures().get("poison.unaccounted")).as("poison events unaccounted for").isZero();
        assertThat(v.figures().get("kills")).as("relay kills").isGreaterThanOrEqualTo(5);
        assertThat(v.figures().get("pgRestarts")).as("PostgreSQL restarts").isEqualTo(1);
    }
}
