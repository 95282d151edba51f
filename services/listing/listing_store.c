/*
 * ListingService's SQL (listing_store.h): listings, sales, appraisals,
 * markets, stolen reports and the item history. Every query is
 * parameterized; times cross as Unix microseconds, and the times a write
 * records are the transaction's (passed in), so that a listing's
 * created_at / closed_at equal the created_at of the events of the same
 * transaction — the WatchEvents visibility rule compares them.
 */
#include "services/listing/listing_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/core/items.h"
#include "services/core/page.h"
#include "services/core/pbtime.h"

/* A timestamptz from a µs parameter, and a timestamptz column as µs. */

static char *dupv(arena *a, const PGresult *r, int row, int col) {
  const char *v = pg_val(r, row, col);
  return arena_strdup(a, v ? v : "");
}

static const char *nz(const char *s) { return s ? s : ""; }
static const char *null_if_empty(const char *s) { return s && *s ? s : NULL; }

/* A bytea column decoded into the arena: sealed parties and hashes, far
 * below this. */
#define BYTEA_MAX (1u << 20)
static int bytea_dup(arena *a, const PGresult *r, int row, int col, uint8_t **out, size_t *len) {
  return pg_bytea_arena(a, r, row, col, BYTEA_MAX, out, len);
}

/* A party's ref column (at most 32 bytes). */
static int ref_get(const PGresult *r, int row, int col, uint8_t out[32], size_t *len) {
  long n = pg_bytea(r, row, col, out, 32);
  if (n < 0) return REG_EIO;
  *len = (size_t)n;
  return 0;
}


/* ---- listings ---- */

#define LISTING_COLS                                                                     \
  "l.id, l.item_id, l.platform_id, l.seller_kind, l.seller_ref, l.seller_enc, "          \
  "l.price_fen, l.status, l.status_detail, l.suspended_for, coalesce(l.market_id, ''), " \
  "l.stall_no, l.condition_grade, coalesce(l.appraisal_id, ''), l.wipe_certificate_id, " \
  "l.platform_listing_ref, l.mileage_km, " PG_US("l.created_at") ", " PG_US("l.updated_at")    \
  ", l.item_kind"

static int listing_from_row(const pii_keyring *ring, arena *a, const PGresult *r, int i,
                            int unmasked, listing_rec *out) {
  listing_rec rec;
  memset(&rec, 0, sizeof(rec));
  Registry__V1__Listing *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__listing__init(m);
  m->id = dupv(a, r, i, 0);
  m->item_id = dupv(a, r, i, 1);
  m->platform_id = dupv(a, r, i, 2);
  rec.seller_kind = (int)pg_int(r, i, 3);
  int rv = ref_get(r, i, 4, rec.seller_ref, &rec.seller_ref_len);
  if (rv == 0) rv = bytea_dup(a, r, i, 5, &rec.seller_enc, &rec.seller_enc_len);
  if (rv != 0) return rv;
  m->price_fen = pg_int(r, i, 6);
  m->status = (Registry__V1__ListingStatus)pg_int(r, i, 7);
  m->status_detail = dupv(a, r, i, 8);
  rec.suspended_for = (int)pg_int(r, i, 9);
  m->market_id = dupv(a, r, i, 10);
  m->stall_no = dupv(a, r, i, 11);
  m->condition_grade = dupv(a, r, i, 12);
  m->appraisal_id = dupv(a, r, i, 13);
  m->wipe_certificate_id = dupv(a, r, i, 14);
  m->platform_listing_ref = dupv(a, r, i, 15);
  m->mileage_km = pg_int(r, i, 16);
  m->created_at = pbtime_new(a, pg_int(r, i, 17));
  m->updated_at = pbtime_new(a, pg_int(r, i, 18));
  m->item_kind = (Registry__V1__ItemKind)pg_int(r, i, 19);
  if (!m->id || !m->item_id || !m->platform_id || !m->status_detail || !m->market_id ||
      !m->stall_no || !m->condition_grade || !m->appraisal_id || !m->wipe_certificate_id ||
      !m->platform_listing_ref || !m->created_at || !m->updated_at)
    return REG_ENOMEM;
  rv = party_open_ref(ring, a, rec.seller_kind, rec.seller_ref, rec.seller_ref_len,
                      rec.seller_enc, rec.seller_enc_len, "listings", "seller", m->id, unmasked,
                      &m->seller);
  if (rv != 0) return rv;
  rec.msg = m;
  *out = rec;
  return 0;
}

