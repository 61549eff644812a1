package io.vectorsync.api;

import io.swagger.v3.oas.annotations.media.Schema;

/**
 * The shape of every error answer in the OpenAPI document (the answers themselves are Spring's
 * {@link org.springframework.http.ProblemDetail}, written by {@link ApiErrors}; this record only describes
 * them, since a {@code ProblemDetail}'s extension members are a map the schema generator cannot see).
 */
@Schema(name = "Problem", description = "RFC 9457 problem details (application/problem+json)")
record ProblemSchema(
        @Schema(description = "https://vectorsync.io/errors/<code in lower case>; documented under that anchor",
                example = "https://vectorsync.io/errors/vsync-chunk-not-found") String type,
        @Schema(description = "Short summary, the same for every occurrence of the code",
                example = "Chunk not found") String title,
        @Schema(description = "The HTTP status", example = "404") int status,
        @Schema(description = "What went wrong this time", example = "No chunk with this id exists (or it was"
                + " deleted).") String detail,
        @Schema(description = "The request path, absent when the path itself was refused",
                example = "/api/v1/chunks/doc-1-0") String instance,
        @Schema(description = "The stable VSYNC- code", example = "VSYNC-CHUNK-NOT-FOUND") String code,
        @Schema(description = "The offending field, header or parameter, when there is one",
                example = "chunkId") String field,
        @Schema(description = "What was expected there, when known", example = "an existing chunk id")
                String expected) {}
