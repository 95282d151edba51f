-- Reverse invoices (反向开票), red invoices, seller consents, the seller's
-- month totals across issuers and gap-free numbering (SPEC §4.5, DOMAIN §1;
-- services/invoice/README.md).
--
-- The seller, a natural person, is stored sealed (crypto/pii.h: the packed
-- registry.v1.Person, associated data "invoices/seller/<id>") beside
-- seller_ref, the blind index of the ID number (domain resident_id).
--
-- Lock order of an invoice: pg_advisory_xact_lock on the seller's blind
-- index, then the issuer's counter row (invoice_counters) — always in that
-- order; the first invoice of an issuer also takes the registry-wide
-- advisory lock of issuer numbers between the two.
--
-- Citus: invoices, invoice_lines and seller_consents are distributed by
-- issuer_id, seller_months by seller_ref; the cap decision reads
-- seller_months (one shard) and writes the issuer's rows (another): one
-- coordinator transaction (README "Scaling out").

-- The issuer's registry number (6 digits, from 000001, never reused).
CREATE TABLE invoice_issuers (
  issuer_id         text PRIMARY KEY,
  issuer_no         int NOT NULL UNIQUE CHECK (issuer_no BETWEEN 1 AND 999999),
  created_at        timestamptz NOT NULL DEFAULT now()
);

-- The last sequence number given per issuer and year (blue and red share it).
CREATE TABLE invoice_counters (
  issuer_id         text NOT NULL REFERENCES invoice_issuers (issuer_id),
  year              int NOT NULL,
  last_seq          bigint NOT NULL CHECK (last_seq BETWEEN 1 AND 999999999),
  PRIMARY KEY (issuer_id, year)
);

CREATE TABLE seller_consents (
  issuer_id         text NOT NULL,
  seller_ref        bytea NOT NULL CHECK (length(seller_ref) = 32),
  consented_at      timestamptz NOT NULL,
  channel           text NOT NULL,
  invoice_id        text NOT NULL,            -- the invoice it came with
  PRIMARY KEY (issuer_id, seller_ref)
);

CREATE TABLE invoices (
  id                text PRIMARY KEY,
  invoice_number    text NOT NULL UNIQUE CHECK (invoice_number ~ '^[0-9]{20}$'),
  kind              int NOT NULL CHECK (kind IN (1, 2)),     -- registry.v1.InvoiceKind
  issuer_id         text NOT NULL,
  seller_ref        bytea NOT NULL CHECK (length(seller_ref) = 32),
  seller_enc        bytea NOT NULL,
  issued_on         date NOT NULL,
  amount_fen        bigint NOT NULL,          -- negative on RED
  vat_rate_bp       int NOT NULL,
  vat_fen           bigint NOT NULL,
  income_tax_rate_bp int NOT NULL,
  income_tax_fen    bigint NOT NULL,
  total_fen         bigint NOT NULL,
  original_invoice_id text REFERENCES invoices (id),
  red_reason        int NOT NULL DEFAULT 0,
  body              bytea NOT NULL,           -- the serialized ReverseInvoiceBody, as signed
  signature         bytea NOT NULL CHECK (length(signature) = 64),
  key_id            text NOT NULL,
  event_id          text NOT NULL,
  issued_at         timestamptz NOT NULL,
  CHECK ((kind = 1) = (original_invoice_id IS NULL))
);
CREATE INDEX invoices_by_issuer ON invoices (issuer_id, issued_on, id);
CREATE INDEX invoices_by_seller ON invoices (seller_ref, issued_on, id);
CREATE INDEX invoices_by_time ON invoices (issued_on, id);
CREATE INDEX invoices_by_original ON invoices (original_invoice_id)
  WHERE original_invoice_id IS NOT NULL;

-- The lines in columns (the body holds them too): red remainders by
-- position and the monthly summary by category.
CREATE TABLE invoice_lines (
  invoice_id        text NOT NULL REFERENCES invoices (id),
  position          int NOT NULL,             -- 0-based; a red line names the original's
  category          int NOT NULL,             -- registry.v1.InvoiceCategory
  quantity_milli    bigint NOT NULL,
  amount_fen        bigint NOT NULL,          -- negative on RED
  vin               text,
  PRIMARY KEY (invoice_id, position)
);

-- A seller's invoiced amount per natural month across all issuers (blue
-- minus red, VAT excluded), kept in each invoice's transaction under the
-- seller's lock: the cap's 12-month window and the VAT month total.
CREATE TABLE seller_months (
  seller_ref        bytea NOT NULL CHECK (length(seller_ref) = 32),
  month             date NOT NULL,            -- the first day
  amount_fen        bigint NOT NULL,
  PRIMARY KEY (seller_ref, month)
);

CREATE TRIGGER invoices_append_only BEFORE UPDATE OR DELETE ON invoices
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER invoice_lines_append_only BEFORE UPDATE OR DELETE ON invoice_lines
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
