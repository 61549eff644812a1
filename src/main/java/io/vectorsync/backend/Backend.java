package io.vectorsync.backend;

import io.vectorsync.domain.Change;
import java.util.List;

/**
 * A secondary store the relay keeps in step: what every backend has, one batched, version-guarded write
 * under the lease's fence and a bootstrap. What only some backends can do is a small role interface the
 * relay and verify check with {@code instanceof}, so a backend states its capabilities by what it
 * implements instead of by flags and methods that throw:
 * <ul>
 *   <li>{@link ReadBack}: reads back what it holds, so {@code verify} can compare it;</li>
 *   <li>{@link LinkStore}: takes LINK/UNLINK changes and reads edges back;</li>
 *   <li>{@link HealthProbe}: answers a cheap probe, so the relay ends a backoff early;</li>
 *   <li>{@link InPrimaryDatabase}: a table in the primary database, written in the primary's transaction;</li>
 *   <li>{@link FenceCheckedApart}: can check the lease fence only in a call apart from its write.</li>
 * </ul>
 */
public interface Backend {

    /** The configured name, e.g. {@code replica}. */
    String name();

    /**
     * Applies the changes (at most one per key, in order), each guarded by version so that an older
     * version never overwrites a newer one and re-applying is harmless, for the holder of the lease of
     * {@code fence.partition()} at {@code fence.epoch()} (ADR 017). Returns only once the backend holds
     * them durably.
     *
     * <p>A backend that commits on its own refuses, with {@link BackendFencedException}, a write of an older
     * epoch than one it has already taken: a holder that stalled past its lease must not land its stale
     * batch after the new holder's writes (a delete leaves no version behind to guard against an older
     * upsert). Where the store allows it, the write is conditional on the fence in the same request or
     * transaction; where it can't be, the epoch travels with the write (a webhook) or is checked in a call
     * of its own ({@link FenceCheckedApart}). A store without any fence keeps only the version guard.
     *
     * @throws TransientBackendException when the backend can't take them now
     * @throws PermanentBackendException when it refuses them for good
     * @throws BackendFencedException when a newer lease epoch has written
     */
    void apply(List<Change> changes, LeaseFence fence);

    /** Creates what the backend needs (tables, collections, indexes); called once at start-up. */
    default void bootstrap() {}
}
