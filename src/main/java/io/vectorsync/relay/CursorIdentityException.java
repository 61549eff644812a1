package io.vectorsync.relay;

/**
 * The database's system identifier differs from the one the cursor was made on: the database was
 * restored or migrated and transaction ids below the cursor mean something else now. The relay halts
 * that backend (ADR 015); an operator re-baselines the cursor (a backfill) deliberately.
 */
public final class CursorIdentityException extends RuntimeException {

    public CursorIdentityException(String backend, long expected, long actual) {
        super("VSYNC-RELAY-IDENTITY: cursor of backend '" + backend + "' was made on database system "
                + expected + " but this database is " + actual
                + "; the relay for this backend is halted. Restore the right database, or re-baseline the cursor"
                + " with a backfill (POST /admin/v1/backends/" + backend + "/backfill) once you have checked the backend.", null, false, false);
    }

    /** The halt reason when the database's transaction ids are below the cursor's (ADR 015). */
    static String transactionIdsBehind(String backend, long cursorBound, long nextXid) {
        return "VSYNC-RELAY-IDENTITY: the database's next transaction id " + nextXid + " is below the cursor of"
                + " backend '" + backend + "' (" + cursorBound + "): transaction ids went backwards (a restore into"
                + " another cluster?); the relay for this backend is halted, as events written now would look"
                + " already delivered. Re-baseline it with POST /admin/v1/backends/" + backend + "/backfill once you"
                + " have checked the database.";
    }
}
