package io.vectorsync.jobs;

/**
 * The way in for every new job (the API's {@code POST /api/v1/jobs}, {@code POST /api/v1/documents:ingest},
 * the admin endpoints that start verify and backfill): checks the type exists and is enabled, validates the
 * payload against the type's JSON Schema ({@code jobs/<type>.schema.json} on the classpath, lower case), applies
 * the type's enqueue rate limit across all instances, then {@link JobQueue#enqueue}. A refusal is a
 * {@code CaptureException} (400 {@code VSYNC-JOB-INVALID}, 404 {@code VSYNC-JOB-TYPE}, 429
 * {@code VSYNC-JOB-RATE} with a retry-after) and queues nothing.
 */
public interface JobSubmission {

    Enqueued submit(JobRequest request);

    /** True when {@code type} is a registered type whose handler is {@link JobHandler#operatorOnly()}. */
    boolean operatorOnly(String type);
}
