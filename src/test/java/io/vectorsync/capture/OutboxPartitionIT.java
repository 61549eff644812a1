package io.vectorsync.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.VectorsyncApplication;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Every event carries its key's partition and the generation it was chosen under (V21, ADR 032), set by the
 * one trigger whatever wrote the row, under the shared lock a switch of the count takes exclusively.
 */
class OutboxPartitionIT {

    /** The advisory lock key of the partitioning ("vsync-pt"), as V21 takes it. */
    private static final long LOCK = 0x7673796e632d7074L;
    private static String db;
    private static DriverManagerDataSource ds;
    private static JdbcTemplate jdbc;

    @BeforeAll
    static void create() {
        db = TestDatabases.create("outbox_partitions");
        ds = TestDatabases.dataSource(db);
        jdbc = new JdbcTemplate(ds);
    }

    @AfterAll
    static void drop() {
        TestDatabases.drop(db);
    }

    private static Flyway flyway(String target) {
        return TestDatabases.migrations(ds, target);
    }

    @Test
    void eventsBeforeTheMigrationAreGenerationOnePartitionZeroAndEveryWriterIsPartitionedAfterIt()
            throws Exception {
        flyway("19").migrate();
        String insert = "INSERT INTO outbox (event_id, type, chunk_id, version, payload) VALUES (?, ?, ?, ?, ?::jsonb)";
        jdbc.update(insert, "old-1", "UPSERT", "k-old", 1, "{\"content\": \"before\"}");
        flyway("latest").migrate();
        assertThat(jdbc.queryForList("SELECT partition, partition_generation FROM outbox WHERE event_id = 'old-1'"))
                .containsExactly(Map.of("partition", 0, "partition_generation", 1));

        // One partition (the default): everything is partition 0 of generation 1, whatever the writer passed.
        jdbc.update("INSERT INTO outbox (event_id, type, chunk_id, version, partition, partition_generation)"
                + " VALUES ('passed', 'DELETE', 'k-passed', 1, 7, 9)");
        jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', 'k-enq', 1, '{\"content\": \"x\"}'::jsonb)",
                String.class);
        assertThat(jdbc.queryForList("SELECT DISTINCT partition, partition_generation FROM outbox"))
                .containsExactly(Map.of("partition", 0, "partition_generation", 1));

        // The count a switch would set (the switch itself is a later step of ADR 032): every writer's events
        // land in their key's partition under the new generation, a chunk's and an edge's always the same one.
        assertThatThrownBy(() -> jdbc.update("UPDATE relay_partitioning SET generation = 2, partitions = 8"))
                .as("no other partitioning can be written while the relay reads one partition only")
                .hasMessageContaining("relay_partitioning_only_one");
        jdbc.update("ALTER TABLE relay_partitioning DROP CONSTRAINT relay_partitioning_only_one"); // as the switch will
        jdbc.update("UPDATE relay_partitioning SET generation = 2, partitions = 8");
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            String key = "k-" + i;
            jdbc.queryForObject("SELECT vectorsync.enqueue('UPSERT', ?, 1, '{\"content\": \"x\"}'::jsonb)",
                    String.class, key);
            jdbc.update(insert, "raw-" + i, "DELETE", key, 2, null);
            jdbc.update("INSERT INTO outbox (event_id, type, chunk_id, version, partition) VALUES (?, 'UPSERT', ?, 3, 99)",
                    "passed-" + i, key);
            List<Map<String, Object>> rows = jdbc.queryForList("""
                    SELECT DISTINCT partition, partition_generation, vectorsync.partition_of(chunk_id, 8) AS expected
                      FROM outbox WHERE chunk_id = ?""", key);
            assertThat(rows).as("key %s: one partition for all its events, the one partition_of gives", key)
                    .hasSize(1);
            Map<String, Object> r = rows.get(0);
            assertThat(r.get("partition")).isEqualTo(r.get("expected"));
            assertThat(r.get("partition_generation")).isEqualTo(2);
            seen.add(((Number) r.get("partition")).intValue());
        }
        assertThat(seen).as("64 keys spread over the 8 partitions").hasSize(8).allMatch(p -> p >= 0 && p < 8);
        String edge = jdbc.queryForObject(
                "SELECT vectorsync.enqueue_link('k-1', 'CITES', 'k-2', 1)", String.class);
        Map<String, Object> link = jdbc.queryForMap("""
                SELECT o.partition, vectorsync.partition_of(o.chunk_id, 8) AS expected
                  FROM outbox o WHERE o.event_id = ?""", edge);
        assertThat(link.get("partition")).as("an edge is partitioned by its edge key").isEqualTo(link.get("expected"));

        // A cursor's window reads its own partition of its own generation only.
        io.vectorsync.relay.OutboxReader reader = new io.vectorsync.relay.OutboxReader(jdbc);
        String now = jdbc.queryForObject("SELECT pg_current_snapshot()::text", String.class);
        assertThat(windowIds(reader, 0, 1, now)).containsExactlyInAnyOrderElementsOf(jdbc.queryForList(
                "SELECT event_id FROM outbox WHERE partition_generation = 1", String.class)).hasSize(3);
        for (int p = 0; p < 8; p++) {
            assertThat(windowIds(reader, p, 2, now)).as("partition %s of generation 2", p)
                    .containsExactlyInAnyOrderElementsOf(jdbc.queryForList("SELECT event_id FROM outbox"
                            + " WHERE partition_generation = 2 AND vectorsync.partition_of(chunk_id, 8) = ?",
                            String.class, p))
                    .isNotEmpty();
        }

