/*
 * Items (items.h): the cross-platform item registry, item status and
 * brands, odometer readings, the item history, and the suspension of
 * listings. Everything runs in the caller's transaction and stamps its rows
 * with the transaction's time (pg_tx_time_us), the time events_append puts
 * in the leaves, so a listing's updated_at and the event of the same change
 * agree to the microsecond (WatchEvents' visibility rule compares them).
 *
 * Finding an item is race-free without table locks: INSERT … ON CONFLICT
 * DO NOTHING either creates the row or waits for whoever holds the same
 * VIN / IMEI / (brand, serial_no) and then does nothing; the SELECT …
 * FOR UPDATE that follows (a new snapshot, READ COMMITTED) sees and locks
 * the winner's row. Two platforms registering one VIN at once get one item.
 *
 * Item events commit to the packed Item as a non-inspector sees it (owner
 * masked), built by items_get. Functions without a keyring argument open
 * the owner with the ring given to items_init at start-up.
 */
#include "services/core/items.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/v1/log.pb-c.h"
#include "services/base/log.h"
#include "services/core/events.h"
#include "services/core/ids.h"
#include "services/core/party.h"
#include "services/core/pbtime.h"

/* A transaction time passed as Unix microseconds in parameter n, exactly
 * as events.c writes events.created_at. */

#define ITEM_COLS                                                                  \
  "id, kind, status, brands, highest_mileage_km, details, coalesce(owner_kind, 0), " \
  "owner_ref, transfer_count"

/* Packed details are a few KiB at most (texts ≤ 2,000 characters). */
#define DETAILS_MAX (64u * 1024)
#define OWNER_ENC_MAX 4096

#define LST_ACTIVE REGISTRY__V1__LISTING_STATUS__LISTING_STATUS_ACTIVE
#define LST_SUSPENDED REGISTRY__V1__LISTING_STATUS__LISTING_STATUS_SUSPENDED

static const pii_keyring *items_ring;

void items_init(const pii_keyring *ring) { items_ring = ring; }

static const char *nul_if_empty(const char *s) { return s && *s ? s : NULL; }
static const char *nz(const char *s) { return s ? s : ""; }

