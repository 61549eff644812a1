-- Repair writes to the repaired backend only (ADR 011, ADR 019). Verify with repair records here the keys
-- a backend holds differently; the lease holder of (backend, partition) delivers each key's current state
-- (current_state; a delete when it is not live) to that backend alone, forced: the backend takes a version
-- equal to the one it holds, never an older one. No outbox event, no version bump, so the other backends
-- never see it. A row is deleted in the transaction that records the ledger of its delivery, unless it was
-- requested again meanwhile.
CREATE TABLE repair_keys (
    backend      text        NOT NULL,
    partition    integer     NOT NULL DEFAULT 0 CHECK (partition >= 0),
    key          text        NOT NULL,
    held_version bigint,                -- what verify found in the backend; NULL: absent
    requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (backend, partition, key)
);
