package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * What a job of one type does; every Spring bean implementing it is a registered type. Handlers must be
 * idempotent: running a job twice changes nothing the first run did not.
 */
public interface JobHandler {

    /** Upper case: INGEST, REEMBED, VERIFY, BACKFILL, NOOP. */
    String type();

    /**
     * Correlation keys derived from the payload (for INGEST: the document id and a digest of its text and
     * options), merged over the client's; empty by default.
     */
    default Map<String, String> correlation(JsonNode payload) {
        return Map.of();
    }

    /** Runs the job; the returned map (JSON-serialisable) is its result. See {@link PermanentJobException}. */
    Map<String, Object> run(JobContext context) throws Exception;
}
