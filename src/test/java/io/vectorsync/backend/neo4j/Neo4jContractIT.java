package io.vectorsync.backend.neo4j;

import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.Neo4jServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The backend contract for Neo4j, against an in-process Neo4j (the test harness) on loopback Bolt. */
class Neo4jContractIT extends BackendContract {

    private static Neo4jBackend backend;
    private static Neo4jBackend unreachable;

    @BeforeAll
    static void start() {
        backend = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "url", Neo4jServer.boltUrl(),
                "collection", "ContractChunk"), DIMENSION);
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j", "url", "bolt://127.0.0.1:1",
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
}
