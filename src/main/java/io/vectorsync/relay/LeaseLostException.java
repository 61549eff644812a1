package io.vectorsync.relay;

/** The cursor moved under us or our lease expired: another instance owns the backend now. */
public final class LeaseLostException extends RuntimeException {

    public LeaseLostException(String backend) {
        super("VSYNC-RELAY-LEASE: lease or cursor of backend '" + backend
                + "' changed under this instance; the batch was rolled back and will be redelivered by the holder",
                null, false, false);
    }
}
