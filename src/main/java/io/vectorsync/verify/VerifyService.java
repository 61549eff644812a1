package io.vectorsync.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.FieldAllowlist;
import io.vectorsync.backend.InPrimaryDatabase;
import io.vectorsync.backend.LinkStore;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.config.ServerOnly;
import io.vectorsync.config.VerifyProperties;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.domain.Link;
import io.vectorsync.domain.Privacy;
import io.vectorsync.jobs.JobContext;
import io.vectorsync.jobs.JobHandler;
import io.vectorsync.jobs.PermanentJobException;
import io.vectorsync.relay.ChangePlanner;
import io.vectorsync.relay.RelayWakeup;
import io.vectorsync.relay.RepairQueue;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Compares one backend with the primary without changing anything (ADR 011), and with {@code repair}
 * asks that backend's relay to write the current state of what differs again, on that backend only
 * ({@link RepairQueue}, ADR 019).
 *
 * <p>Two streaming passes, each in pages so memory stays flat whatever the size: the primary's live
 * chunks in chunk-id order, those of the API ({@code chunks}) and those of the application
 * ({@code aggregates}, their payload parsed as the relay parses it; one it can't parse is
 * {@code unreadable}), each page checked against the backend's read-back of the same ids (missing,
 * stale, corrupt, on the fields the backend receives: privacy and its field allowlist applied as the
 * relay applies them, vectors as float32); then the backend's own ids page by page, each page checked
 * against the primary with one query (extra: held by the backend but not live in the primary). When the
 * backend is a table in the primary database, the API rows of a page whose checksum matches on both
 * sides (computed inside PostgreSQL) are not read back at all.
 *
 * <p>A backend that holds relationships ({@link LinkStore}) has its edges compared the same way, in
 * two more passes reported under {@code links}: the live edges of {@code aggregates} (an endpoint the
 * primary holds deleted or LOCAL_ONLY takes its edges with it), then the edges the backend holds.
 */
@Service
@ServerOnly
public class VerifyService implements JobHandler {

    private static final Logger log = LoggerFactory.getLogger(VerifyService.class);
    static final int SAMPLES = 20;

