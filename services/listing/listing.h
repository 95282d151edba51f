/*
 * ListingService (SPEC §4.2, §6; DOMAIN §2, §3, §5): items, listings,
 * sales, appraisals, markets, stolen reports and item history.
 *   listing_rules.c  validation and domain rules: pure, no I/O, table-tested
 *   listing_gates.c  the refusals of CreateListing, one function each, in
 *                    one table: the place later issues plug gates into
 *   listing_store.c  the SQL of listings, sales, appraisals, markets
 *   listing_rpc.c    thin handlers: rules → write_run/read_run → store
 * Item-wide machinery other services share (register, lock, brands,
 * odometer, history, suspension) is services/core/items.h; parties at rest
 * services/core/party.h.
 */
#ifndef REG_LISTING_LISTING_H
#define REG_LISTING_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "registry/v1/listing.pb-c.h"
#include "services/base/arena.h"
#include "services/base/clock.h"
#include "services/base/config.h"
#include "services/base/err.h"
#include "services/core/items.h"
#include "services/core/party.h"
#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"
#include "services/core/text.h"

/* ---- rules (listing_rules.c) ---- */

/* A rule's verdict on one field, named by its path ("vehicle.vin",
 * "seller.person.id_number", "price_fen"). */
typedef core_violation listing_violation; /* services/core/text.h */

#define LISTING_TEXT_MAX 200     /* titles, makes, models, refs: characters */
#define LISTING_LONG_TEXT_MAX 2000 /* descriptions, addresses, reasons */
#define LISTING_MILEAGE_MAX 10000000 /* km: an odometer reading above is refused */

/* Each check returns 0 (and normalizes in place: VIN, IMEI, USCC, ID
 * numbers to upper case, brand trimmed), or REG_EINVAL with *v naming the
 * first bad field. `today` is the CST calendar day (tests pin it). */
int listing_rules_check_register(Registry__V1__RegisterItemRequest *req, clock_day today,
                                 listing_violation *v);
int listing_rules_check_create(Registry__V1__CreateListingRequest *req, listing_violation *v);
int listing_rules_check_update(const Registry__V1__UpdateListingRequest *req, listing_violation *v);
/* *sold_on: the parsed sold_on (not after today). */
int listing_rules_check_sale(Registry__V1__RecordSaleRequest *req, clock_day today,
                             clock_day *sold_on, listing_violation *v);
int listing_rules_check_appraisal(Registry__V1__AttachAppraisalRequest *req, listing_violation *v);
int listing_rules_check_report_stolen(Registry__V1__ReportStolenRequest *req, listing_violation *v);
int listing_rules_check_clear_stolen(Registry__V1__ClearStolenRequest *req, listing_violation *v);
int listing_rules_check_clear_brand(const Registry__V1__ClearBrandRequest *req, listing_violation *v);
int listing_rules_check_take_down(const Registry__V1__TakeDownListingRequest *req,
                                  listing_violation *v);
int listing_rules_check_market(Registry__V1__RegisterMarketRequest *req, listing_violation *v);
/* List filters: at most one seller key; purpose required with an ID
 * number (SPEC §3); dates parse; from_on ≤ to_on. */
int listing_rules_check_list_listings(Registry__V1__ListListingsRequest *req, listing_violation *v);
int listing_rules_check_list_sales(Registry__V1__ListSalesRequest *req, clock_day *from,
                                   clock_day *to, listing_violation *v);
/* Item lookups by item_id | vin | imei (GetItemHistory, ReportStolen,
 * ClearStolen): exactly one, VIN/IMEI valid and normalized. */
int listing_rules_check_item_key(const char *item_id, char *vin, char *imei, listing_violation *v);

/* Who changes a listing's status (SPEC §4.2 table, §6 "Remaining details"). */
typedef enum listing_actor {
  LISTING_BY_PLATFORM = 1, /* UpdateListing */
  LISTING_BY_SALE,         /* RecordSale: → SOLD */
  LISTING_BY_INSPECTOR,    /* TakeDownListing: → TAKEN_DOWN */
  LISTING_BY_REGISTRY      /* suspension, reactivation, SOLD_ELSEWHERE */
} listing_actor;
/* 0 when `actor` may move a listing from → to; REG_EPERM otherwise
 * (INVALID_STATUS_TRANSITION). from == to is not a transition (REG_EPERM). */