int listing_store_insert(pg_conn *pg, const pii_keyring *ring, arena *a, const listing_new *l,
                         listing_rec *out) {
  const Registry__V1__CreateListingRequest *q = l->req;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, l->id);
  pg_params_text(&p, l->item_id);
  pg_params_int(&p, l->item_kind);
  pg_params_text(&p, l->platform_id);
  pg_params_int(&p, l->seller->kind);
  pg_params_bytea(&p, l->seller->ref, l->seller->ref_len);
  pg_params_bytea(&p, l->seller->enc, l->seller->enc_len);
  pg_params_int(&p, q->price_fen);
  pg_params_text(&p, null_if_empty(q->market_id));
  pg_params_text(&p, nz(q->stall_no));
  pg_params_text(&p, nz(q->condition_grade));
  pg_params_text(&p, null_if_empty(q->appraisal_id));
  pg_params_text(&p, nz(l->wipe_certificate_id ? l->wipe_certificate_id : q->wipe_certificate_id));
  pg_params_text(&p, nz(q->platform_listing_ref));
  pg_params_int(&p, q->mileage_km);
  pg_params_int(&p, l->at_us);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "INSERT INTO listings AS l (id, item_id, item_kind, platform_id, seller_kind, "
                    "seller_ref, seller_enc, price_fen, status, market_id, stall_no, "
                    "condition_grade, appraisal_id, wipe_certificate_id, platform_listing_ref, "
                    "mileage_km, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                    "1, $9, $10, $11, $12, $13, $14, $15, " PG_TS(16) ", " PG_TS(16) ") "
                    "RETURNING " LISTING_COLS,
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_EIO;
  else rv = listing_from_row(ring, a, r, 0, 0, out);
  PQclear(r);
  return rv;
}

int listing_store_item_of(pg_conn *pg, const char *listing_id, char item_id[48],
                          char platform_id[48]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, listing_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT item_id, platform_id FROM listings WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else if (snprintf(item_id, 48, "%s", nz(pg_val(r, 0, 0))) >= 48 ||
           snprintf(platform_id, 48, "%s", nz(pg_val(r, 0, 1))) >= 48)
    rv = REG_EIO;
  PQclear(r);
  return rv;
}

int listing_store_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                      int unmasked, int lock, listing_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    lock ? "SELECT " LISTING_COLS " FROM listings l WHERE l.id = $1 FOR UPDATE"
                         : "SELECT " LISTING_COLS " FROM listings l WHERE l.id = $1",
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else rv = listing_from_row(ring, a, r, 0, unmasked, out);
  PQclear(r);
  return rv;
}

int listing_store_update(pg_conn *pg, const char *id, const listing_change *c) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_int(&p, c->price_fen);
  pg_params_int(&p, c->status);
  pg_params_text(&p, nz(c->status_detail));
  pg_params_int(&p, c->suspended_for);
  pg_params_text(&p, c->wipe_certificate_id);
  pg_params_int(&p, c->at_us);
  PGresult *r = NULL;
  int rv = pg_query(
      pg,
      "UPDATE listings SET "
      "price_fen = CASE WHEN $2::int8 < 0 THEN price_fen ELSE $2::int8 END, "
      "status = CASE WHEN $3::int = 0 THEN status ELSE $3::int END, "
      "status_detail = CASE WHEN $3::int = 0 THEN status_detail ELSE $4::text END, "
      "suspended_for = CASE WHEN $3::int = 0 THEN suspended_for ELSE $5::int END, "
      "wipe_certificate_id = coalesce($6::text, wipe_certificate_id), "
      "updated_at = " PG_TS(7) ", "
      "closed_at = CASE WHEN $3::int IN (3, 4, 6) THEN " PG_TS(7) " ELSE closed_at END "
      "WHERE id = $1",
      &p, &r);
  if (rv != 0) return rv;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n == 1 ? 0 : REG_ENOTFOUND;
}

