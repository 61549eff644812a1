package io.vectorsync.relay;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.backend.postgres.SqlErrors;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VectorsyncProperties;
import java.time.Duration;
import java.util.List;
import org.apache.camel.Exchange;
import org.neo4j.driver.exceptions.ServiceUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The relay routes' error handler: a transient failure (the backend, an open circuit, the primary
 * database) pauses the backend until a time kept in {@code relay_cursor}, with exponential backoff,
 * without spending any event's budget; the cursor stays where it was, so nothing is lost. A batch
 * that lost its lease counts as a failure of its position (ADR 014).
 */
@Component("relayFailures")
@ServerOnly
public class RelayFailures {

    private static final Logger log = LoggerFactory.getLogger(RelayFailures.class);

    private final CursorRepository cursors;
    private final RelayPoller poller;
    private final RelayInstance instance;
    private final VectorsyncProperties properties;
    private final List<RelayListener> listeners;

    public RelayFailures(CursorRepository cursors, RelayPoller poller, RelayInstance instance,
            VectorsyncProperties properties, List<RelayListener> listeners) {
        this.cursors = cursors;
        this.poller = poller;
        this.instance = instance;
        this.properties = properties;
        this.listeners = listeners;
    }

    public void onFailure(Exchange exchange) {
        Throwable e = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String backend = exchange.getIn().getHeader(RelayPoller.BACKEND_HEADER, String.class);
        if (e instanceof LeaseLostException) {
            log.info("{}", e.getMessage());
            poller.forgetLease(backend);
            listeners.forEach(l -> l.leaseLost(backend));
            // Counted against the position the batch was read at, so the next attempt (here or by the new
            // holder) isolates instead of repeating the same too-long delivery (ADR 014).
            if (exchange.getIn().getBody() instanceof Batch batch) {
                try {
                    int n = cursors.countLostLease(backend, batch.cursor().cursorVersion(), e.getMessage());
                    if (n > 0) {
                        log.warn("VSYNC-RELAY-LEASE backend={} consecutive failures={}: the batch lost its lease"
                                + " before it committed", backend, n);
                    }
                } catch (RuntimeException dbDown) {
                    log.warn("Cannot count the lost lease of backend '{}': {}", backend, SqlErrors.describe(dbDown));
                }
            }
            return;
        }
        if (e instanceof CursorIdentityException || e instanceof SystemIdentifierUnreadableException) {
            log.error("{}", e.getMessage()); // the poller halts the backend in relay_cursor (ADR 015)
            return;
        }
        String reason = describe(e);
        Duration retryAfter = null;
        Boolean unreachable = null;
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof TransientBackendException t) {
                if (t.retryAfter() != null) {
                    retryAfter = t.retryAfter();
                }
                unreachable = (t.unreachable() || connectionLost(t)) && t.retryAfter() == null;
            }
        }
        // Only a backend that could not be reached at all is probed during its backoff: one that answered
        // (a 503, a Retry-After) keeps its backoff whole. An open breaker says nothing new: keep the last.
        if (unreachable != null) {
            poller.probeDuringBackoff(backend, unreachable);
        }
        var relay = properties.retryOf(backend);
        try {
            // An open circuit keeps the error that opened it visible (a refused key, say), not "circuit breaker open".
            int n = cursors.recordFailure(backend, instance.id(), relay.backoffBase(), relay.backoffMultiplier(),
                    relay.backoffMax(), retryAfter == null ? Duration.ZERO : retryAfter,
                    breakerOpen(e) ? null : reason);
            log.warn("VSYNC-RELAY-TRANSIENT backend={} consecutive failures={}: {}; paused with backoff (base {}, x{},"
                    + " max {})", backend, n, reason, relay.backoffBase(), relay.backoffMultiplier(), relay.backoffMax());
            listeners.forEach(l -> l.backendFailed(backend, n, e));
        } catch (RuntimeException dbDown) {
            // The primary itself is unreachable: pause in memory; the cursor has not moved.
            poller.pauseInMemory(backend, relay.backoffBase());
            log.warn("VSYNC-RELAY-PRIMARY backend={}: {}; the primary database is unreachable too ({}), retrying in {}",
                    backend, reason, SqlErrors.describe(dbDown), relay.backoffBase());
        }
    }

    /**
     * The connection itself failed (refused, reset, cut, SQLSTATE class 08, the Neo4j driver finding no
     * server): the backend did not answer.
     */
    static boolean connectionLost(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.net.SocketException || c instanceof java.nio.channels.ClosedChannelException
                    || c instanceof java.net.http.HttpConnectTimeoutException
                    || (c instanceof java.sql.SQLException sql && sql.getSQLState() != null
                            && sql.getSQLState().startsWith("08"))
                    || c instanceof ServiceUnavailableException) {
                return true;
            }
        }
        return false;
    }

    /** Resilience4j's breaker refused the call without trying the backend (Camel's resilience4j EIP). */
    private static boolean breakerOpen(Throwable e) {
        return e instanceof CallNotPermittedException;
    }

    private static String describe(Throwable e) {
        if (e == null) {
            return "unknown failure";
        }
        if (e instanceof io.vectorsync.backend.BackendException) {
            return e.getMessage();
        }
        if (breakerOpen(e)) {
            return "circuit breaker open";
        }
        return e.getClass().getSimpleName() + " (" + SqlErrors.describe(e) + ")";
    }
}