static int blank(const char *s) {
  if (!s) return 1;
  for (; *s; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

/* The enum value's name without its prefix ("BRAND_X" → "X"). */
static const char *enum_short(const ProtobufCEnumDescriptor *d, int v, const char *prefix) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
  if (!ev) return "UNSPECIFIED";
  size_t pl = strlen(prefix);
  return strncmp(ev->name, prefix, pl) == 0 ? ev->name + pl : ev->name;
}

/* A bytea column decoded into malloc'd memory (caller frees *out), at most
 * `max` bytes. REG_EIO for NULL or malformed values. */
static int bytea_dup(const PGresult *r, int row, int col, size_t max, uint8_t **out,
                     size_t *len) {
  int tl = PQgetlength(r, row, col);
  size_t cap = tl > 2 ? (size_t)(tl - 2) / 2 : 0;
  if (cap > max) return REG_ERANGE;
  uint8_t *buf = malloc(cap ? cap : 1);
  if (!buf) return REG_ENOMEM;
  long n = pg_bytea(r, row, col, buf, cap);
  if (n < 0) {
    free(buf);
    return REG_EIO;
  }
  *out = buf;
  *len = (size_t)n;
  return 0;
}

/* Runs an UPDATE and gives the number of rows it changed. */
static int exec_count(pg_conn *pg, const char *sql, const pg_params *p, int *n) {
  PGresult *r = NULL;
  int rv = pg_query(pg, sql, p, &r);
  if (rv != 0) return rv;
  *n = atoi(PQcmdTuples(r));
  PQclear(r);
  return 0;
}

/* ---- reading rows ---- */

static int row_parse(const PGresult *r, int i, items_row *out) {
  items_row row;
  memset(&row, 0, sizeof(row));
  const char *id = pg_val(r, i, 0);
  if (!id || strlen(id) >= sizeof(row.id)) return REG_EIO;
  memcpy(row.id, id, strlen(id) + 1);
  row.kind = (int)pg_int(r, i, 1);
  row.status = (int)pg_int(r, i, 2);
  row.brands = (uint32_t)pg_int(r, i, 3);
  row.highest_mileage_km = pg_int(r, i, 4);
  uint8_t *d = NULL;
  size_t dlen = 0;
  int rv = bytea_dup(r, i, 5, DETAILS_MAX, &d, &dlen);
  if (rv != 0) return rv;
  if (row.kind == REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE) {
    Registry__V1__Vehicle *v = registry__v1__vehicle__unpack(NULL, dlen, d);
    if (!v) rv = REG_EIO;
    else {
      row.vehicle_type = v->vehicle_type;
      row.use_nature = v->use_nature;
      if (v->first_registration_date && strlen(v->first_registration_date) < 11)
        memcpy(row.first_registration_date, v->first_registration_date,
               strlen(v->first_registration_date) + 1);
      registry__v1__vehicle__free_unpacked(v, NULL);
    }
  } else if (row.kind == REGISTRY__V1__ITEM_KIND__ITEM_KIND_ELECTRONIC) {
    Registry__V1__Electronic *e = registry__v1__electronic__unpack(NULL, dlen, d);
    if (!e) rv = REG_EIO;
    else {
      row.storage_bytes = e->storage_bytes;
      registry__v1__electronic__free_unpacked(e, NULL);
    }
  }
  free(d);
  if (rv != 0) return rv;
  row.owner_kind = (int)pg_int(r, i, 6);
  if (row.owner_kind != 0) {
    long n = pg_bytea(r, i, 7, row.owner_ref, sizeof(row.owner_ref));
    if (n < 0) return REG_EIO;
    row.owner_ref_len = (size_t)n;
  }
  row.transfer_count = (int32_t)pg_int(r, i, 8);
  *out = row;
  return 0;
}

int items_lock(pg_conn *pg, const char *item_id, items_row *out) {
  if (!pg || !item_id || !out) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " ITEM_COLS " FROM items WHERE id = $1 FOR NO KEY UPDATE", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? row_parse(r, 0, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

int items_find(pg_conn *pg, const char *vin, const char *imei, char id_out[48]) {
  if (!pg || !id_out || (!nul_if_empty(vin) && !nul_if_empty(imei))) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, nul_if_empty(vin));
  pg_params_text(&p, nul_if_empty(imei));
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT id FROM items WHERE vin = $1::text OR imei = $2::text "
                    "ORDER BY (vin = $1::text) IS TRUE DESC LIMIT 1",
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else if (strlen(pg_val(r, 0, 0)) >= 48) rv = REG_EIO;
  else memcpy(id_out, pg_val(r, 0, 0), strlen(pg_val(r, 0, 0)) + 1);
  PQclear(r);
  return rv;
}

/* The columns an Item is built from (item_build), for SELECT and RETURNING. */
#define ITEM_MSG_COLS                                                             \
  "id, kind, status, brands, highest_mileage_km, details, coalesce(owner_kind, 0), " \
  "owner_ref, owner_enc, transfer_count, " PG_US("created_at")

/* The Item of row 0 of r (ITEM_MSG_COLS) in the arena; r stays the caller's. */
static int item_build(const pii_keyring *ring, arena *a, const PGresult *r, int unmasked,
                      Registry__V1__Item **out) {
  int rv = 0;
  uint8_t *d = NULL, *enc = NULL;
  size_t dlen = 0, enc_len = 0;
  Registry__V1__Item *it = arena_alloc(a, sizeof(*it));
  if (!it) {
    rv = REG_ENOMEM;
    goto out;
  }
  registry__v1__item__init(it);
  it->id = arena_strdup(a, pg_val(r, 0, 0));
  it->kind = (Registry__V1__ItemKind)pg_int(r, 0, 1);
  it->status = (Registry__V1__ItemStatus)pg_int(r, 0, 2);
  uint32_t bits = (uint32_t)pg_int(r, 0, 3);
  it->highest_mileage_km = pg_int(r, 0, 4);
  it->transfer_count = (int32_t)pg_int(r, 0, 9);
  it->created_at = pbtime_new(a, pg_int(r, 0, 10));
  if (!it->id || !it->created_at) {
    rv = REG_ENOMEM;
    goto out;
  }

  rv = bytea_dup(r, 0, 5, DETAILS_MAX, &d, &dlen);
  if (rv != 0) goto out;
  ProtobufCAllocator *al = arena_allocator(a);
  switch (it->kind) {
  case REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE:
    it->vehicle = registry__v1__vehicle__unpack(al, dlen, d);
    it->details_case = REGISTRY__V1__ITEM__DETAILS_VEHICLE;
    break;
  case REGISTRY__V1__ITEM_KIND__ITEM_KIND_ELECTRONIC:
    it->electronic = registry__v1__electronic__unpack(al, dlen, d);
    it->details_case = REGISTRY__V1__ITEM__DETAILS_ELECTRONIC;
    break;
  default:
    it->goods = registry__v1__goods__unpack(al, dlen, d);
    it->details_case = REGISTRY__V1__ITEM__DETAILS_GOODS;
    break;
  }
  if (!it->vehicle) { /* the union's one pointer */
    rv = REG_EIO;
    goto out;
  }

  size_t nb = 0;
  for (int b = 1; b < 32; b++)
    if (bits & (1u << b)) nb++;
  if (nb) {
    it->brands = arena_calloc(a, nb, sizeof(*it->brands));
    if (!it->brands) {
      rv = REG_ENOMEM;
      goto out;
    }
    for (int b = 1; b < 32; b++)
      if (bits & (1u << b)) it->brands[it->n_brands++] = (Registry__V1__Brand)b;
  }

  int owner_kind = (int)pg_int(r, 0, 6);
  if (owner_kind != 0) {
    if (owner_kind == PARTY_PERSON && !ring) {
      log_error(NULL, "items: no personal-data keyring to open an owner (items_init not called)");
      rv = REG_EIO;
      goto out;
    }
    uint8_t ref[32];
    long ref_len = pg_bytea(r, 0, 7, ref, sizeof(ref));
    rv = bytea_dup(r, 0, 8, OWNER_ENC_MAX, &enc, &enc_len);
    if (rv == 0 && ref_len < 0) rv = REG_EIO;
    if (rv == 0)
      rv = party_open_ref(ring, a, owner_kind, ref, (size_t)ref_len, enc, enc_len, "items",
                          "owner", it->id, unmasked, &it->owner);
    if (rv != 0) goto out;
  }
  *out = it;
out:
  free(d);
  free(enc);
  return rv;
}

int items_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *item_id, int unmasked,
              Registry__V1__Item **out) {
  if (!pg || !a || !item_id || !out) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " ITEM_MSG_COLS " FROM items WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? item_build(ring, a, r, unmasked, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* ---- events and history ---- */

/* Appends an item event whose record is the packed (masked) Item. */
static int item_event_of(pg_conn *pg, arena *a, int type, const char *org_id,
                         const Registry__V1__Item *it, const char *listing_id,
                         char *event_id_out) {
  const char *item_id = it->id;
  size_t n = registry__v1__item__get_packed_size(it);
  uint8_t *buf = arena_alloc(a, n ? n : 1);
  if (!buf) return REG_ENOMEM;
  registry__v1__item__pack(it, buf);
  event_refs refs = {.item_id = item_id, .listing_id = listing_id};
  return events_append(pg, type, org_id, &refs, buf, n, event_id_out);
}

static int item_event(pg_conn *pg, const pii_keyring *ring, arena *a, int type,
                      const char *org_id, const char *item_id, const char *listing_id,
                      char *event_id_out) {
  Registry__V1__Item *it = NULL;
  int rv = items_get(pg, ring, a, item_id, 0, &it);
  return rv ? rv : item_event_of(pg, a, type, org_id, it, listing_id, event_id_out);
}

int items_event(pg_conn *pg, const pii_keyring *ring, arena *a, int type, const char *org_id,
                const char *item_id, char *event_id_out) {
  if (!pg || !a || !item_id) return REG_EINVAL;
  return item_event(pg, ring, a, type, org_id, item_id, NULL, event_id_out);
}

/* item_event in a scratch arena with the ring of items_init. */
static int item_event_scratch(pg_conn *pg, int type, const char *org_id, const char *item_id,
                              const char *listing_id, char *event_id_out) {
  arena *a = arena_new(0);
  if (!a) return REG_ENOMEM;
  int rv = item_event(pg, items_ring, a, type, org_id, item_id, listing_id, event_id_out);
  arena_free(a);
  return rv;
}

int items_history_add(pg_conn *pg, const char *item_id, const items_history *h) {
  if (!pg || !item_id || !h) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_int(&p, pg_tx_time_us(pg));
  pg_params_int(&p, h->kind);
  pg_params_text(&p, nz(h->organization_id));
  pg_params_text(&p, nul_if_empty(h->listing_id));
  pg_params_text(&p, nul_if_empty(h->sale_id));
  pg_params_text(&p, nul_if_empty(h->appraisal_id));
  pg_params_text(&p, nul_if_empty(h->certificate_id));
  pg_params_text(&p, nul_if_empty(h->invoice_id));
  pg_params_int(&p, h->mileage_km);
  pg_params_int(&p, h->price_fen);
  pg_params_text(&p, nz(h->detail));
  pg_params_text(&p, nul_if_empty(h->event_id));
  return pg_query(pg,
                  "INSERT INTO item_history (item_id, at, kind, organization_id, listing_id, "
                  "sale_id, appraisal_id, certificate_id, invoice_id, mileage_km, price_fen, "
                  "detail, event_id) VALUES ($1, " PG_TS(2) ", $3, $4, $5, $6, $7, $8, $9, $10, "
                  "$11, $12, $13)",
                  &p, NULL);
}

/* ---- registration ---- */

static int pack_msg(const ProtobufCMessage *m, uint8_t **out, size_t *len) {
  size_t n = protobuf_c_message_get_packed_size(m);
  if (n > DETAILS_MAX) return REG_ERANGE;
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) return REG_ENOMEM;
  *len = protobuf_c_message_pack(m, buf);
  *out = buf;
  return 0;
}

#define KEEP_STR(m, o, f) \
  if (blank((m).f)) (m).f = (o)->f

/* The details of an existing item after a new observation: each
 * descriptive field the observation gives replaces the stored one, each it
 * leaves empty (0, "") keeps it, so an implicit registration that knows
 * only an IMEI does not erase a make or a model. The identifying fields
 * stay as stored (they are the item's keys in the items row; an IMEI is
 * adopted only where none was known, `adopted_imei`), and so do the facts
 * the listing gates decide on — vehicle type, use nature, first
 * registration: an observation only fills them in when unknown, so no
 * platform can re-register a vehicle out of its scrapping age. Packed into
 * malloc'd *out. */
static int merge_details(int kind, const uint8_t *old, size_t old_len,
                         const Registry__V1__RegisterItemRequest *item, const char *adopted_imei,
                         uint8_t **out, size_t *len) {
  int rv;
  if (kind == REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE) {
    Registry__V1__Vehicle *o = registry__v1__vehicle__unpack(NULL, old_len, old);
    if (!o) return REG_EIO;
    Registry__V1__Vehicle m = *item->vehicle;
    m.vin = o->vin;
    KEEP_STR(m, o, plate_no);
    KEEP_STR(m, o, make);
    KEEP_STR(m, o, model);
    if (!blank(o->first_registration_date)) m.first_registration_date = o->first_registration_date;
    if (o->vehicle_type) m.vehicle_type = o->vehicle_type;
    if (o->use_nature) m.use_nature = o->use_nature;
    if (!m.emission_standard) m.emission_standard = o->emission_standard;
    if (m.mileage_km <= 0) m.mileage_km = o->mileage_km;
    rv = pack_msg(&m.base, out, len);
    registry__v1__vehicle__free_unpacked(o, NULL);
    return rv;
  }
  if (kind == REGISTRY__V1__ITEM_KIND__ITEM_KIND_ELECTRONIC) {
    Registry__V1__Electronic *o = registry__v1__electronic__unpack(NULL, old_len, old);
    if (!o) return REG_EIO;
    Registry__V1__Electronic m = *item->electronic;
    m.imei = adopted_imei ? (char *)adopted_imei : o->imei;
    if (!blank(o->serial_no)) {
      m.brand = o->brand;
      m.serial_no = o->serial_no;
    }
    KEEP_STR(m, o, brand);
    KEEP_STR(m, o, model);
    if (!m.category) m.category = o->category;
    if (m.storage_bytes <= 0) m.storage_bytes = o->storage_bytes;
    rv = pack_msg(&m.base, out, len);
    registry__v1__electronic__free_unpacked(o, NULL);
    return rv;
  }
  return pack_msg(&item->goods->base, out, len);
}

/* Records an observation of an existing, locked item: merged details and
 * an ITEM_REGISTERED event when that changed the item's record, and a
 * REGISTERED history row "observed" either way (a mileage in it is
 * recorded by items_odometer with its own event). */
static int observe(pg_conn *pg, const items_row *row, const char *org_id,
                   const Registry__V1__RegisterItemRequest *item) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, row->id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT details FROM items WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  uint8_t *old = NULL, *merged = NULL;
  size_t old_len = 0, merged_len = 0;
  rv = PQntuples(r) == 1 ? bytea_dup(r, 0, 0, DETAILS_MAX, &old, &old_len) : REG_ENOTFOUND;
  PQclear(r);
  /* a device found by (brand, serial_no) that had no IMEI adopts the
   * observed one, unless another item holds it */
  const char *adopted = NULL;
  if (rv == 0 && item->item_case == REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC &&
      !blank(item->electronic->imei)) {
    pg_params_init(&p);
    pg_params_text(&p, row->id);
    pg_params_text(&p, item->electronic->imei);
    rv = pg_query(pg,
                  "UPDATE items SET imei = $2 WHERE id = $1 AND imei IS NULL "
                  "AND NOT EXISTS (SELECT 1 FROM items WHERE imei = $2) RETURNING imei",
                  &p, &r);
    if (rv == 0) {
      if (PQntuples(r) == 1) adopted = item->electronic->imei;
      PQclear(r);
    }
  }
  if (rv == 0) rv = merge_details(row->kind, old, old_len, item, adopted, &merged, &merged_len);
  /* an observation that changes nothing is history, not a change */
  int same = rv == 0 && merged_len == old_len && memcmp(merged, old, old_len) == 0;
  if (rv == 0 && !same) {
    pg_params_init(&p);
    pg_params_text(&p, row->id);
    pg_params_bytea(&p, merged, merged_len);
    pg_params_int(&p, pg_tx_time_us(pg));
    rv = pg_query(pg, "UPDATE items SET details = $2, updated_at = " PG_TS(3) " WHERE id = $1", &p,
                  NULL);
  }
  free(old);
  free(merged);
  if (rv != 0) return rv;
  /* the item's record changed (merged details): its event, as for a new one */
  char ev[IDS_MAX] = "";
  if (!same &&
      (rv = item_event_scratch(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ITEM_REGISTERED, org_id,
                               row->id, NULL, ev)) != 0)
    return rv;
  items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_REGISTERED,
                     .organization_id = org_id,
                     .detail = "observed",
                     .event_id = same ? NULL : ev};
  return items_history_add(pg, row->id, &h);
}

