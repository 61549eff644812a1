package io.vectorsync.sync;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.HybridClock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * This device's clock minus the remote's, measured at every call from the remote's {@code serverTime}
 * against the middle of the call on the device's (injected) clock. When the remote refuses a change as
 * stamped too far ahead ({@code VSYNC-SYNC-005}), the hybrid clock is corrected by the measured skew, so
 * the device's next edits carry the remote's time; times already given are never taken back.
 */
@Component
@DeviceOnly
public class ClockSkew {

    private static final Logger log = LoggerFactory.getLogger(ClockSkew.class);

    private final HybridClock hlc;
    private volatile Duration skew = Duration.ZERO;

    public ClockSkew(HybridClock hlc) {
        this.hlc = hlc;
    }

    /** Records the skew of one call that started at {@code sent} and returned at {@code received}. */
    public void measure(Instant sent, Instant received, String serverTime) {
        if (serverTime == null || serverTime.isEmpty()) {
            return;
        }
        Instant middle = sent.plus(Duration.between(sent, received).dividedBy(2));
        skew = Duration.between(HybridClock.parse(serverTime), middle);
        hlc.observe(serverTime);
    }

    public Duration skew() {
        return skew;
    }

    /** The remote refused a time as ahead of its clock: from now on the hybrid clock runs on the remote's time. */
    public void refusedAhead() {
        Duration s = skew;
        log.warn("VSYNC-SYNC-005: the remote refused this device's time as ahead; correcting the clock by {} s",
                -s.toSeconds());
        hlc.correct(s);
    }
}
