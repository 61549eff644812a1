package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.sync.*}: how a device syncs with the remote PostgreSQL (the server's primary), and on
 * the server, how long retention keeps events for devices that have not read them ({@code max-offline}).
 *
 * @param enabled whether the device syncs at all (writes stay local and queue while off)
 * @param deviceId this device's id (letters, digits, '-', '_', '.'); generated once and kept in the
 *     device's database when empty
 * @param remote the remote PostgreSQL and the role the device logs in as (it may only call the sync
 *     functions)
 * @param upload the upload of the local outbox
 * @param retry backoff of failed uploads
 * @param download the download of the remote's changes
 * @param conflict how a conflict is resolved and where losers are kept
 * @param maxClockSkew the remote refuses a change stamped further ahead of its clock than this
 *     ({@code VSYNC-SYNC-005})
 * @param maxOffline a device not seen for longer may miss events retention removed, and re-syncs from a
 *     snapshot; on the server, retention keeps unread events for devices seen within it
 */
@Validated
@ConfigurationProperties("vectorsync.sync")
public record SyncProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("") @Pattern(regexp = "|[A-Za-z0-9._-]{1,64}",
                message = "must be 1 to 64 letters, digits, '.', '_' or '-'") String deviceId,
        @DefaultValue @Valid @NotNull Remote remote,
        @DefaultValue @Valid @NotNull Upload upload,
        @DefaultValue @Valid @NotNull Retry retry,
        @DefaultValue @Valid @NotNull Download download,
        @DefaultValue @Valid @NotNull Conflict conflict,
        @DefaultValue("5m") @NotNull Duration maxClockSkew,
        @DefaultValue("30d") @NotNull Duration maxOffline) {

    public SyncProperties {
        positive("vectorsync.sync.max-clock-skew", maxClockSkew);
        positive("vectorsync.sync.max-offline", maxOffline);
    }

    static void positive(String property, Duration d) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException(property + " must be positive, got " + d);
        }
    }

    /**
     * The remote PostgreSQL.
     *
     * @param jdbcUrl the server's primary, {@code jdbc:postgresql://…}; empty: the device stays offline
     * @param username a role that may only execute the sync functions (docs/offline.md shows how to make it)
     * @param password its password
     * @param connectTimeout how long a connection attempt may take before the device counts as offline
     */
    public record Remote(
            @DefaultValue("") @Pattern(regexp = "|jdbc:postgresql:.+", message = "must be a jdbc:postgresql: URL")
                    String jdbcUrl,
            @DefaultValue("") String username,
            @DefaultValue("") String password,
            @DefaultValue("5s") @NotNull Duration connectTimeout) {

        public Remote {
            positive("vectorsync.sync.remote.connect-timeout", connectTimeout);
        }

        @Override
        public String toString() {
            return "Remote[" + jdbcUrl + " as " + username + "]"; // never the password
        }
    }

    /**
     * The upload of the local outbox: one call of {@code vectorsync.sync_apply} per batch.
     *
     * @param pollInterval how often the outbox is polled (a local write also starts an upload at once)
     * @param batchSize most entries in one batch
     * @param batchBytes most payload bytes in one batch (a larger single entry goes alone)
     */
    public record Upload(
            @DefaultValue("5s") @NotNull Duration pollInterval,
            @DefaultValue("50") @Min(1) @Max(1000) int batchSize,
            @DefaultValue("1048576") @Min(1024) @Max(67108864) int batchBytes) {

        public Upload {
            positive("vectorsync.sync.upload.poll-interval", pollInterval);
        }
    }

    /**
     * Backoff of uploads. A transient failure (network, timeout, remote restart) waits and retries without
     * spending an entry's attempts; a permanent one spends one, and the entry is FAILED after the last.
     *
     * @param maxAttempts attempts of an entry that fails permanently before it is FAILED
     * @param baseDelay the first wait
     * @param maxDelay the longest wait
     */
    public record Retry(
            @DefaultValue("5") @Min(1) @Max(100) int maxAttempts,
            @DefaultValue("1s") @NotNull Duration baseDelay,
            @DefaultValue("5m") @NotNull Duration maxDelay) {

        public Retry {
            positive("vectorsync.sync.retry.base-delay", baseDelay);
            positive("vectorsync.sync.retry.max-delay", maxDelay);
        }
    }

    /**
     * The download of the remote's changes: {@code vectorsync.sync_changes} in commit order.
     *
     * @param pollInterval how often the remote is polled (also on {@code sync now})
     * @param batchSize most changes in one call
     */
    public record Download(
            @DefaultValue("10s") @NotNull Duration pollInterval,
            @DefaultValue("500") @Min(1) @Max(10000) int batchSize) {

        public Download {
            positive("vectorsync.sync.download.poll-interval", pollInterval);
        }
    }

    /**
     * How a conflict (a change based on an older remote version than the current one) is resolved; it is
     * decided once, by the remote, with this device's policy.
     *
     * @param policy which side wins
     * @param preserveOriginal keep the losing version in the device's {@code conflicts} table and as
     *     {@code <chunkId>_v<version>.json} under {@code folder}
     * @param folder where losers are written
     */
    public record Conflict(
            @DefaultValue("last-write-wins") @NotNull Policy policy,
            @DefaultValue("true") boolean preserveOriginal,
            @DefaultValue("./data/conflicts") @NotBlank String folder) {}

    /** Which side of a conflict wins. */
    public enum Policy {
        /** The later hybrid-clock time wins; a tie goes to the greater device id ({@code server} for others). */
        LAST_WRITE_WINS,
        /** The device's change wins. */
        LOCAL_WINS,
        /** The remote's current version wins. */
        REMOTE_WINS;

        /** The name the remote's function takes ({@code last-write-wins}, …). */
        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }
}