int items_register(pg_conn *pg, const char *org_id, const Registry__V1__RegisterItemRequest *item,
                   items_row *out, int *created, int *rolled_back) {
  if (!pg || !item || !out) return REG_EINVAL;
  const char *vin = NULL, *imei = NULL, *brand = NULL, *serial = NULL;
  const ProtobufCMessage *details = NULL;
  int kind;
  switch (item->item_case) {
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE:
    if (!item->vehicle || blank(item->vehicle->vin)) return REG_EINVAL;
    kind = REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE;
    vin = item->vehicle->vin;
    details = &item->vehicle->base;
    break;
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC:
    if (!item->electronic) return REG_EINVAL;
    kind = REGISTRY__V1__ITEM_KIND__ITEM_KIND_ELECTRONIC;
    imei = nul_if_empty(item->electronic->imei);
    if (!blank(item->electronic->brand) && !blank(item->electronic->serial_no)) {
      brand = item->electronic->brand;
      serial = item->electronic->serial_no;
    }
    details = &item->electronic->base;
    break;
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_GOODS:
    if (!item->goods) return REG_EINVAL;
    kind = REGISTRY__V1__ITEM_KIND__ITEM_KIND_GOODS;
    details = &item->goods->base;
    break;
  default:
    return REG_EINVAL;
  }

  uint8_t *packed = NULL;
  size_t packed_len = 0;
  int rv = pack_msg(details, &packed, &packed_len);
  if (rv != 0) return rv;
  char id[IDS_MAX];
  ids_new("itm", id, sizeof(id));
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_int(&p, kind);
  pg_params_text(&p, vin);
  pg_params_text(&p, imei);
  pg_params_text(&p, brand);
  pg_params_text(&p, serial);
  pg_params_bytea(&p, packed, packed_len);
  pg_params_int(&p, pg_tx_time_us(pg));
  PGresult *r = NULL;
  rv = pg_query(pg,
                "INSERT INTO items (id, kind, vin, imei, brand_key, serial_no, details, "
                "created_at, updated_at) VALUES ($1, $2, $3, $4, upper(btrim($5)), btrim($6), $7, "
                PG_TS(8) ", " PG_TS(8) ") ON CONFLICT DO NOTHING RETURNING id",
                &p, &r);
  free(packed);
  if (rv != 0) return rv;
  int is_new = PQntuples(r) == 1;
  PQclear(r);

  if (!is_new) {
    /* someone holds one of its keys: that row (an IMEI match first) */
    pg_params_init(&p);
    pg_params_text(&p, vin);
    pg_params_text(&p, imei);
    pg_params_text(&p, brand);
    pg_params_text(&p, serial);
    rv = pg_query(pg,
                  "SELECT id FROM items WHERE vin = $1::text OR imei = $2::text OR "
                  "(brand_key = upper(btrim($3::text)) AND serial_no = btrim($4::text)) "
                  "ORDER BY (imei = $2::text) IS TRUE DESC, id LIMIT 1 FOR NO KEY UPDATE",
                  &p, &r);
    if (rv != 0) return rv;
    /* none: the conflict was on a random id (or a row that vanished): retry */
    if (PQntuples(r) != 1 || strlen(pg_val(r, 0, 0)) >= sizeof(id)) rv = REG_ECONFLICT;
    else memcpy(id, pg_val(r, 0, 0), strlen(pg_val(r, 0, 0)) + 1);
    PQclear(r);
    if (rv != 0) return rv;
  }

  items_row row;
  rv = items_lock(pg, id, &row);
  if (rv != 0) return rv;
  if (!is_new) {
    if (row.kind != kind) return REG_EINVAL;
    rv = observe(pg, &row, org_id, item);
  } else {
    char eid[IDS_MAX];
    rv = item_event_scratch(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ITEM_REGISTERED, org_id, id,
                            NULL, eid);
    items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_REGISTERED,
                       .organization_id = org_id,
                       .event_id = eid};
    if (rv == 0) rv = items_history_add(pg, id, &h);
  }
  if (rv != 0) return rv;

  int rb = 0;
  if (kind == REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE && item->vehicle->mileage_km > 0) {
    rv = items_odometer(pg, &row, org_id, item->vehicle->mileage_km, NULL, &rb);
    if (rv != 0) return rv;
  }
  *out = row;
  if (created) *created = is_new;
  if (rolled_back) *rolled_back = rb;
  return 0;
}

