package io.vectorsync.sync;

import com.fasterxml.jackson.databind.JsonNode;
import io.vectorsync.device.DeviceStore;

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

    private static String text(JsonNode v) {
        return v == null || v.isNull() ? null : v.asText();
    }

    private static float[] floats(JsonNode array) {
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
