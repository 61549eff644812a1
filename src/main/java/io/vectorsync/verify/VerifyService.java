package io.vectorsync.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.backend.Backend;
import io.vectorsync.backend.BackendRegistry;
import io.vectorsync.backend.ChunkData;
import io.vectorsync.backend.FieldAllowlist;
import io.vectorsync.backend.Privacy;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.capture.OutboxWriter;
import io.vectorsync.jobs.JobService;
import io.vectorsync.relay.ChangePlanner;
import io.vectorsync.relay.RelayWakeup;
import java.math.BigDecimal;
import java.sql.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Compares one backend with the primary without changing anything (ADR 011), and with {@code repair}
 * re-enqueues what differs as new versions so the relay fixes it.
 *
 * <p>Two streaming passes, each in pages so memory stays flat whatever the size: the primary's live
 * chunks in chunk-id order, each page checked against the backend's read-back of the same ids (missing,
 * stale, corrupt, on the fields the backend receives: privacy and its field allowlist applied as the
 * relay applies them, vectors as float32); then the backend's own ids page by page, each page checked
 * against the primary with one query (extra: held by the backend but not live in the primary). When the
 * backend is a table in the primary database, a page whose checksum matches on both sides (computed
 * inside PostgreSQL) is not read back at all.
 */
@Service
public class VerifyService implements JobService.Runner {

    private static final Logger log = LoggerFactory.getLogger(VerifyService.class);
    static final int SAMPLES = 20;

    private static final String PRIMARY_PAGE = """
            SELECT chunk_id, version, document_id, content, embedding, metadata::text AS metadata, privacy
              FROM chunks
             WHERE NOT deleted AND privacy <> 'LOCAL_ONLY' AND (?::text IS NULL OR chunk_id > ?)
             ORDER BY chunk_id LIMIT ?
            """;
    private static final String PRIMARY_IDS = """
            SELECT chunk_id FROM chunks
             WHERE NOT deleted AND privacy <> 'LOCAL_ONLY' AND (?::text IS NULL OR chunk_id > ?)
             ORDER BY chunk_id LIMIT ?
            """;
    private static final String PRIMARY_ROWS = """
            SELECT chunk_id, version, document_id, content, embedding, metadata::text AS metadata, privacy
              FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted AND privacy <> 'LOCAL_ONLY' ORDER BY chunk_id
            """;
    private static final String LIVE = """
            SELECT chunk_id FROM chunks WHERE chunk_id = ANY (?) AND NOT deleted AND privacy <> 'LOCAL_ONLY'
            """;
    /** The highest version any store has seen for the chunk: the ledger's for every backend. */
    private static final String LEDGER_MAX = "coalesce((SELECT max(l.version) FROM delivery_ledger l WHERE l.chunk_key = ?), 0)";
    private static final String BUMP_LIVE = """
            UPDATE chunks SET version = greatest(version, ?, %s) + 1, updated_at = clock_timestamp()
             WHERE chunk_id = ? AND version = ? AND NOT deleted AND privacy <> 'LOCAL_ONLY'
            RETURNING version
            """.formatted(LEDGER_MAX);
    private static final String BUMP_GONE = """
            UPDATE chunks SET version = greatest(version, ?, %s) + 1, updated_at = clock_timestamp()
             WHERE chunk_id = ? AND (deleted OR privacy = 'LOCAL_ONLY')
            RETURNING version, deleted
            """.formatted(LEDGER_MAX);
    private static final String TOMBSTONE = """
            INSERT INTO chunks (chunk_id, version, deleted, privacy, metadata)
            VALUES (?, greatest(?::bigint, %s) + 1, true, 'FULL', '{}'::jsonb)
            ON CONFLICT (chunk_id) DO NOTHING RETURNING version
            """.formatted(LEDGER_MAX);
    private static final String LEAN_EVENT = "INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (?, ?, ?, ?)";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final BackendRegistry backends;
    private final RelayWakeup wakeup;
    private final ObjectMapper json;
    private final int pageSize;
    private final boolean checksumPages;

