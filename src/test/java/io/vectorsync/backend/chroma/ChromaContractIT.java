package io.vectorsync.backend.chroma;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.support.BackendConfigs;
import io.vectorsync.support.ChromaServer;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The backend contract for Chroma, against a real Chroma server (the npm {@code chromadb} CLI) on
 * loopback. The collection uses the {@code l2} distance: the contract compares embeddings bit for bit,
 * and a local Chroma's {@code cosine} index hands back a renormalised copy that can differ in the last
 * bit ({@link ChromaBackendIT} covers the cosine default).
 */
class ChromaContractIT extends BackendContract {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static ChromaServer server;
    private static ChromaBackend backend;
    private static ChromaBackend unreachable;

    @BeforeAll
    static void start() {
        server = ChromaServer.start();
        backend = new ChromaBackend("contract", BackendConfigs.of("type", "chroma", "chroma.url", server.url(),
                "chroma.distance", "l2"), DIMENSION, JSON, Clock.systemUTC());
        backend.bootstrap();
        // Nothing listens on port 1 of the loopback address: the connection is refused at once.
        unreachable = new ChromaBackend("contract", BackendConfigs.of("type", "chroma", "chroma.url", "http://127.0.0.1:1",
                "connect-timeout", "1s"), DIMENSION, JSON, Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
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