    /** The payload of an aggregate {@code a}: in its event until retention, then in the row (ADR 019). */
    private static final String PAYLOAD = "coalesce(a.payload, (SELECT o.payload FROM outbox o WHERE o.id = a.payload_event))::text";
    /** A live chunk of the application in {@code aggregates a} (edge keys aside). */
    private static final String LIVE_APP = "NOT a.deleted AND a.privacy <> 'LOCAL_ONLY' AND NOT starts_with(a.key, 'link:')";
    /**
     * One page of keys of the live chunks of both owners ({@code chunks}: api, {@code aggregates}:
     * application), in key order: two ORDER BY/LIMIT branches merged, keyset by key.
     */
    private static final String PRIMARY_KEYS = """
            SELECT chunk_id, owner FROM (
              (SELECT chunk_id, 'api' AS owner FROM chunks
                WHERE NOT deleted AND privacy <> 'LOCAL_ONLY' AND (?::text IS NULL OR chunk_id > ?)
                ORDER BY chunk_id LIMIT ?)
              UNION ALL
              (SELECT a.key, 'application' FROM aggregates a WHERE %s AND (?::text IS NULL OR a.key > ?)
                ORDER BY a.key LIMIT ?)) k
             ORDER BY chunk_id LIMIT ?
            """.formatted(LIVE_APP);
    /** The same page with its rows: the API's columns, or the application's payload. */
    private static final String PRIMARY_PAGE = """
            SELECT k.chunk_id, k.owner, coalesce(c.version, a.version) AS version, c.document_id, c.content, c.embedding,
                   c.metadata::text AS metadata, coalesce(c.privacy, a.privacy) AS privacy,
                   CASE WHEN k.owner = 'application' THEN %s END AS payload
              FROM (%s) k
              LEFT JOIN chunks c ON k.owner = 'api' AND c.chunk_id = k.chunk_id
              LEFT JOIN aggregates a ON k.owner = 'application' AND a.key = k.chunk_id
             ORDER BY k.chunk_id
            """.formatted(PAYLOAD, PRIMARY_KEYS);
    private static final String PRIMARY_ROWS = """
            SELECT chunk_id, 'api' AS owner, version, document_id, content, embedding, metadata::text AS metadata, privacy,
                   NULL::text AS payload
              FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted AND privacy <> 'LOCAL_ONLY' ORDER BY chunk_id
            """;
    private static final String APP_ROWS = """
            SELECT a.key AS chunk_id, 'application' AS owner, a.version, NULL::text AS document_id, NULL::text AS content,
                   NULL::real[] AS embedding, NULL::text AS metadata, a.privacy, %s AS payload
              FROM aggregates a WHERE a.key = ANY (?) AND %s ORDER BY a.key
            """.formatted(PAYLOAD, LIVE_APP);
    private static final String PRIMARY_COUNT = """
            SELECT (SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')
                 + (SELECT count(*) FROM aggregates a WHERE %s)
            """.formatted(LIVE_APP);
    /** Of these backend ids, those live in the primary: a chunk of the API or of the application. */
    private static final String LIVE_ANY = """
            SELECT chunk_id FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted AND privacy <> 'LOCAL_ONLY'
            UNION ALL
            SELECT a.key FROM aggregates a WHERE a.key = ANY (?) AND %s
            """.formatted(LIVE_APP);
    /** One page of the live edges (LINK state, UNLINK being a tombstone) in key order. */
    private static final String LINK_PAGE = """
            SELECT a.key, a.version, %s AS payload FROM aggregates a
             WHERE starts_with(a.key, 'link:') AND NOT a.deleted AND (?::text IS NULL OR a.key > ?)
             ORDER BY a.key LIMIT ?
            """.formatted(PAYLOAD);
    private static final String LINK_COUNT =
            "SELECT count(*) FROM aggregates a WHERE starts_with(a.key, 'link:') AND NOT a.deleted";
    private static final String LIVE_LINKS = """
            SELECT a.key FROM aggregates a WHERE a.key = ANY (?) AND starts_with(a.key, 'link:') AND NOT a.deleted
            """;
    /**
     * Of these chunk ids, those the primary holds as deleted or LOCAL_ONLY and not live: the backend deleted
     * them with their relationships, and holds back a LINK to them (a chunk never written is a LINK's stub).
     */
    private static final String GONE = """
            SELECT key FROM current_state WHERE key = ANY (?) GROUP BY key HAVING bool_and(deleted OR privacy = 'LOCAL_ONLY')
            """;
    private static final String LIVE = """
            SELECT chunk_id FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted AND privacy <> 'LOCAL_ONLY'
            """;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final BackendRegistry backends;
    private final RelayWakeup wakeup;
    private final ObjectMapper json;
    private final int pageSize;
    private final boolean checksumPages;
    private final ChangePlanner planner;
    private final RepairQueue repairs;

