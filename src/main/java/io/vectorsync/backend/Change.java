package io.vectorsync.backend;

/**
 * One version-guarded change a backend applies: the newest version of one chunk (or one edge) in a batch.
 *
 * @param key the idempotency key's aggregate part: the chunk id, or the edge key of a link
 *     ({@link Link#key()})
 * @param op UPSERT or DELETE of a chunk; LINK or UNLINK of a relationship (only for backends that
 *     {@linkplain Backend#acceptsLinks() accept links})
 * @param version the version being applied; the backend keeps it and refuses older ones
 * @param data the fields to write for an UPSERT (privacy already applied), {@code null} for a DELETE;
 *     {@code null} for an UPSERT too when the backend copies the chunk's current row from the primary
 *     itself ({@link Backend#copiesPrimaryRows()}), applying the same privacy rules; {@code null} for a
 *     LINK or UNLINK
 * @param link the relationship of a LINK or UNLINK, {@code null} otherwise
 */
public record Change(String key, Op op, long version, ChunkData data, Link link) {

    public enum Op { UPSERT, DELETE, LINK, UNLINK }

    /** A chunk change (UPSERT or DELETE). */
    public Change(String key, Op op, long version, ChunkData data) {
        this(key, op, version, data, null);
    }

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

    /** Creates or replaces the relationship (its properties in full), keyed by its edge key. */
    public static Change link(Link link, long version) {
        return new Change(link.key(), Op.LINK, version, null, link);
    }

    /** Removes the relationship, keyed by its edge key; its endpoints stay. */
    public static Change unlink(Link link, long version) {
        return new Change(link.key(), Op.UNLINK, version, null, link);
    }

    /** True for a LINK or UNLINK. */
    public boolean isLink() {
        return op == Op.LINK || op == Op.UNLINK;
    }

    /** The idempotency key {@code chunkId:version}. */
    public String idempotencyKey() {
        return key + ":" + version;
    }
}
