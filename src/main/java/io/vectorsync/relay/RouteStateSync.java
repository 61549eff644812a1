package io.vectorsync.relay;

import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.routes.RouteNudge;
import java.util.Map;
import java.util.Optional;
import org.apache.camel.CamelContext;
import org.apache.camel.NamedNode;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.apache.camel.spi.RoutePolicy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.RoutePolicySupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * Keeps the pause state in one place, {@code relay_cursor.paused}, and the Camel relay routes in
 * agreement with it, so that what JMX and Hawtio show and do is what the admin API and the CLI show and do:
 * <ul>
 *   <li>a relay route suspended or resumed through JMX (Hawtio's route view, {@code suspendRoute} over
 *       Jolokia) writes the pause to the database, so every instance and the admin status see it;</li>
 *   <li>a pause or resume made through this instance ({@link PauseControl}: the admin API, the CLI) moves
 *       its route at once; a resumed backend would otherwise sit behind a suspended route until the next
 *       reconciliation;</li>
 *   <li>every {@code pause-sync-interval} (the route {@code housekeeping-route-state} of
 *       {@code routes/housekeeping.camel.yaml}) each started or suspended relay route of this instance is
 *       suspended or resumed to match the database (a pause made by another instance, or written to the
 *       table directly, shows as a suspended route here).</li>
 * </ul>
 * A reconciliation asked for now by a pause through this instance runs on the route
 * {@code housekeeping-route-state-now} (a {@link RouteNudge}); the first one runs when the application is
 * ready. One reconciliation runs at a time.
 * The poller reads the column at every poll as well, so a route that is not yet suspended never delivers
 * for a paused backend. Routes stopped (not suspended) are left alone: stopping is start-up and shutdown's.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE)
@ServerOnly
public class RouteStateSync implements RoutePolicyFactory, ApplicationListener<ApplicationReadyEvent> {

    private static final Logger log = LoggerFactory.getLogger(RouteStateSync.class);

    private final CamelContext camel;
    private final PauseControl pauses;
    private final BackendRegistry backends;
    private final RouteNudge nudge;
    /** Routes this class is moving right now: their policy callbacks must not write the state back. */
    private final java.util.Set<String> moving = java.util.concurrent.ConcurrentHashMap.newKeySet();
    static final String NUDGE = "route-state-now";

    /** The interval, {@code vectorsync.relay.pause-sync-interval} (validated by its record), is the route's. */
    public RouteStateSync(CamelContext camel, PauseControl pauses, BackendRegistry backends, RouteNudge nudge) {
        this.camel = camel;
        this.pauses = pauses;
        this.backends = backends;
        this.nudge = nudge;
        if (!camel.getRoutePolicyFactories().contains(this)) {
            camel.addRoutePolicyFactory(this);
        }
    }

    /** Relay routes get a policy that records their suspension and resumption; other routes none. */
    @Override
    public RoutePolicy createRoutePolicy(CamelContext context, String routeId, NamedNode route) {
        if (routeId == null || !routeId.startsWith(RelayRouteValidator.ROUTE_PREFIX)) {
            return null;
        }
        return new RoutePolicySupport() {
            @Override
            public void onSuspend(Route r) {
                routeMoved(r.getRouteId(), true);
            }

            @Override
            public void onResume(Route r) {
                routeMoved(r.getRouteId(), false);
            }
        };
    }

    /**
     * Runs after the route validator (also an ApplicationReadyEvent listener) has started the relay routes:
     * the first reconciliation, at once and before the application is reported ready (a nudge would wait
     * for the seda consumer, which does not poll while Camel is still finishing its start).
     */
    @Override
    public void onApplicationEvent(ApplicationReadyEvent event) {
        reconcileQuietly();
    }

    /**
     * A pause or resume through this instance: reconcile now, on the nudge route's thread (suspending a
     * route waits for its exchange in flight, which the caller, an HTTP request, should not).
     */
    @EventListener
    public void onPauseChanged(PauseControl.Changed changed) {
        nudge.nudge(NUDGE);
    }

    /** A route suspended or resumed by anyone (JMX, Hawtio, this class) records the state in the database. */
    private void routeMoved(String routeId, boolean paused) {
        if (!camel.isStarted() || camel.isStopping()) {
            return; // start-up and shutdown move routes; they are not an operator's pause
        }
        String backend = backendOf(routeId);
        if (backend == null || moving.contains(routeId)) {
            return; // the reconciler following the database: writing it back could undo a newer change
        }
        Optional<Boolean> now = pauses.pauseState(backend);
        if (now.isPresent() && now.get() != paused) {
            if (paused) {
                pauses.pause(backend);
            } else {
                pauses.resume(backend); // also wakes the relays
            }
            log.info("Backend {} {} through its route (JMX); recorded in relay_cursor", backend,
                    paused ? "paused" : "resumed");
        }
    }

    /**
     * Suspends or resumes this instance's relay routes to match {@code relay_cursor.paused}. Synchronized:
     * the periodic route and the nudge route call it, and one reconciliation at a time keeps their moves
     * from crossing.
     */
    public synchronized void reconcile() {
        if (!camel.isStarted() || camel.isStopping()) {
            return;
        }
        Map<String, Boolean> paused = pauses.states();
        for (String backend : backends.all().keySet()) {
            Boolean want = paused.get(backend);
            if (want == null) {
                continue;
            }
            String routeId = RelayRouteValidator.ROUTE_PREFIX + backend;
            ServiceStatus status = camel.getRouteController().getRouteStatus(routeId);
            boolean mismatch = (want && status == ServiceStatus.Started) || (!want && status == ServiceStatus.Suspended);
            if (!mismatch) {
                continue;
            }
            want = pauses.pauseState(backend).orElse(want); // read again: an API call may have just changed it
            moving.add(routeId);
            try {
                if (want && status == ServiceStatus.Started) {
                    camel.getRouteController().suspendRoute(routeId);
                } else if (!want && status == ServiceStatus.Suspended) {
                    camel.getRouteController().resumeRoute(routeId);
                }
            } catch (Exception e) {
                log.warn("Could not bring route {} in line with the pause state (paused={}): {}", routeId, want,
                        e.toString());
            } finally {
                moving.remove(routeId);
            }
        }
    }

    /** The routes' entry point: a failure is logged and the next run tries again. */
    public void reconcileQuietly() {
        try {
            reconcile();
        } catch (RuntimeException e) {
            log.warn("Route pause reconciliation failed: {}", e.toString());
        }
    }

    private String backendOf(String routeId) {
        if (routeId == null || !routeId.startsWith(RelayRouteValidator.ROUTE_PREFIX)) {
            return null;
        }
        String backend = routeId.substring(RelayRouteValidator.ROUTE_PREFIX.length());
        return backends.contains(backend) ? backend : null;
    }
}
