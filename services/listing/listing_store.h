/*
 * ListingService's SQL (storage/migrations/0300_listing.sql): listings,
 * sales, appraisals, markets, stolen reports and the reads of the item
 * history. Item-wide changes (register, lock, status, brands, odometer,
 * suspension, history rows) are services/core/items.h.
 *
 * Every function runs on the caller's connection, inside its transaction
 * when it has one. Times a write records are passed in as Unix microseconds
 * (the transaction's time, pg_tx_time_us), never SQL now(), so the rows and
 * the events of one transaction agree. Parties come back opened (crypto/
 * pii.h through services/core/party.h): in clear when `unmasked`, masked
 * otherwise. Everything returned lives in the arena `a`.
 *
 * Errors: REG_ENOTFOUND (no such row), REG_EEXIST (a unique index said
 * no), REG_ENOMEM (arena full), REG_ECRYPTO (a sealed party did not open),
 * and pg_query's storage errors.
 */
#ifndef REG_LISTING_LISTING_STORE_H
#define REG_LISTING_LISTING_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/pii.h"
#include "registry/v1/listing.pb-c.h"
#include "services/base/arena.h"
#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/core/party.h"
#include "storage/pg/pg.h"

/* ---- listings ---- */

/* A listing as a response shows it, with what the handlers need besides. */
typedef struct listing_rec {
  Registry__V1__Listing *msg;
  int seller_kind;          /* PARTY_PERSON or PARTY_BUSINESS */
  uint8_t seller_ref[32];
  size_t seller_ref_len;
  uint8_t *seller_enc;      /* arena */
  size_t seller_enc_len;
  int suspended_for;        /* bits ITEMS_SUSPENDED_* */
} listing_rec;

/* A new listing: the checked request, its sealed seller and the caller.
 * wipe_certificate_id, when not NULL, is recorded instead of the
 * request's (the certificate the gate found on file). */
typedef struct listing_new {
  const char *id, *item_id, *platform_id;
  int item_kind;
  const party_sealed *seller;
  const Registry__V1__CreateListingRequest *req;
  int64_t at_us;
  const char *wipe_certificate_id;
} listing_new;

/* Inserts an ACTIVE listing and returns it as a non-inspector sees it
 * (seller masked) in *out. REG_EEXIST: the item already has an open
 * listing on that platform (listings_open_per_platform). */
int listing_store_insert(pg_conn *pg, const pii_keyring *ring, arena *a, const listing_new *l,
                         listing_rec *out) REG_MUST_CHECK;

/* The item and the platform of a listing (to check ownership, then lock the
 * item row first). REG_ENOTFOUND. */
int listing_store_item_of(pg_conn *pg, const char *listing_id, char item_id[48],
                          char platform_id[48]) REG_MUST_CHECK;

/* One listing; `lock` takes its row FOR UPDATE (after the item row).
 * REG_ENOTFOUND. */
int listing_store_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                      int unmasked, int lock, listing_rec *out) REG_MUST_CHECK;

/* What a change of one listing sets. price_fen < 0 and wipe_certificate_id
 * NULL leave those unchanged; status 0 leaves status, detail and
 * suspended_for unchanged; a final status (SOLD, WITHDRAWN, TAKEN_DOWN)
 * sets closed_at. */
typedef struct listing_change {
  int64_t price_fen;
  int status;
  const char *status_detail;
  int suspended_for;
  const char *wipe_certificate_id;
  int64_t at_us;
} listing_change;
int listing_store_update(pg_conn *pg, const char *id, const listing_change *c) REG_MUST_CHECK;

/* Withdraws every open listing of a locked item except `keep_id`
 * (status_detail SOLD_ELSEWHERE, closed_at). Their ids and former
 * statuses go to *ids / *from (arena), their number to *n. */
int listing_store_withdraw_others(pg_conn *pg, arena *a, const char *item_id,
                                  const char *keep_id, int64_t at_us, char ***ids, int **from,
                                  size_t *n) REG_MUST_CHECK;

/* Filters of ListListings; zero / NULL: any. The cursor is
 * page_cursor's (services/core/page.h) of the last row of the page before. */
typedef struct listing_filter {
  int status, kind;
  const char *platform_id, *market_id, *item_id;
  int seller_kind;           /* with seller_ref */
  const uint8_t *seller_ref;
  size_t seller_ref_len;
  const char *cursor;
} listing_filter;
/* A page ordered by (created_at, id): at most `limit` rows, *more when
 * there are further ones. REG_EINVAL: a malformed cursor. */
int listing_store_list(pg_conn *pg, const pii_keyring *ring, arena *a, const listing_filter *f,
                       int unmasked, int limit, listing_rec **out, size_t *n,
                       int *more) REG_MUST_CHECK;

/* ---- sales ---- */