/* ---- odometer, brands, status ---- */

int items_odometer(pg_conn *pg, items_row *item, const char *org_id, int64_t mileage_km,
                   const char *listing_id, int *rolled_back) {
  if (!pg || !item || mileage_km <= 0) return REG_EINVAL;
  if (item->kind != REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE) return REG_EINVAL;
  /* the highest earlier reading and the brands, from the row as locked
   * (callers keep it current: this function and the others here update it) */
  int64_t prev = item->highest_mileage_km;
  uint32_t brands = item->brands;
  int lower = mileage_km < prev;
  int64_t highest = lower ? prev : mileage_km;
  int64_t now = pg_tx_time_us(pg);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item->id);
  pg_params_int(&p, mileage_km);
  pg_params_text(&p, nz(org_id));
  pg_params_text(&p, nul_if_empty(listing_id));
  pg_params_int(&p, now);
  pg_params_int(&p, highest);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "WITH reading AS (INSERT INTO odometer_readings (item_id, mileage_km, "
                    "organization_id, listing_id, at) VALUES ($1, $2, $3, $4, " PG_TS(5) ")) "
                    "UPDATE items SET highest_mileage_km = $6, updated_at = " PG_TS(5)
                    " WHERE id = $1 RETURNING " ITEM_MSG_COLS,
                    &p, &r);
  if (rv != 0) return rv;
  /* the event's record from the updated row itself: no second read */
  char eid[IDS_MAX];
  arena *a = arena_new(0);
  Registry__V1__Item *it = NULL;
  if (!a) rv = REG_ENOMEM;
  else if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else rv = item_build(items_ring, a, r, 0, &it);
  PQclear(r);
  if (rv == 0)
    rv = item_event_of(pg, a, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ODOMETER_RECORDED, org_id, it,
                       listing_id, eid);
  arena_free(a);
  if (rv != 0) return rv;
  items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_ODOMETER_READING,
                     .organization_id = org_id,
                     .listing_id = listing_id,
                     .mileage_km = mileage_km,
                     .event_id = eid};
  rv = items_history_add(pg, item->id, &h);
  if (rv != 0) return rv;

  const int brand = REGISTRY__V1__BRAND__BRAND_ODOMETER_ROLLBACK_SUSPECTED;
  const uint32_t bit = 1u << brand;
  if (lower && !(brands & bit)) { /* branded once; a branded item stays branded */
    pg_params_init(&p);
    pg_params_text(&p, item->id);
    pg_params_int(&p, bit);
    pg_params_int(&p, now);
    rv = pg_query(pg,
                  "UPDATE items SET brands = brands | $2::int, updated_at = " PG_TS(3)
                  " WHERE id = $1",
                  &p, NULL);
    if (rv == 0)
      rv = item_event_scratch(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ITEM_BRANDED, org_id,
                              item->id, listing_id, eid);
    h.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_BRANDED;
    h.detail = enum_short(&registry__v1__brand__descriptor, brand, "BRAND_");
    h.event_id = eid;
    if (rv == 0) rv = items_history_add(pg, item->id, &h);
    if (rv != 0) return rv;
    brands |= bit;
  }
  item->highest_mileage_km = highest;
  item->brands = brands;
  if (rolled_back) *rolled_back = lower;
  return 0;
}

