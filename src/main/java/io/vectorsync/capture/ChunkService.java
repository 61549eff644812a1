package io.vectorsync.capture;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Service;

/**
 * The API's capture path over whichever {@link ChunkStore} holds the chunks: each write commits the chunk
 * and its event in the store, then tells the {@link CommitListener} (the relays wake at once); a read adds
 * how far the chunk has got to each backend ({@link DeliveryStatus}). Nothing here knows the database or
 * the backends, so the offline mode's store is one more {@link ChunkStore}, not a second copy of this path.
 */
@Service
public class ChunkService {

    private final ChunkStore store;
    private final DeliveryStatus delivery;
    private final CommitListener committed;

    public ChunkService(ChunkStore store, DeliveryStatus delivery, CommitListener committed) {
        this.store = store;
        this.delivery = delivery;
        this.committed = committed;
    }

    /**
     * A live chunk and the state of its version per backend (the server), or, when the store knows it
     * itself, its one sync status ({@code storeStatus}, a device; {@code syncStatus} is then null).
     */
    public record Read(StoredChunk chunk, Map<String, DeliveryStatus.State> syncStatus, String storeStatus) {

        public Read(StoredChunk chunk, Map<String, DeliveryStatus.State> syncStatus) {
            this(chunk, syncStatus, null);
        }
    }

    public Written upsert(ChunkInput in) {
        Written w = store.upsert(in);
        committed.committed();
        return w;
    }

    /** All or nothing: every chunk of the batch and its event commit together. */
    public List<Written> upsertAll(List<ChunkInput> inputs) {
        List<Written> out = store.upsertAll(inputs);
        committed.committed();
        return out;
    }

    public Written delete(String chunkId, Long expectedVersion) {
        Written w = store.delete(chunkId, expectedVersion);
        committed.committed();
        return w;
    }

    /**
     * The chunk and its sync status per backend (PENDING, SYNCED, FAILED), or the store's own status of it
     * (a device), or empty.
     */
    public Optional<Read> read(String chunkId) {
        return store.read(chunkId).map(c -> c.syncStatus() != null ? new Read(c, null, c.syncStatus())
                : new Read(c, delivery.of(c.chunkId(), c.version())));
    }
}
