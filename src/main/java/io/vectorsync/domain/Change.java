package io.vectorsync.domain;

import java.util.List;
import java.util.Objects;

/**
 * One version-guarded change a backend applies: the newest version of one chunk (or one edge) in a batch.
 *
 * @param key the idempotency key's aggregate part: the chunk id, or the edge key of a link
 *     ({@link Link#key()})
 * @param op UPSERT or DELETE of a chunk; LINK or UNLINK of a relationship (only for backends that
 *     {@linkplain LinkStore accept links})
 * @param version the version being applied; the backend keeps it and refuses older ones
 * @param data the fields to write for an UPSERT (privacy already applied), {@code null} for a DELETE;
 *     {@code null} for an UPSERT too when the backend copies the chunk's current row from the primary
 *     itself ({@link InPrimaryDatabase}), applying the same privacy rules; {@code null} for a
 *     LINK or UNLINK
 * @param link the relationship of a LINK or UNLINK, {@code null} otherwise
 * @param seq for a backend that {@linkplain LinkStore accepts links}: the position in the
 *     batch of the event this change comes from (the newest of its key), so that the changes of several
 *     keys can be replayed in the order their events had; -1 when unknown (then the list's order counts)
 * @param earlier for such a backend: the older changes of the same key in the batch, each with its own
 *     {@code seq} (a delete between two upserts removes the chunk's relationships, ADR-018); empty otherwise.
 *     Neither is part of the change's identity ({@link #equals})
 * @param overwriteEqual a repair's forced write (ADR 019): the backend also replaces what it holds at this
 *     same version (a corrupt copy), never a newer one; not part of the change's identity either
 */
public record Change(String key, Op op, long version, ChunkData data, Link link, long seq, List<Change> earlier,
        boolean overwriteEqual) {

    public enum Op { UPSERT, DELETE, LINK, UNLINK }

    public Change {
        earlier = earlier == null ? List.of() : List.copyOf(earlier);
    }

    /** A change at batch position {@code seq} after the {@code earlier} changes of its key, not forced. */
    public Change(String key, Op op, long version, ChunkData data, Link link, long seq, List<Change> earlier) {
        this(key, op, version, data, link, seq, earlier, false);
    }

    /** A change without batch history. */
    public Change(String key, Op op, long version, ChunkData data, Link link) {
        this(key, op, version, data, link, -1, List.of());
    }

    /** A chunk change (UPSERT or DELETE). */
    public Change(String key, Op op, long version, ChunkData data) {
        this(key, op, version, data, null);
    }

    /** This change at batch position {@code seq}, after the {@code earlier} changes of its key. */
    public Change withHistory(long seq, List<Change> earlier) {
        return new Change(key, op, version, data, link, seq, earlier, overwriteEqual);
    }

    /** The same change, forced: the backend replaces what it holds at an equal version too. */
    public Change forced() {
        return new Change(key, op, version, data, link, seq, earlier, true);
    }

    /** The same change with other data (the batch history kept). */
    public Change withData(ChunkData data) {
        return new Change(key, op, version, data, link, seq, earlier, overwriteEqual);
    }

    /** Key, op, version, data and link: the batch history is delivery order, not what the change is. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Change c && version == c.version && key.equals(c.key) && op == c.op
                && Objects.equals(data, c.data) && Objects.equals(link, c.link);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, op, version, data, link);
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
