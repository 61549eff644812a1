package io.vectorsync.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.config.EmbeddingProperties;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Any OpenAI-compatible {@code POST {base-url}/embeddings} endpoint (OpenAI itself, vLLM, Ollama's,
 * LocalAI, text-embeddings-inference): texts go in batches of {@code batch-size}; a 429 or 503 is retried
 * after its {@code Retry-After} (seconds or an HTTP date, at most {@code max-retry-after}; without one after
 * one second, doubling) up to {@code max-retries} times; a timeout, an I/O error or another 5xx is a
 * transient {@link EmbeddingException}, any other status a permanent one. Answers are checked: one vector per
 * text (ordered by {@code index}), each of {@link #dimension()} finite numbers. Neither the texts nor the
 * server's answer body reach an exception message or a log.
 */
public final class OpenAiEmbeddingProvider implements EmbeddingProvider {

    private final EmbeddingProperties.OpenAi config;
    private final int dimension;
    private final HttpClient client;
    private final URI endpoint;
    private final ObjectMapper json;
    private final Clock clock;
    private final Sleeper sleeper;

    /** How the provider waits before a retry (a real sleep; tests measure it, they do not replace it). */
    @FunctionalInterface
    interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /**
     * @param dimension the vectors' expected length ({@code openai.dimensions} when set, else
     *     {@code vectorsync.embedding-dimension})
     */
    public OpenAiEmbeddingProvider(EmbeddingProperties.OpenAi config, int dimension, ObjectMapper json, Clock clock) {
        this(config, dimension, json, clock, d -> Thread.sleep(d.toMillis()));
    }

    OpenAiEmbeddingProvider(EmbeddingProperties.OpenAi config, int dimension, ObjectMapper json, Clock clock,
            Sleeper sleeper) {
        if (config.baseUrl() == null || config.baseUrl().isBlank()) {
            throw new IllegalArgumentException("vectorsync.embedding.openai.base-url is required with provider openai");
        }
        this.config = config;
        this.dimension = dimension;
        this.json = json;
        this.clock = clock;
        this.sleeper = sleeper;
        String base = config.baseUrl().endsWith("/") ? config.baseUrl().substring(0, config.baseUrl().length() - 1)
                : config.baseUrl();
        this.endpoint = URI.create(base + "/embeddings");
        this.client = HttpClient.newBuilder().connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public String model() {
        return config.model();
    }

    /** The endpoint serves one version per model name; the name is what pins it ("unversioned" recorded). */
    @Override
    public String modelVersion() {
        return config.modelVersion();
    }

    @Override
    public boolean acceptsLocalOnly() {
        return config.sendLocalOnly();
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        List<float[]> out = new ArrayList<>(texts.size());
        for (int from = 0; from < texts.size(); from += config.batchSize()) {
            out.addAll(batch(texts.subList(from, Math.min(texts.size(), from + config.batchSize()))));
        }
        return out;
    }

    private List<float[]> batch(List<String> texts) {
        byte[] body = requestBody(texts);
        Duration wait = Duration.ofSeconds(1);
        for (int attempt = 0;; attempt++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(endpoint).timeout(config.readTimeout())
                    .header("Content-Type", "application/json").header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (config.apiKey() != null && !config.apiKey().isEmpty()) {
                b.header("Authorization", "Bearer " + config.apiKey());
            }
            HttpResponse<byte[]> r;
            try {
                r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (HttpTimeoutException e) {
                throw new EmbeddingException("VSYNC-EMBED-TIMEOUT", false,
                        "The embedding endpoint did not answer within " + config.readTimeout() + " (" + endpoint + ")", e);
            } catch (IOException e) {
                throw new EmbeddingException("VSYNC-EMBED-UNREACHABLE", false,
                        "The embedding endpoint could not be reached (" + endpoint + "): " + e.getClass().getSimpleName(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddingException("VSYNC-EMBED-UNREACHABLE", false, "Interrupted while embedding", e);
            }
            int status = r.statusCode();
            if (status == 200) {
                return vectors(r.body(), texts.size());
            }
            if ((status == 429 || status == 503) && attempt < config.maxRetries()) {
                Duration after = retryAfter(r.headers().firstValue("Retry-After").orElse(null), wait);
                if (after.compareTo(config.maxRetryAfter()) > 0) {
                    throw new EmbeddingException("VSYNC-EMBED-RATE", false, "The embedding endpoint asked to wait "
                            + after + ", longer than vectorsync.embedding.openai.max-retry-after");
                }
                try {
                    sleeper.sleep(after);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EmbeddingException("VSYNC-EMBED-RATE", false, "Interrupted while waiting to retry", e);
                }
                wait = wait.multipliedBy(2);
                continue;
            }
            boolean transientStatus = status == 429 || status == 408 || status >= 500;
            throw new EmbeddingException(status == 429 ? "VSYNC-EMBED-RATE" : "VSYNC-EMBED-REFUSED", !transientStatus,
                    "The embedding endpoint answered HTTP " + status + " (" + endpoint + ", model " + config.model() + ")");
        }
    }

    private byte[] requestBody(List<String> texts) {
        ObjectNode req = json.createObjectNode();
        req.put("model", config.model());
        ArrayNode input = req.putArray("input");
        texts.forEach(input::add);
        req.put("encoding_format", "float");
        if (config.dimensions() != null) {
            req.put("dimensions", config.dimensions());
        }
        try {
            return json.writeValueAsBytes(req);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<float[]> vectors(byte[] body, int expected) {
        JsonNode data;
        try {
            data = json.readTree(body).path("data");
        } catch (IOException e) {
            throw malformed("its answer is not JSON");
        }
        if (!data.isArray() || data.size() != expected) {
            throw malformed("expected " + expected + " embeddings, got " + (data.isArray() ? data.size() : "none"));
        }
        float[][] out = new float[expected][];
        for (int i = 0; i < expected; i++) {
            JsonNode item = data.get(i);
            int index = item.path("index").asInt(i);
            JsonNode v = item.path("embedding");
            if (index < 0 || index >= expected || out[index] != null || !v.isArray()) {
                throw malformed("item " + i + " has no embedding or a wrong index");
            }
            if (v.size() != dimension) {
                throw new EmbeddingException("VSYNC-EMBED-DIMENSION", true, "The embedding endpoint's model "
                        + config.model() + " answered " + v.size() + " dimensions; vectorsync.embedding-dimension is "
                        + dimension);
            }
            float[] f = new float[dimension];
            for (int k = 0; k < dimension; k++) {
                JsonNode x = v.get(k);
                f[k] = (float) x.asDouble(Double.NaN);
                if (!x.isNumber() || !Float.isFinite(f[k])) {
                    throw malformed("item " + i + " holds a value that is no finite number");
                }
            }
            out[index] = f;
        }
        return List.of(out);
    }

    private EmbeddingException malformed(String what) {
        return new EmbeddingException("VSYNC-EMBED-MALFORMED", false, "The embedding endpoint's answer is unusable: "
                + what + " (" + endpoint + ")");
    }

    /** {@code Retry-After} as delay-seconds or an HTTP date; {@code otherwise} when absent or unreadable. */
    Duration retryAfter(String header, Duration otherwise) {
        if (header == null || header.isBlank()) {
            return otherwise;
        }
        String h = header.trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(h)));
        } catch (NumberFormatException notSeconds) {
            try {
                ZonedDateTime at = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME.withLocale(Locale.ROOT));
                Duration d = Duration.between(clock.instant(), at.toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return otherwise;
            }
        }
    }
}
