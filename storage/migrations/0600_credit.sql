-- Credit subjects, append-only credit records, disputes and their
-- resolutions, the serious-dishonesty list (SPEC §4.4, §6, DOMAIN §4;
-- services/credit/README.md). Nothing here is updated or deleted: a
-- record's status is derived at query time from supersessions, dispute
-- resolutions and dates; a dispute's resolution and a list entry's removal
-- are rows of their own.
--
-- A natural person (SELLER_PERSON, APPRAISER_PERSON, PRACTITIONER) is
-- stored sealed (the packed registry.v1.Person, crypto/pii.h, associated
-- data "credit_subjects/person/<id>") and found by person_ref, the blind
-- index of the resident ID number in the registry-wide domain resident_id —
-- the same ref listings and invoices keep, so a platform's sellers match
-- their subjects. Organizations are stored by USCC and name in clear.
--
-- Citus: every table is distributed by subject_id.

CREATE TABLE credit_subjects (
  id                text PRIMARY KEY,                  -- sub_…
  kind              int NOT NULL CHECK (kind BETWEEN 1 AND 7),  -- registry.v1.SubjectKind
  person_ref        bytea UNIQUE CHECK (length(person_ref) = 32),
  person_enc        bytea,
  uscc              text UNIQUE,
  name              text,                              -- organizations only
  organization_id   text,                              -- the registry organization it is
  registered_by     text NOT NULL,
  event_id          text NOT NULL,
  created_at        timestamptz NOT NULL,
  CHECK ((person_ref IS NULL) = (uscc IS NOT NULL)),
  CHECK ((person_ref IS NULL) = (person_enc IS NULL))
);
CREATE INDEX credit_subjects_by_org ON credit_subjects (organization_id)
  WHERE organization_id IS NOT NULL;

CREATE TABLE credit_records (
  id                text PRIMARY KEY,                  -- rec_…
  subject_id        text NOT NULL REFERENCES credit_subjects (id),
  category          int NOT NULL CHECK (category BETWEEN 1 AND 12),
  severity          int NOT NULL CHECK (severity BETWEEN 1 AND 5),
  occurred_on       date NOT NULL,
  ended_on          date,
  summary           text NOT NULL,
  evidence_sha256   bytea NOT NULL DEFAULT '',         -- 32-byte hashes, concatenated
  source_organization_id text NOT NULL,
  -- a correction names the record it replaces; one replacement each
  supersedes_record_id text UNIQUE REFERENCES credit_records (id),
  event_id          text NOT NULL,
  created_at        timestamptz NOT NULL
);
CREATE INDEX credit_records_by_subject ON credit_records (subject_id, occurred_on, id);

CREATE TABLE credit_disputes (
  id                text PRIMARY KEY,                  -- dsp_…
  record_id         text NOT NULL REFERENCES credit_records (id),
  subject_id        text NOT NULL REFERENCES credit_subjects (id),
  filed_by          text NOT NULL,
  reason            text NOT NULL,
  filed_on          date NOT NULL,                     -- Asia/Shanghai
  event_id          text NOT NULL,
  filed_at          timestamptz NOT NULL
);
-- at most one open dispute per record (the resolution closes it)
CREATE INDEX credit_disputes_by_record ON credit_disputes (record_id);
CREATE INDEX credit_disputes_by_time ON credit_disputes (filed_on, id);

CREATE TABLE credit_dispute_resolutions (
  dispute_id        text PRIMARY KEY REFERENCES credit_disputes (id),
  outcome           int NOT NULL CHECK (outcome BETWEEN 1 AND 3),  -- registry.v1.DisputeOutcome
  note              text NOT NULL DEFAULT '',
  correction_record_id text REFERENCES credit_records (id),
  resolved_by       text NOT NULL,
  event_id          text NOT NULL,
  resolved_at       timestamptz NOT NULL
);

CREATE TABLE dishonesty_entries (
  id                bigserial PRIMARY KEY,
  subject_id        text NOT NULL REFERENCES credit_subjects (id),
  reason            text NOT NULL,
  decision_ref      text NOT NULL,
  listed_on         date NOT NULL,
  listed_by         text NOT NULL,
  event_id          text NOT NULL,
  listed_at         timestamptz NOT NULL
);
CREATE INDEX dishonesty_entries_by_subject ON dishonesty_entries (subject_id, listed_on);

CREATE TABLE dishonesty_removals (
  entry_id          bigint PRIMARY KEY REFERENCES dishonesty_entries (id),
  removed_on        date NOT NULL,
  reason            text NOT NULL,
  removed_by        text NOT NULL,
  event_id          text NOT NULL,
  removed_at        timestamptz NOT NULL
);

CREATE TRIGGER credit_subjects_append_only BEFORE UPDATE OR DELETE ON credit_subjects
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER credit_records_append_only BEFORE UPDATE OR DELETE ON credit_records
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER credit_disputes_append_only BEFORE UPDATE OR DELETE ON credit_disputes
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER credit_dispute_resolutions_append_only BEFORE UPDATE OR DELETE
  ON credit_dispute_resolutions FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER dishonesty_entries_append_only BEFORE UPDATE OR DELETE ON dishonesty_entries
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER dishonesty_removals_append_only BEFORE UPDATE OR DELETE ON dishonesty_removals
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