        // The partition of a key does not depend on anything but the key and the count.
        Map<String, Integer> twice = new HashMap<>();
        for (String key : List.of("a", "chunk-42", "link:1:a|T|b", "ünïcode")) {
            int first = jdbc.queryForObject("SELECT vectorsync.partition_of(?, 16)", Integer.class, key);
            int again = jdbc.queryForObject("SELECT vectorsync.partition_of(?, 16)", Integer.class, key);
            assertThat(again).isEqualTo(first).isBetween(0, 15);
            twice.put(key, first);
            assertThat(jdbc.queryForObject("SELECT vectorsync.partition_of(?, 1)", Integer.class, key)).isZero();
        }
        assertThat(twice).hasSize(4);
    }

    @Test
    void aCaptureInFlightHoldsOffTheSwitchAndASwitchHoldsOffCaptures() throws Exception {
        String lockDb = TestDatabases.create("outbox_partition_lock");
        DriverManagerDataSource lds = TestDatabases.dataSource(lockDb);
        TestDatabases.migrations(lds, "latest").migrate();
        JdbcTemplate jdbc = new JdbcTemplate(lds);
        try (Connection capture = TestDatabases.connect(lockDb); Connection other = TestDatabases.connect(lockDb);
                Connection switcher = TestDatabases.connect(lockDb)) {
            capture.setAutoCommit(false);
            try (Statement s = capture.createStatement()) {
                s.execute("INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('inflight', 'DELETE', 'k', 1)");
            }
            switcher.setAutoCommit(false);
            assertThat(tryLock(switcher)).as("the switch can't start while a capture is in flight").isFalse();
            try (Statement s = other.createStatement()) {
                s.execute("INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('beside', 'DELETE', 'k2', 1)");
            }
            assertThat(jdbc.queryForObject("SELECT count(*) FROM outbox WHERE event_id = 'beside'", Long.class))
                    .as("two captures never wait for each other").isOne();
            capture.commit();
            assertThat(tryLock(switcher)).as("once the capture committed, the switch takes the lock").isTrue();

            // While the switch holds it, a capture waits (here: gives up after its lock_timeout).
            try (Statement s = other.createStatement()) {
                s.execute("SET lock_timeout = '300ms'");
                assertThatThrownBy(() -> s.execute(
                                "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('waits', 'DELETE', 'k3', 1)"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"));
            }
            switcher.commit();
            assertThat(jdbc.queryForObject("SELECT count(*) FROM outbox WHERE event_id = 'waits'", Long.class))
                    .isZero();

            // A REPEATABLE READ capture whose snapshot predates a switch can't write the old generation: the
            // row it reads FOR SHARE was changed after its snapshot (40001, retried like any serialization
            // failure).
            jdbc.update("ALTER TABLE relay_partitioning DROP CONSTRAINT relay_partitioning_only_one");
            try (Statement s = capture.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                s.execute("SELECT count(*) FROM outbox"); // the snapshot is taken here
                jdbc.update("UPDATE relay_partitioning SET generation = 2, partitions = 2");
                assertThatThrownBy(() -> s.execute(
                                "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('stale', 'DELETE', 'k4', 1)"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("40001"));
                capture.rollback();
            }
            try (Statement s = capture.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                s.execute("INSERT INTO outbox (event_id, type, chunk_id, version) VALUES ('fresh', 'DELETE', 'k4', 1)");
                capture.commit();
            }
            assertThat(jdbc.queryForObject("SELECT partition_generation FROM outbox WHERE event_id = 'fresh'",
                            Integer.class))
                    .as("a REPEATABLE READ capture after the switch writes the new generation").isEqualTo(2);
        } finally {
            TestDatabases.drop(lockDb);
        }
    }

    @Test
    void theRelayRefusesToStartOnAPartitioningItDoesNotRead() {
        String other = TestDatabases.create("partitions_refused");
        try {
            DriverManagerDataSource ods = TestDatabases.dataSource(other);
            TestDatabases.migrations(ods, "latest").migrate();
            JdbcTemplate o = new JdbcTemplate(ods);
            o.update("ALTER TABLE relay_partitioning DROP CONSTRAINT relay_partitioning_only_one"); // by hand, say
            o.update("UPDATE relay_partitioning SET generation = 2, partitions = 4");
            assertThatThrownBy(() -> new SpringApplicationBuilder(VectorsyncApplication.class)
                            .properties("spring.datasource.url=" + TestDatabases.url(other),
                                    "spring.datasource.username=" + TestDatabases.USER)
                            .run("--server.port=0").close())
                    .hasStackTraceContaining("VSYNC-CONFIG-PARTITIONS")
                    .hasStackTraceContaining("generation 2 with 4 partitions");
        } finally {
            TestDatabases.drop(other);
        }
    }

    private static List<String> windowIds(io.vectorsync.relay.OutboxReader reader, int partition, int generation,
            String snapshot) {
        return reader.window("b", partition, generation, io.vectorsync.relay.CursorRepository.BEGINNING, snapshot,
                        null, null, 10_000, false)
                .events().stream().map(io.vectorsync.domain.OutboxEvent::eventId).toList();
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); var rs = s.executeQuery("SELECT pg_try_advisory_xact_lock(" + LOCK + ")")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
