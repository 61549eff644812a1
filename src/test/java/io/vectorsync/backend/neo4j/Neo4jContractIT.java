package io.vectorsync.backend.neo4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.Neo4jServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;

/** The backend contract for Neo4j, against an in-process Neo4j (the test harness) on loopback Bolt. */
class Neo4jContractIT extends BackendContract {

    private static Neo4jBackend backend;
    private static Neo4jBackend unreachable;

    @BeforeAll
    static void start() {
        backend = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "neo4j.url", Neo4jServer.boltUrl(),
                "neo4j.label", "ContractChunk"), DIMENSION);
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "neo4j.url", "bolt://127.0.0.1:1",
                "connect-timeout", "1s"), DIMENSION);
    }

    @AfterAll
    static void stop() {
        backend.close();
        unreachable.close();
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
    void aLabelWhoseNodesBreakTheUniqueIdStopsTheStartUpAndHoldsWritesBackUnCharged() {
        try (Driver driver = GraphDatabase.driver(Neo4jServer.boltUrl(), AuthTokens.none())) {
            driver.executableQuery("CREATE (:DuplicateChunk {memory_id: 'twice'}), (:DuplicateChunk {memory_id: 'twice'})")
                    .execute();
        }
        Neo4jBackend broken = new Neo4jBackend("broken", BackendConfigs.of("type", "neo4j",
                "neo4j.url", Neo4jServer.boltUrl(), "neo4j.label", "DuplicateChunk"), DIMENSION);
        try {
            assertThatThrownBy(broken::bootstrap).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("vectorsync.backends.broken").hasMessageContaining("memory_id");
            assertThatThrownBy(() -> broken.apply(List.of(upsert("a", 1, "x")), LeaseFence.of(1)))
                    .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isTrue());
        } finally {
            broken.close();
        }
    }
}
