-- The transparency log (SPEC §4.6): its state, stored Merkle hashes in
-- tiles, the leaf-hash index and the signed checkpoints. The input is the
-- events table (0100_foundation.sql); the sequencer (services/log/log_seq.c)
-- sets events.log_index and writes these tables in one transaction, under a
-- transaction-scoped advisory lock, so several registryd processes on one
-- database never race.
--
-- Citus: log_state, log_tiles, log_leaf_hashes and log_checkpoints live on
-- the coordinator (the sequencer is the one writer; README "Scaling out").

-- One row: how many leaves the tree has and its root (RFC 9162 MTH).
CREATE TABLE log_state (
  id                boolean PRIMARY KEY DEFAULT true CHECK (id),
  tree_size         bigint NOT NULL CHECK (tree_size >= 0),
  root              bytea NOT NULL CHECK (length(root) = 32),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The empty tree: size 0, root SHA-256 of nothing.
INSERT INTO log_state (id, tree_size, root) VALUES (true, 0, sha256(''::bytea));

-- Stored subtree hashes, 256 to a tile (c2sp.org/tlog-tiles layout, see
-- crypto/tile.h): tile (level, idx) holds hashes of tree level 8·level,
-- indices [256·idx, 256·idx + width). Only the right-edge tile of a level
-- is partial; it grows in place and its first hashes never change.
CREATE TABLE log_tiles (
  level             int NOT NULL CHECK (level >= 0),
  idx               bigint NOT NULL CHECK (idx >= 0),
  hashes            bytea NOT NULL
                    CHECK (length(hashes) BETWEEN 32 AND 8192 AND length(hashes) % 32 = 0),
  PRIMARY KEY (level, idx)
);

-- SHA-256(0x00 ‖ leaf) → log index, for GetInclusionProofByHash.
CREATE TABLE log_leaf_hashes (
  log_index         bigint PRIMARY KEY,
  leaf_hash         bytea NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX log_leaf_hashes_by_hash ON log_leaf_hashes (leaf_hash);

-- Signed tree heads: the C2SP checkpoint as a signed note with the LOG key
-- of the time. Made from log_state under the sequencer's lock, so sizes only
-- grow and no two checkpoints disagree.
CREATE TABLE log_checkpoints (
  tree_size         bigint PRIMARY KEY CHECK (tree_size > 0),
  root              bytea NOT NULL CHECK (length(root) = 32),
  note              text NOT NULL,
  signature         bytea NOT NULL CHECK (length(signature) = 64),
  key_id            text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- What the log has published is never rewritten.
CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_leaf_hashes_append_only BEFORE UPDATE OR DELETE ON log_leaf_hashes
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