int listing_store_withdraw_others(pg_conn *pg, arena *a, const char *item_id,
                                  const char *keep_id, int64_t at_us, char ***ids, int **from,
                                  size_t *n) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_text(&p, keep_id);
  pg_params_int(&p, at_us);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "UPDATE listings l SET status = 4, status_detail = 'SOLD_ELSEWHERE', "
                    "suspended_for = 0, updated_at = " PG_TS(3) ", closed_at = " PG_TS(3) " "
                    "FROM (SELECT id, status FROM listings WHERE item_id = $1 AND id <> $2 "
                    "      AND status IN (1, 2, 5) ORDER BY id FOR UPDATE) o "
                    "WHERE l.id = o.id RETURNING l.id, o.status",
                    &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  char **out_ids = arena_calloc(a, (size_t)rows + 1, sizeof(*out_ids));
  int *out_from = arena_calloc(a, (size_t)rows + 1, sizeof(*out_from));
  if (!out_ids || !out_from) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < rows; i++) {
    if (!(out_ids[i] = dupv(a, r, i, 0))) rv = REG_ENOMEM;
    out_from[i] = (int)pg_int(r, i, 1);
  }
  PQclear(r);
  if (rv != 0) return rv;
  *ids = out_ids;
  *from = out_from;
  *n = (size_t)rows;
  return 0;
}

int listing_store_list(pg_conn *pg, const pii_keyring *ring, arena *a, const listing_filter *f,
                       int unmasked, int limit, listing_rec **out, size_t *n, int *more) {
  int64_t after_us = 0;
  const char *after_id = NULL;
  if (f->cursor && *f->cursor && page_cursor_parse(f->cursor, &after_us, &after_id) != 0)
    return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, f->status);
  pg_params_int(&p, f->kind);
  pg_params_text(&p, null_if_empty(f->platform_id));
  pg_params_text(&p, null_if_empty(f->market_id));
  pg_params_text(&p, null_if_empty(f->item_id));
  pg_params_int(&p, f->seller_ref ? f->seller_kind : 0);
  pg_params_bytea(&p, f->seller_ref ? f->seller_ref : (const uint8_t *)"",
                  f->seller_ref ? f->seller_ref_len : 0);
  if (after_id) pg_params_int(&p, after_us);
  else pg_params_null(&p);
  pg_params_text(&p, after_id);
  pg_params_int(&p, (int64_t)limit + 1);
  PGresult *r = NULL;
  int rv = pg_query_planned(
      pg,
      "SELECT " LISTING_COLS " FROM listings l WHERE "
      "($1::int = 0 OR l.status = $1::int) AND ($2::int = 0 OR l.item_kind = $2::int) "
      "AND ($3::text IS NULL OR l.platform_id = $3::text) "
      "AND ($4::text IS NULL OR l.market_id = $4::text) "
      "AND ($5::text IS NULL OR l.item_id = $5::text) "
      "AND ($6::int = 0 OR (l.seller_kind = $6::int AND l.seller_ref = $7::bytea)) "
      "AND ($8::int8 IS NULL OR (l.created_at, l.id) > (" PG_TS(8) ", $9::text)) "
      "ORDER BY l.created_at, l.id LIMIT $10",
      &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  int take = rows > limit ? limit : rows;
  listing_rec *recs = arena_calloc(a, (size_t)take + 1, sizeof(*recs));
  if (!recs) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < take; i++) rv = listing_from_row(ring, a, r, i, unmasked, &recs[i]);
  PQclear(r);
  if (rv != 0) return rv;
  *out = recs;
  *n = (size_t)take;
  *more = rows > limit;
  return 0;
}

/* ---- sales ---- */

#define SALE_COLS                                                                        \
  "s.id, s.listing_id, s.item_id, s.platform_id, s.seller_kind, s.seller_ref, "          \
  "s.seller_enc, s.buyer_kind, s.buyer_ref, s.buyer_enc, s.price_fen, s.sold_on::text, " \
  PG_US("s.created_at")

