-- An operator's backfill (POST /admin/v1/backends/{backend}/backfill, ADR 010) rebuilds a backend that
-- may have lost data the ledger still records (a wiped table or collection), so its pages bypass the
-- ledger: every live chunk is written again (the backend's own version guard still refuses an older
-- version). The first backfill of a new backend (ADR 009) keeps the ledger filter. Only read while
-- backfilling is true.
ALTER TABLE relay_cursor
    ADD COLUMN backfill_rewrite boolean NOT NULL DEFAULT false;
