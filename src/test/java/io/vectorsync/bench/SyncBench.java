package io.vectorsync.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.f4b6a3.ulid.UlidCreator;
import io.vectorsync.capture.ChunkInput;
import io.vectorsync.capture.ChunkStore;
import io.vectorsync.device.DeviceIdentity;
import io.vectorsync.domain.Privacy;
import io.vectorsync.support.AdjustableClock;
import io.vectorsync.support.SyncRig;
import io.vectorsync.support.SyncRig.Device;
import io.vectorsync.sync.SyncControl;
import io.vectorsync.sync.SyncUploader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A device's sync against its targets (issue 15), in one run (not a test: {@code bench/sync.sh [N] [WRITES]}).
 * A server (the application with its relay, on a fresh database of the local PostgreSQL) and one device (the
 * local profile on a SQLite file in a temp folder, reaching the remote through SyncRig's TCP proxy as a
 * member of {@code vectorsync_sync}); every figure has a ceiling measured in the same run, on the same
 * paths:
 *
 * <ol>
 *   <li><b>Outbox write</b>: WRITES single chunk writes through the device's {@link ChunkStore} (chunk row and
 *       outbox entry in one SQLite transaction), p50/p95/p99, with {@code vectorsync.local.synchronous} NORMAL
 *       (the default) and, on a second device that does not sync, FULL (ADR 026); ceiling: a plain SQLite
 *       insert loop of rows of the same size into a scratch table of the same file, one transaction each.
 *   <li><b>Batch of 50 uploaded</b>: one {@code SyncUploader.uploadNext} (read 50 entries, one call of
 *       {@code vectorsync.sync_apply}, outcomes recorded locally in one transaction), 40 times; ceilings: a
 *       plain JDBC call of the remote through the same proxy and role ({@code SELECT vectorsync.sync_hello}),
 *       and 50 rows inserted in one transaction of the remote by its owner.
 *   <li><b>Conflict detection</b>: calls of {@code sync_apply} (by the remote's owner) of 50 changes that
 *       all conflict (stale base version, policy remote-wins: decided, nothing written), per change; beside it
 *       50 changes that apply (new chunks), and the same conflicts with the embeddings as JSON arrays of
 *       numbers (what this bench sent before 2026-12-02 06:30; devices send PostgreSQL's array literal text).
 *       The chunks these direct calls wrote are then downloaded by the device, untimed for the drain (and
 *       reported as a note).
 *   <li><b>N pending drained</b>: N entries written while the sync is paused (in local batches of 500), then
 *       drained by {@code syncNow}: seconds and items/s (the sustained upload rate).
 *   <li><b>Sustained, end to end</b>: WRITES single writes while the sync runs (each write nudges the upload);
 *       items/s from the first write until the last is SYNCED.
 * </ol>
 *
 * Prints the table and writes {@code bench/results/sync-<time>.md} (system property {@code bench.results}).
 */
public final class SyncBench {

    static final int DIMENSION = 384;
    static final int BATCH = 50;
    static final int ROUNDS = 40;
    static final int WARM_UP = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter HLC = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final SplittableRandom random = new SplittableRandom(15);
    private final List<String> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10000;
        int writes = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        new SyncBench().run(n, writes);
        System.exit(0);
    }

    void run(int n, int writes) throws Exception {
        Path dir = Files.createTempDirectory("vsync-sync-bench");
        long started = System.nanoTime();
        try (SyncRig rig = new SyncRig("SyncBench")) {
            Device d = rig.device("bench", dir, new AdjustableClock(Duration.ZERO),
                    "vectorsync.sync.upload.poll-interval=1h", "vectorsync.sync.download.poll-interval=1h");
            Device full = rig.device("bench-full", Files.createTempDirectory("vsync-sync-bench-full"),
                    new AdjustableClock(Duration.ZERO), "vectorsync.local.synchronous=FULL",
                    "vectorsync.sync.enabled=false");
            ChunkStore store = d.bean(ChunkStore.class);
            SyncControl sync = d.bean(SyncControl.class);
            JdbcTemplate local = d.local();
            sync.syncNow(Duration.ofSeconds(30)); // hello, an empty snapshot: the remote is known

            outboxWrites(store, local, sync, writes, "NORMAL (the default)");
            outboxWrites(full.bean(ChunkStore.class), full.local(), full.bean(SyncControl.class), writes, "FULL");
            batches(rig, d, store, sync);
            conflicts(rig);
            downloads(local, sync);
            drain(store, local, sync, n);
            sustained(store, local, sync, writes);
        }
        String report = report(n, writes, (System.nanoTime() - started) / 1e9);
        System.out.println(report);
        Path out = Path.of(System.getProperty("bench.results", "bench/results"));
        Files.createDirectories(out);
        Path file = out.resolve("sync-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                + ".md");
        Files.writeString(file, report);
        System.out.println("written to " + file);
    }

    private ChunkInput chunk(String id) {
        float[] e = new float[DIMENSION];
        for (int i = 0; i < DIMENSION; i++) {
            e[i] = (float) random.nextDouble(-1, 1);
        }
        return new ChunkInput(id, "doc-" + (id.hashCode() & 15), text(), e, "{\"lang\":\"en\",\"source\":\"bench\"}",
                Privacy.FULL, null, false);
    }

    private String text() {
        StringBuilder s = new StringBuilder(200);
        while (s.length() < 200) {
            s.append("memory ").append(random.nextInt(100000)).append(' ');
        }
        return s.toString();
    }

    /** 1: single writes through the store, against a plain insert loop of the same bytes. */
    private void outboxWrites(ChunkStore store, JdbcTemplate local, SyncControl sync, int writes, String mode) {
        sync.pause();
        for (int i = 0; i < WARM_UP; i++) {
            store.upsert(chunk("warm-" + i));
        }
        long[] t = new long[writes];
        for (int i = 0; i < writes; i++) {
            ChunkInput c = chunk("w-" + i);
            long s = System.nanoTime();
            store.upsert(c);
            t[i] = System.nanoTime() - s;
        }
        String payload = local.queryForObject("SELECT payload FROM outbox ORDER BY id DESC LIMIT 1", String.class);
        local.execute("CREATE TABLE IF NOT EXISTS bench_ceiling (id INTEGER PRIMARY KEY AUTOINCREMENT, k TEXT,"
                + " payload TEXT)");
        for (int i = 0; i < WARM_UP; i++) {
            local.update("INSERT INTO bench_ceiling (k, payload) VALUES (?, ?)", "warm-" + i, payload);
        }
        long[] c = new long[writes];
        for (int i = 0; i < writes; i++) {
            long s = System.nanoTime();
            local.update("INSERT INTO bench_ceiling (k, payload) VALUES (?, ?)", "c-" + i, payload);
            c[i] = System.nanoTime() - s;
        }
        local.execute("DROP TABLE bench_ceiling");
        row("Outbox write (chunk + entry, one SQLite transaction), " + writes + " writes, synchronous=" + mode,
                percentiles(t),
                "plain SQLite insert of the same " + payload.length() + " B, one transaction: " + percentiles(c),
                "p95 < 0.5 ms (spec: 5 ms, max 10 ms)", p(t, 0.95) < 0.5);
        sync.resume();
        sync.syncNow(Duration.ofMinutes(5)); // drain what this phase wrote, untimed
    }

    /** 2: one batch of 50 uploaded, against a plain call of the remote and a plain 50-row transaction. */
    private void batches(SyncRig rig, Device d, ChunkStore store, SyncControl sync) {
        SyncUploader uploader = d.bean(SyncUploader.class);
        String device = d.bean(DeviceIdentity.class).deviceId();
        sync.pause();
        long[] t = new long[ROUNDS];
        for (int r = -5; r < ROUNDS; r++) { // five untimed rounds first
            List<ChunkInput> batch = new ArrayList<>();
            for (int i = 0; i < BATCH; i++) {
                batch.add(chunk("b-" + r + "-" + i));
            }
            store.upsertAll(batch);
            long s = System.nanoTime();
            uploader.uploadNext(device);
            if (r >= 0) {
                t[r] = System.nanoTime() - s;
            }
        }
        long pending = d.local().queryForObject("SELECT count(*) FROM outbox WHERE status = 'PENDING'", Long.class);
        if (pending != 0) {
            notes.add("after the batch rounds " + pending + " entries were still pending (a batch was cut short)");
        }
        // Ceiling 1: the cheapest call of the remote there is, through the same proxy and role.
        org.springframework.core.env.Environment env = d.bean(org.springframework.core.env.Environment.class);
        JdbcTemplate asDevice = new JdbcTemplate(new org.springframework.jdbc.datasource.DriverManagerDataSource(
                env.getProperty("vectorsync.sync.remote.jdbc-url"), env.getProperty("vectorsync.sync.remote.username"),
                env.getProperty("vectorsync.sync.remote.password")));
        long[] hello = new long[ROUNDS];
        try (var c = asDevice.getDataSource().getConnection();
                var ps = c.prepareStatement("SELECT vectorsync.sync_hello(?)")) {
            for (int r = -5; r < ROUNDS; r++) {
                long s = System.nanoTime();
                ps.setString(1, device);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                }
                if (r >= 0) {
                    hello[r] = System.nanoTime() - s;
                }
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        // Ceiling 2: 50 rows of the same shape in one transaction of the remote, by its owner.
        JdbcTemplate owner = rig.remote();
        owner.execute("CREATE TABLE bench_batch (chunk_id text PRIMARY KEY, content text, embedding real[],"
                + " metadata jsonb)");
        long[] plain = new long[ROUNDS];
        var tx = new org.springframework.transaction.support.TransactionTemplate(
                new org.springframework.jdbc.datasource.DataSourceTransactionManager(owner.getDataSource()));
        for (int r = -5; r < ROUNDS; r++) {
            List<Object[]> args = new ArrayList<>();
            for (int i = 0; i < BATCH; i++) {
                ChunkInput c = chunk("p-" + r + "-" + i);
                args.add(new Object[] {c.chunkId(), c.content(), vector(c.embedding()), c.metadataJson()});
            }
            long s = System.nanoTime();
            tx.executeWithoutResult(st -> owner.batchUpdate("INSERT INTO bench_batch VALUES (?, ?, ?::real[], ?::jsonb)",
                    args));
            if (r >= 0) {
                plain[r] = System.nanoTime() - s;
            }
        }
        owner.execute("DROP TABLE bench_batch");
        // Between the two: the remote's own share, the same kind of 50-change sync_apply call by the owner, direct.
        long[] direct = new long[ROUNDS];
        long[] upload = {1_000_000};
        for (int r = -5; r < ROUNDS; r++) {
            String changes;
            try {
                changes = changes("u" + (r + 5), 0, upload, true);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            long s = System.nanoTime();
            call(owner, "bench-direct-apply", changes, "{\"policy\":\"last-write-wins\",\"maxClockSkewSeconds\":300}");
            if (r >= 0) {
                direct[r] = System.nanoTime() - s;
            }
        }
        row("Batch of 50 uploaded (read, one sync_apply call, outcomes recorded), " + ROUNDS + " batches",
                percentiles(t), "SELECT vectorsync.sync_hello through the same proxy: " + percentiles(hello)
                        + "; 50 plain rows in one remote transaction: " + percentiles(plain)
                        + "; the remote's share, sync_apply of 50 new chunks by its owner without the proxy: "
                        + percentiles(direct),
                "< 50 ms (spec: 2 s, max 5 s)", p(t, 0.5) < 50);
        sync.resume();
    }

    /** 3: sync_apply with 50 changes that all conflict (remote wins: decided, nothing written) and 50 that apply. */
    private void conflicts(SyncRig rig) throws IOException {
        JdbcTemplate owner = rig.remote();
        String device = "bench-direct";
        String options = "{\"policy\":\"remote-wins\",\"maxClockSkewSeconds\":300}";
        long[] upload = {0};
        call(owner, device, changes("k", 0, upload, true), options); // the 50 chunks, at version 1
        long[] conflict = new long[ROUNDS];
        long[] applied = new long[ROUNDS];
        long[] asArrays = new long[ROUNDS];
        for (int r = -5; r < ROUNDS; r++) {
            String stale = changes("k", 0, upload, true); // same chunks, base 0 < 1: every change conflicts
            String fresh = changes("a" + (r + 5), 0, upload, true); // new chunks: every change applies
            String staleArrays = changes("k", 0, upload, false);
            long s = System.nanoTime();
            JsonNode out = call(owner, device, stale, options);
            long m = System.nanoTime();
            call(owner, device, fresh, options);
            long e = System.nanoTime();
            call(owner, device, staleArrays, options);
            long a = System.nanoTime();
            if (r >= 0) {
                conflict[r] = m - s;
                applied[r] = e - m;
                asArrays[r] = a - e;
            }
            if (r == -5 && !"CONFLICT".equals(out.at("/outcomes/0/status").asText())) {
                notes.add("conflict phase: the first outcome was " + out.at("/outcomes/0/status").asText());
            }
        }
        long[] perConflict = Arrays.stream(conflict).map(x -> x / BATCH).toArray();
        long[] perApplied = Arrays.stream(applied).map(x -> x / BATCH).toArray();
        long[] perArrays = Arrays.stream(asArrays).map(x -> x / BATCH).toArray();
        row("Conflict detection: per change of a 50-change sync_apply call that all conflict", percentiles(perConflict),
                "per change of a call of 50 that all apply (write chunk + outbox event): " + percentiles(perApplied)
                        + "; the same conflicts with embeddings as JSON arrays of numbers (as this bench sent them"
                        + " before): " + percentiles(perArrays),
                "< 0.1 ms (spec: 1 ms)", p(perConflict, 0.5) < 0.1);
    }

    /** The chunks the direct calls wrote reach the device: downloaded before the drain, so it times uploads only. */
    private void downloads(JdbcTemplate local, SyncControl sync) {
        long before = local.queryForObject("SELECT count(*) FROM inbox", Long.class);
        long s = System.nanoTime();
        sync.syncNow(Duration.ofMinutes(5));
        double secs = (System.nanoTime() - s) / 1e9;
        long got = local.queryForObject("SELECT count(*) FROM inbox", Long.class) - before;
        notes.add(String.format(Locale.ROOT, "before the drain, the device downloaded the %d changes the direct calls"
                + " made, in %.2f s (%.0f items/s); earlier runs timed this download inside the drain", got, secs,
                got / secs));
    }

    /**
     * 50 changes of new or existing chunks; embeddings as devices send them (PostgreSQL's array literal text)
     * with {@code literal}, else as JSON arrays of numbers.
     */
    private String changes(String prefix, long base, long[] upload, boolean literal) throws IOException {
        ArrayNode a = JSON.createArrayNode();
        String now = HLC.format(Instant.now().minusSeconds(3600)); // older than the remote's rows: remote wins
        for (int i = 0; i < BATCH; i++) {
            ChunkInput c = chunk("bc-" + prefix + "-" + i);
            ObjectNode o = a.addObject();
            o.put("key", UlidCreator.getMonotonicUlid().toString());
            o.put("uploadId", ++upload[0]);
            o.put("op", "UPSERT");
            o.put("chunkId", c.chunkId());
            o.put("baseVersion", base);
            o.put("modifiedAt", now);
            o.put("privacy", "FULL");
            o.put("documentId", c.documentId());
            o.put("content", c.content());
            if (literal) {
                o.put("embedding", vector(c.embedding()));
            } else {
                ArrayNode e = o.putArray("embedding");
                for (float f : c.embedding()) {
                    e.add(f);
                }
            }
            o.set("metadata", JSON.readTree(c.metadataJson()));
        }
        return JSON.writeValueAsString(a);
    }

    private static JsonNode call(JdbcTemplate owner, String device, String changes, String options) {
        String out = owner.queryForObject("SELECT vectorsync.sync_apply(?, 0, ?::jsonb, ?::jsonb)::text", String.class,
                device, changes, options);
        try {
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** 4: N entries written while paused, then drained. */
    private void drain(ChunkStore store, JdbcTemplate local, SyncControl sync, int n) {
        sync.pause();
        for (int k = 0; k < n; k += 500) {
            List<ChunkInput> batch = new ArrayList<>();
            for (int i = k; i < Math.min(n, k + 500); i++) {
                batch.add(chunk("n-" + i));
            }
            store.upsertAll(batch);
        }
        sync.resume();
        long s = System.nanoTime();
        while (pending(local) > 0 && System.nanoTime() - s < Duration.ofMinutes(10).toNanos()) {
            sync.syncNow(Duration.ofMinutes(5));
        }
        double secs = (System.nanoTime() - s) / 1e9;
        long left = pending(local);
        row(n + " pending entries drained (batches of 50)", String.format(Locale.ROOT, "%.2f s, %.0f items/s", secs,
                (n - left) / secs), left == 0 ? "all synced" : left + " still pending",
                "≥ 5,000 items/s (spec: 100 items/s; 10k pending)", left == 0 && (n - left) / secs >= 5000);
    }

    /** 5: single writes while the sync runs, until the last is SYNCED. */
    private void sustained(ChunkStore store, JdbcTemplate local, SyncControl sync, int writes) {
        long s = System.nanoTime();
        for (int i = 0; i < writes; i++) {
            store.upsert(chunk("s-" + i));
        }
        double written = (System.nanoTime() - s) / 1e9;
        while (pending(local) > 0 && System.nanoTime() - s < Duration.ofMinutes(10).toNanos()) {
            sync.syncNow(Duration.ofSeconds(30)); // the nudged upload runs meanwhile; this waits for it
        }
        double secs = (System.nanoTime() - s) / 1e9;
        row(writes + " single writes while syncing, until the last is SYNCED", String.format(Locale.ROOT,
                "%.2f s, %.0f items/s", secs, writes / secs), String.format(Locale.ROOT,
                "the writes alone took %.2f s (%.0f/s)", written, writes / written), "≥ 5,000 items/s",
                writes / secs >= 5000);
    }

    private static long pending(JdbcTemplate local) {
        return local.queryForObject("SELECT count(*) FROM outbox WHERE status = 'PENDING'", Long.class);
    }

    /** As a device writes it (SqliteChunkStore): PostgreSQL's array literal text. */
    private static String vector(float[] e) {
        return io.vectorsync.backend.FloatText.vector(e, false);
    }

    private void row(String what, String measured, String ceiling, String target, boolean met) {
        rows.add("| " + what + " | " + measured + " | " + ceiling + " | " + target + " | " + (met ? "met" : "NOT met")
                + " |");
    }

    static double p(long[] nanos, double q) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)] / 1e6;
    }

    static String percentiles(long[] nanos) {
        return String.format(Locale.ROOT, "p50 %.3f ms, p95 %.3f ms, p99 %.3f ms", p(nanos, 0.5), p(nanos, 0.95),
                p(nanos, 0.99));
    }

    private String report(int n, int writes, double total) {
        StringBuilder b = new StringBuilder("# Sync benchmark (bench/sync.sh " + n + " " + writes + ")\n\n");
        b.append("- Run: ").append(LocalDateTime.now()).append(", ").append(String.format(Locale.ROOT, "%.0f s", total))
                .append(" in all\n");
        b.append("- Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, load average ")
                .append(String.format(Locale.ROOT, "%.2f", ManagementFactory.getOperatingSystemMXBean()
                        .getSystemLoadAverage())).append(" at the end; JVM ").append(System.getProperty("java.version"))
                .append('\n');
        b.append("- Device: SQLite (WAL, synchronous=NORMAL, the default of vectorsync.local.synchronous; the"
                + " outbox write with FULL on a second device) in a temp folder; remote: the local PostgreSQL through a"
                + " TCP proxy (SyncRig), the device logged in as a member of vectorsync_sync; the server's relay runs"
                + " beside it. Embeddings of 384 floats, ~200 characters of text.\n\n");
        b.append("| Measure | Result | Ceiling, same run | Target | |\n| --- | --- | --- | --- | --- |\n");
        rows.forEach(r -> b.append(r).append('\n'));
        if (!notes.isEmpty()) {
            b.append('\n');
            notes.forEach(x -> b.append("- Note: ").append(x).append('\n'));
        }
        return b.toString();
    }
}
