package io.vectorsync.backend.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendFactory;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Clock;
import org.springframework.stereotype.Component;

/** Backends of type {@code webhook}: a JSON batch POSTed to a receiver, signed with HMAC-SHA256. */
@Component
public final class WebhookBackendFactory implements BackendFactory {

    private final ObjectMapper json;

    public WebhookBackendFactory(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public String type() {
        return "webhook";
    }

    @Override
    public Backend create(String name, VectorsyncProperties.Backend config) {
        return new WebhookBackend(name, config, json, Clock.systemUTC());
    }
}
