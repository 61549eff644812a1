package io.vectorsync.api;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import io.swagger.v3.oas.annotations.media.Schema;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.deadletter.FailureStore;
import io.vectorsync.relay.CursorRepository;
import io.vectorsync.relay.RelayPoller;
import io.vectorsync.relay.RelayStats;
import io.vectorsync.relay.RelayWakeup;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The admin API's first part: status per backend, dead letters and their replay, sync now. */
@RestController
@RequestMapping(path = "/admin/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@io.vectorsync.config.ServerOnly
public class AdminController {

    private final FailureStore failures;
    private final CursorRepository cursors;
    private final BackendRegistry backends;
    private final RelayWakeup wakeup;
    private final RelayPoller poller;
    private final RelayStats stats;

    public AdminController(FailureStore failures, CursorRepository cursors, BackendRegistry backends,
            RelayWakeup wakeup, RelayPoller poller, RelayStats stats) {
        this.stats = stats;
        this.failures = failures;
        this.cursors = cursors;
        this.backends = backends;
        this.wakeup = wakeup;
        this.poller = poller;
    }

    /** {@code GET /admin/v1/status}: one entry per backend. */
    public record Status(List<BackendStatus> backends) {}

    /**
     * A backend's status: the cursor and its pause, lease and backfill state, the relay's statistics when
     * it has them ({@code stats}, its members inline), the circuit, and the last poll's age.
     */
    public record BackendStatus(String backend, boolean paused, boolean backingOff,
            @Schema(description = "VSYNC-RELAY-IDENTITY reason; null unless halted (ADR 015)") String halted,
            int consecutiveFailures, String leaseOwner, String cursor, BackfillState backfill,
            @JsonUnwrapped Stats stats, String circuit,
            @Schema(description = "null when this instance has not polled the backend (another holds its lease)")
            Double lastPollAgeSeconds) {}

    /** A backend's backfill as the cursor records it. */
    public record BackfillState(boolean running, long copied, Long total, String lastChunkId) {}

    /** The relay's statistics of a backend, read now. */
    public record Stats(long backlog, double lagSeconds, long parked, long deadLetters, String lastError,
            Instant lastErrorAt, Instant lastProgressAt) {}

    /** Open (or, with {@code all}, every) dead letter, newest first. */
    public record DeadLetters(List<FailureStore.DeadLetter> deadLetters) {}

    /** How many dead letters were queued again. */
    public record Replayed(int replayed) {}

    /** How many dead letters were discarded. */
    public record Discarded(int discarded) {}

    /** The backends whose relays were woken. */
    public record Woken(Set<String> woken) {}

    /**
     * Per backend: the cursor and its pause, lease and backfill state, plus the relay's statistics read
     * now (backlog, lag, parked, dead letters, last error and progress) and the live circuit state and
     * last poll age (null when this instance has not polled the backend: another instance holds its lease).
     */
    @GetMapping("/status")
    public Status status() {
        Map<String, RelayStats.BackendStats> now = stats.refresh();
        return new Status(cursors.readAll().stream().map(c -> {
            RelayStats.BackendStats s = now.get(c.backend());
            OptionalDouble poll = stats.lastPollAgeSeconds(c.backend());
            return new BackendStatus(c.backend(), c.paused(), c.backingOff(), c.haltedReason(),
                    c.consecutiveFailures(), String.valueOf(c.leaseOwner()), String.valueOf(c.prevSnapshot()),
                    new BackfillState(c.backfilling(), c.backfillDone(), c.backfillTotal(), c.backfillAfter()),
                    s == null ? null : new Stats(s.backlog(), s.lagSeconds(), s.parked(), s.deadLetters(),
                            s.lastError(), s.lastErrorAt(), s.lastProgressAt()),
                    stats.circuit(c.backend()).word(), poll.isPresent() ? poll.getAsDouble() : null);
        }).toList());
    }

    @GetMapping("/dead-letters")
    public DeadLetters deadLetters(@RequestParam(name = "backend", required = false) String backend,
            @RequestParam(name = "all", defaultValue = "false") boolean all,
            @RequestParam(name = "limit", defaultValue = "100") int limit) {
        if (limit < 1 || limit > 10000) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to 10000", "limit is out of range.");
        }
        List<FailureStore.DeadLetter> list = failures.deadLetters(backend, all, limit);
        return new DeadLetters(list);
    }

    @PostMapping("/dead-letters/{id}/replay")
    public Replayed replay(@PathVariable("id") long id) {
        if (!failures.replay(id)) {
            throw new CaptureException(404, "VSYNC-DEAD-LETTER-NOT-FOUND", "id", "an open dead letter",
                    "No open dead letter has this id (it may have been replayed or discarded already).");
        }
        poller.parkedChanged();
        wakeup.wakeAll();
        return new Replayed(1);
    }

    @PostMapping("/backends/{backend}/dead-letters:replay")
    public Replayed replayAll(@PathVariable("backend") String backend) {
        if (!backends.contains(backend)) {
            throw new CaptureException(404, "VSYNC-BACKEND-NOT-FOUND", "backend", "a configured backend",
                    "No enabled backend has this name.");
        }
        int n = failures.replayAll(backend);
        poller.parkedChanged();
        wakeup.wakeAll();
        return new Replayed(n);
    }

    @PostMapping("/dead-letters/{id}/discard")
    public Discarded discard(@PathVariable("id") long id,
            @RequestParam(name = "reason") String reason) {
        if (reason.isBlank() || reason.length() > 1000) {
            throw new CaptureException(400, "VSYNC-REASON-INVALID", "reason", "1 to 1000 characters",
                    "Say why the dead letter is discarded.");
        }
        if (!failures.discard(id, reason)) {
            throw new CaptureException(404, "VSYNC-DEAD-LETTER-NOT-FOUND", "id", "an open dead letter",
                    "No open dead letter has this id.");
        }
        return new Discarded(1);
    }

    @PostMapping("/sync-now")
    public Woken syncNow() {
        // Forcing a sync ends any backoff (not an operator's pause), then wakes every relay.
        cursors.endAllBackoffs();
        wakeup.wakeAll();
        return new Woken(backends.all().keySet());
    }
}
