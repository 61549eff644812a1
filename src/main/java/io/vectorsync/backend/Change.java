package io.vectorsync.backend;

/**
 * One version-guarded change a backend applies: the newest version of one chunk in a batch.
 *
 * @param key the idempotency key's aggregate part (the chunk id)
 * @param op UPSERT or DELETE
 * @param version the version being applied; the backend keeps it and refuses older ones
 * @param data the fields to write for an UPSERT (privacy already applied), {@code null} for a DELETE;
 *     {@code null} for an UPSERT too when the backend copies the chunk's current row from the primary
 *     itself ({@link Backend#copiesPrimaryRows()}), applying the same privacy rules
 */
public record Change(String key, Op op, long version, ChunkData data) {

    public enum Op { UPSERT, DELETE }

    public static Change upsert(ChunkData data, long version) {
        return new Change(data.chunkId(), Op.UPSERT, version, data);
    }

    /** An UPSERT the backend performs by copying the chunk's current row inside the primary database. */
    public static Change copyFromPrimary(String chunkId, long version) {
        return new Change(chunkId, Op.UPSERT, version, null);
    }

    /** True for an UPSERT without data: the backend copies the row from the primary. */
    public boolean copiesFromPrimary() {
        return op == Op.UPSERT && data == null;
    }

    public static Change delete(String chunkId, long version) {
        return new Change(chunkId, Op.DELETE, version, null);
    }

    /** The idempotency key {@code chunkId:version}. */
    public String idempotencyKey() {
        return key + ":" + version;
    }
}
