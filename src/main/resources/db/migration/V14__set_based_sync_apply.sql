-- Issue 15's speed goals (ADR 026): vectorsync.sync_apply decides and writes a batch with a few set-based
-- statements instead of one subtransaction and several statements per change. Same arguments, same JSON in
-- and out, same outcomes (RemoteSyncFunctionsIT, SyncApplyEquivalenceIT compares it with the per-change path
-- on the same batches).
--
-- A change is decided set-based when no other change of its batch has its chunk id or its key: its
-- outcome then depends only on the database as the call found it (the stored outcome of its key, the
-- chunk's current row), never on another change of the batch. Those are classified in one statement
-- (stored outcome, the same checks in the same order as sync_apply_one, conflict and winner), their chunks
-- locked in one statement (in chunk id order), and written with one INSERT ... ON CONFLICT for the
-- upserts, one UPDATE for the deletes, one INSERT of their outbox events and one INSERT of their
-- outcomes. The changes that share a chunk or a key with another (consecutive edits of one chunk, a key
-- sent twice) go through the per-change path of V13 (sync_apply_each, below), in batch order, each in its
-- own subtransaction. When a statement of the set-based part fails on a value (an embedding or a time
-- PostgreSQL cannot read, a constraint), it is rolled back as a whole and the whole batch goes through the
-- per-change path, which isolates the bad change as V13 did: one subtransaction per batch in the common
-- case instead of two per change.

-- A stored outcome is written once, read at most once (a replay) and deleted when the device acknowledges
-- it; a conflict's holds two versions of a chunk, embeddings as text (~10 kB). Kept out of line without
-- compression: pglz spent more time on it than the rest of a conflict's decision (bench/sync.sh).
ALTER TABLE sync_applied ALTER COLUMN outcome SET STORAGE EXTERNAL;

-- One change of a batch as the set-based part classifies it.
CREATE TYPE vectorsync.sync_change AS (
    n          int,         -- position in the batch, from 1
    change     jsonb,       -- the change as sent
    chunk      text,        -- its chunkId as text (NULL when the change is not an object)
    key        text,        -- its key as text (idem)
    alone      boolean,     -- no other change of the batch has this chunk id or key: decided set-based
    stored     jsonb,       -- the stored outcome of its key (then nothing else is looked at)
    error      text,        -- why it is INVALID (VSYNC-SYNC-005); NULL when valid
    op         text,
    base       bigint,
    mod        timestamptz,
    privacy    text,
    local_only boolean,     -- a DELETE with reason local-only: wins every conflict
    metadata   jsonb,
    embedding  real[]
);

-- The per-change path (V13's loop, unchanged in what it returns): the changes of p_changes whose outcome
-- p_outcomes does not hold yet, in batch order, each decided and written by sync_apply_one in its own
-- subtransaction, an earlier change of the same chunk in this call (or its stored outcome) being the base
-- of a later one. Returns the outcomes, one per change, in batch order. Notifies the relay when it decided
-- anything. Called by sync_apply for the changes that share a chunk or key with another, or for the
-- whole batch when the set-based part failed on a value; the tests call it to compare the two paths.
CREATE OR REPLACE FUNCTION vectorsync.sync_apply_each(p_device text, p_changes jsonb, p_policy text,
                                                      p_max_skew numeric, p_outcomes jsonb[])
RETURNS jsonb[]
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v_outcomes jsonb[] := coalesce(p_outcomes, '{}'::jsonb[]);
    v_written  jsonb := '{}'::jsonb;
    v_change   jsonb;
    v_n        int;
    v_chunk    text;
    v_out      jsonb;
    v_error    text;
    v_any      boolean := false;
BEGIN
    FOR v_change, v_n IN SELECT t.e, t.n FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS t (e, n) ORDER BY t.n LOOP
        CONTINUE WHEN v_outcomes[v_n] IS NOT NULL; -- decided set-based: no other change shares its chunk or key
        v_chunk := CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->>'chunkId' END;
        SELECT a.outcome INTO v_out FROM sync_applied a
         WHERE a.device_id = p_device AND a.idempotency_key = (CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->>'key' END);
        IF NOT FOUND THEN
            BEGIN
                v_out := vectorsync.sync_apply_one(p_device, v_change, p_policy, p_max_skew, (v_written->>v_chunk)::bigint);
                INSERT INTO sync_applied (device_id, idempotency_key, upload_id, chunk_id, outcome)
                VALUES (p_device, v_change->>'key', (v_change->>'uploadId')::bigint, v_chunk, v_out);
                v_any := true;
            EXCEPTION
                WHEN SQLSTATE 'VS005' THEN
                    v_error := SQLERRM;
                WHEN data_exception OR integrity_constraint_violation THEN
                    -- Never the message itself: it may quote the value (content).
                    v_error := 'a field has a value the remote cannot store (SQLSTATE ' || SQLSTATE || ')';
            END;
            IF v_error IS NOT NULL THEN
                v_out := jsonb_build_object(
                    'key', CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->'key' END,
                    'uploadId', CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->'uploadId' END,
                    'status', 'INVALID',
                    'version', coalesce((SELECT c.version FROM chunks c WHERE c.chunk_id = v_chunk), 0),
                    'code', 'VSYNC-SYNC-005',
                    'error', v_error);
                v_error := NULL;
            END IF;
        END IF;
        IF v_out->>'status' = 'APPLIED' OR v_out->>'winner' = 'local' THEN
            v_written := v_written || jsonb_build_object(v_chunk, v_out->'version');
        END IF;
        v_outcomes[v_n] := v_out;
    END LOOP;
    IF v_any THEN
        PERFORM vectorsync.notify_if_enabled();
    END IF;
    RETURN v_outcomes;
END
$$;

-- The set-based part of sync_apply: decides and writes the changes of the batch that share neither chunk
-- id nor key with another change, and returns the batch's outcomes with those filled in (NULL for the
-- others, left to sync_apply_each). The checks are sync_apply_one's, in its order (the first that fails
-- is the error), the conflict rule and the winner too, and every outcome is built from the same
-- expressions, so both paths return the same JSON. A value PostgreSQL cannot read (an embedding, a time)
-- or a constraint raises here, and sync_apply then sends the whole batch through sync_apply_each.
CREATE OR REPLACE FUNCTION vectorsync.sync_apply_set(p_device text, p_changes jsonb, p_policy text,
                                                     p_max_skew numeric)
