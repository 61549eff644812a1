package io.vectorsync.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real HTTP server on 127.0.0.1 for the tests that need a receiver (webhook backend, alert webhook):
 * every request goes to one handler, each on a thread of its own (a handler may hang), and
 * {@link #close()} stops the server and interrupts any handler still running. Held in a static
 * {@code @RegisterExtension} field, it closes itself after the test class.
 */
public final class LoopbackReceiver implements AutoCloseable, AfterAllCallback {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    /** Counted down by {@link #close()}: ends every {@link #hang}. */
    private final CountDownLatch closed = new CountDownLatch(1);
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "loopback-receiver");
        t.setDaemon(true);
        return t;
    });

    private LoopbackReceiver(int port, HttpHandler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.setExecutor(executor);
        server.createContext("/", handler);
        server.start();
    }

    /** Starts a receiver on a free port that answers every request with the handler. */
    public static LoopbackReceiver start(HttpHandler handler) {
        return start(0, handler);
    }

    /** Starts a receiver on the given port (0: a free one) that answers every request with the handler. */
    public static LoopbackReceiver start(int port, HttpHandler handler) {
        try {
            return new LoopbackReceiver(port, handler);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The port the receiver listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The receiver's URL for the path, e.g. {@code url("/hook")}. */
    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    /** The request's body parsed as JSON. */
    public static JsonNode body(HttpExchange exchange) throws IOException {
        return JSON.readTree(exchange.getRequestBody().readAllBytes());
    }

    /** The {@code events} array of a webhook request's body. */
    public static JsonNode events(HttpExchange exchange) throws IOException {
        return body(exchange).get("events");
    }

    /** The chunk ids of the events, in order. */
    public static List<String> chunkIds(JsonNode events) {
        List<String> ids = new ArrayList<>();
        events.forEach(e -> ids.add(e.get("chunkId").asText()));
        return ids;
    }

    /** Hangs the calling handler for the milliseconds given, or until the receiver is closed. */
    public void hang(long millis) {
        try {
            closed.await(millis, TimeUnit.MILLISECONDS); // the fault itself: a server that does not answer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Answers the status with no body and closes the exchange; a caller that went away is ignored. */
    public static void respond(HttpExchange exchange, int status) {
        respond(exchange, status, "");
    }

    /** Answers the status and body (none if empty) and closes the exchange; a caller that went away is ignored. */
    public static void respond(HttpExchange exchange, int status, String body) {
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        try (exchange) {
            exchange.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                exchange.getResponseBody().write(out);
            }
        } catch (IOException callerGone) {
            // the caller stopped waiting (its read timeout): there is no one to answer
        }
    }

    /** Stops the server at once and interrupts the handlers still running. */
    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    /** Closes the receiver once the test class is done (as a {@code @RegisterExtension}). */
    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }
}
