package io.vectorsync.backend;

/**
 * The backend refused a write fenced with an older lease epoch than one it has already seen: another
 * instance holds the backend's lease now and has written, so this instance's batch is stale. Neither
 * transient nor permanent: the batch is dropped unwritten and the cursor stays for the holder.
 */
public final class BackendFencedException extends RuntimeException {

    public BackendFencedException(String backend, long fence, long newer) {
        super("VSYNC-RELAY-FENCED: backend '" + backend + "' refused a write of lease epoch " + fence
                + ": epoch " + newer + " has written since", null, false, false);
    }
}
