-- Capture for applications that own their tables: vectorsync.enqueue(...) joins the caller's
-- transaction and writes one outbox event with its full payload. Event ids are ULIDs made in SQL.
CREATE SCHEMA IF NOT EXISTS vectorsync;

-- A ULID: 48 bits of Unix milliseconds then 80 random bits, in Crockford base32 (26 characters).
CREATE OR REPLACE FUNCTION vectorsync.ulid() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms      bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
    rnd     bytea  := substring(uuid_send(gen_random_uuid()) FROM 1 FOR 6)
                      || substring(uuid_send(gen_random_uuid()) FROM 11 FOR 6);
    bits    numeric := 0;
    out     text := '';
    i       int;
BEGIN
    -- 10 random bytes (80 bits), taken from the random parts of two v4 UUIDs.
    FOR i IN 0..9 LOOP
        bits := bits * 256 + get_byte(rnd, i);
    END LOOP;
    FOR i IN 1..16 LOOP
        out := substr(alphabet, (bits % 32)::int + 1, 1) || out;
        bits := floor(bits / 32);
    END LOOP;
    FOR i IN 1..10 LOOP
        out := substr(alphabet, (ms % 32)::int + 1, 1) || out;
        ms := ms / 32;
    END LOOP;
    RETURN out;
END
$$;

-- Optional NOTIFY wake-up (off by default: NOTIFY takes a cluster-wide lock at commit and cut capture
-- throughput from 5,200 to 3,000 transactions/s in a measurement on this kind of machine). When the
-- database setting vectorsync.notify is 'on' (ALTER DATABASE ... SET vectorsync.notify = 'on'),
-- vectorsync.enqueue notifies channel vectorsync_outbox, and relays with vectorsync.relay.listen-notify=true
-- listen on it and poll at once.
CREATE OR REPLACE FUNCTION vectorsync.notify_if_enabled() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('vectorsync.notify', true) = 'on' THEN
        PERFORM pg_notify('vectorsync_outbox', '');
    END IF;
END
$$;

-- Enqueues one event: type UPSERT | DELETE | LINK, the aggregate (chunk id), its version and the full
-- payload ({"documentId", "content", "embedding", "metadata", "privacy"} for an UPSERT). Returns the
-- event id. Raises VSYNC-ENQUEUE-INVALID on bad input, which aborts the caller's transaction.
CREATE OR REPLACE FUNCTION vectorsync.enqueue(p_type text, p_chunk_id text, p_version bigint, p_payload jsonb DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_event_id text := vectorsync.ulid();
BEGIN
    IF p_type IS NULL OR p_type NOT IN ('UPSERT', 'DELETE', 'LINK') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: type must be UPSERT, DELETE or LINK' USING ERRCODE = '22023';
    END IF;
    IF p_chunk_id IS NULL OR length(p_chunk_id) = 0 OR length(p_chunk_id) > 256 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: chunk id must have 1 to 256 characters' USING ERRCODE = '22023';
    END IF;
    IF p_version IS NULL OR p_version < 1 THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: version must be a positive integer' USING ERRCODE = '22023';
    END IF;
    IF p_type = 'UPSERT' AND (p_payload IS NULL OR jsonb_typeof(p_payload) <> 'object') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: an UPSERT needs a JSON object payload' USING ERRCODE = '22023';
    END IF;
    IF p_payload ? 'privacy' AND p_payload->>'privacy' NOT IN ('FULL', 'REDACTED', 'LOCAL_ONLY') THEN
        RAISE EXCEPTION 'VSYNC-ENQUEUE-INVALID: privacy must be FULL, REDACTED or LOCAL_ONLY' USING ERRCODE = '22023';
    END IF;
    INSERT INTO ${flyway:defaultSchema}.outbox (event_id, type, chunk_id, version, payload)
    VALUES (v_event_id, p_type, p_chunk_id, p_version, p_payload);
    PERFORM vectorsync.notify_if_enabled();
    RETURN v_event_id;
END
$$;
