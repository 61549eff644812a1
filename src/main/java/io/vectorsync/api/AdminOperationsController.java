package io.vectorsync.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.jobs.Enqueued;
import io.vectorsync.jobs.JobRequest;
import io.vectorsync.jobs.JobSubmission;
import io.vectorsync.jobs.OperatorRuns;
import io.vectorsync.relay.CursorRepository;
import io.vectorsync.relay.CursorState;
import io.vectorsync.relay.PauseControl;
import io.vectorsync.relay.RelayPoller;
import io.vectorsync.relay.RelayQueue;
import io.vectorsync.relay.RelayWakeup;
import io.vectorsync.verify.VerifyController;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The admin API's operations: the queue of waiting events, pause and resume (kept in
 * {@code relay_cursor.paused}), retrying parked events now, and (re)starting a backend's backfill.
 */
@RestController
@RequestMapping(path = "/admin/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "admin", description = "Operating the relay (needs the admin credentials)")
@io.vectorsync.config.ServerOnly
public class AdminOperationsController {

    private static final Set<String> STATUSES = Set.of("PENDING", "PARKED", "FAILED");

    private final BackendRegistry backends;
    private final CursorRepository cursors;
    private final RelayQueue queue;
    private final PauseControl pauses;
    private final JobSubmission submission;
    private final ObjectMapper json;
    private final RelayPoller poller;
    private final RelayWakeup wakeup;

    public AdminOperationsController(BackendRegistry backends, CursorRepository cursors, RelayQueue queue,
            PauseControl pauses, JobSubmission submission, ObjectMapper json, RelayPoller poller, RelayWakeup wakeup) {
        this.backends = backends;
        this.cursors = cursors;
        this.queue = queue;
        this.pauses = pauses;
        this.submission = submission;
        this.json = json;
        this.poller = poller;
        this.wakeup = wakeup;
    }

    /** The waiting events and the counts per backend; {@code truncated} when {@code limit} cut the list. */
    public record Queue(List<RelayQueue.Counts> counts, List<RelayQueue.Entry> events, boolean truncated) {}

    /** Whether a backend's relay is paused. */
    public record BackendPause(String backend, boolean paused) {}

    /** Every backend's pause. */
    public record Pauses(List<BackendPause> backends) {}

    /** How many parked events were made due, in all and per backend. */
    public record Retried(int retried, boolean force, Map<String, Integer> backends) {}

    /**
     * A (re)started backfill: its BACKFILL job (in the admin API's earlier job shape) and where to follow it;
     * {@code paused}: the backend is paused, so the backfill runs once it is resumed.
     */
    public record BackfillStarted(String backend, boolean paused, VerifyController.JobView job, String progress) {}

    @Operation(summary = "Waiting events per backend",
            description = "Open dead letters (FAILED), parked events (PARKED) and events after the cursor (PENDING),"
                    + " in that order, at most `limit` in all, with attempts, next attempt and last error (never"
                    + " payloads), and the counts per backend (pending counted up to 100000).")
    @GetMapping("/queue")
    public Queue queue(
            @Parameter(description = "only this backend") @RequestParam(name = "backend", required = false)
            String backend,
            @Parameter(description = "PENDING, PARKED or FAILED; all when absent")
            @RequestParam(name = "status", required = false) String status,
            @Parameter(description = "1 to 10000") @RequestParam(name = "limit", defaultValue = "100") int limit,
            @Parameter(description = "only events with an error (parked and failed)")
            @RequestParam(name = "errorsOnly", defaultValue = "false") boolean errorsOnly) {
        if (limit < 1 || limit > 10000) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to 10000", "limit is out of range.");
        }
        String wanted = null;
        if (status != null && !status.isBlank()) {
            wanted = status.trim().toUpperCase(Locale.ROOT);
            if (!STATUSES.contains(wanted)) {
                throw new CaptureException(400, "VSYNC-STATUS-INVALID", "status", "PENDING, PARKED or FAILED",
                        "status is not one of the queue's states.");
            }
        }
        List<String> names = backend == null || backend.isBlank() ? List.copyOf(backends.all().keySet())
                : List.of(known(backend));
        List<RelayQueue.Counts> counts = new ArrayList<>();
        List<RelayQueue.Entry> entries = new ArrayList<>();
        long selected = 0;
        for (String b : names) {
            CursorState c = cursors.read(b).orElse(null);
            RelayQueue.Counts n = queue.counts(b, c);
            counts.add(n);
            boolean failed = wanted == null || wanted.equals("FAILED");
            boolean parked = wanted == null || wanted.equals("PARKED");
            boolean pending = !errorsOnly && c != null && (wanted == null || wanted.equals("PENDING"));
            if (failed) {
                selected += n.failed();
                take(entries, limit, left -> queue.failed(b, left));
            }
            if (parked) {
                selected += n.parked();
                take(entries, limit, left -> queue.parked(b, left));
            }
            if (pending) {
                selected += n.pending();
                take(entries, limit, left -> queue.pending(c, left));
            }
        }
        return new Queue(counts, entries, entries.size() < selected);
    }

    private static void take(List<RelayQueue.Entry> into, int limit,
            java.util.function.IntFunction<List<RelayQueue.Entry>> read) {
        int left = limit - into.size();
        if (left > 0) {
            into.addAll(read.apply(left));
        }
    }

    @Operation(summary = "Pause a backend's relay",
            description = "Sets relay_cursor.paused; every instance stops taking batches at its next poll. Idempotent.")
    @PostMapping("/backends/{backend}/pause")
    public BackendPause pause(@PathVariable("backend") String backend) {
        known(backend);
        ready(pauses.pause(backend), backend);
        return state(backend);
    }

    @Operation(summary = "Resume a backend's relay", description = "Clears relay_cursor.paused and wakes the relay.")
    @PostMapping("/backends/{backend}/resume")
    public BackendPause resume(@PathVariable("backend") String backend) {
        known(backend);
        ready(pauses.resume(backend), backend);
        return state(backend);
    }

    @Operation(summary = "Pause every backend's relay")
    @PostMapping("/pause")
    public Pauses pauseAll() {
        return states(pauses.pauseAll());
    }

    @Operation(summary = "Resume every backend's relay", description = "And wakes the relays.")
    @PostMapping("/resume")
    public Pauses resumeAll() {
        return states(pauses.resumeAll());
    }

    @Operation(summary = "Retry parked events now",
            description = "Makes the parked events of one backend (or all) due now and wakes the relays; with"
                    + " force=true their attempts start again from 0. Ends the backends' backoff too.")
    @PostMapping("/retry")
    public Retried retry(
            @Parameter(description = "only this backend") @RequestParam(name = "backend", required = false)
            String backend,
            @Parameter(description = "also reset the attempts spent")
            @RequestParam(name = "force", defaultValue = "false") boolean force) {
        List<String> names = backend == null || backend.isBlank() ? List.copyOf(backends.all().keySet())
                : List.of(known(backend));
        Map<String, Integer> retried = new LinkedHashMap<>();
        int total = 0;
        for (String b : names) {
            int n = queue.retryNow(b, force);
            cursors.endBackoff(b);
            retried.put(b, n);
            total += n;
        }
        poller.parkedChanged();
        wakeup.wakeAll();
        return new Retried(total, force, retried);
    }

    @Operation(summary = "(Re)start a backend's backfill",
            description = "Enqueues a BACKFILL job (or joins the one pending or running for the backend; after one"
                    + " completed, a new run starts). The job copies every live chunk to the backend again, bypassing"
                    + " the ledger (ADR 010), so a wiped backend is rebuilt; the cursor keeps its outbox position, so"
                    + " no event is skipped; the relay stays the one writer. Answers 202 with Location"
                    + " /admin/v1/jobs/{id}, whose progress mirrors the backfill's (also in GET /admin/v1/status"
                    + " under `backfill`).")
    @PostMapping("/backends/{backend}/backfill")
    public ResponseEntity<BackfillStarted> backfill(@PathVariable("backend") String backend) {
        known(backend);
        ready(cursors.read(backend).isPresent(), backend);
        Enqueued e = OperatorRuns.start(submission, new JobRequest("BACKFILL", Map.of("backend", backend),
                json.createObjectNode().put("backend", backend), null, null, null));
        ResponseEntity<VerifyController.JobView> job = VerifyController.accepted(e);
        BackfillStarted out = new BackfillStarted(backend, pauses.isPaused(backend), job.getBody(),
                job.getHeaders().getLocation().toString());
        return ResponseEntity.accepted().location(job.getHeaders().getLocation()).body(out);
    }

    private String known(String backend) {
        if (!backends.contains(backend)) {
            throw new CaptureException(404, "VSYNC-BACKEND-NOT-FOUND", "backend", "a configured backend",
                    "No enabled backend has this name.");
        }
        return backend;
    }

    private static void ready(boolean hasCursor, String backend) {
        if (!hasCursor) {
            throw new CaptureException(409, "VSYNC-BACKEND-NOT-READY", "backend", "a backend with a cursor",
                    "The backend has no cursor yet (it is still starting); try again in a moment.");
        }
    }

    private BackendPause state(String backend) {
        return new BackendPause(backend, pauses.isPaused(backend));
    }

    private static Pauses states(Map<String, Boolean> states) {
        List<BackendPause> list = new ArrayList<>();
        states.forEach((b, p) -> list.add(new BackendPause(b, p)));
        return new Pauses(list);
    }
}
