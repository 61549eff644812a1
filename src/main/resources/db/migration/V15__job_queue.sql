-- Issue 16 (ADR 027): the one job queue. Jobs of every type (INGEST, REEMBED, VERIFY, BACKFILL, NOOP) in one
-- table, claimed by any instance with FOR UPDATE SKIP LOCKED under a lease, with priorities, delayed runs,
-- per-type concurrency across instances, retries with backoff and idempotent enqueue.

-- The old names: kind → type, request → payload; the old statuses → the new ones (QUEUED → PENDING,
-- RUNNING → PROCESSING, SUCCEEDED → COMPLETED); job types are upper case.
ALTER TABLE jobs RENAME COLUMN kind TO type;
ALTER TABLE jobs RENAME COLUMN request TO payload;
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_correlation_key_key;
DROP INDEX jobs_queued;

ALTER TABLE jobs
    ADD COLUMN correlation      jsonb       NOT NULL DEFAULT '{}',
    ADD COLUMN idempotency_key  text,
    ADD COLUMN priority         integer     NOT NULL DEFAULT 0,
    ADD COLUMN run_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    ADD COLUMN max_attempts     integer     NOT NULL DEFAULT 5,
    ADD COLUMN lease_until      timestamptz,
    ADD COLUMN slot             integer,
    ADD COLUMN cancel_requested boolean     NOT NULL DEFAULT false,
    -- true once the job no longer holds its correlation and idempotency key: a COMPLETED job older than
    -- vectorsync.jobs.completed-window, or a finished job of before this migration.
    ADD COLUMN key_released     boolean     NOT NULL DEFAULT false;

UPDATE jobs SET
    type = upper(type),
    status = CASE status WHEN 'QUEUED' THEN 'PENDING' WHEN 'RUNNING' THEN 'PROCESSING'
                         WHEN 'SUCCEEDED' THEN 'COMPLETED' ELSE status END,
    -- A verify's correlation was "<backend>:repair=<bool>" (a finished one suffixed with "#<id>"); the new
    -- one is the keys themselves, as the VERIFY handler derives them. Other kinds keep the old key as "key".
    correlation = CASE WHEN type = 'verify' AND payload ? 'backend'
                       THEN jsonb_build_object('backend', payload->>'backend',
                                               'repair', coalesce(payload->>'repair', 'false'))
                       ELSE jsonb_build_object('key', split_part(correlation_key, '#', 1)) END,
    run_at = created_at,
    max_attempts = greatest(attempts, 3),
    lease_until = CASE WHEN status = 'RUNNING' THEN coalesce(heartbeat_at, started_at, created_at) + interval '60 seconds' END,
    slot = CASE WHEN status = 'RUNNING' THEN 1 END,
    key_released = status NOT IN ('QUEUED', 'RUNNING');

-- The correlation key is a digest of the canonical correlation (jsonb's text form is canonical); NULL when
-- the correlation is empty: such a job is never returned for another enqueue.
UPDATE jobs SET correlation_key = CASE WHEN correlation = '{}' THEN NULL ELSE md5(correlation::text) END;
ALTER TABLE jobs ALTER COLUMN correlation_key DROP NOT NULL;
-- Verify ran one at a time per instance: more than one RUNNING verify gets slots of its own.
UPDATE jobs j SET slot = s.n
  FROM (SELECT id, row_number() OVER (PARTITION BY type ORDER BY started_at, id) AS n
          FROM jobs WHERE status = 'PROCESSING') s
 WHERE j.id = s.id;
ALTER TABLE jobs DROP COLUMN heartbeat_at;

ALTER TABLE jobs
    ADD CONSTRAINT jobs_status_check CHECK (status IN ('PENDING', 'PROCESSING', 'FAILED', 'COMPLETED', 'CANCELLED')),
    ADD CONSTRAINT jobs_processing_leased CHECK (status <> 'PROCESSING' OR (lease_until IS NOT NULL AND slot IS NOT NULL)),
    ADD CONSTRAINT jobs_attempts_check CHECK (attempts >= 0 AND max_attempts >= 1);

-- Idempotent enqueue, race-safe: at most one job per type and correlation while it is PENDING, PROCESSING
-- or COMPLETED (until its key is released), and one per idempotency key until released. An INSERT … ON
-- CONFLICT DO NOTHING that loses the race returns the winner.
CREATE UNIQUE INDEX jobs_correlation_slot ON jobs (type, correlation_key)
    WHERE correlation_key IS NOT NULL AND NOT key_released AND status IN ('PENDING', 'PROCESSING', 'COMPLETED');
CREATE UNIQUE INDEX jobs_idempotency_slot ON jobs (idempotency_key)
    WHERE idempotency_key IS NOT NULL AND NOT key_released;

-- Per-type concurrency across instances: a PROCESSING job holds one of its type's numbered slots
-- (1..concurrency); two instances claiming the same slot at once collide here and one claims again.
CREATE UNIQUE INDEX jobs_processing_slot ON jobs (type, slot) WHERE status = 'PROCESSING';

-- The claim: pending jobs of a type by priority, then age.
CREATE INDEX jobs_pending ON jobs (type, priority DESC, created_at) WHERE status = 'PENDING';
-- Take-over of expired leases.
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 'PROCESSING';
-- Listing, newest first, and the enqueue rate per type.
CREATE INDEX jobs_type_created ON jobs (type, created_at DESC);
