package io.vectorsync.verify;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Schema;
import io.vectorsync.api.JobController;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.jobs.Enqueued;
import io.vectorsync.jobs.JobQueue;
import io.vectorsync.jobs.JobRequest;
import io.vectorsync.jobs.JobSubmission;
import io.vectorsync.jobs.OperatorRuns;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Verify as a VERIFY job of the one queue (issue 16, ADR 011): {@code POST /admin/v1/backends/{b}/verify?repair=}
 * enqueues through {@link JobSubmission} and answers 202 with the job and its {@code Location};
 * {@code GET /admin/v1/jobs/{id}} shows any job in the shape of earlier releases ({@code kind} in lower
 * case, the legacy status names QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, {@code error}): deprecated
 * for one release, {@code GET /api/v1/jobs/{id}} is its successor.
 */
@RestController
@RequestMapping(path = "/admin/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@ServerOnly
public class VerifyController {

    private final JobSubmission submission;
    private final JobQueue queue;
    private final BackendRegistry backends;
    private final ObjectMapper json;

    public VerifyController(JobSubmission submission, JobQueue queue, BackendRegistry backends, ObjectMapper json) {
        this.submission = submission;
        this.queue = queue;
        this.backends = backends;
        this.json = json;
    }

    /**
     * A job in the admin API's earlier shape: {@code result} once it has one, {@code error} once an attempt
     * failed; {@code status} in the legacy names ({@link io.vectorsync.jobs.JobStatus#legacyName()}).
     */
    public record JobView(String id,
            @Schema(description = "The job type in lower case (verify, backfill, …)") String kind,
            @Schema(description = "QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED") String status,
            Progress progress,
            @JsonInclude(JsonInclude.Include.NON_NULL)
            @Schema(description = "the job's result (for verify: the differences found), once it has one")
            JsonNode result,
            @JsonInclude(JsonInclude.Include.NON_NULL) String error) {

        public static JobView of(io.vectorsync.jobs.JobView job) {
            return new JobView(job.id(), job.type().toLowerCase(Locale.ROOT), job.status().legacyName(),
                    new Progress(job.progressDone(), job.progressTotal()), job.result(), job.lastError());
        }
    }

    /** How far a job has got; {@code total} once the job has counted. */
    public record Progress(long done, @JsonInclude(JsonInclude.Include.NON_NULL) Long total) {}

    @Operation(summary = "Start a verify job",
            description = "Enqueues a VERIFY job (or joins the one pending or running for the same backend and flag;"
                    + " after one completed, a new run starts): 202 with Location /admin/v1/jobs/{id}.")
    @PostMapping("/backends/{backend}/verify")
    public ResponseEntity<JobView> verify(@PathVariable("backend") String backend,
            @RequestParam(name = "repair", defaultValue = "false") String repair) {
        if (!"true".equals(repair) && !"false".equals(repair)) {
            throw new CaptureException(400, "VSYNC-REPAIR-INVALID", "repair", "true or false",
                    "repair must be true or false.");
        }
        if (!backends.contains(backend)) {
            throw new CaptureException(404, "VSYNC-BACKEND-NOT-FOUND", "backend", "a configured backend",
                    "No enabled backend has this name.");
        }
        if (!(backends.get(backend) instanceof ReadBack)) {
            throw new CaptureException(409, "VSYNC-VERIFY-UNSUPPORTED", "backend", "a backend that can be read back",
                    "This backend can't be read back (a webhook receiver, or a store without a listing of what it"
                            + " holds), so verify can't compare it; compare on the receiving side instead.");
        }
        Enqueued e = OperatorRuns.start(submission, new JobRequest("VERIFY",
                Map.of("backend", backend, "repair", repair),
                json.createObjectNode().put("backend", backend).put("repair", Boolean.parseBoolean(repair)),
                null, null, null));
        return accepted(e);
    }

    /** 202 with the job in the legacy shape and {@code Location: /admin/v1/jobs/{id}}. */
    public static ResponseEntity<JobView> accepted(Enqueued e) {
        return ResponseEntity.accepted().location(URI.create("/admin/v1/jobs/" + e.job().id()))
                .body(JobView.of(e.job()));
    }

    @Operation(summary = "A job, in the earlier shape (deprecated)", deprecated = true,
            description = "Kept for one release: kind, legacy status names (QUEUED, RUNNING, SUCCEEDED, FAILED,"
                    + " CANCELLED) and error. Use GET /api/v1/jobs/{id} (the Link header names it).")
    @GetMapping("/jobs/{id}")
    public ResponseEntity<JobView> job(@PathVariable("id") String id) {
        JobView job = queue.find(id).map(JobView::of).orElseThrow(JobController::notFound);
        return ResponseEntity.ok().header("Link", "</api/v1/jobs/" + id + ">; rel=\"successor-version\"")
                .body(job);
    }
}
