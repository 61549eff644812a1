package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import io.vectorsync.ledger.DeliveryLedger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;

/** SQL for {@code relay_cursor}: creation, the lease, the compare-and-set move and the pause state. */
@Repository
@ServerOnly
public class CursorRepository {

    private static final Logger log = LoggerFactory.getLogger(CursorRepository.class);

    /** A snapshot that sees no transaction: a cursor starting here reads the whole outbox. */
    public static final String BEGINNING = "1:1:";

    private static final String COLUMNS = """
            backend, prev_snapshot::text AS prev_text, cur_snapshot::text AS cur_text, last_tx_id::text AS last_tx_text,
            last_id, cursor_version, system_identifier, paused, paused_until, consecutive_failures, lease_owner,
            lease_expires_at, COALESCE(paused_until > clock_timestamp(), false) AS backing_off,
            backfilling, backfill_after, backfill_done, backfill_total, backfilling AND backfill_rewrite AS backfill_rewrite,
            halted_reason, lease_epoch, partition, generation
            """;
    private static final String CREATE = """
            INSERT INTO relay_cursor (backend, prev_snapshot, system_identifier)
            VALUES (?, ?::pg_snapshot, ?)
            ON CONFLICT (backend, partition) DO NOTHING
            """;
    /**
     * A new backend's cursor, backfilled first: it starts at the snapshot this statement runs in, so the
     * chunks visible in it are the backfill's to copy and every later change is read from the outbox.
     */
    private static final String CREATE_BACKFILLING = """
            INSERT INTO relay_cursor (backend, prev_snapshot, system_identifier, backfilling, backfill_total,
                                      backfill_started_at)
            SELECT ?, pg_current_snapshot(), ?, true,
                   (SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')
                   + (SELECT count(*) FROM aggregates WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'), clock_timestamp()
            ON CONFLICT (backend, partition) DO NOTHING
            """;
    private static final String LEASE = """
            UPDATE relay_cursor
               SET lease_epoch = lease_epoch + CASE WHEN lease_owner IS DISTINCT FROM ? THEN 1 ELSE 0 END,
                   lease_owner = ?,
                   lease_expires_at = clock_timestamp() + make_interval(secs => ?)
             WHERE backend = ?
               AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < clock_timestamp())
            RETURNING %s
            """.formatted(COLUMNS);
    private static final String READ = "SELECT " + COLUMNS + " FROM relay_cursor WHERE backend = ?";
    private static final String ADVANCE = """
            UPDATE relay_cursor
               SET prev_snapshot = ?::pg_snapshot, cur_snapshot = ?::pg_snapshot, last_tx_id = ?::xid8, last_id = ?,
                   cursor_version = cursor_version + 1, consecutive_failures = 0, paused_until = NULL,
                   last_progress_at = clock_timestamp(),
                   backfilling = ?, backfill_after = ?, backfill_done = backfill_done + ?,
                   backfill_finished_at = CASE WHEN backfilling AND NOT ? THEN clock_timestamp()
                                               ELSE backfill_finished_at END
             WHERE backend = ? AND cursor_version = ? AND lease_owner = ? AND lease_expires_at > clock_timestamp()
            """;
    private static final String RECORD_FAILURE = """
            UPDATE relay_cursor
               SET consecutive_failures = consecutive_failures + 1,
                   paused_until = clock_timestamp()
                                  + make_interval(secs => GREATEST(LEAST(? * power(?, consecutive_failures), ?), ?)),
                   last_error = coalesce(?, last_error), last_error_at = clock_timestamp()
             WHERE backend = ? AND (lease_owner = ? OR lease_owner IS NULL)
            RETURNING consecutive_failures
            """;
    private static final String RELEASE = """
            UPDATE relay_cursor SET lease_owner = NULL, lease_expires_at = NULL WHERE backend = ? AND lease_owner = ?
            """;
    /**
     * The delivery heartbeat's renewal: only while this owner still holds the unexpired lease of the epoch
     * its batch was read under. No row means the lease is gone (expired, or taken by another instance):
     * the batch is lost. The epoch, not the cursor version, so that a renewal waiting behind the batch's
     * own commit (which moves the version) still matches.
     */
    private static final String RENEW = """
            UPDATE relay_cursor SET lease_expires_at = clock_timestamp() + make_interval(secs => ?)
             WHERE backend = ? AND lease_owner = ? AND lease_epoch = ? AND lease_expires_at > clock_timestamp()
            """;
    /**
     * A batch that lost its lease counts as a failure of the cursor position it was read at (no backoff:
     * the next holder goes on at once), so the next attempt isolates; nothing is counted once the cursor moved.
     */
    private static final String COUNT_LOST_LEASE = """
            UPDATE relay_cursor
               SET consecutive_failures = consecutive_failures + 1, last_error = ?, last_error_at = clock_timestamp()
             WHERE backend = ? AND cursor_version = ?
            RETURNING consecutive_failures
            """;
    private static final String LEASE_EPOCH = "SELECT lease_epoch FROM relay_cursor WHERE backend = ? AND lease_owner = ?";
    private static final String SET_PAUSED = "UPDATE relay_cursor SET paused = ? WHERE backend = ?";
    private static final String CURRENT_SNAPSHOT = "SELECT pg_current_snapshot()::text";
    private static final String SYSTEM_IDENTIFIER = "SELECT system_identifier FROM pg_control_system()";
    /**
     * What the poll checks the cursor against (ADR 015): the cluster's system identifier and the next
     * transaction id to be assigned (the xmax of the current snapshot; unlike pg_current_xact_id() it
     * assigns no transaction id, so an idle poll writes nothing).
     */
    private static final String DATABASE_IDENTITY = """
            SELECT s.system_identifier, pg_snapshot_xmax(pg_current_snapshot())::text AS next_xid
              FROM pg_control_system() s
            """;
    /** Halts a backend (the first reason is kept); {@code BackfillControl} clears it by re-baselining. */
    private static final String HALT = """
            UPDATE relay_cursor SET halted_reason = ?, halted_at = clock_timestamp()
             WHERE backend = ? AND halted_reason IS NULL
            """;

