-- Issue 15: the remote checks the dimension of a device's embedding against the server's
-- (vectorsync.embedding-dimension), as the server's API does (VSYNC-EMBEDDING-DIMENSION). Until now
-- sync_apply took an embedding of any length from a device: the device checked it, the remote did not.
--
-- The dimension is configuration of the server, not of the database: the server records it here at every
-- start-up (capture/ServerSettings). NULL (no server has started on this database since this migration):
-- nothing is checked.
CREATE TABLE server_settings (
    id                  boolean     PRIMARY KEY DEFAULT true CHECK (id), -- one row
    embedding_dimension int         CHECK (embedding_dimension BETWEEN 1 AND 16000),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO server_settings DEFAULT VALUES;

-- A chunk written by a device (the sync functions write modified_by = the device id; the server's API
-- and jobs write 'server' and check the dimension themselves) with an embedding of another dimension is
-- refused: VS005, the sync functions' invalid-value error, with the stable code in its DETAIL. In the
-- set-based part of sync_apply that fails the statement, and the batch goes one by one (as for any value
-- the remote cannot store, V14), where the change is INVALID with that code, wrote nothing and is not
-- stored, and the other changes apply. The one check sits where both paths write, so they cannot differ.
-- A change that loses a conflict writes nothing and is not checked: its outcome is the conflict's.
CREATE FUNCTION vectorsync_embedding_dimension() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_dim int := (SELECT s.embedding_dimension FROM ${flyway:defaultSchema}.server_settings s);
    v_len int := coalesce(array_length(NEW.embedding, 1), 0);
BEGIN
    IF v_dim IS NOT NULL AND v_len <> v_dim THEN
        RAISE EXCEPTION USING ERRCODE = 'VS005', DETAIL = 'VSYNC-EMBEDDING-DIMENSION',
            MESSAGE = format('embedding has %s dimensions; the server takes %s (vectorsync.embedding-dimension)',
                             v_len, v_dim);
    END IF;
    RETURN NEW;
END $$;

-- The WHEN condition keeps the server's own writes (and deletes: no embedding) free of the trigger's call.
CREATE TRIGGER chunks_embedding_dimension BEFORE INSERT OR UPDATE OF embedding ON chunks FOR EACH ROW
    WHEN (NEW.embedding IS NOT NULL AND NEW.modified_by <> 'server')
    EXECUTE FUNCTION vectorsync_embedding_dimension();

-- V14's per-change path, one change: an INVALID outcome takes its code from the error's DETAIL when it has
-- one (VSYNC-EMBEDDING-DIMENSION above), else VSYNC-SYNC-005 as before.
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
    v_code     text;
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
                    GET STACKED DIAGNOSTICS v_error = MESSAGE_TEXT, v_code = PG_EXCEPTION_DETAIL;
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
                    'code', coalesce(nullif(v_code, ''), 'VSYNC-SYNC-005'),
                    'error', v_error);
                v_error := NULL;
                v_code := NULL;
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

REVOKE ALL ON FUNCTION vectorsync.sync_apply_each(text, jsonb, text, numeric, jsonb[]) FROM PUBLIC;
