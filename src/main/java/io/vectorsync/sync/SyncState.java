package io.vectorsync.sync;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.DeviceSettings;
import io.vectorsync.device.HybridClock;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.springframework.stereotype.Component;

/**
 * What the sync engine keeps in the device's {@code device} table ({@link DeviceSettings}: the download
 * cursor, the remote's system identifier, a snapshot re-sync in progress, the last upload and pull, the
 * pause) and the device's wall clock for its bookkeeping times (the hybrid clock stamps edits only).
 */
@Component
@DeviceOnly
public class SyncState {

    /** The time of the last snapshot re-sync that completed. */
    static final String LAST_RESYNC_AT = "last_resync_at";

    private final DeviceSettings settings;
    private final Clock clock;

    public SyncState(DeviceSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    public Optional<String> get(String key) {
        return settings.get(key);
    }

    public void put(String key, String value) {
        settings.put(key, value);
    }

    public void remove(String key) {
        settings.remove(key);
    }

    public Optional<Instant> instant(String key) {
        return get(key).map(HybridClock::parse);
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
