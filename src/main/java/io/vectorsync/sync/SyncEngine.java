package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import io.vectorsync.device.DeviceIdentity;
import io.vectorsync.device.DeviceSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The device's sync (ADR 025): the routes {@code sync-upload} and {@code sync-download}
 * ({@code routes/sync.camel.yaml}) call {@link #uploadScheduled()} and {@link #downloadScheduled()}; the
 * admin API calls the {@link SyncControl} methods. Holds the mode: PAUSED while the {@code paused} flag of
 * the device table is set (the routes keep running and do nothing, so the pause survives restarts and is
 * kept in one place), OFFLINE while the remote is not configured or the last call could not reach it,
 * otherwise ONLINE. A remote that cannot be reached is backed off from {@code retry.base-delay} doubling to
 * {@code retry.max-delay}; no entry's attempts are spent, and both directions resume by themselves at the
 * first call that gets through. The first call after start-up or after an outage says hello to the remote:
 * a system identifier other than the one kept means the remote is another database, and the download
 * re-syncs from a snapshot.
 */
@Component("syncEngine")
@DeviceOnly
public class SyncEngine implements SyncControl {

    private static final Logger log = LoggerFactory.getLogger(SyncEngine.class);

    private static final String RETRY_FAILED = """
            UPDATE outbox SET status = 'PENDING', retry_count = 0, next_attempt_at = NULL
             WHERE status = 'FAILED' RETURNING id
            """;
    private static final String RETRY_WAITING = """
            UPDATE outbox SET next_attempt_at = NULL WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL RETURNING id
            """;
    private static final String PENDING_AGAIN = """
            UPDATE chunks SET sync_status = 'PENDING'
             WHERE sync_status = 'FAILED' AND chunk_id IN (SELECT chunk_id FROM outbox WHERE status = 'PENDING')
            """;
    private static final String ENTRY = "SELECT id, chunk_id, status, last_code, last_error FROM outbox WHERE id = ?";

    private final SyncUploader uploader;
    private final SyncDownloader downloader;
    private final RemoteSync remote;
    private final SyncState state;
    private final DeviceSettings settings;
    private final ClockSkew skew;
    private final DeviceIdentity identity;
    private final SyncProperties properties;
    private final JdbcTemplate jdbc;
    private final ReentrantLock uploading = new ReentrantLock();
    private final ReentrantLock downloading = new ReentrantLock();
    private final Object connectivity = new Object();
    private volatile boolean reachable;
    private volatile boolean greeted;
    private volatile String lastError;
    private int outages;
    private Instant retryAt = Instant.MIN;

    public SyncEngine(SyncUploader uploader, SyncDownloader downloader, RemoteSync remote, SyncState state,
            DeviceSettings settings,
            ClockSkew skew, DeviceIdentity identity, SyncProperties properties, JdbcTemplate jdbc) {
        this.uploader = uploader;
        this.downloader = downloader;
        this.remote = remote;
        this.state = state;
        this.settings = settings;
        this.skew = skew;
        this.identity = identity;
        this.properties = properties;
        this.jdbc = jdbc;
    }

    /**
     * Once the application is up (its API and the sync routes run): a line that says so, which the tests'
     * child JVMs ({@code support/RelayProcess}) wait for as the relay's own start line on a server.
     */
    @EventListener(ApplicationReadyEvent.class)
    public void ready() {
        log.info("Device {} sync started ({})", identity.deviceId(), !properties.enabled() ? "disabled"
                : remote.configured() ? "remote configured" : "no remote configured");
    }

    /** The upload route's tick (and its nudge after a local write): uploads while batches are due. */
    public void uploadScheduled() {
        if (!active() || !uploading.tryLock()) {
            return;
        }
        try {
            uploadUntil(Instant.MAX);
        } finally {
            uploading.unlock();
        }
    }

    /** The download route's tick: downloads while the remote has more. */
    public void downloadScheduled() {
        if (!active() || !downloading.tryLock()) {
            return;
        }
        try {
            downloadUntil(Instant.MAX);
        } finally {
            downloading.unlock();
        }
    }

    /** Not paused, a remote configured, and not backing off. */
    private boolean active() {
        if (!properties.enabled() || !remote.configured() || paused()) {
            return false;
        }
        synchronized (connectivity) {
            return !state.instantNow().isBefore(retryAt);
        }
    }

    private boolean paused() {
        return settings.get(DeviceSettings.PAUSED).map(Boolean::parseBoolean).orElse(false);
    }

    /** Uploads batches until none is due or {@code until} passes; false when the remote could not be reached. */
    private SyncUploader.Result uploadUntil(Instant until) {
        SyncUploader.Result total = SyncUploader.Result.NONE;
        try {
            greet();
            while (!paused() && state.instantNow().isBefore(until)) {
                SyncUploader.Result r = uploader.uploadNext(identity.deviceId());
                if (r.sent() == 0) {
                    break;
                }
                reached();
                total = total.plus(r);
            }
        } catch (RemoteSyncException.Unreachable e) {
            unreachable(e);
        } catch (RuntimeException e) {
            lastError = e.getMessage();
            log.warn("Upload stopped: {}", e.toString());
        }
        return total;
    }

    private SyncDownloader.Result downloadUntil(Instant until) {
        int applied = 0;
        int conflicts = 0;
        try {
            greet();
            while (!paused() && state.instantNow().isBefore(until)) {
                SyncDownloader.Result r = downloader.downloadNext(identity.deviceId());
                reached();
                applied += r.applied();
                conflicts += r.conflicts();
                if (!r.more()) {
                    break;
                }
            }
            // entries that waited for an upload's outcome
            SyncDownloader.Result waited = downloader.applyInbox();
            applied += waited.applied();
            conflicts += waited.conflicts();
        } catch (RemoteSyncException.Unreachable e) {
            unreachable(e);
        } catch (RuntimeException e) {
            lastError = e.getMessage();
            log.warn("Download stopped: {}", e.toString());
        }
        return new SyncDownloader.Result(0, applied, 0, conflicts, 0, false, false);
    }

    /** The first call after start-up or an outage: the remote's identity, and its clock. */
    private void greet() {
        if (greeted) {
            return;
        }
        Instant sent = state.instantNow();
        JsonNode hello = remote.hello(identity.deviceId());
        skew.measure(sent, state.instantNow(), hello.path("serverTime").asText(null));
        String systemId = hello.path("systemId").asText("");
        Optional<String> known = settings.get(DeviceSettings.REMOTE_SYSTEM_ID);
        if (known.isPresent() && !known.get().equals(systemId) && !systemId.isEmpty()) {
            log.warn("The remote's system identifier changed ({} → {}): re-syncing from a snapshot", known.get(),
                    systemId);
            downloader.forgetCursor();
        }
        if (!systemId.isEmpty()) {
            settings.put(DeviceSettings.REMOTE_SYSTEM_ID, systemId);
        }
        greeted = true;
        reached();
    }

    private void reached() {
        synchronized (connectivity) {
            if (!reachable) {
                log.info("The remote is reachable: Online");
            }
            reachable = true;
            outages = 0;
            retryAt = Instant.MIN;
            lastError = null;
        }
    }

    private void unreachable(RemoteSyncException e) {
        synchronized (connectivity) {
            outages++;
            Duration wait = SyncUploader.backoff(properties.retry(), outages);
            retryAt = state.instantNow().plus(wait);
            if (reachable || outages == 1) {
                log.warn("{}: Offline, local writes queue; next try in {} ms", e.getMessage(), wait.toMillis());
            }
            reachable = false;
            greeted = false;
            lastError = e.getMessage();
        }
    }

    @Override
    public Mode mode() {
        if (paused()) {
            return Mode.PAUSED;
        }
        return reachable && remote.configured() && properties.enabled() ? Mode.ONLINE : Mode.OFFLINE;
    }

    @Override
    public void pause() {
        settings.put(DeviceSettings.PAUSED, "true");
        log.info("Sync paused");
    }

    @Override
    public void resume() {
        settings.put(DeviceSettings.PAUSED, "false");
        synchronized (connectivity) {
            retryAt = Instant.MIN;
        }
        log.info("Sync resumed");
    }

    @Override
    public Round syncNow(Duration timeout) {
        Instant until = state.instantNow().plus(timeout);
        if (!properties.enabled() || paused() || !remote.configured()) {
            return new Round(0, 0, 0, 0, false);
        }
        synchronized (connectivity) {
            retryAt = Instant.MIN; // an operator's "now" does not wait for the backoff
        }
        SyncUploader.Result up = SyncUploader.Result.NONE;
        SyncDownloader.Result down = null;
        try {
            if (lock(uploading, until)) {
                try {
                    up = uploadUntil(until);
                } finally {
                    uploading.unlock();
                }
            }
            if (reachable && lock(downloading, until)) {
                try {
                    down = downloadUntil(until);
                } finally {
                    downloading.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        boolean complete = reachable && down != null && state.instantNow().isBefore(until) && uploader.nextBatch().isEmpty();
        return new Round(up.applied() + up.conflicts(), down == null ? 0 : down.applied(),
                up.conflicts() + (down == null ? 0 : down.conflicts()), up.failed(), complete);
    }

    private boolean lock(ReentrantLock lock, Instant until) throws InterruptedException {
        long wait = Math.max(0, Duration.between(state.instantNow(), until).toMillis());
        return lock.tryLock(wait, TimeUnit.MILLISECONDS);
    }

    @Override
    public List<Retried> retry(boolean force) {
        List<Long> ids = new ArrayList<>(jdbc.queryForList(RETRY_FAILED, Long.class));
        if (force) {
            ids.addAll(jdbc.queryForList(RETRY_WAITING, Long.class));
            synchronized (connectivity) {
                retryAt = Instant.MIN;
            }
        }
        jdbc.update(PENDING_AGAIN);
        syncNow(Duration.ofSeconds(30));
        List<Retried> out = new ArrayList<>();
        for (long id : ids) {
            for (Map<String, Object> e : jdbc.queryForList(ENTRY, id)) {
                String status = (String) e.get("status");
                boolean ok = "SYNCED".equals(status) || "CONFLICT".equals(status);
                out.add(new Retried(id, (String) e.get("chunk_id"), ok, ok ? null : (String) e.get("last_code"),
                        ok ? null : Optional.ofNullable((String) e.get("last_error")).orElse(lastError)));
            }
        }
        return out;
    }

    @Override
    public Optional<Instant> lastUploadAt() {
        return settings.instant(DeviceSettings.LAST_UPLOAD_AT);
    }

    @Override
    public Optional<Instant> lastPullAt() {
        return settings.instant(DeviceSettings.LAST_PULL_AT);
    }

    @Override
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    @Override
    public Duration clockSkew() {
        return skew.skew();
    }

    /** True while the download re-syncs from a snapshot of the remote. */
    public boolean resyncing() {
        return downloader.resyncing();
    }
}
