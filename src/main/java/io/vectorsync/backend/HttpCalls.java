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
 * no answer within the read timeout and other I/O errors are transient), and the server's
 * {@code Retry-After}. Messages name the backend and the server, never the request's body.
 */
public final class HttpCalls {

    private HttpCalls() {}

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
