package io.vectorsync.capture;

import java.util.Map;

/**
 * How far a chunk's version has got to each backend, for {@code GET /api/v1/chunks/{id}}. Implemented on
 * the relay's side (which knows the backends, the delivery ledger and the dead letters), so capture
 * depends on no relay or backend class.
 */
public interface DeliveryStatus {

    /** The state of one backend for one version. */
    enum State {
        /** Not applied yet (or an older version is applied). */
        PENDING,
        /** This version, or a later one, is applied. */
        SYNCED,
        /** This version or a later one is in an open dead letter. */
        FAILED
    }

    /** Per configured backend, in its order: the state of {@code version} of {@code chunkId}. */
    Map<String, State> of(String chunkId, long version);
}