int items_clear_brand(pg_conn *pg, items_row *item, const char *org_id, int brand,
                      const char *reason, const char *decision_ref) {
  if (!pg || !item || brand < 1 || brand > 30) return REG_EINVAL;
  const uint32_t bit = 1u << brand;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item->id);
  pg_params_int(&p, bit);
  pg_params_int(&p, pg_tx_time_us(pg));
  /* clearing a rollback brand also drops the reading that caused it from
   * the comparison: the highest reading becomes the latest one, so the
   * next true reading does not brand the item again */
  pg_params_bool(&p, brand == REGISTRY__V1__BRAND__BRAND_ODOMETER_ROLLBACK_SUSPECTED);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "UPDATE items SET brands = brands & ~$2::int, updated_at = " PG_TS(3) ", "
                    "highest_mileage_km = CASE WHEN $4::bool THEN coalesce((SELECT o.mileage_km "
                    "  FROM odometer_readings o WHERE o.item_id = $1 ORDER BY o.id DESC LIMIT 1), 0) "
                    "  ELSE highest_mileage_km END "
                    "WHERE id = $1 AND (brands & $2::int) <> 0 RETURNING brands, highest_mileage_km",
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return REG_ENOTFOUND;
  }
  uint32_t brands = (uint32_t)pg_int(r, 0, 0);
  int64_t highest = pg_int(r, 0, 1);
  PQclear(r);

  arena *a = arena_new(0);
  if (!a) return REG_ENOMEM;
  char eid[IDS_MAX];
  rv = item_event(pg, items_ring, a, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_BRAND_CLEARED, org_id,
                  item->id, NULL, eid);
  /* "ODOMETER_ROLLBACK_SUSPECTED: <reason> (decision <ref>)" */
  const char *name = enum_short(&registry__v1__brand__descriptor, brand, "BRAND_");
  char *detail = NULL;
  if (rv == 0) {
    detail = nul_if_empty(decision_ref)
                 ? arena_printf(a, "%s: %s (decision %s)", name, nz(reason), decision_ref)
                 : arena_printf(a, "%s: %s", name, nz(reason));
    if (!detail) rv = REG_ENOMEM;
  }
  items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_BRAND_CLEARED,
                     .organization_id = org_id,
                     .detail = detail,
                     .event_id = eid};
  if (rv == 0) rv = items_history_add(pg, item->id, &h);
  arena_free(a);
  if (rv == 0) {
    item->brands = brands;
    item->highest_mileage_km = highest;
  }
  return rv;
}

