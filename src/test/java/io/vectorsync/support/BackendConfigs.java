package io.vectorsync.support;

import io.vectorsync.config.VectorsyncProperties;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * A backend's configuration bound the way Spring binds {@code vectorsync.backends.<name>.*}, defaults
 * included, from property names relative to the backend and values:
 * {@code BackendConfigs.of("type", "webhook", "webhook.url", "...", "read-timeout", "2s")}.
 */
public final class BackendConfigs {

    private BackendConfigs() {}

    public static VectorsyncProperties.Backend of(String... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("keys and values come in pairs");
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put("b." + keyValues[i], keyValues[i + 1]);
        }
        map.putIfAbsent("b.type", "postgres");
        return new Binder(new MapConfigurationPropertySource(map)).bindOrCreate("b", VectorsyncProperties.Backend.class);
    }
}
