-- Issue 12 (ADR 014, ADR 015).
--
-- 1. relay_cursor is keyed by (backend, partition): leases, epochs and fences belong to one partition of
--    a backend, so partitions can come later without a second fence design. Partition 0 for now; the
--    relay reads and writes partition 0 only.
-- 2. A backend whose cursor no longer fits the database (another cluster's system identifier, or
--    transaction ids below the cursor's, as after a restore) is halted: the reason is kept here, so every
--    instance's status, health and metrics show it until a backfill re-baselines the cursor.
-- 3. outbox_status says HALTED, not PROCESSED, for an event of a halted backend that the ledger does not
--    confirm: the cursor's snapshot can't be trusted there.
ALTER TABLE relay_cursor
    ADD COLUMN partition     smallint NOT NULL DEFAULT 0 CHECK (partition >= 0),
    ADD COLUMN halted_reason text,
    ADD COLUMN halted_at     timestamptz;

ALTER TABLE relay_cursor DROP CONSTRAINT relay_cursor_pkey;
ALTER TABLE relay_cursor ADD CONSTRAINT relay_cursor_pkey PRIMARY KEY (backend, partition);

-- Cursors made by a relay that could not read the identifier recorded 0; adopt the current one where this
-- role may read it (the relay now refuses to run without it, and halts a cursor still at 0).
DO $$
BEGIN
    UPDATE relay_cursor SET system_identifier = (SELECT system_identifier FROM pg_control_system())
     WHERE system_identifier = 0;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'cannot read pg_control_system(): cursors with system_identifier 0 stay halted until re-baselined';
END
$$;

CREATE OR REPLACE VIEW outbox_status AS
SELECT o.id,
       o.event_id,
       o.type,
       o.chunk_id,
       o.version,
       o.created_at,
       c.backend,
       CASE
           WHEN d.id IS NOT NULL AND d.replayed_at IS NULL THEN 'FAILED'
           WHEN p.event_id IS NOT NULL THEN 'PARKED'
           WHEN c.halted_reason IS NOT NULL AND l.backend IS NULL THEN 'HALTED'
           WHEN pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                OR (c.cur_snapshot IS NOT NULL AND c.last_tx_id IS NOT NULL
                    AND pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)
                    AND NOT pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                    AND (o.tx_id, o.id) <= (c.last_tx_id, c.last_id)) THEN 'PROCESSED'
           ELSE 'PENDING'
       END                                            AS status,
       CASE
           WHEN p.event_id IS NULL AND d.id IS NULL
                AND NOT (c.halted_reason IS NOT NULL AND l.backend IS NULL)
                AND (pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                     OR (c.cur_snapshot IS NOT NULL AND c.last_tx_id IS NOT NULL
                         AND pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)
                         AND (o.tx_id, o.id) <= (c.last_tx_id, c.last_id)))
           THEN COALESCE(l.applied_at, c.last_progress_at)
       END                                            AS processed_at,
       COALESCE(p.attempts, d.attempts, 0)            AS attempts,
       p.next_attempt_at,
       COALESCE(p.last_error, d.last_error)           AS last_error
FROM outbox o
CROSS JOIN relay_cursor c
LEFT JOIN parked p ON p.backend = c.backend AND p.chunk_id = o.chunk_id AND p.version >= o.version
LEFT JOIN LATERAL (SELECT dl.id, dl.attempts, dl.last_error, dl.replayed_at
                   FROM dead_letter dl
                   WHERE dl.backend = c.backend AND dl.event_id = o.event_id
                   ORDER BY dl.id DESC LIMIT 1) d ON true
LEFT JOIN delivery_ledger l ON l.backend = c.backend AND l.chunk_key = o.chunk_id AND l.version >= o.version;
