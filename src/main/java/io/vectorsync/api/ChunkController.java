package io.vectorsync.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.vectorsync.backend.ExactJson;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.ChunkService;
import io.vectorsync.capture.StoredChunk;
import io.vectorsync.capture.Written;
import io.vectorsync.ingest.ChunkEmbedder;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/** The capture API: chunks in, one outbox event each, in one transaction; then the relay is woken. */
@RestController
@RequestMapping(path = "/api/v1", produces = MediaType.APPLICATION_JSON_VALUE)
public class ChunkController {

    private final ChunkRequestParser parser;
    private final ChunkService chunks;
    private final ObjectMapper json;
    /** Present when an embedding provider is configured: a PUT may then leave the embedding out. */
    private final ObjectProvider<ChunkEmbedder> embedder;

    public ChunkController(ChunkRequestParser parser, ChunkService chunks, ObjectMapper json,
            ObjectProvider<ChunkEmbedder> embedder) {
        this.parser = parser;
        this.chunks = chunks;
        this.json = json;
        this.embedder = embedder;
    }

    /**
     * The hot path: the answer is written here rather than through Spring's message converters, whose
     * per-call content negotiation and body advice cost about a tenth of the request's CPU. A plain
     * request reaches it from {@link ChunkPutFilter} without Spring MVC's dispatch; any other through it.
     */
    @PutMapping(path = "/chunks/{chunkId}", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Create or replace one chunk",
            description = "The chunk and its outbox event commit in one transaction. If-Match (or the body's"
                    + " version) makes it a compare-and-set; version 0 means the chunk must not exist yet. Without"
                    + " an embedding, when vectorsync.embedding.provider is configured, the content is embedded"
                    + " first, in the request (docs/ingest.md).",
            requestBody = @RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = ChunkSchemas.ChunkRequest.class))))
    @ApiResponse(responseCode = "200", description = "Updated; ETag is the new version",
            content = @Content(schema = @Schema(implementation = WrittenChunk.class)))
    @ApiResponse(responseCode = "201", description = "Created; ETag is the new version",
            content = @Content(schema = @Schema(implementation = WrittenChunk.class)))
    public void put(@PathVariable("chunkId") String chunkId,
            @RequestHeader(name = "If-Match", required = false) String ifMatch, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        byte[] body = parser.readBody(request.getInputStream(), request.getContentLengthLong());
        Written w;
        ChunkEmbedder e;
        try {
            w = chunks.upsert(parser.chunk(body, chunkId, ifMatch));
        } catch (CaptureException missing) {
            if (!"VSYNC-EMBEDDING-MISSING".equals(missing.code()) || (e = embedder.getIfAvailable()) == null) {
                throw missing;
            }
            w = e.put(parser.chunkToEmbed(body, chunkId, ifMatch));
        }
        byte[] out = json.writeValueAsBytes(new WrittenChunk(w.chunkId(), w.version()));
        response.setStatus(w.created() ? 201 : 200);
        response.setHeader(HttpHeaders.ETAG, "\"" + w.version() + "\"");
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setContentLength(out.length);
        response.getOutputStream().write(out);
    }

    /** The answer to a write. */
    public record WrittenChunk(String chunkId, long version) {}

    /** The answer to a batch: one {@link WrittenChunk} per chunk, in the request's order. */
    public record BatchWritten(List<WrittenChunk> results) {}

    /** The answer to a delete. */
    public record DeletedChunk(String chunkId, long version, boolean deleted) {}

    /**
     * A chunk as {@code GET} shows it, with its sync status: on the server one state per backend, on a
     * device (the {@code local} profile) one string for the chunk's way to the remote ({@link
     * OpenApiConfig} documents both shapes).
     */
    public record ChunkView(String chunkId, long version, String documentId, String content, float[] embedding,
            @Schema(description = "the metadata object, numbers exactly as sent") JsonNode metadata,
            @Schema(allowableValues = {"FULL", "REDACTED", "LOCAL_ONLY"}) String privacy, String updatedAt,
            Object syncStatus) {}

    @PostMapping(path = "/chunks:batch", consumes = MediaType.APPLICATION_JSON_VALUE)
    @Operation(summary = "Write up to vectorsync.api.max-batch-count chunks, all or nothing",
            requestBody = @RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = ChunkSchemas.BatchRequest.class))))
    public BatchWritten batch(HttpServletRequest request) throws IOException {
        byte[] body = parser.readBody(request.getInputStream(), request.getContentLengthLong());
        List<ChunkInput> inputs = parser.batch(body);
        return new BatchWritten(chunks.upsertAll(inputs).stream()
                .map(w -> new WrittenChunk(w.chunkId(), w.version())).toList());
    }

    @DeleteMapping("/chunks/{chunkId}")
    public ResponseEntity<DeletedChunk> delete(@PathVariable("chunkId") String chunkId,
            @RequestHeader(name = "If-Match", required = false) String ifMatch) {
        parser.chunkId(chunkId, "chunkId");
        Written w = chunks.delete(chunkId, parser.ifMatch(ifMatch));
        return ResponseEntity.ok().eTag("\"" + w.version() + "\"")
                .body(new DeletedChunk(w.chunkId(), w.version(), true));
    }

    @GetMapping("/chunks/{chunkId}")
    public ResponseEntity<ChunkView> get(@PathVariable("chunkId") String chunkId) throws IOException {
        parser.chunkId(chunkId, "chunkId");
        ChunkService.Read read = chunks.read(chunkId).orElseThrow(() -> new CaptureException(404,
                "VSYNC-CHUNK-NOT-FOUND", "chunkId", "an existing chunk id",
                "No chunk with this id exists (or it was deleted)."));
        StoredChunk c = read.chunk();
        ChunkView view = new ChunkView(c.chunkId(), c.version(), c.documentId(), c.content(), c.embedding(),
                ExactJson.reader(json).readTree(c.metadataJson()), c.privacy(), c.updatedAt(),
                read.storeStatus() != null ? read.storeStatus() : read.syncStatus());
        return ResponseEntity.ok().eTag("\"" + c.version() + "\"").body(view);
    }
}
