package io.vectorsync.relay;

import io.vectorsync.capture.CommitListener;
import io.vectorsync.config.ServerOnly;
import org.springframework.stereotype.Component;

/** Wakes every relay of this JVM when the API's writes commit ({@link RelayWakeup}). */
@Component
@ServerOnly
public class CaptureWakeup implements CommitListener {

    private final RelayWakeup wakeup;

    public CaptureWakeup(RelayWakeup wakeup) {
        this.wakeup = wakeup;
    }

    @Override
    public void committed() {
        wakeup.wakeAll();
    }
}
