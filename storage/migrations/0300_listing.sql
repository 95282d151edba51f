-- Items, listings, sales, appraisals, markets, stolen reports and the item
-- history (SPEC §4.2, §6; services/listing/README.md). Personal data
-- (sellers, buyers, owners, appraisers who are natural persons) is stored
-- encrypted (crypto/pii.h; the packed registry.v1.Person, associated data
-- naming table, column and row) beside a keyed blind index of the resident
-- ID number; businesses are stored by USCC and name in clear.
--
-- A party is three columns: <p>_kind (1 person, 2 business), <p>_ref (the
-- blind index of a person's ID number, or a business's USCC as bytes) and
-- <p>_enc (a person: the encrypted Person; a business: its name as UTF-8).
--
-- Lock order (services/core/items.h): the item row (SELECT … FOR UPDATE)
-- before any of its listings, so calls changing one item take turns and
-- never deadlock.
--
-- Citus: items, listings, sales, appraisals, odometer_readings,
-- stolen_reports and item_history are distributed by item_id; markets is a
-- reference table.

CREATE TABLE items (
  id                text PRIMARY KEY,
  kind              int NOT NULL CHECK (kind BETWEEN 1 AND 3),    -- registry.v1.ItemKind
  vin               text UNIQUE,                                  -- vehicles
  imei              text UNIQUE,                                  -- electronics with an IMEI
  brand_key         text,                                         -- upper(trim(brand)) of electronics
  serial_no         text,
  details           bytea NOT NULL,           -- packed Vehicle / Electronic / Goods, latest observation
  status            int NOT NULL DEFAULT 1 CHECK (status BETWEEN 1 AND 3),  -- registry.v1.ItemStatus
  brands            int NOT NULL DEFAULT 0,   -- bit n set: registry.v1.Brand n
  highest_mileage_km bigint NOT NULL DEFAULT 0,
  owner_kind        int,                      -- NULL until a sale records an owner
  owner_ref         bytea,
  owner_enc         bytea,
  transfer_count    int NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (brand_key, serial_no)
);

