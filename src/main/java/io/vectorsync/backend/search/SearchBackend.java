package io.vectorsync.backend.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vectorsync.backend.ChunkJson;
import io.vectorsync.backend.HealthProbe;
import io.vectorsync.backend.HttpCalls;
import io.vectorsync.backend.HttpCalls.Reply;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Privacy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenSearch or Elasticsearch index as a backend, over the REST API ({@code java.net.http} and
 * Jackson). One document per chunk, {@code _id} = chunk id, written with {@code _bulk} and
 * {@code version_type=external}: the server itself refuses a version that is not newer than the one it
 * holds (409 {@code version_conflict_engine_exception}, counted as already applied); a repair's forced write
 * uses {@code external_gte}, which also replaces the same version.
 *
 * <p>A DELETE is written as a <em>tombstone</em>: the document is replaced (at the delete's version) by
 * {@code {"chunk_id", "deleted": true}} without vector, content, document id or metadata, so no kNN or
 * text query can find it. A real delete would keep its version only for {@code index.gc_deletes} (60 s)
 * and only in the node's memory, after which a late, older upsert would bring the chunk back; the
 * tombstone keeps the version for good, across restarts. {@link #readBack} treats a tombstone as absent.
 *
 * <p>Errors: connection refused or connect timeout are transient and unreachable; read timeouts, 429,
 * 5xx (whole request or an item) are transient, with {@code Retry-After}; 401/403 are transient too
 * (credentials are an operator's fix, not a reason to park events), as {@link HttpCalls#classify} says
 * for every HTTP backend; an item's other 4xx (such as
 * {@code mapper_parsing_exception}) is permanent and names the first such item. Error reasons are never
 * copied into messages: the server quotes field values in them.
 */
public final class SearchBackend implements ReadBack, HealthProbe {

    /** Which server: the vector field type and index settings differ. */
    public enum Flavor {
        OPENSEARCH("opensearch"),
        ELASTICSEARCH("elasticsearch");

        final String type;

        Flavor(String type) {
            this.type = type;
        }
    }

    static final String DELETED = "deleted";
    private static final Logger log = LoggerFactory.getLogger(SearchBackend.class);

    private final String name;
    private final Flavor flavor;
    private final URI base;
    private final String index;
    private final int dimension;
    private final String authorization;
    private final HttpCalls http;
    private final ObjectMapper json;
    private final ObjectWriter line;
    private final Clock clock;
    private volatile boolean indexReady;

    public SearchBackend(String name, Flavor flavor, VectorsyncProperties.Backend config, int dimension,
            ObjectMapper json, Clock clock) {
        this.name = name;
        this.flavor = flavor;
        String prefix = "vectorsync.backends." + name + ".search.";
        BackendBlocks.Search search = config.search();
        String url = HttpCalls.serverUrl(search.url(), null, name + ".search", flavor.type).toString();
        this.base = URI.create(url.endsWith("/") ? url : url + "/");
        this.index = search.index() == null || search.index().isBlank() ? name : search.index().trim();
        if (!index.matches("[a-z0-9][a-z0-9._-]{0,254}")) {
            throw new IllegalStateException(prefix + "index must be an index name: lowercase letters, digits,"
                    + " '.', '_' and '-', not starting with '.', '_' or '-', but was '" + index + "'");
        }
        boolean basic = search.username() != null && !search.username().isBlank();
        boolean apiKey = search.apiKey() != null && !search.apiKey().isBlank();
        if (basic && apiKey) {
            throw new IllegalStateException(prefix + "api-key and username/password exclude each other: set one");
        }
        if (apiKey) {
            this.authorization = "ApiKey " + search.apiKey().trim();
        } else if (basic) {
            String pair = search.username() + ":" + (search.password() == null ? "" : search.password());
            this.authorization = "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
        } else {
            this.authorization = null;
        }
        this.dimension = dimension;
        this.http = new HttpCalls(name, base.toString(), config.connectTimeout(), config.readTimeout(), json, clock)
                .withHeader("Authorization", authorization).withErrorDetail(SearchBackend::errorType);
        this.json = json;
        this.line = json.writer().without(SerializationFeature.INDENT_OUTPUT);
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    String index() {
        return index;
    }

    Flavor flavor() {
        return flavor;
    }

    /**
     * Creates the index when it is missing. When the server can't be reached it logs and returns: the
     * first {@link #apply} creates the index then (never letting a bulk write auto-create it with dynamic
     * mappings).
     */
    @Override
    public void bootstrap() {
        try {
            ensureIndex();
        } catch (TransientBackendException e) {
            log.warn("Backend '{}': index '{}' not checked yet ({}); the first write will create it if missing",
                    name, index, e.getMessage());
        }
    }

    private void ensureIndex() {
        if (indexReady) {
            return;
        }
        Reply mapping = http.call("GET", index + "/_mapping", null);
        if (mapping.status() == 200) {
            checkDimension(mapping.body());
            indexReady = true;
            return;
        }
        if (mapping.status() != 404) {
            throw refusal("checking index '" + index + "'", mapping);
        }
        Reply created = http.call("PUT", index, indexDefinition());
        if (created.ok()) {
            log.info("Backend '{}': created {} index '{}' ({} dimensions, cosine)", name, flavor.type, index, dimension);
            indexReady = true;
            return;
        }
        if (created.status() == 400 && "resource_already_exists_exception".equals(errorType(created))) {
            indexReady = true; // another instance created it meanwhile
            return;
        }
        throw refusal("creating index '" + index + "'", created);
    }

    /** A transient failure as such, any other answer as a configuration problem (not the events' fault). */
    private RuntimeException refusal(String what, Reply r) {
        RuntimeException e = http.failure(what, r, -1);
        return e instanceof TransientBackendException ? e : new IllegalStateException(e.getMessage());
    }

    /** Settings and mappings of a new index: the vector field, keywords, text and an opaque metadata object. */
    ObjectNode indexDefinition() {
        ObjectNode root = json.createObjectNode();
        if (flavor == Flavor.OPENSEARCH) {
            root.putObject("settings").putObject("index").put("knn", true);
        }
        ObjectNode mappings = root.putObject("mappings");
        mappings.put("dynamic", "strict");
        ObjectNode p = mappings.putObject("properties");
        p.putObject("chunk_id").put("type", "keyword");
        p.putObject("document_id").put("type", "keyword");
        p.putObject("content").put("type", "text");
        p.putObject("privacy").put("type", "keyword");
        p.putObject(DELETED).put("type", "boolean");
        // Kept in _source as sent, not indexed: arbitrary keys can't clash in the mapping and park events.
        p.putObject("metadata").put("type", "object").put("enabled", false);
        ObjectNode embedding = p.putObject("embedding");
        if (flavor == Flavor.OPENSEARCH) {
            embedding.put("type", "knn_vector").put("dimension", dimension);
            embedding.putObject("method").put("name", "hnsw").put("engine", "lucene").put("space_type", "cosinesimil");
        } else {
            embedding.put("type", "dense_vector").put("dims", dimension).put("index", true).put("similarity", "cosine");
        }
        return root;
    }

    /** Checks the mapping (keyed by the concrete index: the collection may be an alias); one not JSON is not checked. */
    private void checkDimension(JsonNode root) {
        JsonNode first = root.elements().hasNext() ? root.elements().next() : root;
        JsonNode e = first.path("mappings").path("properties").path("embedding");
        JsonNode dims = flavor == Flavor.OPENSEARCH ? e.path("dimension") : e.path("dims");
        if (dims.canConvertToInt() && dims.asInt() != dimension) {
            throw new IllegalStateException("backend '" + name + "': index '" + index + "' has " + dims.asInt()
                    + "-dimension embeddings but vectorsync.embedding-dimension is " + dimension);
        }
    }

    /** Not fenced: a bulk write can't be made conditional on a fence; versions guard every document. */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (changes.isEmpty()) {
            return;
        }
        try {
            ensureIndex();
        } catch (IllegalStateException misconfigured) {
            log.error("Backend '{}': {}", name, misconfigured.getMessage());
            throw new TransientBackendException("backend '" + name + "': index '" + index + "' is not usable", misconfigured);
        }
        Reply response = http.call("POST", index + "/_bulk", bulkBody(changes), "application/x-ndjson", Map.of());
        if (response.status() != 200) {
            throw http.failure("bulk write of " + changes.size(), response, -1);
        }
        JsonNode root = response.json("bulk write of " + changes.size());
        if (!root.path("errors").asBoolean(false)) {
            return;
        }
        classifyItems(changes, root.path("items"));
    }

    /**
     * Throws for the items the server refused: the first permanent one names its index (the relay parks
     * it and re-sends the rest, which the server then counts as already applied); otherwise a transient
     * one makes the whole batch wait. Version conflicts alone (already applied) are success.
     */
    private void classifyItems(List<Change> changes, JsonNode items) {
        String transientItem = null;
        for (int i = 0; i < items.size() && i < changes.size(); i++) {
            JsonNode result = items.get(i).elements().hasNext() ? items.get(i).elements().next() : null;
            if (result == null) {
                continue;
            }
            int s = result.path("status").asInt(0);
            String type = result.path("error").path("type").asText("");
            HttpCalls.Verdict verdict = HttpCalls.classify(s);
            if (verdict == HttpCalls.Verdict.APPLIED || verdict == HttpCalls.Verdict.ALREADY_APPLIED
                    || (s == 404 && !result.has("error"))) {
                continue; // applied, already applied (a version as new or newer is there), or a missing id deleted
            }
            String what = "item " + i + " (" + changes.get(i).key() + ") HTTP " + s + (type.isEmpty() ? "" : " " + type);
            if (verdict == HttpCalls.Verdict.TRANSIENT || verdict == HttpCalls.Verdict.CREDENTIALS || s == 0
                    || "index_not_found_exception".equals(type)) {
                if ("index_not_found_exception".equals(type)) {
                    indexReady = false; // dropped under us: recreate it before the retry
                }
                transientItem = transientItem == null ? what : transientItem;
                continue;
            }
            throw new PermanentBackendException("backend '" + name + "': " + what, null, i);
        }
        if (transientItem != null) {
            throw new TransientBackendException("backend '" + name + "': " + transientItem, null);
        }
        if (items.size() != changes.size()) {
            throw new TransientBackendException("backend '" + name + "': bulk answer has " + items.size()
                    + " items for " + changes.size() + " changes", null);
        }
    }

    private byte[] bulkBody(List<Change> changes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(changes.size() * 256);
        try {
            for (Change c : changes) {
                ObjectNode action = json.createObjectNode();
                // A repair's forced write (ADR 019) replaces a document at the same version too.
                action.putObject("index").put("_id", c.key()).put("version", c.version())
                        .put("version_type", c.overwriteEqual() ? "external_gte" : "external");
                out.write(line.writeValueAsBytes(action));
                out.write('\n');
                out.write(line.writeValueAsBytes(c.op() == Change.Op.DELETE ? tombstone(c.key()) : document(c.data())));
                out.write('\n');
            }
        } catch (IOException e) {
            throw new PermanentBackendException("backend '" + name + "': cannot serialise the batch", e);
        }
        return out.toByteArray();
    }

    private ObjectNode tombstone(String chunkId) {
        ObjectNode o = json.createObjectNode();
        o.put("chunk_id", chunkId);
        o.put(DELETED, true);
        return o;
    }

    private ObjectNode document(ChunkData d) {
        if (d == null) {
            throw new PermanentBackendException("backend '" + name + "': an upsert without data (a copy from the"
                    + " primary) can't be written to an " + flavor.type + " index", null);
        }
        ObjectNode o = json.createObjectNode();
        ChunkJson.putStoredText(o.put("chunk_id", d.chunkId()), d);
        if (d.embedding() != null) {
            ChunkJson.putFloats(o, "embedding", d.embedding());
        }
        if (d.metadataJson() != null) {
            try {
                JsonNode m = json.readTree(d.metadataJson());
                if (m != null && m.isObject()) {
                    o.set("metadata", m);
                }
            } catch (IOException unreadable) {
                o.putObject("metadata");
            }
        }
        o.put("privacy", d.privacy().name());
        return o;
    }

    @Override
    public Map<String, StoredChunk> readBack(Collection<String> chunkIds) {
        Map<String, StoredChunk> out = new HashMap<>();
        for (JsonNode doc : mget(chunkIds, null)) {
            JsonNode src = doc.path("_source");
            String id = doc.path("_id").asText();
            out.put(id, new StoredChunk(doc.path("_version").asLong(), new ChunkData(id, text(src, "document_id"),
                    text(src, "content"), ChunkJson.floats(src.path("embedding")),
                    src.hasNonNull("metadata") ? src.get("metadata").toString() : null,
                    Privacy.parse(text(src, "privacy")))));
        }
        return out;
    }

    /**
     * Pages of live documents sorted by the {@code chunk_id} keyword with {@code search_after} (the token
     * is the last id); tombstones are left out. A search sees what the last refresh made visible (about a
     * second behind the writes).
     */
    @Override
    public IdPage listChunkIds(String pageToken, int limit) {
        ObjectNode body = json.createObjectNode();
        body.put("size", limit);
        body.put("_source", false);
        body.putArray("sort").addObject().put("chunk_id", "asc");
        body.putObject("query").putObject("bool").putArray("must_not").addObject().putObject("term").put(DELETED, true);
        body.putArray("docvalue_fields").add("chunk_id");
        if (pageToken != null) {
            body.putArray("search_after").add(pageToken);
        }
        JsonNode answer = http.expectHeld("POST", index + "/_search", body, "listing ids");
        List<String> ids = new java.util.ArrayList<>(limit);
        for (JsonNode hit : answer.path("hits").path("hits")) {
            ids.add(hit.path("sort").path(0).asText());
        }
        return new IdPage(ids, ids.size() < limit ? null : ids.get(ids.size() - 1));
    }

    @Override
    public Map<String, Long> readBackVersions(Collection<String> chunkIds) {
        Map<String, Long> out = new HashMap<>();
        for (JsonNode doc : mget(chunkIds, DELETED)) {
            out.put(doc.path("_id").asText(), doc.path("_version").asLong());
        }
        return out;
    }

    /** Realtime GET of the live (found, not tombstoned) documents; {@code sourceIncludes} narrows _source. */
    private List<JsonNode> mget(Collection<String> chunkIds, String sourceIncludes) {
        if (chunkIds.isEmpty()) {
            return List.of();
        }
        ObjectNode body = json.createObjectNode();
        ArrayNode ids = body.putArray("ids");
        chunkIds.forEach(ids::add);
        String path = index + "/_mget" + (sourceIncludes == null ? "" : "?_source_includes=" + sourceIncludes);
        List<JsonNode> live = new java.util.ArrayList<>();
        for (JsonNode doc : http.expectHeld("POST", path, body, "read-back").path("docs")) {
            if (doc.path("found").asBoolean(false) && !doc.path("_source").path(DELETED).asBoolean(false)) {
                live.add(doc);
            }
        }
        return live;
    }

    @Override
    public Optional<String> healthProblem() {
        return http.probe("_cluster/health/" + index + "?timeout=1s",
                health -> "red".equals(health.path("status").asText("")) ? Optional.of("index '" + index + "' is red")
                        : Optional.empty());
    }

    private static String text(JsonNode o, String field) {
        return o.hasNonNull(field) ? o.get(field).asText() : null;
    }

    private static String errorType(Reply r) {
        JsonNode type = r.body().path("error").path("type");
        return type.isTextual() ? type.asText().toLowerCase(Locale.ROOT) : "";
    }
}