    public VerifyService(JdbcTemplate jdbc, TransactionTemplate tx, BackendRegistry backends, RelayWakeup wakeup,
            ObjectMapper json, @Value("${vectorsync.verify.page-size:500}") int pageSize,
            @Value("${vectorsync.verify.checksum-pages:true}") boolean checksumPages) {
        if (pageSize < 1 || pageSize > 10000) {
            throw new IllegalStateException("vectorsync.verify.page-size must be 1 to 10000 but was " + pageSize);
        }
        this.jdbc = jdbc;
        this.tx = tx;
        this.backends = backends;
        this.wakeup = wakeup;
        this.json = json;
        this.pageSize = pageSize;
        this.checksumPages = checksumPages;
    }

    @Override
    public String kind() {
        return "verify";
    }

    @Override
    public Map<String, Object> run(JsonNode request, JobService.Progress progress) {
        return verify(request.path("backend").asText(), request.path("repair").asBoolean(false), progress);
    }

    /** A chunk the backend holds differently: its id, the primary's version and the backend's (0 if absent). */
    private record Diff(String chunkId, long primaryVersion, long backendVersion) {}

    private static final class Tally {
        final Map<String, Long> counts = new LinkedHashMap<>();
        final Map<String, List<String>> samples = new LinkedHashMap<>();

