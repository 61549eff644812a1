package io.vectorsync.backend.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendContract;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.BackendConfigs;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The backend contract for the webhook backend, against a real HTTP receiver on loopback that does
 * what the README asks of one: keep the newest version per chunk (a delete's version included, so an
 * older upsert can't bring a chunk back) and store what it was sent.
 */
class WebhookContractIT extends BackendContract {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "contract-secret-0123456789";
    private static final Map<String, Long> versions = new HashMap<>();
    private static final Map<String, StoredChunk> held = new HashMap<>();
    private static HttpServer server;
    private static WebhookBackend backend;
    private static WebhookBackend unreachable;

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
            body.get("events").forEach(WebhookContractIT::receive);
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        backend = new WebhookBackend("hooks", BackendConfigs.of("type", "webhook", "webhook.secret", SECRET,
                "webhook.url", "http://127.0.0.1:" + server.getAddress().getPort() + "/hook"), JSON, Clock.systemUTC());
        unreachable = new WebhookBackend("hooks", BackendConfigs.of("type", "webhook", "webhook.secret", SECRET,
                "webhook.url", "http://127.0.0.1:1/hook", "connect-timeout", "1s"), JSON, Clock.systemUTC());
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private static synchronized void receive(JsonNode e) {
        String id = e.get("chunkId").asText();
        long v = e.get("version").asLong();
        if (versions.getOrDefault(id, 0L) >= v) {
            return;
        }
        versions.put(id, v);
        if ("DELETE".equals(e.get("op").asText())) {
            held.remove(id);
            return;
        }
        float[] embedding = null;
        if (e.hasNonNull("embedding")) {
            embedding = new float[e.get("embedding").size()];
            for (int i = 0; i < embedding.length; i++) {
                embedding[i] = e.get("embedding").get(i).floatValue();
            }
        }
        held.put(id, new StoredChunk(v, new ChunkData(id, text(e, "documentId"), text(e, "content"), embedding,
                e.has("metadata") ? e.get("metadata").toString() : null, Privacy.parse(text(e, "privacy")))));
    }

    private static String text(JsonNode e, String field) {
        return e.hasNonNull(field) ? e.get(field).asText() : null;
    }

    @Override
    protected Backend backend() {
        return backend;
    }

    @Override
    protected Backend unreachableBackend() {
        return unreachable;
    }

    @Override
    protected synchronized Map<String, StoredChunk> stored(Collection<String> ids) {
        Map<String, StoredChunk> out = new HashMap<>();
        synchronized (WebhookContractIT.class) {
            ids.forEach(id -> {
                if (held.containsKey(id)) {
                    out.put(id, held.get(id));
                }
            });
        }
        return out;
    }
}
