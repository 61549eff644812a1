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

    /**
     * What a job is about when a newer request about the same thing makes the older ones stale (INGEST: the
     * document id), or null. A new job with a subject releases the correlation of the older jobs of its type
     * about that subject, so repeating an older request (a document edited, then reverted) is a new job that
     * comes after the newer one rather than the older job returned.
     */
    default String subject(JsonNode payload) {
        return null;
    }

    /**
     * True for operator work (it changes backends, not the application's data: VERIFY, which may repair, and
     * BACKFILL): through the open API ({@code /api/v1/jobs}) submitting, cancelling or retrying such a job
     * needs the admin credential, as the admin endpoints that start it do; so does reading it (its result
     * names chunk ids and backends' state), and a list read without it leaves out such jobs' result and error.
     */
    default boolean operatorOnly() {
        return false;
    }

    /** Runs the job; the returned map (JSON-serialisable) is its result. See {@link PermanentJobException}. */
    Map<String, Object> run(JobContext context) throws Exception;
}
