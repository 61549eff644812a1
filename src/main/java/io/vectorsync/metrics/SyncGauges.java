package io.vectorsync.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.sync.SyncControl;
import io.vectorsync.sync.SyncStatusService;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * A device's sync gauges: the local queue (entries not yet on the remote, and the age of the oldest), the
 * last successful upload and pull (epoch seconds, 0 before the first), the clock skew against the remote,
 * and the mode (one series per mode). The queue is read from the device's SQLite file at most once per
 * {@link #REFRESH} however many gauges a scrape reads; the rest comes from the engine. The alert
 * {@code VectorsyncSyncStuck} (deploy/prometheus/alerts.yml) is built on them.
 */
@Component
@DeviceOnly
public class SyncGauges implements MeterBinder {

    private static final Logger log = LoggerFactory.getLogger(SyncGauges.class);

    /** A scrape reads several gauges; one query serves them all. */
    static final Duration REFRESH = Duration.ofSeconds(1);

    private final SyncStatusService status;
    private final Clock clock;
    private volatile Cached cached;

    private record Cached(Instant at, SyncStatusService.QueueDepth depth) {}

    public SyncGauges(SyncStatusService status, ObjectProvider<Clock> clock) {
        this.status = status;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        gauge(registry, "vectorsync.sync.queue.depth", null,
                "Local outbox entries not yet on the remote (pending and failed)", g -> depth().depth());
        gauge(registry, "vectorsync.sync.queue.oldest.age", "seconds",
                "Age of the oldest local outbox entry not yet on the remote; 0 when the queue is empty",
                g -> age(depth().oldestAt()));
        gauge(registry, "vectorsync.sync.last.upload", "seconds",
                "When the last upload to the remote succeeded, in seconds since the epoch; 0 before the first",
                g -> epoch(control().flatMap(SyncControl::lastUploadAt)));
        gauge(registry, "vectorsync.sync.last.pull", "seconds",
                "When the last download from the remote succeeded, in seconds since the epoch; 0 before the first",
                g -> epoch(control().flatMap(SyncControl::lastPullAt)));
        gauge(registry, "vectorsync.sync.clock.skew", "seconds",
                "This device's clock minus the remote's at the last call; the remote refuses changes stamped more"
                        + " than vectorsync.sync.max-clock-skew ahead", g -> control().map(c -> c.clockSkew().toNanos()
                        / 1e9).orElse(0.0));
        for (SyncControl.Mode mode : SyncControl.Mode.values()) {
            Gauge.builder("vectorsync.sync.mode", this, g -> currentMode() == mode ? 1.0 : 0.0)
                    .description("1 for the mode the device's sync is in (online, offline, paused), else 0")
                    .tag("mode", mode.name().toLowerCase(Locale.ROOT))
                    .strongReference(true)
                    .register(registry);
        }
    }

    private SyncControl.Mode currentMode() {
        return control().map(SyncControl::mode).orElse(SyncControl.Mode.OFFLINE);
    }

    private Optional<SyncControl> control() {
        return status.control();
    }

    /** The queue, read again when the cached reading is older than {@link #REFRESH}. */
    SyncStatusService.QueueDepth depth() {
        Cached c = cached;
        Instant now = clock.instant();
        if (c == null || Duration.between(c.at(), now).compareTo(REFRESH) >= 0) {
            try {
                c = new Cached(now, status.queueDepth());
            } catch (RuntimeException e) {
                log.debug("sync queue gauges not read ({})", e.getClass().getSimpleName());
                return c == null ? new SyncStatusService.QueueDepth(0, null) : c.depth();
            }
            cached = c;
        }
        return c.depth();
    }

    private double age(Instant oldest) {
        return oldest == null ? 0.0 : Math.max(0.0, Duration.between(oldest, clock.instant()).toNanos() / 1e9);
    }

    private static double epoch(Optional<Instant> t) {
        return t.map(i -> i.getEpochSecond() + i.getNano() / 1e9).orElse(0.0);
    }

    private void gauge(MeterRegistry registry, String name, String unit, String description,
            ToDoubleFunction<SyncGauges> value) {
        Gauge.builder(name, this, value).description(description).baseUnit(unit).strongReference(true)
                .register(registry);
    }
}
