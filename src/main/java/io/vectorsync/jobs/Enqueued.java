package io.vectorsync.jobs;

/**
 * What an enqueue did.
 *
 * @param created true: a new job (the API answers 202); false: the existing job with the same correlation
 *     or idempotency key that is pending, processing or completed within the window (the API answers 200)
 */
public record Enqueued(JobView job, boolean created) {}
