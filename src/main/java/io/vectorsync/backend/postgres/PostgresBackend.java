package io.vectorsync.backend.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.vectorsync.backend.BackendFencedException;
import io.vectorsync.backend.FloatText;
import io.vectorsync.backend.HealthProbe;
import io.vectorsync.backend.InPrimaryDatabase;
import io.vectorsync.backend.LeaseFence;
import io.vectorsync.backend.PermanentBackendException;
import io.vectorsync.backend.ReadBack;
import io.vectorsync.backend.StoredChunk;
import io.vectorsync.backend.TransientBackendException;
import io.vectorsync.config.BackendBlocks;
import io.vectorsync.config.VectorsyncProperties;
import io.vectorsync.domain.Change;
import io.vectorsync.domain.ChunkData;
import io.vectorsync.domain.Embeddings;
import io.vectorsync.domain.Privacy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * The PostgreSQL backend: a target table, {@code vector(n)} when pgvector is available and
 * {@code real[]} otherwise, upserted only when the incoming version is newer and deleted on DELETE.
 * Without a {@code jdbc-url} it writes through the primary's transaction, so write, ledger and cursor
 * commit together; with one, it commits its own transaction before returning, fenced by the lease
 * epoch (table {@code vectorsync_fence} in that database) so a stalled former lease holder can't write.
 */
