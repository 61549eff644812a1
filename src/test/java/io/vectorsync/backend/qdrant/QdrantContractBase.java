package io.vectorsync.backend.qdrant;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.support.BackendConfigs;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The backend contract for Qdrant, against {@link FakeQdrant} (a loopback server that keeps points in
 * memory and validates every exchange against Qdrant's OpenAPI document). After each test no request or
 * response may have broken the document. Subclasses pick the delete mode.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class QdrantContractBase extends BackendContract {

    static final ObjectMapper JSON = new ObjectMapper();
    FakeQdrant qdrant;
    QdrantBackend backend;
    private QdrantBackend unreachable;

    /** {@code hard} or {@code soft}. */
    abstract String deleteMode();

    @BeforeAll
    final void start() {
        qdrant = FakeQdrant.start();
        backend = new QdrantBackend("vectors", BackendConfigs.of("type", "qdrant", "qdrant.url", qdrant.url(),
                "qdrant.delete-mode", deleteMode()), DIMENSION, JSON, Clock.systemUTC());
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new QdrantBackend("vectors", BackendConfigs.of("type", "qdrant", "qdrant.url", "http://127.0.0.1:1",
                "connect-timeout", "1s"), DIMENSION, JSON, Clock.systemUTC());
    }

    @AfterEach
    final void everyExchangeFollowedTheOpenApiDocument() {
        assertThat(qdrant.violations()).as("requests and responses that break Qdrant's OpenAPI document").isEmpty();
    }

    @AfterAll
    final void stop() {
        qdrant.close();
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
