package io.vectorsync.jobs;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.relay.BackfillControl;
import io.vectorsync.relay.CursorRepository;
import io.vectorsync.relay.CursorState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * BACKFILL, payload {@code {"backend": name}}: (re)starts the backend's backfill through
 * {@link BackfillControl} (the cursor is marked backfilling; ADR 010) and then only mirrors the cursor's
 * progress until the relay has copied the last page. The relay stays the one writer to every backend: this
 * job never writes to one. Cancelling the job stops the mirroring, not the backfill. A later attempt (after a
 * transient failure or a take-over) mirrors the backfill already under way instead of starting it again; one
 * that finds it finished starts it again, which rewrites the same rows (idempotent).
 */
@Component
@ServerOnly
public class BackfillJob implements JobHandler {

    private static final long MIRROR_MS = 500;

    private final BackfillControl control;
    private final CursorRepository cursors;
    private final BackendRegistry backends;

    public BackfillJob(BackfillControl control, CursorRepository cursors, BackendRegistry backends) {
        this.control = control;
        this.cursors = cursors;
        this.backends = backends;
    }

    @Override
    public String type() {
        return "BACKFILL";
    }

    /** It writes to a backend (a repair, a backfill's state): the admin credential's work. */
    @Override
    public boolean operatorOnly() {
        return true;
    }

    /** One backfill per backend at a time. */
    @Override
    public Map<String, String> correlation(com.fasterxml.jackson.databind.JsonNode payload) {
        return Map.of("backend", payload.path("backend").asText());
    }

    @Override
    public Map<String, Object> run(JobContext context) throws InterruptedException {
        String backend = context.payload().path("backend").asText();
        if (!backends.contains(backend)) {
            throw new PermanentJobException("VSYNC-BACKEND-NOT-FOUND", "no enabled backend is named '" + backend + "'");
        }
        Optional<CursorState> cursor = cursors.read(backend);
        if (context.attempt() == 1 || cursor.map(c -> !c.backfilling()).orElse(true)) {
            cursor = control.restart(backend);
        }
        if (cursor.isEmpty()) {
            throw new IllegalStateException("backend '" + backend + "' has no cursor yet (still starting)");
        }
        while (true) {
            CursorState c = cursor.orElseThrow();
            if (c.halted()) {
                throw new PermanentJobException("VSYNC-RELAY-IDENTITY",
                        "backend '" + backend + "' is halted: " + c.haltedReason());
            }
            if (!c.backfilling()) {
                context.progress(c.backfillDone(), Math.max(c.backfillDone(), c.backfillTotal() == null ? 0 : c.backfillTotal()));
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("backend", backend);
                result.put("copied", c.backfillDone());
                result.put("total", c.backfillTotal());
                return result;
            }
            context.progress(c.backfillDone(), c.backfillTotal());
            Thread.sleep(MIRROR_MS);
            cursor = cursors.read(backend);
        }
    }
}