    public VerifyService(JdbcTemplate jdbc, TransactionTemplate tx, BackendRegistry backends, RelayWakeup wakeup,
            RepairQueue repairs, ObjectMapper json, VerifyProperties properties) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.backends = backends;
        this.wakeup = wakeup;
        this.json = json;
        this.pageSize = properties.pageSize();
        this.checksumPages = properties.checksumPages();
        this.planner = new ChangePlanner(json); // the relay's parsing of a payload
        this.repairs = repairs;
    }

    @Override
    public String type() {
        return "VERIFY";
    }

    /** It writes to a backend (a repair, a backfill's state): the admin credential's work. */
    @Override
    public boolean operatorOnly() {
        return true;
    }

    /** One verify per backend and repair flag at a time: {@code {backend, repair}}. */
    @Override
    public Map<String, String> correlation(JsonNode payload) {
        return Map.of("backend", payload.path("backend").asText(), "repair",
                String.valueOf(payload.path("repair").asBoolean(false)));
    }

    @Override
    public Map<String, Object> run(JobContext context) {
        String backend = context.payload().path("backend").asText();
        if (!backends.contains(backend) || !(backends.get(backend) instanceof ReadBack)) {
            throw new PermanentJobException("VSYNC-VERIFY-UNSUPPORTED",
                    "backend '" + backend + "' is not configured or can't be read back, so verify can't compare it");
        }
        return verify(backend, context.payload().path("repair").asBoolean(false), context);
    }

    /** A chunk the backend holds differently: its id, the primary's version and the backend's (0 if absent). */
    private record Diff(String chunkId, long primaryVersion, long backendVersion) {}

    private static final class Tally {
        final Map<String, Long> counts = new LinkedHashMap<>();
        final Map<String, List<String>> samples = new LinkedHashMap<>();

        Tally() {
            for (String k : List.of("missing", "extra", "stale", "corrupt", "unreadable")) {
                counts.put(k, 0L);
                samples.put(k, new ArrayList<>());
            }
        }

        void add(String what, String chunkId) {
            counts.merge(what, 1L, Long::sum);
            List<String> s = samples.get(what);
            if (s.size() < SAMPLES) {
                s.add(chunkId);
            }
        }
    }

    public Map<String, Object> verify(String name, boolean repair, JobContext progress) {
        if (!(backends.get(name) instanceof ReadBack backend)) {
            throw new IllegalArgumentException("backend '" + name + "' can't be read back, so verify can't compare it");
        }
        FieldAllowlist allow = backends.allowlist(name);
        Set<String> fields = backend.readBackFields();
        int ulps = backend.embeddingUlpTolerance();
        LinkStore links = backend instanceof LinkStore l ? l : null;
        long started = System.nanoTime();

        // Counts first.
        long primaryCount = jdbc.queryForObject(PRIMARY_COUNT, Long.class);
        long linkCountUpFront = links == null ? 0 : jdbc.queryForObject(LINK_COUNT, Long.class);
        String sameDbTable = backend instanceof InPrimaryDatabase primary && checksumPages && backends.copiesPrimaryRows(name)
                ? primary.table() : null;
        Long backendCountUpFront = sameDbTable == null ? null
                : jdbc.queryForObject("SELECT count(*) FROM " + sameDbTable, Long.class);
        long total = primaryCount + (backendCountUpFront == null ? primaryCount : backendCountUpFront)
                + 2 * linkCountUpFront;
        progress.progress(0, total);

        Tally tally = new Tally();
        long repaired = 0;
        long done = 0;
        long skippedPages = 0;

        // Pass 1: the primary's live chunks of both owners, in key order.
        String after = null;
        while (true) {
            List<Map<String, Object>> page;
            if (sameDbTable != null) {
                // Keys first: the API rows of a page whose checksum matches on both sides are never read into
                // the JVM. The application's chunks (a payload, parsed as the relay parses it) are always read back.
                List<String[]> keys = jdbc.query(PRIMARY_KEYS, (rs, n) -> new String[] {rs.getString(1), rs.getString(2)},
                        after, after, pageSize, after, after, pageSize, pageSize);
                if (keys.isEmpty()) {
                    break;
                }
                after = keys.get(keys.size() - 1)[0];
                done += keys.size();
                String[] api = keys.stream().filter(k -> "api".equals(k[1])).map(k -> k[0]).toArray(String[]::new);
                String[] app = keys.stream().filter(k -> !"api".equals(k[1])).map(k -> k[0]).toArray(String[]::new);
                page = new ArrayList<>();
                if (api.length > 0) {
                    if (sameChecksum(sameDbTable, api)) {
                        skippedPages++;
                    } else {
                        page.addAll(primaryRows(PRIMARY_ROWS, (Object) api));
                    }
                }
                if (app.length > 0) {
                    page.addAll(primaryRows(APP_ROWS, (Object) app));
                }
                if (page.isEmpty()) {
                    progress.progress(done, total);
                    continue;
                }
            } else {
                page = primaryRows(PRIMARY_PAGE, after, after, pageSize, after, after, pageSize, pageSize);
                if (page.isEmpty()) {
                    break;
                }
                after = (String) page.get(page.size() - 1).get("chunk_id");
                done += page.size();
            }
            List<String> ids = page.stream().map(r -> (String) r.get("chunk_id")).toList();
            Map<String, StoredChunk> held = backend.readBack(ids);
            List<Diff> diffs = new ArrayList<>();
            for (Map<String, Object> row : page) {
                String id = (String) row.get("chunk_id");
                long version = ((Number) row.get("version")).longValue();
                ChunkData expected;
                try {
                    expected = expectedOf(row, allow);
                } catch (IllegalArgumentException unreadable) {
                    tally.add("unreadable", id); // the relay parks such an event: nothing a backend could hold
                    continue;
                }
                StoredChunk s = held.get(id);
                String what;
                if (s == null) {
                    what = "missing";
                } else if (s.version() < version) {
                    what = "stale";
                } else if (s.version() > version || !same(expected, s.data(), fields, ulps)) {
                    what = "corrupt";
                } else {
                    continue;
                }
                tally.add(what, id);
                diffs.add(new Diff(id, version, s == null ? 0 : s.version()));
            }
            if (repair && !diffs.isEmpty()) {
                repaired += repairLive(backend, diffs);
            }
            progress.progress(done, total);
        }

        // Pass 2: what the backend holds, against the primary's live chunks of both owners.
        long backendCount = 0;
        String token = null;
        do {
            ReadBack.IdPage page = backend.listChunkIds(token, pageSize);
            token = page.next();
            backendCount += page.ids().size();
            done += page.ids().size();
            if (page.ids().isEmpty()) {
                continue; // an empty page (filtered, or the end of one of several collections) is not the end
            }
            String[] pageIds = page.ids().toArray(String[]::new);
            Set<String> live = new HashSet<>(jdbc.queryForList(LIVE_ANY, String.class, pageIds, pageIds));
            List<String> extras = page.ids().stream().filter(id -> !live.contains(id)).toList();
            extras.forEach(id -> tally.add("extra", id));
            if (repair && !extras.isEmpty()) {
                repaired += repairExtras(backend, backend.readBackVersions(extras), extras);
            }
            progress.progress(done, Math.max(total, done));
        } while (token != null);

        // Passes 3 and 4, for a backend that holds relationships: the primary's live edges, then the backend's.
        Map<String, Object> linkResult = null;
        if (links != null) {
            Tally linkTally = new Tally();
            long linkPrimary = 0;
            String afterKey = null;
            while (true) {
                List<Map<String, Object>> page = jdbc.queryForList(LINK_PAGE, afterKey, afterKey, pageSize);
                if (page.isEmpty()) {
                    break;
                }
                afterKey = (String) page.get(page.size() - 1).get("key");
                done += page.size();
                Map<String, Change> expected = new LinkedHashMap<>();
                for (Map<String, Object> row : page) {
                    String key = (String) row.get("key");
                    try {
                        expected.put(key, planner.fromState(key, ((Number) row.get("version")).longValue(),
                                (String) row.get("payload")));
                    } catch (IllegalArgumentException unreadable) {
                        linkTally.add("unreadable", key);
                    }
                }
                Set<String> gone = gone(expected.values().stream()
                        .flatMap(c -> java.util.stream.Stream.of(c.link().from(), c.link().to())).toList());
                expected.values().removeIf(c -> gone.contains(c.link().from()) || gone.contains(c.link().to()));
                linkPrimary += expected.size();
                Map<String, LinkStore.StoredLink> held = expected.isEmpty() ? Map.of()
                        : links.readBackLinks(expected.keySet());
                List<Diff> diffs = new ArrayList<>();
                for (Change c : expected.values()) {
                    LinkStore.StoredLink s = held.get(c.key());
                    String what;
                    if (s == null) {
                        what = "missing";
                    } else if (s.version() < c.version()) {
                        what = "stale";
                    } else if (s.version() > c.version()
                            || !sameJson(links.storedProperties(c.link().propertiesJson()), s.propertiesJson())) {
                        what = "corrupt";
                    } else {
                        continue;
                    }
                    linkTally.add(what, c.key());
                    diffs.add(new Diff(c.key(), c.version(), s == null ? 0 : s.version()));
                }
                if (repair && !diffs.isEmpty()) {
                    repaired += repairLive(backend, diffs);
                }
                progress.progress(done, Math.max(total, done));
            }
            long linkBackend = 0;
            String linkToken = null;
            do {
                ReadBack.IdPage page = links.listLinkKeys(linkToken, pageSize);
                linkToken = page.next();
                linkBackend += page.ids().size();
                done += page.ids().size();
                if (page.ids().isEmpty()) {
                    continue;
                }
                Set<String> live = new HashSet<>(jdbc.queryForList(LIVE_LINKS, String.class,
                        (Object) page.ids().toArray(String[]::new)));
                Set<String> gone = gone(live.stream().map(Link::fromKey).filter(Objects::nonNull)
                        .flatMap(l -> java.util.stream.Stream.of(l.from(), l.to())).toList());
                List<String> extras = page.ids().stream().filter(k -> {
                    Link l = Link.fromKey(k);
                    return !live.contains(k) || l == null || gone.contains(l.from()) || gone.contains(l.to());
                }).toList();
                extras.forEach(k -> linkTally.add("extra", k));
                if (repair && !extras.isEmpty()) {
                    Map<String, Long> heldLinks = new HashMap<>();
                    links.readBackLinks(extras).forEach((k, l) -> heldLinks.put(k, l.version()));
                    repaired += repairExtras(backend, heldLinks, extras);
                }
                progress.progress(done, Math.max(total, done));
            } while (linkToken != null);
            linkResult = new LinkedHashMap<>();
            linkResult.put("primaryCount", linkPrimary);
            linkResult.put("backendCount", linkBackend);
            linkResult.putAll(linkTally.counts);
            linkResult.put("samples", linkTally.samples);
        }
        progress.progress(done, done);

        if (repaired > 0) {
            wakeup.wakeAll();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("backend", name);
        result.put("repair", repair);
        result.put("primaryCount", primaryCount);
        result.put("backendCount", backendCount);
        result.putAll(tally.counts);
        result.put("repaired", repaired);
        result.put("samples", tally.samples);
        if (linkResult != null) {
            result.put("links", linkResult);
        }
        log.info("Verify of backend '{}': {} primary, {} in the backend, {} missing, {} extra, {} stale, {} corrupt,"
                + " {} unreadable, {} repaired, {} pages matched by checksum, in {} ms{}", name, primaryCount,
                backendCount, tally.counts.get("missing"), tally.counts.get("extra"), tally.counts.get("stale"),
                tally.counts.get("corrupt"), tally.counts.get("unreadable"), repaired, skippedPages,
                (System.nanoTime() - started) / 1_000_000, linkResult == null ? "" : "; links: " + linkSummary(linkResult));
        return result;
    }

    private static String linkSummary(Map<String, Object> r) {
        return r.get("primaryCount") + " primary, " + r.get("backendCount") + " in the backend, " + r.get("missing")
                + " missing, " + r.get("extra") + " extra, " + r.get("stale") + " stale, " + r.get("corrupt")
                + " corrupt, " + r.get("unreadable") + " unreadable";
    }

    /** Of these chunk ids, those deleted or LOCAL_ONLY in the primary (see {@link #GONE}). */
    private Set<String> gone(List<String> ids) {
        if (ids.isEmpty()) {
            return Set.of();
        }
        return new HashSet<>(jdbc.queryForList(GONE, String.class, (Object) new HashSet<>(ids).toArray(String[]::new)));
    }

    private List<Map<String, Object>> primaryRows(String sql, Object... args) {
        return jdbc.query(sql, (rs, n) -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("chunk_id", rs.getString("chunk_id"));
            r.put("owner", rs.getString("owner"));
            r.put("version", rs.getLong("version"));
            r.put("document_id", rs.getString("document_id"));
            r.put("content", rs.getString("content"));
            r.put("embedding", Embeddings.fromSql(rs.getArray("embedding")));
            r.put("metadata", rs.getString("metadata"));
            r.put("privacy", rs.getString("privacy"));
            r.put("payload", rs.getString("payload"));
            return r;
        }, args);
    }

    /**
     * What the relay sends the backend for this row: privacy applied, then the field allowlist. A chunk of
     * the application is its payload, parsed as the relay parses its event.
     *
     * @throws IllegalArgumentException when the relay could not parse the payload (it parks the event)
     */
    ChunkData expectedOf(Map<String, Object> row, FieldAllowlist allow) {
        if (!"application".equals(row.get("owner"))) {
            return expected(row, allow);
        }
        Change c = planner.fromState((String) row.get("chunk_id"), ((Number) row.get("version")).longValue(),
                (String) row.get("payload"));
        if (c.data() == null) {
            throw new IllegalArgumentException("VSYNC-EVENT-PAYLOAD: not a chunk a backend holds");
        }
        return allow.restrict(c).data();
    }

    /** What the relay sends the backend for this row of {@code chunks}: privacy applied, then the field allowlist. */
    static ChunkData expected(Map<String, Object> row, FieldAllowlist allow) {
        ChunkData d = new ChunkData((String) row.get("chunk_id"), (String) row.get("document_id"),
                (String) row.get("content"), (float[]) row.get("embedding"), (String) row.get("metadata"),
                Privacy.parse((String) row.get("privacy")));
        return allow.restrict(ChangePlanner.withPrivacy(d, ((Number) row.get("version")).longValue())).data();
    }

    /** True when the backend holds what it was sent, on the fields its read-back reports. */
    boolean same(ChunkData expected, ChunkData held, Set<String> fields, int ulps) {
        return (!fields.contains("documentId") || Objects.equals(expected.documentId(), held.documentId()))
                && (!fields.contains("content") || Objects.equals(expected.content(), held.content()))
                && (!fields.contains("embedding") || sameVector(expected.embedding(), held.embedding(), ulps))
                && (!fields.contains("privacy") || expected.privacy() == held.privacy())
                && (!fields.contains("metadata") || sameJson(expected.metadataJson(), held.metadataJson()));
    }

    /** Vectors compared as float32: equal, or within {@code ulps} units in the last place per component. */
    static boolean sameVector(float[] a, float[] b, int ulps) {
        if (ulps == 0 || a == null || b == null) {
            return Arrays.equals(a, b);
        }
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > ulps * Math.ulp(a[i])) {
                return false;
            }
        }
        return true;
    }

    /** Metadata compared as JSON (key order and number spelling aside); absent equals {@code {}}. */
    private boolean sameJson(String a, String b) {
        try {
            JsonNode x = json.readTree(a == null ? "{}" : a);
            JsonNode y = json.readTree(b == null ? "{}" : b);
            return x.equals((l, r) -> {
                if (l.isNumber() && r.isNumber()) {
                    return new BigDecimal(l.asText()).compareTo(new BigDecimal(r.asText())) == 0 ? 0 : 1;
                }
                return l.equals(r) ? 0 : 1;
            }, y);
        } catch (Exception unreadable) {
            return Objects.equals(a, b);
        }
    }

    /**
     * For a target in the primary database that copies rows from {@code chunks}: true when these live API
     * chunks are the same rows on both sides (checksum of id, version, fields, privacy applied; the
     * embedding by its binary float32 form, {@code array_send}, which is exact and cheap). Rows the target
     * holds besides (the application's chunks, extras) are not part of it.
     */
    private boolean sameChecksum(String table, String[] ids) {
        Boolean same = jdbc.queryForObject("""
                SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(h, ',' ORDER BY chunk_id)), '')
                          FROM (SELECT chunk_id, md5(ROW(chunk_id, version, document_id,
                                       CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END,
                                       md5(array_send(embedding)), metadata::text, privacy)::text) AS h
                                  FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted
                                   AND privacy <> 'LOCAL_ONLY') p)
                     = (SELECT count(*) || ':' || coalesce(md5(string_agg(h, ',' ORDER BY chunk_id)), '')
                          FROM (SELECT chunk_id, md5(ROW(chunk_id, version, document_id, content,
                                       md5(array_send(embedding::real[])), metadata::text, privacy)::text) AS h
                                  FROM %s WHERE chunk_id = ANY (?)) b)
                """.formatted(table), Boolean.class, ids, ids);
        return Boolean.TRUE.equals(same);
    }

    /**
     * Missing, stale and corrupt chunks are requested for this backend alone (ADR 019): its relay writes
     * each key's current state again, forced (a version equal to the one the backend holds is replaced,
     * never a newer one). No new version, no outbox event: the other backends are not written.
     */
    private int repairLive(Backend backend, List<Diff> diffs) {
        repairs.request(backend.name(), diffs.stream().map(d -> new RepairQueue.Key(d.chunkId(), d.backendVersion())).toList());
        repairs.wake();
        return diffs.size();
    }

    /**
     * Extras (chunks, or edges of a backend that holds them) are requested for this backend alone, as
     * deletes at the version it holds ({@code held}: key to version, read back just before) or above;
     * see {@link RepairRequests#extras} for the tombstone an id no state holds gets in {@code chunks}.
     */
    private int repairExtras(ReadBack backend, Map<String, Long> held, List<String> extras) {
        Integer n = tx.execute(s -> RepairRequests.extras(jdbc, repairs, backend.name(), held, extras));
        repairs.wake();
        return n == null ? 0 : n;
    }
}
