package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.capture.DeliveryStatus;
import io.vectorsync.config.ServerOnly;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Capture's {@link DeliveryStatus} from the relay's own records: a version is SYNCED to a backend once
 * the delivery ledger holds it or a later one, FAILED while an open dead letter holds it or a later one,
 * else PENDING. Every enabled backend is listed.
 */
@Component
@ServerOnly
public class RelayDeliveryStatus implements DeliveryStatus {

    private static final String APPLIED = "SELECT version FROM delivery_ledger WHERE backend = ? AND chunk_key = ?";
    private static final String DEAD = """
            SELECT 1 FROM dead_letter WHERE backend = ? AND chunk_id = ? AND version >= ?
               AND replayed_at IS NULL AND discarded_at IS NULL LIMIT 1
            """;

    private final JdbcTemplate jdbc;
    private final BackendRegistry backends;

    public RelayDeliveryStatus(JdbcTemplate jdbc, BackendRegistry backends) {
        this.jdbc = jdbc;
        this.backends = backends;
    }

    @Override
    public Map<String, State> of(String chunkId, long version) {
        Map<String, State> out = new LinkedHashMap<>();
        for (String backend : backends.all().keySet()) {
            Long applied = jdbc.queryForList(APPLIED, Long.class, backend, chunkId).stream().findFirst().orElse(null);
            boolean failed = !jdbc.queryForList(DEAD, Integer.class, backend, chunkId, version).isEmpty();
            out.put(backend, applied != null && applied >= version ? State.SYNCED
                    : failed ? State.FAILED : State.PENDING);
        }
        return out;
    }
}
