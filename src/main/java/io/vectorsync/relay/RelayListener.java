package io.vectorsync.relay;

/**
 * Hooks for metrics and alerts; every method has a no-op default, and the relay never imports a
 * metrics library. Implementations must be fast and must not throw.
 */
public interface RelayListener {

    /** A batch committed: events read, changes applied, skipped by the ledger, and failed. */
    default void batchDelivered(String backend, int events, int applied, int skipped, int failed, long nanos) {}

    /** The backend failed transiently and is paused for a while. */
    default void backendFailed(String backend, int consecutiveFailures, Throwable cause) {}

    default void parked(String backend, String eventId, int attempts) {}

    default void deadLettered(String backend, String eventId) {}

    /** A batch lost the backend's lease before it committed (found by the heartbeat or the cursor's move). */
    default void leaseLost(String backend) {}

    /** The backend was halted: its cursor does not fit the database (ADR 015); {@code reason} is the message. */
    default void halted(String backend, String reason) {}
}
