package io.vectorsync.support;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Application writers that keep changing chunks while the relay runs, crashes and restarts, straight
 * through SQL in the primary database, each change and its outbox event in one transaction:
 * <ul>
 * <li>{@code l-*} and {@code cl-*} chunks get lean events (no payload; the relay reads the row), as the
 * capture API writes;</li>
 * <li>{@code f-*} and {@code cf-*} chunks live in the application's own table {@code app_chunks} (the
 * shape of {@code chunks}; a chunk of {@code chunks} is the API's, ADR 019) and get full-payload events
 * through {@code vectorsync.enqueue(...)}, built from the row;</li>
 * <li>{@code l-*}/{@code f-*} are 300 hot chunks shared by all writers; {@code cl-*}/{@code cf-*} are created
 * by one writer and changed only a few times, so a lost event shows;</li>
 * <li>writes are upserts, deletes (a tombstone), re-creations and privacy changes, one to three chunks
 * per transaction (locked in id order, so writers never deadlock), and some transactions roll back;</li>
 * <li>one writer keeps a transaction open for over a second at a time on its own {@code t-*} chunks,
 * so windows are read while older transactions are still in progress.</li>
 * </ul>
 * Paced by a scheduler (a few hundred transactions a second), not by sleeping. Embedding values are
 * multiples of 1/512, exact in float, double and decimal, so full payloads round-trip exactly.
 */
public final class ChunkWriters implements AutoCloseable {

    /** The application's table for the chunks it enqueues with full payloads. */
    static final String APP_TABLE = "CREATE TABLE IF NOT EXISTS app_chunks (LIKE chunks INCLUDING ALL)";
    private static final String UPSERT = """
            INSERT INTO %1$s AS c (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted, updated_at)
            VALUES (?, 1, ?, ?, ?::real[], ?::jsonb, ?, false, clock_timestamp())
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = c.version + 1, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
                   embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
                   deleted = false, updated_at = EXCLUDED.updated_at
            RETURNING version
            """;
    private static final String DELETE = """
            UPDATE %1$s
               SET version = version + 1, deleted = true, content = NULL, embedding = NULL, document_id = NULL,
                   metadata = '{}'::jsonb, updated_at = clock_timestamp()
             WHERE chunk_id = ? AND NOT deleted
            RETURNING version
            """;
    private static final String LEAN_EVENT = """
            INSERT INTO outbox (event_id, type, chunk_id, version) VALUES (vectorsync.ulid(), ?, ?, ?)
            """;
    /** The application's own full payload, restricted fields left out as docs/design.md asks. */
    private static final String ENQUEUE_UPSERT = """
            SELECT vectorsync.enqueue('UPSERT', chunk_id, version, jsonb_build_object(
                       'documentId', document_id,
                       'content', CASE WHEN privacy = 'FULL' THEN content END,
                       'embedding', to_jsonb(embedding),
                       'metadata', metadata,
                       'privacy', privacy))
              FROM app_chunks WHERE chunk_id = ?
            """;
    private static final String ENQUEUE_DELETE = "SELECT vectorsync.enqueue('DELETE', ?, ?, NULL)";

    private final String database;
    private final int dimension;
    private final ScheduledExecutorService scheduler;
    private final List<Connection> connections = new ArrayList<>();
    private final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong rolledBack = new AtomicLong();
    private Connection longConnection;
    private long longOpenedAt;
    private boolean closed;