-- Odometer readings, append-only per vehicle.
CREATE TABLE odometer_readings (
  id                bigserial PRIMARY KEY,
  item_id           text NOT NULL REFERENCES items (id),
  mileage_km        bigint NOT NULL CHECK (mileage_km > 0),
  organization_id   text NOT NULL,
  listing_id        text,
  at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX odometer_readings_by_item ON odometer_readings (item_id, id);

CREATE TABLE markets (
  id                text PRIMARY KEY,
  name              text NOT NULL,
  address           text NOT NULL,
  operator_uscc     text NOT NULL,
  registered_by     text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE appraisals (
  id                text PRIMARY KEY,
  item_id           text NOT NULL REFERENCES items (id),
  listing_id        text,
  appraiser_organization_id text NOT NULL,
  appraiser_ref     bytea,                    -- blind index of the appraiser's ID number
  appraiser_enc     bytea NOT NULL,           -- encrypted Person
  appraised_value_fen bigint NOT NULL CHECK (appraised_value_fen >= 0),
  condition_grade   text NOT NULL DEFAULT '',
  method            text NOT NULL DEFAULT '',
  report_sha256     bytea NOT NULL CHECK (length(report_sha256) = 32),
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX appraisals_by_item ON appraisals (item_id);

CREATE TABLE listings (
  id                text PRIMARY KEY,
  item_id           text NOT NULL REFERENCES items (id),
  item_kind         int NOT NULL,
  platform_id       text NOT NULL,
  seller_kind       int NOT NULL CHECK (seller_kind IN (1, 2)),
  seller_ref        bytea NOT NULL,
  seller_enc        bytea NOT NULL,
  price_fen         bigint NOT NULL CHECK (price_fen >= 0),
  status            int NOT NULL CHECK (status BETWEEN 1 AND 6),  -- registry.v1.ListingStatus
  status_detail     text NOT NULL DEFAULT '',
  -- why a SUSPENDED listing is suspended: bit 0 item stolen, bit 1 its wipe
  -- certificate revoked (services/core/items.h); it returns to ACTIVE when
  -- no bit is left
  suspended_for     int NOT NULL DEFAULT 0,
  market_id         text REFERENCES markets (id),
  stall_no          text NOT NULL DEFAULT '',
  condition_grade   text NOT NULL DEFAULT '',
  appraisal_id      text REFERENCES appraisals (id),
  wipe_certificate_id text NOT NULL DEFAULT '',
  platform_listing_ref text NOT NULL DEFAULT '',
  mileage_km        bigint NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  -- when it reached a final status (SOLD, WITHDRAWN, TAKEN_DOWN): the
  -- listing was open from created_at to closed_at, which WatchEvents'
  -- visibility rule reads ("an item on which O had an open listing when the
  -- event was appended")
  closed_at         timestamptz
);
-- At most one open (ACTIVE, RESERVED, SUSPENDED) listing of an item per
-- platform: of two concurrent CreateListing calls one gets ALREADY_LISTED.
CREATE UNIQUE INDEX listings_open_per_platform ON listings (item_id, platform_id)
  WHERE status IN (1, 2, 5);
-- Lists are ordered by (created_at, id) (ids are random): one index per
-- filter that narrows them, in that order, and one for an inspector's
-- unfiltered list.
CREATE INDEX listings_by_platform ON listings (platform_id, created_at, id);
CREATE INDEX listings_by_seller ON listings (seller_ref, created_at, id);
CREATE INDEX listings_by_time ON listings (created_at, id);
CREATE INDEX listings_by_item ON listings (item_id, platform_id);

CREATE TABLE sales (
  id                text PRIMARY KEY,
  listing_id        text NOT NULL UNIQUE REFERENCES listings (id),
  item_id           text NOT NULL REFERENCES items (id),
  item_kind         int NOT NULL,
  platform_id       text NOT NULL,
  seller_kind       int NOT NULL,
  seller_ref        bytea NOT NULL,
  seller_enc        bytea NOT NULL,
  buyer_kind        int NOT NULL CHECK (buyer_kind IN (1, 2)),
  buyer_ref         bytea NOT NULL,
  buyer_enc         bytea NOT NULL,
  price_fen         bigint NOT NULL CHECK (price_fen >= 0),
  sold_on           date NOT NULL,
  -- a natural person's resale of a vehicle the registry recorded them buying
  -- less than a year before (SPEC §6, SELLER_FLIPPING_LIMIT)
  counts_as_flip    boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sales_by_item ON sales (item_id, sold_on);
CREATE INDEX sales_by_seller ON sales (seller_ref, sold_on);     -- anti-flipping counts
CREATE INDEX sales_by_seller_time ON sales (seller_ref, created_at, id);
CREATE INDEX sales_by_buyer ON sales (buyer_ref, created_at, id);
CREATE INDEX sales_by_platform ON sales (platform_id, created_at, id);
CREATE INDEX sales_by_time ON sales (created_at, id);

CREATE TABLE stolen_reports (
  id                bigserial PRIMARY KEY,
  item_id           text NOT NULL REFERENCES items (id),
  report_ref        text NOT NULL,
  reporter          text NOT NULL DEFAULT '',
  reported_by       text NOT NULL,            -- the inspector's organization
  reported_at       timestamptz NOT NULL DEFAULT now(),
  cleared_by        text,
  cleared_reason    text,
  cleared_at        timestamptz
);
CREATE UNIQUE INDEX stolen_reports_open ON stolen_reports (item_id) WHERE cleared_at IS NULL;

-- The item's timeline across platforms and services (GetItemHistory), one
-- row per thing that happened, written in the same transaction, never
-- changed. No personal data: parties are named by nothing here.
CREATE TABLE item_history (
  id                bigserial PRIMARY KEY,
  item_id           text NOT NULL REFERENCES items (id),
  at                timestamptz NOT NULL DEFAULT now(),
  kind              int NOT NULL,             -- registry.v1.HistoryKind
  organization_id   text NOT NULL,
  listing_id        text,
  sale_id           text,
  appraisal_id      text,
  certificate_id    text,
  invoice_id        text,
  mileage_km        bigint NOT NULL DEFAULT 0,
  price_fen         bigint NOT NULL DEFAULT 0,
  detail            text NOT NULL DEFAULT '',
  event_id          text                      -- events.event_id of the same change
);
CREATE INDEX item_history_by_item ON item_history (item_id, id);
CREATE TRIGGER item_history_append_only BEFORE UPDATE OR DELETE ON item_history
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER odometer_readings_append_only BEFORE UPDATE OR DELETE ON odometer_readings
  FOR EACH ROW EXECUTE FUNCTION log_append_only();