RETURNS jsonb[]
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v_rows     vectorsync.sync_change[];
    v_outcomes jsonb[];
    v_upserts  int;
    v_written  int;
    v_deletes  int;
    v_deleted  int;
    v_decided  int;
BEGIN
    -- 1. Classify: stored outcome, which changes stand alone, the field checks (sync_apply_one's order).
    WITH t AS (
        SELECT e.n::int AS n, e.c AS change, jsonb_typeof(e.c) = 'object' AS obj,
               CASE WHEN jsonb_typeof(e.c) = 'object' THEN e.c->>'chunkId' END AS chunk,
               CASE WHEN jsonb_typeof(e.c) = 'object' THEN e.c->>'key' END AS key
          FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS e (c, n)
    ), a AS (
        SELECT t.*,
               (t.chunk IS NULL OR count(*) OVER (PARTITION BY t.chunk) = 1)
               AND (t.key IS NULL OR count(*) OVER (PARTITION BY t.key) = 1) AS alone,
               s.outcome AS stored
          FROM t LEFT JOIN sync_applied s ON s.device_id = p_device AND s.idempotency_key = t.key
    ), f AS MATERIALIZED ( -- the field checks that need no value read (materialized: each is computed once)
        SELECT a.*,
               a.change->>'op' AS op,
               coalesce(a.change->>'privacy', 'FULL') AS privacy,
               (a.change->>'reason') IS NOT DISTINCT FROM 'local-only' AS local_only,
               CASE
                   WHEN NOT a.obj THEN 'a change must be a JSON object'
                   WHEN jsonb_typeof(a.change->'key') IS DISTINCT FROM 'string' OR length(a.key) NOT BETWEEN 1 AND 64
                       THEN 'key must be a string of 1 to 64 characters'
                   WHEN jsonb_typeof(a.change->'uploadId') IS DISTINCT FROM 'number' OR (a.change->>'uploadId') !~ '^[0-9]{1,18}$'
                       THEN 'uploadId must be a non-negative integer'
                   WHEN (a.change->>'op') IS NULL OR (a.change->>'op') NOT IN ('UPSERT', 'DELETE')
                       THEN 'op must be UPSERT or DELETE'
                   WHEN jsonb_typeof(a.change->'chunkId') IS DISTINCT FROM 'string' OR length(a.chunk) NOT BETWEEN 1 AND 256
                       THEN 'chunkId must be a string of 1 to 256 characters'
                   WHEN starts_with(a.chunk, 'link:')
                       THEN 'a chunk id may not start with ''link:'' (reserved for edge keys)'
                   WHEN jsonb_typeof(a.change->'baseVersion') IS DISTINCT FROM 'number' OR (a.change->>'baseVersion') !~ '^[0-9]{1,18}$'
                       THEN 'baseVersion must be a non-negative integer'
                   WHEN jsonb_typeof(a.change->'modifiedAt') IS DISTINCT FROM 'string'
                        OR (a.change->>'modifiedAt') !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$'
                       THEN 'modifiedAt must be an ISO-8601 UTC time (uuuu-MM-ddTHH:mm:ss.SSSSSSZ)'
                   WHEN (a.change->>'reason') IS NOT NULL
                        AND NOT ((a.change->>'reason') = 'local-only' AND (a.change->>'op') = 'DELETE')
                       THEN 'reason may only be ''local-only'', on a DELETE'
                   WHEN (a.change->>'op') = 'UPSERT' AND coalesce(a.change->>'privacy', 'FULL') NOT IN ('FULL', 'REDACTED')
                       THEN 'privacy must be FULL or REDACTED (LOCAL_ONLY chunks are never uploaded)'
                   WHEN (a.change->>'op') = 'UPSERT' AND coalesce(jsonb_typeof(a.change->'documentId'), 'null') NOT IN ('null', 'string')
                       THEN 'documentId must be null or a string'
                   WHEN (a.change->>'op') = 'UPSERT' AND coalesce(jsonb_typeof(a.change->'content'), 'null') NOT IN ('null', 'string')
                       THEN 'content must be null or a string'
                   WHEN (a.change->>'op') = 'UPSERT' AND coalesce(jsonb_typeof(a.change->'metadata'), 'null') NOT IN ('null', 'object')
                       THEN 'metadata must be null or a JSON object'
               END AS error
          FROM a
    ), v AS MATERIALIZED ( -- the values read (only for the changes decided here): a value PostgreSQL refuses raises
        SELECT f.*,
               CASE WHEN f.alone AND f.stored IS NULL AND f.error IS NULL
                    THEN (f.change->>'baseVersion')::bigint END AS base,
               CASE WHEN f.alone AND f.stored IS NULL AND f.error IS NULL
                    THEN (f.change->>'modifiedAt')::timestamptz END AS mod,
               CASE WHEN f.alone AND f.stored IS NULL AND f.error IS NULL AND f.op = 'UPSERT' THEN
                   CASE jsonb_typeof(f.change->'embedding')
                       WHEN 'string' THEN (f.change->>'embedding')::real[]
                       WHEN 'array' THEN translate((f.change->'embedding')::text, '[]', '{}')::real[]
                   END
               END AS embedding
          FROM f
    )
    SELECT array_agg(ROW(v.n, v.change, v.chunk, v.key, v.alone, v.stored,
               CASE WHEN NOT v.alone OR v.stored IS NOT NULL THEN NULL
                    WHEN v.error IS NOT NULL THEN v.error
                    WHEN v.op = 'UPSERT' AND coalesce(jsonb_typeof(v.change->'embedding'), 'null') <> 'null'
                         AND (v.embedding IS NULL OR array_ndims(v.embedding) IS DISTINCT FROM 1
                              OR array_position(v.embedding, NULL) IS NOT NULL OR 'NaN'::real = ANY (v.embedding)
                              OR 'Infinity'::real = ANY (v.embedding) OR '-Infinity'::real = ANY (v.embedding))
                        THEN 'embedding must be null or a non-empty array of finite numbers'
                    WHEN EXISTS (SELECT 1 FROM aggregates g WHERE g.key = v.chunk)
                        THEN format('chunk %s is captured by the application (vectorsync.enqueue), not the API', v.chunk)
                    WHEN extract(epoch FROM v.mod - clock_timestamp()) > p_max_skew
                        THEN format('clock ahead by %s s (at most %s s allowed)',
                                    ceil(extract(epoch FROM v.mod - clock_timestamp()))::bigint, p_max_skew)
               END,
               v.op, v.base, v.mod, v.privacy, v.local_only,
               CASE WHEN jsonb_typeof(v.change->'metadata') = 'object' THEN v.change->'metadata' ELSE '{}'::jsonb END,
               v.embedding)::vectorsync.sync_change ORDER BY v.n)
      INTO v_rows
      FROM v;
    IF v_rows IS NULL THEN
        RETURN '{}'::jsonb[];
    END IF;

    -- 2. Lock the chunks of the valid changes decided here, in chunk id order (a chunk not there yet is
    -- caught by the insert below, as sync_apply_one catches it).
    PERFORM 1 FROM chunks c
      WHERE c.chunk_id IN (SELECT r.chunk FROM unnest(v_rows) r WHERE r.alone AND r.stored IS NULL AND r.error IS NULL)
      ORDER BY c.chunk_id
        FOR UPDATE OF c;

    -- 3. Decide against the locked rows, write, store the outcomes.
    WITH r AS (
        SELECT * FROM unnest(v_rows)
    ), d AS ( -- the valid changes decided here, with the chunk's current row (NULL: never seen, version 0)
        SELECT r.n, r.change, r.chunk, r.key, r.op, r.base, r.mod, r.privacy, r.local_only, r.metadata, r.embedding,
               c AS cr, coalesce(c.version, 0) AS cur, r.base < coalesce(c.version, 0) AS conflict,
               CASE WHEN r.base >= coalesce(c.version, 0) THEN NULL
                    WHEN r.op = 'DELETE' AND r.local_only THEN 'local'
                    WHEN p_policy = 'local-wins' THEN 'local'
                    WHEN p_policy = 'remote-wins' THEN 'remote'
                    WHEN r.mod > coalesce(c.modified_at, c.updated_at) THEN 'local'
                    WHEN r.mod < coalesce(c.modified_at, c.updated_at) THEN 'remote'
                    WHEN p_device COLLATE "C" >= c.modified_by COLLATE "C" THEN 'local'
                    ELSE 'remote' END AS winner
          FROM r LEFT JOIN chunks c ON c.chunk_id = r.chunk
         WHERE r.alone AND r.stored IS NULL AND r.error IS NULL
    ), w AS ( -- what is written: not lost, and not the delete of a chunk that is gone already
        SELECT d.*, d.cur + 1 AS version
          FROM d
         WHERE d.winner IS DISTINCT FROM 'remote'
           AND NOT (d.op = 'DELETE' AND (d.cur = 0 OR (d.cr).deleted))
    ), up AS (
        INSERT INTO chunks AS c (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted,
                                 updated_at, modified_at, modified_by)
        SELECT w.chunk, w.version, w.change->>'documentId', w.change->>'content', w.embedding, w.metadata, w.privacy,
               false, clock_timestamp(), w.mod, p_device
          FROM w WHERE w.op = 'UPSERT'
         ORDER BY w.n
        ON CONFLICT (chunk_id) DO UPDATE
           SET version = EXCLUDED.version, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
               embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
               deleted = false, updated_at = EXCLUDED.updated_at, modified_at = EXCLUDED.modified_at,
               modified_by = EXCLUDED.modified_by
         WHERE c.version = EXCLUDED.version - 1
        RETURNING 1
    ), del AS (
        UPDATE chunks c
           SET version = w.version, deleted = true, content = NULL, embedding = NULL, document_id = NULL,
               metadata = '{}'::jsonb, updated_at = clock_timestamp(), modified_at = w.mod, modified_by = p_device
          FROM w
         WHERE w.op = 'DELETE' AND c.chunk_id = w.chunk AND c.version = w.cur
        RETURNING 1
    ), ev AS (
        -- As PostgresChunkStore: a LOCAL_ONLY chunk was never in a backend, its delete sends nothing.
        INSERT INTO outbox (event_id, type, chunk_id, version, origin)
        SELECT vectorsync.ulid(), w.op, w.chunk, w.version, p_device
          FROM w WHERE w.op = 'UPSERT' OR (w.cr).privacy <> 'LOCAL_ONLY'
         ORDER BY w.n
    ), o AS ( -- the outcomes of the changes decided here, as sync_apply_one builds them
        SELECT d.n, d.key, d.chunk, (d.change->>'uploadId')::bigint AS upload_id,
               jsonb_build_object('key', d.change->'key', 'uploadId', d.change->'uploadId')
               || CASE
                   WHEN d.winner = 'remote' THEN jsonb_build_object(
                       'status', 'CONFLICT', 'winner', 'remote', 'code', 'VSYNC-SYNC-003',
                       'version', d.cur,
                       'remote', vectorsync.sync_row(d.cr),
                       'loser', jsonb_build_object(
                           'chunkId', d.chunk, 'version', d.base, 'deleted', d.op = 'DELETE',
                           'documentId', CASE WHEN d.op = 'UPSERT' THEN d.change->'documentId' ELSE 'null'::jsonb END,
                           'content', CASE WHEN d.op = 'UPSERT' AND d.privacy = 'FULL' THEN d.change->'content' ELSE 'null'::jsonb END,
                           'embedding', CASE WHEN d.op = 'UPSERT' THEN to_jsonb(d.embedding::text) END,
                           'metadata', CASE WHEN d.op = 'UPSERT' THEN d.metadata ELSE '{}'::jsonb END,
                           'privacy', CASE WHEN d.op = 'UPSERT' THEN d.privacy ELSE coalesce((d.cr).privacy, 'FULL') END,
                           'modifiedAt', vectorsync.sync_iso(d.mod),
                           'modifiedBy', p_device))
                   WHEN d.op = 'DELETE' AND (d.cur = 0 OR (d.cr).deleted) THEN
                       -- Nothing to delete: both sides agree that the chunk is gone.
                       jsonb_build_object('status', 'APPLIED', 'version', d.cur)
                   WHEN d.conflict THEN jsonb_build_object(
                       'status', 'CONFLICT', 'winner', 'local', 'code', 'VSYNC-SYNC-003',
                       'loser', vectorsync.sync_row(d.cr), 'version', d.cur + 1)
                   ELSE jsonb_build_object('status', 'APPLIED', 'version', d.cur + 1)
               END AS outcome
          FROM d
    ), st AS (
        INSERT INTO sync_applied (device_id, idempotency_key, upload_id, chunk_id, outcome)
        SELECT p_device, o.key, o.upload_id, o.chunk, o.outcome FROM o
    ), invalid AS (
        SELECT r.n, jsonb_build_object(
                   'key', CASE WHEN jsonb_typeof(r.change) = 'object' THEN r.change->'key' END,
                   'uploadId', CASE WHEN jsonb_typeof(r.change) = 'object' THEN r.change->'uploadId' END,
                   'status', 'INVALID',
                   'version', coalesce((SELECT c.version FROM chunks c WHERE c.chunk_id = r.chunk), 0),
                   'code', 'VSYNC-SYNC-005',
                   'error', r.error) AS outcome
          FROM r WHERE r.alone AND r.stored IS NULL AND r.error IS NOT NULL
    ), all_out AS (
        SELECT o.n, o.outcome FROM o
        UNION ALL SELECT i.n, i.outcome FROM invalid i
        UNION ALL SELECT r.n, r.stored FROM r WHERE r.alone AND r.stored IS NOT NULL
    )
    SELECT (SELECT array_agg(x.outcome ORDER BY r.n) FROM r LEFT JOIN all_out x ON x.n = r.n),
           (SELECT count(*) FROM w WHERE w.op = 'UPSERT'), (SELECT count(*) FROM up),
           (SELECT count(*) FROM w WHERE w.op = 'DELETE'), (SELECT count(*) FROM del),
           (SELECT count(*) FROM o)
      INTO v_outcomes, v_upserts, v_written, v_deletes, v_deleted, v_decided;

    IF v_written <> v_upserts OR v_deleted <> v_deletes THEN
        -- Another transaction created one of the chunks after this one looked: the call fails, the device
        -- retries (as sync_apply_one).
        RAISE EXCEPTION 'VSYNC-SYNC-002: a chunk of the batch was created concurrently; retry the batch'
            USING ERRCODE = '40001';
    END IF;
    IF v_decided > 0 THEN
        PERFORM vectorsync.notify_if_enabled();
    END IF;
    RETURN v_outcomes;
END
$$;

-- A batch of the device's changes, in upload order (ADR 024, ADR 026): {"serverTime", "outcomes": [...]},
-- one outcome per change. A lock held longer than 5 s (a chunk row, the device's row) fails the call, which
-- the device retries, rather than holding its connection. A key seen before returns its stored outcome and
-- applies nothing; outcomes of upload ids up to p_acked_upload_id are forgotten. An invalid change is
-- INVALID (VSYNC-SYNC-005, not stored: it wrote nothing) and the others apply. The changes that share
-- neither chunk nor key with another are decided and written set-based (sync_apply_set), the others one by
-- one (sync_apply_each); when the set-based part fails on a value the whole batch goes one by one.
CREATE OR REPLACE FUNCTION vectorsync.sync_apply(p_device text, p_acked_upload_id bigint, p_changes jsonb,
                                                 p_options jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ${flyway:defaultSchema}, pg_temp
SET lock_timeout = '5s' AS $$
DECLARE
    v_policy   text := coalesce(p_options->>'policy', 'last-write-wins');
    v_skew     numeric;
    v_outcomes jsonb[];
BEGIN
    PERFORM vectorsync.sync_check_device(p_device);
    IF v_policy NOT IN ('last-write-wins', 'local-wins', 'remote-wins') THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: policy must be last-write-wins, local-wins or remote-wins' USING ERRCODE = '22023';
    END IF;
    IF p_options ? 'maxClockSkewSeconds' AND jsonb_typeof(p_options->'maxClockSkewSeconds') <> 'number' THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: maxClockSkewSeconds must be a number' USING ERRCODE = '22023';
    END IF;
    v_skew := coalesce((p_options->>'maxClockSkewSeconds')::numeric, 300);
    IF p_changes IS NULL OR jsonb_typeof(p_changes) <> 'array' THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: changes must be a JSON array' USING ERRCODE = '22023';
    END IF;

    INSERT INTO sync_devices AS d (device_id, acked_upload_id) VALUES (p_device, coalesce(p_acked_upload_id, 0))
    ON CONFLICT (device_id) DO UPDATE
       SET last_seen = clock_timestamp(), acked_upload_id = greatest(d.acked_upload_id, EXCLUDED.acked_upload_id);
    IF p_acked_upload_id IS NOT NULL THEN
        DELETE FROM sync_applied WHERE device_id = p_device AND upload_id <= p_acked_upload_id;
    END IF;

    BEGIN
        v_outcomes := vectorsync.sync_apply_set(p_device, p_changes, v_policy, v_skew);
    EXCEPTION
        WHEN SQLSTATE 'VS005' OR data_exception OR integrity_constraint_violation THEN
            v_outcomes := NULL; -- rolled back: every change goes one by one, the bad one is isolated
    END;
    IF v_outcomes IS NULL OR array_position(v_outcomes, NULL) IS NOT NULL
       OR coalesce(array_length(v_outcomes, 1), 0) < jsonb_array_length(p_changes) THEN
        v_outcomes := vectorsync.sync_apply_each(p_device, p_changes, v_policy, v_skew, v_outcomes);
    END IF;
    RETURN jsonb_build_object('serverTime', vectorsync.sync_iso(clock_timestamp()),
                              'outcomes', coalesce(to_jsonb(v_outcomes), '[]'::jsonb));
END
$$;

REVOKE ALL ON FUNCTION vectorsync.sync_apply_each(text, jsonb, text, numeric, jsonb[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_apply_set(text, jsonb, text, numeric) FROM PUBLIC;
