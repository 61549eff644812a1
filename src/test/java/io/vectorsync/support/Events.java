package io.vectorsync.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.SplittableRandom;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Full-payload outbox events as applications write them, through {@code vectorsync.enqueue(...)} with
 * explicit versions: on a plain JDBC connection (inside the caller's transaction) or through a
 * {@link JdbcTemplate} (a transaction of its own).
 */
public final class Events {

    public static final int DIMENSION = 384;
    private static final String ENQUEUE = "SELECT vectorsync.enqueue(?, ?, ?, ?::jsonb)";

    private Events() {}

    /** An UPSERT payload with a deterministic 384-dimension embedding derived from the seed. */
    public static String payload(String documentId, String content, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder(DIMENSION * 12 + 200);
        sb.append("{\"documentId\":").append(quote(documentId))
                .append(",\"content\":").append(quote(content))
                .append(",\"metadata\":{\"seed\":").append(seed).append("}")
                .append(",\"privacy\":\"FULL\",\"embedding\":[");
        for (int i = 0; i < DIMENSION; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append((float) r.nextDouble(-1, 1));
        }
        return sb.append("]}").toString();
    }

    /** Enqueues an UPSERT in its own transaction; returns the event id. */
    public static String upsert(JdbcTemplate jdbc, String chunkId, long version, String documentId, String content) {
        return jdbc.queryForObject(ENQUEUE, String.class, "UPSERT", chunkId, version,
                payload(documentId, content, (chunkId + ":" + version).hashCode()));
    }

    /** Enqueues a DELETE in its own transaction; returns the event id. */
    public static String delete(JdbcTemplate jdbc, String chunkId, long version) {
        return jdbc.queryForObject(ENQUEUE, String.class, "DELETE", chunkId, version, null);
    }

    /** Enqueues an UPSERT in the connection's current transaction; returns the outbox id. */
    public static long upsert(Connection c, String chunkId, long version, String documentId, String content)
            throws SQLException {
        String eventId;
        try (PreparedStatement ps = c.prepareStatement(ENQUEUE)) {
            ps.setString(1, "UPSERT");
            ps.setString(2, chunkId);
            ps.setLong(3, version);
            ps.setString(4, payload(documentId, content, (chunkId + ":" + version).hashCode()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                eventId = rs.getString(1);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM outbox WHERE event_id = ?")) {
            ps.setString(1, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
