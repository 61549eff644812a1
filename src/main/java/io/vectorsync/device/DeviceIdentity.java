package io.vectorsync.device;

import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.config.DeviceOnly;
import io.vectorsync.config.SyncProperties;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * This device's id, which the remote records as {@code modified_by} and as {@code origin} of the events
 * it writes: {@code vectorsync.sync.device-id} when set, otherwise one generated on the first start
 * ({@code device-<ulid>}) and kept in the device's database, so it survives restarts.
 */
@Component
@DeviceOnly
public class DeviceIdentity {

    private final String deviceId;

    public DeviceIdentity(DeviceSettings settings, SyncProperties sync) {
        this.deviceId = sync.deviceId().isEmpty()
                ? settings.putIfAbsent(DeviceSettings.DEVICE_ID,
                        "device-" + UlidCreator.getUlid().toString().toLowerCase(Locale.ROOT))
                : sync.deviceId();
    }

    public String deviceId() {
        return deviceId;
    }
}
