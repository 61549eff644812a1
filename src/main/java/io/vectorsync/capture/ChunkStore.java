package io.vectorsync.capture;

import java.util.List;
import java.util.Optional;

/**
 * Where captured chunks live: each write stores the chunk and its outbox event in one transaction, so the
 * event exists if and only if the write committed. PostgreSQL ({@link PostgresChunkStore}) is today's one
 * implementation; the offline mode's SQLite store is meant to be a second one behind the same API path
 * ({@link ChunkService}). Conflicts and a missing chunk are {@link CaptureException}s with their
 * {@code VSYNC-} code (nothing written); the version increments on every write, a delete keeps a tombstone
 * so a re-created chunk continues its sequence.
 */
public interface ChunkStore {

    /** Creates or replaces one chunk with its event (a compare-and-set when it carries an expected version). */
    Written upsert(ChunkInput chunk);

    /** All or nothing: every chunk of the batch and its event commit together, in the given order. */
    List<Written> upsertAll(List<ChunkInput> chunks);

    /**
     * Deletes a chunk (content, embedding and metadata cleared, the tombstone kept) with its event;
     * {@code expectedVersion} null for any version, -1 for "any, but it must exist".
     */
    Written delete(String chunkId, Long expectedVersion);

    /** The live chunk, or empty when it does not exist or was deleted. */
    Optional<StoredChunk> read(String chunkId);
}
