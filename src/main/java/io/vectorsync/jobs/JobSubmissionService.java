package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.JobsProperties;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.routes.RouteNudge;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * {@link JobSubmission}: the checks every new job passes, in this order, each refusal queueing nothing:
 * <ol>
 * <li>the envelope: a type, at most {@value #MAX_CORRELATION_KEYS} correlation keys of
 * {@code [A-Za-z0-9_.:-]} (1–{@value #MAX_KEY_LENGTH} characters) with values of at most
 * {@value #MAX_VALUE_LENGTH} characters, an {@code Idempotency-Key} of 1–{@value #MAX_IDEMPOTENCY_KEY_LENGTH}
 * printable ASCII characters (400 {@code VSYNC-JOB-INVALID});</li>
 * <li>the type is registered, a {@link JobHandler} bean (404 {@code VSYNC-JOB-TYPE}), and enabled,
 * {@code vectorsync.jobs.types.<TYPE>.enabled} (409 {@code VSYNC-JOB-DISABLED});</li>
 * <li>the payload is valid against the type's JSON Schema ({@link JobPayloadSchemas}; 400
 * {@code VSYNC-JOB-INVALID});</li>
 * <li>the type's {@code rate-per-minute}, counted over the jobs table's {@code created_at} in the last
 * minute, so across every instance (429 {@code VSYNC-JOB-RATE} with {@code Retry-After}: the seconds until
 * the oldest job of the window leaves it). A limited type's check and enqueue run in one transaction under
 * a transaction-level advisory lock of the type, so two instances cannot both take the last slot; a type
 * without a limit takes no lock.</li>
 * </ol>
 * Then the job is {@link JobQueue#enqueue enqueued} (which merges the handler's correlation keys over the
 * client's). An enqueue that finds the existing job of the same correlation or
 * idempotency key still counts as a request: over the limit it is refused too, and repeated after
 * {@code Retry-After} it returns that job.
 *
 * <p>Every handler type needs its schema: one missing stops the start-up.
 */
@Service
@ServerOnly
public class JobSubmissionService implements JobSubmission {

    static final int MAX_CORRELATION_KEYS = 16;
    static final int MAX_KEY_LENGTH = 64;
    static final int MAX_VALUE_LENGTH = 512;
    static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    /** The rate limit's window. */
    static final int WINDOW_SECONDS = 60;

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_.:-]+");
    private static final Pattern PRINTABLE = Pattern.compile("[\\x20-\\x7E]+");

    private final JobQueue queue;
    private final Map<String, JobHandler> handlers;
    private final JobsProperties properties;
    private final JobPayloadSchemas schemas;
    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final ObjectMapper json;
    private final RouteNudge nudge;

    public JobSubmissionService(JobQueue queue, List<JobHandler> handlers, JobsProperties properties,
            ObjectMapper json, JdbcTemplate jdbc, PlatformTransactionManager transactions, RouteNudge nudge) {
        this.queue = queue;
        Map<String, JobHandler> byType = new TreeMap<>();
        for (JobHandler h : handlers) {
            String type = h.type();
            if (type == null || !type.matches("[A-Z][A-Z0-9_]*")) {
                throw new IllegalStateException("Job handler " + h.getClass().getName() + ": type '" + type
                        + "' is not upper case ([A-Z][A-Z0-9_]*)");
            }
            if (byType.put(type, h) != null) {
                throw new IllegalStateException("Two job handlers for type " + type);
            }
        }
        this.handlers = Map.copyOf(byType);
        this.properties = properties;
        this.schemas = JobPayloadSchemas.load(byType.keySet(), json);
        this.jdbc = jdbc;
        this.tx = new TransactionTemplate(transactions);
        this.json = json;
        this.nudge = nudge;
    }

    /** The registered types, sorted. */
    public Set<String> types() {
        return schemas.types();
    }

    /** The payload schemas of the registered types (for the OpenAPI document). */
    public JobPayloadSchemas schemas() {
        return schemas;
    }

    @Override
    public boolean operatorOnly(String type) {
        JobHandler h = type == null ? null : handlers.get(type);
        return h != null && h.operatorOnly();
    }

    @Override
    public Enqueued submit(JobRequest request) {
        String type = request.type();
        if (type == null || type.isBlank()) {
            throw invalid("type", "a job type (" + String.join(", ", types()) + ")", "The job has no type.");
        }
        Map<String, String> correlation = checkedCorrelation(request.correlation());
        String idempotencyKey = request.idempotencyKey();
        if (idempotencyKey != null && (idempotencyKey.length() > MAX_IDEMPOTENCY_KEY_LENGTH
                || !PRINTABLE.matcher(idempotencyKey).matches() || idempotencyKey.isBlank())) {
            throw invalid("Idempotency-Key", "1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " printable ASCII characters",
                    "The Idempotency-Key header is empty, too long or has characters outside printable ASCII.");
        }
        JobHandler handler = handlers.get(type);
        if (handler == null) {
            throw new CaptureException(404, "VSYNC-JOB-TYPE", "type", "one of " + String.join(", ", types()),
                    "No job type has this name (types are upper case).");
        }
        if (!properties.type(type).enabled()) {
            throw new CaptureException(409, "VSYNC-JOB-DISABLED", "type", "an enabled job type",
                    "Jobs of type " + type + " are disabled on this service (vectorsync.jobs.types." + type
                            + ".enabled=false); nothing was queued.");
        }
        JsonNode payload = request.payload() == null ? json.createObjectNode() : request.payload();
        if (!payload.isObject()) {
            throw invalid("payload", "a JSON object", "The payload is not a JSON object.");
        }
        schemas.validate(type, payload);
        try {
            // What the schema cannot say (INGEST: the overlap below the budget) the handler's reading does.
            handler.correlation(payload);
        } catch (PermanentJobException e) {
            throw invalid("payload", "a payload the " + type + " job can use (" + e.code() + ")",
                    e.getMessage() + ".");
        }
        // The queue merges the handler's correlation keys over these.
        JobRequest checked = new JobRequest(type, correlation, payload, request.runAt(), request.priority(),
                idempotencyKey);
        int rate = properties.type(type).ratePerMinute();
        if (rate <= 0) {
            return queue.enqueue(checked);
        }
        Enqueued e = tx.execute(status -> {
            jdbc.query("SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(?, 0))", rs -> null,
                    "vectorsync.jobs.rate:" + type);
            long recent = jdbc.queryForObject("""
                    SELECT count(*) FROM jobs WHERE type = ? AND created_at > clock_timestamp() - make_interval(secs => ?)
                    """, Long.class, type, WINDOW_SECONDS);
            if (recent >= rate) {
                throw limited(type, rate, retryAfter(type, recent - rate));
            }
            return queue.enqueue(checked);
        });
        if (e.created()) {
            // The queue's own nudge ran inside the transaction, before the job could be seen: once more now.
            nudge.nudge(JobService.POLL_NUDGE);
        }
        return e;
    }

    /** Seconds until the job at {@code offset} (oldest first) of the window leaves it; at least 1. */
    private long retryAfter(String type, long offset) {
        List<Long> left = jdbc.queryForList("""
                SELECT ceil(extract(epoch FROM created_at + make_interval(secs => ?) - clock_timestamp()))::bigint
                  FROM jobs WHERE type = ? AND created_at > clock_timestamp() - make_interval(secs => ?)
                 ORDER BY created_at OFFSET ? LIMIT 1
                """, Long.class, WINDOW_SECONDS, type, WINDOW_SECONDS, offset);
        long seconds = left.isEmpty() || left.get(0) == null ? 1 : left.get(0);
        return Math.max(1, Math.min(WINDOW_SECONDS, seconds));
    }

    private static CaptureException limited(String type, int rate, long retryAfter) {
        return new CaptureException(429, "VSYNC-JOB-RATE", "type", "at most " + rate + " jobs per minute",
                "Jobs of type " + type + " are limited to " + rate + " per minute across all instances"
                        + " (vectorsync.jobs.types." + type + ".rate-per-minute); retry in " + retryAfter
                        + " s. Nothing was queued.", retryAfter);
    }

    private static Map<String, String> checkedCorrelation(Map<String, String> correlation) {
        if (correlation == null || correlation.isEmpty()) {
            return Map.of();
        }
        if (correlation.size() > MAX_CORRELATION_KEYS) {
            throw invalid("correlation", "at most " + MAX_CORRELATION_KEYS + " keys",
                    "The correlation has " + correlation.size() + " keys.");
        }
        for (Map.Entry<String, String> e : correlation.entrySet()) {
            String key = e.getKey();
            if (key == null || key.length() > MAX_KEY_LENGTH || !KEY.matcher(key).matches()) {
                throw invalid("correlation", "keys of 1 to " + MAX_KEY_LENGTH + " characters [A-Za-z0-9_.:-]",
                        "A correlation key is empty, too long or has other characters.");
            }
            String value = e.getValue();
            if (value == null || value.length() > MAX_VALUE_LENGTH || value.chars().anyMatch(Character::isISOControl)) {
                throw invalid("correlation." + key, "a string of at most " + MAX_VALUE_LENGTH
                        + " characters without control characters", "A correlation value is missing, too long or"
                        + " has control characters.");
            }
        }
        return correlation;
    }

    private static CaptureException invalid(String field, String expected, String message) {
        return new CaptureException(400, "VSYNC-JOB-INVALID", field, expected, message + " Nothing was queued.");
    }
}