int listing_rules_transition(int from, int to, listing_actor actor);

/* Vehicle type × use nature (SPEC §6): 0, or REG_EINVAL when a passenger
 * type has COMMERCIAL_FREIGHT or a truck a passenger use. */
int listing_rules_type_use(int vehicle_type, int use_nature);

/* The mandatory scrapping ages (DOMAIN §2), a dated table from
 * configuration: defaults, then reg_config.scrapping_age overrides, a
 * comma-separated list of `[YYYY-MM-DD:]USE_NATURE/VEHICLE_TYPE=YEARS|none`
 * (names without enum prefix; `*` for any use nature or type; an entry with
 * a date applies on and after that day). */
typedef struct listing_scrap_table listing_scrap_table;
int listing_scrap_table_new(const char *spec, listing_scrap_table **out, char *err,
                            size_t err_cap) REG_MUST_CHECK;
void listing_scrap_table_free(listing_scrap_table *t);
/* The age limit in years in force on `on` for this vehicle; 0 = none. */
int listing_scrap_years(const listing_scrap_table *t, int vehicle_type, int use_nature,
                        clock_day on);
/* 1 when a vehicle first registered on `first_registered` is past its limit
 * on `today`: on and after the limit's anniversary (29 February → 28
 * February). */
int listing_rules_past_scrapping_age(const listing_scrap_table *t, int vehicle_type,
                                     int use_nature, clock_day first_registered, clock_day today);
/* 1 when the guided-scrapping warning applies (small/micro non-commercial
 * passenger car at or above `threshold_km`, DOMAIN §2). */
int listing_rules_guided_scrapping(int vehicle_type, int use_nature, int64_t mileage_km,
                                   int64_t threshold_km);

/* Anti-flipping (SPEC §6): a sale on `sold_on` of a vehicle the seller
 * bought on `bought_on` counts when sold_on is before the first
 * anniversary of bought_on (clock_anniversary). */
int listing_rules_is_flip(clock_day bought_on, clock_day sold_on);
/* 1 when a counting sale must be refused: the seller already has
 * `flips_this_year` counting sales in sold_on's calendar year (limit 2). */
int listing_rules_flip_refused(int flips_this_year);
#define LISTING_FLIP_LIMIT 2

/* ---- gates of CreateListing (listing_gates.c) ---- */

/* What a gate sees: the locked item, the checked request, the sealed
 * seller, the calling platform; and the one thing a gate hands back. */
typedef struct listing_gate_ctx {
  rpc_call *call;
  pg_conn *pg;
  const items_row *item;
  const Registry__V1__CreateListingRequest *req;
  const party_sealed *seller;
  const listing_scrap_table *scrap;
  clock_day today;
  /* out, IDS_MAX (48) bytes, "" on entry: the wipe certificate the listing
   * records — the one the request names, or the one WIPE_CERTIFICATE_REQUIRED
   * found on file — so that its revocation suspends the listing */
  char *certificate_id;
} listing_gate_ctx;
/* 0: passes; -1: refused, call->status set (FAILED_PRECONDITION with the
 * reason, or NOT_FOUND for a named certificate that does not exist); a
 * REG_* storage error. */
typedef int (*listing_gate_fn)(const listing_gate_ctx *ctx);
/* NULL-terminated, in the order they are asked: ITEM_SCRAPPED,
 * ITEM_STOLEN, PAST_SCRAPPING_AGE, WIPE_CERTIFICATE_REQUIRED (a named
 * certificate must vouch for the item, services/core/certs.h; an
 * electronic item with storage needs one named or on file), SELLER_BLACKLISTED
 * (services/credit: the seller on the dishonesty list). ALREADY_LISTED is the store's (a unique index
 * settles races). */
extern const listing_gate_fn listing_gates[];

/* ---- store (listing_store.c) ---- */
/* (declared by listing_store.h, which only listing_rpc.c includes) */

/* Registry-wide listing state made at start-up (registryd serve). */
int listing_init(const reg_config *cfg) REG_MUST_CHECK;
void listing_shutdown(void);
const listing_scrap_table *listing_scrap(void);

#endif
