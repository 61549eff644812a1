package io.vectorsync.sync;

import io.vectorsync.config.DeviceOnly;
import io.vectorsync.device.LocalWriteCommitted;
import io.vectorsync.routes.RouteNudge;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
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

    private final CamelContext camel;
    private final ProducerTemplate producer;

    public UploadNudge(CamelContext camel, ProducerTemplate producer) {
        this.camel = camel;
        this.producer = producer;
    }

    @EventListener
    public void onLocalWrite(LocalWriteCommitted event) {
        if (camel.isStarted() && !camel.isStopping()) {
            try {
                producer.sendBody(RouteNudge.uri(QUEUE), "");
            } catch (RuntimeException e) {
                // Camel is stopping: the periodic upload catches up
            }
        }
    }
}
