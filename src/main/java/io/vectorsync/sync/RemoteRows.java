package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.device.DeviceStore;
import io.vectorsync.domain.Embeddings;

/** A row as the remote's sync functions return it ({@code <row>}, or a change of {@code sync_changes}). */
final class RemoteRows {

    private RemoteRows() {}

    static DeviceStore.RemoteChunk chunk(JsonNode row, long version) {
        boolean deleted = row.path("deleted").asBoolean(false) || "DELETE".equals(row.path("op").asText());
        JsonNode metadata = row.path("metadata");
        return new DeviceStore.RemoteChunk(row.path("chunkId").asText(), version, deleted, text(row.get("documentId")),
                text(row.get("content")), floats(row.get("embedding")), metadata.isObject() ? metadata.toString() : null,
                row.hasNonNull("privacy") ? row.get("privacy").asText() : null, row.path("modifiedAt").asText(),
                row.hasNonNull("modifiedBy") ? row.get("modifiedBy").asText() : "server");
    }

    /** The row with its embedding as a JSON array of numbers (for people: the conflict files and table). */
    static JsonNode readable(JsonNode row) {
        if (row == null || !row.isObject() || !row.path("embedding").isTextual()) {
            return row;
        }
        ObjectNode copy = ((ObjectNode) row).deepCopy();
        ArrayNode a = copy.putArray("embedding");
        for (float f : floats(row.get("embedding"))) {
            a.add(f);
        }
        return copy;
    }

    private static String text(JsonNode v) {
        return v == null || v.isNull() ? null : v.asText();
    }

    /** An embedding as the functions send it (array literal text) or as a JSON array of numbers. */
    static float[] floats(JsonNode array) {
        if (array != null && array.isTextual()) {
            return Embeddings.fromLiteral(array.asText());
        }
        if (array == null || !array.isArray()) {
            return null;
        }
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }
}
