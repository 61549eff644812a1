package io.vectorsync.capture;

/**
 * Told after the API's own writes have committed, so the relays inside this JVM deliver at once instead
 * of at their next poll. Implemented on the relay's side; capture depends on no relay class.
 */
@FunctionalInterface
public interface CommitListener {

    /** One or more chunks and their events have committed. */
    void committed();
}
