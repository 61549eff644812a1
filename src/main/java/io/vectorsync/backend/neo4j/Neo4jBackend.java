package io.vectorsync.backend.neo4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.ChangesDeferredException;
import io.vectorsync.backend.HealthProbe;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.LinkStore;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.Privacy;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.neo4j.driver.AuthToken;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Record;
import org.neo4j.driver.Session;
import org.neo4j.driver.TransactionConfig;
import org.neo4j.driver.TransactionContext;
import org.neo4j.driver.Value;
import org.neo4j.driver.exceptions.ClientException;
import org.neo4j.driver.exceptions.ConnectionReadTimeoutException;
import org.neo4j.driver.exceptions.FatalDiscoveryException;
import org.neo4j.driver.exceptions.Neo4jException;
import org.neo4j.driver.exceptions.SecurityException;
import org.neo4j.driver.exceptions.ServiceUnavailableException;
import org.neo4j.driver.exceptions.SessionExpiredException;
import org.neo4j.driver.exceptions.TransactionTerminatedException;
import org.neo4j.driver.exceptions.TransientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Neo4j backend: chunks are nodes labelled {@code collection} (default {@code Chunk}) keyed by a
 * unique {@code memory_id}, written over Bolt with the official driver, one transaction per batch.
 *
 * <p>Versions are guarded in the statements: an UPSERT replaces the node's properties in full
 * ({@code SET n = row}) only when the node has no version or an older one (the same one too for a repair's
 * forced write, ADR 019) and no newer tombstone; a
 * DELETE removes the node with its relationships ({@code DETACH DELETE}) and leaves a tombstone node
 * ({@code VectorsyncTombstone_<label> {memory_id, version}}) so that an older upsert arriving later stays
 * deleted. The embedding is a float list property, the metadata a JSON string property.
 *
 * <p>Relationships (LINK events, ADR-008): {@code (from)-[:TYPE {version, ...properties}]->(to)} between
 * nodes of the label; missing endpoints are created with just their {@code memory_id} (such a <i>stub</i>
 * holds no version, reads back as absent until its chunk arrives, and is listed for verify, which reports
 * it as extra). A LINK replaces the relationship's properties when its version is newer; an UNLINK removes
 * that one relationship and leaves a tombstone under the edge key ({@link Link#key()}, which never equals
 * a chunk id). A stub left without relationships (by an UNLINK or its neighbour's DELETE) is removed.
 * Verify reads edges back by edge key and lists them in (from, type, to) order ({@link LinkStore}).
 *
 * <p>A LINK never creates an endpoint that has a tombstone: the other changes of the call are written
 * and the LINK is reported with {@link ChangesDeferredException} (the relay parks it as transient until
 * the chunk exists again, or its attempts are spent).
 *
 * <p>Batches (ADR-018): the relay hands one change per key, each with its batch position and the older
 * changes of its key; they are replayed in event order in the batch's one transaction, so a batch ends
 * as its events delivered one by one would (a DELETE between two UPSERTs removes the chunk's edges, a
 * LINK sees its endpoints as they were at its position), whatever the batch cuts.
 *
 * <p>Errors: unreachable server ({@link ServiceUnavailableException}), refused credentials and unknown
 * database are transient and unreachable; transient server errors, expired sessions, timeouts and
 * database errors are transient; any other refusal ({@link ClientException}) is permanent, naming the
 * change when the batch had one. Messages carry the server's status code, never its text (which may
 * echo values).
 */
public final class Neo4jBackend implements LinkStore, HealthProbe, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Neo4jBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LABEL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");
    private static final Set<String> SCHEMES = Set.of("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc");
    /** Neo4j 5's largest vector index dimension. */
    private static final int MAX_VECTOR_INDEX_DIMENSION = 4096;

    private final String name;
    private final String label;
    private final String tombstone;
    private final int dimension;
    private final Driver driver;
    private final TransactionConfig txConfig;
    private final Statements sql;
    private volatile boolean bootstrapped;

    public Neo4jBackend(String name, VectorsyncProperties.Backend config, int dimension) {
        this.name = name;
        String prefix = "vectorsync.backends." + name + ".neo4j.";
        BackendBlocks.Neo4j neo4j = config.neo4j();
        String url = neo4j.url() == null || neo4j.url().isBlank() ? "bolt://127.0.0.1:7687" : neo4j.url().trim();
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(prefix + "url must be a Bolt URL such as bolt://127.0.0.1:7687");
        }
        if (uri.getScheme() == null || !SCHEMES.contains(uri.getScheme())) {
            throw new IllegalStateException(prefix + "url must be a Bolt URL (bolt://, bolt+s://, neo4j://, neo4j+s://)"
                    + " such as bolt://127.0.0.1:7687");
        }
        this.label = neo4j.label() == null || neo4j.label().isBlank() ? "Chunk" : neo4j.label().trim();
        if (!LABEL.matcher(label).matches()) {
            throw new IllegalStateException(prefix + "label (the node label) must be an identifier"
                    + " [A-Za-z_][A-Za-z0-9_]* of at most 64 characters, but was '" + label + "'");
        }
        this.tombstone = "VectorsyncTombstone_" + label;
        this.dimension = dimension;
        AuthToken auth = neo4j.username() == null || neo4j.username().isBlank()
                ? AuthTokens.none()
                : AuthTokens.basic(neo4j.username(), neo4j.password() == null ? "" : neo4j.password());
        Config driverConfig = Config.builder()
                .withConnectionTimeout(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .withConnectionAcquisitionTimeout(config.connectTimeout().plus(config.readTimeout()).toMillis(),
                        TimeUnit.MILLISECONDS)
                // The relay retries, backs off and opens the circuit: the driver should not retry on its own.
                .withMaxTransactionRetryTime(0, TimeUnit.MILLISECONDS)
                .withUserAgent("vectorsync")
                .build();
        this.driver = GraphDatabase.driver(uri, auth, driverConfig);
        this.txConfig = TransactionConfig.builder().withTimeout(config.readTimeout()).build();
        this.sql = new Statements(label, tombstone);
    }

    /** The Cypher this backend runs; the label and tombstone label are validated identifiers. */
    record Statements(String label, String tombstone) {

        String upsert() {
            return """
                    UNWIND $rows AS r
                    OPTIONAL MATCH (t:`%2$s` {memory_id: r.id})
                    WITH r, t WHERE t IS NULL OR t.version < r.version OR (r.force AND t.version = r.version)
                    MERGE (n:`%1$s` {memory_id: r.id})
                    WITH r, n, t WHERE n.version IS NULL OR n.version < r.version
                                       OR (r.force AND n.version = r.version)
                    SET n = r.props
                    WITH t WHERE t IS NOT NULL
                    DELETE t
                    """.formatted(label, tombstone);
        }

        /**
         * Removes the node with its relationships and leaves the tombstone; neighbours that were only a
         * link's endpoint (no version) and hold no relationship any more go too.
         */
        String delete() {
            return """
                    UNWIND $rows AS r
                    OPTIONAL MATCH (n:`%1$s` {memory_id: r.id})
                    WITH r, n WHERE n IS NULL OR n.version IS NULL OR n.version <= r.version
                    MERGE (t:`%2$s` {memory_id: r.id})
                    SET t.version = CASE WHEN t.version IS NULL OR t.version < r.version THEN r.version
                                         ELSE t.version END
                    WITH n WHERE n IS NOT NULL
                    OPTIONAL MATCH (n)--(m:`%1$s`) WHERE m <> n AND m.version IS NULL
                    WITH n, collect(DISTINCT m) AS ends
                    DETACH DELETE n
                    WITH ends UNWIND ends AS m
                    WITH DISTINCT m WHERE NOT (m)--()
                    DELETE m
                    """.formatted(label, tombstone);
        }

        /**
         * The keys of the LINK rows that can't be applied yet: an endpoint has a tombstone and no chunk node
         * (a LINK never creates an endpoint that was deleted), and no newer UNLINK settled the edge already.
         */
        String blockedLinks() {
            return """
                    UNWIND $rows AS r
                    WITH r WHERE NOT EXISTS { MATCH (t:`%2$s` {memory_id: r.key})
                                               WHERE t.version > r.version OR (NOT r.force AND t.version = r.version) }
                      AND any(id IN [r.from, r.to] WHERE EXISTS { MATCH (:`%2$s` {memory_id: id}) }
                              AND NOT EXISTS { MATCH (n:`%1$s` {memory_id: id}) WHERE n.version IS NOT NULL })
                    RETURN r.key AS key
                    """.formatted(label, tombstone);
        }

        String link(String type) {
            return """
                    UNWIND $rows AS r
                    OPTIONAL MATCH (t:`%2$s` {memory_id: r.key})
                    WITH r, t WHERE t IS NULL OR t.version < r.version OR (r.force AND t.version = r.version)
                    MERGE (a:`%1$s` {memory_id: r.from})
                    MERGE (b:`%1$s` {memory_id: r.to})
                    MERGE (a)-[e:`%3$s`]->(b)
                    WITH r, e, t WHERE e.version IS NULL OR e.version < r.version
                                       OR (r.force AND e.version = r.version)
                    SET e = r.props
                    WITH t WHERE t IS NOT NULL
                    DELETE t
                    """.formatted(label, tombstone, type);
        }

        String unlink(String type) {
            return """
                    UNWIND $rows AS r
                    OPTIONAL MATCH (:`%1$s` {memory_id: r.from})-[e:`%3$s`]->(:`%1$s` {memory_id: r.to})
                    WITH r, e WHERE e IS NULL OR e.version IS NULL OR e.version <= r.version
                    MERGE (t:`%2$s` {memory_id: r.key})
                    SET t.version = CASE WHEN t.version IS NULL OR t.version < r.version THEN r.version
                                         ELSE t.version END
                    WITH e WHERE e IS NOT NULL
                    WITH e, [x IN [startNode(e), endNode(e)] WHERE x.version IS NULL] AS ends
                    DELETE e
                    WITH ends UNWIND ends AS x
                    WITH DISTINCT x WHERE NOT (x)--()
                    DELETE x
                    """.formatted(label, tombstone, type);
        }

        String readBack() {
            return """
                    MATCH (n:`%s`) WHERE n.memory_id IN $ids AND n.version IS NOT NULL
                    RETURN n.memory_id AS id, n.version AS version, n.document_id AS document_id,
                           n.content AS content, n.embedding AS embedding, n.metadata AS metadata,
                           n.privacy AS privacy
                    """.formatted(label);
        }

        /** The relationships between nodes of the label named by edge keys' parts ({@code from}, {@code type}, {@code to}). */
        String readBackLinks() {
            return """
                    UNWIND $rows AS r
                    MATCH (a:`%1$s` {memory_id: r.from})-[e]->(b:`%1$s` {memory_id: r.to}) WHERE type(e) = r.type
                    RETURN r.key AS key, coalesce(e.version, 0) AS version, properties(e) AS props
                    """.formatted(label);
        }

        /** A page of the label's node ids from {@code $after} (inclusive when {@code $inclusive}). */
        String linkNodes() {
            return """
                    MATCH (a:`%s`) WHERE $after IS NULL OR a.memory_id > $after OR ($inclusive AND a.memory_id = $after)
                    RETURN a.memory_id AS id ORDER BY a.memory_id LIMIT $limit
                    """.formatted(label);
        }

        /**
         * The relationships starting at these nodes, in (from, type, to) order, after the edge
         * ({@code $after}, {@code $type}, {@code $to}) when {@code $type} is given.
         */
        String linkPage() {
            return """
                    MATCH (a:`%1$s`)-[e]->(b:`%1$s`) WHERE a.memory_id IN $ids
                      AND ($type IS NULL OR a.memory_id <> $after OR type(e) > $type
                           OR (type(e) = $type AND b.memory_id > $to))
                    RETURN a.memory_id AS from, type(e) AS type, b.memory_id AS to
                    ORDER BY a.memory_id, type(e), b.memory_id LIMIT $limit
                    """.formatted(label);
        }

        /** Takes the fence (the lease epoch) for this label; returns the highest epoch seen before. */
        String fence() {
            return """
                    MERGE (f:VectorsyncFence {label: $label})
                    WITH f, coalesce(f.epoch, 0) AS seen
                    SET f.epoch = CASE WHEN $fence > seen THEN $fence ELSE seen END
                    RETURN seen
                    """;
        }

        List<String> schema(int dimension) {
            List<String> out = new ArrayList<>(List.of(
                    "CREATE CONSTRAINT `vectorsync_%1$s_memory_id` IF NOT EXISTS FOR (n:`%1$s`) REQUIRE n.memory_id IS UNIQUE"
                            .formatted(label),
                    "CREATE CONSTRAINT `vectorsync_%1$s_memory_id` IF NOT EXISTS FOR (t:`%1$s`) REQUIRE t.memory_id IS UNIQUE"
                            .formatted(tombstone),
                    "CREATE CONSTRAINT vectorsync_fence_label IF NOT EXISTS FOR (f:VectorsyncFence) REQUIRE f.label IS UNIQUE"));
            if (dimension > 0 && dimension <= MAX_VECTOR_INDEX_DIMENSION) {
                out.add(("CREATE VECTOR INDEX `vectorsync_%1$s_embedding` IF NOT EXISTS FOR (n:`%1$s`) ON n.embedding"
                        + " OPTIONS {indexConfig: {`vector.dimensions`: %2$d, `vector.similarity_function`: 'cosine'}}")
                        .formatted(label, dimension));
            }
            return out;
        }
    }

    @Override
    public String name() {
        return name;
    }

    /**
     * The uniqueness constraints on {@code memory_id} (nodes and tombstones) and a cosine vector index on
     * the embedding. A server that can't be reached now is set up before the first write instead; one
     * that refuses the constraints (nodes of the label with duplicate ids, say) stops the start-up.
     */
    @Override
    public void bootstrap() {
        try {
            ensureBootstrapped();
        } catch (TransientBackendException e) {
            log.warn("Backend '{}': cannot create its constraints now ({}); will retry before the first write",
                    name, e.getMessage());
        } catch (PermanentBackendException e) {
            throw new IllegalStateException("vectorsync.backends." + name + ": " + e.getMessage()
                    + "; check the label's nodes (memory_id must be unique) and the user's rights", e);
        }
    }

    /**
     * @throws TransientBackendException when the server can't be reached
     * @throws PermanentBackendException when it refuses the constraints
     */
    private void ensureBootstrapped() {
        if (bootstrapped) {
            return;
        }
        List<String> schema = sql.schema(dimension);
        try (Session session = driver.session()) {
            for (int i = 0; i < schema.size(); i++) {
                String statement = schema.get(i);
                try {
                    session.run(statement).consume();
                } catch (ClientException e) {
                    if (i < 3 || e instanceof SecurityException) {
                        throw e;
                    }
                    // A server without vector indexes still stores embeddings: go on without the index.
                    log.warn("Backend '{}': no vector index on :{}(embedding) ({})", name, label, e.code());
                }
            }
        } catch (Neo4jException e) {
            String what = "cannot create its constraints on :" + label + "(memory_id)";
            RuntimeException c = classify(e, 0, what);
            if (c instanceof TransientBackendException t
                    && (t.unreachable() || e instanceof TransientException || e instanceof SessionExpiredException)) {
                throw t;
            }
            // Refused (Neo.DatabaseError.Schema.ConstraintCreationFailed for duplicate ids, say): retrying won't help.
            throw new PermanentBackendException("backend '" + name + "': " + what + ", refused (" + code(e) + ")", null);
        }
        bootstrapped = true;
    }

    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (fence.partition() != 0) {
            throw new IllegalStateException("backend '" + name + "' keys its fence by partition 0 only, not "
                    + fence.partition());
        }
        write(changes, fence.epoch());
    }

    private void write(List<Change> changes, long fence) {
        if (changes.isEmpty()) {
            return;
        }
        try {
            ensureBootstrapped();
        } catch (PermanentBackendException e) {
            // Not the changes' fault: nothing goes through until the database is fixed.
            throw new TransientBackendException(e.getMessage(), null, null, true);
        }
        List<Run> runs = runs(timeline(changes));
        Set<Integer> deferred = new TreeSet<>();
        try (Session session = driver.session()) {
            session.executeWrite(tx -> {
                deferred.clear();
                if (fence >= 0) {
                    long seen = tx.run(sql.fence(), Map.of("label", label, "fence", fence)).single().get("seen").asLong();
                    if (seen > fence) {
                        throw new BackendFencedException(name, fence, seen);
                    }
                }
                for (Run run : runs) {
                    run(tx, run, deferred);
                }
                return null;
            }, txConfig);
        } catch (Neo4jException e) {
            throw classify(e, changes.size(), "write of " + changes.size() + " changes failed");
        }
        if (!deferred.isEmpty()) {
            throw new ChangesDeferredException("backend '" + name + "': " + deferred.size() + " LINK(s) wait for an"
                    + " endpoint chunk that has a tombstone; retried until the chunk exists again", deferred);
        }
    }

    /**
     * One statement row's source: a change of the call, or an older change of its key in the batch, at its
     * batch position; {@code index} is the call's change it belongs to, {@code own} false for an older one.
     */
    private record Step(Change change, long seq, int index, boolean own) {}

    /**
     * The batch as it happened: every change after the older changes of its key, all in the order of
     * their events' batch positions when the planner gave them (otherwise in the list's order).
     */
    static List<Step> timeline(List<Change> changes) {
        List<Step> steps = new ArrayList<>();
        boolean positioned = true;
        for (int i = 0; i < changes.size(); i++) {
            Change c = changes.get(i);
            for (Change e : c.earlier()) {
                steps.add(new Step(e, e.seq(), i, false));
                positioned &= e.seq() >= 0;
            }
            steps.add(new Step(c, c.seq(), i, true));
            positioned &= c.seq() >= 0;
        }
        if (positioned) {
            steps.sort(Comparator.comparingLong(Step::seq)); // stable: ties keep the list's order
        }
        return steps;
    }

    /** Consecutive steps of one kind (and one relationship type), written with one statement. */
    private record Run(Change.Op op, String type, List<Map<String, Object>> rows, Set<String> keys) {

        Run(Change.Op op, String type) {
            this(op, type, new ArrayList<>(), new HashSet<>());
        }
    }

    /**
     * The steps as runs of one statement each, in order: chunk steps of one op in a row share a run;
     * links and unlinks in a row are grouped by op and type (links of different edges don't interact);
     * a key already in its run starts a new one, so each statement sees the one before.
     */
    private List<Run> runs(List<Step> steps) {
        // LINK steps an endpoint's later DELETE in the call undoes: not written at all, so that a batch
        // redelivered after its write committed (where that DELETE finds a newer node and does nothing)
        // ends as it did the first time.
        boolean[] undone = new boolean[steps.size()];
        Set<String> deleted = new HashSet<>();
        for (int k = steps.size() - 1; k >= 0; k--) {
            Change c = steps.get(k).change();
            if (c.op() == Change.Op.DELETE) {
                deleted.add(c.key());
            } else if (c.op() == Change.Op.LINK) {
                undone[k] = deleted.contains(c.link().from()) || deleted.contains(c.link().to());
            }
        }
        List<Run> runs = new ArrayList<>();
        Map<String, Run> linkRuns = new LinkedHashMap<>();
        Run current = null;
        for (int at = 0; at < steps.size(); at++) {
            Step s = steps.get(at);
            Change c = s.change();
            if (undone[at]) {
                continue;
            }
            if (c.isLink()) {
                current = null;
                String k = c.op() + " " + c.link().type();
                if (linkRuns.values().stream().anyMatch(x -> x.keys().contains(c.key()))) {
                    linkRuns.clear();
                }
                Run r = linkRuns.get(k);
                if (r == null) {
                    r = new Run(c.op(), c.link().type());
                    linkRuns.put(k, r);
                    runs.add(r);
                }
                r.keys().add(c.key());
                r.rows().add(linkRow(c, s.own() ? s.index() : -1));
                continue;
            }
            linkRuns.clear();
            if (current == null || current.op() != c.op() || current.keys().contains(c.key())) {
                current = new Run(c.op(), null);
                runs.add(current);
            }
            current.keys().add(c.key());
            current.rows().add(c.op() == Change.Op.UPSERT ? upsertRow(c) : Map.of("id", c.key(), "version", c.version(),
                    "force", c.overwriteEqual()));
        }
        return runs;
    }

    /**
     * Runs one statement. LINK rows whose endpoint has a tombstone are left out; those of the call's own
     * changes are added to {@code deferred} (an older LINK of the batch is superseded by its key's newest).
     */
    private void run(TransactionContext tx, Run run, Set<Integer> deferred) {
        List<Map<String, Object>> rows = run.rows();
        if (run.op() == Change.Op.LINK) {
            Set<String> blocked = new HashSet<>(tx.run(sql.blockedLinks(), Map.of("rows", rows))
                    .list(r -> r.get("key").asString()));
            if (!blocked.isEmpty()) {
                rows = new ArrayList<>();
                for (Map<String, Object> row : run.rows()) {
                    if (!blocked.contains((String) row.get("key"))) {
                        rows.add(row);
                    } else if ((Integer) row.get("index") >= 0) {
                        deferred.add((Integer) row.get("index"));
                    }
                }
            }
            if (rows.isEmpty()) {
                return;
            }
        }
        String statement = switch (run.op()) {
            case UPSERT -> sql.upsert();
            case DELETE -> sql.delete();
            case LINK -> sql.link(run.type());
            case UNLINK -> sql.unlink(run.type());
        };
        tx.run(statement, Map.of("rows", rows)).consume();
    }

    private static Map<String, Object> upsertRow(Change c) {
        ChunkData d = c.data();
        if (d == null) {
            throw new PermanentBackendException("an UPSERT without data (a copy from the primary) can't reach Neo4j",
                    null);
        }
        Map<String, Object> props = new HashMap<>();
        props.put("memory_id", c.key());
        props.put("version", c.version());
        props.put("privacy", d.privacy().name());
        if (d.documentId() != null) {
            props.put("document_id", d.documentId());
        }
        if (d.content() != null) {
            props.put("content", d.content());
        }
        if (d.embedding() != null) {
            props.put("embedding", d.embedding());
        }
        if (d.metadataJson() != null) {
            props.put("metadata", d.metadataJson());
        }
        return Map.of("id", c.key(), "version", c.version(), "props", props, "force", c.overwriteEqual());
    }

    private static Map<String, Object> linkRow(Change c, int index) {
        Link l = c.link();
        Map<String, Object> row = new HashMap<>();
        row.put("key", c.key());
        row.put("index", index);
        row.put("from", l.from());
        row.put("to", l.to());
        row.put("version", c.version());
        row.put("force", c.overwriteEqual());
        if (c.op() == Change.Op.LINK) {
            Map<String, Object> props = properties(l.propertiesJson());
            props.put("version", c.version());
            row.put("props", props);
        }
        return row;
    }

    /**
     * A link's JSON properties as Neo4j property values: strings, numbers, booleans and lists of one such
     * kind stay as they are; nested objects and mixed lists are kept as JSON text; nulls are dropped.
     * {@code version} is the relationship's version and can't be a property of its own.
     */
    static Map<String, Object> properties(String json) {
        Map<String, Object> out = new HashMap<>();
        JsonNode n;
        try {
            n = JSON.readTree(json == null ? "{}" : json);
        } catch (Exception e) {
            return out;
        }
        if (n == null || !n.isObject()) {
            return out;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            Object v = scalar(f.getValue());
            if (v == null && f.getValue().isArray()) {
                v = list(f.getValue());
            }
            if (v == null && !f.getValue().isNull()) {
                v = f.getValue().toString();
            }
            if (v != null && !"version".equals(f.getKey())) {
                out.put(f.getKey(), v);
            }
        }
        return out;
    }

    private static Object scalar(JsonNode v) {
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        return null;
    }

    private static Object list(JsonNode array) {
        List<Object> items = new ArrayList<>();
        Class<?> kind = null;
        for (JsonNode x : array) {
            Object s = scalar(x);
            if (s == null) {
                return null;
            }
            Class<?> k = s instanceof Long || s instanceof Double ? Number.class : s.getClass();
            if (kind != null && kind != k) {
                return null;
            }
            kind = k;
            items.add(s);
        }
        if (kind == Number.class && items.stream().anyMatch(Double.class::isInstance)) {
            items.replaceAll(o -> ((Number) o).doubleValue());
        }
        return items;
    }

    private TransientBackendException transientOf(String what, Throwable cause, boolean unreachable) {
        return new TransientBackendException("backend '" + name + "': " + what, cause, null, unreachable);
    }

    /**
     * The relay's exception for a driver error, by type and the server's status code; the server's
     * message is left out (it may echo values).
     */
    RuntimeException classify(Neo4jException e, int size, String what) {
        String code = code(e);
        if (e instanceof ConnectionReadTimeoutException) {
            return transientOf(what + ": no answer in time (" + code + ")", e, false);
        }
        if (e instanceof ServiceUnavailableException) {
            return transientOf("cannot connect (" + code + ")", e, true);
        }
        if (e instanceof SecurityException || e instanceof FatalDiscoveryException) {
            // Credentials refused or no such database: nothing gets through until the configuration is fixed.
            return transientOf("refused the connection (" + code + ")", null, true);
        }
        if (e instanceof SessionExpiredException || e instanceof TransientException
                || e instanceof TransactionTerminatedException
                || code.startsWith("Neo.TransientError.") || code.startsWith("Neo.DatabaseError.")
                || code.equals("Neo.ClientError.Transaction.TransactionTimedOut")
                || code.equals("Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration")) {
            return transientOf(what + " (" + code + ")", null, false);
        }
        if (e instanceof ClientException) {
            return new PermanentBackendException("backend '" + name + "': " + what + ", refused (" + code + ")", null,
                    size == 1 ? 0 : -1);
        }
        return transientOf(what + " (" + code + ")", null, false);
    }

    private static String code(Neo4jException e) {
        return e.code() == null || e.code().isBlank() ? e.getClass().getSimpleName() : e.code();
    }

    /**
     * Keyset pages of the label's nodes in {@code memory_id} order, the token being the last id; endpoints
     * a link created whose chunk never came (nodes without a version) are listed too, so verify reports
     * them as extra (read-back still treats them as absent).
     */
    @Override
    public IdPage listChunkIds(String pageToken, int limit) {
        String cypher = """
                MATCH (n:`%s`) WHERE ($after IS NULL OR n.memory_id > $after)
                RETURN n.memory_id AS id ORDER BY n.memory_id LIMIT $limit
                """.formatted(label);
        Map<String, Object> params = new java.util.HashMap<>();
        params.put("after", pageToken);
        params.put("limit", limit);
        try (Session session = driver.session()) {
            List<String> ids = session.executeRead(tx -> tx.run(cypher, params).list(r -> r.get("id").asString()),
                    txConfig);
            return new IdPage(ids, ids.size() < limit ? null : ids.get(ids.size() - 1));
        } catch (Neo4jException e) {
            throw classify(e, 0, "listing chunk ids failed");
        }
    }

    @Override
    public Map<String, StoredChunk> readBack(Collection<String> chunkIds) {
        Map<String, StoredChunk> out = new HashMap<>();
        if (chunkIds.isEmpty()) {
            return out;
        }
        try (Session session = driver.session()) {
            List<Record> records = session.executeRead(
                    tx -> tx.run(sql.readBack(), Map.of("ids", List.copyOf(chunkIds))).list(), txConfig);
            for (Record r : records) {
                String id = r.get("id").asString();
                out.put(id, new StoredChunk(r.get("version").asLong(), new ChunkData(id,
                        text(r.get("document_id")), text(r.get("content")), floats(r.get("embedding")),
                        text(r.get("metadata")), Privacy.parse(text(r.get("privacy"))))));
            }
        } catch (Neo4jException e) {
            throw classify(e, 0, "read-back failed");
        }
        return out;
    }

    /**
     * Edges by edge key: the relationship of the key's type from its {@code from} node to its {@code to}
     * node, with its version and its properties (without {@code version}) as JSON.
     */
    @Override
    public Map<String, StoredLink> readBackLinks(Collection<String> keys) {
        Map<String, StoredLink> out = new HashMap<>();
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String key : keys) {
            Link l = Link.fromKey(key);
            if (l != null) {
                rows.add(Map.of("key", key, "from", l.from(), "type", l.type(), "to", l.to()));
            }
        }
        if (rows.isEmpty()) {
            return out;
        }
        try (Session session = driver.session()) {
            List<Record> records = session.executeRead(
                    tx -> tx.run(sql.readBackLinks(), Map.of("rows", rows)).list(), txConfig);
            for (Record r : records) {
                Map<String, Object> props = new HashMap<>(r.get("props").asMap(Neo4jBackend::jsonValue));
                props.remove("version");
                out.put(r.get("key").asString(), new StoredLink(r.get("version").asLong(), toJson(props)));
            }
        } catch (Neo4jException e) {
            throw classify(e, 0, "read-back of links failed");
        }
        return out;
    }

    /**
     * Keyset pages of the edges between nodes of the label, in (from, type, to) order: a page of nodes in
     * {@code memory_id} order, then at most {@code limit} of their outgoing relationships. The token is
     * {@code e<edge key>} when the page ended inside a node's relationships, {@code n<node id>} when it
     * ended after all those of a node.
     */
    @Override
    public IdPage listLinkKeys(String pageToken, int limit) {
        Map<String, Object> params = new HashMap<>();
        params.put("limit", limit);
        params.put("after", null);
        params.put("inclusive", false);
        params.put("type", null);
        params.put("to", null);
        if (pageToken != null && pageToken.startsWith("e") && Link.fromKey(pageToken.substring(1)) != null) {
            Link l = Link.fromKey(pageToken.substring(1));
            params.put("after", l.from());
            params.put("inclusive", true);
            params.put("type", l.type());
            params.put("to", l.to());
        } else if (pageToken != null && pageToken.startsWith("n")) {
            params.put("after", pageToken.substring(1));
        } else if (pageToken != null) {
            throw new IllegalArgumentException("not a page token of listLinkKeys");
        }
        try (Session session = driver.session()) {
            return session.executeRead(tx -> {
                List<String> nodes = tx.run(sql.linkNodes(), params).list(r -> r.get("id").asString());
                if (nodes.isEmpty()) {
                    return new IdPage(List.of(), null);
                }
                Map<String, Object> p = new HashMap<>(params);
                p.put("ids", nodes);
                List<String> keys = tx.run(sql.linkPage(), p).list(r -> Link.key(r.get("from").asString(),
                        r.get("type").asString(), r.get("to").asString()));
                String next = keys.size() == limit ? "e" + keys.get(keys.size() - 1)
                        : nodes.size() < limit ? null : "n" + nodes.get(nodes.size() - 1);
                return new IdPage(keys, next);
            }, txConfig);
        } catch (Neo4jException e) {
            throw classify(e, 0, "listing links failed");
        }
    }

    /** The properties a LINK with this JSON writes ({@link #properties}), as JSON. */
    @Override
    public String storedProperties(String propertiesJson) {
        return toJson(properties(propertiesJson));
    }

    /** A property value as JSON takes it: scalars and lists as they are, anything else (a date) as text. */
    private static Object jsonValue(Value v) {
        Object o = v.asObject();
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean) {
            return o;
        }
        if (o instanceof List<?>) {
            return v.asList(Neo4jBackend::jsonValue);
        }
        return String.valueOf(o);
    }

    private static String toJson(Map<String, Object> props) {
        try {
            return JSON.writeValueAsString(new java.util.TreeMap<>(props));
        } catch (Exception e) {
            throw new IllegalStateException("link properties not writable as JSON", e);
        }
    }

    private static String text(Value v) {
        return v == null || v.isNull() ? null : v.asString();
    }

    private static float[] floats(Value v) {
        if (v == null || v.isNull()) {
            return null;
        }
        List<Object> list = v.asList();
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) list.get(i)).floatValue();
        }
        return out;
    }

    @Override
    public Optional<String> healthProblem() {
        try {
            driver.verifyConnectivity();
            return Optional.empty();
        } catch (Neo4jException e) {
            return Optional.of("Neo4j unreachable (" + code(e) + ")");
        }
    }

    @Override
    public void close() {
        driver.close();
    }

    /** The node label, for tests. */
    String label() {
        return label;
    }

    /** The tombstone label, for tests. */
    String tombstoneLabel() {
        return tombstone;
    }
}
