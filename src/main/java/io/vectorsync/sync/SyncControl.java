package io.vectorsync.sync;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A device's sync as the admin API and the CLI drive it ({@code /admin/v1/sync/…}): its mode, pause and
 * resume, one round now, and a retry of failed entries. Implemented by the sync engine (upload and
 * download routes); the status page reads the rest from the device's database.
 */
public interface SyncControl {

    /** What the device is doing, as {@code sync status} prints it. */
    enum Mode {
        /** The last call of the remote succeeded. */
        ONLINE,
        /** The remote is not configured, or the last call could not reach it; writes queue locally. */
        OFFLINE,
        /** Paused by an operator ({@code sync pause}); kept in the database across restarts. */
        PAUSED
    }

    Mode mode();

    /** Stops both routes after their current batch; kept in the device's database. */
    void pause();

    void resume();

    /** What one round moved. */
    record Round(int uploaded, int downloaded, int conflicts, int failed, boolean complete) {}

    /**
     * Uploads until the queue holds nothing due (or {@code timeout} passes), then downloads until the remote
     * has nothing newer; {@code complete} is false when the timeout cut it short or the remote was
     * unreachable.
     */
    Round syncNow(Duration timeout);

    /** The outcome of retrying one entry. */
    record Retried(long entryId, String chunkId, boolean ok, String code, String error) {}

    /**
     * Uploads the FAILED entries again at once (their attempts reset), one outcome per entry; with
     * {@code force} also the PENDING entries waiting for their backoff.
     */
    List<Retried> retry(boolean force);

    Optional<Instant> lastUploadAt();

    Optional<Instant> lastPullAt();

    /** The last error of a call of the remote (never content), empty after a success. */
    Optional<String> lastError();

    /** This device's clock minus the remote's, as measured at the last call (zero before one). */
    Duration clockSkew();
}
