-- Writes that may have landed after a newer lease holder's (ADR 017). A backend that can only check its
-- lease fence in a call apart from the write (Chroma) can't stop a holder that stalls between the two.
-- A holder that finds its lease lost after writing records the keys here, with a lean event per key in
-- the outbox; the current holder of (backend, partition) then delivers those keys again whatever its
-- ledger says (the backend's own version guard re-reads what it holds) and deletes the rows in the
-- transaction that moves its cursor. Keyed by (backend, partition), partition 0 until partitions come.
CREATE TABLE suspect_writes (
    backend      text        NOT NULL,
    partition    integer     NOT NULL DEFAULT 0 CHECK (partition >= 0),
    chunk_key    text        NOT NULL,
    lease_epoch  bigint      NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (backend, partition, chunk_key)
);
