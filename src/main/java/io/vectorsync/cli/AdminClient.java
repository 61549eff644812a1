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
 * failures (problem details) mapped to the CLI's exit codes (3 cannot reach the service, 4 not authorised,
 * 2 a request the service refused as invalid, 1 anything else).
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
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept",
                "application/json, application/problem+json");
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
        throw failure(s, body, method + " " + uri.getPath(), token != null);
    }

    /**
     * The failure of a refused call, from its problem details (RFC 9457, ADR 022): the {@code code} member
     * and the {@code detail} text, printed as before; a body that is not problem details (a proxy's page)
     * shows as the detail, an absent code as {@code HTTP-<status>}.
     */
    static CliException failure(int status, JsonNode problem, String call, boolean tokenGiven) {
        String code = problem.path("code").asText("HTTP-" + status);
        String detail = problem.path("detail").asText(problem.isEmpty() ? "" : problem.toString());
        if (status == 401 || status == 403) {
            String hint = tokenGiven ? " Check the token (VECTORSYNC_ADMIN_TOKEN or --token-file)."
                    : " Set VECTORSYNC_ADMIN_TOKEN or pass --token-file.";
            return new CliException(VectorsyncCli.EXIT_UNAUTHORISED, "Not authorised (" + code + "): " + detail + hint);
        }
        int exit = status == 400 || status == 404 ? VectorsyncCli.EXIT_USAGE : VectorsyncCli.EXIT_PROBLEMS;
        return new CliException(exit, call + " failed: " + status + " " + code + ": " + detail);
    }

    private JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return json.createObjectNode();
        }
        try {
            return json.readTree(text);
        } catch (IOException e) {
            return json.createObjectNode().put("detail", text.length() > 200 ? text.substring(0, 200) : text);
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
