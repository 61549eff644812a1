package io.vectorsync.device;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.function.LongConsumer;

/**
 * The device's hybrid logical clock (ADR 023): every local edit is stamped with {@link #now()}, which is
 * the physical clock plus a correction, but always at least one microsecond after the last time this clock
 * gave or {@link #observe observed}; so the times of one device are strictly increasing, and a device that
 * downloaded a change stamps its next edit after it. Times are ISO-8601 UTC text with microseconds
 * ({@code 2026-12-02T03:04:05.123456Z}), which sorts as it compares. The physical clock is the injected
 * {@link Clock}, so tests control it.
 */
public class HybridClock {

    /** The text of a time: UTC, six fraction digits, 'Z'. */
    public static final DateTimeFormatter FORMAT =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private final Clock clock;
    private final LongConsumer correctionSaved;
    private long lastMicros;
    private long correctionMicros;

    /** A clock with no history and no correction. */
    public HybridClock(Clock clock) {
        this(clock, null, Duration.ZERO, m -> { });
    }

    /**
     * A clock that continues after {@code last} (null: none) with a correction kept from before;
     * {@code correctionSaved} is told each new correction in microseconds (the device keeps it).
     */
    public HybridClock(Clock clock, String last, Duration correction, LongConsumer correctionSaved) {
        this.clock = clock;
        this.correctionSaved = correctionSaved;
        this.lastMicros = last == null ? Long.MIN_VALUE / 2 : micros(parse(last));
        this.correctionMicros = micros(correction);
    }

    /** The next time: max(physical clock + correction, last + 1 µs). */
    public synchronized String now() {
        long physical = micros(clock.instant()) + correctionMicros;
        lastMicros = Math.max(physical, lastMicros + 1);
        return format(lastMicros);
    }

    /** A time seen elsewhere (a downloaded change, the remote's clock): the next {@link #now()} is after it. */
    public synchronized void observe(String iso) {
        lastMicros = Math.max(lastMicros, micros(parse(iso)));
    }

    /**
     * Corrects the physical clock by the skew measured against the remote: {@code skew} is this device's
     * clock minus the remote's (as {@code SyncControl.clockSkew()} reports it), so later times are the
     * physical clock minus {@code skew}. Times already given are never taken back ({@link #now()} stays
     * increasing).
     */
    public synchronized void correct(Duration skew) {
        correctionMicros = -micros(skew);
        correctionSaved.accept(correctionMicros);
    }

    /** What is added to the physical clock (the negated skew of the last {@link #correct}). */
    public synchronized Duration correction() {
        return Duration.of(correctionMicros, java.time.temporal.ChronoUnit.MICROS);
    }

    /** The last time given or observed, or null before any. */
    public synchronized String last() {
        return lastMicros == Long.MIN_VALUE / 2 ? null : format(lastMicros);
    }

    /** The text of an instant, truncated to microseconds. */
    public static String format(Instant instant) {
        return FORMAT.format(instant);
    }

    /**
     * Reads a time as this clock writes it, or any ISO-8601 time with an offset (PostgreSQL's
     * {@code timestamptz} in JSON: {@code 2026-12-02T03:04:05.123456+00:00}).
     *
     * @throws IllegalArgumentException when it is not such a time
     */
    public static Instant parse(String iso) {
        try {
            return OffsetDateTime.parse(iso, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException | NullPointerException e) {
            throw new IllegalArgumentException("VSYNC-SYNC-005: not an ISO-8601 time with an offset: " + iso, e);
        }
    }

    private static String format(long micros) {
        return format(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                Math.floorMod(micros, 1_000_000L) * 1_000L));
    }

    private static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000L);
    }

    private static long micros(Duration d) {
        return Math.addExact(Math.multiplyExact(d.getSeconds(), 1_000_000L), d.getNano() / 1_000L);
    }
}
