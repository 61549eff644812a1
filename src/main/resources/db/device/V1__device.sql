-- A device's SQLite store (the `local` profile, ADR 023). Times are ISO-8601 UTC text with microseconds
-- ("2026-12-02T03:04:05.123456Z"), which sorts as it compares. Ids are AUTOINCREMENT so an id is never
-- reused after old rows are removed.

-- Settings the device keeps about itself: device_id, remote_system_id, download_cursor (JSON),
-- resync_after (chunk id of a snapshot in progress), last_upload_at, last_pull_at, paused, hlc_last,
-- clock_offset_micros.
CREATE TABLE device (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The device's chunks. remote_version: the remote's version this row holds, or the one its local edits
-- are based on (0: never on the remote). revision: local writes since, never seen by any backend.
CREATE TABLE chunks (
    chunk_id       TEXT PRIMARY KEY,
    remote_version INTEGER NOT NULL DEFAULT 0,
    revision       INTEGER NOT NULL DEFAULT 0,
    document_id    TEXT,
    content        TEXT,
    embedding      BLOB,            -- float32 little-endian
    metadata       TEXT    NOT NULL DEFAULT '{}',
    privacy        TEXT    NOT NULL DEFAULT 'FULL' CHECK (privacy IN ('FULL', 'REDACTED', 'LOCAL_ONLY')),
    deleted        INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    modified_at    TEXT    NOT NULL, -- hybrid logical clock of the last write (local or downloaded)
    modified_by    TEXT    NOT NULL, -- a device id, or 'server'
    sync_status    TEXT    NOT NULL CHECK (sync_status IN ('PENDING', 'SYNCED', 'CONFLICT', 'FAILED', 'LOCAL')),
    updated_at     TEXT    NOT NULL
) WITHOUT ROWID;

-- The local outbox: one entry per local write that must reach the remote, in id order. payload is the
-- change as sync_apply takes it (op, chunkId, modifiedAt, privacy, documentId, content, embedding,
-- metadata, reason) without key, uploadId and baseVersion, which the upload adds.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT    NOT NULL UNIQUE, -- a ULID
    chunk_id         TEXT    NOT NULL,
    op               TEXT    NOT NULL CHECK (op IN ('UPSERT', 'DELETE')),
    revision         INTEGER NOT NULL,
    base_version     INTEGER NOT NULL,        -- chunks.remote_version when the entry was written
    payload          TEXT    NOT NULL,
    payload_bytes    INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SYNCED', 'CONFLICT', 'FAILED')),
    retry_count      INTEGER NOT NULL DEFAULT 0,
    last_code        TEXT,
    last_error       TEXT,
    next_attempt_at  TEXT,
    assigned_version INTEGER,
    created_at       TEXT    NOT NULL,
    synced_at        TEXT
);
CREATE INDEX outbox_by_status ON outbox (status, id);
CREATE INDEX outbox_by_chunk ON outbox (chunk_id, id);

-- Changes downloaded from the remote, applied to chunks at the remote's version without an outbox entry.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT    NOT NULL UNIQUE,
    chunk_id    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    op          TEXT    NOT NULL CHECK (op IN ('UPSERT', 'DELETE')),
    payload     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'RECEIVED' CHECK (status IN ('RECEIVED', 'WAITING', 'APPLIED', 'SKIPPED')),
    note        TEXT,
    received_at TEXT    NOT NULL,
    applied_at  TEXT
);
CREATE INDEX inbox_by_status ON inbox (status, id);

-- Conflicts, with both sides (JSON rows as the remote returns them, content included: the device's own
-- data), the resolution and where the loser is kept.
CREATE TABLE conflicts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id      TEXT NOT NULL,
    policy        TEXT NOT NULL,
    winner        TEXT NOT NULL CHECK (winner IN ('local', 'remote')),
    reason        TEXT NOT NULL, -- base-version | local-only | clock-skew
    local_json    TEXT,
    remote_json   TEXT,
    loser_version INTEGER,
    loser_file    TEXT,
    detected_at   TEXT NOT NULL
);
CREATE INDEX conflicts_by_chunk ON conflicts (chunk_id, id);