    private ChunkWriters(String database, int dimension, int writers) {
        this.database = database;
        this.dimension = dimension;
        this.scheduler = Executors.newScheduledThreadPool(writers + 1, r -> {
            Thread t = new Thread(r, "chunk-writer");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts {@code writers} writers, each committing a transaction every {@code everyMillis} at most,
     * plus the writer of long transactions. The database must already be migrated.
     */
    public static ChunkWriters start(String database, int dimension, int writers, long everyMillis, long seed)
            throws SQLException {
        ChunkWriters w = new ChunkWriters(database, dimension, writers);
        try (Connection c = TestDatabases.connect(database); java.sql.Statement st = c.createStatement()) {
            st.execute(APP_TABLE);
        }
        SplittableRandom seeds = new SplittableRandom(seed);
        for (int i = 0; i < writers; i++) {
            Writer writer = w.new Writer(i, w.connect(), seeds.split());
            w.scheduler.scheduleWithFixedDelay(writer::writeOne, 0, everyMillis, TimeUnit.MILLISECONDS);
        }
        w.longConnection = w.connect();
        SplittableRandom random = seeds.split();
        w.scheduler.scheduleWithFixedDelay(() -> w.longTransaction(random), 0, 100, TimeUnit.MILLISECONDS);
        return w;
    }

    private Connection connect() throws SQLException {
        Connection c = TestDatabases.connect(database);
        c.setAutoCommit(false);
        connections.add(c);
        return c;
    }

    /**
     * One writer. A third of its changes create a new chunk and a quarter change one it created before
     * (so many chunks are written once or a few times: an event lost there stays lost, a later write of
     * the same chunk can't hide it); the rest hit 300 hot chunks shared by all writers.
     */
    private final class Writer {
        private final int number;
        private final Connection c;
        private final SplittableRandom random;
        private final List<String> cold = new ArrayList<>();

        Writer(int number, Connection c, SplittableRandom random) {
            this.number = number;
            this.c = c;
            this.random = random;
        }

        void writeOne() {
            try {
                TreeSet<String> ids = new TreeSet<>();
                int n = random.nextInt(10) < 8 ? 1 : 1 + random.nextInt(3);
                while (ids.size() < n) {
                    ids.add(pick());
                }
                for (String id : ids) {
                    change(c, id, random);
                }
                if (random.nextInt(20) == 0) {
                    c.rollback();
                    rolledBack.incrementAndGet();
                } else {
                    c.commit();
                    committed.incrementAndGet();
                }
            } catch (Throwable e) {
                errors.add(e);
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is broken; the error is recorded
                }
            }
        }

        private String pick() {
            int r = random.nextInt(100);
            if (r < 35) {
                String id = (random.nextBoolean() ? "cl-" : "cf-") + number + "-" + cold.size();
                cold.add(id);
                return id;
            }
            if (r < 60 && !cold.isEmpty()) {
                return cold.get(random.nextInt(cold.size()));
            }
            return (random.nextBoolean() ? "l-" : "f-") + random.nextInt(150);
        }
    }

    /** Opens a transaction on a {@code t-*} chunk, and commits it once it has been open for 1.2 s. */
    private void longTransaction(SplittableRandom random) {
        try {
            if (longOpenedAt == 0) {
                change(longConnection, "t-" + random.nextInt(20), random);
                longOpenedAt = System.nanoTime();
            } else if (System.nanoTime() - longOpenedAt > TimeUnit.MILLISECONDS.toNanos(1200)) {
                longConnection.commit();
                committed.incrementAndGet();
                longOpenedAt = 0;
            }
        } catch (Throwable e) {
            errors.add(e);
        }
    }

    /** One change of one chunk and its event, in the caller's transaction. */
    private void change(Connection c, String id, SplittableRandom random) throws SQLException {
        boolean full = id.startsWith("f-") || id.startsWith("cf-")
                || (id.startsWith("t-") && Integer.parseInt(id.substring(2)) % 2 == 1);
        String table = full ? "app_chunks" : "chunks";
        if (random.nextInt(100) < 15) {
            Long v = single(c, DELETE.formatted(table), id);
            if (v != null) {
                event(c, full, "DELETE", id, v);
            }
            return;
        }
        int p = random.nextInt(100);
        String privacy = p < 80 ? "FULL" : p < 90 ? "REDACTED" : "LOCAL_ONLY";
        try (PreparedStatement ps = c.prepareStatement(UPSERT.formatted(table))) {
            ps.setString(1, id);
            ps.setString(2, "doc-" + random.nextInt(20));
            ps.setString(3, "content " + Long.toHexString(random.nextLong()));
            ps.setString(4, embedding(random));
            ps.setString(5, "{\"n\":" + random.nextInt(1000) + ",\"lang\":\"en\"}");
            ps.setString(6, privacy);
            long v;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                v = rs.getLong(1);
            }
            event(c, full, "UPSERT", id, v);
        }
    }

    private void event(Connection c, boolean full, String type, String id, long version) throws SQLException {
        if (!full) {
            try (PreparedStatement ps = c.prepareStatement(LEAN_EVENT)) {
                ps.setString(1, type);
                ps.setString(2, id);
                ps.setLong(3, version);
                ps.executeUpdate();
            }
        } else if (type.equals("DELETE")) {
            try (PreparedStatement ps = c.prepareStatement(ENQUEUE_DELETE)) {
                ps.setString(1, id);
                ps.setLong(2, version);
                ps.executeQuery().close();
            }
        } else {
            try (PreparedStatement ps = c.prepareStatement(ENQUEUE_UPSERT)) {
                ps.setString(1, id);
                ps.executeQuery().close();
            }
        }
    }

    private static Long single(Connection c, String sql, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private String embedding(SplittableRandom random) {
        StringBuilder sb = new StringBuilder(dimension * 8).append('{');
        for (int i = 0; i < dimension; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append((random.nextInt(1025) - 512) / 512f);
        }
        return sb.append('}').toString();
    }

    public long committed() {
        return committed.get();
    }

    public long rolledBack() {
        return rolledBack.get();
    }

    /** Failures of the writers themselves (none expected). */
    public List<Throwable> errors() {
        return List.copyOf(errors);
    }

    /** Stops writing; the open long transaction commits, so every change has its event. */
    @Override
    public synchronized void close() throws Exception {
        if (closed) {
            return;
        }
        closed = true;
        scheduler.shutdown();
        if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
            scheduler.shutdownNow();
            throw new IllegalStateException("writers did not stop");
        }
        if (longConnection != null && longOpenedAt != 0) {
            longConnection.commit();
            committed.incrementAndGet();
        }
        for (Connection c : connections) {
            c.close();
        }
    }
}