static int sale_from_row(const pii_keyring *ring, arena *a, const PGresult *r, int i,
                         int unmasked, sale_rec *out) {
  sale_rec rec;
  memset(&rec, 0, sizeof(rec));
  Registry__V1__Sale *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__sale__init(m);
  m->id = dupv(a, r, i, 0);
  m->listing_id = dupv(a, r, i, 1);
  m->item_id = dupv(a, r, i, 2);
  m->platform_id = dupv(a, r, i, 3);
  m->price_fen = pg_int(r, i, 10);
  m->sold_on = dupv(a, r, i, 11);
  m->created_at = pbtime_new(a, pg_int(r, i, 12));
  if (!m->id || !m->listing_id || !m->item_id || !m->platform_id || !m->sold_on ||
      !m->created_at)
    return REG_ENOMEM;
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  rec.seller_kind = (int)pg_int(r, i, 4);
  rec.buyer_kind = (int)pg_int(r, i, 7);
  int rv = ref_get(r, i, 5, rec.seller_ref, &rec.seller_ref_len);
  if (rv == 0) rv = bytea_dup(a, r, i, 6, &enc, &enc_len);
  if (rv == 0)
    rv = party_open_ref(ring, a, rec.seller_kind, rec.seller_ref, rec.seller_ref_len, enc, enc_len,
                        "sales", "seller", m->id, unmasked, &m->seller);
  if (rv == 0) rv = ref_get(r, i, 8, rec.buyer_ref, &rec.buyer_ref_len);
  if (rv == 0) rv = bytea_dup(a, r, i, 9, &enc, &enc_len);
  if (rv == 0)
    rv = party_open_ref(ring, a, rec.buyer_kind, rec.buyer_ref, rec.buyer_ref_len, enc, enc_len,
                        "sales", "buyer", m->id, unmasked, &m->buyer);
  if (rv != 0) return rv;
  rec.msg = m;
  *out = rec;
  return 0;
}

int listing_store_sale_insert(pg_conn *pg, const sale_new *s) {
  char day[11];
  clock_day_format(s->sold_on, day);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, s->id);
  pg_params_text(&p, s->listing_id);
  pg_params_text(&p, s->item_id);
  pg_params_int(&p, s->item_kind);
  pg_params_text(&p, s->platform_id);
  pg_params_int(&p, s->seller->kind);
  pg_params_bytea(&p, s->seller->ref, s->seller->ref_len);
  pg_params_bytea(&p, s->seller->enc, s->seller->enc_len);
  pg_params_int(&p, s->buyer->kind);
  pg_params_bytea(&p, s->buyer->ref, s->buyer->ref_len);
  pg_params_bytea(&p, s->buyer->enc, s->buyer->enc_len);
  pg_params_int(&p, s->price_fen);
  pg_params_text(&p, day);
  pg_params_bool(&p, s->counts_as_flip);
  pg_params_int(&p, s->at_us);
  return pg_query(pg,
                  "INSERT INTO sales (id, listing_id, item_id, item_kind, platform_id, "
                  "seller_kind, seller_ref, seller_enc, buyer_kind, buyer_ref, buyer_enc, "
                  "price_fen, sold_on, counts_as_flip, created_at) VALUES ($1, $2, $3, $4, $5, "
                  "$6, $7, $8, $9, $10, $11, $12, $13::date, $14, " PG_TS(15) ")",
                  &p, NULL);
}

int listing_store_sale_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                           int unmasked, sale_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " SALE_COLS " FROM sales s WHERE s.id = $1", &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else rv = sale_from_row(ring, a, r, 0, unmasked, out);
  PQclear(r);
  return rv;
}

int listing_store_last_purchase(pg_conn *pg, const char *item_id, const uint8_t ref[32],
                                clock_day *bought_on) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_bytea(&p, ref, 32);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT sold_on::text FROM sales WHERE item_id = $1 AND buyer_kind = 1 "
                    "AND buyer_ref = $2 ORDER BY sold_on DESC, created_at DESC LIMIT 1",
                    &p, &r);
  if (rv != 0) return rv;
  clock_day d = 0;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else if (clock_day_parse(nz(pg_val(r, 0, 0)), &d) != 0) rv = REG_EIO;
  PQclear(r);
  if (rv == 0) *bought_on = d;
  return rv;
}

int listing_store_last_sale_day(pg_conn *pg, const char *item_id, clock_day *day) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT max(sold_on)::text FROM sales WHERE item_id = $1", &p, &r);
  if (rv != 0) return rv;
  clock_day d = 0;
  if (PQntuples(r) != 1 || !pg_val(r, 0, 0)) rv = REG_ENOTFOUND;
  else if (clock_day_parse(pg_val(r, 0, 0), &d) != 0) rv = REG_EIO;
  PQclear(r);
  if (rv == 0) *day = d;
  return rv;
}

