package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.embedding.*}: who embeds the texts of ingested documents and of chunks written without
 * an embedding (issue 16, docs/ingest.md). The provider's dimension must equal
 * {@code vectorsync.embedding-dimension}; the service refuses to start otherwise.
 *
 * @param provider {@code local} (all-MiniLM-L6-v2 in-process, 384 dimensions), {@code openai} (an
 *     OpenAI-compatible endpoint) or {@code none} (clients bring their embeddings; ingest is refused)
 * @param batchSize texts per call into the local model
 * @param openai the OpenAI-compatible endpoint, used with {@code provider: openai}
 */
@Validated
@ConfigurationProperties("vectorsync.embedding")
public record EmbeddingProperties(
        @DefaultValue("local") @NotNull Provider provider,
        @DefaultValue("16") @Min(1) @Max(1024) int batchSize,
        @DefaultValue @Valid @NotNull OpenAi openai) {

    /** Which provider embeds. */
    public enum Provider {
        LOCAL, OPENAI, NONE
    }

    /**
     * An OpenAI-compatible {@code /embeddings} endpoint.
     *
     * @param baseUrl up to and including the API's version, e.g. {@code https://api.example.com/v1};
     *     {@code /embeddings} is appended
     * @param model the model name sent with each request and recorded with each chunk
     * @param modelVersion recorded with each chunk beside the name (the endpoint does not tell one)
     * @param apiKey sent as {@code Authorization: Bearer}; empty for none
     * @param dimensions sent as {@code dimensions} (models that can shorten their vectors); empty: the model's
     *     own, which must equal {@code vectorsync.embedding-dimension}
     * @param batchSize texts per request
     * @param connectTimeout to open a connection
     * @param readTimeout for a whole answer
     * @param maxRetries retries of a 429 or 503 answer
     * @param maxRetryAfter the longest {@code Retry-After} waited for; a longer one fails the call (the job
     *     retries later)
     * @param sendLocalOnly send the texts of LOCAL_ONLY documents and chunks to this endpoint (false: they are
     *     refused, since LOCAL_ONLY text must not leave the primary; true only for an endpoint of your own)
     * @param checkAtStartup embed one probe text at start-up and refuse to start when the answer's dimension
     *     differs (or the endpoint cannot be reached)
     */
    public record OpenAi(
            @DefaultValue("") String baseUrl,
            @DefaultValue("text-embedding-3-small") @NotNull String model,
            @DefaultValue("unversioned") @NotNull String modelVersion,
            @DefaultValue("") String apiKey,
            @Min(1) Integer dimensions,
            @DefaultValue("64") @Min(1) @Max(2048) int batchSize,
            @DefaultValue("5s") @NotNull Duration connectTimeout,
            @DefaultValue("60s") @NotNull Duration readTimeout,
            @DefaultValue("5") @Min(0) @Max(20) int maxRetries,
            @DefaultValue("30s") @NotNull Duration maxRetryAfter,
            @DefaultValue("false") boolean sendLocalOnly,
            @DefaultValue("true") boolean checkAtStartup) {

        @Override
        public String toString() {
            return "OpenAi[" + baseUrl + ", " + model + "]"; // never the key
        }
    }
}
