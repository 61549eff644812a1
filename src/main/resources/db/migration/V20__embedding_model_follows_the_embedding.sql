-- Review of issue 16: the model recorded with a chunk (V16) describes the embedding that is stored, so it
-- changes only when the embedding does. V16's trigger function cleared it (or set the transaction's model) on
-- every UPDATE, so a write that keeps the embedding (a repair's version raise, a metadata-only change) lost the
-- recorded model, and the next REEMBED re-embedded the chunk for nothing.
--
-- Now, on UPDATE:
--   * no embedding any more (a delete)                      -> no model;
--   * the same embedding, and the transaction names no model -> the OLD model and version are kept;
--   * the same embedding in a transaction that names a model -> that model: such a writer (EmbeddedWrites:
--     ingest, re-embed, a PUT without an embedding) only writes embeddings that model made, so the same vector
--     is that model's; keeping OLD here would leave a chunk whose model was lost re-embedded by every REEMBED
--     to the identical vector without ever being recorded, selected again by each run;
--   * another embedding -> the transaction's model, or none.
-- INSERT is as before (the transaction's model, or none). The triggers and their WHEN conditions of V16 stay:
-- an UPDATE with no model named of a row with none recorded has nothing to change.
CREATE OR REPLACE FUNCTION vectorsync_embedding_model() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    model text := nullif(current_setting('vectorsync.embedding_model', true), '');
BEGIN
    IF NEW.embedding IS NULL THEN
        NEW.embedding_model := NULL;
        NEW.embedding_model_version := NULL;
    ELSIF TG_OP = 'UPDATE' AND model IS NULL AND NEW.embedding IS NOT DISTINCT FROM OLD.embedding THEN
        NEW.embedding_model := OLD.embedding_model;
        NEW.embedding_model_version := OLD.embedding_model_version;
    ELSE
        NEW.embedding_model := model;
        NEW.embedding_model_version := CASE WHEN model IS NULL THEN NULL
                                            ELSE nullif(current_setting('vectorsync.embedding_model_version', true), '') END;
    END IF;
    RETURN NEW;
END $$;
