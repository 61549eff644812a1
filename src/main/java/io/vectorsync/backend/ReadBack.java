package io.vectorsync.backend;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A backend that can be read back: it reports the chunks it holds by id and lists their ids page by page,
 * so {@code verify} can compare it with the primary (and the contract tests can check what it stored). A
 * backend that can't be queried (a webhook receiver) doesn't implement it, and verify refuses it
 * ({@code VSYNC-VERIFY-UNSUPPORTED}).
 */
public interface ReadBack extends Backend {

    /**
     * The chunks the backend holds for these ids, with the fields it stores (absent ids are missing from
     * the map).
     */
    Map<String, StoredChunk> readBack(Collection<String> chunkIds);

    /** Versions the backend holds for these chunk ids (absent ids are missing from the map). */
    default Map<String, Long> readBackVersions(Collection<String> chunkIds) {
        Map<String, Long> out = new HashMap<>();
        readBack(chunkIds).forEach((id, stored) -> out.put(id, stored.version()));
        return out;
    }

    /**
     * One page of the chunk ids the backend holds (live chunks only, tombstones excluded), for verify's
     * search for orphans: {@code pageToken} is {@code null} for the first page, then the previous page's
     * {@link IdPage#next()}. Pages follow an order the backend chooses (chunk-id order where it can) and
     * hold at most {@code limit} ids, so a walk over millions of chunks keeps memory flat. A page may be
     * empty (filtered, or the end of one of several collections): only a {@code null} next token ends the walk.
     */
    IdPage listChunkIds(String pageToken, int limit);

    /**
     * The chunk fields {@link #readBack} reports as stored ({@code documentId}, {@code content},
     * {@code embedding}, {@code metadata}, {@code privacy}); verify compares only these.
     */
    default Set<String> readBackFields() {
        return Set.of("documentId", "content", "embedding", "metadata", "privacy");
    }

    /**
     * How many units in the last place a read-back embedding component may differ from the float32 value
     * sent (0: exactly as sent). A store that renormalises vectors for its index hands them back a few ulps
     * off.
     */
    default int embeddingUlpTolerance() {
        return 0;
    }

    /** A page of ids and the token of the next page ({@code null} after the last one). */
    record IdPage(List<String> ids, String next) {}
}
