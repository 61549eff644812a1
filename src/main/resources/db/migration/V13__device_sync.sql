-- Issue 15 (ADR 024): offline-first devices sync with this database (the remote) through four functions.
--
-- A device logs in as a role that is a member of vectorsync_sync and has no other grant: it may execute
-- vectorsync.sync_hello, sync_apply, sync_changes and sync_snapshot (SECURITY DEFINER, owned by the role
-- that runs the migrations) and nothing else. Only the remote allocates versions; a device's change is
-- written to `chunks` with its lean outbox event in the function's transaction, so the relay delivers it
-- to every backend like an API write. Conflicts are decided here, once, and the outcome of every change
-- is stored under the device's idempotency key until the device acknowledges it.

-- Who changed a chunk last, and when by the writer's clock (a device's hybrid logical clock; NULL for a
-- server write: then updated_at tells).
ALTER TABLE chunks
    ADD COLUMN modified_at timestamptz,
    ADD COLUMN modified_by text NOT NULL DEFAULT 'server';

-- The device whose change made the event (NULL: the server's API or an application); a device does not
-- download its own changes back.
ALTER TABLE outbox ADD COLUMN origin text;

-- One row per device: its download cursor as last acknowledged (ack_snapshot: every event visible in it
-- has been read; retention keeps the others while the device was seen within max-offline), the upload id
-- it acknowledged last, and whether it must re-sync from a snapshot of `chunks`.
CREATE TABLE sync_devices (
    device_id       text        PRIMARY KEY,
    system_id       text,
    cursor          jsonb,
    ack_snapshot    pg_snapshot,
    acked_upload_id bigint      NOT NULL DEFAULT 0,
    first_seen      timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen       timestamptz NOT NULL DEFAULT clock_timestamp(),
    needs_resync    boolean     NOT NULL DEFAULT false,
    -- The database role that registered the device (the login role, not the functions' owner): only it
    -- may act as this device; an operator moves a device to another role with an UPDATE.
    role_name       text        NOT NULL DEFAULT session_user,
    resync_reason   text
);

-- The stored outcome of every change applied (or decided) for a device, by its idempotency key, until the
-- device acknowledges an upload id at or above it.
CREATE TABLE sync_applied (
    device_id       text        NOT NULL,
    idempotency_key text        NOT NULL,
    upload_id       bigint      NOT NULL,
    chunk_id        text        NOT NULL,
    outcome         jsonb       NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (device_id, idempotency_key)
);
CREATE INDEX sync_applied_upload ON sync_applied (device_id, upload_id);

-- ---------------------------------------------------------------------------------------------------
-- Internal helpers (EXECUTE revoked from PUBLIC below: only the sync functions' owner calls them).

-- A time as the devices write it: ISO-8601 UTC with microseconds.
CREATE OR REPLACE FUNCTION vectorsync.sync_iso(p_t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
    SELECT to_char(p_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Raises an invalid-payload error (VSYNC-SYNC-005); sync_apply turns it into an INVALID outcome.
CREATE OR REPLACE FUNCTION vectorsync.sync_invalid(p_message text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'VS005', MESSAGE = p_message;
END
$$;

-- A device id as vectorsync.sync.device-id allows it; 'server' is what server writes are marked with. A
-- device registered by one login role (session_user: the functions run as their owner, the session stays
-- the caller's) can't be acted as by another member of vectorsync_sync (VSYNC-SYNC-FORBIDDEN).
CREATE OR REPLACE FUNCTION vectorsync.sync_check_device(p_device text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
BEGIN
    IF p_device IS NULL OR p_device !~ '^[A-Za-z0-9._-]{1,64}$' OR p_device = 'server' THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: the device id must be 1 to 64 letters, digits, ''.'', ''_'' or ''-'' (not ''server'')'
            USING ERRCODE = '22023';
    END IF;
    IF EXISTS (SELECT 1 FROM sync_devices d WHERE d.device_id = p_device AND d.role_name <> session_user) THEN
        RAISE EXCEPTION 'VSYNC-SYNC-FORBIDDEN: device % is registered to another database role', p_device
            USING ERRCODE = '42501';
    END IF;
END
$$;

-- The database's identity as the relay's check reads it (ADR 015).
CREATE OR REPLACE FUNCTION vectorsync.sync_system_id() RETURNS text
LANGUAGE sql STABLE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
    SELECT system_identifier::text FROM pg_control_system()
$$;

-- A row of `chunks` as a device receives it. A LOCAL_ONLY row is shown deleted, without data (its
-- content never leaves the server); a REDACTED one without content. The embedding is the array literal
-- text of real[] (a JSON string: no numeric to build here or to parse on the device).
CREATE OR REPLACE FUNCTION vectorsync.sync_row(c ${flyway:defaultSchema}.chunks) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
    SELECT jsonb_build_object(
        'chunkId', c.chunk_id,
        'version', c.version,
        'deleted', c.deleted OR c.privacy = 'LOCAL_ONLY',
        'documentId', CASE WHEN c.privacy = 'LOCAL_ONLY' THEN NULL ELSE c.document_id END,
        'content', CASE WHEN c.privacy = 'FULL' THEN c.content END,
        'embedding', CASE WHEN c.privacy = 'LOCAL_ONLY' THEN NULL ELSE to_jsonb(c.embedding::text) END,
        'metadata', CASE WHEN c.privacy = 'LOCAL_ONLY' THEN '{}'::jsonb ELSE c.metadata END,
        'privacy', c.privacy,
        'modifiedAt', vectorsync.sync_iso(coalesce(c.modified_at, c.updated_at)),
        'modifiedBy', c.modified_by)
$$;

-- An embedding from JSON: NULL, a non-empty array of numbers, or (what devices send: a JSON string costs
-- no numeric parsing) the same numbers as PostgreSQL's array literal text, "{0.1,-2.5e-3,...}". Both are
-- read by real[]'s own input function: element by element through jsonb_array_elements took six times as
-- long, the most of a batch's time on the remote. Finite numbers only, one dimension, no NULL.
CREATE OR REPLACE FUNCTION vectorsync.sync_floats(p_json jsonb) RETURNS real[]
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v real[];
BEGIN
    IF p_json IS NULL OR jsonb_typeof(p_json) = 'null' THEN
        RETURN NULL;
    END IF;
    BEGIN
        IF jsonb_typeof(p_json) = 'string' THEN
            v := (p_json #>> '{}')::real[];
        ELSIF jsonb_typeof(p_json) = 'array' THEN
            v := translate(p_json::text, '[]', '{}')::real[];
        END IF;
    EXCEPTION WHEN data_exception THEN
        v := NULL;
    END;
    IF v IS NULL OR array_ndims(v) IS DISTINCT FROM 1 OR array_position(v, NULL) IS NOT NULL
       OR 'NaN'::real = ANY (v) OR 'Infinity'::real = ANY (v) OR '-Infinity'::real = ANY (v) THEN
        PERFORM vectorsync.sync_invalid('embedding must be null or a non-empty array of finite numbers');
    END IF;
    RETURN v;
END
$$;

-- One change of sync_apply (see there), decided and written; raises VS005 for an invalid one. p_prior is
-- the version an earlier change of the same chunk wrote in this call (or its stored outcome): the change
-- is based on it.
CREATE OR REPLACE FUNCTION vectorsync.sync_apply_one(p_device text, p_change jsonb, p_policy text,
                                                     p_max_skew numeric, p_prior bigint)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v_op        text := p_change->>'op';
    v_chunk     text := p_change->>'chunkId';
    v_privacy   text := coalesce(p_change->>'privacy', 'FULL');
    v_local     boolean := (p_change->>'reason') IS NOT DISTINCT FROM 'local-only';
    v_base      bigint;
    v_mod       timestamptz;
    v_ahead     numeric;
    v_metadata  jsonb := p_change->'metadata';
    v_embedding real[];
    v_row       chunks%ROWTYPE;
    v_cur       bigint := 0;
    v_winner    text;
    v_remote_at timestamptz;
    v_new       bigint;
    v_out       jsonb;
BEGIN
    IF jsonb_typeof(p_change) IS DISTINCT FROM 'object' THEN
        PERFORM vectorsync.sync_invalid('a change must be a JSON object');
    END IF;
    IF jsonb_typeof(p_change->'key') IS DISTINCT FROM 'string' OR length(p_change->>'key') NOT BETWEEN 1 AND 64 THEN
        PERFORM vectorsync.sync_invalid('key must be a string of 1 to 64 characters');
    END IF;
    IF jsonb_typeof(p_change->'uploadId') IS DISTINCT FROM 'number' OR (p_change->>'uploadId') !~ '^[0-9]{1,18}$' THEN
        PERFORM vectorsync.sync_invalid('uploadId must be a non-negative integer');
    END IF;
    IF v_op IS NULL OR v_op NOT IN ('UPSERT', 'DELETE') THEN
        PERFORM vectorsync.sync_invalid('op must be UPSERT or DELETE');
    END IF;
    IF jsonb_typeof(p_change->'chunkId') IS DISTINCT FROM 'string' OR length(v_chunk) NOT BETWEEN 1 AND 256 THEN
        PERFORM vectorsync.sync_invalid('chunkId must be a string of 1 to 256 characters');
    END IF;
    IF starts_with(v_chunk, 'link:') THEN
        PERFORM vectorsync.sync_invalid('a chunk id may not start with ''link:'' (reserved for edge keys)');
    END IF;
    IF jsonb_typeof(p_change->'baseVersion') IS DISTINCT FROM 'number' OR (p_change->>'baseVersion') !~ '^[0-9]{1,18}$' THEN
        PERFORM vectorsync.sync_invalid('baseVersion must be a non-negative integer');
    END IF;
    v_base := (p_change->>'baseVersion')::bigint;
    IF jsonb_typeof(p_change->'modifiedAt') IS DISTINCT FROM 'string'
       OR (p_change->>'modifiedAt') !~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$' THEN
        PERFORM vectorsync.sync_invalid('modifiedAt must be an ISO-8601 UTC time (uuuu-MM-ddTHH:mm:ss.SSSSSSZ)');
    END IF;
    v_mod := (p_change->>'modifiedAt')::timestamptz;
    IF (p_change->>'reason') IS NOT NULL AND NOT (v_local AND v_op = 'DELETE') THEN
        PERFORM vectorsync.sync_invalid('reason may only be ''local-only'', on a DELETE');
    END IF;
    IF v_op = 'UPSERT' THEN
        IF v_privacy NOT IN ('FULL', 'REDACTED') THEN
            PERFORM vectorsync.sync_invalid('privacy must be FULL or REDACTED (LOCAL_ONLY chunks are never uploaded)');
        END IF;
        IF coalesce(jsonb_typeof(p_change->'documentId'), 'null') NOT IN ('null', 'string') THEN
            PERFORM vectorsync.sync_invalid('documentId must be null or a string');
        END IF;
        IF coalesce(jsonb_typeof(p_change->'content'), 'null') NOT IN ('null', 'string') THEN
            PERFORM vectorsync.sync_invalid('content must be null or a string');
        END IF;
        IF v_metadata IS NULL OR jsonb_typeof(v_metadata) = 'null' THEN
            v_metadata := '{}'::jsonb;
        ELSIF jsonb_typeof(v_metadata) <> 'object' THEN
            PERFORM vectorsync.sync_invalid('metadata must be null or a JSON object');
        END IF;
        v_embedding := vectorsync.sync_floats(p_change->'embedding');
    END IF;
    IF EXISTS (SELECT 1 FROM aggregates a WHERE a.key = v_chunk) THEN
        PERFORM vectorsync.sync_invalid(format('chunk %s is captured by the application (vectorsync.enqueue), not the API', v_chunk));
    END IF;
    v_ahead := extract(epoch FROM v_mod - clock_timestamp());
    IF v_ahead > p_max_skew THEN
        PERFORM vectorsync.sync_invalid(format('clock ahead by %s s (at most %s s allowed)', ceil(v_ahead)::bigint, p_max_skew));
    END IF;

    SELECT * INTO v_row FROM chunks c WHERE c.chunk_id = v_chunk FOR UPDATE;
    IF FOUND THEN
        v_cur := v_row.version;
    END IF;
    v_out := jsonb_build_object('key', p_change->'key', 'uploadId', p_change->'uploadId');

    -- A conflict: the change is based on an older version than the remote's current one.
    IF coalesce(p_prior, v_base) < v_cur THEN
        v_remote_at := coalesce(v_row.modified_at, v_row.updated_at);
        v_winner := CASE
            WHEN v_op = 'DELETE' AND v_local THEN 'local'
            WHEN p_policy = 'local-wins' THEN 'local'
            WHEN p_policy = 'remote-wins' THEN 'remote'
            WHEN v_mod > v_remote_at THEN 'local'
            WHEN v_mod < v_remote_at THEN 'remote'
            WHEN p_device COLLATE "C" >= v_row.modified_by COLLATE "C" THEN 'local'
            ELSE 'remote' END;
        v_out := v_out || jsonb_build_object('status', 'CONFLICT', 'winner', v_winner, 'code', 'VSYNC-SYNC-003');
        IF v_winner = 'remote' THEN
            RETURN v_out || jsonb_build_object(
                'version', v_cur,
                'remote', vectorsync.sync_row(v_row),
                'loser', jsonb_build_object(
                    'chunkId', v_chunk, 'version', v_base, 'deleted', v_op = 'DELETE',
                    'documentId', CASE WHEN v_op = 'UPSERT' THEN p_change->'documentId' ELSE 'null'::jsonb END,
                    'content', CASE WHEN v_op = 'UPSERT' AND v_privacy = 'FULL' THEN p_change->'content' ELSE 'null'::jsonb END,
                    'embedding', CASE WHEN v_op = 'UPSERT' THEN to_jsonb(v_embedding::text) END,
                    'metadata', CASE WHEN v_op = 'UPSERT' THEN v_metadata ELSE '{}'::jsonb END,
                    'privacy', CASE WHEN v_op = 'UPSERT' THEN v_privacy ELSE coalesce(v_row.privacy, 'FULL') END,
                    'modifiedAt', vectorsync.sync_iso(v_mod),
                    'modifiedBy', p_device));
        END IF;
        v_out := v_out || jsonb_build_object('loser', vectorsync.sync_row(v_row));
    ELSE
        v_out := v_out || jsonb_build_object('status', 'APPLIED');
    END IF;

    IF v_op = 'DELETE' THEN
        IF v_cur = 0 OR v_row.deleted THEN
            -- Nothing to delete: both sides agree that the chunk is gone.
            RETURN (v_out - 'winner' - 'code' - 'loser') || jsonb_build_object('status', 'APPLIED', 'version', v_cur);
        END IF;
        UPDATE chunks c
           SET version = v_cur + 1, deleted = true, content = NULL, embedding = NULL, document_id = NULL,
               metadata = '{}'::jsonb, updated_at = clock_timestamp(), modified_at = v_mod, modified_by = p_device
         WHERE c.chunk_id = v_chunk
        RETURNING c.version INTO v_new;
        -- As PostgresChunkStore: a LOCAL_ONLY chunk was never in a backend, nothing to send.
        IF v_row.privacy <> 'LOCAL_ONLY' THEN
            INSERT INTO outbox (event_id, type, chunk_id, version, origin)
            VALUES (vectorsync.ulid(), 'DELETE', v_chunk, v_new, p_device);
        END IF;
    ELSE
        INSERT INTO chunks AS c (chunk_id, version, document_id, content, embedding, metadata, privacy, deleted,
                                 updated_at, modified_at, modified_by)
        VALUES (v_chunk, v_cur + 1, p_change->>'documentId', p_change->>'content', v_embedding, v_metadata, v_privacy,
                false, clock_timestamp(), v_mod, p_device)
        ON CONFLICT (chunk_id) DO UPDATE
           SET version = EXCLUDED.version, document_id = EXCLUDED.document_id, content = EXCLUDED.content,
               embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata, privacy = EXCLUDED.privacy,
               deleted = false, updated_at = EXCLUDED.updated_at, modified_at = EXCLUDED.modified_at,
               modified_by = EXCLUDED.modified_by
         WHERE c.version = v_cur
        RETURNING c.version INTO v_new;
        IF v_new IS NULL THEN
            -- Another transaction created the chunk after this one read it: the call fails, the device retries.
            RAISE EXCEPTION 'VSYNC-SYNC-002: chunk % was created concurrently; retry the batch', v_chunk
                USING ERRCODE = '40001';
        END IF;
        INSERT INTO outbox (event_id, type, chunk_id, version, origin)
        VALUES (vectorsync.ulid(), 'UPSERT', v_chunk, v_new, p_device);
    END IF;
    RETURN v_out || jsonb_build_object('version', v_new);
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- The functions a device calls.

-- {"systemId", "serverTime", "knownDevice"}; registers the device or records that it was seen.
CREATE OR REPLACE FUNCTION vectorsync.sync_hello(p_device text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v_sys   text := vectorsync.sync_system_id();
    v_known boolean;
BEGIN
    PERFORM vectorsync.sync_check_device(p_device);
    v_known := EXISTS (SELECT 1 FROM sync_devices WHERE device_id = p_device);
    INSERT INTO sync_devices AS d (device_id, system_id) VALUES (p_device, v_sys)
    ON CONFLICT (device_id) DO UPDATE SET system_id = EXCLUDED.system_id, last_seen = clock_timestamp();
    RETURN jsonb_build_object('systemId', v_sys, 'serverTime', vectorsync.sync_iso(clock_timestamp()),
                              'knownDevice', v_known);
END
$$;

-- A batch of the device's changes, in upload order (ADR 024): {"serverTime", "outcomes": [...]}, one
-- outcome per change. A lock held longer than 5 s (a chunk row, the device's row) fails the call, which the
-- device retries, rather than holding its connection. A key seen before returns its stored outcome and applies nothing; outcomes of upload
-- ids up to p_acked_upload_id are forgotten. Each change runs in its own subtransaction: an invalid one
-- is INVALID (VSYNC-SYNC-005, not stored: it wrote nothing) and the others apply.
CREATE OR REPLACE FUNCTION vectorsync.sync_apply(p_device text, p_acked_upload_id bigint, p_changes jsonb,
                                                 p_options jsonb)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ${flyway:defaultSchema}, pg_temp
SET lock_timeout = '5s' AS $$
DECLARE
    v_policy   text := coalesce(p_options->>'policy', 'last-write-wins');
    v_skew     numeric;
    v_outcomes jsonb := '[]'::jsonb;
    v_written  jsonb := '{}'::jsonb;
    v_change   jsonb;
    v_chunk    text;
    v_out      jsonb;
    v_error    text;
    v_any      boolean := false;
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

    FOR v_change IN SELECT e FROM jsonb_array_elements(p_changes) WITH ORDINALITY AS t (e, n) ORDER BY n LOOP
        v_chunk := CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->>'chunkId' END;
        SELECT a.outcome INTO v_out FROM sync_applied a
         WHERE a.device_id = p_device AND a.idempotency_key = (CASE WHEN jsonb_typeof(v_change) = 'object' THEN v_change->>'key' END);
        IF NOT FOUND THEN
            BEGIN
                v_out := vectorsync.sync_apply_one(p_device, v_change, v_policy, v_skew, (v_written->>v_chunk)::bigint);
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
        v_outcomes := v_outcomes || jsonb_build_array(v_out);
    END LOOP;
    IF v_any THEN
        PERFORM vectorsync.notify_if_enabled();
    END IF;
    RETURN jsonb_build_object('serverTime', vectorsync.sync_iso(clock_timestamp()), 'outcomes', v_outcomes);
END
$$;

-- The next changes after the device's cursor, in commit order (ADR 024): the relay's snapshot window
-- (docs/design.md "Reading the outbox"), never `id >` a last value. The cursor is the device's to keep and
-- send back unchanged: {"snapshot": everything visible in it has been read, "window": the snapshot being
-- read (absent between windows), "txId", "id": the last event read in that window}. The cursor sent is
-- recorded as acknowledged (retention keeps what it has not read). Only lean UPSERT/DELETE events of API
-- chunks are sent, with the chunk's current row; LINK events, application-enqueued ones and the device's
-- own are skipped and counted. resync: true (no changes, a fresh cursor) when the device must copy
-- sync_snapshot first: no cursor, an unknown device, retention removed events it had not read, or a
-- cursor from a database whose transaction ids are lower (a restore).
CREATE OR REPLACE FUNCTION vectorsync.sync_changes(p_device text, p_cursor jsonb, p_limit int) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ${flyway:defaultSchema}, pg_temp
SET lock_timeout = '5s' AS $$
DECLARE
    v_sys     text := vectorsync.sync_system_id();
    v_dev     sync_devices%ROWTYPE;
    v_reason  text;
    v_prev    pg_snapshot;
    v_cur     pg_snapshot;
    v_fresh   boolean;
    v_lt      xid8;
    v_li      bigint;
    v_n       int;
    v_skipped int;
    v_changes jsonb;
    v_last_tx xid8;
    v_last_id bigint;
    v_cursor  jsonb;
    v_more    boolean;
BEGIN
    PERFORM vectorsync.sync_check_device(p_device);
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: limit must be 1 to 10000' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO v_dev FROM sync_devices WHERE device_id = p_device FOR UPDATE;
    IF NOT FOUND THEN
        v_reason := 'unknown device';
    ELSIF p_cursor IS NULL OR jsonb_typeof(p_cursor) = 'null' THEN
        v_reason := 'no cursor';
    ELSIF v_dev.needs_resync THEN
        v_reason := coalesce(v_dev.resync_reason, 'marked');
    ELSIF v_dev.ack_snapshot IS NULL THEN
        v_reason := 'no cursor acknowledged';
    ELSE
        BEGIN
            v_prev := (p_cursor->>'snapshot')::pg_snapshot;
            v_cur := (p_cursor->>'window')::pg_snapshot;
            -- A position means something only inside its window: without one, the window is read from its
            -- start (a change twice, which the device's version guard absorbs, never one skipped).
            v_lt := CASE WHEN v_cur IS NULL THEN '0'::xid8 ELSE coalesce((p_cursor->>'txId')::xid8, '0'::xid8) END;
            v_li := CASE WHEN v_cur IS NULL THEN 0 ELSE coalesce((p_cursor->>'id')::bigint, 0) END;
        EXCEPTION WHEN data_exception THEN
            RAISE EXCEPTION 'VSYNC-SYNC-005: the cursor is not one sync_changes made' USING ERRCODE = '22023';
        END;
        IF v_prev IS NULL THEN
            RAISE EXCEPTION 'VSYNC-SYNC-005: the cursor is not one sync_changes made' USING ERRCODE = '22023';
        END IF;
        IF pg_snapshot_xmax(coalesce(v_cur, v_prev)) > pg_snapshot_xmax(pg_current_snapshot()) THEN
            v_reason := 'transaction ids went backwards';
        END IF;
    END IF;

    IF v_reason IS NOT NULL THEN
        v_cur := pg_current_snapshot();
        v_cursor := jsonb_build_object('snapshot', v_cur::text);
        INSERT INTO sync_devices AS d (device_id, system_id, cursor, ack_snapshot)
        VALUES (p_device, v_sys, v_cursor, v_cur)
        ON CONFLICT (device_id) DO UPDATE
           SET system_id = EXCLUDED.system_id, cursor = EXCLUDED.cursor, ack_snapshot = EXCLUDED.ack_snapshot,
               needs_resync = false, resync_reason = NULL, last_seen = clock_timestamp();
        RETURN jsonb_build_object('systemId', v_sys, 'serverTime', vectorsync.sync_iso(clock_timestamp()),
                                  'resync', true, 'resyncReason', v_reason, 'cursor', v_cursor, 'more', false,
                                  'skipped', 0, 'changes', '[]'::jsonb);
    END IF;

    UPDATE sync_devices
       SET cursor = p_cursor, ack_snapshot = v_prev, system_id = v_sys, last_seen = clock_timestamp()
     WHERE device_id = p_device;
    v_fresh := v_cur IS NULL;
    IF v_fresh THEN
        v_cur := pg_current_snapshot();
    END IF;

    -- The window (prev, cur] after (txId, id): transactions in progress in prev, then ids from xmax(prev)
    -- to xmax(cur), each visible in cur; two ranges of the (tx_id, id) index, as relay/OutboxReader reads it.
    WITH w AS (
        SELECT u.* FROM (
            (SELECT o.id, o.tx_id, o.event_id, o.type, o.chunk_id, o.origin, o.payload IS NOT NULL AS enqueued
               FROM outbox o
              WHERE o.tx_id = ANY (ARRAY(SELECT pg_snapshot_xip(v_prev)))
                AND pg_visible_in_snapshot(o.tx_id, v_cur)
                AND (o.tx_id, o.id) > (v_lt, v_li)
              ORDER BY o.tx_id, o.id
              LIMIT p_limit)
            UNION ALL
            (SELECT o.id, o.tx_id, o.event_id, o.type, o.chunk_id, o.origin, o.payload IS NOT NULL AS enqueued
               FROM outbox o
              WHERE o.tx_id >= pg_snapshot_xmax(v_prev)
                AND o.tx_id < pg_snapshot_xmax(v_cur)
                AND pg_visible_in_snapshot(o.tx_id, v_cur)
                AND (o.tx_id, o.id) > (v_lt, v_li)
              ORDER BY o.tx_id, o.id
              LIMIT p_limit)
        ) u
        ORDER BY u.tx_id, u.id
        LIMIT p_limit
    ), r AS (
        SELECT w.id, w.tx_id, w.event_id, c,
               (w.type = 'LINK' OR w.enqueued OR w.origin IS NOT DISTINCT FROM p_device OR c.chunk_id IS NULL
                OR EXISTS (SELECT 1 FROM aggregates a WHERE a.key = w.chunk_id)) AS skip
          FROM w LEFT JOIN chunks c ON c.chunk_id = w.chunk_id
    )
    SELECT count(*),
           count(*) FILTER (WHERE r.skip),
           coalesce(jsonb_agg(jsonb_build_object(
                        'eventId', r.event_id,
                        'op', CASE WHEN (r.c).deleted OR (r.c).privacy = 'LOCAL_ONLY' THEN 'DELETE' ELSE 'UPSERT' END)
                    || vectorsync.sync_row(r.c) ORDER BY r.tx_id, r.id) FILTER (WHERE NOT r.skip), '[]'::jsonb),
           (array_agg(r.tx_id ORDER BY r.tx_id DESC, r.id DESC))[1],
           (array_agg(r.id ORDER BY r.tx_id DESC, r.id DESC))[1]
      INTO v_n, v_skipped, v_changes, v_last_tx, v_last_id
      FROM r;

    IF v_n < p_limit THEN
        -- The window is read: its snapshot becomes the one everything visible in is read. A window taken
        -- in an earlier call may be followed by newer events at once.
        v_cursor := jsonb_build_object('snapshot', v_cur::text);
        v_more := NOT v_fresh;
    ELSE
        v_cursor := jsonb_build_object('snapshot', v_prev::text, 'window', v_cur::text,
                                       'txId', v_last_tx::text, 'id', v_last_id);
        v_more := true;
    END IF;
    RETURN jsonb_build_object('systemId', v_sys, 'serverTime', vectorsync.sync_iso(clock_timestamp()),
                              'resync', false, 'cursor', v_cursor, 'more', v_more, 'skipped', v_skipped,
                              'changes', v_changes);
END
$$;

-- A page of the live API chunks in chunk-id order after p_after (NULL: from the start), LOCAL_ONLY left
-- out, REDACTED without content: {"chunks": [<row>...], "last": the last chunk id of the page, or null when
-- the page is empty}. A device re-syncing pages it from the start, then follows sync_changes from the
-- cursor its resync answer gave (ADR 009's argument: versions only grow, every change after that
-- snapshot has an event after it).
CREATE OR REPLACE FUNCTION vectorsync.sync_snapshot(p_device text, p_after text, p_limit int) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = ${flyway:defaultSchema}, pg_temp AS $$
DECLARE
    v_chunks jsonb;
    v_last   text;
BEGIN
    PERFORM vectorsync.sync_check_device(p_device);
    IF p_limit IS NULL OR p_limit < 1 OR p_limit > 10000 THEN
        RAISE EXCEPTION 'VSYNC-SYNC-005: limit must be 1 to 10000' USING ERRCODE = '22023';
    END IF;
    UPDATE sync_devices SET last_seen = clock_timestamp() WHERE device_id = p_device;
    SELECT coalesce(jsonb_agg(vectorsync.sync_row(p) ORDER BY p.chunk_id), '[]'::jsonb),
           (array_agg(p.chunk_id ORDER BY p.chunk_id DESC))[1]
      INTO v_chunks, v_last
      FROM (SELECT c.* FROM chunks c
             WHERE c.chunk_id > coalesce(p_after, '') AND NOT c.deleted AND c.privacy <> 'LOCAL_ONLY'
             ORDER BY c.chunk_id
             LIMIT p_limit) p;
    RETURN jsonb_build_object('chunks', v_chunks, 'last', v_last);
END
$$;

-- ---------------------------------------------------------------------------------------------------
-- Privileges: the four functions for vectorsync_sync, the helpers for no one but their owner.
REVOKE ALL ON FUNCTION vectorsync.sync_iso(timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_invalid(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_check_device(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_system_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_row(${flyway:defaultSchema}.chunks) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_floats(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_apply_one(text, jsonb, text, numeric, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_hello(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_apply(text, bigint, jsonb, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_changes(text, jsonb, int) FROM PUBLIC;
REVOKE ALL ON FUNCTION vectorsync.sync_snapshot(text, text, int) FROM PUBLIC;

-- Roles are cluster-wide: the group role may exist already (another database of this cluster), or be
-- created concurrently by another migration. A migration role without CREATEROLE leaves it to the
-- operator (docs/offline.md): then the grants wait for the role.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vectorsync_sync') THEN
        CREATE ROLE vectorsync_sync NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
    WHEN insufficient_privilege THEN
        RAISE NOTICE 'cannot create role vectorsync_sync (no CREATEROLE): create it, then grant it EXECUTE on the vectorsync.sync_* functions (docs/offline.md)';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vectorsync_sync') THEN
        GRANT USAGE ON SCHEMA vectorsync TO vectorsync_sync;
        GRANT EXECUTE ON FUNCTION vectorsync.sync_hello(text) TO vectorsync_sync;
        GRANT EXECUTE ON FUNCTION vectorsync.sync_apply(text, bigint, jsonb, jsonb) TO vectorsync_sync;
        GRANT EXECUTE ON FUNCTION vectorsync.sync_changes(text, jsonb, int) TO vectorsync_sync;
        GRANT EXECUTE ON FUNCTION vectorsync.sync_snapshot(text, text, int) TO vectorsync_sync;
    END IF;
END
$$;