typedef struct sale_rec {
  Registry__V1__Sale *msg;
  int seller_kind, buyer_kind;
  uint8_t seller_ref[32], buyer_ref[32];
  size_t seller_ref_len, buyer_ref_len;
} sale_rec;

typedef struct sale_new {
  const char *id, *listing_id, *item_id, *platform_id;
  int item_kind;
  const party_sealed *seller, *buyer;
  int64_t price_fen;
  clock_day sold_on;
  int counts_as_flip;
  int64_t at_us;
} sale_new;
int listing_store_sale_insert(pg_conn *pg, const sale_new *s) REG_MUST_CHECK;
int listing_store_sale_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                           int unmasked, sale_rec *out) REG_MUST_CHECK;

/* The latest sold_on of the item's sales. REG_ENOTFOUND: never sold. */
int listing_store_last_sale_day(pg_conn *pg, const char *item_id, clock_day *day) REG_MUST_CHECK;

/* The latest recorded purchase of an item by a natural person (buyer
 * blind index `ref`): *bought_on. REG_ENOTFOUND when there is none. */
int listing_store_last_purchase(pg_conn *pg, const char *item_id, const uint8_t ref[32],
                                clock_day *bought_on) REG_MUST_CHECK;
/* Serializes anti-flipping decisions about one natural person for the
 * rest of the transaction (a transaction-scoped advisory lock on the blind
 * index), then counts their sales that counted as flips with sold_on in
 * `year`. */
int listing_store_flips_in_year(pg_conn *pg, const uint8_t ref[32], int year,
                                int *count) REG_MUST_CHECK;

typedef struct sale_filter {
  const char *item_id, *platform_id;
  const uint8_t *seller_ref, *buyer_ref; /* person blind indexes */
  clock_day from, to;                    /* sold_on range, inclusive */
  const char *cursor;
} sale_filter;
int listing_store_sale_list(pg_conn *pg, const pii_keyring *ring, arena *a, const sale_filter *f,
                            int unmasked, int limit, sale_rec **out, size_t *n,
                            int *more) REG_MUST_CHECK;

/* The owner the registry records after a sale: the buyer, sealed for the
 * item row ("items"/"owner"/item id), and transfer_count + 1. */
int listing_store_set_owner(pg_conn *pg, const char *item_id, const party_sealed *owner,
                            int64_t at_us) REG_MUST_CHECK;

/* ---- appraisals, markets, qualifications ---- */

typedef struct appraisal_new {
  const char *id, *item_id, *listing_id, *organization_id;
  const party_sealed *appraiser;
  const Registry__V1__AttachAppraisalRequest *req;
  int64_t at_us;
} appraisal_new;
int listing_store_appraisal_insert(pg_conn *pg, const appraisal_new *p) REG_MUST_CHECK;
int listing_store_appraisal_get(pg_conn *pg, const pii_keyring *ring, arena *a, const char *id,
                                int unmasked, Registry__V1__Appraisal **out,
                                uint8_t appraiser_ref[32]) REG_MUST_CHECK;
/* The item an appraisal is of. REG_ENOTFOUND. */
int listing_store_appraisal_item(pg_conn *pg, const char *id, char item_id[48]) REG_MUST_CHECK;

int listing_store_market_insert(pg_conn *pg, arena *a, const char *id,
                                const Registry__V1__RegisterMarketRequest *req, const char *org_id,
                                int64_t at_us, Registry__V1__Market **out) REG_MUST_CHECK;
/* 0 when the market exists, REG_ENOTFOUND otherwise. */
int listing_store_market_exists(pg_conn *pg, const char *id) REG_MUST_CHECK;

/* ---- stolen reports ---- */

int listing_store_stolen_insert(pg_conn *pg, const char *item_id, const char *report_ref,
                                const char *reporter, const char *org_id,
                                int64_t at_us) REG_MUST_CHECK;
/* Closes the item's open report — when `report_ref` is given (not NULL or
 * ""), only if that is its reference. REG_ENOTFOUND: no open report;
 * REG_EPERM: the open report has another reference. *cleared_ref: the
 * reference of the report closed (arena). */
int listing_store_stolen_clear(pg_conn *pg, arena *a, const char *item_id,
                               const char *report_ref, const char *reason, const char *org_id,
                               int64_t at_us, char **cleared_ref) REG_MUST_CHECK;

/* ---- the item history ---- */

/* At most this many entries are returned by one GetItemHistory. */
#define LISTING_HISTORY_MAX 10000
/* The item's history rows oldest first, at most LISTING_HISTORY_MAX (and
 * *truncated set when there are more), with the log index of each row's
 * event once sequenced. */
int listing_store_history(pg_conn *pg, arena *a, const char *item_id,
                          Registry__V1__HistoryEntry ***out, size_t *n,
                          int *truncated) REG_MUST_CHECK;

#endif