int items_set_status(pg_conn *pg, items_row *item, int status) {
  if (!pg || !item || status < REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_ACTIVE ||
      status > REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_SCRAPPED)
    return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item->id);
  pg_params_int(&p, status);
  pg_params_int(&p, pg_tx_time_us(pg));
  int n = 0;
  int rv = exec_count(pg, "UPDATE items SET status = $2, updated_at = " PG_TS(3) " WHERE id = $1",
                      &p, &n);
  if (rv != 0) return rv;
  if (n != 1) return REG_ENOTFOUND;
  item->status = status;
  return 0;
}

/* ---- suspension of listings ---- */

/* status_detail of a SUSPENDED listing: its strongest reason still
 * standing (a stolen item before a revoked certificate). */
static const char *suspension_detail(int suspended_for) {
  if (suspended_for & ITEMS_SUSPENDED_STOLEN) return "ITEM_STOLEN";
  if (suspended_for & ITEMS_SUSPENDED_CERTIFICATE) return "CERTIFICATE_REVOKED";
  return "";
}

/* The record a listing event of this file commits to. items.c cannot pack
 * the Listing (that message, with its sealed seller, is the listing
 * service's), so it commits to what it changed, as the ASCII text
 *
 *   "registry.v1.ListingSuspension\n" <listing id> "\n" <status> "\n"
 *   <suspended_for> "\n"
 *
 * with status (registry.v1.ListingStatus) and suspended_for (the
 * ITEMS_SUSPENDED_* bits) in decimal without sign or leading zeros: one
 * spelling per state, so the bytes are canonical. LISTING_SUSPENDED is
 * appended whenever a listing is SUSPENDED afterwards and its reasons
 * changed (it became suspended, or gained or kept a reason while losing
 * another); LISTING_REACTIVATED when it returned to ACTIVE. */