int listing_store_flips_in_year(pg_conn *pg, const uint8_t ref[32], int year, int *count) {
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, ref, 32);
  int rv = pg_query(pg, "SELECT pg_advisory_xact_lock(hashtextextended(encode($1, 'hex'), 7301))",
                    &p, NULL);
  if (rv != 0) return rv;
  pg_params_init(&p);
  pg_params_bytea(&p, ref, 32);
  pg_params_int(&p, year);
  PGresult *r = NULL;
  rv = pg_query(pg,
                "SELECT count(*) FROM sales WHERE seller_kind = 1 AND seller_ref = $1 "
                "AND counts_as_flip AND sold_on >= make_date($2::int, 1, 1) "
                "AND sold_on < make_date($2::int + 1, 1, 1)",
                &p, &r);
  if (rv != 0) return rv;
  *count = (int)pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int listing_store_sale_list(pg_conn *pg, const pii_keyring *ring, arena *a, const sale_filter *f,
                            int unmasked, int limit, sale_rec **out, size_t *n, int *more) {
  int64_t after_us = 0;
  const char *after_id = NULL;
  if (f->cursor && *f->cursor && page_cursor_parse(f->cursor, &after_us, &after_id) != 0)
    return REG_EINVAL;
  char from[11], to[11];
  clock_day_format(f->from, from);
  clock_day_format(f->to, to);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, null_if_empty(f->item_id));
  pg_params_text(&p, null_if_empty(f->platform_id));
  pg_params_bytea(&p, f->seller_ref ? f->seller_ref : (const uint8_t *)"", f->seller_ref ? 32 : 0);
  pg_params_bytea(&p, f->buyer_ref ? f->buyer_ref : (const uint8_t *)"", f->buyer_ref ? 32 : 0);
  pg_params_text(&p, from);
  pg_params_text(&p, to);
  if (after_id) pg_params_int(&p, after_us);
  else pg_params_null(&p);
  pg_params_text(&p, after_id);
  pg_params_int(&p, (int64_t)limit + 1);
  PGresult *r = NULL;
  int rv = pg_query_planned(
      pg,
      "SELECT " SALE_COLS " FROM sales s WHERE "
      "($1::text IS NULL OR s.item_id = $1::text) "
      "AND ($2::text IS NULL OR s.platform_id = $2::text) "
      "AND (length($3::bytea) = 0 OR (s.seller_kind = 1 AND s.seller_ref = $3::bytea)) "
      "AND (length($4::bytea) = 0 OR (s.buyer_kind = 1 AND s.buyer_ref = $4::bytea)) "
      "AND s.sold_on BETWEEN $5::date AND $6::date "
      "AND ($7::int8 IS NULL OR (s.created_at, s.id) > (" PG_TS(7) ", $8::text)) "
      "ORDER BY s.created_at, s.id LIMIT $9",
      &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  int take = rows > limit ? limit : rows;
  sale_rec *recs = arena_calloc(a, (size_t)take + 1, sizeof(*recs));
  if (!recs) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < take; i++) rv = sale_from_row(ring, a, r, i, unmasked, &recs[i]);
  PQclear(r);
  if (rv != 0) return rv;
  *out = recs;
  *n = (size_t)take;
  *more = rows > limit;
  return 0;
}

int listing_store_set_owner(pg_conn *pg, const char *item_id, const party_sealed *owner,
                            int64_t at_us) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_int(&p, owner->kind);
  pg_params_bytea(&p, owner->ref, owner->ref_len);
  pg_params_bytea(&p, owner->enc, owner->enc_len);
  pg_params_int(&p, at_us);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "UPDATE items SET owner_kind = $2, owner_ref = $3, owner_enc = $4, "
                    "transfer_count = transfer_count + 1, updated_at = " PG_TS(5) " WHERE id = $1",
                    &p, &r);
  if (rv != 0) return rv;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n == 1 ? 0 : REG_ENOTFOUND;
}

/* ---- appraisals, markets, qualifications ---- */

int listing_store_appraisal_insert(pg_conn *pg, const appraisal_new *a) {
  const Registry__V1__AttachAppraisalRequest *q = a->req;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, a->id);
  pg_params_text(&p, a->item_id);
  pg_params_text(&p, null_if_empty(a->listing_id));
  pg_params_text(&p, a->organization_id);
  pg_params_bytea(&p, a->appraiser->ref, a->appraiser->ref_len);
  pg_params_bytea(&p, a->appraiser->enc, a->appraiser->enc_len);
  pg_params_int(&p, q->appraised_value_fen);
  pg_params_text(&p, nz(q->condition_grade));
  pg_params_text(&p, nz(q->method));
  pg_params_bytea(&p, q->report_sha256.data, q->report_sha256.len);
  pg_params_int(&p, a->at_us);
  return pg_query(pg,
                  "INSERT INTO appraisals (id, item_id, listing_id, appraiser_organization_id, "
                  "appraiser_ref, appraiser_enc, appraised_value_fen, condition_grade, method, "
                  "report_sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                  PG_TS(11) ")",
                  &p, NULL);
}

