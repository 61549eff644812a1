package io.vectorsync.backend;

import java.util.Collection;
import java.util.Map;

/**
 * A backend that stores relationships: the relay hands it LINK events as
 * {@link Change.Op#LINK}/{@link Change.Op#UNLINK} changes keyed by edge ({@link Link#key()}), version-
 * guarded per edge by the ledger like chunks; other backends never see LINK events. Besides its chunks it
 * offers verify a read-back of edges by edge key and a keyset listing of the edge keys it holds, so edges
 * are compared page by page with the primary's {@code aggregates} as chunks are.
 */
public interface LinkStore extends ReadBack {

    /** An edge as the backend holds it: its version and its properties as JSON, as {@link #storedProperties} forms them. */
    record StoredLink(long version, String propertiesJson) {}

    /** The edges the backend holds for these edge keys (absent ones, and texts that are no edge key, are missing from the map). */
    Map<String, StoredLink> readBackLinks(Collection<String> keys);

    /**
     * One page of the edge keys the backend holds: {@code pageToken} {@code null} for the first page, then
     * the previous page's {@link ReadBack.IdPage#next()}; at most {@code limit} keys, in an order the backend
     * chooses. A page may be empty: only a {@code null} next token ends the walk.
     */
    IdPage listLinkKeys(String pageToken, int limit);

    /**
     * A LINK's properties (a JSON object) as this backend stores them, as JSON: what {@link #readBackLinks}
     * reports for an edge written with them (values the store can't hold as they are converted as its
     * write converts them).
     */
    String storedProperties(String propertiesJson);
}
