package io.vectorsync.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vectorsync.backend.TransientBackendException;
import java.net.ConnectException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.neo4j.driver.exceptions.ServiceUnavailableException;

/** Which failures mean the backend did not answer at all, told by the exceptions' types in the cause chain. */
class RelayFailuresTest {

    @Test
    void aLostConnectionIsToldByTheTypeOfACauseAnywhereInTheChain() {
        assertThat(RelayFailures.connectionLost(new TransientBackendException("x", new ConnectException("refused"))))
                .isTrue();
        assertThat(RelayFailures.connectionLost(new TransientBackendException("x",
                new RuntimeException(new ServiceUnavailableException("no Neo4j server"))))).isTrue();
        assertThat(RelayFailures.connectionLost(new TransientBackendException("x", new SQLException("gone", "08006"))))
                .isTrue();
    }

    @Test
    void anAnswerThatRefusesIsNoLostConnection() {
        assertThat(RelayFailures.connectionLost(new TransientBackendException("x", new SQLException("busy", "40001"))))
                .isFalse();
        assertThat(RelayFailures.connectionLost(new TransientBackendException("HTTP 503", null))).isFalse();
    }
}
