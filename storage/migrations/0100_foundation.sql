-- Foundation: organizations, qualifications, API keys, request ids,
-- events (the transparency log's input), the access log, personal-data keys
-- and signing keys. Applied once; never edited after it has landed.
--
-- Citus: organizations, qualifications, api_keys, pii_data_keys and
-- signing_keys are small reference tables; request_ids is distributed by
-- organization_id; events by event_id (the log sequencer reads across
-- shards, README "Scaling out"); access_log by subject_blind_index.

CREATE TABLE organizations (
  id                text PRIMARY KEY,
  name              text NOT NULL,
  uscc              text UNIQUE,                 -- NULL only for the bootstrap ADMIN without --uscc
  roles             int[] NOT NULL,            -- registry.v1.Role values
  region_code       text NOT NULL,
  suspended         boolean NOT NULL DEFAULT false,
  suspended_reason  text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per (organization, kind): setting a qualification again replaces
-- it (the events table keeps every change).
CREATE TABLE qualifications (
  organization_id   text NOT NULL REFERENCES organizations (id),
  kind              int NOT NULL,                -- registry.v1.QualificationKind
  certificate_no    text NOT NULL,
  valid_from        date NOT NULL,
  valid_until       date NOT NULL,
  revoked           boolean NOT NULL DEFAULT false,
  revoked_reason    text NOT NULL DEFAULT '',
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, kind),
  CHECK (valid_from <= valid_until)
);

-- API keys are stored only as a keyed BLAKE2b hash.
CREATE TABLE api_keys (
  id                text PRIMARY KEY,
  organization_id   text NOT NULL REFERENCES organizations (id),
  key_hash          bytea NOT NULL UNIQUE,
  created_at        timestamptz NOT NULL DEFAULT now(),
  valid_until       timestamptz,
  last_used_at      timestamptz,
  revoked_at        timestamptz
);
CREATE INDEX api_keys_by_org ON api_keys (organization_id, created_at, id);

-- Idempotency (SPEC §3): successful mutations only, with their response.
CREATE TABLE request_ids (
  organization_id   text NOT NULL,
  request_id        uuid NOT NULL,
  method            text NOT NULL,
  request_sha256    bytea NOT NULL,
  response          bytea NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, request_id)
);
CREATE INDEX request_ids_by_age ON request_ids (created_at);

-- One row per resource an accepted mutation changed, written in the
-- mutation's transaction. `leaf` holds the exact LogLeaf bytes. `id` comes
-- from a sequence and is NOT commit order: the log sequencer assigns
-- log_index to unsequenced rows, never "id > last".
CREATE TABLE events (
  id                bigserial PRIMARY KEY,
  event_id          text NOT NULL UNIQUE,
  type              int NOT NULL,                -- registry.v1.EventType
  organization_id   text NOT NULL,               -- the acting organization ('' for the registry itself)
  item_id           text,
  listing_id        text,
  subject_id        text,
  certificate_id    text,
  invoice_id        text,
  leaf              bytea NOT NULL,
  created_at        timestamptz NOT NULL,
  log_index         bigint UNIQUE
);
CREATE INDEX events_unsequenced ON events (id) WHERE log_index IS NULL;
CREATE INDEX events_by_org ON events (organization_id, id);

-- Append-only: the leaf and what it names never change and no row is
-- deleted; only log_index may be set, once.
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF NEW.leaf IS DISTINCT FROM OLD.leaf OR NEW.event_id IS DISTINCT FROM OLD.event_id
     OR NEW.type IS DISTINCT FROM OLD.type OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.organization_id IS DISTINCT FROM OLD.organization_id
     OR (OLD.log_index IS NOT NULL AND NEW.log_index IS DISTINCT FROM OLD.log_index) THEN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Who read whose personal or credit data, when and why (SPEC §3).
CREATE TABLE access_log (
  id                   bigserial PRIMARY KEY,
  organization_id      text NOT NULL,
  method               text NOT NULL,
  subject_blind_index  bytea,
  subject_id           text,
  purpose              text NOT NULL DEFAULT '',
  at                   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_log_by_subject ON access_log (subject_blind_index, at);
CREATE INDEX access_log_by_org ON access_log (organization_id, at);

-- Personal-data keys: random data keys wrapped under the master key.
CREATE TABLE pii_data_keys (
  version           int PRIMARY KEY CHECK (version > 0),
  wrapped           bytea NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- Ed25519 signing keys, the secret half wrapped under the master key.
-- purpose: 1 CERTIFICATE, 2 INVOICE, 3 LOG. The current key of a purpose is
-- the one with valid_until NULL; old keys stay for verification.
CREATE TABLE signing_keys (
  purpose           int NOT NULL CHECK (purpose BETWEEN 1 AND 3),
  key_id            text NOT NULL,               -- 8 lowercase hex digits (C2SP key hash)
  name              text NOT NULL,
  public_key        bytea NOT NULL CHECK (length(public_key) = 32),
  wrapped_secret    bytea NOT NULL,
  valid_from        timestamptz NOT NULL DEFAULT now(),
  valid_until       timestamptz,
  PRIMARY KEY (purpose, key_id)
);
CREATE UNIQUE INDEX signing_keys_current ON signing_keys (purpose) WHERE valid_until IS NULL;
