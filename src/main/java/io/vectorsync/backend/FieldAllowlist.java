package io.vectorsync.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What of a chunk may leave the primary for one backend ({@code vectorsync.backends.<name>.fields}):
 * {@code documentId}, {@code content}, {@code embedding}, {@code metadata} (all of it) or
 * {@code metadata.<key>} (that top-level key only). An empty list allows every field. Fields not on the
 * list are removed from every UPSERT before the backend sees it; privacy has already been applied
 * (REDACTED has no content, LOCAL_ONLY became a delete), so the allowlist only ever narrows it. The chunk
 * id, version and privacy level always travel: they are how the backend guards versions and tells why
 * content is missing.
 */
public final class FieldAllowlist {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("documentId", "content", "embedding", "metadata");

    private final boolean all;
    private final boolean documentId;
    private final boolean content;
    private final boolean embedding;
    private final boolean wholeMetadata;
    private final Set<String> metadataKeys;

    private FieldAllowlist(boolean all, Set<String> fields, Set<String> metadataKeys) {
        this.all = all;
        this.documentId = all || fields.contains("documentId");
        this.content = all || fields.contains("content");
        this.embedding = all || fields.contains("embedding");
        this.wholeMetadata = all || fields.contains("metadata");
        this.metadataKeys = metadataKeys;
    }

    public static final FieldAllowlist ALL = new FieldAllowlist(true, Set.of(), Set.of());

    /**
     * Parses the configured list; {@code property} names it in the error for an unknown field.
     *
     * @throws IllegalStateException naming the property and the fields it may hold
     */
    public static FieldAllowlist of(List<String> entries, String property) {
        if (entries == null || entries.isEmpty()) {
            return ALL;
        }
        Set<String> fields = new LinkedHashSet<>();
        Set<String> keys = new LinkedHashSet<>();
        for (String raw : entries) {
            String e = raw == null ? "" : raw.trim();
            if (e.startsWith("metadata.") && e.length() > "metadata.".length()) {
                keys.add(e.substring("metadata.".length()));
            } else if (FIELDS.contains(e)) {
                fields.add(e);
            } else {
                throw new IllegalStateException(property + " may list documentId, content, embedding, metadata"
                        + " or metadata.<key>, but it lists '" + raw + "'");
            }
        }
        return new FieldAllowlist(false, fields, Set.copyOf(keys));
    }

    /** True when nothing is filtered. */
    public boolean allowsAll() {
        return all;
    }

    public boolean allows(String field) {
        return switch (field) {
            case "documentId" -> documentId;
            case "content" -> content;
            case "embedding" -> embedding;
            case "metadata" -> wholeMetadata || !metadataKeys.isEmpty();
            default -> false;
        };
    }

    /** The change with only the allowed fields; deletes and copies from the primary pass unchanged. */
    public Change restrict(Change c) {
        if (all) {
            return c;
        }
        if (!c.earlier().isEmpty()) {
            c = c.withHistory(c.seq(), c.earlier().stream().map(this::restrict).toList());
        }
        if (c.data() == null) {
            return c;
        }
        ChunkData d = c.data();
        return c.withData(new ChunkData(d.chunkId(),
                documentId ? d.documentId() : null,
                content ? d.content() : null,
                embedding ? d.embedding() : null,
                metadata(d.metadataJson()),
                d.privacy()));
    }

    private String metadata(String metadataJson) {
        if (wholeMetadata) {
            return metadataJson;
        }
        if (metadataKeys.isEmpty() || metadataJson == null) {
            return "{}";
        }
        try {
            JsonNode n = JSON.readTree(metadataJson);
            ObjectNode kept = JSON.createObjectNode();
            if (n != null && n.isObject()) {
                for (String k : metadataKeys) {
                    if (n.has(k)) {
                        kept.set(k, n.get(k));
                    }
                }
            }
            return kept.toString();
        } catch (Exception unreadable) {
            return "{}";
        }
    }
}
