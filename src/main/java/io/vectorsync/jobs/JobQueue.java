package io.vectorsync.jobs;

import java.util.List;
import java.util.Optional;

/**
 * The one job queue (table {@code jobs}), shared by every instance. It does not validate payloads: callers
 * go through {@link JobSubmission}, which does.
 */
public interface JobQueue {

    /** Enqueues idempotently: same type + correlation (or idempotency key) while active or recently completed returns that job. */
    Enqueued enqueue(JobRequest request);

    Optional<JobView> find(String id);

    /** Newest first; null filters are ignored; limit 1..1000. */
    List<JobView> list(String type, JobStatus status, int limit);

    /** PENDING → CANCELLED at once; PROCESSING → cancel requested, the worker stops at its next progress call. 404 unknown, 409 finished. */
    JobView cancel(String id);

    /** FAILED or CANCELLED → PENDING again with a fresh attempt budget. 404 unknown, 409 otherwise. */
    JobView retry(String id);
}
