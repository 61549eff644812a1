package io.vectorsync.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.ChunkData;
import java.io.IOException;

/** The JSON form of a chunk's fields, shared by payloads, dead letters and HTTP backends. */
public final class ChunkJson {

    private ChunkJson() {}

    /** Puts documentId, content (when present), embedding, metadata and privacy into {@code o}. */
    public static ObjectNode fill(ObjectNode o, ChunkData d, ObjectMapper json) {
        o.put("documentId", d.documentId());
        if (d.content() != null) {
            o.put("content", d.content());
        }
        if (d.embedding() != null) {
            putFloats(o, "embedding", d.embedding());
        }
        try {
            o.set("metadata", ExactJson.reader(json).readTree(d.metadataJson() == null ? "{}" : d.metadataJson()));
        } catch (IOException | RuntimeException bad) {
            o.putObject("metadata");
        }
        o.put("privacy", d.privacy().name());
        return o;
    }

    /**
     * The chunk's document id and content, each when present, under the names the JSON stores give them
     * ({@code document_id}, {@code content}: an OpenSearch document, a Qdrant payload).
     */
    public static ObjectNode putStoredText(ObjectNode o, ChunkData d) {
        if (d.documentId() != null) {
            o.put("document_id", d.documentId());
        }
        if (d.content() != null) {
            o.put("content", d.content());
        }
        return o;
    }

    /** An embedding as an array of numbers under {@code field}. */
    public static ArrayNode putFloats(ObjectNode o, String field, float[] values) {
        ArrayNode a = o.putArray(field);
        for (float f : values) {
            a.add(f);
        }
        return a;
    }

    /** An embedding read back from a JSON array of numbers; {@code null} when the node is no array (none stored). */
    public static float[] floats(JsonNode a) {
        if (!a.isArray()) {
            return null;
        }
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).floatValue();
        }
        return v;
    }
}
