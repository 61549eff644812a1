package io.vectorsync.backend;

import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A secondary store the relay keeps in step. Implementations are small: one batched, version-guarded
 * write, a read-back for verification and a health check. New capabilities arrive as default methods.
 */
public interface Backend {

    /** The configured name, e.g. {@code replica}. */
    String name();

    /**
     * Applies the changes (at most one per key, in order), each guarded by version so that an older
     * version never overwrites a newer one and re-applying is harmless. Returns only once the backend
     * holds them durably.
     *
     * @throws TransientBackendException when the backend can't take them now
     * @throws PermanentBackendException when it refuses them for good
     */
    void apply(List<Change> changes);

    /**
     * Applies the changes as {@link #apply(List)} does, for the holder of the backend's lease at epoch
     * {@code fence}. A backend that commits on its own should refuse, with {@link BackendFencedException},
     * a write of an older epoch than one it has already taken: a holder that stalled past its lease must
     * not land its stale batch after the new holder's writes (a delete leaves no version behind to guard
     * against an older upsert). Not fencing by default.
     */
    default void apply(List<Change> changes, long fence) {
        apply(changes);
    }

    /**
     * Applies the changes for the holder of the lease of {@code fence.partition()} at
     * {@code fence.epoch()} (ADR 017): where the store allows it, the write is conditional on the fence in
     * the same request or transaction; where it can't be, the epoch travels with the write. By default the
     * epoch goes to {@link #apply(List, long)}, which keys its fence by backend alone, so only partition 0.
     */
    default void apply(List<Change> changes, LeaseFence fence) {
        if (fence.partition() != 0) {
            throw new IllegalStateException("backend '" + name() + "' keys its fence by partition 0 only, not "
                    + fence.partition());
        }
        apply(changes, fence.epoch());
    }

    /**
     * True when the backend can only check the lease fence in a call apart from its write (no conditional
     * write, no transaction): a write of a holder that finds its lease lost afterwards may have landed
     * after the new holder's, so the relay records its keys as suspect and the current holder re-reads and
     * rewrites them (ADR 017).
     */
    default boolean fenceCheckedApart() {
        return false;
    }

    /**
     * The chunks the backend holds for these ids, with the fields it stores (absent ids are missing from
     * the map). Used by verification and by the contract tests.
     *
     * @throws UnsupportedOperationException when the backend can't be queried (a webhook receiver)
     */
    Map<String, StoredChunk> readBack(Collection<String> chunkIds);

    /** Versions the backend holds for these chunk ids (absent ids are missing from the map). */
    default Map<String, Long> readBackVersions(Collection<String> chunkIds) {
        Map<String, Long> out = new java.util.HashMap<>();
        readBack(chunkIds).forEach((id, stored) -> out.put(id, stored.version()));
        return out;
    }

    /**
     * One page of the chunk ids the backend holds (live chunks only, tombstones excluded), for verify's
     * search for orphans: {@code pageToken} is {@code null} for the first page, then the previous page's
     * {@link IdPage#next()}. Pages follow an order the backend chooses (chunk-id order where it can) and
     * hold at most {@code limit} ids, so a walk over millions of chunks keeps memory flat. A page may be
     * empty (filtered, or the end of one of several collections): only a {@code null} next token ends the walk.
     *
     * @throws UnsupportedOperationException when the backend can't list what it holds
     */
    default IdPage listChunkIds(String pageToken, int limit) {
        throw new UnsupportedOperationException("backend '" + name() + "' cannot list the chunks it holds");
    }

    /** True when {@link #listChunkIds} and {@link #readBack} work, so {@code verify} can compare the backend. */
    default boolean verifiable() {
        return false;
    }

    /**
     * The chunk fields {@link #readBack} reports as stored ({@code documentId}, {@code content},
     * {@code embedding}, {@code metadata}, {@code privacy}); verify compares only these.
     */
    default java.util.Set<String> readBackFields() {
        return java.util.Set.of("documentId", "content", "embedding", "metadata", "privacy");
    }

    /**
     * The target table's name when the backend is a table in the primary database (verify then compares
     * pages by checksum inside PostgreSQL); {@code null} otherwise.
     */
    default String primaryDatabaseTable() {
        return null;
    }

    /**
     * How many units in the last place a read-back embedding component may differ from the float32 value
     * sent (0: exactly as sent). A store that renormalises vectors for its index hands them back a few ulps
     * off.
     */
    default int embeddingUlpTolerance() {
        return 0;
    }

    /** A page of chunk ids and the token of the next page ({@code null} after the last one). */
    record IdPage(List<String> ids, String next) {}

    /** {@code null} when healthy, otherwise a short reason. */
    default String healthProblem() {
        return null;
    }

    /**
     * True when {@link #healthProblem()} really asks the backend (a cheap call: {@code SELECT 1}, a
     * heartbeat). While a backend is backing off after failures, the relay probes it this way every
     * {@code vectorsync.relay.health-probe-interval} and resumes as soon as it answers, instead of sitting
     * out a backoff that may have grown to minutes during a long outage.
     */
    default boolean hasHealthProbe() {
        return false;
    }

    /** Creates what the backend needs (tables, collections, indexes); called once at start-up. */
    default void bootstrap() {}

    /**
     * True when the backend writes through the primary's own transaction manager, so that its write,
     * the ledger and the cursor can commit in one transaction.
     */
    default boolean sharesPrimaryTransaction() {
        return false;
    }

    /**
     * True when the backend lives in the primary database and copies API-managed chunks from
     * {@code chunks} itself (privacy applied: REDACTED without content, LOCAL_ONLY and deleted rows not
     * copied), so the relay hands it UPSERTs without data ({@link Change#copiesFromPrimary()}) and the
     * embeddings never travel through the JVM.
     */
    default boolean copiesPrimaryRows() {
        return false;
    }

    /**
     * True when the backend stores relationships: the relay then hands it LINK events as
     * {@link Change.Op#LINK}/{@link Change.Op#UNLINK} changes keyed by edge ({@link Link#key()}), version-
     * guarded per edge by the ledger like chunks. Other backends never see LINK events.
     */
    default boolean acceptsLinks() {
        return false;
    }
}
