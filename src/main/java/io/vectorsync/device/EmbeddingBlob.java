package io.vectorsync.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** An embedding as the device's {@code chunks.embedding} keeps it: float32, little-endian, 4 bytes each. */
public final class EmbeddingBlob {

    private EmbeddingBlob() {}

    public static byte[] of(float[] v) {
        if (v == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    public static float[] read(byte[] blob) {
        if (blob == null) {
            return null;
        }
        float[] v = new float[blob.length / Float.BYTES];
        ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
