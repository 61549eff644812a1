package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.TestDatabases;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.web.client.RestClient;

/**
 * A backend added to a running system is backfilled from a snapshot of {@code chunks}, so it never
 * depends on the outbox history that retention kept: here the whole outbox is trimmed before the
 * backend is added. Changes made while the backfill runs arrive through the outbox after it, and the
 * progress is visible in the admin status.
 */
class BackfillIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static String primary;
    private static String target;

    @BeforeAll
    static void databases() {
        primary = TestDatabases.create("backfill");
        target = TestDatabases.create("backfill_target");
    }

    @AfterAll
    static void dropDatabases() {
        TestDatabases.drop(primary);
        TestDatabases.drop(target);
    }

    private static ConfigurableApplicationContext start(boolean withLate, String... extra) {
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--server.address=127.0.0.1",
                "--spring.profiles.active=test",
                "--spring.datasource.url=" + TestDatabases.url(primary),
                "--spring.datasource.username=" + TestDatabases.USER,
                "--camel.main.routes-include-pattern=file:routes/*.camel.yaml"
                        + (withLate ? ",classpath:test-routes-late/late.camel.yaml" : "")));
        args.addAll(List.of(extra));
        return new SpringApplicationBuilder(VectorsyncApplication.class).run(args.toArray(String[]::new));
    }

    private static javax.sql.DataSource dataSource(String db) {
        return new org.springframework.jdbc.datasource.DriverManagerDataSource(TestDatabases.url(db), TestDatabases.USER, "");
    }

    private static RestClient client(ConfigurableApplicationContext ctx) {
        int port = ((WebServerApplicationContext) ctx).getWebServer().getPort();
        return RestClient.create("http://127.0.0.1:" + port);
    }

    private static void put(RestClient http, String id, String content, String privacy) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("documentId", "doc-" + id);
        body.put("content", content);
        List<Float> e = new ArrayList<>();
        for (int i = 0; i < 384; i++) {
            e.add((float) Math.sin(id.hashCode() + i));
        }
        body.put("embedding", e);
        body.put("metadata", Map.of("lang", "en"));
        body.put("privacy", privacy);
        http.put().uri("/api/v1/chunks/{id}", id).contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().toBodilessEntity();
    }

    private static void delete(RestClient http, String id) {
        http.delete().uri("/api/v1/chunks/{id}", id).retrieve().toBodilessEntity();
    }

    /** What the new backend must hold: live chunks of the primary with their version and shareable content. */
    private static Map<String, List<Object>> expected(JdbcTemplate jdbc) {
        Map<String, List<Object>> out = new HashMap<>();
        jdbc.query("SELECT chunk_id, version, CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END AS content"
                + " FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'", rs -> {
                    out.put(rs.getString(1), java.util.Arrays.asList(rs.getLong(2), rs.getString(3)));
                });
        return out;
    }

    private static Map<String, List<Object>> held(JdbcTemplate targetJdbc) {
        Map<String, List<Object>> out = new HashMap<>();
        targetJdbc.query("SELECT chunk_id, version, content FROM late_chunks", rs -> {
            out.put(rs.getString(1), java.util.Arrays.asList(rs.getLong(2), rs.getString(3)));
        });
        return out;
    }

    @Test
    void aBackendAddedLaterIsBackfilledFromChunksAndThenFollowsTheOutbox() throws Exception {
        // A running system with history: 150 chunks, some rewritten, deleted, redacted or local only.
        try (ConfigurableApplicationContext first = start(false)) {
            RestClient http = client(first);
            for (int i = 0; i < 150; i++) {
                put(http, "h-" + i, "text " + i, i % 10 == 3 ? "REDACTED" : i % 10 == 7 ? "LOCAL_ONLY" : "FULL");
            }
            for (int i = 0; i < 150; i += 11) {
                put(http, "h-" + i, "second " + i, "FULL");
            }
            for (int i = 5; i < 150; i += 13) {
                delete(http, "h-" + i);
            }
        }
        JdbcTemplate jdbc = new JdbcTemplate(dataSource(primary));
        // Retention trimmed every event: the backfill must not need them.
        jdbc.update("DELETE FROM outbox");
        long live = Objects.requireNonNull(jdbc.queryForObject(
                "SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'", Long.class));

        try (ConfigurableApplicationContext second = start(true,
                "--vectorsync.backends.late.postgres.jdbc-url=" + TestDatabases.url(target),
                "--vectorsync.backends.late.postgres.username=" + TestDatabases.USER,
                "--vectorsync.backends.late.postgres.table=late_chunks",
                "--vectorsync.backends.late.batch-size=7")) {
            RestClient http = client(second);
            // Changes while the backfill runs: new chunks, updates, deletes, a privacy downgrade.
            for (int i = 0; i < 20; i++) {
                put(http, "h-" + (i * 7), "during backfill " + i, "FULL");
                put(http, "n-" + i, "new " + i, "FULL");
            }
            delete(http, "h-1");
            put(http, "h-2", "now local", "LOCAL_ONLY");
            put(http, "h-4", "now redacted", "REDACTED");

            JdbcTemplate targetJdbc = new JdbcTemplate(dataSource(target));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> held(targetJdbc).equals(expected(jdbc)));

            Map<String, Object> cursor = jdbc.queryForMap("SELECT backfilling, backfill_done, backfill_total,"
                    + " backfill_finished_at FROM relay_cursor WHERE backend = 'late'");
            assertThat(cursor.get("backfilling")).isEqualTo(false);
            assertThat(cursor.get("backfill_total")).isEqualTo(live);
            // Every chunk alive at the snapshot was copied (but the two deleted or made local meanwhile),
            // plus what became live during the backfill and sorts after the pages: the 20 new chunks, h-70
            // (deleted, written again) and h-7 (LOCAL_ONLY, written FULL), depending on where the pages were.
            assertThat((Long) cursor.get("backfill_done")).isBetween(live - 2, live + 22);
            assertThat(cursor.get("backfill_finished_at")).isNotNull();

            JsonNode status = JSON.readTree(http.get().uri("/admin/v1/status")
                    .header("Authorization", "Bearer " + AbstractIT.ADMIN_TOKEN).retrieve().body(String.class));
            JsonNode late = null;
            for (JsonNode b : status.get("backends")) {
                if (b.get("backend").asText().equals("late")) {
                    late = b;
                }
            }
            assertThat(late).isNotNull();
            assertThat(late.get("backfill").get("running").asBoolean()).isFalse();
            assertThat(late.get("backfill").get("total").asLong()).isEqualTo(live);

            // After the backfill the backend follows the outbox like any other.
            put(http, "after-1", "after", "FULL");
            delete(http, "h-0");
            await().atMost(Duration.ofSeconds(20)).until(() -> held(targetJdbc).equals(expected(jdbc)));
            assertThat(jdbc.queryForObject("SELECT count(*) FROM dead_letter", Long.class)).isZero();
        }
    }
}
