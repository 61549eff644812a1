package io.vectorsync.domain;

import java.sql.Array;
import java.sql.SQLException;

/**
 * An embedding as PostgreSQL hands it back: the primary's {@code chunks}, a backend table and verify all
 * read {@code embedding::real[]} the same way, so the conversion lives here once.
 */
public final class Embeddings {

    private Embeddings() {}

    /** The {@code real[]} (or {@code float8[]}) as floats; {@code null} for SQL NULL (a tombstone). */
    public static float[] fromSql(Array array) throws SQLException {
        if (array == null) {
            return null;
        }
        Object[] values = (Object[]) array.getArray();
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = ((Number) values[i]).floatValue();
        }
        return out;
    }
}
