package io.vectorsync.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Sends malformed and hostile requests (and valid writes mixed in) to a running vectorsync over real
 * HTTP, one raw socket per request so that nothing a client library would refuse to send is off-limits.
 * Every hostile request must answer 4xx with a {@code VSYNC-} code; every valid one 2xx. Each worker
 * owns its chunk ids, so the expected rows are exact whatever the interleaving. Used by {@code BadInputIT}
 * and {@code bench/bad-input.sh}.
 */
public final class BadInputGenerator {

    /** What a valid write left behind: the row the primary (and the replica, unless deleted) must hold. */
    public record Expected(String content, long version, boolean deleted) {}

    /** A request class, a status and the first bodies of anything that broke the rules. */
    public record Result(int total, long elapsedMillis, Map<String, Map<Integer, Integer>> table,
            List<String> violations, Map<String, Expected> rows) {

        /** The table as Markdown: one row per request class, one column per status. */
        public String markdown() {
            TreeMap<Integer, Boolean> statuses = new TreeMap<>();
            table.values().forEach(m -> m.keySet().forEach(s -> statuses.put(s, true)));
            StringBuilder sb = new StringBuilder("| class | requests |");
            statuses.keySet().forEach(s -> sb.append(' ').append(s == 0 ? "no answer" : s).append(" |"));
            sb.append("\n|---|---:|");
            statuses.keySet().forEach(s -> sb.append("---:|"));
            sb.append('\n');
            new TreeMap<>(table).forEach((cls, m) -> {
                sb.append("| ").append(cls).append(" | ").append(m.values().stream().mapToInt(i -> i).sum()).append(" |");
                statuses.keySet().forEach(s -> sb.append(' ').append(m.getOrDefault(s, 0)).append(" |"));
                sb.append('\n');
            });
            return sb.toString();
        }
    }

    private record Req(String cls, boolean valid, String method, String target, Map<String, String> headers,
            byte[] body, boolean chunked, Function<Resp, Expected> onSuccess, String id) {}

    private record Resp(int status, String body) {}

    static final List<String> SQL_IDS = List.of("x'; DROP TABLE chunks; --", "Robert'); DROP TABLE outbox;--",
            "1 OR 1=1", "' OR ''='", "\"quoted\" id", "a%20b %41", "id\\with\\backslashes", "semi;colon",
            "1; SELECT pg_sleep(10)", "$$ dollar $$", "/* comment */", "ünïcödé 🚀", "../../etc/passwd",
            "chunk?query=1&x#frag");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String host;
    private final int port;
    private final String adminToken;
    private final int dim;
    private final long maxBodyBytes;
    private final String backend;

    public BadInputGenerator(String host, int port, String adminToken, int dim, long maxBodyBytes, String backend) {
        this.host = host;
        this.port = port;
        this.adminToken = adminToken;
        this.dim = dim;
        this.maxBodyBytes = maxBodyBytes;
        this.backend = backend;
    }

