package io.vectorsync.sync;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vectorsync.config.DeviceOnly;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/**
 * The sync engine's counters: {@code vectorsync.sync.changes} (tags {@code direction} = upload | download,
 * {@code outcome} = applied | conflict | failed | skipped | invalid) and {@code vectorsync.sync.calls}
 * (tags {@code function} = one of the remote's sync functions, {@code outcome} = ok | error). Tags are
 * bounded: the engine passes only those words.
 */
@Component
@DeviceOnly
public class SyncCounters {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    public SyncCounters(MeterRegistry registry) {
        this.registry = registry;
    }

    public void changes(String direction, String outcome, int n) {
        if (n > 0) {
            counter("vectorsync.sync.changes", "direction", direction, outcome,
                    "Changes the device uploaded or downloaded, by outcome").increment(n);
        }
    }

    public void call(String function, boolean ok) {
        counter("vectorsync.sync.calls", "function", function, ok ? "ok" : "error",
                "Calls of the remote's sync functions, by outcome").increment();
    }

    /** Calls of {@code function} with {@code outcome} so far (tests and {@code sync now} read it). */
    public double count(String function, String outcome) {
        Counter c = counters.get("vectorsync.sync.calls|" + function + '|' + outcome);
        return c == null ? 0 : c.count();
    }

    private Counter counter(String name, String tag, String value, String outcome, String help) {
        return counters.computeIfAbsent(name + '|' + value + '|' + outcome, k -> Counter.builder(name)
                .description(help).tag(tag, value).tag("outcome", outcome).register(registry));
    }
}
