package io.vectorsync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.vectorsync.support.AbstractIT;
import io.vectorsync.support.LoopbackReceiver;
import io.vectorsync.support.TestDatabases;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Three backends, one of them down: the replica in the primary, a remote PostgreSQL and a webhook
 * receiver whose server is stopped (connections refused). The two healthy backends keep receiving every
 * event while the third is down; when its server comes back on the same port it drains by itself, and
 * nothing is parked or dead-lettered on the way.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "camel.main.routes-include-pattern=file:routes/*.camel.yaml,classpath:test-routes-three/*.camel.yaml",
        "vectorsync.backends.remote.postgres.table=remote_chunks",
        "vectorsync.backends.hooks.type=webhook",
        "vectorsync.backends.hooks.webhook.secret=three-backends-secret-0123",
        "vectorsync.backends.hooks.connect-timeout=250ms",
        "vectorsync.backends.hooks.read-timeout=2s"})
class ThreeBackendsIT extends AbstractIT {

    private static final String REMOTE = TestDatabases.create("three_remote");
    private static final Map<String, Long> received = new ConcurrentHashMap<>();
    private static volatile LoopbackReceiver receiver = LoopbackReceiver.start(ThreeBackendsIT::receive);
    private static final int PORT = receiver.port();

    private static void receive(HttpExchange ex) throws IOException {
        for (JsonNode e : LoopbackReceiver.events(ex)) {
            String id = e.get("chunkId").asText();
            long v = e.get("op").asText().equals("DELETE") ? -e.get("version").asLong() : e.get("version").asLong();
            received.merge(id, v, (a, b) -> Math.abs(b) > Math.abs(a) ? b : a);
        }
        LoopbackReceiver.respond(ex, 204);
    }

    @DynamicPropertySource
    static void backends(DynamicPropertyRegistry registry) {
        registry.add("vectorsync.backends.remote.postgres.jdbc-url", () -> TestDatabases.url(REMOTE));
        registry.add("vectorsync.backends.remote.postgres.username", () -> TestDatabases.USER);
        registry.add("vectorsync.backends.hooks.webhook.url", () -> "http://127.0.0.1:" + PORT + "/hook");
    }

    @AfterAll
    static void stop() {
        receiver.close();
        TestDatabases.drop(REMOTE);
    }

    /** The primary's live chunks (version), and deleted ones as negative versions. */
    private Map<String, Long> primary() {
        Map<String, Long> out = new HashMap<>();
        jdbc.query("SELECT chunk_id, version, deleted FROM chunks WHERE chunk_id LIKE 't-%'",
                rs -> {
                    out.put(rs.getString(1), rs.getBoolean(3) ? -rs.getLong(2) : rs.getLong(2));
                });
        return out;
    }

    private Map<String, Long> live(Map<String, Long> all) {
        Map<String, Long> out = new HashMap<>();
        all.forEach((k, v) -> {
            if (v > 0) {
                out.put(k, v);
            }
        });
        return out;
    }

    private final JdbcTemplate remote = new JdbcTemplate(
            new DriverManagerDataSource(TestDatabases.url(REMOTE), TestDatabases.USER, ""));

    private Map<String, Long> table(JdbcTemplate db, String table) {
        Map<String, Long> out = new HashMap<>();
        db.query("SELECT chunk_id, version FROM " + table + " WHERE chunk_id LIKE 't-%'",
                rs -> {
                    out.put(rs.getString(1), rs.getLong(2));
                });
        return out;
    }

    private boolean healthyInStep() {
        Map<String, Long> want = live(primary());
        return table(jdbc, "replica_chunks").equals(want) && table(remote, "remote_chunks").equals(want);
    }

    private boolean receiverInStep() {
        Map<String, Long> want = primary();
        Map<String, Long> got = new HashMap<>(received);
        got.keySet().retainAll(want.keySet());
        return got.equals(want);
    }

    @Test
    void twoHealthyBackendsKeepReceivingEveryEventWhileTheThirdIsDownAndItDrainsWhenBack() {
        for (int i = 0; i < 20; i++) {
            put("t-" + i, chunkBody("before " + i));
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> healthyInStep() && receiverInStep());

        receiver.close(); // the receiver's server is gone: connections are refused
        for (int i = 0; i < 60; i++) {
            put("t-" + (i % 40), chunkBody("during the outage " + i));
        }
        for (int i = 0; i < 5; i++) {
            delete("t-" + (i * 3));
        }
        await().atMost(Duration.ofSeconds(20)).until(this::healthyInStep);
        assertThat(receiverInStep()).as("the receiver is down, it can't be in step").isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                count("SELECT consecutive_failures FROM relay_cursor WHERE backend = 'hooks'") > 0);
        assertThat(count("SELECT consecutive_failures FROM relay_cursor WHERE backend IN ('replica', 'remote')"
                .replace("SELECT consecutive_failures", "SELECT coalesce(sum(consecutive_failures), 0)"))).isZero();

        // Back on the same port: the backlog drains by itself.
        receiver = LoopbackReceiver.start(PORT, ThreeBackendsIT::receive);
        await().atMost(Duration.ofSeconds(30)).until(this::receiverInStep);
        assertThat(healthyInStep()).isTrue();
        assertThat(count("SELECT count(*) FROM parked") + count("SELECT count(*) FROM dead_letter")).isZero();
    }
}
