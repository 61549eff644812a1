package io.vectorsync.device;

import io.vectorsync.config.DeviceOnly;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * What the device keeps about itself in its SQLite table {@code device} (key, value): its id, the remote's
 * identity, the download cursor, times of the last upload and pull, pause, the clock's correction. A write
 * joins the caller's transaction when there is one.
 */
@Component
@DeviceOnly
public class DeviceSettings {

    public static final String DEVICE_ID = "device_id";
    public static final String REMOTE_SYSTEM_ID = "remote_system_id";
    public static final String DOWNLOAD_CURSOR = "download_cursor";
    public static final String RESYNC_AFTER = "resync_after";
    public static final String LAST_UPLOAD_AT = "last_upload_at";
    public static final String LAST_PULL_AT = "last_pull_at";
    public static final String PAUSED = "paused";
    public static final String HLC_LAST = "hlc_last";
    public static final String CLOCK_OFFSET_MICROS = "clock_offset_micros";

    private static final String GET = "SELECT value FROM device WHERE key = ?";
    private static final String PUT = """
            INSERT INTO device (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """;
    private static final String PUT_IF_ABSENT = "INSERT INTO device (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";
    private static final String REMOVE = "DELETE FROM device WHERE key = ?";

    private final JdbcTemplate jdbc;

    public DeviceSettings(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public Optional<String> get(String key) {
        List<String> v = jdbc.queryForList(GET, String.class, key);
        return v.isEmpty() ? Optional.empty() : Optional.ofNullable(v.get(0));
    }

    public void put(String key, String value) {
        jdbc.update(PUT, key, value);
    }

    /** Keeps {@code value} unless the key has one; returns the value now kept. */
    public String putIfAbsent(String key, String value) {
        jdbc.update(PUT_IF_ABSENT, key, value);
        return get(key).orElseThrow();
    }

    public void remove(String key) {
        jdbc.update(REMOVE, key);
    }

    /** A time kept under {@code key} (the device's time format), or empty. */
    public Optional<Instant> instant(String key) {
        return get(key).map(HybridClock::parse);
    }
}
