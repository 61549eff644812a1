package io.vectorsync.device;

import org.springframework.context.ApplicationEvent;

/**
 * Published (synchronously, on the writer's thread) after a local write through the capture API has
 * committed its chunk and outbox entry, so the upload wakes at once instead of at its next poll. A listener
 * must only signal and return.
 */
public final class LocalWriteCommitted extends ApplicationEvent {

    private static final long serialVersionUID = 1L;

    public LocalWriteCommitted(Object source) {
        super(source);
    }
}
