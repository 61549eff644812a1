-- Retention of finished jobs (vectorsync.jobs.retention, JobRetention, ADR 030): the oldest finished rows
-- first, without reading the PENDING and PROCESSING ones.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED');
