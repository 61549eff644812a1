package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
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
        backends.forEach((name, b) -> {
            if (b != null) {
                positive("vectorsync.backends." + name + ".connect-timeout", b.connectTimeout());
                positive("vectorsync.backends." + name + ".read-timeout", b.readTimeout());
            }
        });
    }

    private static void positive(String property, Duration d) {
        if (d != null && (d.isNegative() || d.isZero())) {
            throw new IllegalArgumentException(property + " must be positive, got " + d);
        }
    }

    /** Limits of the capture API. */
    public record Api(
            @DefaultValue("500") @Min(1) @Max(10000) int maxBatchCount,
            @DefaultValue("8388608") @Min(1024) long maxBodyBytes,
            @DefaultValue("256") @Min(1) @Max(1024) int maxChunkIdLength,
            @DefaultValue("1048576") @Min(1) long maxContentBytes) {}

    /**
     * Shared relay defaults; each backend may override the batch limits. The lease of a backend lasts
     * {@code lease-ttl} from its last renewal; it is renewed every {@code lease-heartbeat} (default a third
     * of the TTL) at polls and, while a batch is being delivered, by a heartbeat (ADR 014).
     */
    public record Relay(
            @DefaultValue("500") @Min(1) @Max(10000) int batchSize,
            @DefaultValue("1048576") @Min(1024) long batchBytes,
            @DefaultValue("150ms") @NotNull Duration pollInterval,
            @DefaultValue("15s") @NotNull Duration leaseTtl,
            Duration leaseHeartbeat,
            @DefaultValue("1s") @NotNull Duration backoffBase,
            @DefaultValue("2.0") double backoffMultiplier,
            @DefaultValue("5m") @NotNull Duration backoffMax,
            @DefaultValue("5") @Min(1) @Max(100) int maxAttempts,
            @DefaultValue("20") @Min(1) int parkedPerPoll,
            @DefaultValue("3") @Min(1) int isolateAfterFailures,
            @DefaultValue("false") boolean listenNotify,
            @DefaultValue("2s") @NotNull Duration healthProbeInterval,
            @DefaultValue("50ms") @NotNull Duration coalesce) {

        /** The shortest lease: a renewal is one UPDATE, but a loaded database may take a few hundred ms. */
        public static final Duration MIN_LEASE_TTL = Duration.ofSeconds(1);

        public Relay {
            if (leaseTtl != null && leaseTtl.compareTo(MIN_LEASE_TTL) < 0) {
                throw new IllegalArgumentException("vectorsync.relay.lease-ttl must be at least " + MIN_LEASE_TTL
                        + ", got " + leaseTtl);
            }
            if (leaseHeartbeat == null && leaseTtl != null) {
                leaseHeartbeat = leaseTtl.dividedBy(3);
            }
            if (leaseHeartbeat != null && (leaseHeartbeat.isNegative() || leaseHeartbeat.isZero())) {
                throw new IllegalArgumentException("vectorsync.relay.lease-heartbeat must be positive, got "
                        + leaseHeartbeat);
            }
            if (leaseHeartbeat != null && leaseTtl != null
                    && leaseHeartbeat.compareTo(leaseTtl.dividedBy(2)) > 0) {
                throw new IllegalArgumentException("vectorsync.relay.lease-heartbeat (" + leaseHeartbeat
                        + ") must be at most half of vectorsync.relay.lease-ttl (" + leaseTtl
                        + "), so that one late renewal does not lose the lease");
            }
            if (coalesce != null && coalesce.isNegative()) {
                throw new IllegalArgumentException("vectorsync.relay.coalesce must not be negative, got " + coalesce);
            }
            if (coalesce != null && pollInterval != null && coalesce.compareTo(pollInterval) > 0) {
                coalesce = pollInterval; // a caught-up relay polls every poll-interval anyway
            }
        }
    }

    /**
     * One secondary backend. {@code type} picks the implementation; for {@code postgres}, an empty
     * {@code jdbc-url} means the primary database (write, ledger and cursor then share a transaction);
     * for {@code webhook}, {@code url} is the receiver and {@code secret} the HMAC-SHA256 key; HTTP and
     * Bolt backends take {@code url}, credentials and {@code collection} (a Qdrant or Chroma collection,
     * an OpenSearch/Elasticsearch index, a Neo4j label) and, for vector stores, {@code distance} (the
     * collection's distance function when the backend creates it). {@code fields} is the allowlist of what may
     * leave the primary ({@code documentId}, {@code content}, {@code embedding}, {@code metadata} or
     * {@code metadata.<key>}; empty: all of them).
     */
    public record Backend(
            @DefaultValue("postgres") String type,
            @DefaultValue("true") boolean enabled,
            @Min(1) @Max(10000) Integer batchSize,
            @Min(1024) Long batchBytes,
            String jdbcUrl,
            String username,
            String password,
            @DefaultValue("replica_chunks") String table,
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("30s") Duration readTimeout,
            String url,
            String secret,
            String apiKey,
            String collection,
            String collectionBy,
            @DefaultValue("hard") String deleteMode,
            String flavor,
            String distance,
            List<String> fields,
            @DefaultValue @Valid Retry retry,
            @DefaultValue @Valid CircuitBreaker circuitBreaker,
            @DefaultValue("true") boolean backfill) {

        public Backend {
            fields = fields == null ? List.of() : List.copyOf(fields);
        }
    }

    /** Per-backend overrides of the relay's retry policy; unset values fall back to {@code vectorsync.relay}. */
    public record Retry(
            Duration backoffBase,
            Double backoffMultiplier,
            Duration backoffMax,
            @Min(1) @Max(100) Integer maxAttempts,
            @Min(1) Integer isolateAfterFailures) {}

    /**
     * The backend's circuit breaker (Resilience4j through Camel's circuit-breaker EIP): it opens after
     * {@code failure-rate-threshold} percent of the last {@code sliding-window-size} deliveries failed
     * (once at least {@code minimum-number-of-calls} were made), stays open for {@code wait-in-open},
     * then lets {@code half-open-calls} through to probe.
     */
    public record CircuitBreaker(
            @DefaultValue("50") @Min(1) @Max(100) float failureRateThreshold,
            @DefaultValue("3") @Min(1) int minimumNumberOfCalls,
            @DefaultValue("5") @Min(1) int slidingWindowSize,
            @DefaultValue("5s") Duration waitInOpen,
            @DefaultValue("1") @Min(1) int halfOpenCalls) {}

    /** The retry policy in force for one backend. */
    public record RetryPolicy(Duration backoffBase, double backoffMultiplier, Duration backoffMax, int maxAttempts,
            int isolateAfterFailures) {}

    public RetryPolicy retryOf(String backend) {
        Backend b = backends.get(backend);
        Retry r = b == null || b.retry() == null ? new Retry(null, null, null, null, null) : b.retry();
        return new RetryPolicy(
                r.backoffBase() != null ? r.backoffBase() : relay.backoffBase(),
                r.backoffMultiplier() != null ? r.backoffMultiplier() : relay.backoffMultiplier(),
                r.backoffMax() != null ? r.backoffMax() : relay.backoffMax(),
                r.maxAttempts() != null ? r.maxAttempts() : relay.maxAttempts(),
                r.isolateAfterFailures() != null ? r.isolateAfterFailures() : relay.isolateAfterFailures());
    }

    /**
     * The longest one call to the backend may take by its own timeouts (connect plus read), which bounds
     * how long a batch's delivery may hold the lease (ADR 014).
     */
    public Duration callTimeoutOf(String backend) {
        Backend b = backends.get(backend);
        Duration connect = b != null && b.connectTimeout() != null ? b.connectTimeout() : Duration.ofSeconds(5);
        Duration read = b != null && b.readTimeout() != null ? b.readTimeout() : Duration.ofSeconds(30);
        return connect.plus(read);
    }

    public int batchSizeOf(String backend) {
        Backend b = backends.get(backend);
        return b != null && b.batchSize() != null ? b.batchSize() : relay.batchSize();
    }

    public long batchBytesOf(String backend) {
        Backend b = backends.get(backend);
        return b != null && b.batchBytes() != null ? b.batchBytes() : relay.batchBytes();
    }
}
