-- Issue 17, ADR 032: every event carries the partition of its key and the generation of the partition
-- count it was chosen under, set by one trigger for every writer of the outbox.

-- The current partitioning: one row. The relay reads generation 1, partition 0 until it reads by
-- partition, and refuses to start on another count (VSYNC-CONFIG-PARTITIONS).
-- relay_partitioning_only_one: until the relay reads by partition, no other value can be written, since
-- events of another generation or partition would be passed by the cursor unread and then removed by
-- retention (the relay's start-up check alone would not see a change made while it runs). The migration
-- that brings the switch drops it.
CREATE TABLE relay_partitioning (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation integer NOT NULL CHECK (generation >= 1),
    partitions smallint NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
    CONSTRAINT relay_partitioning_only_one CHECK (generation = 1 AND partitions = 1)
);
INSERT INTO relay_partitioning (generation, partitions) VALUES (1, 1);

-- Every generation the outbox has seen; switch_snapshot is the first snapshot taken after its switch
-- committed (NULL for the first): a cursor of the previous generation that has read past it is done.
CREATE TABLE relay_partition_generations (
    generation      integer     PRIMARY KEY CHECK (generation >= 1),
    partitions      smallint    NOT NULL CHECK (partitions BETWEEN 1 AND 1024),
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    switch_snapshot pg_snapshot
);
INSERT INTO relay_partition_generations (generation, partitions) VALUES (1, 1);

-- Constant defaults and no CHECK: PostgreSQL 11 and later add the columns without rewriting or scanning
-- the table (a CHECK would be validated by a scan under the ACCESS EXCLUSIVE lock); the trigger below is
-- what sets them.
ALTER TABLE outbox
    ADD COLUMN partition            smallint NOT NULL DEFAULT 0,
    ADD COLUMN partition_generation integer  NOT NULL DEFAULT 1;

-- The generation whose events a cursor reads, beside the partition it already has (V9).
ALTER TABLE relay_cursor ADD COLUMN generation integer NOT NULL DEFAULT 1 CHECK (generation >= 1);

-- The partition of a key under a count: non-negative, stable across PostgreSQL versions (the same
-- function hashes text for hash partitioning). One partition needs no hash at all.
CREATE FUNCTION vectorsync.partition_of(p_key text, p_partitions integer) RETURNS smallint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN p_partitions <= 1 THEN 0
                ELSE (((pg_catalog.hashtextextended(p_key, 0) % p_partitions) + p_partitions) % p_partitions) END::smallint
$$;

-- The one place that decides an event's partition: whatever wrote the row (the API's statements,
-- vectorsync.enqueue, enqueue_link, OutboxWriter, the device sync functions, an application's INSERT), a
-- value it passed is replaced. The shared advisory lock (key "vsync-pt") is held to the end of the
-- transaction; a switch of the count takes it exclusively, so it waits for every capture in flight and
-- every capture after it reads the new generation (ADR 032). It locks no row and writes nothing, so
-- captures never wait for each other.
CREATE FUNCTION vectorsync.outbox_partition() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_generation integer;
    v_partitions smallint;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(8535299233814507636);
    IF current_setting('transaction_isolation') = 'read committed' THEN
        SELECT generation, partitions INTO v_generation, v_partitions FROM ${flyway:defaultSchema}.relay_partitioning;
    ELSE
        -- A snapshot older than the statement (REPEATABLE READ, SERIALIZABLE) could still show the generation
        -- before a switch that committed meanwhile: reading the row FOR SHARE refuses that (40001), and the
        -- caller retries its transaction as after any serialization failure.
        SELECT generation, partitions INTO v_generation, v_partitions FROM ${flyway:defaultSchema}.relay_partitioning
           FOR SHARE;
    END IF;
    NEW.partition_generation := v_generation;
    NEW.partition := vectorsync.partition_of(NEW.chunk_id, v_partitions);
    RETURN NEW;
END
$$;

CREATE TRIGGER outbox_partition BEFORE INSERT ON outbox
    FOR EACH ROW EXECUTE FUNCTION vectorsync.outbox_partition();

-- The window query reads one partition of one generation. With one partition every event matches and the
-- (tx_id, id) index serves it; the index that leads with the partition is built (concurrently) by the
-- switch to more than one partition (ADR 032), so a deployment with one pays for no second index entry.
