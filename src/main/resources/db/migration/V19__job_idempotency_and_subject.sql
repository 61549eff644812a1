-- Issue 16's review (ADR 027, "Amended"): two holes in idempotent enqueue.
--
-- 1. An Idempotency-Key names one request of one client: it is held per type, with a fingerprint of the
--    request (type, payload and correlation), for vectorsync.jobs.idempotency-key-ttl from the job's
--    creation, whatever the job's status. Before, one key was global across types, returned the holder
--    whatever was asked, and was released with the correlation (at completion for VERIFY and BACKFILL), so a
--    client's retry after a lost 202 could run the work twice, and a reused key silently dropped a request.
--    key_released now concerns the correlation only; idempotency_released the key.
-- 2. A job's subject (INGEST: its document id): a new job about a subject releases the correlation of the
--    older jobs about it, so repeating an older request (a document edited and then reverted) is a new job
--    that comes after the newer one, instead of returning the older job while the newer content stays.
ALTER TABLE jobs
    ADD COLUMN request_fingerprint  text,
    ADD COLUMN idempotency_released boolean NOT NULL DEFAULT false,
    ADD COLUMN subject              text;

UPDATE jobs SET idempotency_released = key_released WHERE idempotency_key IS NOT NULL AND key_released;

DROP INDEX jobs_idempotency_slot;
CREATE UNIQUE INDEX jobs_idempotency_slot ON jobs (type, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND NOT idempotency_released;

CREATE INDEX jobs_subject ON jobs (type, subject) WHERE subject IS NOT NULL AND NOT key_released;
