package io.vectorsync.relay;

/**
 * The database's system identifier differs from the one the cursor was made on: the database was
 * restored or migrated and transaction ids below the cursor mean something else now. The relay for
 * that backend stops; an operator must reset the cursor (backfill) deliberately.
 */
public final class CursorIdentityException extends RuntimeException {

    public CursorIdentityException(String backend, long expected, long actual) {
        super("VSYNC-RELAY-IDENTITY: cursor of backend '" + backend + "' was made on database system "
                + expected + " but this database is " + actual
                + "; the relay for this backend is stopped. Restore the right database, or reset the cursor"
                + " with a backfill once you have checked the backend.", null, false, false);
    }
}
