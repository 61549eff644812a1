package io.vectorsync.domain;

/** Privacy level of a chunk: what may leave the primary. */
public enum Privacy {
    /** Everything may be synced. */
    FULL,
    /** Synced without its content. */
    REDACTED,
    /** Never leaves the primary: secondaries receive a delete. */
    LOCAL_ONLY;

    public static Privacy parse(String value) {
        if (value == null) {
            return FULL;
        }
        return Privacy.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
    }
}
