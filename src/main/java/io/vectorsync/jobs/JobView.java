package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;

/**
 * A job as {@code GET /api/v1/jobs/{id}} shows it.
 *
 * @param progressTotal null until the job has counted its work
 * @param result null until COMPLETED
 * @param lastError the last attempt's error ({@code CODE: message}, no payload content), or null
 */
public record JobView(String id, String type, JobStatus status, Instant createdAt, Instant startedAt,
        Instant finishedAt, Instant runAt, int priority, int attempts, int maxAttempts,
        Map<String, String> correlation, long progressDone, Long progressTotal, JsonNode result,
        String lastError) {}
