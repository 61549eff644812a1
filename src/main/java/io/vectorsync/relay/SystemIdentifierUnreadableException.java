package io.vectorsync.relay;

/**
 * The relay's database role may not read {@code pg_control_system()}: without the cluster's system
 * identifier a restore or a swapped database can't be detected, so the relay refuses to run (ADR 015).
 */
public final class SystemIdentifierUnreadableException extends IllegalStateException {

    public SystemIdentifierUnreadableException(Throwable cause) {
        super("VSYNC-RELAY-IDENTITY: cannot read the database's system identifier; grant pg_monitor (or EXECUTE on"
                + " pg_control_system()) to the relay's role. Without it a restore into another cluster would go"
                + " unnoticed, so the relay does not run.", cause);
    }
}
