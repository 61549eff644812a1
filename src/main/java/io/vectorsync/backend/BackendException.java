package io.vectorsync.backend;

/**
 * A backend call failed. The type decides what happens next, never the message text:
 * {@link TransientBackendException} pauses the backend, {@link PermanentBackendException} isolates the
 * failing change. Messages must not contain payload contents or embeddings.
 */
public abstract sealed class BackendException extends RuntimeException
        permits TransientBackendException, PermanentBackendException {

    protected BackendException(String message, Throwable cause) {
        super(message, cause, false, true);
    }
}