int listing_store_appraisal_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                                int unmasked, Registry__V1__Appraisal **out,
                                uint8_t appraiser_ref[32]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT id, item_id, coalesce(listing_id, ''), appraiser_organization_id, "
                    "appraiser_ref, appraiser_enc, appraised_value_fen, condition_grade, method, "
                    "report_sha256, " PG_US("created_at") " FROM appraisals WHERE id = $1",
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return REG_ENOTFOUND;
  }
  Registry__V1__Appraisal *m = arena_alloc(a, sizeof(*m));
  uint8_t *enc = NULL, *sha = NULL;
  size_t enc_len = 0, sha_len = 0, ref_len = 0;
  uint8_t ref[32] = {0};
  if (!m) rv = REG_ENOMEM;
  if (rv == 0) {
    registry__v1__appraisal__init(m);
    m->id = dupv(a, r, 0, 0);
    m->item_id = dupv(a, r, 0, 1);
    m->listing_id = dupv(a, r, 0, 2);
    m->appraiser_organization_id = dupv(a, r, 0, 3);
    m->appraised_value_fen = pg_int(r, 0, 6);
    m->condition_grade = dupv(a, r, 0, 7);
    m->method = dupv(a, r, 0, 8);
    m->created_at = pbtime_new(a, pg_int(r, 0, 10));
    if (!m->id || !m->item_id || !m->listing_id || !m->appraiser_organization_id ||
        !m->condition_grade || !m->method || !m->created_at)
      rv = REG_ENOMEM;
  }
  if (rv == 0 && pg_val(r, 0, 4)) rv = ref_get(r, 0, 4, ref, &ref_len);
  if (rv == 0) rv = bytea_dup(a, r, 0, 5, &enc, &enc_len);
  if (rv == 0) rv = bytea_dup(a, r, 0, 9, &sha, &sha_len);
  PQclear(r);
  if (rv == 0)
    rv = party_open_person(ring, a, enc, enc_len, "appraisals", "appraiser", m->id, unmasked,
                           &m->appraiser);
  if (rv != 0) return rv;
  m->report_sha256.data = sha;
  m->report_sha256.len = sha_len;
  if (appraiser_ref) memcpy(appraiser_ref, ref, 32);
  *out = m;
  return 0;
}

int listing_store_appraisal_item(pg_conn *pg, const char *id, char item_id[48]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT item_id FROM appraisals WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else snprintf(item_id, 48, "%s", nz(pg_val(r, 0, 0)));
  PQclear(r);
  return rv;
}

int listing_store_market_insert(pg_conn *pg, arena *a, const char *id,
                                const Registry__V1__RegisterMarketRequest *req, const char *org_id,
                                int64_t at_us, Registry__V1__Market **out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, nz(req->name));
  pg_params_text(&p, nz(req->address));
  pg_params_text(&p, nz(req->operator_uscc));
  pg_params_text(&p, org_id);
  pg_params_int(&p, at_us);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "INSERT INTO markets (id, name, address, operator_uscc, registered_by, "
                    "created_at) VALUES ($1, $2, $3, $4, $5, " PG_TS(6) ") "
                    "RETURNING id, name, address, operator_uscc, registered_by, " PG_US("created_at"),
                    &p, &r);
  if (rv != 0) return rv;
  Registry__V1__Market *m = arena_alloc(a, sizeof(*m));
  if (m) {
    registry__v1__market__init(m);
    m->id = dupv(a, r, 0, 0);
    m->name = dupv(a, r, 0, 1);
    m->address = dupv(a, r, 0, 2);
    m->operator_uscc = dupv(a, r, 0, 3);
    m->registered_by = dupv(a, r, 0, 4);
    m->created_at = pbtime_new(a, pg_int(r, 0, 5));
  }
  PQclear(r);
  if (!m || !m->id || !m->name || !m->address || !m->operator_uscc || !m->registered_by ||
      !m->created_at)
    return REG_ENOMEM;
  *out = m;
  return 0;
}

int listing_store_market_exists(pg_conn *pg, const char *id) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT 1 FROM markets WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? 0 : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* ---- stolen reports ---- */

