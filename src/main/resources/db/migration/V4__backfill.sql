-- Snapshot-consistent backfill of a backend added to a running system (ADR 009). Its cursor starts at
-- the snapshot taken when it was created (everything visible in it is the backfill's job, everything
-- after it the outbox's); the relay then copies the live chunks in chunk-id order, page by page, through
-- the normal delivery path, before it reads the outbox. Progress is kept here, so it survives restarts.
ALTER TABLE relay_cursor
    ADD COLUMN backfilling          boolean     NOT NULL DEFAULT false,
    ADD COLUMN backfill_after       text,
    ADD COLUMN backfill_done        bigint      NOT NULL DEFAULT 0,
    ADD COLUMN backfill_total       bigint,
    ADD COLUMN backfill_started_at  timestamptz,
    ADD COLUMN backfill_finished_at timestamptz;
