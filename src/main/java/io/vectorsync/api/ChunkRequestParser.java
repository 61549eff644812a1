package io.vectorsync.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.ExactJson;
import io.vectorsync.capture.CaptureException;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Privacy;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * Reads and validates chunk requests. Every rule has a stable code, names the field and says what was
 * expected; nothing is written unless the whole request is valid.
 */
@Component
public class ChunkRequestParser {

    private static final Set<String> CHUNK_FIELDS =
            Set.of("chunkId", "documentId", "content", "embedding", "metadata", "privacy", "version");

    private final ObjectMapper json;
    /** Decimals as BigDecimal: metadata numbers are stored as sent ({@link ExactJson}). */
    private final ObjectReader exact;
    private final VectorsyncProperties properties;

    public ChunkRequestParser(ObjectMapper json, VectorsyncProperties properties) {
        this.json = json;
        this.exact = ExactJson.reader(json);
        this.properties = properties;
    }

    /** Reads the body, refusing more than the configured maximum (413). */
    public byte[] readBody(InputStream in, long contentLength) throws IOException {
        long max = properties.api().maxBodyBytes();
        if (contentLength > max) {
            throw tooLarge(max);
        }
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        if (body.length > max) {
            throw tooLarge(max);
        }
        return body;
    }

    private static CaptureException tooLarge(long max) {
        return new CaptureException(413, "VSYNC-PAYLOAD-TOO-LARGE", "body", "at most " + max + " bytes",
                "The request body is larger than vectorsync.api.max-body-bytes; send fewer chunks (or a smaller"
                        + " document) per request.");
    }

