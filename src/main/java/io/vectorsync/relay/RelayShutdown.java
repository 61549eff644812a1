package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * On a graceful shutdown, after the relay routes have stopped (this bean stops in a later phase than
 * Camel's), releases this instance's leases so a standby takes the backends over at once instead of
 * after the lease TTL. A kill -9 skips this; the lease then simply expires.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
@ServerOnly
public class RelayShutdown implements SmartLifecycle, ApplicationListener<ContextClosedEvent> {

    private static final Logger log = LoggerFactory.getLogger(RelayShutdown.class);

    private final RelayPoller poller;
    private final CursorRepository cursors;
    private final RelayInstance instance;
    private final RelayWakeup wakeup;
    private volatile boolean running;

    public RelayShutdown(RelayPoller poller, CursorRepository cursors, RelayInstance instance, RelayWakeup wakeup) {
        this.poller = poller;
        this.cursors = cursors;
        this.instance = instance;
        this.wakeup = wakeup;
    }

    /**
     * First thing at close (ordered before Camel's own listener, which stops the routes and waits for
     * exchanges in flight): take no new lease and wake relays waiting for
     * work, so Camel's graceful stop doesn't wait out a poll interval. Batches in flight still commit.
     */
    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        poller.stopLeasing();
        wakeup.wakeAll();
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        poller.stopLeasing();
        try {
            int n = cursors.releaseAll(instance.id());
            if (n > 0) {
                log.info("Released {} relay lease(s) held by {}", n, instance.id());
            }
        } catch (RuntimeException e) {
            log.warn("Could not release relay leases at shutdown ({}); they expire by themselves",
                    e.getClass().getSimpleName());
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stopped before the datasource goes away, after Camel (whose lifecycle phase is higher). */
    @Override
    public int getPhase() {
        return Integer.MIN_VALUE + 1000;
    }
}