    public Result run(int total, int threads, long seed) throws Exception {
        Map<String, Map<Integer, Integer>> table = new ConcurrentHashMap<>();
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        Map<String, Expected> rows = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                int worker = w;
                fs.add(pool.submit(() -> {
                    Worker wk = new Worker(worker, new SplittableRandom(seed * 31 + worker));
                    for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                        Req r = wk.next(i);
                        Resp resp = send(r);
                        table.computeIfAbsent(r.cls, k -> new ConcurrentHashMap<>()).merge(resp.status, 1, Integer::sum);
                        String problem = check(r, resp);
                        if (problem != null) {
                            if (violations.size() < 200) {
                                violations.add(r.cls + " " + r.method + " " + abbreviate(r.target, 120) + " -> "
                                        + resp.status + " " + abbreviate(resp.body, 300) + " (" + problem + ")");
                            }
                        } else if (r.valid) {
                            Expected e = r.onSuccess.apply(resp);
                            wk.written(r.id, e);
                        }
                    }
                    rows.putAll(wk.rows);
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return new Result(total, (System.nanoTime() - start) / 1_000_000, table, new ArrayList<>(violations), rows);
    }

    private static String check(Req r, Resp resp) {
        if (r.valid) {
            return resp.status >= 200 && resp.status < 300 ? null : "a valid request failed";
        }
        if (resp.status < 400 || resp.status > 499) {
            return "not a 4xx";
        }
        try {
            JsonNode n = JSON.readTree(resp.body);
            if (n == null || !n.path("code").asText().startsWith("VSYNC-")) {
                return "no VSYNC- code";
            }
        } catch (IOException e) {
            return "body is not JSON";
        }
        return null;
    }

    private static String abbreviate(String s, int n) {
        String t = s == null ? "" : s.replaceAll("[\\p{Cntrl}]", "?");
        return t.length() <= n ? t : t.substring(0, n) + "...";
    }

    /** Percent-encodes everything but RFC 3986 unreserved characters. */
    static String encodePath(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- the raw HTTP client

    private Resp send(Req r) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            StringBuilder head = new StringBuilder(r.method).append(' ').append(r.target).append(" HTTP/1.1\r\n");
            head.append("Host: ").append(host).append(':').append(port).append("\r\n");
            head.append("Connection: close\r\n");
            r.headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (r.body != null && r.chunked) {
                head.append("Transfer-Encoding: chunked\r\n");
            } else if (r.body != null) {
                head.append("Content-Length: ").append(r.body.length).append("\r\n");
            }
            head.append("\r\n");
            try {
                out.write(head.toString().getBytes(StandardCharsets.UTF_8));
                if (r.body != null && r.chunked) {
                    for (int off = 0; off < r.body.length; off += 65536) {
                        int len = Math.min(65536, r.body.length - off);
                        out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(r.body, off, len);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                } else if (r.body != null) {
                    out.write(r.body);
                }
                out.flush();
            } catch (IOException e) {
                // The server may answer (413) and close before the whole body is sent: read what it said.
            }
            return parse(s.getInputStream().readAllBytes());
        } catch (IOException e) {
            return new Resp(0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private static Resp parse(byte[] raw) {
        String all = new String(raw, StandardCharsets.ISO_8859_1);
        int end = all.indexOf("\r\n\r\n");
        if (!all.startsWith("HTTP/1.1 ") || end < 0) {
            return new Resp(0, "no HTTP answer: " + all);
        }
        int status = Integer.parseInt(all.substring(9, 12));
        String headers = all.substring(0, end).toLowerCase(Locale.ROOT);
        byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
        if (headers.contains("transfer-encoding: chunked")) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int p = 0;
            while (p < body.length) {
                int nl = indexOf(body, p);
                if (nl < 0) {
                    break;
                }
                String sizeLine = new String(body, p, nl - p, StandardCharsets.US_ASCII).trim();
                int semi = sizeLine.indexOf(';');
                int size = Integer.parseInt(semi < 0 ? sizeLine : sizeLine.substring(0, semi), 16);
                if (size == 0) {
                    break;
                }
                b.write(body, nl + 2, Math.min(size, body.length - nl - 2));
                p = nl + 2 + size + 2;
            }
            body = b.toByteArray();
        }
        return new Resp(status, new String(body, StandardCharsets.UTF_8));
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- the requests

    private final class Worker {
        final int worker;
        final SplittableRandom rnd;
        final Map<String, Expected> rows = new HashMap<>();
        final List<String> live = new ArrayList<>();
        int seq;

        Worker(int worker, SplittableRandom rnd) {
            this.worker = worker;
            this.rnd = rnd;
        }

        void written(String id, Expected e) {
            if (id == null || e == null) {
                return;
            }
            if (id.startsWith("batch:")) {
                return; // batch ids are recorded by their own callback
            }
            rows.put(id, e);
            if (!e.deleted() && !live.contains(id)) {
                live.add(id);
            } else if (e.deleted()) {
                live.remove(id);
            }
        }

        String freshId() {
            return "bi-" + worker + "-" + (seq++);
        }

        String sqlId() {
            return SQL_IDS.get(rnd.nextInt(SQL_IDS.size())) + " #" + worker + "-" + (seq++);
        }

        Req next(int i) {
            int k = rnd.nextInt(100);
            if (k < 12) {
                return valid();
            }
            return switch (rnd.nextInt(14)) {
                case 0 -> brokenJson();
                case 1 -> wrongTypes();
                case 2 -> rnd.nextInt(6) == 0 ? huge() : wrongTypes();
                case 3 -> deep();
                case 4 -> vectors();
                case 5 -> ids();
                case 6 -> versions();
                case 7 -> privacy();
                case 8 -> contentTypes();
                case 9 -> adminAuth();
                case 10 -> adminParams();
                case 11 -> paths();
                case 12 -> batches();
                default -> adminAuth();
            };
        }

        // -- bodies

        Map<String, Object> body(String content) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documentId", "doc-" + worker);
            m.put("content", content);
            List<Float> e = new ArrayList<>(dim);
            for (int j = 0; j < dim; j++) {
                e.add((float) rnd.nextDouble(-1, 1));
            }
            m.put("embedding", e);
            m.put("metadata", Map.of("k", "v" + rnd.nextInt(10)));
            return m;
        }

        byte[] bytes(Object o) {
            try {
                return JSON.writeValueAsBytes(o);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        Map<String, String> json() {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("Content-Type", "application/json");
            return h;
        }

        Map<String, String> admin() {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("Authorization", "Bearer " + adminToken);
            return h;
        }

        String chunkPath(String id) {
            return "/api/v1/chunks/" + encodePath(id);
        }

        Req hostile(String cls, String method, String target, Map<String, String> headers, byte[] body) {
            return new Req(cls, false, method, target, headers, body, false, null, null);
        }

        Req hostilePut(String cls, Object body) {
            String id = rnd.nextBoolean() || live.isEmpty() ? freshId() : live.get(rnd.nextInt(live.size()));
            byte[] b = body instanceof byte[] raw ? raw : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8)
                    : bytes(body);
            return hostile(cls, "PUT", chunkPath(id), json(), b);
        }

        // -- valid writes, including SQL-looking ids that must be stored literally

        Req valid() {
            int k = rnd.nextInt(10);
            if (k < 2 && !live.isEmpty()) { // update with the right If-Match
                String id = live.get(rnd.nextInt(live.size()));
                long v = rows.get(id).version();
                String content = "update " + v + " of " + id;
                Map<String, String> h = json();
                h.put("If-Match", "\"" + v + "\"");
                return new Req("valid-update", true, "PUT", chunkPath(id), h, bytes(body(content)), false,
                        r -> new Expected(content, version(r), false), id);
            }
            if (k == 2 && !live.isEmpty()) {
                String id = live.get(rnd.nextInt(live.size()));
                return new Req("valid-delete", true, "DELETE", chunkPath(id), Map.of(), null, false,
                        r -> new Expected(null, version(r), true), id); // a tombstone keeps no content
            }
            if (k == 3) { // a batch of two, one with a SQL-looking id
                String a = sqlId();
                String b = freshId();
                Map<String, Object> ca = body("batch " + a);
                ca.put("chunkId", a);
                Map<String, Object> cb = body("batch " + b);
                cb.put("chunkId", b);
                return new Req("valid-batch", true, "POST", "/api/v1/chunks:batch", json(),
                        bytes(Map.of("chunks", List.of(ca, cb))), false, r -> {
                            try {
                                for (JsonNode n : JSON.readTree(r.body()).get("results")) {
                                    String id = n.get("chunkId").asText();
                                    written(id, new Expected("batch " + id, n.get("version").asLong(), false));
                                }
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                            return null;
                        }, "batch:");
            }
            String id = k < 7 ? sqlId() : freshId();
            String content = "content of " + id;
            return new Req(k < 7 ? "valid-sql-looking-id" : "valid-put", true, "PUT", chunkPath(id), json(),
                    bytes(body(content)), false, r -> new Expected(content, version(r), false), id);
        }

        long version(Resp r) {
            try {
                return JSON.readTree(r.body()).get("version").asLong();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        // -- hostile classes

        Req brokenJson() {
            String good = new String(bytes(body("x")), StandardCharsets.UTF_8);
            String[] bad = {"", "{", "}", "[", "{\"content\":}", "{\"content\":\"x\",}", "null", "[]", "42", "\"str\"",
                    "{'content':'single quotes'}", good.substring(0, rnd.nextInt(1, good.length() - 1)),
                    good + "garbage", good + good, "{\"content\":\"unterminated", "{\"a\":1 \"b\":2}",
                    "{\"content\":\"\\uZZZZ\"}", "\u0000\u0001\u0002", "{/* comment */}", "{\"embedding\":[1,,2]}",
                    good.replaceFirst("\\{", "{\"content\":\"first\",")}; // a duplicate key
            if (rnd.nextInt(5) == 0) {
                byte[] b = new byte[rnd.nextInt(1, 200)];
                rnd.nextBytes(b);
                return hostilePut("broken-json", b);
            }
            if (rnd.nextInt(8) == 0) { // invalid UTF-8 inside a string
                byte[] pre = "{\"content\":\"".getBytes(StandardCharsets.UTF_8);
                byte[] b = new byte[pre.length + 4];
                System.arraycopy(pre, 0, b, 0, pre.length);
                b[pre.length] = (byte) 0xC3;
                b[pre.length + 1] = (byte) 0x28;
                b[pre.length + 2] = '"';
                b[pre.length + 3] = '}';
                return hostilePut("broken-json", b);
            }
            return hostilePut("broken-json", bad[rnd.nextInt(bad.length)]);
        }

        Req wrongTypes() {
            Map<String, Object> b = body("x");
            switch (rnd.nextInt(15)) {
                case 12 -> b.put("content", "nul \u0000 inside");
                case 13 -> b.put("metadata", Map.of("k", "nul \u0000 inside"));
                case 14 -> b.put("documentId", "d".repeat(1025));
                case 0 -> b.put("content", 42);
                case 1 -> b.put("content", List.of("a"));
                case 2 -> b.put("embedding", "0.1,0.2");
                case 3 -> b.put("embedding", Map.of("0", 1));
                case 4 -> b.put("metadata", List.of(1, 2));
                case 5 -> b.put("metadata", "{}");
                case 6 -> b.put("documentId", Map.of("a", 1));
                case 7 -> b.put("privacy", 3);
                case 8 -> {
                    List<Object> e = new ArrayList<>((List<?>) b.get("embedding"));
                    e.set(rnd.nextInt(dim), rnd.nextBoolean() ? "0.5" : rnd.nextBoolean() ? null : true);
                    b.put("embedding", e);
                }
                case 9 -> b.put("unexpected", "field");
                case 10 -> b.put("embedding", List.of()); // (a missing one is embedded by the provider)
                default -> b.put("chunkId", 12345);
            }
            return hostilePut("wrong-types", b);
        }

        Req huge() {
            int size = (int) (maxBodyBytes + 1 + rnd.nextInt(65536));
            byte[] b = new byte[size];
            byte[] pre = "{\"content\":\"".getBytes(StandardCharsets.UTF_8);
            java.util.Arrays.fill(b, (byte) 'a');
            System.arraycopy(pre, 0, b, 0, pre.length);
            b[size - 2] = '"';
            b[size - 1] = '}';
            boolean chunked = rnd.nextBoolean();
            String target = rnd.nextBoolean() ? chunkPath(freshId()) : "/api/v1/chunks:batch";
            return new Req("huge-body", false, target.endsWith("batch") ? "POST" : "PUT", target, json(), b, chunked,
                    null, null);
        }

        Req deep() {
            int depth = 1001 + rnd.nextInt(20_000);
            StringBuilder sb = new StringBuilder();
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    sb.append("{\"metadata\":");
                    sb.append("{\"a\":".repeat(depth)).append("1").append("}".repeat(depth)).append('}');
                }
                case 1 -> sb.append("{\"embedding\":").append("[".repeat(depth)).append("]".repeat(depth)).append('}');
                default -> sb.append("{\"metadata\":{\"x\":").append("[".repeat(depth)).append("]".repeat(depth))
                        .append("}}"); // unterminated on purpose? no: balanced, but far too deep
            }
            return hostilePut("deep-nesting", sb.toString());
        }

        Req vectors() {
            Map<String, Object> b = body("x");
            List<Object> e = new ArrayList<>((List<?>) b.get("embedding"));
            switch (rnd.nextInt(9)) {
                case 8 -> { // numbers beyond the parser's limits or the float range
                    String[] lit = {"1" + "0".repeat(1500), "1e99999999", "-1e400", "0." + "1".repeat(1200)};
                    String s = new String(bytes(b), StandardCharsets.UTF_8);
                    return hostilePut("nan-inf-vector", s.replaceFirst("\"embedding\":\\[[-0-9.Ee]+",
                            "\"embedding\":[" + lit[rnd.nextInt(lit.length)]));
                }
                case 0, 1 -> { // NaN / Infinity literals (not JSON)
                    String[] lit = {"NaN", "Infinity", "-Infinity", "+Infinity", "nan", "1e999"};
                    String s = new String(bytes(b), StandardCharsets.UTF_8);
                    String l = lit[rnd.nextInt(lit.length)];
                    return hostilePut("nan-inf-vector", s.replaceFirst("\"embedding\":\\[[-0-9.Ee]+",
                            "\"embedding\":[" + l));
                }
                case 2 -> {
                    e.set(rnd.nextInt(dim), rnd.nextBoolean() ? 1e39 : -3.5e38);
                    b.put("embedding", e);
                    return hostilePut("nan-inf-vector", b);
                }
                case 3 -> {
                    e.set(rnd.nextInt(dim), rnd.nextBoolean() ? "NaN" : "Infinity");
                    b.put("embedding", e);
                    return hostilePut("nan-inf-vector", b);
                }
                default -> {
                    int[] dims = {0, 1, dim - 1, dim + 1, dim * 2};
                    int d = dims[rnd.nextInt(dims.length)];
                    List<Object> w = new ArrayList<>();
                    for (int j = 0; j < d; j++) {
                        w.add(0.25f);
                    }
                    b.put("embedding", w);
                    return hostilePut("wrong-dimension", b);
                }
            }
        }

        Req ids() {
            // Hostile ids with otherwise valid bodies: control characters, reserved prefixes, too long, empty.
            String[] bad = {"a\u0000b", "line\nbreak", "tab\tid", "esc\u001b[31m", "\u007f", "del\u0085",
                    "x".repeat(257 + rnd.nextInt(1000)), "link:forged", "\r\nSet-Cookie: x=1", "bell\u0007"};
            String id = bad[rnd.nextInt(bad.length)];
            if (rnd.nextInt(4) == 0) { // in a batch body instead of the path
                Map<String, Object> c = body("x");
                c.put("chunkId", id);
                return hostile("bad-chunk-id", "POST", "/api/v1/chunks:batch", json(), bytes(Map.of("chunks", List.of(c))));
            }
            if (rnd.nextInt(4) == 0) { // SQL-looking id whose body is bad: nothing may be written
                Map<String, Object> c = body("x");
                c.put("privacy", "DROP TABLE chunks");
                return hostile("sql-id-bad-body", "PUT", chunkPath(sqlId()), json(), bytes(c));
            }
            if (rnd.nextInt(5) == 0) {
                String[] raw = {"%zz", "%", "%C3%28", "%ED%A0%80", "%00", "a%0Ab", "%1B", "link%3Ax"};
                return hostile("bad-chunk-id", "PUT", "/api/v1/chunks/" + raw[rnd.nextInt(raw.length)], json(),
                        bytes(body("x")));
            }
            String method = rnd.nextBoolean() ? "PUT" : rnd.nextBoolean() ? "GET" : "DELETE";
            return hostile("bad-chunk-id", method, chunkPath(id), method.equals("PUT") ? json() : Map.of(),
                    method.equals("PUT") ? bytes(body("x")) : null);
        }

        Req versions() {
            String[] ifMatch = {"abc", "-1", "1.5", "W/\"x\"", "99999999999999999999", "\"\"", "\"-3\"", "0x10",
                    "\"1\", \"2\"", "W/", "' OR 1=1 --", "\"1\u0001\"", "\u007f", "1\t2"};
            Map<String, Object> b = body("x");
            int k = rnd.nextInt(4);
            if (k == 0 && !live.isEmpty()) { // a stale version on a chunk we own: a conflict, nothing written
                String id = live.get(rnd.nextInt(live.size()));
                Map<String, String> h = json();
                h.put("If-Match", "\"" + (rows.get(id).version() + 5 + rnd.nextInt(100)) + "\"");
                return hostile("stale-version", "PUT", chunkPath(id), h, bytes(b));
            }
            if (k == 1) {
                Object[] v = {-1, "1", 1.5, true, List.of(1), "DROP", 1e30};
                b.put("version", v[rnd.nextInt(v.length)]);
                return hostilePut("invalid-version", b);
            }
            Map<String, String> h = json();
            h.put("If-Match", ifMatch[rnd.nextInt(ifMatch.length)]);
            String id = live.isEmpty() || rnd.nextBoolean() ? freshId() : live.get(rnd.nextInt(live.size()));
            if (rnd.nextInt(3) == 0) {
                return hostile("invalid-if-match", "DELETE", chunkPath(id), Map.of("If-Match", h.get("If-Match")), null);
            }
            return hostile("invalid-if-match", "PUT", chunkPath(id), h, bytes(b));
        }

        Req privacy() {
            Object[] p = {"full", "SECRET", "", "FULL ", "REDACTED'; --", 1, List.of("FULL"), Map.of()};
            Map<String, Object> b = body("x");
            b.put("privacy", p[rnd.nextInt(p.length)]);
            return hostilePut("unknown-privacy", b);
        }

        Req contentTypes() {
            String[] types = {"text/plain", "application/xml", "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x", "application/jsonx", "image/png", "", ";;;", "application/"};
            Map<String, String> h = new LinkedHashMap<>();
            String t = types[rnd.nextInt(types.length)];
            if (!t.isEmpty()) {
                h.put("Content-Type", t);
            }
            if (rnd.nextInt(4) == 0) { // valid body, but an answer nobody can read
                h.put("Content-Type", "application/json");
                h.put("Accept", rnd.nextBoolean() ? "text/html" : "application/xml");
            }
            String id = freshId();
            return hostile("wrong-content-type", rnd.nextInt(4) == 0 ? "POST" : "PUT",
                    rnd.nextInt(4) == 0 ? "/api/v1/chunks:batch" : chunkPath(id), h, bytes(body("x")));
        }

        Req adminAuth() {
            String[] targets = {"GET /admin/v1/status", "GET /admin/v1/dead-letters", "POST /admin/v1/sync-now",
                    "POST /admin/v1/dead-letters/1/replay", "POST /admin/v1/dead-letters/1/discard?reason=x",
                    "POST /admin/v1/backends/" + backend + "/dead-letters:replay",
                    "POST /admin/v1/backends/" + backend + "/pause", "GET //admin/v1/status",
                    "GET /admin/v1/./status", "GET /admin;x=1/v1/status", "GET /ADMIN/v1/status",
                    "GET /admin/v1/../v1/status", "POST /admin/v1/dead-letters/1/replay;jsessionid=1",
                    "GET /admin/v1", "GET /jolokia", "GET /hawtio/", "POST /admin/v1/pause", "POST /admin/v1/resume",
                    "POST /admin/v1/retry?force=true", "POST /admin/v1/backends/" + backend + "/backfill",
                    "GET /admin/v1/queue"};
            String[] t = targets[rnd.nextInt(targets.length)].split(" ", 2);
            Map<String, String> h = new LinkedHashMap<>();
            String[] auth = {null, "Bearer", "Bearer ", "Bearer " + adminToken + "x", "Bearer " + adminToken.substring(1),
                    "bearer wrong", "Token " + adminToken, adminToken,
                    "Basic " + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)),
                    "Basic !!!not-base64", "Basic " + Base64.getEncoder().encodeToString("nocolon".getBytes(
                            StandardCharsets.UTF_8)), "Bearer ' OR 1=1 --", "Bearer " + "A".repeat(4000)};
            String a = auth[rnd.nextInt(auth.length)];
            if (a != null) {
                h.put("Authorization", a);
            }
            return hostile("admin-bad-auth", t[0], t[1], h, null);
        }

        Req adminParams() {
            String[] targets = {"GET /admin/v1/dead-letters?limit=abc", "GET /admin/v1/dead-letters?limit=0",
                    "GET /admin/v1/dead-letters?limit=-5", "GET /admin/v1/dead-letters?limit=99999999999",
                    "GET /admin/v1/dead-letters?all=maybe", "POST /admin/v1/dead-letters/abc/replay",
                    "POST /admin/v1/dead-letters/-1/replay", "POST /admin/v1/dead-letters/99999999999999999999/replay",
                    "POST /admin/v1/dead-letters/987654321/replay", "POST /admin/v1/dead-letters/1/discard",
                    "POST /admin/v1/dead-letters/1/discard?reason=", "POST /admin/v1/dead-letters/987654321/discard?reason=x",
                    "POST /admin/v1/backends/nope/dead-letters:replay",
                    "POST /admin/v1/backends/" + encodePath("x'; DROP TABLE cursors; --") + "/dead-letters:replay",
                    "DELETE /admin/v1/status", "GET /admin/v1/sync-now", "GET /admin/v1/nothing-here",
                    "POST /admin/v1/dead-letters/1/discard?reason=" + "r".repeat(1200),
                    "GET /admin/v1/queue?limit=0", "GET /admin/v1/queue?limit=abc", "GET /admin/v1/queue?status=DONE",
                    "GET /admin/v1/queue?backend=nope", "GET /admin/v1/queue?errorsOnly=maybe",
                    "POST /admin/v1/retry?force=maybe", "POST /admin/v1/retry?backend=nope",
                    "POST /admin/v1/backends/nope/pause", "POST /admin/v1/backends/nope/resume",
                    "POST /admin/v1/backends/nope/backfill", "GET /admin/v1/pause"};
            String[] t = targets[rnd.nextInt(targets.length)].split(" ", 2);
            return hostile("admin-bad-params", t[0], t[1], admin(), null);
        }

        Req paths() {
            String[] targets = {"GET /api/v1/chunks/" + encodePath(freshId()), "GET /api/v1/nope", "GET /api/v2/chunks/x",
                    "PATCH /api/v1/chunks/x", "POST /api/v1/chunks/x", "GET /api/v1/chunks:batch",
                    "DELETE /api/v1/chunks/" + encodePath(freshId()), "GET /api/v1/chunks/", "GET /error",
                    "PUT /api/v1/chunks", "TRACE /api/v1/chunks/x", "GET /actuator/nope",
                    "GET /api/v1/chunks/" + encodePath(sqlId())};
            String[] t = targets[rnd.nextInt(targets.length)].split(" ", 2);
            boolean body = t[0].equals("PATCH") || t[0].equals("POST") || t[0].equals("PUT");
            return hostile("unknown-path-or-method", t[0], t[1], body ? json() : Map.of(), body ? bytes(body("x")) : null);
        }

        Req batches() {
            switch (rnd.nextInt(6)) {
                case 0 -> {
                    List<Object> many = new ArrayList<>();
                    for (int j = 0; j < 501 + rnd.nextInt(200); j++) {
                        many.add(Map.of());
                    }
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(), bytes(Map.of("chunks", many)));
                }
                case 1 -> {
                    Map<String, Object> a = body("x");
                    a.put("chunkId", "dup-" + worker);
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(),
                            bytes(Map.of("chunks", List.of(a, a))));
                }
                case 2 -> {
                    Map<String, Object> a = body("ok");
                    a.put("chunkId", freshId());
                    Map<String, Object> b = body("bad");
                    b.put("chunkId", sqlId());
                    b.put("embedding", List.of(1, 2, 3));
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(),
                            bytes(Map.of("chunks", List.of(a, b)))); // nothing of it may be written
                }
                case 3 -> {
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(),
                            bytes(Map.of("chunks", List.of())));
                }
                case 4 -> {
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(),
                            bytes(Map.of("chunks", List.of("a", 1, List.of()))));
                }
                default -> {
                    return hostile("bad-batch", "POST", "/api/v1/chunks:batch", json(),
                            bytes(Map.of("chunks", Map.of("a", 1), "extra", true)));
                }
            }
        }
    }
}
