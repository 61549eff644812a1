package io.vectorsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The CLI's commands; each calls the admin API and prints a table, or JSON with --json. */
final class Commands {

    private Commands() {}

    private static final String BACKEND_NAME = "[a-z][a-z0-9-]{0,62}";
    private static final long POLL_MILLIS = 500;

    static String backendName(String b) {
        if (b == null || !b.matches(BACKEND_NAME)) {
            throw new CliException(VectorsyncCli.EXIT_USAGE,
                    "A backend name is lowercase letters, digits and '-', starting with a letter: " + b);
        }
        return b;
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() || v.isMissingNode() ? null : v.isTextual() ? v.asText() : v.toString();
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(VectorsyncCli.EXIT_PROBLEMS, "Interrupted");
        }
    }

    /** The backends the service relays to, from its status. */
    static List<String> backends(VectorsyncCli root) {
        List<String> out = new ArrayList<>();
        root.client().get("admin/v1/status").path("backends").forEach(b -> out.add(b.path("backend").asText()));
        return out;
    }

    /** The circuit breaker's state, whether the status gives it as text or as an object with a state. */
    static String circuit(JsonNode b) {
        JsonNode c = b.get("circuit");
        if (c == null || c.isNull()) {
            return null;
        }
        return c.isObject() ? text(c, "state") : c.asText();
    }

    /**
     * What is wrong with a backend in the status answer (empty when nothing): a backoff, failures, an open
     * circuit, dead letters or alerts. Fields the service does not report are not judged.
     */
    static List<String> problems(JsonNode b) {
        List<String> p = new ArrayList<>();
        if (b.path("backingOff").asBoolean(false)) {
            p.add("backing off after failures");
        }
        int failures = b.path("consecutiveFailures").asInt(0);
        if (failures > 0) {
            p.add(failures + " consecutive failures");
        }
        String circuit = circuit(b);
        if (circuit != null && !circuit.equalsIgnoreCase("CLOSED") && !circuit.equalsIgnoreCase("DISABLED")) {
            p.add("circuit " + circuit);
        }
        if (b.path("alert").asBoolean(false)) {
            p.add("in alert");
        }
        long dead = b.path("deadLetters").asLong(0);
        if (dead > 0) {
            p.add(dead + " dead letters");
        }
        JsonNode alerts = b.get("alerts");
        if (alerts != null && alerts.isArray() && !alerts.isEmpty()) {
            p.add("alerts " + alerts);
        }
        for (String f : List.of("state", "health", "status")) {
            String v = text(b, f);
            if (v != null && List.of("DOWN", "FAILING", "ALERT", "HALTED").contains(v.toUpperCase(Locale.ROOT))) {
                p.add(f + " " + v);
            }
        }
        return p;
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Per backend: paused, backoff, backlog, lag, circuit, lease, backfill."
            + " Exits 1 when a backend is failing or in alert.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Override
        public Integer call() {
            JsonNode status = root.client().get("admin/v1/status");
            boolean problem = false;
            List<String> notes = new ArrayList<>();
            for (JsonNode b : status.path("backends")) {
                List<String> p = problems(b);
                if (!p.isEmpty()) {
                    problem = true;
                    notes.add(b.path("backend").asText() + ": " + String.join(", ", p));
                }
            }
            if (root.json) {
                root.printJson(status);
                return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
            }
            Table t = new Table("BACKEND", "STATE", "BACKLOG", "LAG(S)", "PARKED", "DEAD", "CIRCUIT", "FAILURES",
                    "LEASE", "BACKFILL", "LAST ERROR");
            for (JsonNode b : status.path("backends")) {
                String state = b.path("paused").asBoolean() ? "paused"
                        : b.path("backingOff").asBoolean() ? "backing-off"
                        : problems(b).isEmpty() ? "ok" : "failing";
                JsonNode bf = b.path("backfill");
                String backfill = bf.path("running").asBoolean(false)
                        ? bf.path("copied").asLong() + "/" + (bf.hasNonNull("total") ? bf.path("total").asLong() : "?")
                        : "-";
                t.row(b.path("backend").asText(), state, text(b, "backlog"), text(b, "lagSeconds"), text(b, "parked"),
                        text(b, "deadLetters"), circuit(b), b.path("consecutiveFailures").asInt(0),
                        text(b, "leaseOwner"), backfill, text(b, "lastError"));
            }
            t.print(root.out());
            notes.forEach(n -> root.out().println("problem: " + n));
            return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "queue", mixinStandardHelpOptions = true, description = "Waiting events: failed (dead letters), parked and pending, with attempts"
            + " and last error. Exits 1 when any event is parked or failed.")
    static final class Queue implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Option(names = "--errors", description = "Only events with an error (parked and failed).")
        boolean errors;

        @Option(names = "--backend", paramLabel = "B", description = "Only this backend.")
        String backend;

        @Option(names = "--status", paramLabel = "S", description = "Only PENDING, PARKED or FAILED events.")
        String status;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
                description = "At most N events (1 to 10000, default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            StringBuilder q = new StringBuilder("admin/v1/queue?limit=").append(limit);
            if (errors) {
                q.append("&errorsOnly=true");
            }
            if (backend != null) {
                q.append("&backend=").append(backendName(backend));
            }
            if (status != null) {
                String s = status.toUpperCase(Locale.ROOT);
                if (!List.of("PENDING", "PARKED", "FAILED").contains(s)) {
                    throw new CliException(VectorsyncCli.EXIT_USAGE, "--status must be PENDING, PARKED or FAILED");
                }
                q.append("&status=").append(s);
            }
            JsonNode answer = root.client().get(q.toString());
            // Problems are parked or failed events among what was asked for.
            String only = status == null ? null : status.toUpperCase(Locale.ROOT);
            boolean problem = false;
            for (JsonNode c : answer.path("counts")) {
                long parked = only == null || only.equals("PARKED") ? c.path("parked").asLong() : 0;
                long failed = only == null || only.equals("FAILED") ? c.path("failed").asLong() : 0;
                problem |= parked + failed > 0;
            }
            if (root.json) {
                root.printJson(answer);
                return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
            }
            Table counts = new Table("BACKEND", "PENDING", "PARKED", "FAILED");
            for (JsonNode c : answer.path("counts")) {
                counts.row(c.path("backend").asText(),
                        c.path("pending").asLong() + (c.path("pendingCapped").asBoolean() ? "+" : ""),
                        c.path("parked").asLong(), c.path("failed").asLong());
            }
            counts.print(root.out());
            Table events = new Table("STATUS", "BACKEND", "CHUNK", "VERSION", "TYPE", "EVENT", "ATTEMPTS",
                    "NEXT ATTEMPT", "DEAD LETTER", "LAST ERROR");
            for (JsonNode e : answer.path("events")) {
                events.row(text(e, "status"), text(e, "backend"), text(e, "chunkId"), text(e, "version"),
                        text(e, "type"), text(e, "eventId"), text(e, "attempts"), text(e, "nextAttemptAt"),
                        text(e, "deadLetterId"), text(e, "lastError"));
            }
            root.out().println();
            if (events.isEmpty()) {
                root.out().println(errors ? "No event with an error." : "Nothing waiting.");
            } else {
                events.print(root.out());
                if (answer.path("truncated").asBoolean()) {
                    root.out().println("(more events wait; raise --limit or filter with --backend/--status)");
                }
            }
            return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "now", mixinStandardHelpOptions = true, description = "Sync now: end every backoff and wake every relay.")
    static final class Now implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Override
        public Integer call() {
            JsonNode answer = root.client().post("admin/v1/sync-now").body();
            if (root.json) {
                root.printJson(answer);
            } else {
                List<String> woken = new ArrayList<>();
                answer.path("woken").forEach(b -> woken.add(b.asText()));
                root.out().println("Woke the relays of: " + String.join(", ", woken));
            }
            return VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "retry", mixinStandardHelpOptions = true, description = "Retry parked events now (and end the backends' backoff).")
    static final class Retry implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Option(names = "--force", description = "Also give them a fresh attempt budget.")
        boolean force;

        @Option(names = "--backend", paramLabel = "B", description = "Only this backend.")
        String backend;

        @Override
        public Integer call() {
            String q = "admin/v1/retry?force=" + force + (backend == null ? "" : "&backend=" + backendName(backend));
            JsonNode answer = root.client().post(q).body();
            if (root.json) {
                root.printJson(answer);
            } else {
                Table t = new Table("BACKEND", "RETRIED");
                answer.path("backends").fields().forEachRemaining(f -> t.row(f.getKey(), f.getValue().asInt()));
                t.print(root.out());
                root.out().println(answer.path("retried").asInt() + " parked events due now"
                        + (force ? ", attempts reset" : ""));
            }
            return VectorsyncCli.EXIT_OK;
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true, description = "Replay the open dead letters (of one backend or all): each is parked"
            + " again for delivery now; the ledger still keeps an older version from overwriting a newer one.")
    static final class Replay implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Option(names = "--backend", paramLabel = "B", description = "Only this backend's dead letters.")
        String backend;

        @Option(names = "--dry-run", description = "List what would be replayed; change nothing.")
        boolean dryRun;

        private static final int PAGE = 10000;

        @Override
        public Integer call() {
            String list = "admin/v1/dead-letters?limit=" + PAGE
                    + (backend == null ? "" : "&backend=" + backendName(backend));
            if (backend != null) {
                // An unknown backend is an error, not an empty list.
                root.client().get("admin/v1/queue?limit=1&status=FAILED&backend=" + backend);
            }
            JsonNode letters = root.client().get(list).path("deadLetters");
            if (dryRun) {
                if (root.json) {
                    ObjectNode o = root.mapper.createObjectNode();
                    o.put("dryRun", true);
                    o.put("wouldReplay", letters.size());
                    o.set("deadLetters", letters);
                    root.printJson(o);
                } else {
                    printLetters(letters);
                    root.out().println("Would replay " + letters.size() + " dead letters (dry run: nothing changed).");
                }
                return VectorsyncCli.EXIT_OK;
            }
            int replayed = 0;
            int gone = 0;
            ArrayNode ids = root.mapper.createArrayNode();
            ProgressBar bar = root.progress("replay");
            while (letters.size() > 0) {
                int total = letters.size();
                int done = 0;
                for (JsonNode d : letters) {
                    long id = d.path("id").asLong();
                    try {
                        root.client().post("admin/v1/dead-letters/" + id + "/replay");
                        replayed++;
                        ids.add(id);
                    } catch (CliException e) {
                        if (e.exitCode() != VectorsyncCli.EXIT_USAGE) {
                            bar.finish();
                            throw e;
                        }
                        gone++; // replayed or discarded meanwhile (404)
                    }
                    bar.update(++done, total);
                }
                if (total < PAGE) {
                    break;
                }
                letters = root.client().get(list).path("deadLetters");
            }
            bar.finish();
            if (root.json) {
                ObjectNode o = root.mapper.createObjectNode();
                o.put("replayed", replayed);
                o.put("alreadyClosed", gone);
                o.set("ids", ids);
                root.printJson(o);
            } else {
                root.out().println("Replayed " + replayed + " dead letters"
                        + (gone > 0 ? " (" + gone + " were replayed or discarded meanwhile)" : "") + ".");
            }
            return VectorsyncCli.EXIT_OK;
        }

        private void printLetters(JsonNode letters) {
            Table t = new Table("ID", "BACKEND", "CHUNK", "VERSION", "TYPE", "ATTEMPTS", "CLASS", "LAST ERROR");
            for (JsonNode d : letters) {
                t.row(text(d, "id"), text(d, "backend"), text(d, "chunkId"), text(d, "version"), text(d, "type"),
                        text(d, "attempts"), text(d, "errorClass"), text(d, "lastError"));
            }
            if (!t.isEmpty()) {
                t.print(root.out());
            }
        }
    }

    private static Integer pauseOrResume(VectorsyncCli root, String verb, String backend) {
        String path = backend == null ? "admin/v1/" + verb : "admin/v1/backends/" + backendName(backend) + "/" + verb;
        JsonNode answer = root.client().post(path).body();
        if (root.json) {
            root.printJson(answer);
            return VectorsyncCli.EXIT_OK;
        }
        Table t = new Table("BACKEND", "PAUSED");
        if (answer.has("backends")) {
            answer.path("backends").forEach(b -> t.row(b.path("backend").asText(), b.path("paused").asBoolean()));
        } else {
            t.row(answer.path("backend").asText(), answer.path("paused").asBoolean());
        }
        t.print(root.out());
        return VectorsyncCli.EXIT_OK;
    }

    @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause one backend's relay, or every backend's (kept in the database).")
    static final class Pause implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Parameters(arity = "0..1", paramLabel = "B", description = "The backend; all when absent.")
        String backend;

        @Override
        public Integer call() {
            return pauseOrResume(root, "pause", backend);
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume one backend's relay, or every backend's, and wake them.")
    static final class Resume implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Parameters(arity = "0..1", paramLabel = "B", description = "The backend; all when absent.")
        String backend;

        @Override
        public Integer call() {
            return pauseOrResume(root, "resume", backend);
        }
    }

    @Command(name = "backfill", mixinStandardHelpOptions = true, description = "(Re)start a backfill of the backend: every live chunk is written"
            + " again (ADR 010), and the CLI waits for it to finish.")
    static final class Backfill implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Parameters(arity = "1", paramLabel = "B", description = "The backend.")
        String backend;

        @Option(names = "--no-wait", description = "Return once it started; follow it with 'status'.")
        boolean noWait;

        @Option(names = "--wait-timeout", paramLabel = "SECONDS", defaultValue = "0",
                description = "Give up waiting after this long (exit 1); 0 waits as long as it takes.")
        long waitTimeout;

        @Override
        public Integer call() {
            AdminClient.Answer answer = root.client().post("admin/v1/backends/" + backendName(backend) + "/backfill");
            JsonNode started = answer.body();
            JsonNode job = started.path("job");
            if (noWait || started.path("paused").asBoolean(false)) {
                if (root.json) {
                    root.printJson(started);
                } else {
                    root.out().println("Backfill of " + backend + " queued as job " + job.path("id").asText() + "."
                            + (started.path("paused").asBoolean(false)
                                    ? " The backend is paused: it runs once resumed ('vectorsync resume " + backend + "')."
                                    : ""));
                }
                return VectorsyncCli.EXIT_OK;
            }
            String location = answer.location() != null ? answer.location() : started.path("progress").asText();
            String path = location.startsWith("/") ? location.substring(1) : location;
            long deadline = waitTimeout > 0 ? System.nanoTime() + waitTimeout * 1_000_000_000L : Long.MAX_VALUE;
            ProgressBar bar = root.progress("backfill " + backend);
            while (!Verify.finished(job)) {
                if (System.nanoTime() - deadline > 0) {
                    bar.finish();
                    throw new CliException(VectorsyncCli.EXIT_PROBLEMS, "The backfill of " + backend
                            + " still runs after " + waitTimeout + " s (" + job.path("progress").path("done").asLong()
                            + " of " + job.path("progress").path("total").asLong() + " copied); follow it with"
                            + " 'vectorsync status'.");
                }
                pause(POLL_MILLIS);
                job = root.client().get(path);
                bar.update(job.path("progress").path("done").asLong(), job.path("progress").path("total").asLong());
            }
            bar.finish();
            if (!"SUCCEEDED".equals(job.path("status").asText())) {
                throw new CliException(VectorsyncCli.EXIT_PROBLEMS, "The backfill of " + backend + " ended "
                        + job.path("status").asText() + ": " + job.path("error").asText("no error recorded"));
            }
            JsonNode b = find(root.client().get("admin/v1/status"), backend);
            JsonNode last = b == null ? root.mapper.createObjectNode() : b.path("backfill");
            if (root.json) {
                ObjectNode o = root.mapper.createObjectNode();
                o.put("backend", backend);
                o.set("backfill", last);
                root.printJson(o);
            } else {
                root.out().println("Backfill of " + backend + " finished: " + last.path("copied").asLong()
                        + " chunks copied (" + last.path("total").asLong() + " live when it started).");
            }
            return VectorsyncCli.EXIT_OK;
        }

        private static JsonNode find(JsonNode status, String backend) {
            for (JsonNode b : status.path("backends")) {
                if (backend.equals(b.path("backend").asText())) {
                    return b;
                }
            }
            return null;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Compare backends with the primary (counts, checksums, then chunk by"
            + " chunk); --repair re-enqueues what differs. Exits 1 when differences were found.")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        VectorsyncCli root;

        @Option(names = "--backend", paramLabel = "B", description = "Only this backend; each in turn when absent.")
        String backend;

        @Option(names = "--repair", description = "Re-enqueue the differing chunks.")
        boolean repair;

        @Override
        public Integer call() {
            List<String> names = backend != null ? List.of(backendName(backend)) : backends(root);
            ArrayNode jobs = root.mapper.createArrayNode();
            boolean problem = false;
            for (String b : names) {
                JsonNode job;
                try {
                    job = run(b);
                } catch (CliException e) {
                    // Each backend in turn: one listed by status but not enabled (a kept cursor) is skipped.
                    if (backend != null || !e.getMessage().contains("VSYNC-BACKEND-NOT-FOUND")) {
                        throw e;
                    }
                    root.err().println("vectorsync: skipping " + b + ": not an enabled backend");
                    continue;
                }
                jobs.add(job);
                String status = job.path("status").asText();
                if (!"SUCCEEDED".equals(status)) {
                    problem = true;
                } else if (differences(job.path("result")) > 0) {
                    problem = true;
                }
            }
            if (root.json) {
                ObjectNode o = root.mapper.createObjectNode();
                o.set("jobs", jobs);
                root.printJson(o);
            } else {
                Table t = new Table("BACKEND", "STATUS", "PRIMARY", "BACKEND-COUNT", "MISSING", "EXTRA", "STALE",
                        "CORRUPT", "REPAIRED");
                for (JsonNode j : jobs) {
                    JsonNode r = j.path("result");
                    t.row(r.hasNonNull("backend") ? r.path("backend").asText() : text(j, "backend"),
                            j.path("status").asText(), text(r, "primaryCount"), text(r, "backendCount"),
                            text(r, "missing"), text(r, "extra"), text(r, "stale"), text(r, "corrupt"),
                            text(r, "repaired"));
                }
                t.print(root.out());
                for (JsonNode j : jobs) {
                    if (j.hasNonNull("error")) {
                        root.out().println(j.path("backend").asText(j.path("id").asText()) + ": failed: "
                                + j.path("error").asText());
                    }
                    JsonNode samples = j.path("result").path("samples");
                    samples.fields().forEachRemaining(f -> {
                        if (f.getValue().isArray() && !f.getValue().isEmpty()) {
                            root.out().println(j.path("result").path("backend").asText() + " " + f.getKey()
                                    + " (sample): " + f.getValue());
                        }
                    });
                    JsonNode links = j.path("result").path("links");
                    if (links.isObject()) {
                        String b = j.path("result").path("backend").asText();
                        root.out().println(b + " links: " + text(links, "primaryCount") + " primary, "
                                + text(links, "backendCount") + " in the backend, " + text(links, "missing")
                                + " missing, " + text(links, "extra") + " extra, " + text(links, "stale") + " stale, "
                                + text(links, "corrupt") + " corrupt, " + text(links, "unreadable") + " unreadable");
                        links.path("samples").fields().forEachRemaining(f -> {
                            if (f.getValue().isArray() && !f.getValue().isEmpty()) {
                                root.out().println(b + " links " + f.getKey() + " (sample): " + f.getValue());
                            }
                        });
                    }
                }
            }
            return problem ? VectorsyncCli.EXIT_PROBLEMS : VectorsyncCli.EXIT_OK;
        }

        private JsonNode run(String b) {
            AdminClient.Answer started = root.client().post("admin/v1/backends/" + b + "/verify?repair=" + repair);
            JsonNode job = started.body();
            String id = job.path("id").asText();
            String location = started.location() != null ? started.location() : "/admin/v1/jobs/" + id;
            String path = location.startsWith("/") ? location.substring(1) : location;
            ProgressBar bar = root.progress("verify " + b);
            while (!finished(job)) {
                pause(POLL_MILLIS);
                job = root.client().get(path);
                bar.update(job.path("progress").path("done").asLong(), job.path("progress").path("total").asLong());
            }
            bar.finish();
            if (job instanceof ObjectNode o && !o.has("backend")) {
                o.put("backend", b);
            }
            return job;
        }

        /** Finished: the legacy status names of {@code GET /admin/v1/jobs/{id}}. */
        static boolean finished(JsonNode job) {
            String s = job.path("status").asText();
            return "SUCCEEDED".equals(s) || "FAILED".equals(s) || "CANCELLED".equals(s);
        }

        /** The chunks that differ, and the edges that differ for a backend that holds them ({@code links}). */
        static long differences(JsonNode result) {
            return counted(result) + counted(result.path("links"));
        }

        private static long counted(JsonNode r) {
            return r.path("missing").asLong() + r.path("extra").asLong() + r.path("stale").asLong()
                    + r.path("corrupt").asLong() + r.path("unreadable").asLong();
        }
    }
}
