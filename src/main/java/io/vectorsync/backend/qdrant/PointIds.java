package io.vectorsync.backend.qdrant;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * Qdrant point ids: a name-based UUID, version 5 (SHA-1, RFC 9562 section 5.5), of the chunk id in the
 * namespace {@link #NAMESPACE}. The same chunk id always maps to the same point, in every collection and
 * every vectorsync instance, so an upsert replaces and a delete finds the point without a lookup.
 */
final class PointIds {

    /**
     * {@code 3659225f-3bbf-5d49-8d25-4592fd239265}, itself the version 5 UUID of the name
     * {@code urn:vectorsync:qdrant:chunk-id} in the RFC's URL namespace
     * ({@code uuid.uuid5(uuid.NAMESPACE_URL, "urn:vectorsync:qdrant:chunk-id")} in Python). Never change
     * it: every point id stored in Qdrant depends on it.
     */
    static final UUID NAMESPACE = UUID.fromString("3659225f-3bbf-5d49-8d25-4592fd239265");

    private PointIds() {}

    /** The point id of a chunk: {@code uuid5(NAMESPACE, chunkId as UTF-8)}. */
    static UUID of(String chunkId) {
        return uuid5(NAMESPACE, chunkId);
    }

    static UUID uuid5(UUID namespace, String name) {
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha1.update(ByteBuffer.allocate(16)
                .putLong(namespace.getMostSignificantBits())
                .putLong(namespace.getLeastSignificantBits())
                .array());
        byte[] h = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
        h[6] = (byte) ((h[6] & 0x0f) | 0x50); // version 5
        h[8] = (byte) ((h[8] & 0x3f) | 0x80); // IETF variant
        ByteBuffer b = ByteBuffer.wrap(h, 0, 16);
        return new UUID(b.getLong(), b.getLong());
    }
}
