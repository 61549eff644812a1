package io.vectorsync.backend;

import io.vectorsync.domain.Change;
import java.util.List;

/**
 * A backend that is a table in the primary database. It writes through the primary's own transaction
 * manager, so its write, the ledger and the cursor commit in one transaction (the cursor's compare-and-set
 * fences it: no lease epoch is needed). It copies API-managed chunks from {@code chunks} itself (privacy
 * applied: REDACTED without content, LOCAL_ONLY and deleted rows not copied), so the relay hands it
 * UPSERTs without data ({@link Change#copiesFromPrimary()}) and the embeddings never travel through the
 * JVM; and verify compares its pages by checksum inside PostgreSQL.
 */
public interface InPrimaryDatabase extends ReadBack {

    /**
     * Applies the changes as {@link #apply} does, inside the caller's transaction on the primary (which
     * commits them with the ledger and the cursor).
     */
    void applyInPrimaryTransaction(List<Change> changes);

    /** The target table's name in the primary database, for verify's checksum pages. */
    String table();
}
