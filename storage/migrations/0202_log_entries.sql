-- The sequencer no longer updates events (services/log/README.md,
-- "Sequencing"). Setting events.log_index could not be a HOT update (the
-- column is indexed), so each sequenced row was rewritten whole with a new
-- entry in every index of events: the log benchmark measured it as most of
-- the sequencer's cost (tests/bench/README.md). Now:
--   events          immutable once written (no UPDATE at all);
--   events_pending  the ids of event rows not yet in the log, queued by a
--                   statement trigger in the writer's own transaction, so a
--                   row committed late is queued by its commit and never
--                   skipped; the sequencer deletes what it sequences;
--   log_entries     log index → event row and its leaf hash, append-only
--                   (it replaces log_leaf_hashes).

CREATE TABLE events_pending (
  id                bigint PRIMARY KEY          -- events.id
);

CREATE TABLE log_entries (
  log_index         bigint PRIMARY KEY CHECK (log_index >= 0),
  event_row         bigint NOT NULL UNIQUE,     -- events.id (no foreign key: the
                                                -- sequencer read the row in the same
                                                -- transaction; events rows are never deleted)
  leaf_hash         bytea NOT NULL CHECK (length(leaf_hash) = 32)
);

INSERT INTO log_entries (log_index, event_row, leaf_hash)
  SELECT h.log_index, e.id, h.leaf_hash
  FROM log_leaf_hashes h JOIN events e ON e.log_index = h.log_index;
INSERT INTO events_pending (id) SELECT id FROM events WHERE log_index IS NULL;

CREATE INDEX log_entries_by_hash ON log_entries (leaf_hash);
CREATE TRIGGER log_entries_append_only BEFORE UPDATE OR DELETE ON log_entries
  FOR EACH ROW EXECUTE FUNCTION log_append_only();

CREATE FUNCTION events_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO events_pending (id) SELECT id FROM added;
  RETURN NULL;
END $$;
CREATE TRIGGER events_enqueue AFTER INSERT ON events
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION events_enqueue();

-- Append-only, now without exception: no row is updated or deleted.
CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;

DROP TABLE log_leaf_hashes;
ALTER TABLE events DROP COLUMN log_index;     -- with its unique and partial indexes

-- For people at psql and for tests: every event with its log index (NULL
-- until sequenced).
CREATE VIEW event_log AS
  SELECT e.*, l.log_index FROM events e LEFT JOIN log_entries l ON l.event_row = e.id;