public class PostgresBackend implements ReadBack, HealthProbe, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PostgresBackend.class);
    private static final Pattern TABLE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}(\\.[a-z_][a-z0-9_]{0,62})?");

    /** Replaces the row only with a newer version. */
    private static final String UPSERT_GUARD = """
            ON CONFLICT (chunk_id) DO UPDATE
               SET version = EXCLUDED.version, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
                   embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
                   synced_at = EXCLUDED.synced_at
             WHERE t.version < EXCLUDED.version
            """;
    /** Upserts unless the row or a tombstone already holds this version or a newer one. */
    private static final String UPSERT = """
            INSERT INTO %1$s AS t (chunk_id, version, document_id, content, embedding, metadata, privacy, synced_at)
            SELECT v.chunk_id, v.version, v.document_id, v.content, v.embedding::%2$s, v.metadata::jsonb, v.privacy,
                   clock_timestamp()
              FROM (VALUES (?, ?::bigint, ?, ?, ?, ?, ?)) AS v(chunk_id, version, document_id, content, embedding,
                                                                metadata, privacy)
             WHERE NOT EXISTS (SELECT 1 FROM vectorsync_tombstones d
                                WHERE d.target = ? AND d.chunk_id = v.chunk_id AND d.version >= v.version)
            """ + UPSERT_GUARD;
    /**
     * The copy of API-managed chunks for a target in the primary database: straight from {@code chunks},
     * with the privacy rules of the relay (REDACTED without content; LOCAL_ONLY and deleted rows not
     * copied), the same version guard and tombstone check, and no embedding through the JVM.
     */
    private static final String COPY = """
            INSERT INTO %1$s AS t (chunk_id, version, document_id, content, embedding, metadata, privacy, synced_at)
            SELECT c.chunk_id, c.version, c.document_id,
                   CASE WHEN c.privacy = 'REDACTED' THEN NULL ELSE c.content END,
                   c.embedding::%2$s, c.metadata, c.privacy, clock_timestamp()
              FROM unnest(?::text[]) AS k(id)
              JOIN chunks c ON c.chunk_id = k.id
             WHERE NOT c.deleted AND c.privacy <> 'LOCAL_ONLY'
               AND NOT EXISTS (SELECT 1 FROM vectorsync_tombstones d
                                WHERE d.target = ? AND d.chunk_id = c.chunk_id AND d.version >= c.version)
            """ + UPSERT_GUARD;
    private static final String DELETE = "DELETE FROM %1$s WHERE chunk_id = ? AND version < ?";
    /** A repair's forced writes (ADR 019): a row or tombstone at the same version is replaced too. */
    private static final String UPSERT_FORCED = forced(UPSERT);
    private static final String COPY_FORCED = forced(COPY);
    private static final String DELETE_FORCED = DELETE.replace("version < ?", "version <= ?");

    private static String forced(String sql) {
        String out = sql.replace("t.version < EXCLUDED.version", "t.version <= EXCLUDED.version")
                .replace("d.version >= v.version", "d.version > v.version")
                .replace("d.version >= c.version", "d.version > c.version");
        if (out.equals(sql)) {
            throw new IllegalStateException("the forced statements must relax the version guard");
        }
        return out;
    }
    /**
     * A delete leaves its version behind, in the backend's own database, so an older upsert arriving
     * later (a replay re-cut after a crash, a stalled holder) can't bring the chunk back.
     */
    private static final String TOMBSTONE = """
            INSERT INTO vectorsync_tombstones AS d (target, chunk_id, version) VALUES (?, ?, ?)
            ON CONFLICT (target, chunk_id) DO UPDATE SET version = EXCLUDED.version, deleted_at = clock_timestamp()
             WHERE d.version < EXCLUDED.version
            """;
    private static final String CREATE_TOMBSTONES = """
            CREATE TABLE IF NOT EXISTS vectorsync_tombstones (
                target     text NOT NULL,
                chunk_id   text NOT NULL,
                version    bigint NOT NULL,
                deleted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                PRIMARY KEY (target, chunk_id)
            )
            """;
    private static final String READ_BACK = """
            SELECT chunk_id, version, document_id, content, embedding::real[], metadata::text, privacy
              FROM %1$s WHERE chunk_id = ANY (?)
            """;
    /**
     * The idempotency keys ({@code chunkId:version}) a remote target has applied, written in the same
     * transaction as the rows: a replayed event is recognised as a duplicate and acknowledged without
     * touching the rows (the sync spec's FR-030/031).
     */
    private static final String CREATE_APPLIED = """
            CREATE TABLE IF NOT EXISTS vectorsync_applied (
                target     text NOT NULL,
                event_key  text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                PRIMARY KEY (target, event_key)
            )
            """;
    /**
     * Records the keys and returns those to write: the keys seen for the first time, and the keys seen
     * before whose version the target no longer holds (no row and no tombstone at that version or newer:
     * a wiped or truncated table, ADR 010), so a backfill, repair or replay rewrites what is gone.
     */
    private static final String RECORD_APPLIED = """
            WITH k AS (SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[]) AS k(event_key, chunk_id, version)),
                 fresh AS (INSERT INTO vectorsync_applied (target, event_key) SELECT ?, k.event_key FROM k
                           ON CONFLICT DO NOTHING RETURNING event_key)
            SELECT event_key FROM fresh
            UNION
            SELECT k.event_key FROM k
             WHERE NOT EXISTS (SELECT 1 FROM %1$s t WHERE t.chunk_id = k.chunk_id AND t.version >= k.version)
               AND NOT EXISTS (SELECT 1 FROM vectorsync_tombstones d
                                WHERE d.target = ? AND d.chunk_id = k.chunk_id AND d.version >= k.version)
            """;
    private static final String CREATE_TABLE = """
            CREATE TABLE IF NOT EXISTS %1$s (
                chunk_id    text PRIMARY KEY,
                version     bigint NOT NULL,
                document_id text,
                content     text,
                embedding   %2$s,
                metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
                privacy     text NOT NULL,
                synced_at   timestamptz NOT NULL DEFAULT clock_timestamp()
            )
            """;
    /**
     * The lease epoch of the last holder that wrote the table, in the backend's database: a write takes
     * this row's lock first, so writes of two holders serialise, and one of an older epoch is refused.
     */
    private static final String CREATE_FENCE = """
            CREATE TABLE IF NOT EXISTS vectorsync_fence (
                target    text PRIMARY KEY,
                epoch     bigint NOT NULL,
                fenced_at timestamptz NOT NULL DEFAULT clock_timestamp()
            )
            """;
    private static final String FENCE = """
            INSERT INTO vectorsync_fence AS f (target, epoch) VALUES (?, ?)
            ON CONFLICT (target) DO UPDATE SET epoch = EXCLUDED.epoch, fenced_at = clock_timestamp()
             WHERE f.epoch <= EXCLUDED.epoch
            RETURNING epoch
            """;
    private static final String FENCE_EPOCH = "SELECT epoch FROM vectorsync_fence WHERE target = ?";
    private static final String EMBEDDING_TYPE = """
            SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
             WHERE a.attrelid = ?::regclass AND a.attname = 'embedding' AND NOT a.attisdropped
            """;

    private final String name;
    private final String table;
    private final int dimension;
    private final DataSource dataSource;
    private final boolean sharesPrimary;
    private String vectorCast = "real[]";
    private final java.util.concurrent.atomic.AtomicLong duplicates = new java.util.concurrent.atomic.AtomicLong();

    /**
     * The backend for this configuration: without a {@code jdbc-url} a table in the primary database
     * ({@link InPrimaryDatabase}), otherwise one in a database of its own.
     */
    public static PostgresBackend of(String name, VectorsyncProperties.Backend config, DataSource primary, int dimension) {
        String jdbcUrl = config.postgres().jdbcUrl();
        return jdbcUrl == null || jdbcUrl.isBlank()
                ? new InPrimary(name, config, primary, dimension)
                : new PostgresBackend(name, config, primary, dimension);
    }

    /** A target table in the primary database: written in the primary's transaction, copying its rows. */
    static final class InPrimary extends PostgresBackend implements InPrimaryDatabase {

        private InPrimary(String name, VectorsyncProperties.Backend config, DataSource primary, int dimension) {
            super(name, config, primary, dimension);
        }

        @Override
        public void applyInPrimaryTransaction(List<Change> changes) {
            write(changes, null);
        }

        @Override
        public String table() {
            return super.table;
        }
    }

    public PostgresBackend(String name, VectorsyncProperties.Backend config, DataSource primary, int dimension) {
        this.name = name;
        BackendBlocks.Postgres postgres = config.postgres();
        this.table = postgres.table();
        this.dimension = dimension;
        if (!TABLE_NAME.matcher(table).matches()) {
            throw new IllegalStateException("vectorsync.backends." + name
                    + ".postgres.table must be a lowercase SQL identifier (optionally schema-qualified) but was '"
                    + table + "'");
        }
        if (postgres.jdbcUrl() == null || postgres.jdbcUrl().isBlank()) {
            this.dataSource = primary;
            this.sharesPrimary = true;
        } else {
            HikariConfig hc = new HikariConfig();
            hc.setPoolName("backend-" + name);
            hc.setJdbcUrl(postgres.jdbcUrl());
            hc.setUsername(postgres.username());
            hc.setPassword(postgres.password());
            hc.setMaximumPoolSize(2);
            hc.setMinimumIdle(0);
            hc.setAutoCommit(false);
            hc.setConnectionTimeout(Math.max(250, config.connectTimeout().toMillis()));
            hc.setInitializationFailTimeout(-1);
            hc.addDataSourceProperty("connectTimeout", Math.max(1, config.connectTimeout().toSeconds()));
            hc.addDataSourceProperty("socketTimeout", Math.max(1, config.readTimeout().toSeconds()));
            hc.addDataSourceProperty("reWriteBatchedInserts", "true");
            // A relay frozen inside its write must not hold the fence row's lock forever.
            hc.addDataSourceProperty("options", "-c idle_in_transaction_session_timeout=60000");
            this.dataSource = new HikariDataSource(hc);
            this.sharesPrimary = false;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void bootstrap() {
        try {
            boolean pgvector = ensurePgvector();
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(true);
                String wanted = pgvector ? "vector(" + dimension + ")" : "real[]";
                try (var s = c.createStatement()) {
                    s.execute(CREATE_TABLE.formatted(table, wanted));
                    s.execute(CREATE_TOMBSTONES);
                    if (!sharesPrimary) {
                        s.execute(CREATE_FENCE);
                        s.execute(CREATE_APPLIED);
                    }
                }
                String actual;
                try (PreparedStatement ps = c.prepareStatement(EMBEDDING_TYPE)) {
                    ps.setString(1, table);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        actual = rs.getString(1);
                    }
                }
                vectorCast = actual.startsWith("vector") ? "vector" : "real[]";
                if (vectorCast.equals("vector")) {
                    log.info("Backend '{}' writes table {} with embedding {} (pgvector)", name, table, actual);
                } else {
                    log.warn("Backend '{}' writes table {} with embedding real[]: the pgvector extension is not"
                            + " available in its database (install it and recreate the table for vector search)",
                            name, table);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Backend '" + name + "' could not prepare table " + table + ": "
                    + SqlErrors.describe(e), e);
        }
    }

    /** True when pgvector is installed in the target database, installing it if it is available. */
    private boolean ensurePgvector() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            try (var s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT (SELECT count(*) FROM pg_extension WHERE extname = 'vector'),"
                            + " (SELECT count(*) FROM pg_available_extensions WHERE name = 'vector')")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return true;
                }
                if (rs.getLong(2) == 0) {
                    return false;
                }
            }
        }
        // Available but not installed: try; a role without the right to create it falls back to real[].
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            try (var s = c.createStatement()) {
                s.execute("CREATE EXTENSION IF NOT EXISTS vector");
                return true;
            } catch (SQLException e) {
                log.warn("Backend '{}': pgvector is available but could not be created ({})", name, SqlErrors.describe(e));
                return false;
            }
        }
    }

    /** The SQL type the embedding column has: {@code vector} or {@code real[]}. */
    String embeddingType() {
        return vectorCast;
    }

    /**
     * In its own database, the write first takes the fence for this lease epoch in the same transaction,
     * and is refused if a newer epoch has written (the fence is kept per backend, so partition 0 only). In
     * the primary's transaction the cursor's compare-and-set already fences it.
     */
    @Override
    public void apply(List<Change> changes, LeaseFence fence) {
        if (fence.partition() != 0) {
            throw new IllegalStateException("backend '" + name + "' keys its fence by partition 0 only, not "
                    + fence.partition());
        }
        write(changes, sharesPrimary ? null : fence.epoch());
    }

    final void write(List<Change> changes, Long fence) {
        if (changes.isEmpty()) {
            return;
        }
        try {
            inTransaction(c -> {
                if (fence != null) {
                    fence(c, fence);
                }
                List<Change> todo = sharesPrimary ? changes : firstTimeOnly(c, changes);
                write(c, todo.stream().filter(ch -> !ch.overwriteEqual()).toList(), false);
                write(c, todo.stream().filter(Change::overwriteEqual).toList(), true);
                return null;
            });
        } catch (SQLException e) {
            throw classify(e);
        }
    }

    /** Writes the changes with the normal version guard, or forced (a repair, ADR 019). */
    private void write(Connection c, List<Change> todo, boolean forced) throws SQLException {
        if (todo.isEmpty()) {
            return;
        }
        try (PreparedStatement up = c.prepareStatement((forced ? UPSERT_FORCED : UPSERT).formatted(table, vectorCast));
                PreparedStatement del = c.prepareStatement((forced ? DELETE_FORCED : DELETE).formatted(table));
                PreparedStatement tomb = c.prepareStatement(TOMBSTONE)) {
            int ups = 0;
            int dels = 0;
            List<String> copies = new java.util.ArrayList<>();
            for (Change ch : todo) {
                if (ch.copiesFromPrimary()) {
                    copies.add(ch.key());
                } else if (ch.op() == Change.Op.UPSERT) {
                    bindUpsert(up, ch);
                    up.addBatch();
                    ups++;
                } else {
                    del.setString(1, ch.key());
                    del.setLong(2, ch.version());
                    del.addBatch();
                    tomb.setString(1, table);
                    tomb.setString(2, ch.key());
                    tomb.setLong(3, ch.version());
                    tomb.addBatch();
                    dels++;
                }
            }
            // Tombstones first, so an upsert of the same batch can't outrun its own delete.
            if (dels > 0) {
                tomb.executeBatch();
                del.executeBatch();
            }
            if (ups > 0) {
                up.executeBatch();
            }
            if (!copies.isEmpty()) {
                if (!sharesPrimary) {
                    throw new IllegalStateException("backend '" + name + "' can't copy rows from another database");
                }
                try (PreparedStatement copy = c.prepareStatement((forced ? COPY_FORCED : COPY).formatted(table, vectorCast))) {
                    copy.setArray(1, c.createArrayOf("text", copies.toArray()));
                    copy.setString(2, table);
                    copy.executeUpdate();
                }
            }
        }
    }

    /**
     * Records the changes' idempotency keys in the target's database and returns the changes to write:
     * those seen for the first time, and those seen before that the target no longer holds (its table
     * was wiped behind the relay's back). The others are duplicates the target still holds (a replay, a
     * redelivery after a crash) and are acknowledged without being written again; a forced change is
     * always written.
     */
    private List<Change> firstTimeOnly(Connection c, List<Change> changes) throws SQLException {
        java.util.Set<String> fresh = new java.util.HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(RECORD_APPLIED.formatted(table))) {
            ps.setArray(1, c.createArrayOf("text", changes.stream().map(Change::idempotencyKey).toArray()));
            ps.setArray(2, c.createArrayOf("text", changes.stream().map(Change::key).toArray()));
            ps.setArray(3, c.createArrayOf("bigint", changes.stream().map(Change::version).toArray()));
            ps.setString(4, table);
            ps.setString(5, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    fresh.add(rs.getString(1));
                }
            }
        }
        // A repair's forced write goes through whatever the record says: the row may be corrupt (ADR 019).
        List<Change> todo = changes.stream().filter(ch -> ch.overwriteEqual() || fresh.contains(ch.idempotencyKey()))
                .toList();
        if (todo.size() < changes.size()) {
            duplicates.addAndGet(changes.size() - todo.size());
            log.debug("Backend '{}': {} of {} changes already applied, acknowledged as duplicates", name,
                    changes.size() - todo.size(), changes.size());
        }
        return todo;
    }

    /** Changes a remote target recognised as already applied since start-up. */
    long duplicatesAcknowledged() {
        return duplicates.get();
    }

    private void fence(Connection c, long epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(FENCE)) {
            ps.setString(1, table);
            ps.setLong(2, epoch);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        long newer;
        try (PreparedStatement ps = c.prepareStatement(FENCE_EPOCH)) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                newer = rs.next() ? rs.getLong(1) : -1;
            }
        }
        throw new BackendFencedException(name, epoch, newer);
    }

    private void bindUpsert(PreparedStatement ps, Change ch) throws SQLException {
        ChunkData d = ch.data();
        ps.setString(1, d.chunkId());
        ps.setLong(2, ch.version());
        ps.setString(3, d.documentId());
        ps.setString(4, d.content());
        if (d.embedding() == null) {
            ps.setNull(5, Types.VARCHAR);  // cast to the column's type in the statement
        } else {
            ps.setString(5, FloatText.vector(d.embedding(), vectorCast.equals("vector")));
        }
        ps.setString(6, d.metadataJson() == null ? "{}" : d.metadataJson());
        ps.setString(7, d.privacy().name());
        ps.setString(8, table);
    }


    @Override
    public Map<String, StoredChunk> readBack(Collection<String> chunkIds) {
        try {
            return inTransaction(c -> {
                Map<String, StoredChunk> out = new HashMap<>();
                try (PreparedStatement ps = c.prepareStatement(READ_BACK.formatted(table))) {
                    ps.setArray(1, c.createArrayOf("text", chunkIds.toArray()));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            float[] embedding = Embeddings.fromSql(rs.getArray(5));
                            String id = rs.getString(1);
                            out.put(id, new StoredChunk(rs.getLong(2), new ChunkData(id, rs.getString(3),
                                    rs.getString(4), embedding, rs.getString(6), Privacy.parse(rs.getString(7)))));
                        }
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            throw classify(e);
        }
    }

    /** Keyset pages in chunk-id order (the target's primary key), the token being the last id. */
    @Override
    public IdPage listChunkIds(String pageToken, int limit) {
        try {
            return inTransaction(c -> {
                List<String> ids = new java.util.ArrayList<>(limit);
                try (PreparedStatement ps = c.prepareStatement("SELECT chunk_id FROM " + table
                        + " WHERE (?::text IS NULL OR chunk_id > ?) ORDER BY chunk_id LIMIT ?")) {
                    ps.setString(1, pageToken);
                    ps.setString(2, pageToken);
                    ps.setInt(3, limit);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            ids.add(rs.getString(1));
                        }
                    }
                }
                return new IdPage(ids, ids.size() < limit ? null : ids.get(ids.size() - 1));
            });
        } catch (SQLException e) {
            throw classify(e);
        }
    }

    @Override
    public Optional<String> healthProblem() {
        try {
            inTransaction(c -> {
                try (var s = c.createStatement()) {
                    s.execute("SELECT 1");
                }
                return null;
            });
            return Optional.empty();
        } catch (SQLException e) {
            return Optional.of(SqlErrors.describe(e));
        }
    }

    private RuntimeException classify(SQLException e) {
        String what = "backend '" + name + "': " + SqlErrors.describe(e);
        return SqlErrors.isTransient(e)
                ? new TransientBackendException(what, e, null, SqlErrors.isUnreachable(e))
                : new PermanentBackendException(what, e);
    }

    private interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs the work in the caller's transaction when this backend shares the primary's (the Spring
     * transaction bound to the thread), otherwise in a transaction of its own that commits here.
     */
    private <T> T inTransaction(SqlWork<T> work) throws SQLException {
        if (sharesPrimary) {
            Connection c = DataSourceUtils.getConnection(dataSource);
            try {
                return work.run(c);
            } finally {
                DataSourceUtils.releaseConnection(c, dataSource);
            }
        }
        try (Connection c = dataSource.getConnection()) {
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        } catch (org.springframework.dao.DataAccessException e) {
            throw new SQLException(e.getMessage(), "08000", e);
        }
    }

    @Override
    public void close() {
        if (dataSource instanceof HikariDataSource h) {
            h.close();
        }
    }
}
