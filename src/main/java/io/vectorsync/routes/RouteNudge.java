package io.vectorsync.routes;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Asks a flow of {@code routes/} to run now rather than at its next tick (ADR 021): sends an empty
 * message to {@code seda:<queue>}, whose route calls the same bean method as the periodic route, on
 * that route's own thread. The queue holds one message: a nudge while one is waiting is dropped (the
 * waiting one will do the work), so the caller never blocks and nudges do not pile up. Nothing is sent
 * while Camel is not running (start-up, shutdown): the periodic route catches up. Server and device both
 * use it (the relay's and jobs' flows; a device's upload after a local write).
 */
@Component
public class RouteNudge {

    private static final Logger log = LoggerFactory.getLogger(RouteNudge.class);

    private final CamelContext camel;
    private final ProducerTemplate producer;

    public RouteNudge(CamelContext camel, ProducerTemplate producer) {
        this.camel = camel;
        this.producer = producer;
    }

    /** The endpoint of a nudge queue: its route in {@code routes/} must consume the same URI. */
    public static String uri(String queue) {
        return "seda:" + queue + "?size=1&discardWhenFull=true";
    }

    public void nudge(String queue) {
        if (!camel.isStarted() || camel.isStopping()) {
            return;
        }
        try {
            producer.sendBody(uri(queue), "");
        } catch (RuntimeException e) {
            log.debug("Nudge of {} not sent: {}", queue, e.toString());
        }
    }
}
