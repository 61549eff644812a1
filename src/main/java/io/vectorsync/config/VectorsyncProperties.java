package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Everything under {@code vectorsync.*}, validated at start-up. Messages name the property path and
 * the rule (Spring prints "vectorsync.relay.batch-size ... must be between 1 and 10000").
 */
@Validated
@ConfigurationProperties("vectorsync")
public record VectorsyncProperties(
        @DefaultValue("384") @Min(1) @Max(16000) int embeddingDimension,
        @DefaultValue @Valid @NotNull Api api,
        @DefaultValue @Valid @NotNull Relay relay,
        @DefaultValue("") String instanceId,
        @DefaultValue("") String failpoints,
        Map<String, @Valid Backend> backends) {

    public VectorsyncProperties {
        backends = backends == null ? new LinkedHashMap<>() : new LinkedHashMap<>(backends);
    }

    /** Limits of the capture API. */
    public record Api(
            @DefaultValue("500") @Min(1) @Max(10000) int maxBatchCount,
            @DefaultValue("8388608") @Min(1024) long maxBodyBytes,
            @DefaultValue("256") @Min(1) @Max(1024) int maxChunkIdLength,
            @DefaultValue("1048576") @Min(1) long maxContentBytes) {}

    /** Shared relay defaults; each backend may override the batch limits. */
    public record Relay(
            @DefaultValue("50") @Min(1) @Max(10000) int batchSize,
            @DefaultValue("1048576") @Min(1024) long batchBytes,
            @DefaultValue("150ms") @NotNull Duration pollInterval,
            @DefaultValue("15s") @NotNull Duration leaseTtl,
            @DefaultValue("1s") @NotNull Duration backoffBase,
            @DefaultValue("2.0") double backoffMultiplier,
            @DefaultValue("5m") @NotNull Duration backoffMax,
            @DefaultValue("5") @Min(1) @Max(100) int maxAttempts,
            @DefaultValue("20") @Min(1) int parkedPerPoll,
            @DefaultValue("3") @Min(1) int isolateAfterFailures,
            @DefaultValue("false") boolean listenNotify) {}

    /**
     * One secondary backend. {@code type} picks the implementation; for {@code postgres}, an empty
     * {@code jdbc-url} means the primary database (write, ledger and cursor then share a transaction);
     * for {@code webhook}, {@code url} is the receiver and {@code secret} the HMAC-SHA256 key.
     */
    public record Backend(
            @DefaultValue("postgres") String type,
            @DefaultValue("true") boolean enabled,
            Integer batchSize,
            Long batchBytes,
            String jdbcUrl,
            String username,
            String password,
            @DefaultValue("replica_chunks") String table,
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("30s") Duration readTimeout,
            String url,
            String secret) {}

    public int batchSizeOf(String backend) {
        Backend b = backends.get(backend);
        return b != null && b.batchSize() != null ? b.batchSize() : relay.batchSize();
    }

    public long batchBytesOf(String backend) {
        Backend b = backends.get(backend);
        return b != null && b.batchBytes() != null ? b.batchBytes() : relay.batchBytes();
    }
}
