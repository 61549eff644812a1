package io.vectorsync.sync;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.DeviceSettings;
import io.vectorsync.device.HybridClock;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.springframework.stereotype.Component;

/**
 * The device's wall clock for the sync engine's bookkeeping times (the last upload and pull, backoff; the
 * hybrid clock stamps edits only), and the key of the one setting only the engine writes; the engine keeps
 * its state in the device's {@code device} table through {@link DeviceSettings}.
 */
@Component
@DeviceOnly
public class SyncState {

    /** The time of the last snapshot re-sync that completed. */
    static final String LAST_RESYNC_AT = "last_resync_at";

    private final Clock clock;

    public SyncState(Clock clock) {
        this.clock = clock;
    }

    /** The device's wall clock now, in the device's time format. */
    public String now() {
        return format(clock.instant());
    }

    public Instant instantNow() {
        return clock.instant();
    }

    static String format(Instant t) {
        return HybridClock.format(t.truncatedTo(ChronoUnit.MICROS));
    }
}
