package io.vectorsync.console;

import io.vectorsync.api.AdminController;
import io.vectorsync.api.JobController;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.jobs.JobQueue;
import io.vectorsync.jobs.JobStatus;
import java.security.Principal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The status page {@code /console} (ADR 029): its two HTML pages (from {@code static/console/}, whose
 * scripts and style sheet Spring serves as static resources) and the JSON it reads and posts, under the
 * console's login ({@link ConsoleSecurityConfig}), not the admin API's header credentials: the overview
 * (jobs by status from the {@link JobQueue}, each backend's status as {@code GET /admin/v1/status} has it)
 * and a job's retry and cancel.
 */
@RestController
@RequestMapping("/console")
@io.vectorsync.config.ServerOnly
public class ConsoleController {

    /** Jobs shown per status at most (the newest). */
    static final int DEFAULT_LIMIT = 50;

    private final AdminController admin;
    private final JobQueue jobs;

    public ConsoleController(AdminController admin, JobQueue jobs) {
        this.admin = admin;
        this.jobs = jobs;
    }

    /** The CSRF token the page sends with each POST, in the header {@code headerName}. */
    public record Csrf(String headerName, String parameterName, String token) {}

    /**
     * The newest jobs of one status, each as {@code GET /api/v1/jobs/{id}} shows it.
     *
     * @param more true when the status has more jobs than are listed
     */
    public record JobGroup(JobStatus status, List<JobController.Job> jobs, boolean more) {}

    /** What the page shows: who is logged in, jobs by status, each backend's status, read at {@code at}. */
    public record Overview(Instant at, String user, List<JobGroup> jobs, List<AdminController.BackendStatus> backends) {}

    @GetMapping("")
    ResponseEntity<Void> root() {
        return ResponseEntity.status(HttpStatus.FOUND).header("Location", "/console/").build();
    }

    @GetMapping(path = "/", produces = MediaType.TEXT_HTML_VALUE)
    Resource page() {
        return new ClassPathResource("static/console/index.html");
    }

    @GetMapping(path = "/login", produces = MediaType.TEXT_HTML_VALUE)
    Resource login() {
        return new ClassPathResource("static/console/login.html");
    }

    /** Open (the login form needs it too); another site's script cannot read it (same-origin policy, no CORS). */
    @GetMapping(path = "/api/csrf", produces = MediaType.APPLICATION_JSON_VALUE)
    Csrf csrf(CsrfToken token) {
        return new Csrf(token.getHeaderName(), token.getParameterName(), token.getToken());
    }

    @GetMapping(path = "/api/overview", produces = MediaType.APPLICATION_JSON_VALUE)
    Overview overview(Principal user, @RequestParam(defaultValue = "" + DEFAULT_LIMIT) int limit) {
        if (limit < 1 || limit > 500) {
            throw new CaptureException(400, "VSYNC-LIMIT-INVALID", "limit", "1 to 500", "limit is out of range.");
        }
        List<JobGroup> groups = new ArrayList<>();
        for (JobStatus status : JobStatus.values()) {
            List<JobController.Job> listed = jobs.list(null, status, limit + 1).stream().map(JobController.Job::of)
                    .toList();
            boolean more = listed.size() > limit;
            groups.add(new JobGroup(status, more ? listed.subList(0, limit) : listed, more));
        }
        return new Overview(Instant.now(), user.getName(), groups, admin.status().backends());
    }

    /** FAILED or CANCELLED → PENDING with a fresh attempt budget ({@link JobQueue#retry}); 404/409 otherwise. */
    @PostMapping(path = "/api/jobs/{id}/retry", produces = MediaType.APPLICATION_JSON_VALUE)
    JobController.Job retry(@PathVariable String id) {
        return JobController.Job.of(jobs.retry(id));
    }

    /** PENDING → CANCELLED, PROCESSING → cancel requested ({@link JobQueue#cancel}); 404/409 otherwise. */
    @PostMapping(path = "/api/jobs/{id}/cancel", produces = MediaType.APPLICATION_JSON_VALUE)
    JobController.Job cancel(@PathVariable String id) {
        return JobController.Job.of(jobs.cancel(id));
    }
}