        Tally() {
            for (String k : List.of("missing", "extra", "stale", "corrupt")) {
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

    public Map<String, Object> verify(String name, boolean repair, JobService.Progress progress) {
        Backend backend = backends.get(name);
        FieldAllowlist allow = backends.allowlist(name);
        Set<String> fields = backend.readBackFields();
        int ulps = backend.embeddingUlpTolerance();
        long started = System.nanoTime();

        // Counts first.
        long primaryCount = jdbc.queryForObject(
                "SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'", Long.class);
        String sameDbTable = checksumPages && backends.copiesPrimaryRows(name) ? backend.primaryDatabaseTable() : null;
        Long backendCountUpFront = sameDbTable == null ? null
                : jdbc.queryForObject("SELECT count(*) FROM " + sameDbTable, Long.class);
        long total = primaryCount + (backendCountUpFront == null ? primaryCount : backendCountUpFront);
        progress.update(0, total);

        Tally tally = new Tally();
        long repaired = 0;
        long done = 0;
        long skippedPages = 0;

        // Pass 1: the primary's live chunks, in chunk-id order.
        String after = null;
        while (true) {
            List<Map<String, Object>> page;
            if (sameDbTable != null) {
                // Ids first: a page whose checksum matches on both sides is never read into the JVM.
                List<String> ids = jdbc.queryForList(PRIMARY_IDS, String.class, after, after, pageSize);
                if (ids.isEmpty()) {
                    break;
                }
                String first = ids.get(0);
                after = ids.get(ids.size() - 1);
                done += ids.size();
                if (sameChecksum(sameDbTable, first, after)) {
                    skippedPages++;
                    progress.update(done, total);
                    continue;
                }
                page = primaryRows(PRIMARY_ROWS, (Object) ids.toArray(String[]::new));
            } else {
                page = primaryRows(PRIMARY_PAGE, after, after, pageSize);
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
                StoredChunk s = held.get(id);
                String what;
                if (s == null) {
                    what = "missing";
                } else if (s.version() < version) {
                    what = "stale";
                } else if (s.version() > version || !same(expected(row, allow), s.data(), fields, ulps)) {
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
            progress.update(done, total);
        }

        // Pass 2: what the backend holds, against the primary's live chunks.
        long backendCount = 0;
        String token = null;
        do {
            Backend.IdPage page = backend.listChunkIds(token, pageSize);
            token = page.next();
            backendCount += page.ids().size();
            done += page.ids().size();
            if (page.ids().isEmpty()) {
                continue; // an empty page (filtered, or the end of one of several collections) is not the end
            }
            Set<String> live = new HashSet<>(jdbc.queryForList(LIVE, String.class,
                    (Object) page.ids().toArray(String[]::new)));
            List<String> extras = page.ids().stream().filter(id -> !live.contains(id)).toList();
            extras.forEach(id -> tally.add("extra", id));
            if (repair && !extras.isEmpty()) {
                repaired += repairExtras(backend, extras);
            }
            progress.update(done, Math.max(total, done));
        } while (token != null);
        progress.update(done, done);

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
        log.info("Verify of backend '{}': {} primary, {} in the backend, {} missing, {} extra, {} stale, {} corrupt,"
                + " {} repaired, {} pages matched by checksum, in {} ms", name, primaryCount, backendCount,
                tally.counts.get("missing"), tally.counts.get("extra"), tally.counts.get("stale"),
                tally.counts.get("corrupt"), repaired, skippedPages, (System.nanoTime() - started) / 1_000_000);
        return result;
    }

    private List<Map<String, Object>> primaryRows(String sql, Object... args) {
        return jdbc.query(sql, (rs, n) -> {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("chunk_id", rs.getString("chunk_id"));
            r.put("version", rs.getLong("version"));
            r.put("document_id", rs.getString("document_id"));
            r.put("content", rs.getString("content"));
            Array a = rs.getArray("embedding");
            float[] e = null;
            if (a != null) {
                Object[] xs = (Object[]) a.getArray();
                e = new float[xs.length];
                for (int i = 0; i < xs.length; i++) {
                    e[i] = ((Number) xs[i]).floatValue();
                }
            }
            r.put("embedding", e);
            r.put("metadata", rs.getString("metadata"));
            r.put("privacy", rs.getString("privacy"));
            return r;
        }, args);
    }

    /** What the relay sends the backend for this row: privacy applied, then the field allowlist. */
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
     * For a target in the primary database that copies rows from {@code chunks}: true when the page's
     * range holds the same rows on both sides (checksum of id, version, fields, privacy applied; the
     * embedding by its binary float32 form, {@code array_send}, which is exact and cheap).
     */
    private boolean sameChecksum(String table, String from, String to) {
        Boolean same = jdbc.queryForObject("""
                SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(h, ',' ORDER BY chunk_id)), '')
                          FROM (SELECT chunk_id, md5(ROW(chunk_id, version, document_id,
                                       CASE WHEN privacy = 'REDACTED' THEN NULL ELSE content END,
                                       md5(array_send(embedding)), metadata::text, privacy)::text) AS h
                                  FROM chunks WHERE chunk_id BETWEEN ? AND ? AND NOT deleted
                                   AND privacy <> 'LOCAL_ONLY') p)
                     = (SELECT count(*) || ':' || coalesce(md5(string_agg(h, ',' ORDER BY chunk_id)), '')
                          FROM (SELECT chunk_id, md5(ROW(chunk_id, version, document_id, content,
                                       md5(array_send(embedding::real[])), metadata::text, privacy)::text) AS h
                                  FROM %s WHERE chunk_id BETWEEN ? AND ?) b)
                """.formatted(table), Boolean.class, from, to, from, to);
        return Boolean.TRUE.equals(same);
    }

    /**
     * Missing, stale and corrupt chunks are requested for this backend alone (ADR 019): its relay writes
     * each key's current state again, forced (a version equal to the one the backend holds is replaced,
     * never a newer one). No new version, no outbox event: the other backends are not written.
     */
    private int repairLive(Backend backend, List<Diff> diffs) {
        io.vectorsync.relay.RepairQueue queue = new io.vectorsync.relay.RepairQueue(jdbc, json, wakeup);
        queue.request(backend.name(),
                diffs.stream().map(d -> new io.vectorsync.relay.RepairQueue.Key(d.chunkId(), d.backendVersion())).toList());
        queue.wake();
        return diffs.size();
    }

    /**
     * Extras are requested for this backend alone, as deletes at the version it holds (or above, ADR 019);
     * see {@link RepairRequests#extras} for the tombstone an id no state holds gets in {@code chunks}.
     */
    private int repairExtras(Backend backend, List<String> extras) {
        Map<String, Long> versions = backend.readBackVersions(extras);
        io.vectorsync.relay.RepairQueue queue = new io.vectorsync.relay.RepairQueue(jdbc, json, wakeup);
        Integer n = tx.execute(s -> RepairRequests.extras(jdbc, queue, backend.name(), versions, extras));
        queue.wake();
        return n == null ? 0 : n;
    }
}
