package io.vectorsync.verify;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.annotations.media.Schema;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.jobs.JobQueue;
import io.vectorsync.jobs.JobRequest;
import java.net.URI;
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
 * Verify as an asynchronous job: {@code POST /admin/v1/backends/{b}/verify?repair=} answers 202 with the
 * job and its {@code Location}; {@code GET /admin/v1/jobs/{id}} shows it (ADR 011).
 */
@RestController
@RequestMapping(path = "/admin/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@ServerOnly
public class VerifyController {

    private final JobQueue jobs;
    private final BackendRegistry backends;

    public VerifyController(JobQueue jobs, BackendRegistry backends) {
        this.jobs = jobs;
        this.backends = backends;
    }

    /**
     * A job as the admin API shows it: {@code result} once it has one, {@code error} once it failed; the
     * status with its legacy name (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED) and the type as {@code kind}
     * in lower case, as in earlier releases (deprecated, one release).
     */
    public record JobView(String id, String kind, String status, Progress progress,
            @JsonInclude(JsonInclude.Include.NON_NULL)
            @Schema(description = "the job's result (for verify: the differences found), once it has one")
            JsonNode result,
            @JsonInclude(JsonInclude.Include.NON_NULL) String error) {

        static JobView of(io.vectorsync.jobs.JobView job) {
            return new JobView(job.id(), job.type().toLowerCase(java.util.Locale.ROOT), job.status().legacyName(),
                    new Progress(job.progressDone(), job.progressTotal()), job.result(), job.lastError());
        }
    }

    /** How far a job has got; {@code total} once the job has counted. */
    public record Progress(long done, @JsonInclude(JsonInclude.Include.NON_NULL) Long total) {}

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
        io.vectorsync.jobs.JobView job = jobs.enqueue(new JobRequest("VERIFY", Map.of(),
                com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().put("backend", backend)
                        .put("repair", Boolean.parseBoolean(repair)), null, null, null)).job();
        return ResponseEntity.accepted().location(URI.create("/admin/v1/jobs/" + job.id())).body(JobView.of(job));
    }

    @GetMapping("/jobs/{id}")
    public JobView job(@PathVariable("id") String id) {
        return jobs.find(id).map(JobView::of).orElseThrow(() -> new CaptureException(404,
                "VSYNC-JOB-NOT-FOUND", "id", "the id of a job", "No job has this id."));
    }
}
