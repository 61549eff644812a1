package io.vectorsync.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/alerts}: the active alerts, oldest first (empty when all is well): a server's per backend
 * ({@link AlertEvaluator}), a device's sync alert ({@link SyncStuckAlert}).
 */
@Component
@Endpoint(id = "alerts")
public class AlertsEndpoint {

    private final ObjectProvider<AlertEvaluator> evaluator;
    private final ObjectProvider<SyncStuckAlert> sync;

    public AlertsEndpoint(ObjectProvider<AlertEvaluator> evaluator, ObjectProvider<SyncStuckAlert> sync) {
        this.evaluator = evaluator;
        this.sync = sync;
    }

    @ReadOperation
    public Map<String, Object> alerts() {
        List<AlertEvaluator.ActiveAlert> active = new ArrayList<>();
        evaluator.ifAvailable(e -> active.addAll(e.active()));
        sync.ifAvailable(s -> active.addAll(s.active()));
        return Map.of("alerts", active);
    }
}
