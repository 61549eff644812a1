package io.vectorsync.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.TestDatabases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The backend contract for a remote PostgreSQL (pgvector) target: another database on the local server,
 * written through its own connection pool, as a remote primary or replica would be.
 */
class PostgresContractIT extends BackendContract {

    private static String database;
    private static PostgresBackend backend;
    private static PostgresBackend unreachable;

    @BeforeAll
    static void start() {
        database = TestDatabases.create("contract");
        backend = new PostgresBackend("remote", BackendConfigs.of("postgres.jdbc-url", TestDatabases.url(database),
                "postgres.username", TestDatabases.USER), null, DIMENSION);
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new PostgresBackend("remote", BackendConfigs.of(
                "postgres.jdbc-url", "jdbc:postgresql://127.0.0.1:1/none", "postgres.username", TestDatabases.USER,
                "connect-timeout", "1s"), null, DIMENSION);
    }

    @AfterAll
    static void stop() {
        backend.close();
        unreachable.close();
        TestDatabases.drop(database);
    }

    @Override
    protected Backend backend() {
        return backend;
    }

    @Override
    protected Backend unreachableBackend() {
        return unreachable;
    }

    @Test
    void aReplayedEventIsRecognisedByItsIdempotencyKeyAndAcknowledged() throws Exception {
        long before = backend.duplicatesAcknowledged();
        backend.apply(List.of(upsert("dup", 1, "once")), LeaseFence.of(1));
        backend.apply(List.of(upsert("dup", 1, "once"), upsert("fresh", 1, "new")), LeaseFence.of(1));
        assertThat(backend.duplicatesAcknowledged() - before).isEqualTo(1);
        try (Connection c = TestDatabases.connect(database);
                ResultSet rs = c.createStatement().executeQuery(
                        "SELECT count(*) FROM vectorsync_applied WHERE event_key IN ('" + id("dup") + ":1', '"
                                + id("fresh") + ":1')")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(2);
        }
        assertThat(backend.readBackVersions(List.of(id("dup"), id("fresh"))))
                .containsEntry(id("dup"), 1L).containsEntry(id("fresh"), 1L);
    }
}
