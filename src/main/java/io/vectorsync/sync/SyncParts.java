package io.vectorsync.sync;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import io.vectorsync.device.DeviceSettings;
import io.vectorsync.device.DeviceStore;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * What the upload and the download both work with: the device's database ({@code jdbc}, {@code tx}) and its
 * sync writes ({@code store}), the remote, the conflicts kept, the engine's state in the device table ({@code settings}), its wall clock, the
 * counters, the clock skew, JSON and the configuration.
 */
@Component
@DeviceOnly
public record SyncParts(JdbcTemplate jdbc, TransactionTemplate tx, RemoteSync remote, DeviceStore store,
        ConflictKeeper conflicts, DeviceSettings settings, SyncState state, SyncCounters counters, ClockSkew skew, ObjectMapper json,
        SyncProperties properties) {}
