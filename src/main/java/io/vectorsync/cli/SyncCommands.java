package io.vectorsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vectorsync sync …}: a device's sync with the remote, through {@code /admin/v1/sync/…} (the device's
 * admin API, same {@code --url}, token and {@code --json} as every command).
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "A device's sync with the remote PostgreSQL (run against a device: the local profile).",
        subcommands = {SyncCommands.Status.class, SyncCommands.Now.class, SyncCommands.Retry.class,
                SyncCommands.Pause.class, SyncCommands.Resume.class, SyncCommands.Queue.class,
                SyncCommands.Conflicts.class})
final class SyncCommands implements Callable<Integer> {

    static final String BASE = "admin/v1/sync/";

    @ParentCommand
    VectorsyncCli root;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return VectorsyncCli.EXIT_USAGE;
    }

    /** GET of a sync path; a server (which has none) is named as the likely mistake. */
    static JsonNode get(VectorsyncCli root, String path) {
        try {
            return root.client().get(BASE + path);
        } catch (CliException e) {
            throw notADevice(e);
        }
    }

    /** POST of a sync path, as {@link #get}. */
    static JsonNode post(VectorsyncCli root, String path) {
        try {
            return root.client().post(BASE + path).body();
        } catch (CliException e) {
            throw notADevice(e);
        }
    }

    private static CliException notADevice(CliException e) {
        if (e.exitCode() == VectorsyncCli.EXIT_USAGE && e.getMessage().contains("VSYNC-NOT-FOUND")) {
            return new CliException(e.exitCode(), e.getMessage() + " Is --url a device? The sync commands need a"
                    + " vectorsync started with --spring.profiles.active=local.");
        }
        return e;
    }

    /** ONLINE as "Online". */
    static String mode(String m) {
        if (m == null || m.isEmpty()) {
            return "-";
        }
        return m.charAt(0) + m.substring(1).toLowerCase(Locale.ROOT);
    }

    /** A time of the answer, with how long ago it was by the device's clock ({@code now}): "12 s ago (…)". */
    static String ago(JsonNode time, JsonNode now) {
        Instant t = instant(time);
        if (t == null) {
            return "never";
        }
        Instant n = instant(now);
        return n == null ? t.toString() : span(Duration.between(t, n)) + " ago (" + t + ")";
    }

    /** A duration as an operator reads it: "4 s", "3 min", "2 h 5 min", "3 d 4 h". */
    static String span(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min";
        }
        if (s < 86400) {
            return s / 3600 + " h " + s % 3600 / 60 + " min";
        }
        return s / 86400 + " d " + s % 86400 / 3600 + " h";
    }

    private static Instant instant(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        try {
            return n.isNumber() ? Instant.ofEpochMilli((long) (n.asDouble() * 1000)) : Instant.parse(n.asText());
        } catch (DateTimeParseException unreadable) {
            return null;
        }
    }

    /** The lines {@code sync status} prints. */
    static void printStatus(JsonNode s, java.io.PrintWriter out) {
        JsonNode now = s.get("now");
        JsonNode q = s.path("queue");
        JsonNode up = s.path("localToRemote");
        JsonNode down = s.path("remoteToLocal");
        out.println("Sync status" + (s.hasNonNull("deviceId") ? " of device " + s.get("deviceId").asText() : ""));
        out.println("  Mode:       " + mode(Commands.text(s, "mode"))
                + (s.path("enabled").asBoolean(true) ? "" : " (sync disabled)")
                + (s.path("remoteConfigured").asBoolean(true) ? "" : " (no remote configured)"));
        out.println("  Last Sync:  " + ago(s.get("lastSync"), now));
        long depth = q.path("depth").asLong();
        out.println("  Queue:      " + depth + (depth == 1 ? " item" : " items")
                + (depth == 0 ? "" : ", oldest " + span(Duration.ofMillis((long) (q.path("oldestAgeSeconds")
                        .asDouble() * 1000)))));
        out.println();
        out.println("Local → Remote");
        out.println("  Pending:          " + up.path("pending").asLong());
        out.println("  Synced today:     " + up.path("syncedToday").asLong());
        out.println("  Failed:           " + up.path("failed").asLong());
        out.println();
        out.println("Remote → Local");
        out.println("  Last pull:        " + ago(down.get("lastPull"), now));
        out.println("  Downloaded today: " + down.path("downloadedToday").asLong());
        if (down.path("waiting").asLong() > 0) {
            out.println("  Waiting:          " + down.path("waiting").asLong() + " (for a pending upload of the chunk)");
        }
        JsonNode c = s.path("conflicts");
        if (c.path("total").asLong() > 0) {
            out.println();
            out.println("Conflicts: " + c.path("total").asLong() + " (" + c.path("today").asLong()
                    + " today); see 'vectorsync sync conflicts'");
        }
        if (s.path("resyncing").asBoolean()) {
            out.println("Re-syncing from a snapshot of the remote.");
        }
        double skew = s.path("clockSkewSeconds").asDouble();
        if (Math.abs(skew) >= 1) {
            out.println(String.format(Locale.ROOT, "Clock skew: %+.1f s against the remote", skew));
        }
        if (s.hasNonNull("lastError")) {
            out.println("Last error: " + s.get("lastError").asText());
        }
        if (up.path("failed").asLong() > 0) {
            out.println("problem: " + up.path("failed").asLong()
                    + " failed entries; see 'vectorsync sync queue --errors', retry with 'vectorsync sync retry'");
        }
        out.flush();
    }

    /** One conflict as {@code sync conflicts} prints it. */
    static void printConflict(JsonNode c, java.io.PrintWriter out) {
        out.println("Conflict #" + c.path("id").asLong() + " on " + c.path("chunkId").asText() + ", detected "
                + c.path("detectedAt").asText("-"));
        out.println("  Local:      " + side(c.get("local")));
        out.println("  Remote:     " + side(c.get("remote")));
        out.println("  Resolution: " + c.path("winner").asText("?") + " wins (" + c.path("policy").asText("?")
                + ", " + c.path("reason").asText("?") + ")");
        String loser = c.path("winner").asText().equals("local") ? "remote" : "local";
        String kept = c.hasNonNull("loserFile") ? c.get("loserFile").asText() : null;
        out.println("  Original:   the " + loser + " version"
                + (c.hasNonNull("loserVersion") ? " v" + c.get("loserVersion").asLong() : "")
                + (kept != null ? " is kept in " + kept + " and in the conflicts table"
                        : " is kept in the conflicts table (no file: preserve-original is off)"));
    }

    private static String side(JsonNode s) {
        if (s == null || s.isNull()) {
            return "-";
        }
        StringBuilder b = new StringBuilder(s.hasNonNull("version") ? "v" + s.get("version").asLong() : "v?");
        b.append(s.path("deleted").asBoolean() ? " deleted" : "");
        b.append(", modified ").append(s.path("modifiedAt").asText("-"));
        b.append(" by ").append(s.path("modifiedBy").asText("-"));
        if (s.hasNonNull("privacy") && !"FULL".equals(s.get("privacy").asText())) {
            b.append(", ").append(s.get("privacy").asText());
        }
        return b.toString();
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Mode, last sync, queue, Local→Remote and Remote→Local. Exits 1 when entries failed.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Override
        public Integer call() {
            VectorsyncCli root = sync.root;
            JsonNode s = get(root, "status");
            if (root.json) {
                root.printJson(s);
            } else {
                printStatus(s, root.out());
            }
            return s.path("localToRemote").path("failed").asLong() > 0 ? VectorsyncCli.EXIT_PROBLEMS
                    : VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "now", mixinStandardHelpOptions = true,
            description = "Sync both ways now and wait; prints what was uploaded and downloaded. Exits 1 when the"
                    + " round could not complete (remote unreachable, or the wait ran out).")
    static final class Now implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Override
        public Integer call() {
            VectorsyncCli root = sync.root;
            // The device waits a little less than the HTTP request may take, so its answer arrives.
            int wait = Math.max(1, Math.min(300, root.timeoutSeconds - 2));
            JsonNode r = post(root, "now?timeoutSeconds=" + wait);
            boolean complete = r.path("complete").asBoolean();
            if (root.json) {
                root.printJson(r);
            } else {
                java.io.PrintWriter out = root.out();
                out.println("Uploaded:   " + r.path("uploaded").asInt());
                out.println("Downloaded: " + r.path("downloaded").asInt());
                if (r.path("conflicts").asInt() > 0) {
                    out.println("Conflicts:  " + r.path("conflicts").asInt() + " (see 'vectorsync sync conflicts')");
                }
                if (r.path("failed").asInt() > 0) {
                    out.println("Failed:     " + r.path("failed").asInt() + " (see 'vectorsync sync queue --errors')");
                }
                if (!complete) {
                    out.println("Not complete: " + r.path("reason").asText("the wait of " + wait + " s ran out")
                            + " (mode " + mode(Commands.text(r, "mode")) + "); what is left stays queued.");
                }
            }
            return complete ? VectorsyncCli.EXIT_OK : VectorsyncCli.EXIT_PROBLEMS;
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Upload the failed entries again now (attempts reset), a ✓ or ✗ line each. Exits 1 when one"
                    + " still fails.")
    static final class Retry implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Option(names = "--force", description = "Also the pending entries waiting for their backoff.")
        boolean force;

        @Override
        public Integer call() {
            VectorsyncCli root = sync.root;
            JsonNode r = post(root, "retry?force=" + force);
            int failed = r.path("failed").asInt();
            if (root.json) {
                root.printJson(r);
            } else {
                java.io.PrintWriter out = root.out();
                for (JsonNode i : r.path("items")) {
                    String what = i.path("chunkId").asText() + " (entry " + i.path("entryId").asLong() + ")";
                    if (i.path("ok").asBoolean()) {
                        out.println("✓ " + what);
                    } else {
                        out.println("✗ " + what + ": " + (i.hasNonNull("code") ? i.get("code").asText() + " " : "")
                                + i.path("error").asText("failed"));
                    }
                }
                int ok = r.path("ok").asInt();
                out.println(ok + failed == 0 ? "Nothing to retry." : ok + failed + " retried: " + ok + " ok, " + failed
                        + " failed");
            }
            return failed > 0 ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
        }
    }

    private static Integer pauseOrResume(SyncCommands sync, String verb) {
        VectorsyncCli root = sync.root;
        JsonNode r = post(root, verb);
        if (root.json) {
            root.printJson(r);
        } else {
            root.out().println((r.path("paused").asBoolean() ? "Sync paused" : "Sync resumed") + "; mode "
                    + mode(Commands.text(r, "mode")) + ".");
        }
        return VectorsyncCli.EXIT_OK;
    }

    @Command(name = "pause", mixinStandardHelpOptions = true,
            description = "Pause both directions (local writes still succeed and queue); kept across restarts.")
    static final class Pause implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Override
        public Integer call() {
            return pauseOrResume(sync, "pause");
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume the sync; the queue drains.")
    static final class Resume implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Override
        public Integer call() {
            return pauseOrResume(sync, "resume");
        }
    }

    @Command(name = "queue", mixinStandardHelpOptions = true,
            description = "Local entries not yet on the remote: item, status, retries, last error. Exits 1 when one"
                    + " failed.")
    static final class Queue implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Option(names = "--errors", description = "Only failed entries and entries with an error.")
        boolean errors;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N entries (1 to 10000, default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            VectorsyncCli root = sync.root;
            JsonNode q = get(root, "queue?errors=" + errors + "&limit=" + limit);
            boolean problem = q.path("failed").asLong() > 0;
            if (root.json) {
                root.printJson(q);
                return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
            }
            java.io.PrintWriter out = root.out();
            out.println(q.path("pending").asLong() + " pending, " + q.path("failed").asLong() + " failed");
            Table t = new Table("ID", "ITEM", "OP", "STATUS", "RETRIES", "NEXT ATTEMPT", "LAST ERROR");
            for (JsonNode e : q.path("entries")) {
                String error = e.hasNonNull("lastCode") ? e.get("lastCode").asText()
                        + (e.hasNonNull("lastError") ? " " + e.get("lastError").asText() : "") : Commands.text(e,
                        "lastError");
                t.row(e.path("id").asLong(), e.path("chunkId").asText(), e.path("op").asText(),
                        e.path("status").asText(), e.path("retries").asInt(), Commands.text(e, "nextAttemptAt"), error);
            }
            out.println();
            if (t.isEmpty()) {
                out.println(errors ? "No entry with an error." : "Nothing waiting: everything is on the remote.");
            } else {
                t.print(out);
                if (q.path("truncated").asBoolean()) {
                    out.println("(more entries wait; raise --limit)");
                }
            }
            out.flush();
            return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "conflicts", mixinStandardHelpOptions = true,
            description = "Each conflict, newest first: both versions and their times, the resolution, and where the"
                    + " original is kept.")
    static final class Conflicts implements Callable<Integer> {
        @ParentCommand
        SyncCommands sync;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N conflicts (1 to 10000, default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            VectorsyncCli root = sync.root;
            JsonNode r = get(root, "conflicts?limit=" + limit);
            if (root.json) {
                root.printJson(r);
                return VectorsyncCli.EXIT_OK;
            }
            java.io.PrintWriter out = root.out();
            if (r.path("conflicts").isEmpty()) {
                out.println("No conflicts.");
            }
            boolean first = true;
            for (JsonNode c : r.path("conflicts")) {
                if (!first) {
                    out.println();
                }
                first = false;
                printConflict(c, out);
            }
            if (r.path("truncated").asBoolean()) {
                out.println();
                out.println("(" + r.path("total").asLong() + " in all; raise --limit)");
            }
            out.flush();
            return VectorsyncCli.EXIT_OK;
        }
    }
}
