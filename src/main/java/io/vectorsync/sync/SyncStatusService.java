package io.vectorsync.sync;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import io.vectorsync.device.DeviceIdentity;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * What a device's sync is doing, read from its SQLite tables ({@code outbox}, {@code inbox},
 * {@code conflicts}, {@code device}) and from the engine ({@link SyncControl}: mode, last calls, clock
 * skew): the status page of {@code vectorsync sync status}, the queue, the conflicts, and the numbers the
 * sync gauges export. Reads only; never content (the conflicts' sides are summarised without it).
 *
 * <p>"Today" is since midnight in the device's time zone, on the injected {@link Clock}, compared with the
 * stored UTC text times, which sort as they compare.
 */
@Service
@DeviceOnly
public class SyncStatusService {

    /** The device's time format: ISO-8601 UTC with microseconds (db/device/V1__device.sql). */
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** Every count of the status page in one statement; the parameters are today's start (three times). */
    static final String COUNTS = """
            SELECT (SELECT count(*) FROM outbox WHERE status = 'PENDING') AS pending,
                   (SELECT count(*) FROM outbox WHERE status = 'FAILED') AS failed,
                   (SELECT created_at FROM outbox WHERE status IN ('PENDING', 'FAILED') ORDER BY id LIMIT 1) AS oldest,
                   (SELECT count(*) FROM outbox WHERE status = 'SYNCED' AND synced_at >= ?) AS synced_today,
                   (SELECT count(*) FROM inbox WHERE status = 'APPLIED' AND applied_at >= ?) AS downloaded_today,
                   (SELECT count(*) FROM inbox WHERE status IN ('RECEIVED', 'WAITING')) AS download_waiting,
                   (SELECT count(*) FROM conflicts) AS conflicts,
                   (SELECT count(*) FROM conflicts WHERE detected_at >= ?) AS conflicts_today
            """;

    /** What the gauges need, cheap enough for every scrape. */
    static final String QUEUE = """
            SELECT (SELECT count(*) FROM outbox WHERE status IN ('PENDING', 'FAILED')) AS depth,
                   (SELECT created_at FROM outbox WHERE status IN ('PENDING', 'FAILED') ORDER BY id LIMIT 1) AS oldest
            """;

    static final String PENDING_FAILED = """
            SELECT (SELECT count(*) FROM outbox WHERE status = 'PENDING'),
                   (SELECT count(*) FROM outbox WHERE status = 'FAILED')
            """;

    static final String DEVICE = "SELECT key, value FROM device";

    /** Entries not yet on the remote, in upload order; {@code %s} is the extra condition of --errors. */
    static final String ENTRIES = """
            SELECT id, idempotency_key, chunk_id, op, status, retry_count, last_code, last_error, next_attempt_at,
                   base_version, revision, payload_bytes, created_at
              FROM outbox
             WHERE status IN ('PENDING', 'FAILED')%s
             ORDER BY id
             LIMIT ?
            """;

    static final String ERRORS_ONLY = " AND (status = 'FAILED' OR last_error IS NOT NULL)";

    static final String CONFLICTS = """
            SELECT id, chunk_id, policy, winner, reason, local_json, remote_json, loser_version, loser_file, detected_at
              FROM conflicts
             ORDER BY id DESC
             LIMIT ?
            """;

    /** The status page. */
    public record Status(String deviceId, SyncControl.Mode mode, boolean enabled, boolean remoteConfigured,
            Instant lastSync, QueueSummary queue, LocalToRemote localToRemote, RemoteToLocal remoteToLocal,
            Conflicts conflicts, boolean resyncing, String lastError, double clockSkewSeconds, Instant now) {}

    /** The local outbox entries not yet on the remote: pending and failed, and the age of the oldest. */
    public record QueueSummary(long depth, long pending, long failed, Instant oldestAt, double oldestAgeSeconds) {}

    /** Uploads: waiting, synced today, failed for good (until {@code sync retry}), the last success. */
    public record LocalToRemote(long pending, long syncedToday, long failed, Instant lastUpload) {}

    /** Downloads: the last successful pull, changes applied today, changes waiting for a pending upload. */
    public record RemoteToLocal(Instant lastPull, long downloadedToday, long waiting) {}

    /** Conflicts kept in the device's {@code conflicts} table. */
    public record Conflicts(long total, long today) {}

    /** One local outbox entry, as {@code sync queue} lists it (no payload). */
    public record Entry(long id, String key, String chunkId, String op, String status, int retries,
            String lastCode, String lastError, Instant nextAttemptAt, long baseVersion, long revision,
            long payloadBytes, Instant createdAt) {}

    /** The queue's counts and its first entries; {@code truncated} when {@code limit} cut the list. */
    public record Queue(long pending, long failed, boolean errorsOnly, List<Entry> entries, boolean truncated) {}

    /** One side of a conflict, without content or embedding. */
    public record Side(Long version, Instant modifiedAt, String modifiedBy, boolean deleted, String privacy,
            String documentId, boolean hasContent) {}

    /**
     * One conflict: both sides, the resolution (policy, winner, reason) and where the losing version is
     * kept ({@code loserFile}, null when {@code preserve-original} is off).
     */
    public record Conflict(long id, String chunkId, String policy, String winner, String reason, Side local,
            Side remote, Long loserVersion, String loserFile, Instant detectedAt) {}

    /** The newest conflicts first. */
    public record ConflictList(long total, List<Conflict> conflicts, boolean truncated) {}

    /** What the gauges read. */
    public record QueueDepth(long depth, Instant oldestAt) {}

    private final JdbcTemplate jdbc;
    private final DeviceIdentity identity;
    private final ObjectProvider<SyncControl> control;
    private final SyncProperties props;
    private final ObjectMapper json;
    private final Clock clock;

    public SyncStatusService(JdbcTemplate jdbc, DeviceIdentity identity, ObjectProvider<SyncControl> control,
            SyncProperties props, ObjectMapper json, ObjectProvider<Clock> clock) {
        this.jdbc = jdbc;
        this.identity = identity;
        this.control = control;
        this.props = props;
        this.json = json;
        this.clock = clock.getIfAvailable(Clock::systemDefaultZone);
    }

    /** Whether {@code vectorsync.sync.remote.jdbc-url} is set. */
    public boolean remoteConfigured() {
        return !props.remote().jdbcUrl().isBlank();
    }

    /** The engine, if this device runs one. */
    public Optional<SyncControl> control() {
        return Optional.ofNullable(control.getIfAvailable());
    }

    public Status status() {
        Instant now = clock.instant();
        ZoneId zone = ZoneId.systemDefault();
        String today = format(LocalDate.ofInstant(now, zone).atStartOfDay(zone).toInstant());
        Map<String, String> device = device();
        Optional<SyncControl> engine = control();
        SyncControl.Mode mode = engine.map(SyncControl::mode).orElse(SyncControl.Mode.OFFLINE);
        Instant lastUpload = engine.flatMap(SyncControl::lastUploadAt).orElse(parse(device.get("last_upload_at")));
        Instant lastPull = engine.flatMap(SyncControl::lastPullAt).orElse(parse(device.get("last_pull_at")));
        String lastError = engine.flatMap(SyncControl::lastError).orElse(null);
        double skew = engine.map(c -> seconds(c.clockSkew())).orElse(0.0);
        return jdbc.queryForObject(COUNTS, (rs, n) -> {
            long pending = rs.getLong("pending");
            long failed = rs.getLong("failed");
            Instant oldest = parse(rs.getString("oldest"));
            QueueSummary queue = new QueueSummary(pending + failed, pending, failed, oldest, age(oldest, now));
            return new Status(identity.deviceId(), mode, props.enabled(), remoteConfigured(),
                    later(lastUpload, lastPull), queue,
                    new LocalToRemote(pending, rs.getLong("synced_today"), failed, lastUpload),
                    new RemoteToLocal(lastPull, rs.getLong("downloaded_today"), rs.getLong("download_waiting")),
                    new Conflicts(rs.getLong("conflicts"), rs.getLong("conflicts_today")),
                    device.get("resync_after") != null, lastError, skew, now);
        }, today, today, today);
    }

    /** The entries not yet on the remote (with {@code errorsOnly}: failed or with an error), at most limit. */
    public Queue queue(boolean errorsOnly, int limit) {
        List<Entry> rows = jdbc.query(ENTRIES.formatted(errorsOnly ? ERRORS_ONLY : ""), SyncStatusService::entry,
                limit + 1);
        long[] counts = jdbc.queryForObject(PENDING_FAILED, (rs, n) -> new long[] {rs.getLong(1), rs.getLong(2)});
        boolean truncated = rows.size() > limit;
        return new Queue(counts[0], counts[1], errorsOnly, truncated ? rows.subList(0, limit) : rows, truncated);
    }

    /** The newest conflicts, at most limit. */
    public ConflictList conflicts(int limit) {
        List<Conflict> rows = jdbc.query(CONFLICTS, (rs, n) -> conflict(rs), limit + 1);
        Long total = jdbc.queryForObject("SELECT count(*) FROM conflicts", Long.class);
        boolean truncated = rows.size() > limit;
        return new ConflictList(total == null ? 0 : total, truncated ? rows.subList(0, limit) : rows, truncated);
    }

    /** Queue depth and its oldest entry, for the gauges. */
    public QueueDepth queueDepth() {
        return jdbc.queryForObject(QUEUE, (rs, n) -> new QueueDepth(rs.getLong("depth"), parse(rs.getString("oldest"))));
    }

    private Map<String, String> device() {
        Map<String, String> out = new HashMap<>();
        jdbc.query(DEVICE, rs -> {
            out.put(rs.getString(1), rs.getString(2));
        });
        return out;
    }

    private static Entry entry(ResultSet rs, int n) throws SQLException {
        return new Entry(rs.getLong("id"), rs.getString("idempotency_key"), rs.getString("chunk_id"),
                rs.getString("op"), rs.getString("status"), rs.getInt("retry_count"), rs.getString("last_code"),
                rs.getString("last_error"), parse(rs.getString("next_attempt_at")), rs.getLong("base_version"),
                rs.getLong("revision"), rs.getLong("payload_bytes"), parse(rs.getString("created_at")));
    }

    private Conflict conflict(ResultSet rs) throws SQLException {
        long loser = rs.getLong("loser_version");
        Long loserVersion = rs.wasNull() ? null : loser;
        return new Conflict(rs.getLong("id"), rs.getString("chunk_id"), rs.getString("policy"),
                rs.getString("winner"), rs.getString("reason"), side(rs.getString("local_json")),
                side(rs.getString("remote_json")), loserVersion, rs.getString("loser_file"),
                parse(rs.getString("detected_at")));
    }

    /** A side of a conflict from its JSON row ({@code chunkId, version, deleted, …, modifiedAt, modifiedBy}). */
    Side side(String row) {
        if (row == null || row.isBlank()) {
            return null;
        }
        JsonNode r;
        try {
            r = json.readTree(row);
        } catch (JsonProcessingException unreadable) {
            return null;
        }
        if (r == null || !r.isObject()) {
            return null;
        }
        JsonNode content = r.get("content");
        return new Side(r.hasNonNull("version") ? r.get("version").asLong() : null,
                parse(r.path("modifiedAt").asText(null)), r.path("modifiedBy").asText(null),
                r.path("deleted").asBoolean(false), r.path("privacy").asText(null), r.path("documentId").asText(null),
                content != null && !content.isNull());
    }

    static String format(Instant t) {
        return TIME.format(t);
    }

    /** A stored time, or null when absent or unreadable. */
    static Instant parse(String t) {
        if (t == null || t.isBlank()) {
            return null;
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException unreadable) {
            return null;
        }
    }

    static double age(Instant since, Instant now) {
        return since == null ? 0.0 : Math.max(0.0, seconds(Duration.between(since, now)));
    }

    static double seconds(Duration d) {
        return d.toNanos() / 1e9;
    }

    private static Instant later(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
