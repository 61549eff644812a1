package io.vectorsync.ingest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Ids of ingested chunks: {@code <documentId>:<first 16 hex digits of SHA-256(chunk text)>:<occurrence>},
 * the occurrence counting from 1 among the chunks of the document with the same text, in document order.
 * An id depends on the chunk's own text and on how often that text came before, never on its position, so
 * inserting or removing a paragraph leaves the other chunks' ids as they were.
 */
public final class ChunkIds {

    /** The 18 characters of hash and separators plus the occurrence's digits a document id leaves room for. */
    public static final int MAX_DOCUMENT_ID_LENGTH = 200;

    private ChunkIds() {}

    /** One id per text, in order. */
    public static List<String> of(String documentId, List<String> texts) {
        Map<String, Integer> seen = new HashMap<>();
        return texts.stream().map(t -> {
            int occurrence = seen.merge(t, 1, Integer::sum);
            return documentId + ":" + sha256(t).substring(0, 16) + ":" + occurrence;
        }).toList();
    }

    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
