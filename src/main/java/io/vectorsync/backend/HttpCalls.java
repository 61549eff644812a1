package io.vectorsync.backend;

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

/**
 * What the HTTP backends share: one call with its failures classified (a refused or timed-out
 * connection is transient and marks the backend unreachable, so the relay never splits a batch for it;
 * no answer within the read timeout and other I/O errors are transient), the one table that says what
 * an answer's status means ({@link #classify}), the exception for a refusal ({@link #refusal}) and the
 * server's {@code Retry-After}. Messages name the backend and the server, never the request's or the
 * answer's body.
 */
public final class HttpCalls {

    private HttpCalls() {}

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
     * The exception for an answer that {@link #classify} says is not applied: transient (with the answer's
     * {@code Retry-After}) for {@link Verdict#TRANSIENT} and {@link Verdict#CREDENTIALS} (then with the code
     * {@code VSYNC-BACKEND-CREDENTIALS} and without {@code detail}), otherwise permanent for the change at
     * {@code failedIndex} (-1: unknown, the relay splits the batch). The message names the backend, what
     * was called and the status; {@code detail} is the caller's summary of the error (never a body that may
     * quote payload).
     *
     * @throws IllegalArgumentException for a status that is not a failure (2xx, 409)
     */
    public static BackendException refusal(String backend, String what, HttpResponse<?> r, Clock clock,
            int failedIndex, String detail) {
        int status = r.statusCode();
        String suffix = detail == null || detail.isEmpty() ? "" : " " + detail.strip();
        return switch (classify(status)) {
            case CREDENTIALS -> new TransientBackendException("VSYNC-BACKEND-CREDENTIALS: backend '" + backend
                    + "' refused its credentials: " + what + " answered HTTP " + status + " from "
                    + r.uri().resolve("/") + "; fix vectorsync.backends." + backend
                    + ".api-key (or the receiver's key); the backend stays paused, nothing is parked",
                    null, retryAfter(r, clock));
            case TRANSIENT -> new TransientBackendException("backend '" + backend + "': " + what + " answered HTTP "
                    + status + suffix, null, retryAfter(r, clock));
            case PERMANENT -> new PermanentBackendException("backend '" + backend + "': " + what + " answered HTTP "
                    + status + suffix, null, failedIndex);
            case APPLIED, ALREADY_APPLIED -> throw new IllegalArgumentException("HTTP " + status + " is not a failure");
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

    /** A client with the backend's connect timeout that never follows redirects. */
    public static HttpClient client(Duration connectTimeout) {
        return HttpClient.newBuilder().connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * Sends the request (whose own timeout is the read timeout).
     *
     * @throws TransientBackendException when no answer came
     */
    public static HttpResponse<String> send(HttpClient client, HttpRequest request, String backend) {
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
