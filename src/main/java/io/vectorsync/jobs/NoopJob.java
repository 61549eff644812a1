package io.vectorsync.jobs;

import io.vectorsync.config.ServerOnly;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * NOOP, a job type for tests and the benchmark: payload {@code {"sleepMs": n?, "failTimes": n?}}. It sleeps
 * {@code sleepMs} (in slices, reporting progress, so a cancel stops it) and fails transiently on its first
 * {@code failTimes} attempts; otherwise it does nothing and returns {@code {"attempt": n, "sleptMs": n}}.
 */
@Component
@ServerOnly
public class NoopJob implements JobHandler {

    static final String TYPE = "NOOP";
    private static final long SLICE_MS = 50;

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Map<String, Object> run(JobContext context) throws InterruptedException {
        long sleepMs = Math.max(0, context.payload().path("sleepMs").asLong(0));
        int failTimes = Math.max(0, context.payload().path("failTimes").asInt(0));
        long slept = 0;
        context.progress(0, sleepMs);
        while (slept < sleepMs) {
            long slice = Math.min(SLICE_MS, sleepMs - slept);
            Thread.sleep(slice);
            slept += slice;
            context.progress(slept, sleepMs);
        }
        if (context.attempt() <= failTimes) {
            throw new IllegalStateException("NOOP fails on purpose on attempt " + context.attempt() + " of the first "
                    + failTimes);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("attempt", context.attempt());
        result.put("sleptMs", slept);
        return result;
    }
}
