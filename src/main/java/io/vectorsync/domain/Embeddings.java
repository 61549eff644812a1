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

    /**
     * The floats of PostgreSQL's array literal text {@code {a,b,...}} (how the sync functions send an
     * embedding: a JSON string costs neither side numeric parsing); {@code null} for null.
     *
     * @throws NumberFormatException when the text is no one-dimensional array of numbers
     */
    public static float[] fromLiteral(String text) {
        if (text == null) {
            return null;
        }
        String t = text.strip();
        if (t.length() < 2 || t.charAt(0) != '{' || t.charAt(t.length() - 1) != '}') {
            throw new NumberFormatException("not an array literal");
        }
        String body = t.substring(1, t.length() - 1).strip();
        if (body.isEmpty()) {
            return new float[0];
        }
        String[] parts = body.split(",", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i].strip());
        }
        return out;
    }
}
