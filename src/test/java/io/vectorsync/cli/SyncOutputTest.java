package io.vectorsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The text of {@code vectorsync sync …} without a device: durations, modes, the status page, a conflict. */
class SyncOutputTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void durationsAndModesReadAsAnOperatorSaysThem() throws Exception {
        assertThat(SyncCommands.span(Duration.ofSeconds(4))).isEqualTo("4 s");
        assertThat(SyncCommands.span(Duration.ofSeconds(-3))).isEqualTo("0 s");
        assertThat(SyncCommands.span(Duration.ofMinutes(3).plusSeconds(59))).isEqualTo("3 min");
        assertThat(SyncCommands.span(Duration.ofMinutes(125))).isEqualTo("2 h 5 min");
        assertThat(SyncCommands.span(Duration.ofHours(76))).isEqualTo("3 d 4 h");
        assertThat(SyncCommands.mode("OFFLINE")).isEqualTo("Offline");
        assertThat(SyncCommands.mode(null)).isEqualTo("-");
        assertThat(SyncCommands.ago(JSON.readTree("\"2026-12-02T03:00:00.000000Z\""),
                JSON.readTree("\"2026-12-02T03:02:30Z\""))).isEqualTo("2 min ago (2026-12-02T03:00:00Z)");
        assertThat(SyncCommands.ago(null, JSON.readTree("\"2026-12-02T03:02:30Z\""))).isEqualTo("never");
    }

    @Test
    void theStatusPageHasEverySectionAndNamesAProblem() throws Exception {
        StringWriter s = new StringWriter();
        SyncCommands.printStatus(JSON.readTree("""
                {"deviceId":"laptop","mode":"OFFLINE","enabled":true,"remoteConfigured":true,"lastSync":null,
                 "queue":{"depth":3,"pending":2,"failed":1,"oldestAgeSeconds":125.0},
                 "localToRemote":{"pending":2,"syncedToday":47,"failed":1},
                 "remoteToLocal":{"lastPull":null,"downloadedToday":12,"waiting":0},
                 "conflicts":{"total":0,"today":0},"resyncing":true,"lastError":"VSYNC-SYNC-001 connection refused",
                 "clockSkewSeconds":-2.5,"now":"2026-12-02T03:00:00Z"}"""), new PrintWriter(s));
        assertThat(s.toString().lines().toList()).containsSubsequence(
                "Sync status of device laptop",
                "  Mode:       Offline",
                "  Last Sync:  never",
                "  Queue:      3 items, oldest 2 min",
                "Local → Remote",
                "  Pending:          2",
                "  Synced today:     47",
                "  Failed:           1",
                "Remote → Local",
                "  Last pull:        never",
                "  Downloaded today: 12",
                "Re-syncing from a snapshot of the remote.",
                "Clock skew: -2.5 s against the remote",
                "Last error: VSYNC-SYNC-001 connection refused");
        assertThat(s.toString()).contains("problem: 1 failed entries");
    }

    @Test
    void aConflictShowsBothSidesTheResolutionAndWhereTheOriginalIs() throws Exception {
        StringWriter s = new StringWriter();
        SyncCommands.printConflict(JSON.readTree("""
                {"id":4,"chunkId":"c1","policy":"local-wins","winner":"local","reason":"base-version",
                 "local":{"version":3,"modifiedAt":"2026-12-02T03:04:05.000001Z","modifiedBy":"laptop","deleted":false,
                          "privacy":"FULL"},
                 "remote":{"version":4,"modifiedAt":"2026-12-02T03:04:06.000001Z","modifiedBy":"server","deleted":true,
                           "privacy":"REDACTED"},
                 "loserVersion":4,"loserFile":null,"detectedAt":"2026-12-02T03:05:00.000000Z"}"""), new PrintWriter(s));
        assertThat(s.toString().lines().toList()).containsExactly(
                "Conflict #4 on c1, detected 2026-12-02T03:05:00.000000Z",
                "  Local:      v3, modified 2026-12-02T03:04:05.000001Z by laptop",
                "  Remote:     v4 deleted, modified 2026-12-02T03:04:06.000001Z by server, REDACTED",
                "  Resolution: local wins (local-wins, base-version)",
                "  Original:   the remote version v4 is kept in the conflicts table (no file: preserve-original is off)");
    }
}
