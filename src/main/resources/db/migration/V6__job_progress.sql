-- Asynchronous jobs (verify, ADR 011): progress while a job runs, and a heartbeat so that a job left
-- RUNNING by an instance that died is noticed and run again.
ALTER TABLE jobs
    ADD COLUMN progress_done  bigint NOT NULL DEFAULT 0,
    ADD COLUMN progress_total bigint,
    ADD COLUMN owner          text,
    ADD COLUMN heartbeat_at   timestamptz;
-- The queue: the oldest QUEUED job first.
CREATE INDEX jobs_queued ON jobs (created_at) WHERE status = 'QUEUED';
