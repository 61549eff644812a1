package io.vectorsync.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The request bodies of {@code PUT /api/v1/chunks/{id}} and {@code POST /api/v1/chunks:batch} for the
 * OpenAPI document. The API does not bind them: {@link ChunkRequestParser} reads the bytes itself (one
 * pass, every rule with its own {@code VSYNC-} code), so these records only describe what it accepts.
 */
final class ChunkSchemas {

    private ChunkSchemas() {}

    /** One chunk; in a batch {@code chunkId} is required, in a PUT it is the URL's and may be left out. */
    @Schema(name = "ChunkRequest", description = "A chunk to write; unknown fields are refused (VSYNC-UNKNOWN-FIELD)")
    record ChunkRequest(
            @Schema(description = "In a PUT: absent, or the id in the URL; in a batch: required",
                    maxLength = 1024) String chunkId,
            @Schema(description = "The document the chunk belongs to", nullable = true, maxLength = 1024)
                    String documentId,
            @Schema(description = "The text; at most vectorsync.api.max-content-bytes characters, no NUL",
                    nullable = true) String content,
            @ArraySchema(schema = @Schema(type = "number", format = "float"), arraySchema = @Schema(
                    description = "Exactly vectorsync.embedding-dimension finite numbers",
                    requiredMode = Schema.RequiredMode.REQUIRED)) List<Float> embedding,
            @Schema(description = "A JSON object; numbers are stored exactly as sent", nullable = true)
                    JsonNode metadata,
            @Schema(description = "FULL (the default), REDACTED (no content in backends) or LOCAL_ONLY (in no"
                    + " backend)", allowableValues = {"FULL", "REDACTED", "LOCAL_ONLY"}, nullable = true)
                    String privacy,
            @Schema(description = "The chunk's current version for a compare-and-set, 0: must not exist yet;"
                    + " agrees with If-Match when both are sent", minimum = "0", nullable = true) Long version) {}

    /** A batch: all or nothing. */
    @Schema(name = "BatchRequest", description = "Chunks written all or nothing, ids unique")
    record BatchRequest(
            @ArraySchema(schema = @Schema(implementation = ChunkRequest.class), minItems = 1, arraySchema = @Schema(
                    description = "At most vectorsync.api.max-batch-count chunks",
                    requiredMode = Schema.RequiredMode.REQUIRED)) List<ChunkRequest> chunks) {}
}
