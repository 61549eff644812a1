package io.vectorsync.backend.chroma;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.ChunkData;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * How a chunk becomes a Chroma record's metadata, and back. Chroma metadata is flat: a value is a string,
 * an integer, a float or a boolean. A record holds
 * <ul>
 *   <li>{@code chunk_id}, {@code version}, {@code privacy} and {@code document_id} (when the chunk has one);
 *   <li>each top-level key of the chunk's metadata with its value when that is a scalar, and its JSON text
 *       when it is an object or an array (so {@code where} filters can still match it);
 *   <li>{@code vectorsync_json}, only when needed: a JSON object text with the entries that the flat keys
 *       can't give back exactly: objects, arrays, {@code null}s, integers beyond 64 bits, and keys that are
 *       reserved (the names above) or that Chroma treats specially (empty, or starting with {@code #},
 *       {@code $} or {@code chroma:}; such keys are not written flat at all).
 * </ul>
 * Reading back merges the flat keys and {@code vectorsync_json}, so the metadata comes back as it was sent.
 */
final class ChromaMetadata {

    static final String CHUNK_ID = "chunk_id";
    static final String VERSION = "version";
    static final String DOCUMENT_ID = "document_id";
    static final String PRIVACY = "privacy";
    static final String JSON = "vectorsync_json";
    private static final Set<String> RESERVED = Set.of(CHUNK_ID, VERSION, DOCUMENT_ID, PRIVACY, JSON);

    private ChromaMetadata() {}

    /** The record metadata for version {@code version} of the chunk {@code d}. */
    static ObjectNode of(ChunkData d, long version, ObjectMapper json) {
        ObjectNode m = json.createObjectNode();
        m.put(CHUNK_ID, d.chunkId());
        m.put(VERSION, version);
        m.put(PRIVACY, d.privacy().name());
        if (d.documentId() != null) {
            m.put(DOCUMENT_ID, d.documentId());
        }
        ObjectNode exact = json.createObjectNode();
        JsonNode user = parse(d.metadataJson(), json);
        for (Iterator<Map.Entry<String, JsonNode>> it = user.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (!flatKey(key)) {
                exact.set(key, v);
            } else if (v.isTextual() || v.isBoolean() || (v.isIntegralNumber() && v.canConvertToLong())) {
                m.set(key, v);
            } else if (v.isFloatingPointNumber() && Double.isFinite(v.doubleValue())) {
                m.put(key, v.doubleValue());
            } else {
                if (v.isContainerNode() || v.isNumber()) {
                    m.put(key, v.toString());
                }
                exact.set(key, v);
            }
        }
        if (!exact.isEmpty()) {
            m.put(JSON, exact.toString());
        }
        return m;
    }

    /** The chunk's own metadata, as a JSON object text, from a record's metadata. */
    static String userMetadata(JsonNode record, ObjectMapper json) {
        ObjectNode out = json.createObjectNode();
        if (record == null || !record.isObject()) {
            return "{}";
        }
        JsonNode exact = record.hasNonNull(JSON) ? parse(record.get(JSON).asText(), json) : json.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = record.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!RESERVED.contains(e.getKey())) {
                out.set(e.getKey(), exact.has(e.getKey()) ? exact.get(e.getKey()) : e.getValue());
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = exact.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!out.has(e.getKey())) {
                out.set(e.getKey(), e.getValue());
            }
        }
        return out.toString();
    }

    /** The version a record's metadata holds, or {@code null} when it has none (not written by vectorsync). */
    static Long version(JsonNode record) {
        return record != null && record.has(VERSION) && record.get(VERSION).canConvertToLong()
                ? record.get(VERSION).asLong()
                : null;
    }

    /** True when a chunk's metadata key may be written as a flat Chroma key. */
    static boolean flatKey(String key) {
        return !key.isEmpty() && !RESERVED.contains(key) && !key.startsWith("#") && !key.startsWith("$")
                && !key.startsWith("chroma:");
    }

    private static JsonNode parse(String text, ObjectMapper json) {
        if (text == null) {
            return json.createObjectNode();
        }
        try {
            JsonNode n = json.readTree(text);
            return n != null && n.isObject() ? n : json.createObjectNode();
        } catch (Exception unreadable) {
            return json.createObjectNode();
        }
    }
}
