package io.vectorsync.backend;

import java.util.ArrayList;
import java.util.List;

/** A list cut into consecutive slices, for stores that cap how many items one request may carry. */
public final class Slices {

    private Slices() {}

    /** {@code all} in order, in views of at most {@code size} elements (none for an empty list). */
    public static <T> List<List<T>> of(List<T> all, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int from = 0; from < all.size(); from += size) {
            out.add(all.subList(from, Math.min(all.size(), from + size)));
        }
        return out;
    }
}
