-- Issue 13 (ADR 019): the primary keeps the current state of every aggregate the outbox carries.
--
-- Chunks written through the API already have theirs in `chunks`. Aggregates that applications capture
-- themselves (vectorsync.enqueue, OutboxWriter: chunks kept in the application's own tables) and
-- relationships (LINK events, keyed by edge) now have theirs in `aggregates`, written by the capture
-- function in the transaction of the event. Verify, repair and backfill read both (`current_state`), so
-- they no longer take an enqueued chunk for an orphan, and a backend added after retention still gets
-- everything.
--
-- The payload is not copied at capture: the row points at the outbox event that carries it
-- (payload_event), and retention copies the payload here in the statement that deletes that event. An
-- enqueue pays for one small row, not for a second 4 KB payload (bench/enqueue.sh, ADR 019).

CREATE TABLE aggregates (
    key           text        PRIMARY KEY,       -- the chunk id, or the edge key ('link:…') of a relationship
    version       bigint      NOT NULL CHECK (version > 0),
    deleted       boolean     NOT NULL,          -- a DELETE, or an UNLINK for an edge: a tombstone
    privacy       text        NOT NULL CHECK (privacy IN ('FULL', 'REDACTED', 'LOCAL_ONLY')),
    payload_event bigint,                        -- outbox.id of the event holding the payload, until retention
    payload       jsonb,                         -- the payload, once retention removed that event
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (NOT deleted OR (payload_event IS NULL AND payload IS NULL))
);
ALTER TABLE aggregates ALTER COLUMN payload SET STORAGE EXTERNAL;

-- What applications enqueued before this migration, from what retention left: the newest version of each
-- key (ties: the later event) that is not a chunk managed through the API.
INSERT INTO aggregates (key, version, deleted, privacy, payload_event)
SELECT DISTINCT ON (o.chunk_id)
       o.chunk_id, o.version,
       o.type = 'DELETE' OR (o.type = 'LINK' AND o.payload->>'op' = 'UNLINK'),
       CASE WHEN o.type = 'UPSERT' AND o.payload->>'privacy' IN ('FULL', 'REDACTED', 'LOCAL_ONLY')
            THEN o.payload->>'privacy' ELSE 'FULL' END,
       CASE WHEN o.type = 'DELETE' OR (o.type = 'LINK' AND o.payload->>'op' = 'UNLINK') THEN NULL ELSE o.id END
  FROM outbox o
 WHERE (o.payload IS NOT NULL OR o.type = 'DELETE')
   AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.chunk_id = o.chunk_id)
 ORDER BY o.chunk_id, o.version DESC, o.id DESC;

-- The current state of every aggregate, whoever captures it: `owner` is 'api' for `chunks`, 'application'
-- for `aggregates`. A key lives in one of them; an API tombstone the application took over afterwards
-- (enqueue refuses only live API chunks) gives way to the application's row. For a chunk of the API the
-- data are in columns, for the others in `payload` (the event's JSON, as enqueued).
CREATE VIEW current_state AS
SELECT c.chunk_id AS key, c.version, c.deleted, c.privacy, 'api'::text AS owner,
       c.document_id, c.content, c.embedding, c.metadata, NULL::jsonb AS payload
  FROM chunks c
 WHERE NOT c.deleted OR NOT EXISTS (SELECT 1 FROM aggregates a WHERE a.key = c.chunk_id)
UNION ALL
SELECT a.key, a.version, a.deleted, a.privacy, 'application'::text AS owner,
       NULL::text, NULL::text, NULL::real[], NULL::jsonb,
       coalesce(a.payload, (SELECT o.payload FROM outbox o WHERE o.id = a.payload_event)) AS payload
  FROM aggregates a;

-- vectorsync.enqueue as in V3, and:
-- * the key's state in `aggregates` (newest version wins; an older or equal version leaves it), in the
--   caller's transaction;
-- * a chunk written through the API (a live row of `chunks`) is refused: its state is that row, and an
--   event with another payload would make the backends differ from it (VSYNC-ENQUEUE-OWNED).
CREATE OR REPLACE FUNCTION vectorsync.enqueue(p_type text, p_chunk_id text, p_version bigint, p_payload jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_event_id text := vectorsync.ulid();
    v_id       bigint;
    v_gone     boolean;
BEGIN
    IF p_type IS NULL OR p_type NOT IN ('UPSERT', 'DELETE', 'LINK') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: type must be UPSERT, DELETE or LINK' USING ERRCODE = '22023';
    END IF;
    IF p_type = 'LINK' THEN
        IF p_chunk_id IS NULL OR NOT starts_with(p_chunk_id, 'link:') OR length(p_chunk_id) > 1024 THEN
            RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: a LINK event is keyed by its edge key (use vectorsync.enqueue_link)'
                USING ERRCODE = '22023';
        END IF;
        IF p_payload IS NULL OR jsonb_typeof(p_payload) <> 'object' THEN
            RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: a LINK needs a JSON object payload' USING ERRCODE = '22023';
        END IF;
    ELSIF p_chunk_id IS NULL OR length(p_chunk_id) = 0 OR length(p_chunk_id) > 256 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: chunk id must have 1 to 256 characters' USING ERRCODE = '22023';
    ELSIF starts_with(p_chunk_id, 'link:') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: a chunk id may not start with ''link:'' (reserved for edge keys)'
            USING ERRCODE = '22023';
    END IF;
    IF p_version IS NULL OR p_version < 1 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: version must be a positive integer' USING ERRCODE = '22023';
    END IF;
    IF p_type = 'UPSERT' AND (p_payload IS NULL OR jsonb_typeof(p_payload) <> 'object') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: an UPSERT needs a JSON object payload' USING ERRCODE = '22023';
    END IF;
    IF p_type <> 'LINK' AND p_payload ? 'privacy' AND p_payload->>'privacy' NOT IN ('FULL', 'REDACTED', 'LOCAL_ONLY') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: privacy must be FULL, REDACTED or LOCAL_ONLY' USING ERRCODE = '22023';
    END IF;
    IF p_type <> 'LINK' AND EXISTS (SELECT 1 FROM ${flyway:defaultSchema}.chunks c
                                     WHERE c.chunk_id = p_chunk_id AND NOT c.deleted) THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-OWNED: chunk % is managed through the API (the chunks table); write it through the API, or enqueue ids of your own tables only', p_chunk_id
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO ${flyway:defaultSchema}.outbox (event_id, type, chunk_id, version, payload)
    VALUES (v_event_id, p_type, p_chunk_id, p_version, p_payload)
    RETURNING id INTO v_id;
    v_gone := p_type = 'DELETE' OR (p_type = 'LINK' AND p_payload->>'op' = 'UNLINK');
    INSERT INTO ${flyway:defaultSchema}.aggregates AS a (key, version, deleted, privacy, payload_event)
    VALUES (p_chunk_id, p_version, v_gone,
            CASE WHEN p_type = 'UPSERT' THEN coalesce(p_payload->>'privacy', 'FULL') ELSE 'FULL' END,
            CASE WHEN v_gone THEN NULL ELSE v_id END)
    ON CONFLICT (key) DO UPDATE
       SET version = EXCLUDED.version, deleted = EXCLUDED.deleted, privacy = EXCLUDED.privacy,
           payload_event = EXCLUDED.payload_event, payload = NULL, updated_at = clock_timestamp()
     WHERE a.version < EXCLUDED.version;
    PERFORM vectorsync.notify_if_enabled();
    RETURN v_event_id;
END
$$;
