-- Issue 16, ingest and embeddings (ADR 028, docs/ingest.md).

-- The model that made a chunk's embedding: set by the ingest and re-embed jobs and by a PUT without an
-- embedding (through the transaction-local settings below); NULL for an embedding a client brought. A write
-- that does not set them (a client's PUT, a device's change, a delete) clears them, so the columns always
-- describe the embedding that is stored.
ALTER TABLE chunks ADD COLUMN embedding_model text, ADD COLUMN embedding_model_version text;

CREATE FUNCTION vectorsync_embedding_model() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.embedding_model := nullif(current_setting('vectorsync.embedding_model', true), '');
    NEW.embedding_model_version := CASE WHEN NEW.embedding_model IS NULL THEN NULL
                                        ELSE nullif(current_setting('vectorsync.embedding_model_version', true), '') END;
    RETURN NEW;
END $$;

-- The WHEN conditions keep the common write (a client's, with no model set and none stored) free of the
-- trigger's call.
CREATE TRIGGER chunks_embedding_model_insert BEFORE INSERT ON chunks FOR EACH ROW
    WHEN (coalesce(current_setting('vectorsync.embedding_model', true), '') <> '')
    EXECUTE FUNCTION vectorsync_embedding_model();
CREATE TRIGGER chunks_embedding_model_update BEFORE UPDATE ON chunks FOR EACH ROW
    WHEN (OLD.embedding_model IS NOT NULL OR coalesce(current_setting('vectorsync.embedding_model', true), '') <> '')
    EXECUTE FUNCTION vectorsync_embedding_model();

CREATE INDEX chunks_document_id ON chunks (document_id) WHERE NOT deleted;

-- One row per ingested document. The revision order is the order of the INGEST jobs' enqueue
-- (jobs.created_at, then id): the write phase locks this row and refuses (the job completes as superseded)
-- when a job enqueued later has already written.
CREATE TABLE documents (
    document_id      text        PRIMARY KEY,
    revision         bigint      NOT NULL DEFAULT 0,
    written_job_id   text,
    written_enqueued timestamptz,
    chunk_count      integer     NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The chunks an ingest created, with what it wrote: the hash of text, metadata (position included) and
-- privacy, and the chunk's version then. A chunk whose version moved on was changed by someone else (a
-- client's PUT): a re-ingest that no longer has it forgets it instead of deleting it. Chunks a client PUT
-- under the same document id have no row here and are never deleted by an ingest.
CREATE TABLE document_chunks (
    chunk_id     text    PRIMARY KEY,
    document_id  text    NOT NULL REFERENCES documents (document_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    state_hash   text    NOT NULL,
    version      bigint  NOT NULL
);
CREATE INDEX document_chunks_document ON document_chunks (document_id);