    private final JdbcTemplate jdbc;

    public CursorRepository(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Creates the backend's cursor at the given snapshot if it has none yet. */
    public void createIfMissing(String backend, String startSnapshot) {
        jdbc.update(CREATE, backend, startSnapshot, systemIdentifier());
    }

    /**
     * Creates the cursor of a backend added to a running system, to be backfilled from {@code chunks}
     * first (ADR 009); returns false when it already has one.
     */
    public boolean createBackfilling(String backend) {
        return jdbc.update(CREATE_BACKFILLING, backend, systemIdentifier()) == 1;
    }

    /** Takes or renews the lease; returns the cursor when this instance holds it. */
    public Optional<CursorState> lease(String backend, String owner, Duration ttl) {
        List<CursorState> rows = jdbc.query(
                LEASE, MAPPER, owner, owner, ttl.toMillis() / 1000.0, backend, owner);
        return rows.stream().findFirst();
    }

    /**
     * Extends the lease of a batch being delivered (the heartbeat); false when the lease is gone: it
     * expired, or another instance took it (the epoch moved).
     */
    public boolean renew(String backend, String owner, long leaseEpoch, Duration ttl) {
        return jdbc.update(RENEW, ttl.toMillis() / 1000.0, backend, owner, leaseEpoch) == 1;
    }

    /**
     * Counts a batch whose lease was lost as a failure of the position it was read at; returns the new
     * count, or 0 when the cursor has moved since (another holder got past it).
     */
    public int countLostLease(String backend, long cursorVersion, String error) {
        List<Integer> n = jdbc.queryForList(COUNT_LOST_LEASE, Integer.class, error, backend, cursorVersion);
        return n.isEmpty() ? 0 : n.get(0);
    }

    /**
     * The epoch of the lease while {@code owner} holds it: it grows each time the lease changes hands, so
     * a backend can refuse the writes of an older holder (a fencing token).
     */
    public Optional<Long> leaseEpoch(String backend, String owner) {
        return jdbc.queryForList(LEASE_EPOCH, Long.class, backend, owner).stream().findFirst();
    }

    public Optional<CursorState> read(String backend) {
        return jdbc.query(READ, MAPPER, backend).stream().findFirst();
    }

    public List<CursorState> readAll() {
        return jdbc.query("SELECT " + COLUMNS + " FROM relay_cursor ORDER BY backend", MAPPER);
    }

    /**
     * Moves the cursor by compare-and-set; must run inside the batch's transaction.
     *
     * @throws LeaseLostException when another instance moved it or the lease expired
     */
    public void advance(CursorState read, CursorState.Position next, String owner) {
        advance(read, next, owner, List.of());
    }

    /**
     * Records the applied changes in the ledger and moves the cursor by compare-and-set, in one
     * statement (the ledger upsert as a data-modifying CTE); must run inside the batch's transaction,
     * which the caller rolls back, ledger included, when the compare-and-set fails.
     *
     * @throws LeaseLostException when another instance moved it or the lease expired
     */
    public void advance(CursorState read, CursorState.Position next, String owner,
            List<io.vectorsync.domain.Change> applied) {
        String sql = applied.isEmpty() ? ADVANCE : "WITH ledger AS (" + DeliveryLedger.RECORD + ")\n" + ADVANCE;
        int n = jdbc.update(con -> {
            var ps = con.prepareStatement(sql);
            int i = 1;
            if (!applied.isEmpty()) {
                DeliveryLedger.bindRecord(con, ps, 1, read.backend(), applied);
                i = 5;
            }
            ps.setString(i, next.prevSnapshot());
            ps.setString(i + 1, next.curSnapshot());
            ps.setString(i + 2, next.lastTxId());
            ps.setObject(i + 3, next.lastId(), java.sql.Types.BIGINT);
            ps.setBoolean(i + 4, next.backfilling());
            ps.setString(i + 5, next.backfillAfter());
            ps.setLong(i + 6, next.backfilled());
            ps.setBoolean(i + 7, next.backfilling());
            ps.setString(i + 8, read.backend());
            ps.setLong(i + 9, read.cursorVersion());
            ps.setString(i + 10, owner);
            return ps;
        });
        if (n != 1) {
            throw new LeaseLostException(read.backend());
        }
    }

    /**
     * Records a transient failure and pauses the backend for base × multiplier^(failures so far), capped
     * at max and never shorter than {@code atLeast} (a server's Retry-After); returns the failure count.
     * A {@code null} error keeps the last one (an open circuit says nothing about the cause).
     */
    public int recordFailure(String backend, String owner, Duration base, double multiplier, Duration max,
            Duration atLeast, String error) {
        List<Integer> n = jdbc.queryForList(RECORD_FAILURE, Integer.class, base.toMillis() / 1000.0, multiplier,
                max.toMillis() / 1000.0, atLeast.toMillis() / 1000.0, error, backend, owner);
        return n.isEmpty() ? 0 : n.get(0);
    }

    public void release(String backend, String owner) {
        jdbc.update(RELEASE, backend, owner);
    }

    /** Releases every lease this owner holds; returns how many. */
    public int releaseAll(String owner) {
        return jdbc.update("UPDATE relay_cursor SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
                owner);
    }

    /**
     * Ends a backoff early (the backend answered a health probe, or an operator asked for a sync now);
     * the failure count stays, so a failure right after continues the backoff sequence.
     */
    public int endBackoff(String backend) {
        return jdbc.update("UPDATE relay_cursor SET paused_until = NULL WHERE backend = ? AND paused_until IS NOT NULL",
                backend);
    }

    public int endAllBackoffs() {
        return jdbc.update("UPDATE relay_cursor SET paused_until = NULL WHERE paused_until IS NOT NULL");
    }

    public boolean setPaused(String backend, boolean paused) {
        return jdbc.update(SET_PAUSED, paused, backend) == 1;
    }

    public String currentSnapshot() {
        return jdbc.queryForObject(CURRENT_SNAPSHOT, String.class);
    }

    /** The database's cluster identity as the poll checks it (ADR 015). */
    public record DatabaseIdentity(long systemIdentifier, long nextXid) {}

    /**
     * The cluster's system identifier and next transaction id, read now.
     *
     * @throws SystemIdentifierUnreadableException when this role may not read {@code pg_control_system()}
     */
    public DatabaseIdentity databaseIdentity() {
        try {
            return jdbc.queryForObject(DATABASE_IDENTITY, (rs, i) -> new DatabaseIdentity(
                    rs.getLong("system_identifier"), Long.parseLong(rs.getString("next_xid"))));
        } catch (DataAccessException e) {
            if (insufficientPrivilege(e)) {
                throw new SystemIdentifierUnreadableException(e);
            }
            throw e;
        }
    }

    /** Records that the backend is halted for {@code reason}; false when it was already halted. */
    public boolean halt(String backend, String reason) {
        return jdbc.update(HALT, reason, backend) == 1;
    }

    /**
     * The database cluster's system identifier, stored with a new cursor.
     *
     * @throws SystemIdentifierUnreadableException when this role may not read it: the relay refuses to run
     */
    public long systemIdentifier() {
        try {
            Long id = jdbc.queryForObject(SYSTEM_IDENTIFIER, Long.class);
            if (id == null || id == 0) {
                throw new SystemIdentifierUnreadableException(null);
            }
            return id;
        } catch (DataAccessException e) {
            if (insufficientPrivilege(e)) {
                throw new SystemIdentifierUnreadableException(e);
            }
            throw e;
        }
    }

    private static boolean insufficientPrivilege(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof SQLException sql && "42501".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static final RowMapper<CursorState> MAPPER = (ResultSet rs, int i) -> new CursorState(
            rs.getString("backend"),
            rs.getString("prev_text"),
            rs.getString("cur_text"),
            rs.getString("last_tx_text"),
            (Long) rs.getObject("last_id"),
            rs.getLong("cursor_version"),
            rs.getLong("system_identifier"),
            rs.getBoolean("paused"),
            instant(rs, "paused_until"),
            rs.getBoolean("backing_off"),
            rs.getInt("consecutive_failures"),
            rs.getString("lease_owner"),
            instant(rs, "lease_expires_at"),
            rs.getBoolean("backfilling"),
            rs.getString("backfill_after"),
            rs.getLong("backfill_done"),
            (Long) rs.getObject("backfill_total"),
            rs.getBoolean("backfill_rewrite"),
            rs.getString("halted_reason"),
            rs.getLong("lease_epoch"),
            rs.getInt("partition"),
            rs.getInt("generation"));

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        Timestamp t = rs.getTimestamp(col);
        return t == null ? null : t.toInstant();
    }
}
