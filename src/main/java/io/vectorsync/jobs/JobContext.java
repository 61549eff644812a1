package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** What a running job sees of itself. */
public interface JobContext {

    String id();

    JsonNode payload();

    Map<String, String> correlation();

    /** 1 for the first attempt. */
    int attempt();

    /**
     * Records progress (throttled) and renews the job's lease. Throws {@link JobCancelledException} when the
     * job was cancelled or its lease was lost, so a handler that reports progress stops by itself. Not to be
     * called once the job's effect has committed (INGEST after its write): a cancel must not turn finished
     * work into CANCELLED; completing the job records the progress at its total.
     */
    void progress(long done, Long total);
}
