package io.vectorsync.backend.chroma;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.ChunkJson;
import io.vectorsync.backend.FenceCheckedApart;
import io.vectorsync.backend.HealthProbe;
import io.vectorsync.backend.HttpCalls;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.Slices;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Chroma backend (REST API v2): one collection holds a record per chunk (id = chunk id, the
 * embedding, the content as the document, metadata as {@link ChromaMetadata} maps it), and a companion
 * collection {@code <collection>__tombstones} holds the version of each delete.
 *
 * <p>Chroma has no version guard of its own, so the backend guards versions itself: before a batch it
 * reads the versions of its ids from both collections and drops every change that is not newer than the
 * record or the tombstone. Chroma's upsert merges metadata and keeps a document when none is sent, so
 * a change replaces a record by deleting it and adding the new one (Chroma's {@code add} ignores an id
 * it already has). Each step is guarded on its own, so a batch cut short by a crash is completed by its
 * retry. A delete writes its tombstone and removes the record; a later, older upsert finds the
 * tombstone and stays out. Tombstones are kept (one small record per deleted chunk). Writes of the relay
 * are fenced by its lease epoch, kept in the records collection's metadata.
 *
 * <p>Errors: connection refused or not opened is transient and unreachable; a read timeout, 401/403 (a
 * rotated key), 408, 429 and 5xx are transient ({@link HttpCalls#classify}, {@code Retry-After} honoured);
 * a missing collection (404) is transient too and
 * the collection is created again on the next call; another 4xx refuses the batch, naming the refused
 * change when it can be told (a wrong embedding dimension is caught before anything is written).
 */
public final class ChromaBackend implements ReadBack, HealthProbe, FenceCheckedApart {

    private static final Logger log = LoggerFactory.getLogger(ChromaBackend.class);

    static final String TENANT = "default_tenant";
    static final String DATABASE = "default_database";
    static final String TOMBSTONES = "__tombstones";
    /** Key of the records collection's metadata holding the newest lease epoch that wrote. */
    static final String FENCE = "vectorsync_lease_epoch";
    private static final Pattern COLLECTION_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{1,498}[a-zA-Z0-9]");
    /** A request position in Chroma's deserialisation errors, e.g. {@code metadatas[3].lang}. */
    private static final Pattern ITEM = Pattern.compile("\\b(?:ids|embeddings|documents|metadatas|uris)\\[(\\d+)]");
    /** Chroma's own limit for a local server ({@code GET /api/v2/pre-flight-checks}) when it can't be read. */
    private static final int DEFAULT_MAX_BATCH = 1000;

    private final String name;
    private final HttpCalls http;
    private final String collection;
    private final String distance;
    private final int dimension;
    private final ObjectMapper json;
    private final Clock clock;

    private volatile Collections ids;
    private volatile int maxBatch = DEFAULT_MAX_BATCH;

    /** The ids of the two collections, and the dimension Chroma has fixed for the records (null until set). */
    private record Collections(String records, String tombstones, Integer dimension) {}

    public ChromaBackend(String name, VectorsyncProperties.Backend config, int dimension, ObjectMapper json,
            Clock clock) {
        this.name = name;
        BackendBlocks.Chroma chroma = config.chroma();
        String url = HttpCalls.serverUrl(chroma.url(), "http://127.0.0.1:8000", name + ".chroma", "chroma").toString();
        this.http = new HttpCalls(name, url.endsWith("/") ? url : url + "/", config.connectTimeout(),
                config.readTimeout(), json, clock).withHeader("x-chroma-token", HttpCalls.optional(chroma.apiKey()))
                .withErrorDetail(r -> describe(r.body()));
        this.collection = chroma.collection() == null || chroma.collection().isBlank() ? name : chroma.collection();
        if (!COLLECTION_NAME.matcher(collection).matches() || collection.contains("..")) {
            throw new IllegalStateException("vectorsync.backends." + name + ".chroma.collection must be 3-500"
                    + " characters of letters, digits, '.', '_' and '-', starting and ending with a letter or digit,"
                    + " but was '" + collection + "'" + (chroma.collection() == null ? " (the backend name)" : ""));
        }
        this.distance = chroma.distance().value();
        if (!config.fields().isEmpty() && !config.fields().contains("embedding")) {
            throw new IllegalStateException("vectorsync.backends." + name + ".fields must include embedding:"
                    + " a Chroma record can't be stored without one");
        }
        this.dimension = dimension;
        this.json = json;
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    /** The name of the collection holding the records. */
    String collection() {
        return collection;
    }

    /**
     * Gets or creates both collections. A Chroma that can't be reached yet is not fatal: the collections
     * are resolved by the first write instead.
     */
    @Override
    public void bootstrap() {
        try {
            collections();
        } catch (TransientBackendException e) {
            log.warn("Backend '{}': Chroma at {} is not available yet ({}); its collection is resolved on the"
                    + " first write", name, http.base(), e.getMessage());
        }
    }

    @Override
    public Optional<String> healthProblem() {
        return http.probe("api/v2/heartbeat", heartbeat -> Optional.empty());
    }

    /**
     * Refuses the write when a newer lease epoch has written (kept in the records collection's metadata,
     * {@code vectorsync_lease_epoch} for partition 0, {@code vectorsync_lease_epoch/<p>} for others), then
     * applies it. Chroma has no transactions, so the check and the write are two calls: this stops a holder
     * that stalled before its write (the usual case: a pause between poll and write), not one that stalls in
     * the few milliseconds between the two. That stall is closed by the relay instead (ADR 017): a holder
     * that finds its lease lost after writing records the keys as suspect and the current holder re-reads
     * and rewrites them ({@link FenceCheckedApart}).
     */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (changes.isEmpty()) {
            return;
        }
        fence(fence.key(FENCE), fence.epoch());
        write(changes);
    }

    private void fence(String key, long epoch) {
        Collections c = collections();
        String what = "read collection '" + collection + "'";
        JsonNode col = expect("GET", databasePath() + "collections/" + collection, null, what);
        if (!c.records().equals(col.path("id").asText())) {
            ids = null; // dropped and created again by someone else
            throw new TransientBackendException("backend '" + name + "': collection '" + collection
                    + "' was re-created; resolving it again", null);
        }
        if (c.dimension() == null && col.path("dimension").canConvertToInt()) {
            ids = new Collections(c.records(), c.tombstones(), col.get("dimension").asInt());
        }
        JsonNode meta = col.path("metadata");
        long newer = meta.path(key).canConvertToLong() ? meta.get(key).asLong() : Long.MIN_VALUE;
        if (newer > epoch) {
            throw new BackendFencedException(name, epoch, newer);
        }
        if (newer < epoch) {
            ObjectNode body = json.createObjectNode();
            ObjectNode m = meta.isObject() ? ((ObjectNode) meta).deepCopy() : json.createObjectNode();
            body.set("new_metadata", m.put(key, epoch));
            expect("PUT", databasePath() + "collections/" + c.records(), body, "fence collection '" + collection + "'");
        }
    }

    private void write(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        collections(); // reads the server's batch limit, too
        int max = maxBatch;
        for (int from = 0; from < changes.size(); from += max) {
            int to = Math.min(changes.size(), from + max);
            try {
                applyPart(changes.subList(from, to));
            } catch (PermanentBackendException e) {
                throw from == 0 || e.failedIndex() < 0 ? e
                        : new PermanentBackendException(e.getMessage(), e.getCause(), from + e.failedIndex());
            }
        }
    }

    private void applyPart(List<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        Collections c = collections();
        List<String> keys = changes.stream().map(Change::key).toList();
        Map<String, Long> records = new HashMap<>();
        Set<String> present = new HashSet<>();
        versions(c.records(), keys, records, present);
        Map<String, Long> tombstones = new HashMap<>();
        versions(c.tombstones(), keys, tombstones, new HashSet<>());

        List<String> remove = new ArrayList<>();
        List<Integer> add = new ArrayList<>();
        List<Integer> bury = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            Change ch = changes.get(i);
            long v = ch.version();
            Long r = records.get(ch.key());
            Long t = tombstones.get(ch.key());
            // A repair's forced write (ADR 019) replaces this same version too, never a newer one.
            long below = ch.overwriteEqual() ? v + 1 : v;
            if (r != null && r >= below) {
                continue; // the record is this version or newer
            }
            if (ch.op() == Change.Op.UPSERT) {
                if (t != null && t >= below) {
                    continue; // deleted at this version or later
                }
                if (ch.data() == null) {
                    throw new PermanentBackendException("backend '" + name + "': an UPSERT without data (a copy from"
                            + " the primary) can't be applied to Chroma", null, i);
                }
                add.add(i);
            } else if (t == null || t < v) {
                bury.add(i);
            }
            if (present.contains(ch.key())) {
                remove.add(ch.key());
            }
        }
        checkEmbeddings(changes, add, c.dimension());

        if (!remove.isEmpty()) {
            ObjectNode body = json.createObjectNode();
            ArrayNode idArray = body.putArray("ids");
            remove.forEach(idArray::add);
            call(c.records(), "delete", body, List.of());
        }
        if (!add.isEmpty()) {
            call(c.records(), "add", addBody(changes, add), add);
            if (c.dimension() == null) {
                ids = new Collections(c.records(), c.tombstones(), dimension);
            }
        }
        if (!bury.isEmpty()) {
            ObjectNode body = json.createObjectNode();
            ArrayNode idArray = body.putArray("ids");
            ArrayNode embeddings = body.putArray("embeddings");
            ArrayNode metadatas = body.putArray("metadatas");
            for (int i : bury) {
                Change ch = changes.get(i);
                idArray.add(ch.key());
                embeddings.addArray().add(0f);
                metadatas.addObject().put(ChromaMetadata.CHUNK_ID, ch.key()).put(ChromaMetadata.VERSION, ch.version());
            }
            call(c.tombstones(), "upsert", body, bury);
        }
    }

    /** Refuses, before anything is written, an upsert whose embedding is missing or of the wrong dimension. */
    private void checkEmbeddings(List<Change> changes, List<Integer> add, Integer collectionDimension) {
        int want = collectionDimension != null ? collectionDimension : dimension;
        for (int i : add) {
            float[] e = changes.get(i).data().embedding();
            if (e == null) {
                throw new PermanentBackendException("backend '" + name + "': a Chroma record needs an embedding,"
                        + " but change " + i + " has none", null, i);
            }
            if (e.length != want) {
                throw new PermanentBackendException("backend '" + name + "': collection '" + collection
                        + "' takes embeddings of dimension " + want + ", change " + i + " has " + e.length, null, i);
            }
        }
    }

    private ObjectNode addBody(List<Change> changes, List<Integer> add) {
        ObjectNode body = json.createObjectNode();
        ArrayNode idArray = body.putArray("ids");
        ArrayNode embeddings = body.putArray("embeddings");
        ArrayNode documents = body.putArray("documents");
        ArrayNode metadatas = body.putArray("metadatas");
        for (int i : add) {
            Change ch = changes.get(i);
            ChunkData d = ch.data();
            idArray.add(ch.key());
            ArrayNode e = embeddings.addArray();
            for (float f : d.embedding()) {
                e.add(f);
            }
            if (d.content() == null) {
                documents.addNull();
            } else {
                documents.add(d.content());
            }
            metadatas.add(ChromaMetadata.of(d, ch.version(), json));
        }
        return body;
    }

    /** Reads the versions (and which ids exist at all) of {@code keys} in one collection. */
    private void versions(String collectionId, List<String> keys, Map<String, Long> versions, Set<String> present) {
        ObjectNode body = json.createObjectNode();
        ArrayNode idArray = body.putArray("ids");
        keys.forEach(idArray::add);
        body.putArray("include").add("metadatas");
        JsonNode got = call(collectionId, "get", body, List.of());
        JsonNode gotIds = got.path("ids");
        JsonNode metadatas = got.path("metadatas");
        for (int i = 0; i < gotIds.size(); i++) {
            String id = gotIds.get(i).asText();
            present.add(id);
            Long v = ChromaMetadata.version(metadatas.path(i));
            if (v != null) {
                versions.put(id, v);
            }
        }
    }

    @Override
    public Map<String, StoredChunk> readBack(Collection<String> chunkIds) {
        Map<String, StoredChunk> out = new LinkedHashMap<>();
        String records = collections().records();
        for (List<String> page : pages(chunkIds)) {
            ObjectNode body = json.createObjectNode();
            ArrayNode idArray = body.putArray("ids");
            page.forEach(idArray::add);
            body.putArray("include").add("embeddings").add("documents").add("metadatas");
            JsonNode got = call(records, "get", body, List.of());
            for (int i = 0; i < got.path("ids").size(); i++) {
                String id = got.path("ids").get(i).asText();
                JsonNode meta = got.path("metadatas").path(i);
                float[] embedding = ChunkJson.floats(got.path("embeddings").path(i));
                JsonNode doc = got.path("documents").path(i);
                Long version = ChromaMetadata.version(meta);
                out.put(id, new StoredChunk(version == null ? 0 : version, new ChunkData(id,
                        meta.hasNonNull(ChromaMetadata.DOCUMENT_ID) ? meta.get(ChromaMetadata.DOCUMENT_ID).asText() : null,
                        doc.isTextual() ? doc.asText() : null,
                        embedding,
                        ChromaMetadata.userMetadata(meta, json),
                        meta.hasNonNull(ChromaMetadata.PRIVACY) ? Privacy.parse(meta.get(ChromaMetadata.PRIVACY).asText())
                                : Privacy.FULL)));
            }
        }
        return out;
    }

    /**
     * Pages of the records collection's ids by offset (Chroma's own order, stable while nothing is
     * written); the token is the next offset. Tombstones live in their own collection and are not listed.
     */
    @Override
    public IdPage listChunkIds(String pageToken, int limit) {
        int offset = pageToken == null ? 0 : Integer.parseInt(pageToken);
        int size = Math.min(limit, maxBatch);
        ObjectNode body = json.createObjectNode();
        body.put("limit", size);
        body.put("offset", offset);
        body.putArray("include");
        JsonNode got = call(collections().records(), "get", body, List.of());
        List<String> out = new java.util.ArrayList<>(size);
        got.path("ids").forEach(id -> out.add(id.asText()));
        return new IdPage(out, out.size() < size ? null : Integer.toString(offset + out.size()));
    }

    /** A local Chroma's cosine index hands vectors back renormalised, a few ulps off what was sent. */
    @Override
    public int embeddingUlpTolerance() {
        return 4;
    }

    @Override
    public Map<String, Long> readBackVersions(Collection<String> chunkIds) {
        Map<String, Long> out = new HashMap<>();
        String records = collections().records();
        for (List<String> page : pages(chunkIds)) {
            Map<String, Long> part = new HashMap<>();
            Set<String> present = new HashSet<>();
            versions(records, page, part, present);
            present.forEach(id -> out.put(id, part.getOrDefault(id, 0L)));
        }
        return out;
    }

    /** The distinct ids, in order, in requests of at most the server's batch size. */
    private List<List<String>> pages(Collection<String> chunkIds) {
        return Slices.of(List.copyOf(new java.util.LinkedHashSet<>(chunkIds)), maxBatch);
    }

    // --- collections -------------------------------------------------------------------------------------

    private Collections collections() {
        Collections c = ids;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            if (ids == null) {
                readMaxBatch();
                JsonNode records = getOrCreate(collection, distance);
                JsonNode tombstones = getOrCreate(collection + TOMBSTONES, "l2");
                String space = records.path("configuration_json").path("hnsw").path("space").asText(distance);
                if (!distance.equals(space)) {
                    log.warn("Backend '{}': collection '{}' exists with distance '{}', not the configured '{}';"
                            + " Chroma can't change it (re-create the collection to change it)", name, collection,
                            space, distance);
                }
                Integer dim = records.path("dimension").canConvertToInt() ? records.get("dimension").asInt() : null;
                if (dim != null && dim != dimension) {
                    log.warn("Backend '{}': collection '{}' holds embeddings of dimension {}, not {}", name,
                            collection, dim, dimension);
                }
                ids = new Collections(records.path("id").asText(), tombstones.path("id").asText(), dim);
            }
            return ids;
        }
    }

    private JsonNode getOrCreate(String collectionName, String space) {
        ObjectNode body = json.createObjectNode();
        body.put("name", collectionName);
        body.put("get_or_create", true);
        body.putObject("configuration").putObject("hnsw").put("space", space);
        JsonNode n = expect("POST", databasePath() + "collections", body, "create collection '" + collectionName + "'");
        if (!n.hasNonNull("id")) {
            throw new PermanentBackendException("backend '" + name + "': Chroma answered no collection id for '"
                    + collectionName + "'", null);
        }
        return n;
    }

    private void readMaxBatch() {
        HttpCalls.Reply r = http.call("GET", "api/v2/pre-flight-checks", null);
        int n = r.ok() ? r.json("Chroma pre-flight-checks").path("max_batch_size").asInt(0) : 0;
        if (n > 0) {
            maxBatch = n; // otherwise the default stays
        }
    }

    private String databasePath() {
        return "api/v2/tenants/" + TENANT + "/databases/" + DATABASE + "/";
    }

    // --- HTTP ----------------------------------------------------------------------------------------------

    /**
     * POSTs {@code body} to {@code collections/{id}/{operation}} and returns the answer's JSON; a failure is
     * thrown classified, with the refused change's index in {@code changes} when {@code positions} (the
     * batch index of each item of the request) lets it be told.
     */
    private JsonNode call(String collectionId, String operation, ObjectNode body, List<Integer> positions) {
        return expect("POST", databasePath() + "collections/" + collectionId + "/" + operation, body, operation,
                positions);
    }

    private JsonNode expect(String method, String path, JsonNode body, String what) {
        return expect(method, path, body, what, List.of());
    }

    /** The answer's JSON, or the failure: a 404 means the collection was dropped, a 409 is a name or id clash. */
    private JsonNode expect(String method, String path, JsonNode body, String what, List<Integer> positions) {
        HttpCalls.Reply r = http.call(method, path, body);
        if (r.ok()) {
            return r.json("Chroma " + what);
        }
        if (r.status() == 404) {
            ids = null; // the collection was dropped: get-or-create it again on the next call
            throw new TransientBackendException(http.says("Chroma " + what, r, describe(r.body())), null);
        }
        throw http.failure("Chroma " + what, r, failedIndex(r.body(), positions));
    }

    /** The refused change: the item Chroma names, or the only item of the request. */
    private static int failedIndex(JsonNode error, List<Integer> positions) {
        if (positions.size() == 1) {
            return positions.get(0);
        }
        Matcher m = ITEM.matcher(error.path("message").asText(""));
        if (m.find()) {
            try {
                int item = Integer.parseInt(m.group(1));
                if (item < positions.size()) {
                    return positions.get(item);
                }
            } catch (NumberFormatException tooLong) {
                // fall through: the relay splits the batch
            }
        }
        return -1;
    }

    /**
     * Chroma's error type and message, cut short, with quoted text left out: a message may quote a value
     * it could not read, and payload never goes into a log.
     */
    private static String describe(JsonNode error) {
        String type = error.path("error").asText("");
        String message = HttpCalls.scrub(error.path("message").asText(""));
        return type.isEmpty() && message.isEmpty() ? "" : "(" + type + (message.isEmpty() ? "" : ": " + message) + ")";
    }
}
