package io.vectorsync.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.Privacy;
import io.vectorsync.jobs.PermanentJobException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An INGEST payload ({@code jobs/ingest.schema.json}) read into what the handler plans with, and the plan:
 * the chunks the splitter makes of the text, each with its id ({@link ChunkIds}), position, metadata (the
 * document's, plus {@code ingest.position}) and the hash of what a write of it stores.
 */
public record IngestDocument(String documentId, String text, ObjectNode metadata, Privacy privacy, int maxChars,
        int overlapChars) {

    /** Sorted keys at every level: the same metadata always hashes the same. */
    private static final JsonMapper CANONICAL = JsonMapper.builder()
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();

    /** One chunk of the plan. */
    public record Planned(String chunkId, int position, String text, String metadataJson, String stateHash) {

        @Override
        public String toString() {
            return "Planned[" + chunkId + " @" + position + "]"; // never the text
        }
    }

    /** Reads a payload the schema accepted; what it could not say (the id's prefix) is checked here. */
    public static IngestDocument from(JsonNode p) {
        String id = p.path("documentId").asText("");
        // Counted in code points, as the payload's JSON Schema counts maxLength.
        if (id.isEmpty() || id.codePointCount(0, id.length()) > ChunkIds.MAX_DOCUMENT_ID_LENGTH
                || id.startsWith("link:")) {
            throw new PermanentJobException("VSYNC-INGEST-DOCUMENT-ID", "documentId must be 1 to "
                    + ChunkIds.MAX_DOCUMENT_ID_LENGTH + " characters and not start with 'link:'");
        }
        JsonNode m = p.get("metadata");
        ObjectNode metadata = m != null && m.isObject() ? ((ObjectNode) m).deepCopy() : JsonNodeFactory.instance.objectNode();
        metadata.remove("ingest"); // the schema refuses it; a payload from elsewhere cannot set the position
        Privacy privacy = p.hasNonNull("privacy") ? Privacy.valueOf(p.get("privacy").asText()) : Privacy.FULL;
        JsonNode c = p.path("chunking");
        int max = c.path("maxChars").asInt(TextSplitter.DEFAULT_MAX_CHARS);
        int overlap = c.path("overlapChars").asInt(Math.min(TextSplitter.DEFAULT_OVERLAP_CHARS, max / 5));
        if (overlap >= max) {
            throw new PermanentJobException("VSYNC-INGEST-CHUNKING", "chunking.overlapChars must be below maxChars");
        }
        return new IngestDocument(id, p.path("text").asText(""), metadata, privacy, max, overlap);
    }

    /** The chunks of this document, in order. */
    public List<Planned> plan() {
        List<String> texts = new TextSplitter(maxChars, overlapChars).split(text);
        List<String> ids = ChunkIds.of(documentId, texts);
        List<Planned> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            ObjectNode meta = metadata.deepCopy();
            meta.putObject("ingest").put("position", i);
            String metaJson = meta.toString();
            out.add(new Planned(ids.get(i), i, texts.get(i), metaJson,
                    ChunkIds.sha256(texts.get(i) + '\0' + canonical(meta) + '\0' + privacy.name())));
        }
        return out;
    }

    /**
     * The job's correlation: the document id and a digest of everything that decides what it writes (text,
     * metadata, privacy, chunking, the model), so a changed document is a new job and the same one is not.
     */
    public Map<String, String> correlation(String modelId) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("documentId", documentId);
        c.put("digest", ChunkIds.sha256(text + '\0' + canonical(metadata) + '\0' + privacy.name() + '\0' + maxChars
                + '\0' + overlapChars + '\0' + modelId).substring(0, 32));
        return c;
    }

    static String canonical(JsonNode node) {
        try {
            return CANONICAL.writeValueAsString(CANONICAL.convertValue(node, Object.class));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "IngestDocument[" + documentId + ", " + text.length() + " chars, " + privacy + "]";
    }
}
