package io.vectorsync.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.jobs.JobContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A handler run outside the queue (a test drives it): records the progress it reports. */
record TestJobContext(String id, JsonNode payload, List<long[]> reported) implements JobContext {

    TestJobContext(String id, JsonNode payload) {
        this(id, payload, new ArrayList<>());
    }

    @Override
    public Map<String, String> correlation() {
        return Map.of();
    }

    @Override
    public int attempt() {
        return 1;
    }

    @Override
    public void progress(long done, Long total) {
        reported.add(new long[] {done, total == null ? -1 : total});
    }
}
