package io.vectorsync.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one JSON-over-HTTP helper of the HTTP backends (Qdrant, Chroma, OpenSearch/Elasticsearch, the
 * webhook): one instance per backend builds its requests (the base URL, the headers every request carries
 * such as an API key, the read timeout per request), writes JSON bodies and reads JSON answers with the
 * app's {@link ObjectMapper}, sends them with their failures classified (a refused or timed-out
 * connection is transient and marks the backend unreachable, so the relay never splits a batch for it; no
 * answer within the read timeout and other I/O errors are transient), and turns an answer that is not
 * applied into the exception the relay acts on, by the one table that says what a status means
 * ({@link #classify}) and with the server's {@code Retry-After}. Messages name the backend, what was
 * called and the status, never the request's or the answer's body. What a status means for one store
 * alone (a 404 that means "missing", a 409 that is a version conflict) the backend decides before it asks
 * for {@link #failure}.
 */
public final class HttpCalls {

    private final String backend;
    private final String base;
    private final HttpClient client;
    private final Duration readTimeout;
    private final ObjectMapper json;
    private final ObjectWriter writer;
    private final Clock clock;
    private final Map<String, String> headers;
    private final Function<Reply, String> detail;

    /**
     * The calls of backend {@code backend} to the server at {@code base} (a path is appended to it as it
     * is), with a client of the backend's connect timeout that never follows redirects.
     */
    public HttpCalls(String backend, String base, Duration connectTimeout, Duration readTimeout, ObjectMapper json,
            Clock clock) {
        this(backend, base, client(connectTimeout), readTimeout, json, clock, Map.of(), r -> "");
    }

    private HttpCalls(String backend, String base, HttpClient client, Duration readTimeout, ObjectMapper json,
            Clock clock, Map<String, String> headers, Function<Reply, String> detail) {
        this.backend = backend;
        this.base = base;
        this.client = client;
        this.readTimeout = readTimeout;
        this.json = json;
        this.writer = json.writer().without(SerializationFeature.INDENT_OUTPUT);
        this.clock = clock;
        this.headers = headers;
        this.detail = detail;
    }

    /** These calls with one more header on every request; {@code value} {@code null} (an unset key): unchanged. */
    public HttpCalls withHeader(String name, String value) {
        if (value == null) {
            return this;
        }
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new HttpCalls(backend, base, client, readTimeout, json, clock, Map.copyOf(more), detail);
    }

    /**
     * These calls with the store's summary of an error answer (its error type, its message passed through
     * {@link #scrub}), which {@link #failure} appends to its message; none by default.
     */
    public HttpCalls withErrorDetail(Function<Reply, String> detail) {
        return new HttpCalls(backend, base, client, readTimeout, json, clock, headers, detail);
    }

    /** The server's base URL, as the backend configured it. */
    public String base() {
        return base;
    }

    /**
     * Sends {@code method} to {@code path} with {@code body} as JSON ({@code null}: no body) and returns
     * the answer, whatever its status.
     *
     * @throws TransientBackendException when no answer came
     */
    public Reply call(String method, String path, JsonNode body) {
        if (body == null) {
            return call(method, path, null, null, Map.of());
        }
        byte[] bytes;
        try {
            bytes = writer.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new PermanentBackendException("backend '" + backend + "': cannot serialise the request", e);
        }
        return call(method, path, bytes, "application/json", Map.of());
    }

    /**
     * Sends {@code body} as it is (NDJSON, a signed body), of {@code contentType}, with {@code extra}
     * headers besides the backend's own.
     *
     * @throws TransientBackendException when no answer came
     */
    public Reply call(String method, String path, byte[] body, String contentType, Map<String, String> extra) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(readTimeout)
                .header("Accept", "application/json");
        headers.forEach(b::header);
        extra.forEach(b::header);
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        }
        return new Reply(send(client, b.build(), backend));
    }

    /**
     * Sends the call and returns its answer's JSON when it is a 2xx; any other answer is thrown as
     * {@link #failure} of no particular change. For calls where no status has a meaning of the store's own.
     */
    public JsonNode expect(String method, String path, JsonNode body, String what) {
        Reply r = call(method, path, body);
        if (!r.ok()) {
            throw failure(what, r, -1);
        }
        return r.json(what);
    }

    /**
     * As {@link #expect}, for a read where a 404 means nothing is held there (no index or collection yet):
     * then an empty object.
     */
    public JsonNode expectHeld(String method, String path, JsonNode body, String what) {
        Reply r = call(method, path, body);
        if (r.status() == 404) {
            return json.createObjectNode();
        }
        if (!r.ok()) {
            throw failure(what, r, -1);
        }
        return r.json(what);
    }

    /**
     * A health probe ({@link HealthProbe}): {@code GET path} is healthy when it answers 2xx and {@code check}
     * finds nothing wrong in its JSON; otherwise a short reason (the status, or why no answer came), never
     * the body.
     */
    public Optional<String> probe(String path, Function<JsonNode, Optional<String>> check) {
        try {
            Reply r = call("GET", path, null);
            return r.ok() ? check.apply(r.json("GET " + path)) : Optional.of(says("GET " + path, r, ""));
        } catch (TransientBackendException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** An answer: its status, its verdict and its body as JSON. */
    public final class Reply {

        private final HttpResponse<String> raw;
        private JsonNode body;

        private Reply(HttpResponse<String> raw) {
            this.raw = raw;
        }

        public int status() {
            return raw.statusCode();
        }

        /** True for a 2xx. */
        public boolean ok() {
            return status() / 100 == 2;
        }

        /** What {@link #classify} says the status means. */
        public Verdict verdict() {
            return classify(status());
        }

        /**
         * The refused change a receiver names in its answer ({@code {"failedIndex": n}}, 0 ≤ n < size), or -1
         * when it names none: then the relay splits the batch to find it.
         */
        public int failedIndex(int size) {
            JsonNode i = body().path("failedIndex");
            return i.canConvertToInt() && i.asInt() >= 0 && i.asInt() < size ? i.asInt() : -1;
        }

        /** The body as JSON; an empty object when there is none or it is not JSON (an error page). */
        public JsonNode body() {
            if (body == null) {
                try {
                    JsonNode n = raw.body() == null || raw.body().isEmpty() ? null : json.readTree(raw.body());
                    body = n == null ? json.createObjectNode() : n;
                } catch (IOException | RuntimeException notJson) {
                    body = json.createObjectNode();
                }
            }
            return body;
        }

        /**
         * The body as JSON, for an answer that must hold some (a 2xx).
         *
         * @throws TransientBackendException when it is not JSON (a proxy's page, a cut-off answer)
         */
        public JsonNode json(String what) {
            try {
                JsonNode n = raw.body() == null ? null : json.readTree(raw.body());
                if (n != null) {
                    body = n;
                    return n;
                }
            } catch (IOException notJson) {
                // below
            }
            throw new TransientBackendException(says(what, this, "with a body that is not JSON"), null);
        }

        public HttpResponse<String> raw() {
            return raw;
        }
    }

    /** {@code backend '<name>': <what> answered HTTP <status> <detail>}: the one shape of these messages. */
    public String says(String what, Reply r, String detail) {
        String suffix = detail == null || detail.isEmpty() ? "" : " " + detail.strip();
        return "backend '" + backend + "': " + what + " answered HTTP " + r.status() + suffix;
    }

    /**
     * The exception for an answer that is not applied, by {@link #classify}: transient (with the answer's
     * {@code Retry-After}) for {@link Verdict#TRANSIENT} and {@link Verdict#CREDENTIALS} (then with the code
     * {@code VSYNC-BACKEND-CREDENTIALS} and without {@code detail}), otherwise permanent for the change at
     * {@code failedIndex} (-1: unknown, the relay splits the batch). A 409 that reaches here is the store's
     * clash (a name or id that exists), not a version guard, so this input is refused too. The message ends
     * with the store's summary of the error ({@link #withErrorDetail}), never a body that may quote payload.
     *
     * @throws IllegalArgumentException for a 2xx, which is not a failure
     */
    public BackendException failure(String what, Reply r, int failedIndex) {
        int status = r.status();
        String detail = this.detail.apply(r);
        return switch (r.verdict()) {
            case CREDENTIALS -> new TransientBackendException("VSYNC-BACKEND-CREDENTIALS: backend '" + backend
                    + "' refused its credentials: " + what + " answered HTTP " + status + " from "
                    + r.raw().uri().resolve("/") + "; fix vectorsync.backends." + backend
                    + ".api-key (or the receiver's key); the backend stays paused, nothing is parked",
                    null, retryAfter(r.raw(), clock));
            case TRANSIENT -> new TransientBackendException(says(what, r, detail), null, retryAfter(r.raw(), clock));
            case PERMANENT, ALREADY_APPLIED -> new PermanentBackendException(says(what, r, detail), null, failedIndex);
            case APPLIED -> throw new IllegalArgumentException("HTTP " + status + " is not a failure");
        };
    }

    /**
     * A server's error text fit for a log: quoted text left out (a message may quote a value it could not
     * read, and payload never goes into a log), at most 200 characters.
     */
    public static String scrub(String text) {
        String out = text.replaceAll("\"[^\"]*\"|'[^']*'|`[^`]*`", "…");
        return out.length() > 200 ? out.substring(0, 200) + "…" : out;
    }

    /** What an HTTP status means for a call of a backend, the same for every HTTP backend. */
    public enum Verdict {
        /** 2xx: done. */
        APPLIED,
        /** 409: the store already holds this version or a newer one (a version conflict). */
        ALREADY_APPLIED,
        /**
         * 401, 403: the store refused the credentials (a rotated or revoked API key). No event is to blame:
         * transient, so the backend pauses until an operator fixes the key and never parks good events.
         */
        CREDENTIALS,
        /** 408, 425, 429, 5xx: the store can't take it now; retried after a backoff (or Retry-After). */
        TRANSIENT,
        /** Any other status (a 4xx, a 1xx or 3xx the client does not follow): this input is refused. */
        PERMANENT
    }

    /** The one status table of the HTTP backends (a store's own exceptions, such as a 404 that means "missing", come first). */
    public static Verdict classify(int status) {
        if (status / 100 == 2) {
            return Verdict.APPLIED;
        }
        return switch (status) {
            case 409 -> Verdict.ALREADY_APPLIED;
            case 401, 403 -> Verdict.CREDENTIALS;
            case 408, 425, 429 -> Verdict.TRANSIENT;
            default -> status / 100 == 5 ? Verdict.TRANSIENT : Verdict.PERMANENT;
        };
    }

    /**
     * The backend's server URL from {@code vectorsync.backends.<name>.url}, trimmed: {@code defaultUrl} when
     * unset (or an error naming the property when there is none), and only http or https.
     *
     * @throws IllegalStateException naming the property and what it must hold
     */
    public static URI serverUrl(String configured, String defaultUrl, String backend, String type) {
        String property = "vectorsync.backends." + backend + ".url";
        String url = configured == null || configured.isBlank() ? defaultUrl : configured.trim();
        if (url == null) {
            throw new IllegalStateException(property + " is required for a " + type + " backend");
        }
        URI uri = URI.create(url);
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
            throw new IllegalStateException(property + " must be an http(s) URL");
        }
        return uri;
    }

    /** An optional setting: {@code null} when unset or blank. */
    public static String optional(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static HttpClient client(Duration connectTimeout) {
        return HttpClient.newBuilder().connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** Sends the request (whose own timeout is the read timeout); throws {@link TransientBackendException} when no answer came. */
    private static HttpResponse<String> send(HttpClient client, HttpRequest request, String backend) {
        URI server = request.uri().resolve("/");
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw new TransientBackendException("backend '" + backend + "': cannot connect to " + server, e, null, true);
        } catch (HttpTimeoutException e) {
            throw new TransientBackendException("backend '" + backend + "': no answer within "
                    + request.timeout().map(Duration::toString).orElse("the read timeout") + " from " + server, e);
        } catch (ConnectException e) {
            throw new TransientBackendException("backend '" + backend + "': connection refused by " + server, e, null,
                    true);
        } catch (IOException e) {
            throw new TransientBackendException("backend '" + backend + "': " + e.getClass().getSimpleName()
                    + " talking to " + server, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientBackendException("backend '" + backend + "': interrupted", e);
        }
    }

    /** The answer's {@code Retry-After} (seconds or an HTTP date), or {@code null}. */
    public static Duration retryAfter(HttpResponse<?> r, Clock clock) {
        return r.headers().firstValue("Retry-After").map(v -> {
            try {
                return Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
            } catch (NumberFormatException notSeconds) {
                try {
                    ZonedDateTime at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                    Duration d = Duration.between(clock.instant(), at.toInstant());
                    return d.isNegative() ? Duration.ZERO : d;
                } catch (RuntimeException unparsable) {
                    return null;
                }
            }
        }).orElse(null);
    }
}
