-- Data-wipe records and signed wipe certificates (SPEC §4.3, DOMAIN §3;
-- services/wipe/README.md).
--
-- Every stored submission is a wipe_records row, with or without a
-- certificate (a failed device can never pass as wiped). The operator, a
-- natural person, is stored encrypted (crypto/pii.h, associated data
-- "wipe_records/operator/<id>") beside operator_ref, the keyed blind index
-- of (issuer organization, name) that a certificate carries instead of the
-- name.
--
-- A certificate keeps the exact bytes that were signed (body) and never
-- changes; a revocation is a row of its own. Both tables are append-only.
--
-- Citus: wipe_records, certificates and certificate_revocations are
-- distributed by item_id (revocations reach it through the certificate).

CREATE TABLE wipe_records (
  id                text PRIMARY KEY,             -- wpr_…
  item_id           text NOT NULL REFERENCES items (id),
  organization_id   text NOT NULL,                -- the WIPER
  -- the facts submitted: the packed SubmitWipeRequest without request_id
  -- and without operator_name (which is operator_enc)
  facts             bytea NOT NULL,
  operator_ref      bytea NOT NULL CHECK (length(operator_ref) = 32),
  operator_enc      bytea NOT NULL,
  result            int NOT NULL,                 -- registry.v1.WipeResult
  verification      int NOT NULL,                 -- registry.v1.Verification
  refused_reason    text NOT NULL DEFAULT '',     -- '' when certified
  certificate_id    text,                         -- NULL when refused
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wipe_records_by_item ON wipe_records (item_id, created_at);

CREATE TABLE certificates (
  id                text PRIMARY KEY,             -- crt_…
  record_id         text NOT NULL UNIQUE REFERENCES wipe_records (id),
  item_id           text NOT NULL REFERENCES items (id),
  issuer_id         text NOT NULL,
  body              bytea NOT NULL,               -- the serialized WipeCertificateBody, as signed
  signature         bytea NOT NULL CHECK (length(signature) = 64),
  key_id            text NOT NULL,                -- the CERTIFICATE key (signing_keys)
  event_id          text NOT NULL,                -- CERTIFICATE_ISSUED
  issued_at         timestamptz NOT NULL
);
-- Lists are ordered by (issued_at, id): one index per filter.
CREATE INDEX certificates_by_item ON certificates (item_id, issued_at, id);
CREATE INDEX certificates_by_issuer ON certificates (issuer_id, issued_at, id);

CREATE TABLE certificate_revocations (
  certificate_id    text PRIMARY KEY REFERENCES certificates (id),
  revoked_by        text NOT NULL,                -- the issuer or an inspector
  reason            text NOT NULL,
  event_id          text NOT NULL,                -- CERTIFICATE_REVOKED
  revoked_at        timestamptz NOT NULL
);

-- ListCertificates{serial_no}: a device's serial number across brands.
CREATE INDEX items_by_serial ON items (serial_no) WHERE serial_no IS NOT NULL;

CREATE TRIGGER wipe_records_append_only BEFORE UPDATE OR DELETE ON wipe_records
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER certificates_append_only BEFORE UPDATE OR DELETE ON certificates
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER certificate_revocations_append_only BEFORE UPDATE OR DELETE
  ON certificate_revocations FOR EACH ROW EXECUTE FUNCTION log_append_only();
