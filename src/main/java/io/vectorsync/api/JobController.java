package io.vectorsync.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.jobs.Enqueued;
import io.vectorsync.jobs.JobQueue;
import io.vectorsync.jobs.JobRequest;
import io.vectorsync.jobs.JobStatus;
import io.vectorsync.jobs.JobSubmission;
import io.vectorsync.jobs.JobView;
import io.vectorsync.security.AdminCredentials;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The job API (issue 16): {@code POST /api/v1/jobs} enqueues through {@link JobSubmission} (202 with
 * {@code Location} when a job was created, 200 with the existing job of the same correlation or
 * {@code Idempotency-Key}); {@code GET /api/v1/jobs/{id}}, {@code GET /api/v1/jobs?type=&status=&limit=},
 * {@code POST /api/v1/jobs/{id}:cancel} and {@code …:retry} go to the {@link JobQueue}. The envelope is read
 * here member by member, so each mistake has its field; its OpenAPI schema ({@code JobSubmit}, one variant
 * per type with that type's payload schema) comes from {@link JobApiDocs}.
 */
@RestController
@RequestMapping(path = "/api/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "jobs", description = "Asynchronous jobs: ingest, re-embed, verify, backfill (issue 16)")
@ServerOnly
public class JobController {

    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    static final int MAX_LIMIT = 1000;
    private static final Set<String> ENVELOPE = Set.of("type", "correlation", "payload", "runAt", "priority");

    private final JobSubmission submission;
    private final JobQueue queue;
    private final AdminCredentials credentials;
    private final ChunkRequestParser parser;

    public JobController(JobSubmission submission, JobQueue queue, AdminCredentials credentials,
            ChunkRequestParser parser) {
        this.submission = submission;
        this.parser = parser;
        this.queue = queue;
        this.credentials = credentials;
    }

    /**
     * Jobs of an operator type (VERIFY, BACKFILL: they write to backends) need the admin credential here too,
     * as on the admin endpoints that start them; the application's types (INGEST, REEMBED) are as open as
     * the chunk writes they amount to.
     */
    private void operatorCheck(String type, HttpServletRequest request) {
        if (submission.operatorOnly(type)) {
            credentials.require(request);
        }
    }

    private void operatorCheckOf(String id, HttpServletRequest request) {
        queue.find(id).ifPresent(j -> operatorCheck(j.type(), request));
    }

    /** Whether the request carries the admin credential (a wrong one counts as none). */
    private boolean operator(HttpServletRequest request) {
        try {
            credentials.require(request);
            return true;
        } catch (AdminCredentials.Refused e) {
            return false;
        }
    }

    /** The 401 of the admin surface, with its challenges. */
    @ExceptionHandler(AdminCredentials.Refused.class)
    void refused(AdminCredentials.Refused e, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        credentials.refusal().commence(request, response, e);
    }

    /** A job: what it is, where it stands, what it found. Members without a value are left out. */
    @Schema(name = "Job", description = "A job of the queue")
    public record Job(
            @Schema(description = "The job's id (a ULID)") String id,
            @Schema(description = "Its type: INGEST, REEMBED, VERIFY, BACKFILL or NOOP") String type,
            @Schema(description = "PENDING (waiting, also between retries), PROCESSING, COMPLETED, FAILED (after its"
                    + " last attempt, kept for retry), CANCELLED") JobStatus status,
            Instant createdAt,
            @Schema(description = "When its latest attempt started") Instant startedAt,
            @Schema(description = "When it completed, failed for good or was cancelled") Instant finishedAt,
            @Schema(description = "Not run before this time (runAt, or the next retry)") Instant runAt,
            @Schema(description = "Higher runs first") int priority,
            @Schema(description = "Attempts started so far") int attempts,
            @Schema(description = "Attempts before a transiently failing job is FAILED") int maxAttempts,
            @Schema(description = "The correlation keys: the client's and the type's own") Map<String, String> correlation,
            JobProgress progress,
            @Schema(description = "The result (JSON object) once COMPLETED") JsonNode result,
            @Schema(description = "The last attempt's error, `CODE: message`; never payload contents")
                    String lastError) {

        public static Job of(JobView v) {
            return new Job(v.id(), v.type(), v.status(), v.createdAt(), v.startedAt(), v.finishedAt(), v.runAt(),
                    v.priority(), v.attempts(), v.maxAttempts(), v.correlation(),
                    new JobProgress(v.progressDone(), v.progressTotal()), v.result(), v.lastError());
        }

        /** Without what an operator job found (result, last error): a list read without the admin credential. */
        Job withoutFindings() {
            return new Job(id, type, status, createdAt, startedAt, finishedAt, runAt, priority, attempts, maxAttempts,
                    correlation, progress, null, null);
        }
    }

    /** How far a job has got; {@code total} once the job has counted its work. */
    @Schema(name = "JobProgress")
    public record JobProgress(long done, Long total) {}

    /** Jobs, newest first. */
    public record JobList(List<Job> jobs) {}

    @Operation(summary = "Enqueue a job",
            description = "The envelope {type, correlation, payload, runAt?, priority?}; the payload is validated"
                    + " against the type's JSON Schema (components `<Type>Payload`). The same type and correlation"
                    + " (the client's keys and the type's own) while a job is pending or processing, or completed"
                    + " within vectorsync.jobs.completed-window, or the same Idempotency-Key, returns that job (200)"
                    + " instead of a new one (202). Refusals queue nothing: 400 VSYNC-JOB-INVALID, 404"
                    + " VSYNC-JOB-TYPE, 409 VSYNC-JOB-DISABLED, 429 VSYNC-JOB-RATE with Retry-After. VERIFY and BACKFILL"
                    + " (operator work) need the admin credential (Authorization: Bearer or basic), else 401.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(ref = "#/components/schemas/" + JobApiDocs.ENVELOPE))))
    @ApiResponse(responseCode = "202", description = "Created; Location: /api/v1/jobs/{id}",
            content = @Content(schema = @Schema(implementation = Job.class)))
    @ApiResponse(responseCode = "200", description = "The existing job of this correlation or Idempotency-Key",
            content = @Content(schema = @Schema(implementation = Job.class)))
    @PostMapping(path = "/jobs", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<Job> submit(
            @Parameter(description = "A key of the client's choice (1-255 printable ASCII characters): a repeated"
                    + " request with it returns the job it created")
            @RequestHeader(name = IDEMPOTENCY_KEY, required = false) String idempotencyKey,
            HttpServletRequest request) throws IOException {
        JobRequest job = envelope(body(parser, request), idempotencyKey);
        operatorCheck(job.type(), request);
        Enqueued e = submission.submit(job);
        return answer(e);
    }

    /**
     * 202 with {@code Location} for a new job, 200 with {@code Content-Location} for the existing one: the
     * answer of every endpoint that enqueues through the API ({@code POST /api/v1/documents:ingest} too).
     */
    public static ResponseEntity<Job> answer(Enqueued e) {
        URI location = URI.create("/api/v1/jobs/" + e.job().id());
        Job job = Job.of(e.job());
        return e.created() ? ResponseEntity.accepted().location(location).body(job)
                : ResponseEntity.ok().header(HttpHeaders.CONTENT_LOCATION, location.toString()).body(job);
    }

    /**
     * A job. A VERIFY or BACKFILL job needs the admin credential to be read too: its result and error name
     * chunk ids and link keys (a verify's samples of missing, extra, stale, corrupt and unreadable keys,
     * among them keys only a backend still holds) and backends' state, which are the operator's.
     */
    @Operation(summary = "A job", description = "A VERIFY or BACKFILL job needs the admin credential (its result"
            + " names chunk ids and backends' state), else 401.")
    @GetMapping("/jobs/{id}")
    public Job job(@PathVariable("id") String id, HttpServletRequest request) {
        JobView job = queue.find(id).orElseThrow(JobController::notFound);
        operatorCheck(job.type(), request);
        return Job.of(job);
    }

    @Operation(summary = "Jobs, newest first", description = "Filtered by type and status; at most `limit` (1-1000)."
            + " Listing VERIFY or BACKFILL jobs by type needs the admin credential (else 401); in a list without it,"
            + " such jobs come without result and lastError.")
    @GetMapping("/jobs")
    public JobList list(
            @Parameter(description = "only this type") @RequestParam(name = "type", required = false) String type,
            @Parameter(description = "only this status: PENDING, PROCESSING, FAILED, COMPLETED or CANCELLED")
            @RequestParam(name = "status", required = false) String status,
            @Parameter(description = "1 to 1000") @RequestParam(name = "limit", defaultValue = "100") int limit,
            HttpServletRequest request) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to " + MAX_LIMIT,
                    "limit is out of range.");
        }
        JobStatus wanted = null;
        if (status != null && !status.isBlank()) {
            try {
                wanted = JobStatus.valueOf(status.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException unknown) {
                throw new CaptureException(400, "VSYNC-STATUS-INVALID", "status", Arrays.toString(JobStatus.values()),
                        "status is not one of a job's statuses.");
            }
        }
        String t = type == null || type.isBlank() ? null : type.trim().toUpperCase(Locale.ROOT);
        if (t != null) {
            operatorCheck(t, request);
        }
        List<JobView> found = queue.list(t, wanted, limit);
        boolean operator = t != null || found.stream().noneMatch(j -> submission.operatorOnly(j.type()))
                || operator(request);
        return new JobList(found.stream().map(Job::of)
                .map(j -> operator || !submission.operatorOnly(j.type()) ? j : j.withoutFindings()).toList());
    }

    @Operation(summary = "Cancel a job",
            description = "A pending job is CANCELLED at once; a processing one stops at its next progress report."
                    + " 409 when it has finished. A VERIFY or BACKFILL job needs the admin credential.")
    @PostMapping("/jobs/{id}:cancel")
    public Job cancel(@PathVariable("id") String id, HttpServletRequest request) {
        operatorCheckOf(id, request);
        return Job.of(queue.cancel(id));
    }

    @Operation(summary = "Retry a job", description = "A FAILED or CANCELLED job is PENDING again with a fresh"
            + " attempt budget. 409 otherwise. A VERIFY or BACKFILL job needs the admin credential.")
    @PostMapping("/jobs/{id}:retry")
    public Job retry(@PathVariable("id") String id, HttpServletRequest request) {
        operatorCheckOf(id, request);
        return Job.of(queue.retry(id));
    }

    /**
     * The body, read within {@code vectorsync.api.max-body-bytes} (413 beyond it, before anything is parsed)
     * and parsed strictly (malformed JSON, trailing tokens and duplicate keys are 400).
     */
    static JsonNode body(ChunkRequestParser parser, HttpServletRequest request) throws IOException {
        return parser.parse(parser.readBody(request.getInputStream(), request.getContentLengthLong()));
    }

    /** 404 {@code VSYNC-JOB-NOT-FOUND}. */
    public static CaptureException notFound() {
        return new CaptureException(404, "VSYNC-JOB-NOT-FOUND", "id", "the id of a job", "No job has this id.");
    }

    /** The envelope, member by member: unknown members and wrong types are refused with their field. */
    static JobRequest envelope(JsonNode body, String idempotencyKey) {
        if (body == null || !body.isObject()) {
            throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "a JSON object",
                    "The body is not a JSON object.");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!ENVELOPE.contains(name)) {
                throw new CaptureException(400, "VSYNC-UNKNOWN-FIELD", name, "type, correlation, payload, runAt,"
                        + " priority", "The job envelope has no such member.");
            }
        }
        JsonNode type = body.get("type");
        if (type != null && !type.isTextual() && !type.isNull()) {
            throw wrongType("type", "a string");
        }
        Map<String, String> correlation = new LinkedHashMap<>();
        JsonNode c = body.get("correlation");
        if (c != null && !c.isNull()) {
            if (!c.isObject()) {
                throw wrongType("correlation", "an object of strings");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = c.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (!f.getValue().isTextual()) {
                    throw wrongType("correlation." + f.getKey(), "a string");
                }
                correlation.put(f.getKey(), f.getValue().asText());
            }
        }
        JsonNode payload = body.get("payload");
        if (payload != null && !payload.isNull() && !payload.isObject()) {
            throw wrongType("payload", "a JSON object");
        }
        Instant runAt = null;
        JsonNode r = body.get("runAt");
        if (r != null && !r.isNull()) {
            String timestamp = "an RFC 3339 timestamp such as 2026-12-02T08:00:00Z";
            if (!r.isTextual()) {
                throw wrongType("runAt", timestamp);
            }
            try {
                runAt = Instant.parse(r.asText());
            } catch (DateTimeParseException e) {
                throw wrongType("runAt", timestamp);
            }
        }
        Integer priority = null;
        JsonNode p = body.get("priority");
        if (p != null && !p.isNull()) {
            if (!p.isIntegralNumber() || !p.canConvertToInt()) {
                throw wrongType("priority", "an integer");
            }
            priority = p.intValue();
        }
        return new JobRequest(type == null || type.isNull() ? null : type.asText(), correlation,
                payload == null || payload.isNull() ? null : payload, runAt, priority, idempotencyKey);
    }

    private static CaptureException wrongType(String field, String expected) {
        return new CaptureException(400, "VSYNC-JOB-INVALID", field, expected,
                field + " must be " + expected + ". Nothing was queued.");
    }
}