static int listing_event(pg_conn *pg, int type, const char *org_id, const char *item_id,
                         const char *listing_id, int status, int suspended_for, char *eid) {
  char rec[160];
  int n = snprintf(rec, sizeof(rec), "registry.v1.ListingSuspension\n%s\n%d\n%d\n", listing_id,
                   status, suspended_for);
  if (n < 0 || (size_t)n >= sizeof(rec)) return REG_ERANGE;
  event_refs refs = {.item_id = item_id, .listing_id = listing_id};
  return events_append(pg, type, org_id, &refs, (const uint8_t *)rec, (size_t)n, eid);
}

static int set_listing(pg_conn *pg, const char *listing_id, int status, int suspended_for) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, listing_id);
  pg_params_int(&p, status);
  pg_params_int(&p, suspended_for);
  pg_params_text(&p, suspension_detail(suspended_for));
  pg_params_int(&p, pg_tx_time_us(pg));
  return pg_query(pg,
                  "UPDATE listings SET status = $2, suspended_for = $3, status_detail = $4, "
                  "updated_at = " PG_TS(5) " WHERE id = $1",
                  &p, NULL);
}

const char *items_listing_status_name(int status) {
  return enum_short(&registry__v1__listing_status__descriptor, status, "LISTING_STATUS_");
}

