package io.vectorsync.backend.qdrant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP server on 127.0.0.1 that behaves like Qdrant for what the backend uses (collections, payload
 * indexes, upsert with {@code update_filter}, delete by ids or filter, batch {@code set_payload}, retrieve,
 * data in memory; Cosine vectors normalised on write as Qdrant does) and checks every exchange against
 * Qdrant's OpenAPI document: a request that doesn't validate is answered 422 (404 for an unknown path) in
 * Qdrant's error shape and recorded in {@link #violations()}, as is any response of its own that
 * doesn't validate. It can answer the next requests with an error status (and Retry-After), stall until
 * released, refuse points of given chunk ids, and require an {@code api-key}.
 */
final class FakeQdrant implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(FakeQdrant.class);
    private static final OpenApiContract CONTRACT = loadContract();

    private static OpenApiContract loadContract() {
        long t0 = System.nanoTime();
        OpenApiContract c = OpenApiContract.load();
        log.info("Qdrant's OpenAPI document loaded and converted in {} ms", (System.nanoTime() - t0) / 1_000_000);
        return c;
    }

    /** One request as received: method, path and query, operation id (null if unknown), body. */
    record Request(String method, String uri, String operationId, JsonNode body, String apiKey) {}

    record Point(float[] vector, ObjectNode payload) {}

    static final class Coll {
        final int size;
        final String distance;
        final Map<String, String> indexes = new ConcurrentHashMap<>();
        final Map<String, Point> points = new LinkedHashMap<>();

        Coll(int size, String distance) {
            this.size = size;
            this.distance = distance;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Coll> collections = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();
    private final Set<String> refusedChunkIds = ConcurrentHashMap.newKeySet();
    private final AtomicInteger failNext = new AtomicInteger();
    private volatile int failStatus = 503;
    private volatile String retryAfter;
    private volatile CountDownLatch stall;
    private volatile String apiKey;
    private volatile String version = "1.19.0";
    private final Map<String, Runnable> beforeNext = new ConcurrentHashMap<>();

    private FakeQdrant() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    static FakeQdrant start() {
        try {
            long t0 = System.nanoTime();
            FakeQdrant f = new FakeQdrant();
            log.info("FakeQdrant listening on {} after {} ms", f.url(), (System.nanoTime() - t0) / 1_000_000);
            return f;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Requests and responses that broke the OpenAPI document, or that this fake could not serve. */
    List<String> violations() {
        return List.copyOf(violations);
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    Coll collection(String name) {
        return collections.get(name);
    }

    Set<String> collectionNames() {
        return Set.copyOf(collections.keySet());
    }

    synchronized Point point(String collection, UUID id) {
        Coll c = collections.get(collection);
        return c == null ? null : c.points.get(id.toString());
    }

    /** The next {@code n} requests are answered {@code status}, with Retry-After when not null. */
    void failNext(int n, int status, String retryAfterHeader) {
        failStatus = status;
        retryAfter = retryAfterHeader;
        failNext.set(n);
    }

    /** Requests wait (up to 10 s) until {@link #release()}. */
    void stall() {
        stall = new CountDownLatch(1);
    }

    void release() {
        CountDownLatch s = stall;
        stall = null;
        if (s != null) {
            s.countDown();
        }
    }

    /** Upserts holding a point with one of these chunk ids are refused with 400, as Qdrant refuses bad input. */
    void refuse(String chunkId) {
        refusedChunkIds.add(chunkId);
    }

    /** Runs {@code action} (under the store's lock) right before serving the next {@code operationId}. */
    void beforeNext(String operationId, Runnable action) {
        beforeNext.put(operationId, action);
    }

    /** Writes a point straight into the store, as another client would have. */
    synchronized void putPoint(String collection, UUID id, float[] vector, ObjectNode payload) {
        collections.get(collection).points.put(id.toString(), new Point(vector, payload));
    }

    synchronized void removePoint(String collection, UUID id) {
        collections.get(collection).points.remove(id.toString());
    }

    /** The version {@code GET /} reports (default 1.19.0, the contract's). */
    void version(String v) {
        version = v;
    }

    void requireApiKey(String key) {
        apiKey = key;
    }

    @Override
    public void close() {
        release();
        server.stop(0);
        executor.shutdownNow();
    }

    // ---------------------------------------------------------------- HTTP

    private record Answer(int status, JsonNode body) {}

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] raw = ex.getRequestBody().readAllBytes();
            String method = ex.getRequestMethod();
            String rawPath = ex.getRequestURI().getRawPath();
            String rawQuery = ex.getRequestURI().getRawQuery();
            OpenApiContract.RequestCheck check = CONTRACT.checkRequest(method, rawPath, rawQuery, raw,
                    ex.getRequestHeaders().getFirst("Content-Type"));
            JsonNode body = null;
            try {
                body = raw.length == 0 ? null : JSON.readTree(raw);
            } catch (IOException notJson) {
                body = null;
            }
            String uri = rawPath + (rawQuery == null ? "" : "?" + rawQuery);
            requests.add(new Request(method, uri, check.operation() == null ? null : check.operation().operationId(),
                    body, ex.getRequestHeaders().getFirst("api-key")));
            CountDownLatch s = stall;
            if (s != null) {
                try {
                    s.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            Answer answer;
            boolean injected = false;
            if (!check.valid()) {
                violations.add(method + " " + uri + ": " + check.problems());
                answer = error(check.operation() == null ? 404 : 422, "Validation error: " + check.problems());
            } else if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                if (retryAfter != null) {
                    ex.getResponseHeaders().add("Retry-After", retryAfter);
                }
                answer = error(failStatus, "Service unavailable (test)");
                injected = true;
            } else if (apiKey != null && !apiKey.equals(ex.getRequestHeaders().getFirst("api-key"))) {
                answer = error(401, "Must provide an API key or an Authorization bearer token");
            } else {
                try {
                    synchronized (this) {
                        Runnable first = beforeNext.remove(check.operation().operationId());
                        if (first != null) {
                            first.run();
                        }
                        answer = serve(check.operation().operationId(), check.pathParameters(), body);
                    }
                } catch (Unsupported e) {
                    violations.add(method + " " + uri + ": the fake does not support " + e.getMessage());
                    answer = error(400, "Unsupported by the test server: " + e.getMessage());
                }
            }
            if (check.operation() != null && !(injected && !CONTRACT.declares(check.operation(), answer.status()))) {
                // an injected failure stands for a proxy or a restart in front of Qdrant: its status need not be
                // one the operation declares (GET / declares no 5xx), but when it is, its body must fit too
                List<String> problems = CONTRACT.checkResponse(check.operation(), answer.status(), answer.body());
                if (!problems.isEmpty()) {
                    violations.add("response to " + method + " " + uri + ": " + problems);
                }
            }
            byte[] out = JSON.writeValueAsBytes(answer.body());
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(answer.status(), out.length);
            ex.getResponseBody().write(out);
        } catch (RuntimeException e) {
            violations.add("the fake failed: " + e);
            throw e;
        }
    }

    private static Answer ok(JsonNode result) {
        ObjectNode o = JSON.createObjectNode();
        o.set("result", result);
        o.put("status", "ok");
        o.put("time", 0.0001);
        return new Answer(200, o);
    }

    private static Answer error(int status, String message) {
        ObjectNode o = JSON.createObjectNode();
        o.putObject("status").put("error", message);
        o.put("time", 0.0001);
        return new Answer(status, o);
    }

    private static ObjectNode completed() {
        return JSON.createObjectNode().put("operation_id", 1).put("status", "completed");
    }

    private static final class Unsupported extends RuntimeException {
        Unsupported(String what) {
            super(what, null, false, false);
        }
    }

    private static final class BadInput extends RuntimeException {
        BadInput(String what) {
            super(what, null, false, false);
        }
    }

    // ---------------------------------------------------------------- operations

    private Answer serve(String operation, Map<String, String> path, JsonNode body) {
        String name = path.get("collection_name");
        if ("root".equals(operation)) { // VersionInfo, not wrapped in {result, status, time}
            return new Answer(200, JSON.createObjectNode().put("title", "qdrant - vector search engine")
                    .put("version", version).put("commit", "0000000000000000000000000000000000000000"));
        }
        if ("get_collections".equals(operation)) {
            ObjectNode r = JSON.createObjectNode();
            ArrayNode a = r.putArray("collections");
            collections.keySet().stream().sorted().forEach(n -> a.addObject().put("name", n));
            return ok(r);
        }
        if ("collection_exists".equals(operation)) {
            return ok(JSON.createObjectNode().put("exists", collections.containsKey(name)));
        }
        if ("create_collection".equals(operation)) {
            if (collections.containsKey(name)) {
                return error(409, "Wrong input: Collection `" + name + "` already exists!");
            }
            JsonNode v = body.path("vectors");
            if (!v.has("size")) {
                throw new Unsupported("collections with named vectors");
            }
            collections.put(name, new Coll(v.get("size").asInt(), v.get("distance").asText()));
            return ok(com.fasterxml.jackson.databind.node.BooleanNode.TRUE);
        }
        Coll c = collections.get(name);
        if (c == null) {
            return error(404, "Not found: Collection `" + name + "` doesn't exist!");
        }
        try {
            switch (operation) {
                case "create_field_index" -> {
                    c.indexes.put(body.get("field_name").asText(), body.path("field_schema").asText());
                    return ok(completed());
                }
                case "upsert_points" -> {
                    upsert(c, body);
                    return ok(completed());
                }
                case "delete_points" -> {
                    delete(c, body);
                    return ok(completed());
                }
                case "batch_update" -> {
                    ArrayNode results = JSON.createArrayNode();
                    for (JsonNode op : body.path("operations")) {
                        if (op.has("upsert")) {
                            upsert(c, op.get("upsert"));
                        } else if (op.has("delete")) {
                            delete(c, op.get("delete"));
                        } else if (op.has("set_payload")) {
                            setPayload(c, op.get("set_payload"));
                        } else {
                            throw new Unsupported("batch operation " + op.fieldNames().next());
                        }
                        results.add(completed());
                    }
                    return ok(results);
                }
                case "get_points" -> {
                    return ok(retrieve(c, body));
                }
                case "scroll_points" -> {
                    return ok(scroll(c, body));
                }
                default -> throw new Unsupported("operation " + operation);
            }
        } catch (BadInput e) {
            return error(400, "Wrong input: " + e.getMessage());
        }
    }

    private void upsert(Coll c, JsonNode body) {
        if (!body.has("points")) {
            throw new Unsupported("the batch (column) form of an upsert");
        }
        List<String> ids = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (JsonNode p : body.get("points")) {
            ids.add(id(p.get("id")));
            JsonNode v = p.get("vector");
            if (!v.isArray() || (v.size() > 0 && !v.get(0).isNumber())) {
                throw new Unsupported("named or multi vectors");
            }
            if (v.size() != c.size) {
                throw new BadInput("Vector dimension error: expected dim: " + c.size + ", got " + v.size());
            }
            if (refusedChunkIds.contains(p.path("payload").path("chunk_id").asText())) {
                throw new BadInput("point refused by the test");
            }
            float[] f = new float[v.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = v.get(i).floatValue();
            }
            vectors.add("Cosine".equals(c.distance) ? unit(f) : f);
        }
        JsonNode filter = body.get("update_filter");
        int i = 0;
        for (JsonNode p : body.get("points")) {
            String id = ids.get(i);
            float[] vector = vectors.get(i++);
            Point existing = c.points.get(id);
            if (existing != null && filter != null && !filter.isNull() && !matches(filter, id, existing.payload())) {
                continue; // Qdrant keeps an existing point the update filter doesn't match
            }
            ObjectNode payload = p.hasNonNull("payload") ? p.get("payload").deepCopy() : JSON.createObjectNode();
            c.points.put(id, new Point(vector, payload));
        }
    }

    private void delete(Coll c, JsonNode body) {
        if (body.has("points")) {
            body.get("points").forEach(p -> c.points.remove(id(p)));
        } else {
            JsonNode filter = body.get("filter");
            c.points.entrySet().removeIf(e -> matches(filter, e.getKey(), e.getValue().payload()));
        }
    }

    private void setPayload(Coll c, JsonNode body) {
        List<String> only = null;
        if (body.hasNonNull("points")) {
            only = new ArrayList<>();
            for (JsonNode p : body.get("points")) {
                only.add(id(p));
            }
        }
        JsonNode filter = body.get("filter");
        if (only == null && (filter == null || filter.isNull())) {
            throw new BadInput("either points or filter must be given");
        }
        if (body.hasNonNull("key")) {
            throw new Unsupported("set_payload with a key");
        }
        for (Map.Entry<String, Point> e : c.points.entrySet()) {
            if ((only == null || only.contains(e.getKey()))
                    && (filter == null || filter.isNull() || matches(filter, e.getKey(), e.getValue().payload()))) {
                e.getValue().payload().setAll((ObjectNode) body.get("payload"));
            }
        }
    }

    /** Points in id order from {@code offset} (inclusive), {@code limit} of them, and the next id. */
    private ObjectNode scroll(Coll c, JsonNode body) {
        if (body.has("filter") || body.has("order_by") || body.path("with_vector").asBoolean(false)) {
            throw new Unsupported("scroll filters, ordering or vectors");
        }
        int limit = body.path("limit").asInt(10);
        String from = body.hasNonNull("offset") ? id(body.get("offset")) : null;
        List<String> ids = c.points.keySet().stream().sorted()
                .filter(id -> from == null || id.compareTo(from) >= 0).limit(limit + 1L).toList();
        ObjectNode out = JSON.createObjectNode();
        ArrayNode points = out.putArray("points");
        JsonNode withPayload = body.path("with_payload");
        for (String id : ids.subList(0, Math.min(limit, ids.size()))) {
            Point p = c.points.get(id);
            ObjectNode r = points.addObject();
            r.put("id", id);
            if (withPayload.isArray()) {
                ObjectNode sel = r.putObject("payload");
                withPayload.forEach(k -> {
                    if (p.payload().has(k.asText())) {
                        sel.set(k.asText(), p.payload().get(k.asText()));
                    }
                });
            } else if (withPayload.asBoolean(false)) {
                r.set("payload", p.payload().deepCopy());
            }
        }
        if (ids.size() > limit) {
            out.put("next_page_offset", ids.get(limit));
        } else {
            out.putNull("next_page_offset");
        }
        return out;
    }

    private ArrayNode retrieve(Coll c, JsonNode body) {
        JsonNode withPayload = body.path("with_payload");
        boolean withVector = body.path("with_vector").asBoolean(false);
        if (body.path("with_vector").isArray() || withPayload.isObject()) {
            throw new Unsupported("payload or vector selectors");
        }
        ArrayNode out = JSON.createArrayNode();
        for (JsonNode raw : body.path("ids")) {
            String id = id(raw);
            Point p = c.points.get(id);
            if (p == null) {
                continue;
            }
            ObjectNode r = out.addObject();
            r.put("id", id);
            if (withPayload.isMissingNode() || withPayload.asBoolean(false)) {
                r.set("payload", p.payload().deepCopy());
            } else if (withPayload.isArray()) {
                ObjectNode sel = r.putObject("payload");
                withPayload.forEach(k -> {
                    if (p.payload().has(k.asText())) {
                        sel.set(k.asText(), p.payload().get(k.asText()));
                    }
                });
            }
            if (withVector) {
                ArrayNode v = r.putArray("vector");
                for (float f : p.vector()) {
                    v.add(f);
                }
            }
        }
        return out;
    }

    private static String id(JsonNode raw) {
        return raw.isTextual() ? UUID.fromString(raw.asText()).toString() : raw.asText();
    }

    private static float[] unit(float[] v) {
        double n = 0;
        for (float f : v) {
            n += f * f;
        }
        n = Math.sqrt(n);
        if (n < 1e-12) {
            return v;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / n);
        }
        return out;
    }

    // ---------------------------------------------------------------- filters

    private static List<JsonNode> conditions(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        if (n == null || n.isNull() || n.isMissingNode()) {
            return out;
        }
        if (n.isArray()) {
            n.forEach(out::add);
        } else {
            out.add(n);
        }
        return out;
    }

    static boolean matches(JsonNode filter, String id, JsonNode payload) {
        for (JsonNode c : conditions(filter.get("must"))) {
            if (!condition(c, id, payload)) {
                return false;
            }
        }
        for (JsonNode c : conditions(filter.get("must_not"))) {
            if (condition(c, id, payload)) {
                return false;
            }
        }
        if (filter.hasNonNull("min_should")) {
            throw new Unsupported("min_should");
        }
        List<JsonNode> should = conditions(filter.get("should"));
        return should.isEmpty() || should.stream().anyMatch(c -> condition(c, id, payload));
    }

    private static boolean condition(JsonNode c, String id, JsonNode payload) {
        if (c.has("has_id")) {
            for (JsonNode h : c.get("has_id")) {
                if (id(h).equals(id)) {
                    return true;
                }
            }
            return false;
        }
        if (c.has("must") || c.has("should") || c.has("must_not")) {
            return matches(c, id, payload);
        }
        if (!c.has("key")) {
            throw new Unsupported("condition " + c.fieldNames().next());
        }
        JsonNode value = payload;
        for (String part : c.get("key").asText().split("\\.")) {
            value = value.path(part);
        }
        if (c.hasNonNull("match")) {
            JsonNode m = c.get("match");
            if (!m.has("value")) {
                throw new Unsupported("match other than value");
            }
            return !value.isMissingNode() && value.equals(m.get("value"))
                    || value.isNumber() && m.get("value").isNumber() && value.asLong() == m.get("value").asLong();
        }
        if (c.hasNonNull("range")) {
            JsonNode r = c.get("range");
            if (!value.isNumber()) {
                return false;
            }
            double v = value.asDouble();
            return (!r.hasNonNull("lt") || v < r.get("lt").asDouble())
                    && (!r.hasNonNull("lte") || v <= r.get("lte").asDouble())
                    && (!r.hasNonNull("gt") || v > r.get("gt").asDouble())
                    && (!r.hasNonNull("gte") || v >= r.get("gte").asDouble());
        }
        throw new Unsupported("field condition " + c);
    }
}
