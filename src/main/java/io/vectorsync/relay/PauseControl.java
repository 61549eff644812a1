package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.config.ServerOnly;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;

/**
 * Pausing and resuming a backend's relay. The single source of truth is {@code relay_cursor.paused}:
 * every relay instance reads it at each poll (RelayPoller) and stops taking batches while it is set, so
 * a pause holds across restarts and for every instance. Resuming wakes the relays at once. Idempotent:
 * pausing a paused backend changes nothing. Used by the admin API; route management (JMX, Hawtio) is to
 * go through it too, so what it shows agrees with the database. Each change is published as a
 * {@link Changed} event, on which this instance's relay route follows at once ({@link RouteStateSync}).
 */
@Service
@ServerOnly
public class PauseControl {

    private static final Logger log = LoggerFactory.getLogger(PauseControl.class);

    private final CursorRepository cursors;
    private final BackendRegistry backends;
    private final RelayWakeup wakeup;
    private final ApplicationEventPublisher events;

    /** A pause or resume made through this class: this instance's route follows it without waiting. */
    public record Changed(String backend, boolean paused) {}

    public PauseControl(CursorRepository cursors, BackendRegistry backends, RelayWakeup wakeup,
            ApplicationEventPublisher events) {
        this.cursors = cursors;
        this.backends = backends;
        this.wakeup = wakeup;
        this.events = events;
    }

    /** Pauses the backend's relay; false when it has no cursor (not a configured backend). */
    public boolean pause(String backend) {
        boolean done = cursors.setPaused(backend, true);
        if (done) {
            log.info("Backend '{}' paused by an operator (relay_cursor.paused = true)", backend);
            events.publishEvent(new Changed(backend, true));
        }
        return done;
    }

    /** Resumes the backend's relay and wakes it; false when it has no cursor. */
    public boolean resume(String backend) {
        boolean done = cursors.setPaused(backend, false);
        if (done) {
            log.info("Backend '{}' resumed by an operator (relay_cursor.paused = false)", backend);
            events.publishEvent(new Changed(backend, false));
            wakeup.wakeAll();
        }
        return done;
    }

    /** Whether the backend is paused by an operator (a backoff after failures is not a pause). */
    public boolean isPaused(String backend) {
        return cursors.read(backend).map(CursorState::paused).orElse(false);
    }

    /** The pause state of the backend, empty when it has no cursor. */
    public Optional<Boolean> pauseState(String backend) {
        return cursors.read(backend).map(CursorState::paused);
    }

    /** Pauses every enabled backend; returns the new state per backend. */
    public Map<String, Boolean> pauseAll() {
        backends.all().keySet().forEach(this::pause);
        return states();
    }

    /** Resumes every enabled backend and wakes the relays; returns the new state per backend. */
    public Map<String, Boolean> resumeAll() {
        backends.all().keySet().forEach(this::resume);
        return states();
    }

    /** The pause state of every enabled backend that has a cursor. */
    public Map<String, Boolean> states() {
        Map<String, Boolean> out = new LinkedHashMap<>();
        backends.all().keySet().forEach(b -> pauseState(b).ifPresent(p -> out.put(b, p)));
        return out;
    }
}
