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
import io.vectorsync.embedding.EmbeddingProvider;
import io.vectorsync.ingest.IngestHandler;
import io.vectorsync.jobs.JobRequest;
import io.vectorsync.jobs.JobSubmission;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /api/v1/documents:ingest}: a whole document becomes an INGEST job (docs/ingest.md) through
 * {@link JobSubmission}, so it is validated against {@code jobs/ingest.schema.json}, rate limited and enqueued
 * idempotently like any job: 202 with {@code Location: /api/v1/jobs/{id}}, or 200 with the job already
 * queued, running or recently completed for the same document and text.
 */
@RestController
@RequestMapping(path = "/api/v1", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "jobs")
@ServerOnly
public class DocumentController {

    private final JobSubmission submission;
    private final ObjectProvider<EmbeddingProvider> provider;
    private final ChunkRequestParser parser;

    public DocumentController(JobSubmission submission, ObjectProvider<EmbeddingProvider> provider,
            ChunkRequestParser parser) {
        this.submission = submission;
        this.parser = parser;
        this.provider = provider;
    }

    @Operation(summary = "Ingest a document",
            description = "The body is an INGEST payload (component IngestPayload): the document is split, its"
                    + " chunks embedded by the configured provider and written with their events by a job. The"
                    + " same document id and content again (while pending, processing or recently completed)"
                    + " answer 200 with that job; a changed document is a new job whose write changes only what"
                    + " changed. 409 VSYNC-EMBED-NONE when no provider is configured.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(ref = "#/components/schemas/IngestPayload"))))
    @ApiResponse(responseCode = "202", description = "Created; Location: /api/v1/jobs/{id}",
            content = @Content(schema = @Schema(implementation = JobController.Job.class)))
    @ApiResponse(responseCode = "200", description = "The existing job of this document and content",
            content = @Content(schema = @Schema(implementation = JobController.Job.class)))
    @PostMapping(path = "/documents:ingest", consumes = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<JobController.Job> ingest(HttpServletRequest request,
            @Parameter(description = "A key of the client's choice: a repeated request with it returns the job it"
                    + " created") @RequestHeader(name = JobController.IDEMPOTENCY_KEY, required = false)
            String idempotencyKey) throws IOException {
        EmbeddingProvider p = provider.getIfAvailable();
        if (p == null) {
            throw new CaptureException(409, "VSYNC-EMBED-NONE", "vectorsync.embedding.provider", "local or openai",
                    "No embedding provider is configured, so documents cannot be ingested; write chunks with their"
                            + " embeddings instead.");
        }
        JsonNode body = JobController.body(parser, request);
        if ("LOCAL_ONLY".equals(body.path("privacy").asText()) && !p.acceptsLocalOnly()) {
            throw new CaptureException(400, "VSYNC-EMBED-PRIVACY", "privacy", "FULL or REDACTED with this provider",
                    "The embedding provider sends texts out of this service; a LOCAL_ONLY document cannot be ingested"
                            + " with it (vectorsync.embedding.openai.send-local-only).");
        }
        return JobController.answer(submission.submit(new JobRequest(IngestHandler.TYPE, Map.of(), body, null, null,
                idempotencyKey)));
    }
}