    public JsonNode parse(byte[] body) {
        if (body.length == 0) {
            throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "a JSON object",
                    "The request body is empty.");
        }
        try {
            // Trailing tokens ("{...}garbage", two objects) and duplicate keys (which one wins differs
            // between parsers) are malformed, not silently resolved.
            JsonNode n = exact.with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                    .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(body);
            if (n == null || !n.isObject()) {
                throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "a JSON object",
                        "The request body must be a JSON object.");
            }
            if (hasDecimalZeroInAnEmbedding(n)) {
                // A decimal has no negative zero: embeddings holding one are taken from a read as doubles,
                // as the one-pass reader reads them (-0.0 stays -0.0f).
                ObjectNode plain = (ObjectNode) json.readTree(body);
                ObjectNode o = (ObjectNode) n;
                if (o.has("embedding")) {
                    o.set("embedding", plain.get("embedding"));
                }
                JsonNode items = o.get("chunks");
                for (int i = 0; items != null && items.isArray() && i < items.size(); i++) {
                    if (items.get(i) instanceof ObjectNode item && item.has("embedding")) {
                        item.set("embedding", plain.get("chunks").get(i).get("embedding"));
                    }
                }
            }
            return n;
        } catch (StreamConstraintsException e) {
            throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "JSON nested at most 1000 levels deep,"
                    + " numbers and strings within Jackson's limits", "The request body exceeds a JSON parser limit.");
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "well-formed JSON (RFC 8259)",
                    "The request body is not valid JSON" + where + " (NaN and Infinity are not JSON numbers).");
        } catch (IOException e) {
            throw new CaptureException(400, "VSYNC-MALFORMED-JSON", "body", "well-formed JSON",
                    "The request body could not be read.");
        }
    }

    private static boolean hasDecimalZeroInAnEmbedding(JsonNode n) {
        if (zeroDecimal(n.get("embedding"))) {
            return true;
        }
        JsonNode items = n.get("chunks");
        if (items != null && items.isArray()) {
            for (JsonNode item : items) {
                if (zeroDecimal(item.get("embedding"))) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean zeroDecimal(JsonNode embedding) {
        if (embedding != null && embedding.isArray()) {
            for (JsonNode x : embedding) {
                if (x.isBigDecimal() && x.decimalValue().signum() == 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Validates a chunk id from the path or a batch item. */
    public String chunkId(String id, String field) {
        int max = properties.api().maxChunkIdLength();
        if (id == null || id.isEmpty()) {
            throw new CaptureException(400, "VSYNC-CHUNK-ID-INVALID", field, "1 to " + max + " characters",
                    "The chunk id is empty.");
        }
        if (id.codePointCount(0, id.length()) > max) {
            throw new CaptureException(400, "VSYNC-CHUNK-ID-INVALID", field, "1 to " + max + " characters",
                    "The chunk id is longer than vectorsync.api.max-chunk-id-length.");
        }
        if (id.startsWith("link:")) {
            throw new CaptureException(400, "VSYNC-CHUNK-ID-INVALID", field, "an id not starting with 'link:'",
                    "Ids starting with 'link:' are reserved for relationship (LINK) events.");
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (Character.isISOControl(c) || (Character.isSurrogate(c) && !validSurrogate(id, i))) {
                throw new CaptureException(400, "VSYNC-CHUNK-ID-INVALID", field,
                        "printable Unicode characters (no control characters)",
                        "The chunk id contains a control character or broken Unicode at position " + i + ".");
            }
            if (Character.isHighSurrogate(c)) {
                i++;
            }
        }
        return id;
    }

    private static boolean validSurrogate(String s, int i) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
    }

    /**
     * One chunk from a request body. The usual body, a JSON object whose embedding is an array of finite
     * numbers of the configured dimension, is read in one pass with the embedding going straight into a
     * {@code float[]}: building a tree node per number and walking the tree again took a fifth of the
     * ingest path's CPU. Any other body (malformed, a duplicate key, trailing tokens, an embedding of
     * another shape, a non-finite value) is read again the strict way, {@link #parse} then
     * {@link #chunk(JsonNode, String, String, Long)}, so every error, and which one wins, is that path's.
     */
    public ChunkInput chunk(byte[] body, String pathId, String ifMatchHeader) {
        ObjectNode rest = json.getNodeFactory().objectNode();
        float[] embedding = readUsual(body, rest);
        if (embedding == null) {
            JsonNode n = parse(body); // a malformed body is reported before a malformed If-Match
            return chunk(n, pathId, "", ifMatch(ifMatchHeader));
        }
        return chunk(rest, embedding, pathId, "", ifMatch(ifMatchHeader));
    }

    /**
     * One chunk whose body may leave the embedding out (null in the result), read the strict way: for a PUT
     * whose embedding the configured provider makes ({@code io.vectorsync.ingest.ChunkEmbedder}).
     */
    public ChunkInput chunkToEmbed(byte[] body, String pathId, String ifMatchHeader) {
        JsonNode n = parse(body);
        return chunk(n, null, pathId, "", ifMatch(ifMatchHeader), true);
    }

    /** The embedding of a usual body, with every other field put in {@code rest}; null if it is not usual. */
    float[] readUsual(byte[] body, ObjectNode rest) {
        try (JsonParser p = usualParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            float[] embedding = readUsualObject(p, rest);
            return embedding != null && p.nextToken() == null ? embedding : null;
        } catch (IOException | RuntimeException e) {
            return null; // the strict path reads it again and names the error
        }
    }

    private JsonParser usualParser(byte[] body) throws IOException {
        JsonParser p = exact.createParser(body);
        p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        p.enable(JsonParser.Feature.USE_FAST_DOUBLE_PARSER);
        return p;
    }

    /**
     * From just after an object's START_OBJECT to its END_OBJECT: the embedding of a usual chunk object,
     * every other field put in {@code rest}; null as soon as it is not usual.
     */
    private float[] readUsualObject(JsonParser p, ObjectNode rest) throws IOException {
        float[] embedding = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            if (name.equals("embedding")) {
                embedding = value == JsonToken.START_ARRAY ? readEmbedding(p) : null;
                if (embedding == null) {
                    return null;
                }
            } else {
                rest.set(name, value == JsonToken.VALUE_NULL ? NullNode.getInstance() : exact.readTree(p));
            }
        }
        return t == JsonToken.END_OBJECT ? embedding : null;
    }

    /** The numbers up to the array's end, converted as the tree would ((float) of the double or long). */
    private float[] readEmbedding(JsonParser p) throws IOException {
        int dim = properties.embeddingDimension();
        float[] out = new float[dim];
        int i = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (i == dim) {
                return null;
            }
            float f;
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                f = (float) p.getDoubleValue();
            } else if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                f = (float) p.getLongValue();
            } else {
                return null;
            }
            if (!Float.isFinite(f)) {
                return null;
            }
            out[i++] = f;
        }
        return i == dim ? out : null;
    }

    /** One chunk from a JSON object; {@code pathId} is the id from the URL, or null in a batch. */
    public ChunkInput chunk(JsonNode n, String pathId, String prefix, Long ifMatch) {
        return chunk(n, null, pathId, prefix, ifMatch);
    }

    /** As above, with the embedding already read and checked when {@code embedding} is not null. */
    private ChunkInput chunk(JsonNode n, float[] embedding, String pathId, String prefix, Long ifMatch) {
        return chunk(n, embedding, pathId, prefix, ifMatch, false);
    }

    private ChunkInput chunk(JsonNode n, float[] embedding, String pathId, String prefix, Long ifMatch,
            boolean embeddingOptional) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!CHUNK_FIELDS.contains(f)) {
                throw new CaptureException(400, "VSYNC-UNKNOWN-FIELD", prefix + f, "one of " + CHUNK_FIELDS,
                        "Unknown field '" + f + "'.");
            }
        }
        String id;
        if (pathId != null) {
            id = chunkId(pathId, "chunkId");
            JsonNode bodyId = n.get("chunkId");
            if (bodyId != null && !(bodyId.isTextual() && bodyId.asText().equals(pathId))) {
                throw new CaptureException(400, "VSYNC-CHUNK-ID-MISMATCH", prefix + "chunkId",
                        "absent, or the id in the URL", "The body's chunkId differs from the URL's.");
            }
        } else {
            JsonNode bodyId = n.get("chunkId");
            if (bodyId == null || !bodyId.isTextual()) {
                throw new CaptureException(400, "VSYNC-CHUNK-ID-INVALID", prefix + "chunkId", "a string",
                        "Each chunk of a batch needs a chunkId string.");
            }
            id = chunkId(bodyId.asText(), prefix + "chunkId");
        }
        String documentId = optionalText(n, "documentId", prefix, 1024);
        String content = optionalText(n, "content", prefix, properties.api().maxContentBytes());
        JsonNode given = n.get("embedding");
        if (embedding == null && !(embeddingOptional && (given == null || given.isNull()))) {
            embedding = embedding(given, prefix + "embedding");
        }
        String metadata = "{}";
        JsonNode meta = n.get("metadata");
        if (meta != null && !meta.isNull()) {
            if (!meta.isObject()) {
                throw new CaptureException(400, "VSYNC-FIELD-TYPE", prefix + "metadata", "a JSON object",
                        "metadata must be a JSON object.");
            }
            ExactJson.Problem problem = ExactJson.problem(meta);
            if (problem instanceof ExactJson.Nul nul) {
                throw new CaptureException(400, "VSYNC-FIELD-TYPE", prefix + "metadata" + nul.path(),
                        "no NUL characters", "metadata must not contain NUL characters (PostgreSQL jsonb cannot"
                                + " store them).");
            }
            if (problem instanceof ExactJson.BadNumber number) {
                throw new CaptureException(400, "VSYNC-METADATA-NUMBER", prefix + "metadata" + number.path(),
                        "a number PostgreSQL numeric holds (at most 131072 digits before the decimal point and"
                                + " 16383 after)", "metadata numbers are stored exactly as sent; this one is beyond"
                                + " what PostgreSQL can store.");
            }
            metadata = meta.toString();
        }
        Privacy privacy = Privacy.FULL;
        JsonNode p = n.get("privacy");
        if (p != null && !p.isNull()) {
            if (!p.isTextual()) {
                throw privacyError(prefix);
            }
            try {
                privacy = Privacy.valueOf(p.asText());
            } catch (IllegalArgumentException e) {
                throw privacyError(prefix);
            }
        }
        Long expected = ifMatch;
        boolean fromIfMatch = ifMatch != null;
        JsonNode v = n.get("version");
        if (v != null && !v.isNull()) {
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw new CaptureException(400, "VSYNC-VERSION-INVALID", prefix + "version",
                        "a non-negative integer (0: the chunk must not exist yet)",
                        "version must be the chunk's current version, or 0 to create it.");
            }
            if (ifMatch != null && ifMatch != v.asLong()) {
                throw new CaptureException(400, "VSYNC-VERSION-INVALID", prefix + "version", "the If-Match version",
                        "The body's version and the If-Match header disagree.");
            }
            if (ifMatch == null) {
                expected = v.asLong();
            }
        }
        return new ChunkInput(id, documentId, content, embedding, metadata, privacy, expected, fromIfMatch);
    }

    private static CaptureException privacyError(String prefix) {
        return new CaptureException(400, "VSYNC-PRIVACY-INVALID", prefix + "privacy", "FULL, REDACTED or LOCAL_ONLY",
                "Unknown privacy level.");
    }

    private String optionalText(JsonNode n, String field, String prefix, long maxChars) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new CaptureException(400, "VSYNC-FIELD-TYPE", prefix + field, "a string", field + " must be a string.");
        }
        String s = v.asText();
        if (s.length() > maxChars) {
            throw new CaptureException(413, "VSYNC-PAYLOAD-TOO-LARGE", prefix + field, "at most " + maxChars
                    + " characters", field + " is too long.");
        }
        if (s.indexOf('\0') >= 0) {
            throw new CaptureException(400, "VSYNC-FIELD-TYPE", prefix + field, "no NUL characters",
                    field + " must not contain NUL characters.");
        }
        return s;
    }

    private float[] embedding(JsonNode e, String field) {
        int dim = properties.embeddingDimension();
        if (e == null || e.isNull()) {
            throw new CaptureException(400, "VSYNC-EMBEDDING-MISSING", field, "an array of " + dim + " numbers",
                    "embedding is required.");
        }
        if (!e.isArray()) {
            throw new CaptureException(400, "VSYNC-FIELD-TYPE", field, "an array of " + dim + " numbers",
                    "embedding must be an array of numbers.");
        }
        if (e.size() != dim) {
            throw new CaptureException(400, "VSYNC-EMBEDDING-DIMENSION", field, dim + " numbers",
                    "embedding has " + e.size() + " numbers; this service is configured for " + dim
                            + " (vectorsync.embedding-dimension).");
        }
        float[] out = new float[dim];
        for (int i = 0; i < dim; i++) {
            JsonNode x = e.get(i);
            if (!x.isNumber()) {
                throw new CaptureException(400, "VSYNC-FIELD-TYPE", field + "[" + i + "]", "a number",
                        "embedding must contain only numbers.");
            }
            // (float) of the double, as the one-pass reader converts (a decimal node rounds once otherwise).
            float f = x.isBigDecimal() ? (float) x.doubleValue() : x.floatValue();
            if (!Float.isFinite(f)) {
                throw new CaptureException(400, "VSYNC-EMBEDDING-NOT-FINITE", field + "[" + i + "]",
                        "a finite 32-bit float", "embedding values must be finite (no NaN or Infinity, none beyond"
                                + " the float range).");
            }
            out[i] = f;
        }
        return out;
    }

    /**
     * A batch from a request body, read as {@link #chunk(byte[], String, String)} reads one chunk: a usual
     * body ({@code {"chunks": [...]}} alone, at most the configured count, every item a usual chunk object)
     * in one pass, anything else the strict way ({@link #parse} then {@link #batch(JsonNode)}), so the
     * errors and their order are that path's.
     */
    public List<ChunkInput> batch(byte[] body) {
        List<ObjectNode> rests = new ArrayList<>();
        List<float[]> embeddings = new ArrayList<>();
        if (!readUsualBatch(body, rests, embeddings)) {
            return batch(parse(body));
        }
        List<ChunkInput> out = new ArrayList<>(rests.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < rests.size(); i++) {
            String prefix = "chunks[" + i + "].";
            ChunkInput in = chunk(rests.get(i), embeddings.get(i), null, prefix, null);
            if (!seen.add(in.chunkId())) {
                throw duplicateInBatch(prefix);
            }
            out.add(in);
        }
        return out;
    }

    /** True, with each item's fields and embedding added, when the batch body is usual. */
    boolean readUsualBatch(byte[] body, List<ObjectNode> rests, List<float[]> embeddings) {
        int max = properties.api().maxBatchCount();
        try (JsonParser p = usualParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME
                    || !p.currentName().equals("chunks") || p.nextToken() != JsonToken.START_ARRAY) {
                return false;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
                if (rests.size() == max) {
                    return false; // the strict path names the limit
                }
                ObjectNode rest = json.getNodeFactory().objectNode();
                float[] embedding = readUsualObject(p, rest);
                if (embedding == null) {
                    return false;
                }
                rests.add(rest);
                embeddings.add(embedding);
            }
            return t == JsonToken.END_ARRAY && !rests.isEmpty() && p.nextToken() == JsonToken.END_OBJECT
                    && p.nextToken() == null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static CaptureException duplicateInBatch(String prefix) {
        return new CaptureException(400, "VSYNC-BATCH-DUPLICATE-ID", prefix + "chunkId", "unique chunk ids",
                "A chunk id appears twice in one batch.");
    }

    /** A batch: {@code {"chunks": [ ... ]}} with at most the configured count, ids unique. */
    public List<ChunkInput> batch(JsonNode n) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("chunks")) {
                throw new CaptureException(400, "VSYNC-UNKNOWN-FIELD", f, "only 'chunks'", "Unknown field '" + f + "'.");
            }
        }
        JsonNode arr = n.get("chunks");
        if (arr == null || !arr.isArray() || arr.isEmpty()) {
            throw new CaptureException(400, "VSYNC-FIELD-TYPE", "chunks", "a non-empty array of chunks",
                    "A batch needs a non-empty 'chunks' array.");
        }
        int max = properties.api().maxBatchCount();
        if (arr.size() > max) {
            throw new CaptureException(413, "VSYNC-BATCH-TOO-LARGE", "chunks", "at most " + max + " chunks",
                    "The batch has " + arr.size() + " chunks; vectorsync.api.max-batch-count is " + max + ".");
        }
        List<ChunkInput> out = new ArrayList<>(arr.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode item = arr.get(i);
            String prefix = "chunks[" + i + "].";
            if (!item.isObject()) {
                throw new CaptureException(400, "VSYNC-FIELD-TYPE", "chunks[" + i + "]", "a JSON object",
                        "Each chunk must be a JSON object.");
            }
            ChunkInput in = chunk(item, null, prefix, null);
            if (!seen.add(in.chunkId())) {
                throw duplicateInBatch(prefix);
            }
            out.add(in);
        }
        return out;
    }

    /** Parses If-Match: {@code "3"}, {@code 3}, {@code W/"3"} or {@code *} (must exist); null if absent. */
    public Long ifMatch(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String h = header.trim();
        if (h.equals("*")) {
            return -1L;
        }
        if (h.startsWith("W/")) {
            h = h.substring(2);
        }
        if (h.length() >= 2 && h.startsWith("\"") && h.endsWith("\"")) {
            h = h.substring(1, h.length() - 1);
        }
        try {
            long v = Long.parseLong(h);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new CaptureException(400, "VSYNC-IF-MATCH-INVALID", "If-Match", "a version as an ETag, e.g. \"3\"",
                    "If-Match must carry the chunk's version as returned in the ETag header.");
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
