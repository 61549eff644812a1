package io.vectorsync.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.AlertProperties;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.metrics.AlertEvaluator.ActiveAlert;
import io.vectorsync.metrics.AlertEvaluator.Alert;
import io.vectorsync.sync.SyncControl;
import io.vectorsync.sync.SyncStatusService;
import jakarta.annotation.PostConstruct;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

/**
 * A device's in-process counterpart of the Prometheus rule {@code VectorsyncSyncStuck}, on the same condition
 * and threshold ({@code vectorsync.alerts.sync-stuck}): the local queue has entries (pending or failed), the
 * oldest has waited the threshold, no upload to the remote has succeeded for as long (or ever), and sync is
 * not paused (the operator chose that). Evaluated every {@code vectorsync.alerts.evaluate-interval} by the route
 * {@code sync-alerts} ({@code routes/sync.camel.yaml}, only with {@code vectorsync.alerts.enabled}) and fired
 * and cleared as the server's alerts are ({@link AlertBook}: code {@code VSYNC-ALERT-SYNC-STUCK}, tags
 * {@code alert=sync_stuck}, {@code backend=remote}). Its value is how long the sync has been stuck: the
 * shorter of the oldest entry's wait and the time since the last upload. Prometheus holds its rule
 * {@code for: 2m} more; this fires at the first evaluation past the threshold, as the other in-process alerts.
 */
@Component
@DeviceOnly
public class SyncStuckAlert {

    private static final Logger log = LoggerFactory.getLogger(SyncStuckAlert.class);

    /** What the device syncs with: the {@code backend} tag of its alert. */
    public static final String BACKEND = "remote";

    private final SyncStatusService status;
    private final AlertProperties properties;
    private final Clock clock;
    private final AlertBook book;

    public SyncStuckAlert(SyncStatusService status, AlertProperties properties, AlertWebhook webhook,
            MeterRegistry registry, ObjectProvider<Clock> clock) {
        this.status = status;
        this.properties = properties;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.book = new AlertBook(registry, webhook);
    }

    @PostConstruct
    void start() {
        book.register(Alert.SYNC_STUCK, BACKEND);
    }

    /** The periodic evaluation (route {@code sync-alerts}): a failure waits for the next one. */
    public void evaluateQuietly() {
        try {
            evaluate();
        } catch (RuntimeException e) {
            log.warn("Cannot evaluate the sync alert: {}", e.toString());
        }
    }

    /** The active alert, if any. */
    public List<ActiveAlert> active() {
        return book.active();
    }

    /** Evaluates the alert once, on the device's queue and its engine's last upload. */
    public synchronized void evaluate() {
        Instant now = clock.instant();
        SyncStatusService.QueueDepth queue = status.queueDepth();
        Optional<SyncControl> control = status.control();
        boolean paused = control.map(c -> c.mode() == SyncControl.Mode.PAUSED).orElse(false);
        double limit = properties.syncStuck().toMillis() / 1000.0;
        double waited = queue.oldestAt() == null ? 0 : seconds(queue.oldestAt(), now);
        // never uploaded: as the rule's time() - 0
        double sinceUpload = control.flatMap(SyncControl::lastUploadAt).map(t -> seconds(t, now))
                .orElse(now.getEpochSecond() * 1.0);
        boolean stuck = !paused && queue.depth() > 0 && waited >= limit && sinceUpload >= limit;
        book.check(Alert.SYNC_STUCK, BACKEND, Math.min(waited, sinceUpload), limit, stuck, now,
                "the local queue has waited %.0f s with no upload to the remote (threshold %.0f s)");
    }

    private static double seconds(Instant from, Instant to) {
        return Math.max(0, Duration.between(from, to).toMillis() / 1000.0);
    }
}
