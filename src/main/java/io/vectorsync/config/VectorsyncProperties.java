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
 * the rule (Spring prints "vectorsync.relay.batch-size ... must be between 1 and 10000"); the layout of
 * the backends' keys is checked before binding by {@link BackendLayout}.
 *
 * @param embeddingDimension the dimension of every embedding; the backends create their vectors with it
 * @param api limits of the capture API
 * @param relay the relay's shared settings
 * @param instanceId this process's id as a lease owner (default: host, process id and a nonce)
 * @param failpoints test-only fault injection points, comma-separated; empty in production
 * @param backends the secondary backends by name (lowercase letters, digits and '-')
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

    /**
     * Limits of the capture API.
     *
     * @param maxBatchCount most chunks in one batch request
     * @param maxBodyBytes largest request body accepted
     * @param maxChunkIdLength longest chunk id accepted
     * @param maxContentBytes largest content of one chunk
     */
    public record Api(
            @DefaultValue("500") @Min(1) @Max(10000) int maxBatchCount,
            @DefaultValue("8388608") @Min(1024) long maxBodyBytes,
            @DefaultValue("256") @Min(1) @Max(1024) int maxChunkIdLength,
            @DefaultValue("1048576") @Min(1) long maxContentBytes) {}

    /**
     * Shared relay defaults; each backend may override the batch limits. The lease of a backend lasts
     * {@code lease-ttl} from its last renewal; it is renewed every {@code lease-heartbeat} (default a third
     * of the TTL) at polls and, while a batch is being delivered, by a heartbeat (ADR 014).
     *
     * @param batchSize most events per delivered batch
     * @param batchBytes most payload bytes per batch
     * @param pollInterval how often a caught-up relay polls the outbox
     * @param leaseTtl how long a backend's lease lasts after its last renewal
     * @param leaseHeartbeat how often the lease is renewed (default: a third of lease-ttl; at most half)
     * @param backoffBase the first retry's delay after a failed delivery
     * @param backoffMultiplier the factor of each further retry's delay
     * @param backoffMax the longest retry delay
     * @param maxAttempts deliveries of an event before it becomes a dead letter
     * @param parkedPerPoll most parked events retried per poll
     * @param isolateAfterFailures failed batch deliveries after which the relay delivers event by event to
     *     isolate the failing one
     * @param listenNotify wake the relay with PostgreSQL LISTEN/NOTIFY on new outbox events
     * @param healthProbeInterval how often an unhealthy backend is probed
     * @param coalesce how long a woken relay waits to gather more events (at most poll-interval)
     * @param pauseSyncInterval how often each instance follows the paused/resumed state of the relay
     *     routes kept in the database
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
            @DefaultValue("50ms") @NotNull Duration coalesce,
            @DefaultValue("2s") @NotNull Duration pauseSyncInterval) {

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
            if (pauseSyncInterval != null && (pauseSyncInterval.isNegative() || pauseSyncInterval.isZero())) {
                throw new IllegalArgumentException("vectorsync.relay.pause-sync-interval must be positive, got "
                        + pauseSyncInterval);
            }
            if (coalesce != null && pollInterval != null && coalesce.compareTo(pollInterval) > 0) {
                coalesce = pollInterval; // a caught-up relay polls every poll-interval anyway
            }
        }
    }

    /**
     * One secondary backend: the keys every type shares; the type-specific ones are in the block named
     * after the type family ({@link BackendBlocks}), and only that block is read.
     *
     * @param type which store the backend writes to; picks the implementation and the block of its keys
     * @param enabled false keeps the configuration but starts no relay for the backend
     * @param batchSize most events per delivered batch (default vectorsync.relay.batch-size)
     * @param batchBytes most payload bytes per batch (default vectorsync.relay.batch-bytes)
     * @param connectTimeout how long connecting to the backend may take
     * @param readTimeout how long one call to the backend may take once connected
     * @param fields the allowlist of what may leave the primary: documentId, content, embedding, metadata or
     *     metadata.{key}; empty: all of them
     * @param retry per-backend overrides of the relay's retry policy
     * @param circuitBreaker the backend's circuit breaker
     * @param backfill whether a backend configured for the first time is backfilled from a snapshot of the
     *     chunks (false: it reads the whole outbox instead)
     * @param postgres keys of a backend of type postgres
     * @param webhook keys of a backend of type webhook
     * @param search keys of a backend of type opensearch or elasticsearch
     * @param chroma keys of a backend of type chroma
     * @param qdrant keys of a backend of type qdrant
     * @param neo4j keys of a backend of type neo4j
     */
    public record Backend(
            @DefaultValue("postgres") @NotNull BackendType type,
            @DefaultValue("true") boolean enabled,
            @Min(1) @Max(10000) Integer batchSize,
            @Min(1024) Long batchBytes,
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("30s") Duration readTimeout,
            List<String> fields,
            @DefaultValue @Valid Retry retry,
            @DefaultValue @Valid CircuitBreaker circuitBreaker,
            @DefaultValue("true") boolean backfill,
            @DefaultValue @Valid BackendBlocks.Postgres postgres,
            @DefaultValue @Valid BackendBlocks.Webhook webhook,
            @DefaultValue @Valid BackendBlocks.Search search,
            @DefaultValue @Valid BackendBlocks.Chroma chroma,
            @DefaultValue @Valid BackendBlocks.Qdrant qdrant,
            @DefaultValue @Valid BackendBlocks.Neo4j neo4j) {

        public Backend {
            fields = fields == null ? List.of() : List.copyOf(fields);
        }
    }

    /**
     * Per-backend overrides of the relay's retry policy; unset values fall back to {@code vectorsync.relay}.
     *
     * @param backoffBase the first retry's delay (default vectorsync.relay.backoff-base)
     * @param backoffMultiplier the factor of each further delay (default vectorsync.relay.backoff-multiplier)
     * @param backoffMax the longest retry delay (default vectorsync.relay.backoff-max)
     * @param maxAttempts deliveries before a dead letter (default vectorsync.relay.max-attempts)
     * @param isolateAfterFailures failures before event-by-event delivery (default
     *     vectorsync.relay.isolate-after-failures)
     */
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
     *
     * @param failureRateThreshold percent of failed deliveries in the window that opens the circuit
     * @param minimumNumberOfCalls deliveries before the failure rate counts
     * @param slidingWindowSize deliveries in the window
     * @param waitInOpen how long the circuit stays open before probing (whole seconds)
     * @param halfOpenCalls deliveries let through to probe a half-open circuit
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
