package io.vectorsync.backend.neo4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.support.BackendConfigs;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.exceptions.AuthenticationException;
import org.neo4j.driver.exceptions.ClientException;
import org.neo4j.driver.exceptions.DatabaseException;
import org.neo4j.driver.exceptions.ServiceUnavailableException;
import org.neo4j.driver.exceptions.SessionExpiredException;
import org.neo4j.driver.exceptions.TransientException;

/** Configuration checks and error classification, without a server (the driver connects lazily). */
class Neo4jBackendTest {

    private final Neo4jBackend backend = new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j"), 8);

    @Test
    void theLabelMustBeAnIdentifierAndTheUrlBolt() {
        assertThat(backend.label()).isEqualTo("Chunk");
        assertThat(backend.tombstoneLabel()).isEqualTo("VectorsyncTombstone_Chunk");
        assertThatThrownBy(() -> new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j",
                "neo4j.label", "Chunk`) DETACH DELETE (x"), 8))
                .hasMessageContaining("vectorsync.backends.graph.neo4j.label");
        assertThatThrownBy(() -> new Neo4jBackend("graph", BackendConfigs.of("type", "neo4j",
                "neo4j.url", "http://127.0.0.1:7474"), 8))
                .hasMessageContaining("vectorsync.backends.graph.neo4j.url must be a Bolt URL");
    }

    @Test
    void errorsAreClassifiedByTypeAndStatusCode() {
        assertThat(backend.classify(new ServiceUnavailableException("down"), 3, "write"))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isTrue());
        assertThat(backend.classify(new AuthenticationException("Neo.ClientError.Security.Unauthorized", "no"), 3, "w"))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isTrue());
        assertThat(backend.classify(new SessionExpiredException("gone"), 3, "write"))
                .isInstanceOfSatisfying(TransientBackendException.class, e -> assertThat(e.unreachable()).isFalse());
        assertThat(backend.classify(new TransientException("Neo.TransientError.Transaction.DeadlockDetected", "d"),
                3, "write")).isInstanceOf(TransientBackendException.class);
        assertThat(backend.classify(new ClientException("Neo.ClientError.Transaction.TransactionTimedOut", "t"),
                3, "write")).isInstanceOf(TransientBackendException.class);
        assertThat(backend.classify(new DatabaseException("Neo.DatabaseError.General.UnknownError", "x"), 3, "w"))
                .isInstanceOf(TransientBackendException.class);
        assertThat(backend.classify(new ClientException("Neo.ClientError.Statement.TypeError", "secret value"), 1,
                "write")).isInstanceOfSatisfying(PermanentBackendException.class, e -> {
                    assertThat(e.failedIndex()).as("the batch's only change").isZero();
                    assertThat(e.getMessage()).contains("Neo.ClientError.Statement.TypeError")
                            .doesNotContain("secret value");
                });
        assertThat(backend.classify(new ClientException("Neo.ClientError.Statement.TypeError", "x"), 4, "write"))
                .isInstanceOfSatisfying(PermanentBackendException.class, e -> assertThat(e.failedIndex()).isEqualTo(-1));
    }

    @Test
    void linkPropertiesBecomeNeo4jValues() {
        assertThat(Neo4jBackend.properties("{\"s\":\"x\",\"n\":1,\"d\":1.5,\"b\":true,\"nums\":[1,2.5],"
                + "\"mixed\":[1,\"a\"],\"obj\":{\"k\":[1]},\"none\":null,\"version\":9}"))
                .containsOnlyKeys("s", "n", "d", "b", "nums", "mixed", "obj")
                .containsEntry("n", 1L).containsEntry("nums", List.of(1.0, 2.5))
                .containsEntry("mixed", "[1,\"a\"]").containsEntry("obj", "{\"k\":[1]}");
    }
}
