package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Through the running relay: a backend with a field allowlist receives only the embedding and one
 * metadata key; REDACTED chunks never carry content and LOCAL_ONLY chunks never arrive anywhere; a
 * privacy downgrade replaces or deletes the stored record. Both backends are read back.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-remote/*.camel.yaml",
        "vectorsync.backends.remote.postgres.table=narrow_chunks",
        "vectorsync.backends.remote.fields=embedding,metadata.lang"})
class FieldAllowlistIT extends AbstractIT {

    private static final String REMOTE = TestDatabases.create("allowlist_remote");
    private final JdbcTemplate remote = new JdbcTemplate(
            new DriverManagerDataSource(TestDatabases.url(REMOTE), TestDatabases.USER, ""));

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.remote.postgres.jdbc-url", () -> TestDatabases.url(REMOTE));
        registry.add("vectorsync.backends.remote.postgres.username", () -> TestDatabases.USER);
    }

    @AfterAll
    static void drop() {
        TestDatabases.drop(REMOTE);
    }

    private Map<String, Object> chunk(String content, String privacy) {
        Map<String, Object> body = new LinkedHashMap<>(chunkBody(content));
        body.put("metadata", Map.of("lang", "de", "owner", "alice@example.org"));
        body.put("privacy", privacy);
        return body;
    }

    private Map<String, Map<String, Object>> rows(JdbcTemplate db, String table) {
        Map<String, Map<String, Object>> out = new HashMap<>();
        db.queryForList("SELECT chunk_id, version, document_id, content, metadata::text AS metadata, privacy,"
                + " embedding IS NOT NULL AS has_embedding FROM " + table + " WHERE chunk_id LIKE 'f-%'")
                .forEach(r -> out.put((String) r.get("chunk_id"), r));
        return out;
    }

    @Test
    void restrictedFieldsNeverLeaveThePrimaryAndADowngradeReplacesOrDeletes() {
        put("f-full", chunk("open text", "FULL"));
        put("f-red", chunk("hidden text", "REDACTED"));
        put("f-local", chunk("local text", "LOCAL_ONLY"));
        put("f-down", chunk("was open", "FULL"));
        put("f-gone", chunk("was open", "FULL"));
        await().atMost(Duration.ofSeconds(20)).until(() -> rows(remote, "narrow_chunks").size() == 4
                && rows(jdbc, "replica_chunks").size() == 4);
        put("f-down", chunk("was open", "REDACTED"));
        put("f-gone", chunk("was open", "LOCAL_ONLY"));
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            var r = rows(remote, "narrow_chunks");
            var p = rows(jdbc, "replica_chunks");
            return r.size() == 3 && p.size() == 3 && Long.valueOf(2).equals(r.get("f-down").get("version"))
                    && Long.valueOf(2).equals(p.get("f-down").get("version"));
        });

        Map<String, Map<String, Object>> narrow = rows(remote, "narrow_chunks");
        assertThat(narrow).containsOnlyKeys("f-full", "f-red", "f-down");
        narrow.values().forEach(r -> {
            assertThat(r.get("content")).as("content of %s", r.get("chunk_id")).isNull();
            assertThat(r.get("document_id")).isNull();
            assertThat((String) r.get("metadata")).contains("\"lang\"").doesNotContain("owner").doesNotContain("alice");
            assertThat(r.get("has_embedding")).isEqualTo(true);
        });

        Map<String, Map<String, Object>> full = rows(jdbc, "replica_chunks");
        assertThat(full).containsOnlyKeys("f-full", "f-red", "f-down");
        assertThat(full.get("f-full").get("content")).isEqualTo("open text");
        assertThat((String) full.get("f-full").get("metadata")).contains("owner");
        assertThat(full.get("f-red").get("content")).isNull();
        assertThat(full.get("f-down").get("content")).as("a downgrade replaces, never merges").isNull();
        assertThat(full.get("f-down").get("privacy")).isEqualTo("REDACTED");
    }
}
