package io.vectorsync.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Map;

/**
 * A job to enqueue: the envelope of {@code POST /api/v1/jobs} ({@code {type, correlation, payload, runAt?,
 * priority?}}) plus the {@code Idempotency-Key} header.
 *
 * @param type the job type, one of the registered {@link JobHandler#type()}s (INGEST, REEMBED, VERIFY,
 *     BACKFILL, NOOP)
 * @param correlation the client's correlation keys (may be empty); merged with the handler's own
 *     {@link JobHandler#correlation}, whose keys win
 * @param payload the type's payload, valid against its JSON Schema
 * @param runAt not before this time (null: at once)
 * @param priority higher runs first among claimable jobs (null: the type's configured priority)
 * @param idempotencyKey the {@code Idempotency-Key} header (null: type + correlation decide)
 */
public record JobRequest(String type, Map<String, String> correlation, JsonNode payload, Instant runAt,
        Integer priority, String idempotencyKey) {}
