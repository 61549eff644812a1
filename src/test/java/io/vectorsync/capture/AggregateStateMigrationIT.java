package io.vectorsync.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.support.TestDatabases;
import java.util.List;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Migration V11 on a database with history: what applications enqueued before it, and retention left in
 * the outbox, becomes their state (the newest event of each key); chunks of the API stay the API's.
 */
class AggregateStateMigrationIT {

    private static String db;
    private static DriverManagerDataSource ds;

    @BeforeAll
    static void create() {
        db = TestDatabases.create("state_migration");
        ds = TestDatabases.dataSource(db);
    }

    @AfterAll
    static void drop() {
        TestDatabases.drop(db);
    }

    private static Flyway flyway(String target) {
        return TestDatabases.migrations(ds, target);
    }

    @Test
    void theRetainedOutboxBecomesTheApplicationsState() {
        flyway("10").migrate();
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        jdbc.update("INSERT INTO chunks (chunk_id, version) VALUES ('api-1', 3)");
        String insert = "INSERT INTO outbox (event_id, type, chunk_id, version, payload) VALUES (?, ?, ?, ?, ?::jsonb)";
        jdbc.update(insert, "e1", "UPSERT", "api-1", 3, null); // a lean event of the API: not state
        jdbc.update(insert, "e2", "UPSERT", "app-1", 1, "{\"content\": \"one\"}");
        jdbc.update(insert, "e3", "UPSERT", "app-1", 2, "{\"content\": \"two\", \"privacy\": \"REDACTED\"}");
        jdbc.update(insert, "e4", "UPSERT", "app-2", 5, "{\"content\": \"five\"}");
        jdbc.update(insert, "e5", "DELETE", "app-2", 6, null);
        jdbc.update(insert, "e6", "UPSERT", "app-3", 2, "{\"content\": \"newest\"}");
        jdbc.update(insert, "e7", "UPSERT", "app-3", 1, "{\"content\": \"older, committed later\"}");
        String edge = jdbc.queryForObject("SELECT vectorsync.link_key('app-1', 'CITES', 'api-1')", String.class);
        jdbc.update(insert, "e8", "LINK", edge, 1,
                "{\"from\": \"app-1\", \"type\": \"CITES\", \"to\": \"api-1\", \"op\": \"LINK\", \"properties\": {}}");
        jdbc.update(insert, "e9", "LINK", edge, 2,
                "{\"from\": \"app-1\", \"type\": \"CITES\", \"to\": \"api-1\", \"op\": \"UNLINK\", \"properties\": {}}");

        flyway("latest").migrate();

        List<Map<String, Object>> state = jdbc.queryForList("""
                SELECT key, version, deleted, privacy, owner, payload->>'content' AS content
                  FROM current_state ORDER BY key""");
        assertThat(state).containsExactly(
                row("api-1", 3, false, "FULL", "api", null),
                row("app-1", 2, false, "REDACTED", "application", "two"),
                row("app-2", 6, true, "FULL", "application", null),
                row("app-3", 2, false, "FULL", "application", "newest"),
                row(edge, 2, true, "FULL", "application", null));
    }

    private static Map<String, Object> row(String key, long version, boolean deleted, String privacy, String owner,
            String content) {
        Map<String, Object> m = new java.util.HashMap<>();
        m.put("key", key);
        m.put("version", version);
        m.put("deleted", deleted);
        m.put("privacy", privacy);
        m.put("owner", owner);
        m.put("content", content);
        return m;
    }
}
