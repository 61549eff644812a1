package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * An operator's backfill (ADR 010) rebuilds a remote PostgreSQL backend whose table was wiped: the
 * target's own record of applied keys ({@code vectorsync_applied}, which a TRUNCATE of the table leaves
 * behind) must not filter out what the target no longer holds.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "vectorsync.backends.remote.postgres.table=remote_chunks"})
class RemoteBackfillIT extends AbstractIT {

    private static final String REMOTE = TestDatabases.create("backfill_remote");

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.remote.postgres.jdbc-url", () -> TestDatabases.url(REMOTE));
        registry.add("vectorsync.backends.remote.postgres.username", () -> TestDatabases.USER);
    }

    private List<String> remoteIds() throws Exception {
        try (Connection c = TestDatabases.connect(REMOTE); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT chunk_id || ':' || version FROM remote_chunks ORDER BY chunk_id")) {
            List<String> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add(rs.getString(1));
            }
            return ids;
        }
    }

    @Test
    void anOperatorBackfillRestoresEveryChunkOfATruncatedRemoteTable() throws Exception {
        for (int i = 1; i <= 5; i++) {
            assertThat(put("w-" + i, chunkBody("text " + i)).getStatusCode().value()).isEqualTo(201);
        }
        assertThat(put("w-3", chunkBody("second")).getStatusCode().value()).isEqualTo(200);
        List<String> synced = List.of("w-1:1", "w-2:1", "w-3:2", "w-4:1", "w-5:1");
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> remoteIds().equals(synced));

        try (Connection c = TestDatabases.connect(REMOTE); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("TRUNCATE remote_chunks");
        }
        assertThat(remoteIds()).isEmpty();

        ResponseEntity<String> started = adminPost("/admin/v1/backends/{backend}/backfill", "remote");
        assertThat(started.getStatusCode().value()).as(started.getBody()).isEqualTo(202);
        // A BACKFILL job: it sets the backfill state, mirrors it and completes once the relay copied the last page.
        String job = json.readTree(started.getBody()).path("job").path("id").asText();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> "COMPLETED".equals(
                jdbc.queryForObject("SELECT status FROM jobs WHERE id = ?", String.class, job)));
        assertThat(jdbc.queryForObject("SELECT backfilling FROM relay_cursor WHERE backend = 'remote'", Boolean.class))
                .isFalse();
        assertThat(remoteIds()).as("every live chunk is back at its version").isEqualTo(synced);
        try (Connection c = TestDatabases.connect(REMOTE); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT content FROM remote_chunks WHERE chunk_id = 'w-3'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("second");
        }
    }
}
