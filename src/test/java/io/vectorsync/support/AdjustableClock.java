package io.vectorsync.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** The system clock plus an offset a test sets (a device whose clock is ahead or behind). */
public final class AdjustableClock extends Clock {

    private volatile Duration offset;

    public AdjustableClock(Duration offset) {
        this.offset = offset;
    }

    public void setOffset(Duration offset) {
        this.offset = offset;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return Instant.now().plus(offset);
    }
}
