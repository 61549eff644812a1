-- A cheaper vectorsync.ulid() (8.4 -> 5.6 microseconds a call, 20,000 calls in one DO block, three runs): one v4
-- UUID instead of two (its bytes 0-4 and 11-15 are 80 random bits, away from the version and variant bits
-- in bytes 6 and 8), and the 26 characters in one expression instead of 26 loop iterations. Same format:
-- 48 bits of Unix milliseconds then 80 random bits, Crockford base32, 26 characters.
CREATE OR REPLACE FUNCTION vectorsync.ulid() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    a  constant text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint;
    u  bytea  := uuid_send(gen_random_uuid());
    r1 bigint := (get_byte(u, 0)::bigint << 32) | (get_byte(u, 1)::bigint << 24) | (get_byte(u, 2)::bigint << 16)
                 | (get_byte(u, 3)::bigint << 8) | get_byte(u, 4);
    r2 bigint := (get_byte(u, 11)::bigint << 32) | (get_byte(u, 12)::bigint << 24) | (get_byte(u, 13)::bigint << 16)
                 | (get_byte(u, 14)::bigint << 8) | get_byte(u, 15);
BEGIN
    RETURN
        substr(a, ((ms >> 45) & 31)::int + 1, 1) || substr(a, ((ms >> 40) & 31)::int + 1, 1) ||
        substr(a, ((ms >> 35) & 31)::int + 1, 1) || substr(a, ((ms >> 30) & 31)::int + 1, 1) ||
        substr(a, ((ms >> 25) & 31)::int + 1, 1) || substr(a, ((ms >> 20) & 31)::int + 1, 1) ||
        substr(a, ((ms >> 15) & 31)::int + 1, 1) || substr(a, ((ms >> 10) & 31)::int + 1, 1) ||
        substr(a, ((ms >> 5) & 31)::int + 1, 1) || substr(a, ((ms >> 0) & 31)::int + 1, 1) ||
        substr(a, ((r1 >> 35) & 31)::int + 1, 1) || substr(a, ((r1 >> 30) & 31)::int + 1, 1) ||
        substr(a, ((r1 >> 25) & 31)::int + 1, 1) || substr(a, ((r1 >> 20) & 31)::int + 1, 1) ||
        substr(a, ((r1 >> 15) & 31)::int + 1, 1) || substr(a, ((r1 >> 10) & 31)::int + 1, 1) ||
        substr(a, ((r1 >> 5) & 31)::int + 1, 1) || substr(a, ((r1 >> 0) & 31)::int + 1, 1) ||
        substr(a, ((r2 >> 35) & 31)::int + 1, 1) || substr(a, ((r2 >> 30) & 31)::int + 1, 1) ||
        substr(a, ((r2 >> 25) & 31)::int + 1, 1) || substr(a, ((r2 >> 20) & 31)::int + 1, 1) ||
        substr(a, ((r2 >> 15) & 31)::int + 1, 1) || substr(a, ((r2 >> 10) & 31)::int + 1, 1) ||
        substr(a, ((r2 >> 5) & 31)::int + 1, 1) || substr(a, ((r2 >> 0) & 31)::int + 1, 1);
END
$$;
