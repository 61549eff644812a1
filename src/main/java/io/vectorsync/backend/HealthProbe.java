package io.vectorsync.backend;

import java.util.Optional;

/**
 * A backend that answers a cheap health probe ({@code SELECT 1}, a heartbeat). While a backend is backing
 * off after failures, the relay probes it this way every {@code vectorsync.relay.health-probe-interval}
 * and resumes as soon as it answers, instead of sitting out a backoff that may have grown to minutes
 * during a long outage. A backend without one (a webhook receiver has no agreed probe) sits out its
 * backoff.
 */
public interface HealthProbe extends Backend {

    /** Asks the backend: empty when it answers, otherwise a short reason (never a body that may quote payload). */
    Optional<String> healthProblem();
}
