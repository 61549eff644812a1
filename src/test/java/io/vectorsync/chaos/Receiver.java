package io.vectorsync.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The webhook backend's receiver: a real HTTP server on 127.0.0.1 that honours versions (keeps the
 * newest version of each chunk, deletes as tombstones, so an older event never overwrites a newer one)
 * and counts what it absorbs: exact duplicates ({@code chunkId:version} seen again) and stale events
 * (older than what it holds). At random moments it answers 5xx: 503 before applying anything, or 500
 * after applying the batch (so the relay sends it again). While {@link #refusing} it refuses poison
 * events (a fixed 0.1% of {@code chunkId:version} keys, by a seeded hash) with 422 and
 * {@code {"failedIndex": n}}, applying nothing of that request. While {@link #failing} it also hangs on a
 * few stalling events ({@link #stallPerMille} of the keys, at most {@link #MAX_STALLING_KEYS} in a run):
 * for {@link #STALL_WINDOW_MILLIS} after it first sees one, every request holding it hangs
 * {@link #STALL_MILLIS} (longer than the chaos run's 3 s lease and 2 s read timeout) and then fails
 * without applying anything, so the relay must isolate the event over several timed-out calls, a
 * delivery longer than its lease (issue 12 item 1); after the window the event is accepted.
 */
final class Receiver implements AutoCloseable {

    /** What the receiver holds for one chunk; {@code deleted} is a tombstone. */
    record Held(long version, boolean deleted, String documentId, String content, JsonNode metadata,
            float[] embedding, String privacy) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    static final long STALL_MILLIS = 4_000;
    static final long STALL_WINDOW_MILLIS = 15_000;
    static final int MAX_STALLING_KEYS = 6;

    private final HttpServer server;
    /** Counted down by {@link #close()}: ends a stall at once. */
    private final java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
    private final ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "chaos-receiver");
        t.setDaemon(true);
        return t;
    });
    private final long poisonSeed;
    private final int poisonPerMille;
    private final int failBeforePerMille;
    private final int failAfterPerMille;
    private final SplittableRandom random;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    final Set<String> refused = ConcurrentHashMap.newKeySet();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong events = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong stale = new AtomicLong();
    final AtomicLong answered5xx = new AtomicLong();
    final AtomicLong answered422 = new AtomicLong();
    final AtomicLong stalled = new AtomicLong();
    /** Stalling keys ({@code chunkId:version}) and when each was first seen (System.nanoTime()). */
    final Map<String, Long> stallingSince = new ConcurrentHashMap<>();
    private final int stallPerMille;
    volatile boolean refusing = true;
    volatile boolean failing = true;

    Receiver(long seed, int poisonPerMille, int failBeforePerMille, int failAfterPerMille) throws IOException {
        this(seed, poisonPerMille, failBeforePerMille, failAfterPerMille, 1);
    }

    Receiver(long seed, int poisonPerMille, int failBeforePerMille, int failAfterPerMille, int stallPerMille)
            throws IOException {
        this.stallPerMille = stallPerMille;
        this.poisonSeed = seed;
        this.poisonPerMille = poisonPerMille;
        this.failBeforePerMille = failBeforePerMille;
        this.failAfterPerMille = failAfterPerMille;
        this.random = new SplittableRandom(seed);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.createContext("/hook", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Whether this event key is poison (refused while {@link #refusing}): a fixed share of all keys. */
    boolean isPoison(String chunkId, long version) {
        long h = poisonSeed ^ (chunkId.hashCode() * 0x9E3779B97F4A7C15L) ^ (version * 0xC2B2AE3D27D4EB4FL);
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return Math.floorMod(h, 1000) < poisonPerMille;
    }

    /** Whether the request holds a stalling event still in its stall window. */
    private boolean stalls(JsonNode list) {
        long now = System.nanoTime();
        for (JsonNode e : list) {
            String key = e.get("chunkId").asText() + ":" + e.get("version").asLong();
            Long since = stallingSince.get(key);
            if (since == null && isStalling(e.get("chunkId").asText(), e.get("version").asLong())) {
                synchronized (stallingSince) {
                    if (stallingSince.size() < MAX_STALLING_KEYS) {
                        since = stallingSince.computeIfAbsent(key, k -> now);
                    }
                }
            }
            if (since != null && now - since < STALL_WINDOW_MILLIS * 1_000_000L) {
                return true;
            }
        }
        return false;
    }

    /** Whether this event key stalls (while the run's cap allows): a share of keys apart from the poison ones. */
    boolean isStalling(String chunkId, long version) {
        if (isPoison(chunkId, version)) {
            return false;
        }
        long h = ~poisonSeed ^ (chunkId.hashCode() * 0xD6E8FEB86659FD93L) ^ (version * 0x9E3779B97F4A7C15L);
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return Math.floorMod(h, 1000) < stallPerMille;
    }

    private synchronized int draw() {
        return random.nextInt(1000);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            requests.incrementAndGet();
            JsonNode body = JSON.readTree(ex.getRequestBody().readAllBytes());
            int r = failing ? draw() : 1000;
            if (r < failBeforePerMille) {
                answered5xx.incrementAndGet();
                answer(ex, 503, "{\"error\":\"chaos: unavailable\"}");
                return;
            }
            JsonNode list = body.get("events");
            if (failing && stalls(list)) {
                stalled.incrementAndGet();
                try {
                    // the fault itself: this receiver hangs on the event (until the stall is over or it closes)
                    closed.await(STALL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                answered5xx.incrementAndGet();
                try {
                    answer(ex, 503, "{\"error\":\"chaos: stalled\"}");
                } catch (IOException clientGone) {
                    // the relay stopped waiting (its read timeout)
                }
                return;
            }
            if (refusing) {
                for (int i = 0; i < list.size(); i++) {
                    JsonNode e = list.get(i);
                    if (isPoison(e.get("chunkId").asText(), e.get("version").asLong())) {
                        refused.add(e.get("chunkId").asText() + ":" + e.get("version").asLong());
                        answered422.incrementAndGet();
                        answer(ex, 422, "{\"failedIndex\": " + i + "}");
                        return;
                    }
                }
            }
            for (JsonNode e : list) {
                apply(e);
            }
            if (r < failBeforePerMille + failAfterPerMille) {
                answered5xx.incrementAndGet();
                answer(ex, 500, "{\"error\":\"chaos: failed after applying\"}");
                return;
            }
            answer(ex, 200, "{}");
        }
    }

    private static void answer(HttpExchange ex, int status, String body) throws IOException {
        byte[] out = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
    }

    private void apply(JsonNode e) {
        events.incrementAndGet();
        String id = e.get("chunkId").asText();
        long v = e.get("version").asLong();
        if (!seen.add(id + ":" + v)) {
            duplicates.incrementAndGet();
            return;
        }
        boolean delete = "DELETE".equals(e.get("op").asText());
        held.compute(id, (k, old) -> {
            if (old != null && old.version() >= v) {
                stale.incrementAndGet();
                return old;
            }
            if (delete) {
                return new Held(v, true, null, null, null, null, null);
            }
            JsonNode emb = e.get("embedding");
            float[] f = null;
            if (emb != null && emb.isArray()) {
                f = new float[emb.size()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) emb.get(i).asDouble();
                }
            }
            return new Held(v, false, text(e, "documentId"), text(e, "content"), e.get("metadata"), f,
                    text(e, "privacy"));
        });
    }

    private static String text(JsonNode e, String field) {
        JsonNode n = e.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    /** A copy of what the receiver holds, tombstones included. */
    Map<String, Held> snapshot() {
        return new HashMap<>(held);
    }

    @Override
    public void close() {
        closed.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}
