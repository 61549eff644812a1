package io.vectorsync.verify;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.jobs.JobService;
import java.net.URI;
import java.util.LinkedHashMap;
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
public class VerifyController {

    private final JobService jobs;
    private final BackendRegistry backends;

    public VerifyController(JobService jobs, BackendRegistry backends) {
        this.jobs = jobs;
        this.backends = backends;
    }

    @PostMapping("/backends/{backend}/verify")
    public ResponseEntity<Map<String, Object>> verify(@PathVariable("backend") String backend,
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
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("backend", backend);
        request.put("repair", Boolean.parseBoolean(repair));
        JobService.Job job = jobs.enqueue("verify", backend + ":repair=" + repair, request);
        return ResponseEntity.accepted().location(URI.create("/admin/v1/jobs/" + job.id())).body(job.toJson());
    }

    @GetMapping("/jobs/{id}")
    public Map<String, Object> job(@PathVariable("id") String id) {
        return jobs.find(id).map(JobService.Job::toJson).orElseThrow(() -> new CaptureException(404,
                "VSYNC-JOB-NOT-FOUND", "id", "the id of a job", "No job has this id."));
    }
}
