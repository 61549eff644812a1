package io.vectorsync.sync;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.DeviceOnly;
import java.time.Duration;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * A device's sync for its operator ({@code vectorsync sync …}): status, one round now, retry, pause and
 * resume, the local queue and the conflicts. Under {@code /admin/v1/sync}, so behind the admin credentials
 * like every admin path (security/SecurityConfig); errors are problem details with a {@code VSYNC-} code.
 * Only on a device (the {@code local} profile).
 */
@RestController
@DeviceOnly
@RequestMapping(path = "/admin/v1/sync", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "sync", description = "A device's sync with the remote PostgreSQL (device only; needs the admin"
        + " credentials)")
public class SyncAdminController {

    static final int MAX_LIMIT = 10000;
    static final int MAX_WAIT_SECONDS = 300;

    private final SyncStatusService status;

    public SyncAdminController(SyncStatusService status) {
        this.status = status;
    }

    /**
     * What {@code sync now} moved; {@code complete} false when the wait ran out, the remote was unreachable
     * or the sync is paused, and then {@code reason} says which.
     */
    public record Round(int uploaded, int downloaded, int conflicts, int failed, boolean complete,
            SyncControl.Mode mode, String reason) {}

    /** The outcome of {@code sync retry}: one item per entry retried. */
    public record Retry(boolean force, int ok, int failed, List<SyncControl.Retried> items) {}

    /** The sync's mode after a pause or resume. */
    public record ModeAnswer(SyncControl.Mode mode, boolean paused) {}

    @Operation(summary = "The device's sync status",
            description = "Mode (ONLINE, OFFLINE, PAUSED), last sync, the local queue (pending and failed entries and"
                    + " the oldest one's age), Local→Remote (pending, synced today, failed, last upload), Remote→Local"
                    + " (last pull, downloaded today, waiting), conflicts, whether a re-sync from a snapshot runs, the"
                    + " last error of a remote call and the clock skew measured against the remote.")
    @GetMapping("/status")
    public SyncStatusService.Status status() {
        return status.status();
    }

    @Operation(summary = "Sync now, both ways, and wait",
            description = "Uploads until nothing is due, then downloads until the remote has nothing newer, waiting at"
                    + " most timeoutSeconds; answers what moved. complete=false when the wait ran out or the remote"
                    + " could not be reached (the entries stay queued).")
    @PostMapping("/now")
    public Round now(@Parameter(description = "how long to wait, 1 to 300 s")
            @RequestParam(name = "timeoutSeconds", defaultValue = "25") int timeoutSeconds) {
        if (timeoutSeconds < 1 || timeoutSeconds > MAX_WAIT_SECONDS) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "timeoutSeconds", "1 to " + MAX_WAIT_SECONDS,
                    "timeoutSeconds is out of range.");
        }
        SyncControl c = engine();
        SyncControl.Round r = c.syncNow(Duration.ofSeconds(timeoutSeconds));
        SyncControl.Mode mode = c.mode();
        String reason = null;
        if (!r.complete()) {
            reason = mode == SyncControl.Mode.PAUSED ? "the sync is paused (vectorsync sync resume)"
                    : !status.remoteConfigured() ? "no remote is configured (vectorsync.sync.remote.jdbc-url)"
                    : c.lastError().orElse("the wait of " + timeoutSeconds + " s ran out");
        }
        return new Round(r.uploaded(), r.downloaded(), r.conflicts(), r.failed(), r.complete(), mode, reason);
    }

    @Operation(summary = "Retry the failed entries now",
            description = "Uploads the FAILED entries again at once with their attempts reset, one item per entry (ok,"
                    + " or its code and error); force=true also uploads the PENDING entries waiting for their backoff.")
    @PostMapping("/retry")
    public Retry retry(@Parameter(description = "also the entries waiting for their backoff")
            @RequestParam(name = "force", defaultValue = "false") boolean force) {
        List<SyncControl.Retried> items = engine().retry(force);
        int ok = (int) items.stream().filter(SyncControl.Retried::ok).count();
        return new Retry(force, ok, items.size() - ok, items);
    }

    @Operation(summary = "Pause the sync",
            description = "Both directions stop after their current batch; local writes still succeed and queue. Kept in"
                    + " the device's database across restarts. Idempotent.")
    @PostMapping("/pause")
    public ModeAnswer pause() {
        SyncControl c = engine();
        c.pause();
        return mode(c);
    }

    @Operation(summary = "Resume the sync", description = "Clears the pause; the queue drains by itself.")
    @PostMapping("/resume")
    public ModeAnswer resume() {
        SyncControl c = engine();
        c.resume();
        return mode(c);
    }

    @Operation(summary = "The local queue",
            description = "Local outbox entries not yet on the remote (PENDING and FAILED), in upload order, with"
                    + " retries, the last code and error and the next attempt (never payloads); errors=true lists only"
                    + " the failed entries and those with an error.")
    @GetMapping("/queue")
    public SyncStatusService.Queue queue(
            @Parameter(description = "only failed entries and entries with an error")
            @RequestParam(name = "errors", defaultValue = "false") boolean errors,
            @Parameter(description = "1 to 10000") @RequestParam(name = "limit", defaultValue = "100") int limit) {
        return status.queue(errors, checked(limit));
    }

    @Operation(summary = "The conflicts",
            description = "Newest first: both sides (version, hybrid-clock time, who wrote it, deleted, privacy; no"
                    + " content), the policy, the winner, the reason (base-version, local-only, clock-skew) and where the"
                    + " losing version is kept (loserFile, under vectorsync.sync.conflict.folder).")
    @GetMapping("/conflicts")
    public SyncStatusService.ConflictList conflicts(
            @Parameter(description = "1 to 10000") @RequestParam(name = "limit", defaultValue = "100") int limit) {
        return status.conflicts(checked(limit));
    }

    private SyncControl engine() {
        return status.control().orElseThrow(() -> new CaptureException(409, "VSYNC-SYNC-DISABLED", "vectorsync.sync",
                "a device with the sync engine running",
                "This device does not sync (vectorsync.sync.enabled=false): local writes are kept and queued."));
    }

    private static ModeAnswer mode(SyncControl c) {
        SyncControl.Mode m = c.mode();
        return new ModeAnswer(m, m == SyncControl.Mode.PAUSED);
    }

    private static int checked(int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to " + MAX_LIMIT, "limit is out of range.");
        }
        return limit;
    }
}
