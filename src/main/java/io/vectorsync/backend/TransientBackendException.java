package io.vectorsync.backend;

import java.time.Duration;

/** The backend could not take the batch now (connection refused, timeout, 5xx, serialization failure). */
public final class TransientBackendException extends BackendException {

    private final Duration retryAfter;
    private final boolean unreachable;

    public TransientBackendException(String message, Throwable cause) {
        this(message, cause, null, false);
    }

    public TransientBackendException(String message, Throwable cause, Duration retryAfter) {
        this(message, cause, retryAfter, false);
    }

    /**
     * @param unreachable the backend could not be reached at all (connection refused or not opened): no
     *     single change can be to blame, so the relay does not split the batch to isolate one
     */
    public TransientBackendException(String message, Throwable cause, Duration retryAfter, boolean unreachable) {
        super(message, cause);
        this.retryAfter = retryAfter;
        this.unreachable = unreachable;
    }

    /** True when the backend could not be reached at all, as opposed to failing on this batch. */
    public boolean unreachable() {
        return unreachable;
    }

    /** The server's own hint (HTTP Retry-After), or {@code null}. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
