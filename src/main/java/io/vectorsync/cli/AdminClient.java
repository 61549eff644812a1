package io.vectorsync.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The admin API over the JDK's HTTP client: JSON in and out, the bearer token on every call, and the
 * failures mapped to the CLI's exit codes (3 cannot reach the service, 4 not authorised, 2 a request the
 * service refused as invalid, 1 anything else).
 */
final class AdminClient {

    /** An answer: status, body, and the Location header when there is one. */
    record Answer(int status, JsonNode body, String location) {}

    private final URI base;
    private final String token;
    private final ObjectMapper json;
    private final HttpClient http;
    private final Duration timeout;

    AdminClient(URI base, String token, ObjectMapper json, Duration timeout) {
        this.base = base;
        this.token = token;
        this.json = json;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    JsonNode get(String pathAndQuery) {
        return send("GET", pathAndQuery).body();
    }

    Answer post(String pathAndQuery) {
        return send("POST", pathAndQuery);
    }

    /** GET that answers 404 as empty instead of failing (for endpoints that may not exist yet). */
    Answer send(String method, String pathAndQuery) {
        URI uri = base.resolve(pathAndQuery);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        b.method(method, HttpRequest.BodyPublishers.noBody());
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new CliException(VectorsyncCli.EXIT_UNREACHABLE, "Cannot reach vectorsync at " + base + " ("
                    + describe(e) + "). Check --url or VECTORSYNC_URL, and that the service runs.");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(VectorsyncCli.EXIT_UNREACHABLE, "Interrupted while calling " + uri);
        }
        JsonNode body = parse(r.body());
        int s = r.statusCode();
        if (s >= 200 && s < 300) {
            return new Answer(s, body, r.headers().firstValue("Location").orElse(null));
        }
        String code = body.path("code").asText("HTTP-" + s);
        String message = body.path("message").asText(r.body() == null ? "" : r.body());
        if (s == 401 || s == 403) {
            String hint = token == null ? " Set VECTORSYNC_ADMIN_TOKEN or pass --token-file."
                    : " Check the token (VECTORSYNC_ADMIN_TOKEN or --token-file).";
            throw new CliException(VectorsyncCli.EXIT_UNAUTHORISED, "Not authorised (" + code + "): " + message + hint);
        }
        int exit = s == 400 || s == 404 ? VectorsyncCli.EXIT_USAGE : VectorsyncCli.EXIT_PROBLEMS;
        throw new CliException(exit, method + " " + uri.getPath() + " failed: " + s + " " + code + ": " + message);
    }

    private JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return json.createObjectNode();
        }
        try {
            return json.readTree(text);
        } catch (IOException e) {
            return json.createObjectNode().put("message", text.length() > 200 ? text.substring(0, 200) : text);
        }
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    URI base() {
        return base;
    }
}
