package io.vectorsync.relay;

import io.vectorsync.config.ServerOnly;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;

/**
 * An operator's (re)start of a backend's backfill (ADR 010): the cursor is marked backfilling from the
 * first chunk again, with pages that bypass the ledger, so a wiped backend is rebuilt even though the
 * ledger says it holds everything. The cursor's outbox position is kept, so no event after it is skipped:
 * after the last page the relay goes on reading the outbox exactly where it was. The compare-and-set
 * version moves, so a batch in flight with the old position cannot undo the restart (it fails its
 * compare-and-set and is read again).
 */
@Service
@ServerOnly
public class BackfillControl {

    private static final Logger log = LoggerFactory.getLogger(BackfillControl.class);

    /**
     * A halted cursor (ADR 015) is re-baselined as well: its outbox position and system identifier are
     * taken from the database as it is now (the snapshot this statement runs in), and the halt is cleared;
     * the backfill rewrites every live chunk, so what was written while it was halted reaches the backend.
     * SET expressions read the row as it was, so {@code halted_reason} below is the old value.
     */
    private static final String RESTART = """
            UPDATE relay_cursor
               SET prev_snapshot = CASE WHEN halted_reason IS NULL THEN prev_snapshot ELSE pg_current_snapshot() END,
                   cur_snapshot = CASE WHEN halted_reason IS NULL THEN cur_snapshot END,
                   last_tx_id = CASE WHEN halted_reason IS NULL THEN last_tx_id END,
                   last_id = CASE WHEN halted_reason IS NULL THEN last_id END,
                   system_identifier = CASE WHEN halted_reason IS NULL THEN system_identifier
                                            ELSE (SELECT system_identifier FROM pg_control_system()) END,
                   halted_reason = NULL, halted_at = NULL,
                   backfilling = true, backfill_rewrite = true, backfill_after = NULL, backfill_done = 0,
                   backfill_total = (SELECT count(*) FROM chunks WHERE NOT deleted AND privacy <> 'LOCAL_ONLY')
                   + (SELECT count(*) FROM aggregates WHERE NOT deleted AND privacy <> 'LOCAL_ONLY'),
                   backfill_started_at = clock_timestamp(), backfill_finished_at = NULL,
                   cursor_version = cursor_version + 1
             WHERE backend = ?
            """;

    private final JdbcTemplate jdbc;
    private final CursorRepository cursors;
    private final RelayWakeup wakeup;

    public BackfillControl(JdbcTemplate jdbc, CursorRepository cursors, RelayWakeup wakeup) {
        this.jdbc = jdbc;
        this.cursors = cursors;
        this.wakeup = wakeup;
    }

    /** (Re)starts the backend's backfill and wakes the relays; the new cursor, empty when it has none. */
    public Optional<CursorState> restart(String backend) {
        boolean wasHalted = cursors.read(backend).map(CursorState::halted).orElse(false);
        if (jdbc.update(RESTART, backend) != 1) {
            return Optional.empty();
        }
        if (wasHalted) {
            log.warn("Backend '{}': halted cursor re-baselined by an operator's backfill (ADR 015): outbox position"
                    + " and system identifier taken from the database as it is now", backend);
        }
        Optional<CursorState> c = cursors.read(backend);
        log.info("Backend '{}': backfill (re)started by an operator, {} live chunks to copy again", backend,
                c.map(CursorState::backfillTotal).orElse(null));
        wakeup.wakeAll();
        return c;
    }
}
