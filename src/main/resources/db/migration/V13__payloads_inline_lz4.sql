-- Payloads kept inline, compressed with lz4 (ADR 019). Migration V5 stored outbox payloads uncompressed out
-- of line because pglz compresses an embedding's digits poorly and slowly; out of line, a 384-dimension
-- payload (about 6.4 KB as jsonb) costs a main row, three TOAST rows and three TOAST index entries per
-- enqueue, and the relay reads it back through the TOAST index. lz4 takes it to about 2.7 KB, which fits in
-- the row (STORAGE MAIN: compressed, out of line only when a row would not fit in a page): one row, fewer
-- WAL bytes, for the state row the capture now writes too (bench/enqueue.sh, ADR 019). A server built
-- without lz4 keeps V5's storage.
DO $$
BEGIN
    ALTER TABLE ${flyway:defaultSchema}.outbox ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE ${flyway:defaultSchema}.outbox ALTER COLUMN payload SET STORAGE MAIN;
    ALTER TABLE ${flyway:defaultSchema}.aggregates ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE ${flyway:defaultSchema}.aggregates ALTER COLUMN payload SET STORAGE MAIN;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: outbox and aggregates payloads stay uncompressed out of line (V5)';
END
$$;
