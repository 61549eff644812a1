package io.vectorsync.api;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.deadletter.FailureStore;
import io.vectorsync.relay.CursorRepository;
import io.vectorsync.relay.RelayPoller;
import io.vectorsync.relay.RelayStats;
import io.vectorsync.relay.RelayWakeup;
import java.util.List;
import java.util.Map;
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

    /**
     * Per backend: the cursor and its pause, lease and backfill state, plus the relay's statistics read
     * now (backlog, lag, parked, dead letters, last error and progress) and the live circuit state and
     * last poll age (null when this instance has not polled the backend: another instance holds its lease).
     */
    @GetMapping("/status")
    public Map<String, Object> status() {
        Map<String, RelayStats.BackendStats> now = stats.refresh();
        return Map.of("backends", cursors.readAll().stream().map(c -> {
            Map<String, Object> b = new java.util.LinkedHashMap<>();
            b.put("backend", c.backend());
            b.put("paused", c.paused());
            b.put("backingOff", c.backingOff());
            b.put("halted", c.haltedReason()); // VSYNC-RELAY-IDENTITY reason, null unless halted (ADR 015)
            b.put("consecutiveFailures", c.consecutiveFailures());
            b.put("leaseOwner", String.valueOf(c.leaseOwner()));
            b.put("cursor", String.valueOf(c.prevSnapshot()));
            Map<String, Object> backfill = new java.util.LinkedHashMap<>();
            backfill.put("running", c.backfilling());
            backfill.put("copied", c.backfillDone());
            backfill.put("total", c.backfillTotal());
            backfill.put("lastChunkId", c.backfillAfter());
            b.put("backfill", backfill);
            RelayStats.BackendStats s = now.get(c.backend());
            if (s != null) {
                b.put("backlog", s.backlog());
                b.put("lagSeconds", s.lagSeconds());
                b.put("parked", s.parked());
                b.put("deadLetters", s.deadLetters());
                b.put("lastError", s.lastError());
                b.put("lastErrorAt", s.lastErrorAt());
                b.put("lastProgressAt", s.lastProgressAt());
            }
            b.put("circuit", stats.circuit(c.backend()).word());
            java.util.OptionalDouble poll = stats.lastPollAgeSeconds(c.backend());
            b.put("lastPollAgeSeconds", poll.isPresent() ? poll.getAsDouble() : null);
            return b;
        }).toList());
    }

    @GetMapping("/dead-letters")
    public Map<String, Object> deadLetters(@RequestParam(name = "backend", required = false) String backend,
            @RequestParam(name = "all", defaultValue = "false") boolean all,
            @RequestParam(name = "limit", defaultValue = "100") int limit) {
        if (limit < 1 || limit > 10000) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to 10000", "limit is out of range.");
        }
        List<FailureStore.DeadLetter> list = failures.deadLetters(backend, all, limit);
        return Map.of("deadLetters", list);
    }

    @PostMapping("/dead-letters/{id}/replay")
    public Map<String, Object> replay(@PathVariable("id") long id) {
        if (!failures.replay(id)) {
            throw new CaptureException(404, "VSYNC-DEAD-LETTER-NOT-FOUND", "id", "an open dead letter",
                    "No open dead letter has this id (it may have been replayed or discarded already).");
        }
        poller.parkedChanged();
        wakeup.wakeAll();
        return Map.of("replayed", 1);
    }

    @PostMapping("/backends/{backend}/dead-letters:replay")
    public Map<String, Object> replayAll(@PathVariable("backend") String backend) {
        if (!backends.contains(backend)) {
            throw new CaptureException(404, "VSYNC-BACKEND-NOT-FOUND", "backend", "a configured backend",
                    "No enabled backend has this name.");
        }
        int n = failures.replayAll(backend);
        poller.parkedChanged();
        wakeup.wakeAll();
        return Map.of("replayed", n);
    }

    @PostMapping("/dead-letters/{id}/discard")
    public Map<String, Object> discard(@PathVariable("id") long id,
            @RequestParam(name = "reason") String reason) {
        if (reason.isBlank() || reason.length() > 1000) {
            throw new CaptureException(400, "VSYNC-REASON-INVALID", "reason", "1 to 1000 characters",
                    "Say why the dead letter is discarded.");
        }
        if (!failures.discard(id, reason)) {
            throw new CaptureException(404, "VSYNC-DEAD-LETTER-NOT-FOUND", "id", "an open dead letter",
                    "No open dead letter has this id.");
        }
        return Map.of("discarded", 1);
    }

    @PostMapping("/sync-now")
    public Map<String, Object> syncNow() {
        // Forcing a sync ends any backoff (not an operator's pause), then wakes every relay.
        cursors.endAllBackoffs();
        wakeup.wakeAll();
        return Map.of("woken", backends.all().keySet());
    }
}
