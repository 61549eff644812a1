package io.vectorsync.api;

import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * The {@code title} of each error code: RFC 9457's short summary that is the same for every occurrence of
 * a problem type (the {@code detail} says what happened this time). One table, so the docs page that
 * describes each code (docs/api.md, one anchor per {@code type} URI) has one list to follow. A code not in
 * the table takes its HTTP status's reason phrase.
 */
final class ProblemTitles {

    static final Map<String, String> TITLES = Map.ofEntries(
            // The request itself, before any field is read (Tomcat, the firewall, Spring MVC).
            Map.entry("VSYNC-BAD-REQUEST", "Bad request"),
            Map.entry("VSYNC-NOT-FOUND", "No such path"),
            Map.entry("VSYNC-METHOD-NOT-ALLOWED", "Method not allowed"),
            Map.entry("VSYNC-NOT-ACCEPTABLE", "Only JSON is answered"),
            Map.entry("VSYNC-UNSUPPORTED-MEDIA-TYPE", "Body must be JSON"),
            Map.entry("VSYNC-PAYLOAD-TOO-LARGE", "Request too large"),
            Map.entry("VSYNC-URI-TOO-LONG", "URI too long"),
            Map.entry("VSYNC-HEADERS-TOO-LARGE", "Headers too large"),
            Map.entry("VSYNC-INTERNAL", "Internal error"),
            // Credentials.
            Map.entry("VSYNC-AUTH-REQUIRED", "Credentials required"),
            Map.entry("VSYNC-AUTH-INVALID", "Credentials refused"),
            Map.entry("VSYNC-AUTH-NOT-CONFIGURED", "Admin API not configured"),
            Map.entry("VSYNC-AUTH-CSRF", "CSRF token missing or wrong"),
            // A chunk's fields.
            Map.entry("VSYNC-MALFORMED-JSON", "Malformed JSON"),
            Map.entry("VSYNC-UNKNOWN-FIELD", "Unknown field"),
            Map.entry("VSYNC-FIELD-TYPE", "Field has the wrong type"),
            Map.entry("VSYNC-CHUNK-ID-INVALID", "Invalid chunk id"),
            Map.entry("VSYNC-CHUNK-ID-MISMATCH", "Chunk id differs from the URL"),
            Map.entry("VSYNC-EMBEDDING-MISSING", "Embedding missing"),
            Map.entry("VSYNC-EMBEDDING-DIMENSION", "Wrong embedding dimension"),
            Map.entry("VSYNC-EMBEDDING-NOT-FINITE", "Embedding value not finite"),
            Map.entry("VSYNC-METADATA-NUMBER", "Metadata number not storable"),
            Map.entry("VSYNC-PRIVACY-INVALID", "Unknown privacy level"),
            Map.entry("VSYNC-VERSION-INVALID", "Invalid version"),
            Map.entry("VSYNC-IF-MATCH-INVALID", "Invalid If-Match"),
            Map.entry("VSYNC-BATCH-TOO-LARGE", "Batch too large"),
            Map.entry("VSYNC-BATCH-DUPLICATE-ID", "Duplicate chunk id in batch"),
            // A chunk's state.
            Map.entry("VSYNC-VERSION-CONFLICT", "Version conflict"),
            Map.entry("VSYNC-CHUNK-NOT-FOUND", "Chunk not found"),
            Map.entry("VSYNC-CHUNK-OWNED", "Chunk captured by the application"),
            // The admin API.
            Map.entry("VSYNC-LIMIT-INVALID", "Limit out of range"),
            Map.entry("VSYNC-STATUS-INVALID", "Unknown status"),
            Map.entry("VSYNC-REASON-INVALID", "Invalid reason"),
            Map.entry("VSYNC-REPAIR-INVALID", "Invalid repair flag"),
            Map.entry("VSYNC-BACKEND-NOT-FOUND", "Backend not found"),
            Map.entry("VSYNC-BACKEND-NOT-READY", "Backend not ready"),
            Map.entry("VSYNC-DEAD-LETTER-NOT-FOUND", "Dead letter not found"),
            Map.entry("VSYNC-VERIFY-UNSUPPORTED", "Backend cannot be verified"),
            Map.entry("VSYNC-JOB-NOT-FOUND", "Job not found"),
            // The job queue's engine (docs/jobs.md).
            Map.entry("VSYNC-JOB-STATE", "Job status does not allow this"),
            Map.entry("VSYNC-JOB-DUPLICATE", "Another job does the same work"),
            // The job API.
            Map.entry("VSYNC-JOB-INVALID", "Invalid job"),
            Map.entry("VSYNC-JOB-TYPE", "Unknown job type"),
            Map.entry("VSYNC-JOB-DISABLED", "Job type disabled"),
            Map.entry("VSYNC-JOB-RATE", "Job rate limit reached"),
            Map.entry("VSYNC-JOB-IDEMPOTENCY-MISMATCH", "Idempotency-Key used for another request"),
            // Ingest and embeddings (docs/ingest.md).
            Map.entry("VSYNC-EMBED-NONE", "No embedding provider"),
            Map.entry("VSYNC-EMBED-PRIVACY", "LOCAL_ONLY text for a remote embedding provider"),
            Map.entry("VSYNC-EMBED-UNAVAILABLE", "Embedding provider unavailable"),
            Map.entry("VSYNC-EMBED-REFUSED", "Embedding provider refused"),
            // A device's sync.
            Map.entry("VSYNC-SYNC-DISABLED", "Sync not running on this device"));

    private ProblemTitles() {}

    /** The title of {@code code}, or the reason phrase of {@code status} for a code not in the table. */
    static String title(String code, int status) {
        String title = TITLES.get(code);
        if (title != null) {
            return title;
        }
        HttpStatus known = HttpStatus.resolve(status);
        return known == null ? "HTTP " + status : known.getReasonPhrase();
    }
}
