package io.vectorsync.jobs;

/** Thrown by {@link JobContext#progress} when the running job was cancelled or this worker lost its lease. */
public final class JobCancelledException extends RuntimeException {

    public JobCancelledException(String message) {
        super(message);
    }
}
