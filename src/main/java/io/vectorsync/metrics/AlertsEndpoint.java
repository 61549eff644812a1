package io.vectorsync.metrics;

import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/** {@code /actuator/alerts}: the active alerts, oldest first (empty when all is well). */
@Component
@Endpoint(id = "alerts")
@io.vectorsync.config.ServerOnly
public class AlertsEndpoint {

    private final AlertEvaluator evaluator;

    public AlertsEndpoint(AlertEvaluator evaluator) {
        this.evaluator = evaluator;
    }

    @ReadOperation
    public Map<String, Object> alerts() {
        return Map.of("alerts", evaluator.active());
    }
}
