package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.springframework.stereotype.Component;

/**
 * Wakes the relays inside the JVM after the API's own commits, so a chunk written through the API is
 * relayed at once; everything else is found by the short poll. No NOTIFY: it serialises commits.
 */
@Component
@ServerOnly
public class RelayWakeup {

    private final ConcurrentHashMap<String, Signal> signals = new ConcurrentHashMap<>();

    /** Wakes every relay. */
    public void wakeAll() {
        signals.values().forEach(Signal::raise);
    }

    /** Waits until woken or the timeout passes; returns at once if woken since the last wait. */
    public void await(String backend, Duration timeout) {
        signals.computeIfAbsent(backend, b -> new Signal()).await(timeout);
    }

    private static final class Signal {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition raised = lock.newCondition();
        private boolean pending;

        void raise() {
            lock.lock();
            try {
                pending = true;
                raised.signalAll();
            } finally {
                lock.unlock();
            }
        }

        void await(Duration timeout) {
            lock.lock();
            try {
                long nanos = timeout.toNanos();
                while (!pending && nanos > 0) {
                    nanos = raised.awaitNanos(nanos);
                }
                pending = false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        }
    }
}
