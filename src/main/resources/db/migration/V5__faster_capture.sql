-- Cheaper capture (bench/perf.sh measured vectorsync.enqueue at 0.32 ms over an application transaction,
-- against a target of 0.3 ms):
-- * ULIDs with bigint arithmetic instead of numeric (12 -> 7 microseconds each); same format: 48 bits of
--   Unix milliseconds then 80 random bits, Crockford base32, 26 characters.
-- * Outbox payloads stored uncompressed out of line: a payload is mostly an embedding's digits, which
--   pglz compresses poorly and slowly, and an outbox row lives only until retention removes it
--   (77 -> 45 microseconds per enqueue of a 384-dimension payload, measured in one transaction).
CREATE OR REPLACE FUNCTION vectorsync.ulid() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms   bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    a    bytea  := uuid_send(gen_random_uuid());
    b    bytea  := uuid_send(gen_random_uuid());
    -- 40 random bits from each v4 UUID, away from its version (byte 6) and variant (byte 8) bits.
    r1   bigint := (get_byte(a, 0)::bigint << 32) | (get_byte(a, 1)::bigint << 24) | (get_byte(a, 2)::bigint << 16)
                   | (get_byte(a, 3)::bigint << 8) | get_byte(a, 4);
    r2   bigint := (get_byte(b, 11)::bigint << 32) | (get_byte(b, 12)::bigint << 24) | (get_byte(b, 13)::bigint << 16)
                   | (get_byte(b, 14)::bigint << 8) | get_byte(b, 15);
    out  text := '';
    i    int;
BEGIN
    FOR i IN 1..8 LOOP
        out := substr(alphabet, (r2 & 31)::int + 1, 1) || out;
        r2 := r2 >> 5;
    END LOOP;
    FOR i IN 1..8 LOOP
        out := substr(alphabet, (r1 & 31)::int + 1, 1) || out;
        r1 := r1 >> 5;
    END LOOP;
    FOR i IN 1..10 LOOP
        out := substr(alphabet, (ms & 31)::int + 1, 1) || out;
        ms := ms >> 5;
    END LOOP;
    RETURN out;
END
$$;

ALTER TABLE ${flyway:defaultSchema}.outbox ALTER COLUMN payload SET STORAGE EXTERNAL;