int items_suspend_listings(pg_conn *pg, arena *a, const items_row *item, const char *org_id,
                           int why, const char *certificate_id, char ***ids, size_t *n) {
  if (!pg || !a || !item) return REG_EINVAL;
  if (why != ITEMS_SUSPENDED_STOLEN && why != ITEMS_SUSPENDED_CERTIFICATE) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item->id);
  pg_params_text(&p, nul_if_empty(certificate_id));
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT id, status, suspended_for FROM listings WHERE item_id = $1 "
                    "AND status IN (1, 2, 5) AND ($2::text IS NULL OR wipe_certificate_id = $2) "
                    "ORDER BY id FOR UPDATE",
                    &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  size_t k = 0;
  char **list = arena_calloc(a, (size_t)rows + 1, sizeof(*list));
  if (!list) {
    rv = REG_ENOMEM;
    goto out;
  }
  for (int i = 0; i < rows; i++) {
    const char *lid = pg_val(r, i, 0);
    int status = (int)pg_int(r, i, 1), sf = (int)pg_int(r, i, 2);
    if (status == LST_SUSPENDED && (sf & why)) continue;
    int nsf = (status == LST_SUSPENDED ? sf : 0) | why;
    char eid[IDS_MAX];
    rv = set_listing(pg, lid, LST_SUSPENDED, nsf);
    if (rv == 0)
      rv = listing_event(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_LISTING_SUSPENDED, org_id,
                         item->id, lid, LST_SUSPENDED, nsf, eid);
    if (rv != 0) goto out;
    if (status == LST_SUSPENDED) continue; /* it only gained a reason */
    char detail[96];
    snprintf(detail, sizeof(detail), "%s -> SUSPENDED (%s)", items_listing_status_name(status),
             suspension_detail(why));
    items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_LISTING_STATUS_CHANGED,
                       .organization_id = org_id,
                       .listing_id = lid,
                       .detail = detail,
                       .event_id = eid};
    rv = items_history_add(pg, item->id, &h);
    if (rv != 0) goto out;
    if (!(list[k++] = arena_strdup(a, lid))) {
      rv = REG_ENOMEM;
      goto out;
    }
  }
  if (ids) *ids = list;
  if (n) *n = k;
out:
  PQclear(r);
  return rv;
}

int items_release_listings(pg_conn *pg, arena *a, const items_row *item, const char *org_id,
                           int why, char ***ids, size_t *n) {
  if (!pg || !a || !item) return REG_EINVAL;
  if (why != ITEMS_SUSPENDED_STOLEN && why != ITEMS_SUSPENDED_CERTIFICATE) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item->id);
  pg_params_int(&p, why);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT id, suspended_for FROM listings WHERE item_id = $1 AND status = 5 "
                    "AND (suspended_for & $2::int) <> 0 ORDER BY id FOR UPDATE",
                    &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  size_t k = 0;
  char **list = arena_calloc(a, (size_t)rows + 1, sizeof(*list));
  if (!list) {
    rv = REG_ENOMEM;
    goto out;
  }
  for (int i = 0; i < rows; i++) {
    const char *lid = pg_val(r, i, 0);
    int nsf = (int)pg_int(r, i, 1) & ~why;
    char eid[IDS_MAX];
    if (nsf != 0) { /* still blocked by the other reason */
      rv = set_listing(pg, lid, LST_SUSPENDED, nsf);
      if (rv == 0)
        rv = listing_event(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_LISTING_SUSPENDED, org_id,
                           item->id, lid, LST_SUSPENDED, nsf, eid);
      if (rv != 0) goto out;
      continue;
    }
    rv = set_listing(pg, lid, LST_ACTIVE, 0);
    if (rv == 0)
      rv = listing_event(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_LISTING_REACTIVATED, org_id,
                         item->id, lid, LST_ACTIVE, 0, eid);
    items_history h = {.kind = REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_LISTING_STATUS_CHANGED,
                       .organization_id = org_id,
                       .listing_id = lid,
                       .detail = "SUSPENDED -> ACTIVE",
                       .event_id = eid};
    if (rv == 0) rv = items_history_add(pg, item->id, &h);
    if (rv != 0) goto out;
    if (!(list[k++] = arena_strdup(a, lid))) {
      rv = REG_ENOMEM;
      goto out;
    }
  }
  if (ids) *ids = list;
  if (n) *n = k;
out:
  PQclear(r);
  return rv;
}
