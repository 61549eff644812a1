package io.vectorsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Verify and repair of a remote PostgreSQL backend with a field allowlist (content and metadata.lang
 * only). The remote target acknowledges an already-applied (chunk, version) as a duplicate
 * ({@code vectorsync_applied}), so this proves repair's forced writes at the versions already applied
 * (ADR 019) get through where re-sending them would be skipped; the replica is not written.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-remote/*.camel.yaml",
        "vectorsync.backends.remote.postgres.table=remote_chunks",
        "vectorsync.backends.remote.fields=content,metadata.lang"})
class RemoteVerifyIT extends AbstractIT {

    private static final String REMOTE = TestDatabases.create("verify_remote");

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.remote.postgres.jdbc-url", () -> TestDatabases.url(REMOTE));
        registry.add("vectorsync.backends.remote.postgres.username", () -> TestDatabases.USER);
    }

    private void remote(String sql) throws Exception {
        try (Connection c = TestDatabases.connect(REMOTE); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute(sql);
        }
    }

    private boolean delivered() {
        return deliveredTo("remote") && count("SELECT count(*) FROM repair_keys") == 0;
    }

    private JsonNode verify(boolean repair) throws Exception {
        return verifyResult("remote", repair);
    }


    @Test
    void repairOfARemotePostgresBackendGetsPastItsDuplicateCheck() throws Exception {
        for (int i = 0; i < 20; i++) {
            Map<String, Object> body = chunkBody("text " + i);
            body.put("metadata", Map.of("lang", "en", "owner", "o-" + i));
            put("r-" + String.format("%02d", i), body);
        }
        put("r-03", chunkBody("second"));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(this::delivered);
        JsonNode clean = verify(false);
        assertThat(verifyCounts(clean)).as("allowlist applied: no documentId, embedding or metadata.owner expected")
                .isEqualTo("0/0/0/0");

        remote("DELETE FROM remote_chunks WHERE chunk_id = 'r-01'");
        remote("UPDATE remote_chunks SET content = 'changed' WHERE chunk_id = 'r-02'");
        remote("UPDATE remote_chunks SET version = 1 WHERE chunk_id = 'r-03'");
        remote("UPDATE remote_chunks SET metadata = '{\"lang\":\"en\",\"owner\":\"leaked\"}' WHERE chunk_id = 'r-04'");
        remote("INSERT INTO remote_chunks (chunk_id, version, content, metadata, privacy) VALUES ('r-x', 1, 'x', '{}', 'FULL')");

        JsonNode found = verify(false);
        assertThat(verifyCounts(found)).isEqualTo("1/1/1/2");
        assertThat(found.path("samples").path("corrupt").toString()).isEqualTo("[\"r-02\",\"r-04\"]");

        long events = count("SELECT count(*) FROM outbox");
        String replica = jdbc.queryForObject("SELECT string_agg(chunk_id || xmin::text, ',' ORDER BY chunk_id)"
                + " FROM replica_chunks", String.class);
        assertThat(verify(true).path("repaired").asLong()).isEqualTo(5);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(this::delivered);
        // Forced at the versions the primary has: no outbox event, and the replica is not written.
        assertThat(count("SELECT count(*) FROM outbox")).isEqualTo(events);
        assertThat(jdbc.queryForObject("SELECT string_agg(chunk_id || xmin::text, ',' ORDER BY chunk_id)"
                + " FROM replica_chunks", String.class)).isEqualTo(replica);
        JsonNode again = verify(false);
        assertThat(verifyCounts(again)).isEqualTo("0/0/0/0");
        assertThat(again.path("backendCount").asLong()).isEqualTo(20);
        awaitReplicaInStep(Duration.ofSeconds(10));
    }
}