int listing_store_stolen_insert(pg_conn *pg, const char *item_id, const char *report_ref,
                                const char *reporter, const char *org_id, int64_t at_us) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_text(&p, report_ref);
  pg_params_text(&p, nz(reporter));
  pg_params_text(&p, org_id);
  pg_params_int(&p, at_us);
  return pg_query(pg,
                  "INSERT INTO stolen_reports (item_id, report_ref, reporter, reported_by, "
                  "reported_at) VALUES ($1, $2, $3, $4, " PG_TS(5) ")",
                  &p, NULL);
}

int listing_store_stolen_clear(pg_conn *pg, arena *a, const char *item_id,
                               const char *report_ref, const char *reason, const char *org_id,
                               int64_t at_us, char **cleared_ref) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT id, report_ref FROM stolen_reports WHERE item_id = $1 "
                    "AND cleared_at IS NULL FOR UPDATE",
                    &p, &r);
  if (rv != 0) return rv;
  char id[24] = "";
  char *ref = NULL;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else if (report_ref && *report_ref && strcmp(nz(pg_val(r, 0, 1)), report_ref) != 0)
    rv = REG_EPERM;
  else if (!(ref = dupv(a, r, 0, 1))) rv = REG_ENOMEM;
  else snprintf(id, sizeof(id), "%s", nz(pg_val(r, 0, 0)));
  PQclear(r);
  if (rv != 0) return rv;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, org_id);
  pg_params_text(&p, nz(reason));
  pg_params_int(&p, at_us);
  rv = pg_query(pg,
                "UPDATE stolen_reports SET cleared_by = $2, cleared_reason = $3, "
                "cleared_at = " PG_TS(4) " WHERE id = $1::int8",
                &p, NULL);
  if (rv == 0) *cleared_ref = ref;
  return rv;
}

/* ---- the item history ---- */

int listing_store_history(pg_conn *pg, arena *a, const char *item_id,
                          Registry__V1__HistoryEntry ***out, size_t *n, int *truncated) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_int(&p, LISTING_HISTORY_MAX + 1);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT " PG_US("h.at") ", h.kind, h.organization_id, coalesce(h.listing_id, ''), "
                    "coalesce(h.certificate_id, ''), coalesce(h.invoice_id, ''), h.mileage_km, "
                    "h.price_fen, h.detail, le.log_index, coalesce(h.event_id, ''), "
                    "coalesce(h.sale_id, ''), coalesce(h.appraisal_id, '') "
                    "FROM item_history h LEFT JOIN events e ON e.event_id = h.event_id "
                    "LEFT JOIN log_entries le ON le.event_row = e.id "
                    "WHERE h.item_id = $1 ORDER BY h.id LIMIT $2",
                    &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  *truncated = rows > LISTING_HISTORY_MAX;
  if (rows > LISTING_HISTORY_MAX) rows = LISTING_HISTORY_MAX;
  Registry__V1__HistoryEntry **es = arena_calloc(a, (size_t)rows + 1, sizeof(*es));
  if (!es) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < rows; i++) {
    Registry__V1__HistoryEntry *e = arena_alloc(a, sizeof(*e));
    if (!e) {
      rv = REG_ENOMEM;
      break;
    }
    registry__v1__history_entry__init(e);
    e->at = pbtime_new(a, pg_int(r, i, 0));
    e->kind = (Registry__V1__HistoryKind)pg_int(r, i, 1);
    e->organization_id = dupv(a, r, i, 2);
    e->listing_id = dupv(a, r, i, 3);
    e->certificate_id = dupv(a, r, i, 4);
    e->invoice_id = dupv(a, r, i, 5);
    e->mileage_km = pg_int(r, i, 6);
    e->price_fen = pg_int(r, i, 7);
    e->detail = dupv(a, r, i, 8);
    e->sequenced = pg_val(r, i, 9) != NULL;
    e->log_index = pg_int(r, i, 9);
    e->event_id = dupv(a, r, i, 10);
    e->sale_id = dupv(a, r, i, 11);
    e->appraisal_id = dupv(a, r, i, 12);
    if (!e->at || !e->organization_id || !e->listing_id || !e->certificate_id ||
        !e->invoice_id || !e->detail || !e->event_id || !e->sale_id || !e->appraisal_id)
      rv = REG_ENOMEM;
    es[i] = e;
  }
  PQclear(r);
  if (rv != 0) return rv;
  *out = es;
  *n = (size_t)rows;
  return 0;
}
