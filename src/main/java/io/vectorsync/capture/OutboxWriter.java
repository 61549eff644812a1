package io.vectorsync.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.config.ServerOnly;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Capture for applications that own their tables: writes one outbox event in the caller's transaction
 * (the Spring transaction bound to the thread), so the event exists if and only if the caller's change
 * commits. A full event goes through {@code vectorsync.enqueue}, which keeps the aggregate's current
 * state beside it (ADR 019); a lean UPSERT re-announces a chunk of the {@code chunks} table, whose row is
 * its state. Payloads are the full event; restricted fields must not be in them (LOCAL_ONLY chunks should
 * not be enqueued at all).
 */
@Component
@ServerOnly
public class OutboxWriter {

    /**
     * A full event (or a DELETE) through the capture function, which also keeps the aggregate's current
     * state in {@code aggregates} (ADR 019): one definition of capture for SQL and Java.
     */
    static final String ENQUEUE = "SELECT vectorsync.enqueue(?, ?, ?, ?::jsonb)";
    /** A lean UPSERT: the relay reads the chunk's row, so the chunk must be in {@code chunks}. */
    static final String INSERT_LEAN_UPSERT = """
            INSERT INTO outbox (event_id, type, chunk_id, version)
            SELECT ?, 'UPSERT', c.chunk_id, ? FROM chunks c WHERE c.chunk_id = ?
            """;

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;

    public OutboxWriter(JdbcTemplate jdbc, ObjectMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    /** A new event id: a monotonic ULID. */
    public static String newEventId() {
        return UlidCreator.getMonotonicUlid().toString();
    }

    /**
     * Enqueues an event in the current transaction and returns its id.
     *
     * @param type UPSERT, DELETE or LINK
     * @param payload the full payload (serialised with Jackson), or {@code null} for a lean event
     * @throws IllegalStateException when no transaction is active: an event outside the caller's
     *     transaction would break atomic capture
     */
    public String enqueue(String type, String chunkId, long version, Object payload) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("VSYNC-OUTBOX-NO-TRANSACTION: OutboxWriter.enqueue must run inside the"
                    + " transaction that makes the change (annotate the caller with @Transactional)");
        }
        if (!"UPSERT".equals(type) && !"DELETE".equals(type) && !"LINK".equals(type)) {
            throw new IllegalArgumentException("VSYNC-ENQUEUE-INVALID: type must be UPSERT, DELETE or LINK");
        }
        if ("LINK".equals(type) != (chunkId != null && chunkId.startsWith("link:"))) {
            // Edge keys (io.vectorsync.domain.Link.key) and chunk ids share the ledger: never the same text.
            throw new IllegalArgumentException("VSYNC-ENQUEUE-INVALID: a LINK event is keyed by its edge key"
                    + " (link:...), and a chunk id may not start with 'link:'");
        }
        if (version < 1) {
            throw new IllegalArgumentException("VSYNC-ENQUEUE-INVALID: version must be a positive integer");
        }
        String body;
        try {
            body = payload == null ? null : payload instanceof String s ? s : json.writeValueAsString(payload);
        } catch (Exception e) {
            throw new IllegalArgumentException("VSYNC-ENQUEUE-INVALID: payload is not serialisable as JSON", e);
        }
        if (body == null && "UPSERT".equals(type)) {
            String id = newEventId();
            if (jdbc.update(INSERT_LEAN_UPSERT, id, version, chunkId) == 0) {
                // The same code as vectorsync.enqueue, which refuses an UPSERT without a payload.
                throw new IllegalArgumentException("VSYNC-ENQUEUE-INVALID: an UPSERT without a payload (lean) needs"
                        + " the chunk in the chunks table; send the full payload for a chunk kept elsewhere");
            }
            return id;
        }
        try {
            return jdbc.queryForObject(ENQUEUE, String.class, type, chunkId, version, body);
        } catch (org.springframework.dao.DataAccessException e) {
            String message = e.getMostSpecificCause().getMessage();
            if (message != null && message.contains("VSYNC-ENQUEUE-")) {
                // The function's own code and reason (no payload in it): the caller's bad input.
                throw new IllegalArgumentException(message.substring(message.indexOf("VSYNC-ENQUEUE-"))
                        .lines().findFirst().orElse(message), e);
            }
            throw e;
        }
    }
}
