package io.vectorsync.relay;

import io.vectorsync.config.VectorsyncProperties;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Named crash points for tests of durability: {@code vectorsync.failpoints=after-backend-write:3} halts
 * the JVM (as {@code kill -9} would) the third time the relay passes that point, and
 * {@code after-poll~20000} stalls the relay there for 20 s the first time (a GC pause or a stopped VM
 * between reading a batch and writing it), {@code ingest-embedded:4~60000} the fourth time. Empty in
 * production: then {@link #hit} is two reads of empty maps.
 * Points of a server: {@code after-poll}, {@code before-backend-write}, {@code after-backend-write},
 * {@code after-commit}, {@code lease-renewal} (in the lease heartbeat during a delivery); in the INGEST job
 * ({@code IngestHandler}) {@code ingest-embedded} (after each batch embedded and its progress reported),
 * {@code ingest-written} (in the write transaction, every chunk written, before the commit) and
 * {@code ingest-committed} (after the commit, before the job is marked completed). Of a device (the
 * {@code local} profile, so this bean is in both): {@code sync-after-remote-commit} (the remote committed a
 * batch, the device has not recorded its outcomes yet).
 */
@Component
public class Failpoints {

    private static final Logger log = LoggerFactory.getLogger(Failpoints.class);

    private final Map<String, Integer> armed = new HashMap<>();
    private final Map<String, Long> stalls = new ConcurrentHashMap<>();
    /** The pass at which each stall happens (1: the first). */
    private final Map<String, Integer> stallAt = new HashMap<>();
    private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();

    public Failpoints(VectorsyncProperties properties) {
        for (String spec : properties.failpoints().split(",")) {
            String s = spec.trim();
            if (s.isEmpty()) {
                continue;
            }
            int tilde = s.indexOf('~');
            if (tilde > 0) {
                String point = s.substring(0, tilde);
                int colon = point.indexOf(':');
                String name = colon < 0 ? point : point.substring(0, colon);
                stalls.put(name, Long.parseLong(s.substring(tilde + 1)));
                stallAt.put(name, colon < 0 ? 1 : Integer.parseInt(point.substring(colon + 1)));
                continue;
            }
            int colon = s.indexOf(':');
            armed.put(colon < 0 ? s : s.substring(0, colon), colon < 0 ? 1 : Integer.parseInt(s.substring(colon + 1)));
        }
        if (!armed.isEmpty() || !stalls.isEmpty()) {
            log.warn("Failpoints armed: halt {}, stall {} (never set this in production)", armed, stalls);
        }
    }

    public void hit(String name) {
        if (!stalls.isEmpty() && stalls.containsKey(name)) {
            int pass = hits.computeIfAbsent(name + "~", n -> new AtomicInteger()).incrementAndGet();
            Long ms = pass == stallAt.get(name) ? stalls.remove(name) : null;
            if (ms != null) {
                log.warn("Failpoint {} reached: stalling {} ms", name, ms);
                try {
                    Thread.sleep(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                log.warn("Failpoint {}: stall over", name);
            }
        }
        if (armed.isEmpty()) {
            return;
        }
        Integer at = armed.get(name);
        if (at != null && hits.computeIfAbsent(name, n -> new AtomicInteger()).incrementAndGet() == at) {
            log.warn("Failpoint {} reached: halting", name);
            Runtime.getRuntime().halt(137);
        }
    }
}
