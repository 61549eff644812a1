package io.vectorsync.backend;

import java.util.Set;

/**
 * The backend applied (durably) every change of the call except those at {@link #deferred()}, which it
 * can't apply yet and will be able to later: a LINK whose endpoint chunk has a tombstone waits until the
 * chunk exists again. The relay records the others as applied and parks the deferred ones as transient
 * failures, retried with backoff until they go through or their attempts are spent (then dead-lettered).
 * Messages must not contain payload contents.
 */
public final class ChangesDeferredException extends RuntimeException {

    private final Set<Integer> deferred;

    public ChangesDeferredException(String message, Set<Integer> deferred) {
        super(message, null, false, false);
        this.deferred = Set.copyOf(deferred);
    }

    /** Indexes, in the call's list, of the changes not applied. */
    public Set<Integer> deferred() {
        return deferred;
    }
}
