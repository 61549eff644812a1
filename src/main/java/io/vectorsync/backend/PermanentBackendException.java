package io.vectorsync.backend;

/**
 * The backend refused the batch for a reason that retrying the same input will not fix. When the
 * backend knows which change it refused, {@link #failedIndex()} says so; otherwise the relay splits the
 * batch to find it.
 */
public final class PermanentBackendException extends BackendException {

    private final int failedIndex;

    public PermanentBackendException(String message, Throwable cause) {
        this(message, cause, -1);
    }

    public PermanentBackendException(String message, Throwable cause, int failedIndex) {
        super(message, cause);
        this.failedIndex = failedIndex;
    }

    /** Index of the refused change in the batch, or -1 when unknown. */
    public int failedIndex() {
        return failedIndex;
    }
}
