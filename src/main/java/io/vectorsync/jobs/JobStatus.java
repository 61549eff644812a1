package io.vectorsync.jobs;

/**
 * A job's status (issue 16). {@link #legacyName()} is the name the admin endpoints of earlier releases
 * answered with ({@code QUEUED}, {@code RUNNING}, {@code SUCCEEDED}); they keep it for one release.
 */
public enum JobStatus {
    PENDING("QUEUED"),
    PROCESSING("RUNNING"),
    FAILED("FAILED"),
    COMPLETED("SUCCEEDED"),
    CANCELLED("CANCELLED");

    private final String legacyName;

    JobStatus(String legacyName) {
        this.legacyName = legacyName;
    }

    public String legacyName() {
        return legacyName;
    }

    /** PENDING and PROCESSING: the job may still run. */
    public boolean active() {
        return this == PENDING || this == PROCESSING;
    }
}
