-- Relationship-only events (ADR-008): LINK events are keyed by edge, not by chunk, with their own
-- version. The edge key is 'link:' || length(from) || ':' || from || '|' || type || '|' || to: the length
-- of `from` makes the key unambiguous whatever the ids contain (a type has no '|'), and the 'link:'
-- prefix keeps every edge key apart from every chunk id in delivery_ledger.chunk_key, parked and
-- dead_letter: from now on a chunk event's id may not start with 'link:', and a LINK event's key must.

-- The edge key of (from)-[:type]->(to); io.vectorsync.backend.Link.key builds the same text.
CREATE OR REPLACE FUNCTION vectorsync.link_key(p_from text, p_type text, p_to text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT 'link:' || length(p_from) || ':' || p_from || '|' || p_type || '|' || p_to
$$;

-- NOT VALID: rows already in the outbox are not checked (nor scanned); every new row is.
ALTER TABLE outbox ADD CONSTRAINT outbox_link_events_use_edge_keys
    CHECK ((type = 'LINK') = starts_with(chunk_id, 'link:')) NOT VALID;

-- vectorsync.enqueue as in V2, plus the edge-key rule: a LINK event's key starts with 'link:' (and may be
-- longer than a chunk id, up to 1024 characters), an UPSERT's or DELETE's chunk id may not.
CREATE OR REPLACE FUNCTION vectorsync.enqueue(p_type text, p_chunk_id text, p_version bigint, p_payload jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_event_id text := vectorsync.ulid();
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
    INSERT INTO ${flyway:defaultSchema}.outbox (event_id, type, chunk_id, version, payload)
    VALUES (v_event_id, p_type, p_chunk_id, p_version, p_payload);
    PERFORM vectorsync.notify_if_enabled();
    RETURN v_event_id;
END
$$;

-- Enqueues a relationship change in the caller's transaction: (from)-[:type]->(to) with its properties
-- (a full replace), or its removal when p_remove. The version is the edge's own (each edge keeps its
-- sequence: an older version never overwrites a newer one). Returns the event id. Backends that store
-- relationships (Neo4j) create missing endpoint nodes; the others skip the event.
CREATE OR REPLACE FUNCTION vectorsync.enqueue_link(p_from text, p_type text, p_to text, p_version bigint,
                                                   p_remove boolean DEFAULT false, p_properties jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_from IS NULL OR length(p_from) = 0 OR length(p_from) > 256 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: from must be a chunk id of 1 to 256 characters' USING ERRCODE = '22023';
    END IF;
    IF p_to IS NULL OR length(p_to) = 0 OR length(p_to) > 256 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: to must be a chunk id of 1 to 256 characters' USING ERRCODE = '22023';
    END IF;
    IF p_type IS NULL OR p_type !~ '^[A-Z_][A-Z0-9_]*$' OR length(p_type) > 255 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: type must be an identifier [A-Z_][A-Z0-9_]* of at most 255 characters'
            USING ERRCODE = '22023';
    END IF;
    IF p_properties IS NOT NULL AND jsonb_typeof(p_properties) <> 'object' THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: properties must be a JSON object' USING ERRCODE = '22023';
    END IF;
    RETURN vectorsync.enqueue('LINK', vectorsync.link_key(p_from, p_type, p_to), p_version,
        jsonb_build_object('from', p_from, 'type', p_type, 'to', p_to,
                           'op', CASE WHEN COALESCE(p_remove, false) THEN 'UNLINK' ELSE 'LINK' END,
                           'properties', COALESCE(p_properties, '{}'::jsonb)));
END
$$;
