package io.vectorsync.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ExactJson;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.ChunkService;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.sql.Array;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    private final BackendRegistry backends;
    private final ObjectMapper json;

    public ChunkController(ChunkRequestParser parser, ChunkService chunks, BackendRegistry backends,
            ObjectMapper json) {
        this.parser = parser;
        this.chunks = chunks;
        this.backends = backends;
        this.json = json;
    }

    /**
     * The hot path: the answer is written here rather than through Spring's message converters, whose
     * per-call content negotiation and body advice cost about a tenth of the request's CPU. A plain
     * request reaches it from {@link ChunkPutFilter} without Spring MVC's dispatch; any other through it.
     */
    @PutMapping(path = "/chunks/{chunkId}", consumes = MediaType.APPLICATION_JSON_VALUE)
    @ApiResponse(responseCode = "200", description = "Updated; ETag is the new version",
            content = @Content(schema = @Schema(implementation = WrittenChunk.class)))
    @ApiResponse(responseCode = "201", description = "Created; ETag is the new version",
            content = @Content(schema = @Schema(implementation = WrittenChunk.class)))
    public void put(@PathVariable("chunkId") String chunkId,
            @RequestHeader(name = "If-Match", required = false) String ifMatch, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        byte[] body = parser.readBody(request.getInputStream(), request.getContentLengthLong());
        ChunkInput in = parser.chunk(body, chunkId, ifMatch);
        ChunkService.Written w = chunks.upsert(in);
        byte[] out = json.writeValueAsBytes(new WrittenChunk(w.chunkId(), w.version()));
        response.setStatus(w.created() ? 201 : 200);
        response.setHeader(HttpHeaders.ETAG, "\"" + w.version() + "\"");
        response.setContentType(MediaType.APPLICATION_JSON_VALUE);
        response.setContentLength(out.length);
        response.getOutputStream().write(out);
    }

    /** The answer to a write. */
    public record WrittenChunk(String chunkId, long version) {}

    @PostMapping(path = "/chunks:batch", consumes = MediaType.APPLICATION_JSON_VALUE)
    public Map<String, Object> batch(HttpServletRequest request) throws IOException {
        byte[] body = parser.readBody(request.getInputStream(), request.getContentLengthLong());
        List<ChunkInput> inputs = parser.batch(body);
        List<Map<String, Object>> results = chunks.upsertAll(inputs).stream().map(ChunkController::written).toList();
        return Map.of("results", results);
    }

    @DeleteMapping("/chunks/{chunkId}")
    public ResponseEntity<Map<String, Object>> delete(@PathVariable("chunkId") String chunkId,
            @RequestHeader(name = "If-Match", required = false) String ifMatch) {
        parser.chunkId(chunkId, "chunkId");
        ChunkService.Written w = chunks.delete(chunkId, parser.ifMatch(ifMatch));
        Map<String, Object> body = written(w);
        body.put("deleted", true);
        return ResponseEntity.ok().eTag("\"" + w.version() + "\"").body(body);
    }

    @GetMapping("/chunks/{chunkId}")
    public ResponseEntity<Map<String, Object>> get(@PathVariable("chunkId") String chunkId) throws SQLException,
            IOException {
        parser.chunkId(chunkId, "chunkId");
        Map<String, Object> row = chunks.read(chunkId, backends).orElseThrow(() -> new CaptureException(404,
                "VSYNC-CHUNK-NOT-FOUND", "chunkId", "an existing chunk id", "No chunk with this id exists (or it was deleted)."));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("chunkId", row.get("chunk_id"));
        out.put("version", row.get("version"));
        out.put("documentId", row.get("document_id"));
        out.put("content", row.get("content"));
        Object emb = row.get("embedding");
        out.put("embedding", emb instanceof Array a ? a.getArray() : null);
        out.put("metadata", ExactJson.reader(json).readTree((String) row.get("metadata")));
        out.put("privacy", row.get("privacy"));
        out.put("updatedAt", String.valueOf(row.get("updated_at")));
        out.put("syncStatus", row.get("syncStatus"));
        return ResponseEntity.ok().eTag("\"" + row.get("version") + "\"").body(out);
    }

    private static Map<String, Object> written(ChunkService.Written w) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chunkId", w.chunkId());
        m.put("version", w.version());
        return m;
    }
}
