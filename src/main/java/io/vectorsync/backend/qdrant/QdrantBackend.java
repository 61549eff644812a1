package io.vectorsync.backend.qdrant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.ChunkJson;
import io.vectorsync.backend.HealthProbe;
import io.vectorsync.backend.HttpCalls;
import io.vectorsync.backend.HttpCalls.Reply;
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
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Qdrant backend, over Qdrant's REST API.
 *
 * <p><b>Points.</b> One point per chunk, id {@link PointIds#of(String) UUIDv5(chunk id)}, vector = the
 * embedding, payload {@code chunk_id}, {@code version}, {@code document_id}, {@code content} (when the
 * chunk has one), {@code metadata} (a JSON object) and {@code privacy}. An upsert replaces the whole
 * point ({@code PUT /collections/{c}/points?wait=true}, one request per batch and collection).
 *
 * <p><b>Version guard.</b> Every write carries a filter {@code should: [{must: [has_id [p], version < v]}, ...]},
 * one clause per point: as the upsert's {@code update_filter} (an existing point is replaced only when
 * its version is older, or the same for a repair's forced write, ADR 019; a point that doesn't exist is
 * inserted), as the selector of a hard delete and
 * as the filter of a soft delete's payload update. A delete also writes a <i>tombstone</i>: a one-dimension
 * point with the same id and payload {@code {chunk_id, version}} in the side collection
 * {@code <collection>-tombstones} (version-guarded the same way). Before an upsert the backend reads the
 * tombstones of the batch's chunks (one request) and drops upserts not newer than a tombstone, so a
 * delete followed by an older upsert stays deleted in both delete modes, even when the delete found no
 * point. After the upsert it reads them again and deletes what a delete overtook meanwhile, so a
 * former lease holder that stalled between the two can't resurrect a chunk: with the per-point guards
 * this makes lease fencing unnecessary. Tombstones are kept (one small point per deleted chunk, like
 * the relay's ledger) and stay harmless once a newer upsert re-creates the chunk.
 *
 * <p><b>Delete modes.</b> {@code hard} deletes the point; {@code soft} keeps it and sets payload
 * {@code deleted: true} and the delete's version (searches should filter {@code must_not deleted=true});
 * read-back never returns a soft-deleted point, and a newer upsert replaces it whole.
 *
 * <p><b>Collections.</b> {@code collection} (default: the backend's name) is created at bootstrap with
 * the embedding dimension and Cosine distance, plus payload indexes on {@code chunk_id} (keyword) and
 * {@code version} (integer). With {@code collection-by: <metadata key>} a chunk goes to
 * {@code <collection>_<value>} (the value lowercased, characters other than {@code a-z0-9_-} replaced by
 * {@code _}), created when the value first appears; chunks without the key go to {@code <collection>}.
 * A chunk whose value changes moves: the copy in its old collection is deleted, and an upsert older
 * than a copy in another collection is dropped (one read per owned collection and batch).
 *
 * <p><b>Owned collections (ADR-018).</b> Which value collections belong to the backend is data, never a
 * name prefix: one point per collection (payload {@code {collection}}) in the registry collection
 * {@code <collection>-collections}, registered before the collection is created. Every write, read-back
 * and listing re-reads the registry (one scroll), so a lease holder finds the collections a former
 * holder created, and another backend's collection that happens to be named {@code <collection>_x} is
 * never read, written or deleted from: a value whose collection name exists but isn't registered is
 * refused ({@code VSYNC-QDRANT-COLLECTION-TAKEN}). When the registry is first created, existing
 * {@code <collection>_*} collections without a {@code -tombstones} companion (value collections made
 * before the registry existed; another backend's main collection has one) are registered once.
 *
 * <p><b>Errors.</b> Connection refused or not opened: transient, unreachable. No answer within the read
 * timeout, 401/403 (a rotated api-key), 408, 429 and 5xx: transient, with Retry-After ({@link HttpCalls#classify}). A 404 for a missing collection or point on
 * delete or read: success / absent. Other 4xx: permanent; when the refused request held a single change
 * its index is {@code failedIndex}, otherwise the relay splits the batch. Embeddings of the wrong
 * dimension are refused before anything is sent, with the index of the change. Qdrant's
 * {@code status.error} text appears in messages with quoted strings removed, as it may quote payload.
 *
 * <p>Read-back does not return embeddings: with Cosine distance Qdrant stores the vector normalised to
 * unit length, not the one that was sent, so there is nothing exact to compare.
 */
public final class QdrantBackend implements ReadBack, HealthProbe {

    private static final Logger log = LoggerFactory.getLogger(QdrantBackend.class);
    static final String TOMBSTONES_SUFFIX = "-tombstones";
    static final String REGISTRY_SUFFIX = "-collections";
    private static final String NAME_RULE = "[A-Za-z0-9_-]{1,200}";

    enum DeleteMode { HARD, SOFT }

    private final String name;
    private final HttpCalls http;
    private final String collection;
    private final String tombstones;
    /** With collection-by: the collection listing the value collections the backend owns. */
    private final String registry;
    private final String collectionBy;
    private final DeleteMode deleteMode;
    private final int dimension;
    private final ObjectMapper json;
    private final Clock clock;
    /** Collections known to exist with their indexes. */
    private final Set<String> ready = ConcurrentHashMap.newKeySet();
    private volatile boolean prepared;
    /** The registry exists and the collections made before it were adopted (its marker point is written). */
    private volatile boolean adopted;

    public QdrantBackend(String name, VectorsyncProperties.Backend config, int dimension, ObjectMapper json,
            Clock clock) {
        String prefix = "vectorsync.backends." + name;
        this.name = name;
        BackendBlocks.Qdrant qdrant = config.qdrant();
        String u = HttpCalls.serverUrl(qdrant.url(), null, name + ".qdrant", "qdrant").toString();
        this.http = new HttpCalls(name, u.endsWith("/") ? u.substring(0, u.length() - 1) : u, config.connectTimeout(),
                config.readTimeout(), json, clock).withHeader("api-key", HttpCalls.optional(qdrant.apiKey()))
                .withErrorDetail(QdrantBackend::error);
        this.collection = qdrant.collection() == null || qdrant.collection().isBlank() ? name : qdrant.collection();
        if (!collection.matches(NAME_RULE)) {
            throw new IllegalStateException(prefix + ".qdrant.collection must be 1 to 200 letters, digits, '_' or '-',"
                    + " but was '" + collection + "'");
        }
        this.tombstones = collection + TOMBSTONES_SUFFIX;
        this.registry = collection + REGISTRY_SUFFIX;
        this.collectionBy = qdrant.collectionBy() == null || qdrant.collectionBy().isBlank()
                ? null : qdrant.collectionBy().trim();
        this.deleteMode = qdrant.deleteMode() == BackendBlocks.DeleteMode.SOFT ? DeleteMode.SOFT : DeleteMode.HARD;
        if (!config.fields().isEmpty() && !config.fields().contains("embedding")) {
            throw new IllegalStateException(prefix + ".fields must include embedding: a Qdrant point needs its vector");
        }
        this.dimension = dimension;
        this.json = json;
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    String collection() {
        return collection;
    }

    String tombstones() {
        return tombstones;
    }

    /** The collection a chunk with this metadata goes to. */
    String collectionOf(JsonNode metadata) {
        if (collectionBy == null || metadata == null) {
            return collection;
        }
        JsonNode v = metadata.get(collectionBy);
        if (v == null || !v.isValueNode() || v.isNull()) {
            return collection;
        }
        String s = v.asText().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_-]", "_");
        if (s.isEmpty()) {
            return collection;
        }
        return collection + "_" + (s.length() > 50 ? s.substring(0, 50) : s);
    }

    // ---------------------------------------------------------------- bootstrap

    /**
     * Creates the collection, the tombstone collection and the payload indexes when missing. A Qdrant that
     * can't be reached now doesn't stop the service: the same happens before the first write.
     */
    @Override
    public void bootstrap() {
        try {
            prepare(true);
        } catch (TransientBackendException e) {
            log.warn("Backend '{}': Qdrant at {} is not available at start-up ({}); collections are checked before"
                    + " the first write", name, http.base(), e.getMessage());
        }
    }

    private void prepare() {
        prepare(false);
    }

    /** @param startup a Qdrant that is too old stops the start-up; later it pauses the backend (transient) */
    private void prepare(boolean startup) {
        if (!prepared) {
            requireServerVersion(startup);
            ensure(tombstones, true);
            ensure(collection, false);
            prepared = true;
        }
        if (collectionBy != null && !adopted) {
            ensure(registry, true);
            // Adoption runs until its marker is written, so one interrupted by a failure or a stop runs again.
            if (!adoptionMarked()) {
                adoptUnregistered();
                markAdopted();
            }
            adopted = true;
        }
    }

    /** The registry's point saying the collections made before it were adopted (no {@code collection}). */
    private static final String ADOPTED_MARKER = "vectorsync:adopted";

    private boolean adoptionMarked() {
        ObjectNode body = json.createObjectNode();
        body.putArray("ids").add(PointIds.of(ADOPTED_MARKER).toString());
        body.put("with_payload", true);
        body.put("with_vector", false);
        return http.expect("POST", "/collections/" + registry + "/points", body,
                "reading the collection registry " + registry).path("result").size() > 0;
    }

    private void markAdopted() {
        putRegistryPoint(ADOPTED_MARKER, json.createObjectNode().put("adopted", true));
    }

    /** Writes one point of the registry (its vector is a placeholder of one dimension). */
    private void putRegistryPoint(String name, ObjectNode payload) {
        ObjectNode body = json.createObjectNode();
        ObjectNode p = body.putArray("points").addObject();
        p.put("id", PointIds.of(name).toString());
        p.putArray("vector").add(1.0f);
        p.set("payload", payload);
        write("PUT", registry, "/points?wait=true", body, List.of(), false);
    }

    /**
     * Registers the value collections made before the registry existed: {@code <collection>_*} collections
     * without a {@code -tombstones} companion (another backend's main collection has one). Runs once, when
     * the registry is created.
     */
    private void adoptUnregistered() {
        Set<String> names = new java.util.HashSet<>();
        http.expect("GET", "/collections", null, "listing collections").path("result").path("collections").forEach(c -> names.add(c.path("name").asText("")));
        // Another vectorsync backend's collections are never ours: its main collection (it has a tombstone
        // companion), its tombstones and registry, and every value collection its registry lists.
        Set<String> others = new java.util.HashSet<>();
        for (String n : names) {
            if (n.endsWith(REGISTRY_SUFFIX) && !n.equals(registry)) {
                others.addAll(registered(n));
            }
        }
        for (String n : names) {
            if (n.startsWith(collection + "_") && n.matches(NAME_RULE) && !n.endsWith(TOMBSTONES_SUFFIX)
                    && !n.endsWith(REGISTRY_SUFFIX) && !names.contains(n + TOMBSTONES_SUFFIX) && !others.contains(n)) {
                log.warn("Backend '{}': registering the existing collection '{}' as one of its value collections"
                        + " (made before the registry {} existed)", name, n, registry);
                register(n);
            }
        }
    }

    /**
     * The collections that hold the backend's chunks, read from the registry now (under the caller's lease):
     * {@code collection} and, with collection-by, every registered value collection.
     */
    private Set<String> owned() {
        Set<String> out = new java.util.TreeSet<>();
        out.add(collection);
        if (collectionBy == null) {
            return out;
        }
        out.addAll(registered(registry));
        return out;
    }

    /** The collections a registry lists (one scroll of its points). */
    private Set<String> registered(String reg) {
        Set<String> out = new java.util.TreeSet<>();
        String offset = null;
        do {
            ObjectNode body = json.createObjectNode();
            body.put("limit", MAX_POINTS_PER_REQUEST);
            body.put("with_payload", true);
            body.put("with_vector", false);
            if (offset != null) {
                body.put("offset", offset);
            }
            Reply r = http.call("POST", "/collections/" + reg + "/points/scroll", body);
            if (r.status() == 404 && reg.equals(registry)) {
                ready.remove(registry);
                adopted = false;
                throw new TransientBackendException("backend '" + name + "': the collection registry " + registry
                        + " does not exist; it is created again on the next attempt", null);
            }
            if (r.status() == 404) {
                return out; // another backend's registry, gone meanwhile
            }
            if (!r.ok()) {
                throw http.failure("reading the collection registry " + reg, r, -1);
            }
            for (JsonNode p : r.body().path("result").path("points")) {
                String c = p.path("payload").path("collection").asText("");
                if (c.matches(NAME_RULE)) {
                    out.add(c);
                }
            }
            JsonNode n = r.body().path("result").path("next_page_offset");
            offset = n.isNull() || n.isMissingNode() ? null : n.asText();
        } while (offset != null);
        return out;
    }

    /** Records {@code c} in the registry as one of the backend's collections (before it is created). */
    private void register(String c) {
        putRegistryPoint(c, json.createObjectNode().put("collection", c));
    }

    private void ensure(String c, boolean tombstone) {
        if (ready.contains(c)) {
            return;
        }
        if (!exists(c)) {
            ObjectNode create = json.createObjectNode();
            create.putObject("vectors").put("size", tombstone ? 1 : dimension).put("distance", "Cosine");
            Reply r = http.call("PUT", "/collections/" + c, create);
            if (!r.ok() && !exists(c)) { // another instance may have created it meanwhile
                throw http.failure("creating collection " + c, r, -1);
            }
            if (r.ok()) {
                log.info("Backend '{}': created Qdrant collection '{}' ({} dimensions, Cosine)", name, c,
                        tombstone ? 1 : dimension);
            }
        }
        if (!tombstone) {
            index(c, "chunk_id", "keyword");
            index(c, "version", "integer");
        }
        ready.add(c);
    }

    /**
     * Reads the server's version ({@code GET /}) and refuses a Qdrant older than {@link QdrantVersion#MINIMUM}:
     * the version guard needs {@code update_filter} on upserts, which older servers ignore or refuse.
     */
    private void requireServerVersion(boolean startup) {
        JsonNode root = http.expect("GET", "/", null, "reading the server version");
        String problem = QdrantVersion.problem(name, http.base(), root.path("version").asText(""));
        if (problem != null && startup) {
            throw new IllegalStateException(problem); // refuse to start: the version guard would not hold
        }
        if (problem != null) { // the backend pauses with this message and resumes once Qdrant is upgraded
            throw new TransientBackendException(problem, null, null, true);
        }
    }

    private boolean exists(String c) {
        return http.expect("GET", "/collections/" + c + "/exists", null, "checking collection " + c)
                .path("result").path("exists").asBoolean(false);
    }

    private void index(String c, String field, String type) {
        ObjectNode body = json.createObjectNode().put("field_name", field).put("field_schema", type);
        http.expect("PUT", "/collections/" + c + "/index?wait=true", body, "creating the " + field + " index of " + c);
    }

    // ---------------------------------------------------------------- writes

    /** Not fenced: Qdrant has no conditional write on another point; versions guard every point. */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (changes.isEmpty()) {
            return;
        }
        List<Integer> upserts = new ArrayList<>();
        List<Integer> deletes = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) {
            Change c = changes.get(i);
            if (c.op() == Change.Op.DELETE) {
                deletes.add(i);
            } else {
                check(c, i);
                upserts.add(i);
            }
        }
        prepare();
        Set<String> owned = owned();
        if (!upserts.isEmpty()) {
            upsert(changes, upserts, owned);
        }
        if (!deletes.isEmpty()) {
            delete(changes, deletes, owned);
        }
    }

    private void check(Change c, int i) {
        ChunkData d = c.data();
        if (d == null) {
            throw new PermanentBackendException("backend '" + name + "': change " + i
                    + " carries no data (a Qdrant backend does not copy rows from the primary)", null, i);
        }
        float[] e = d.embedding();
        if (e == null || e.length != dimension) {
            throw new PermanentBackendException("backend '" + name + "': chunk " + c.key() + " has "
                    + (e == null ? "no embedding" : "an embedding of " + e.length + " dimensions")
                    + ", the collection holds " + dimension, null, i);
        }
        for (float f : e) {
            if (!Float.isFinite(f)) {
                throw new PermanentBackendException("backend '" + name + "': chunk " + c.key()
                        + " has a non-finite embedding value", null, i);
            }
        }
    }

    private void upsert(List<Change> changes, List<Integer> upserts, Set<String> owned) {
        Map<String, Long> tomb = new HashMap<>();
        versions(tombstones, ids(changes, upserts)).forEach((id, held) -> tomb.put(id, held.version()));
        Map<String, List<Integer>> byCollection = new LinkedHashMap<>();
        Map<Integer, ObjectNode> payloads = new HashMap<>();
        for (int i : upserts) {
            Change c = changes.get(i);
            String id = PointIds.of(c.key()).toString();
            Long deletedAt = tomb.get(id);
            if (deletedAt != null && notBelow(deletedAt, c)) {
                log.debug("Backend '{}': {} v{} is not newer than its delete (v{}); skipped", name, c.key(),
                        c.version(), deletedAt);
                continue;
            }
            ObjectNode payload = payload(c);
            payloads.put(i, payload);
            byCollection.computeIfAbsent(collectionOf(payload.get("metadata")), k -> new ArrayList<>()).add(i);
        }
        // A value collection not registered yet: register it, unless the name is taken by a collection that
        // isn't ours (another backend's), which is never written.
        for (Map.Entry<String, List<Integer>> e : byCollection.entrySet()) {
            String target = e.getKey();
            if (!e.getValue().isEmpty() && !owned.contains(target)) {
                if (exists(target)) {
                    int first = e.getValue().get(0);
                    throw new PermanentBackendException("VSYNC-QDRANT-COLLECTION-TAKEN: backend '" + name + "': chunk "
                            + changes.get(first).key() + " belongs in collection " + target + ", which exists but is"
                            + " not one of this backend's (another backend's collection?); rename one of them or"
                            + " register it in " + registry, null, first);
                }
                register(target);
                owned.add(target);
            }
        }
        // With collection-by a chunk may sit in another collection: drop older upserts, move newer ones.
        Map<String, Map<String, Long>> elsewhere = new HashMap<>(); // collection -> point id -> version
        if (collectionBy != null && !payloads.isEmpty()) {
            List<String> all = new ArrayList<>();
            payloads.keySet().forEach(i -> all.add(PointIds.of(changes.get(i).key()).toString()));
            for (String m : owned) {
                Map<String, Long> held = new HashMap<>();
                versions(m, all).forEach((id, h) -> held.put(id, h.version()));
                if (!held.isEmpty()) {
                    elsewhere.put(m, held);
                }
            }
            byCollection.forEach((target, list) -> list.removeIf(i -> {
                String id = PointIds.of(changes.get(i).key()).toString();
                return elsewhere.entrySet().stream().anyMatch(e -> !e.getKey().equals(target)
                        && notBelow(e.getValue().getOrDefault(id, Long.MIN_VALUE), changes.get(i)));
            }));
        }
        for (Map.Entry<String, List<Integer>> e : byCollection.entrySet()) {
            if (!e.getValue().isEmpty()) {
                ensure(e.getKey(), false);
            }
            for (List<Integer> part : partition(e.getValue())) {
                upsertInto(e.getKey(), part, changes, payloads, elsewhere);
            }
        }
        // A delete may have landed between the first read and the write (another instance took the
        // lease while this one stalled): read the tombstones again and undo what a delete overtook.
        List<Integer> written = new ArrayList<>(payloads.keySet());
        Map<String, Held> after = versions(tombstones, ids(changes, written));
        List<Guard> overtaken = new ArrayList<>();
        for (int i : written) {
            String id = PointIds.of(changes.get(i).key()).toString();
            Held t = after.get(id);
            if (t != null && notBelow(t.version(), changes.get(i))) {
                overtaken.add(new Guard(id, t.version()));
            }
        }
        if (!overtaken.isEmpty()) {
            log.info("Backend '{}': {} upsert(s) overtaken by a concurrent delete; deleted again", name, overtaken.size());
            remove(overtaken, true, List.of(), owned);
        }
    }

    /** Requests carry at most this many points (Qdrant refuses bodies over 32 MB by default). */
    static final int MAX_POINTS_PER_REQUEST = 256;

    private static List<List<Integer>> partition(List<Integer> all) {
        return Slices.of(all, MAX_POINTS_PER_REQUEST);
    }

    private void upsertInto(String target, List<Integer> list, List<Change> changes, Map<Integer, ObjectNode> payloads,
            Map<String, Map<String, Long>> elsewhere) {
        ObjectNode body = json.createObjectNode();
        ArrayNode points = body.putArray("points");
        List<Guard> guards = new ArrayList<>();
        for (int i : list) {
            Change c = changes.get(i);
            String id = PointIds.of(c.key()).toString();
            ObjectNode p = points.addObject();
            ChunkJson.putFloats(p.put("id", id), "vector", c.data().embedding());
            p.set("payload", payloads.get(i));
            guards.add(new Guard(id, c.version(), c.overwriteEqual()));
        }
        body.set("update_filter", guard(guards));
        write("PUT", target, "/points?wait=true", body, list, false);
        // Moves: remove older copies the chunk left in other collections.
        for (Map.Entry<String, Map<String, Long>> held : elsewhere.entrySet()) {
            if (held.getKey().equals(target)) {
                continue;
            }
            List<Guard> stale = new ArrayList<>();
            for (int i : list) {
                String id = PointIds.of(changes.get(i).key()).toString();
                if (held.getValue().containsKey(id)) {
                    stale.add(new Guard(id, changes.get(i).version(), changes.get(i).overwriteEqual()));
                }
            }
            if (!stale.isEmpty()) {
                ObjectNode del = json.createObjectNode();
                del.set("filter", guard(stale));
                write("POST", held.getKey(), "/points/delete?wait=true", del, List.of(), true);
            }
        }
    }

    private ObjectNode payload(Change c) {
        ChunkData d = c.data();
        ObjectNode p = json.createObjectNode();
        ChunkJson.putStoredText(p.put("chunk_id", c.key()).put("version", c.version()), d);
        JsonNode metadata = null;
        if (d.metadataJson() != null) {
            try {
                metadata = json.readTree(d.metadataJson());
            } catch (IOException | RuntimeException unreadable) {
                metadata = null;
            }
        }
        p.set("metadata", metadata != null && metadata.isObject() ? metadata : json.createObjectNode());
        p.put("privacy", d.privacy().name());
        return p;
    }

    private void delete(List<Change> changes, List<Integer> all, Set<String> owned) {
        ensure(tombstones, true);
        for (List<Integer> part : partition(all)) {
            deletePart(changes, part, owned);
        }
    }

    private void deletePart(List<Change> changes, List<Integer> deletes, Set<String> owned) {
        List<Guard> guards = new ArrayList<>();
        ObjectNode marks = json.createObjectNode();
        ArrayNode points = marks.putArray("points");
        for (int i : deletes) {
            Change c = changes.get(i);
            String id = PointIds.of(c.key()).toString();
            guards.add(new Guard(id, c.version(), c.overwriteEqual()));
            ObjectNode p = points.addObject();
            p.put("id", id);
            p.putArray("vector").add(1.0f);
            p.putObject("payload").put("chunk_id", c.key()).put("version", c.version());
        }
        marks.set("update_filter", guard(guards));
        // The tombstone first: if the process stops between the two writes, the retry finishes the delete.
        write("PUT", tombstones, "/points?wait=true", marks, deletes, false);
        remove(guards, false, deletes, owned);
    }

    /**
     * Deletes (hard) or marks deleted (soft) the points of {@code deletes} in every collection that may hold
     * them, each only while its version is older than the delete's (or equal, when {@code orEqual}).
     */
    private void remove(List<Guard> deletes, boolean orEqual, List<Integer> indexes, Set<String> owned) {
        for (String m : owned) {
            ObjectNode body = json.createObjectNode();
            if (deleteMode == DeleteMode.HARD) {
                body.set("filter", guard(deletes, orEqual));
                write("POST", m, "/points/delete?wait=true", body, indexes, true);
            } else {
                ArrayNode ops = body.putArray("operations");
                for (Guard g : deletes) {
                    ObjectNode set = ops.addObject().putObject("set_payload");
                    set.putObject("payload").put("deleted", true).put("version", g.version());
                    set.set("filter", guard(List.of(g), orEqual));
                }
                write("POST", m, "/points/batch?wait=true", body, indexes, true);
            }
        }
    }

    /** A point's guard: older than {@code version}, or equal too for a repair's forced write (ADR 019). */
    private record Guard(String pointId, long version, boolean orEqual) {

        Guard(String pointId, long version) {
            this(pointId, version, false);
        }
    }

    /** True when {@code held} keeps the change out: newer, or the same version unless the change is forced. */
    private static boolean notBelow(long held, Change c) {
        return held > c.version() || (held == c.version() && !c.overwriteEqual());
    }

    /** {@code should: [{must: [{has_id: [id]}, {key: version, range: {lt: v}}]}, ...]}. */
    private ObjectNode guard(List<Guard> guards) {
        return guard(guards, false);
    }

    private ObjectNode guard(List<Guard> guards, boolean orEqual) {
        ObjectNode filter = json.createObjectNode();
        ArrayNode should = filter.putArray("should");
        for (Guard g : guards) {
            ArrayNode must = should.addObject().putArray("must");
            must.addObject().putArray("has_id").add(g.pointId());
            must.addObject().put("key", "version").putObject("range")
                    .put(orEqual || g.orEqual() ? "lte" : "lt", g.version());
        }
        return filter;
    }

    /**
     * One write to collection {@code c}; {@code indexes} are the changes it carries (for failedIndex). A
     * missing collection is success when {@code missingIsDone} (a delete), otherwise it is forgotten so
     * the next attempt re-creates it.
     */
    private void write(String method, String c, String path, JsonNode body, List<Integer> indexes,
            boolean missingIsDone) {
        Reply r = http.call(method, "/collections/" + c + path, body);
        if (r.status() == 404) {
            if (missingIsDone) {
                return;
            }
            ready.remove(c);
            throw new TransientBackendException("backend '" + name + "': collection " + c
                    + " does not exist; it is created again on the next attempt", null);
        }
        if (!r.ok()) {
            throw http.failure(method + " /collections/" + c + path, r, indexes.size() == 1 ? indexes.get(0) : -1);
        }
        JsonNode result = r.body().path("result"); // one operation's status, or a batch's list of them
        for (JsonNode one : result.isArray() ? result : List.of(result)) {
            String status = one.path("status").asText("");
            if (!"completed".equals(status)) {
                throw new TransientBackendException("backend '" + name + "': Qdrant did not confirm the write to " + c
                        + " (status '" + status + "')", null);
            }
        }
    }

    // ---------------------------------------------------------------- reads

    private record Held(long version, JsonNode payload) {}

    private List<String> ids(List<Change> changes, List<Integer> indexes) {
        List<String> out = new ArrayList<>();
        indexes.forEach(i -> out.add(PointIds.of(changes.get(i).key()).toString()));
        return out;
    }

    /** Point id to version and payload of the points {@code c} holds among {@code ids} (soft-deleted included). */
    private Map<String, Held> versions(String c, List<String> ids) {
        Map<String, Held> out = new HashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        ObjectNode body = json.createObjectNode();
        ArrayNode a = body.putArray("ids");
        ids.forEach(a::add);
        body.put("with_payload", true);
        body.put("with_vector", false);
        for (JsonNode rec : http.expectHeld("POST", "/collections/" + c + "/points", body, "reading points of " + c)
                .path("result")) {
            JsonNode payload = rec.path("payload");
            if (payload.path("version").canConvertToLong()) {
                out.put(rec.path("id").asText(), new Held(payload.path("version").asLong(), payload));
            }
        }
        return out;
    }

    /**
     * Pages of the chunk ids held, by Qdrant's {@code scroll} in point-id order, one collection after the
     * other in name order (with {@code collection-by}, the owned ones as the registry lists them now);
     * soft-deleted points are left out. The token is {@code <collection>|<next point id>}.
     */
    @Override
    public IdPage listChunkIds(String pageToken, int limit) {
        prepare();
        Set<String> owned = owned();
        List<String> all = List.copyOf(owned);
        int index = 0;
        String offset = null;
        if (pageToken != null) {
            int bar = pageToken.indexOf('|');
            String at = pageToken.substring(0, bar);
            offset = bar + 1 < pageToken.length() ? pageToken.substring(bar + 1) : null;
            index = all.indexOf(at);
            if (index < 0) { // not listed any more: go on with the next one in name order
                index = (int) all.stream().filter(c -> c.compareTo(at) < 0).count();
                offset = null;
            }
        }
        if (index >= all.size()) {
            return new IdPage(List.of(), null);
        }
        ObjectNode body = json.createObjectNode();
        body.put("limit", limit);
        body.putArray("with_payload").add("chunk_id").add("deleted");
        body.put("with_vector", false);
        if (offset != null) {
            body.put("offset", offset);
        }
        JsonNode result = http.expectHeld("POST", "/collections/" + all.get(index) + "/points/scroll", body,
                "listing points of " + all.get(index)).path("result");
        List<String> ids = new java.util.ArrayList<>(limit);
        for (JsonNode p : result.path("points")) {
            JsonNode payload = p.path("payload");
            if (!payload.path("deleted").asBoolean(false) && payload.hasNonNull("chunk_id")) {
                ids.add(payload.get("chunk_id").asText());
            }
        }
        JsonNode n = result.path("next_page_offset");
        String next = n.isNull() || n.isMissingNode() ? null : n.asText();
        String token = next != null ? all.get(index) + "|" + next
                : index + 1 < all.size() ? all.get(index + 1) + "|" : null;
        return new IdPage(ids, token);
    }

    /** The read-back carries no vectors (they are not read back from Qdrant), so verify doesn't compare them. */
    @Override
    public java.util.Set<String> readBackFields() {
        return java.util.Set.of("documentId", "content", "metadata", "privacy");
    }

    @Override
    public Map<String, StoredChunk> readBack(Collection<String> chunkIds) {
        Map<String, StoredChunk> out = new HashMap<>();
        if (chunkIds.isEmpty()) {
            return out;
        }
        prepare();
        Map<String, String> byPoint = new HashMap<>();
        chunkIds.forEach(id -> byPoint.put(PointIds.of(id).toString(), id));
        Map<String, Held> newest = new HashMap<>();
        for (String c : owned()) {
            versions(c, List.copyOf(byPoint.keySet())).forEach((id, h) -> newest.merge(id, h,
                    (x, y) -> x.version() >= y.version() ? x : y));
        }
        newest.forEach((id, h) -> {
            JsonNode p = h.payload();
            String chunkId = byPoint.get(id);
            if (chunkId == null || p.path("deleted").asBoolean(false)) {
                return;
            }
            out.put(chunkId, new StoredChunk(h.version(), new ChunkData(chunkId, text(p, "document_id"),
                    text(p, "content"), null, p.has("metadata") ? p.get("metadata").toString() : null,
                    Privacy.parse(text(p, "privacy")))));
        });
        return out;
    }

    private static String text(JsonNode p, String field) {
        return p.hasNonNull(field) ? p.get(field).asText() : null;
    }

    @Override
    public Optional<String> healthProblem() {
        return http.probe("/collections/" + collection + "/exists", answer -> answer.path("result").path("exists")
                .asBoolean(false) ? Optional.empty() : Optional.of("collection " + collection + " does not exist"));
    }

    // ---------------------------------------------------------------- HTTP

    /** Qdrant's {@code status.error}, without quoted strings (they may quote payload), at most 200 characters. */
    private static String error(Reply r) {
        JsonNode e = r.body().path("status").path("error");
        return e.isTextual() ? "(" + HttpCalls.scrub(e.asText()) + ")" : "";
    }
}
