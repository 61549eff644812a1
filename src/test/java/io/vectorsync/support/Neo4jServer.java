package io.vectorsync.support;

import java.net.URI;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One in-process Neo4j (the test harness) for the tests of a JVM, started on first use: Bolt on
 * 127.0.0.1 at a port the system picks, the HTTP server disabled, a small page cache, a temporary
 * directory. Closed when the JVM exits; tests keep apart by their own node ids.
 */
public final class Neo4jServer {

    private static final Logger log = LoggerFactory.getLogger(Neo4jServer.class);
    private static Neo4j server;

    private Neo4jServer() {}

    /** The Bolt URL of the running server, starting it first if needed. */
    public static synchronized String boltUrl() {
        if (server == null) {
            long started = System.nanoTime();
            server = Neo4jBuilders.newInProcessBuilder()
                    .withDisabledServer()
                    .withConfig(BoltConnector.enabled, true)
                    .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", 0))
                    .withConfig(GraphDatabaseSettings.pagecache_memory, 32L * 1024 * 1024)
                    .build();
            log.info("Neo4j test server started at {} in {} ms", server.boltURI(),
                    (System.nanoTime() - started) / 1_000_000);
            Neo4j running = server;
            Runtime.getRuntime().addShutdownHook(new Thread(running::close, "neo4j-test-server-stop"));
        }
        URI uri = server.boltURI();
        return "bolt://127.0.0.1:" + uri.getPort();
    }
}
