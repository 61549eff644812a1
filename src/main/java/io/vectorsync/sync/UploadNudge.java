package io.vectorsync.sync;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.LocalWriteCommitted;
import io.vectorsync.routes.RouteNudge;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Starts an upload at once after a local write has committed ({@link LocalWriteCommitted}): an empty
 * message to {@code seda:sync-upload-now}, a queue of one whose route ({@code sync-upload-now}) calls the
 * same method as the periodic upload. A nudge while one waits is dropped, so a writer never blocks and
 * quick writes go out together in batches.
 */
@Component
@DeviceOnly
public class UploadNudge {

    static final String QUEUE = "sync-upload-now";

    private final RouteNudge nudge;

    public UploadNudge(RouteNudge nudge) {
        this.nudge = nudge;
    }

    @EventListener
    public void onLocalWrite(LocalWriteCommitted event) {
        nudge.nudge(QUEUE);
    }
}
