package io.vectorsync.sync;

/**
 * A call of the remote's sync functions that did not return. The type decides what the engine does:
 * {@link Unreachable} (the network, a timeout, a remote restart) backs the device off without spending any
 * entry's attempts; {@link CallFailed} (the remote answered with an error) spends the attempts of the
 * entries the call carried.
 */
public abstract sealed class RemoteSyncException extends RuntimeException {

    private final String code;

    RemoteSyncException(String code, String message, Throwable cause) {
        super(code + ": " + message, cause);
        this.code = code;
    }

    /** {@code VSYNC-SYNC-001} or {@code VSYNC-SYNC-002}. */
    public String code() {
        return code;
    }

    /** {@code VSYNC-SYNC-001}: the remote could not be reached; the device is offline. */
    public static final class Unreachable extends RemoteSyncException {
        Unreachable(String message, Throwable cause) {
            super("VSYNC-SYNC-001", message, cause);
        }
    }

    /** {@code VSYNC-SYNC-002}: the remote refused the call itself (not one change of it). */
    public static final class CallFailed extends RemoteSyncException {
        CallFailed(String message, Throwable cause) {
            super("VSYNC-SYNC-002", message, cause);
        }
    }
}
