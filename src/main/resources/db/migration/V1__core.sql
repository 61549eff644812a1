-- vectorsync core schema: the primary copy of chunks, the outbox, and the relay's state per backend.
-- Invariants are in DESIGN.md; the comments below say which column serves which.

CREATE TABLE chunks (
    chunk_id     text        PRIMARY KEY,
    version      bigint      NOT NULL CHECK (version > 0),
    document_id  text,
    content      text,
    embedding    real[],
    metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    privacy      text        NOT NULL DEFAULT 'FULL' CHECK (privacy IN ('FULL', 'REDACTED', 'LOCAL_ONLY')),
    -- A delete keeps a tombstone so that a re-created chunk continues its version sequence.
    deleted      boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One row per change. tx_id records the writing transaction so the relay reads in commit order
-- (DESIGN.md "Reading the outbox"); payload is NULL for API-managed chunks (the relay reads the row).
CREATE TABLE outbox (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,
    type        text        NOT NULL CHECK (type IN ('UPSERT', 'DELETE', 'LINK')),
    chunk_id    text        NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    payload     jsonb,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    tx_id       xid8        NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX outbox_tx_id_id ON outbox (tx_id, id);
CREATE INDEX outbox_chunk_id ON outbox (chunk_id, version);

-- One row per backend: the snapshot cursor (prev, cur, last (tx_id, id) read), the lease, the pause
-- state kept in data, and the database identity the cursor belongs to.
CREATE TABLE relay_cursor (
    backend              text        PRIMARY KEY,
    prev_snapshot        pg_snapshot NOT NULL,
    cur_snapshot         pg_snapshot,
    last_tx_id           xid8,
    last_id              bigint,
    cursor_version       bigint      NOT NULL DEFAULT 0,
    system_identifier    bigint      NOT NULL,
    paused               boolean     NOT NULL DEFAULT false,
    paused_until         timestamptz,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    last_error           text,
    last_error_at        timestamptz,
    lease_owner          text,
    lease_expires_at     timestamptz,
    lease_epoch          bigint      NOT NULL DEFAULT 0,
    last_progress_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Highest version applied per backend and chunk, deletes included. Never pruned: it guards every
-- path (relay, parked retries, replay, repair, backfill).
CREATE TABLE delivery_ledger (
    backend     text        NOT NULL,
    chunk_key   text        NOT NULL,
    version     bigint      NOT NULL,
    deleted     boolean     NOT NULL DEFAULT false,
    applied_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (backend, chunk_key)
);

-- Events isolated from a failing batch, retried at next_attempt_at while the cursor moves on. One row
-- per backend and chunk: a newer failing event of the same chunk replaces the older one.
CREATE TABLE parked (
    backend          text        NOT NULL,
    event_id         text        NOT NULL,
    outbox_id        bigint,
    type             text        NOT NULL,
    chunk_id         text        NOT NULL,
    version          bigint      NOT NULL,
    payload          jsonb,
    attempts         integer     NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    first_error      text,
    last_error       text,
    error_class      text        NOT NULL CHECK (error_class IN ('TRANSIENT', 'PERMANENT')),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    event_created_at timestamptz NOT NULL,
    PRIMARY KEY (backend, chunk_id)
);
CREATE INDEX parked_due ON parked (backend, next_attempt_at);

-- Events that spent their budget, with the full event so they can be replayed after retention.
CREATE TABLE dead_letter (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backend          text        NOT NULL,
    event_id         text        NOT NULL,
    outbox_id        bigint,
    type             text        NOT NULL,
    chunk_id         text        NOT NULL,
    version          bigint      NOT NULL,
    payload          jsonb,
    attempts         integer     NOT NULL,
    first_error      text,
    last_error       text,
    error_class      text        NOT NULL CHECK (error_class IN ('TRANSIENT', 'PERMANENT')),
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    event_created_at timestamptz NOT NULL,
    replayed_at      timestamptz,
    discarded_at     timestamptz,
    discard_reason   text
);
CREATE INDEX dead_letter_backend ON dead_letter (backend, created_at) WHERE replayed_at IS NULL AND discarded_at IS NULL;
CREATE INDEX dead_letter_chunk ON dead_letter (chunk_id);

-- Per event and backend: processed_at, attempts, last error (R-039 and the sync spec's fields),
-- derived from the cursor position, parked and dead-letter rows.
CREATE VIEW outbox_status AS
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
           WHEN pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                OR (c.cur_snapshot IS NOT NULL AND c.last_tx_id IS NOT NULL
                    AND pg_visible_in_snapshot(o.tx_id, c.cur_snapshot)
                    AND NOT pg_visible_in_snapshot(o.tx_id, c.prev_snapshot)
                    AND (o.tx_id, o.id) <= (c.last_tx_id, c.last_id)) THEN 'PROCESSED'
           ELSE 'PENDING'
       END                                            AS status,
       CASE
           WHEN p.event_id IS NULL AND d.id IS NULL
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

-- Asynchronous jobs (ingest, re-embed, backfill, verify).
CREATE TABLE jobs (
    id              text        PRIMARY KEY,
    kind            text        NOT NULL,
    correlation_key text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
    attempts        integer     NOT NULL DEFAULT 0,
    request         jsonb,
    result          jsonb,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at      timestamptz,
    finished_at     timestamptz,
    UNIQUE (kind, correlation_key)
);
