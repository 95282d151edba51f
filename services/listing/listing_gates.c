/*
 * The gates of CreateListing (SPEC §4.2; DOMAIN §2, §3): each refuses the
 * listing for one reason, FAILED_PRECONDITION with that reason, and the
 * handler asks them in the order of listing_gates[] on the locked item.
 * A later issue adds its refusal by adding a function to the table, not by
 * touching the handler. ALREADY_LISTED is not here: a unique index in the
 * store settles it, races included.
 */
#include <stdio.h>

#include "services/listing/listing.h"

/* The item carries a scrapped-vehicle recycling certificate (a
 * SCRAP_VEHICLE invoice line or a dismantler's record scrapped it). */
static int gate_scrapped(const listing_gate_ctx *ctx) {
  if (ctx->item->status != REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_SCRAPPED) return 0;
  return rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION, "ITEM_SCRAPPED",
                         "item %s is scrapped and cannot be listed", ctx->item->id);
}

/* Reported stolen and not cleared (ReportStolen / ClearStolen). */
static int gate_stolen(const listing_gate_ctx *ctx) {
  if (ctx->item->status != REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_STOLEN) return 0;
  return rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION, "ITEM_STOLEN",
                         "item %s is reported stolen and cannot be listed", ctx->item->id);
}

/* A vehicle at or past its mandatory scrapping age on ctx->today. A
 * vehicle registered without a first registration date has no age to
 * check. */
static int gate_scrapping_age(const listing_gate_ctx *ctx) {
  const items_row *it = ctx->item;
  if (it->kind != REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE || !it->first_registration_date[0])
    return 0;
  clock_day first;
  /* The stored date passed the rules on the way in: a bad one is damage
   * at rest, not the caller's fault. */
  if (clock_day_parse(it->first_registration_date, &first) != 0) return REG_EIO;
  if (!listing_rules_past_scrapping_age(ctx->scrap, it->vehicle_type, it->use_nature, first,
                                        ctx->today))
    return 0;
  int years = listing_scrap_years(ctx->scrap, it->vehicle_type, it->use_nature, ctx->today);
  char limit[11];
  clock_day_format(listing_rules_anniversary(first, years), limit);
  rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION, "PAST_SCRAPPING_AGE",
                  "vehicle first registered on %s reached its %d-year scrapping age on %s",
                  it->first_registration_date, years, limit);
  char ys[16];
  snprintf(ys, sizeof(ys), "%d", years);
  rpc_status_add_meta(&ctx->call->status, "scrapping_age_years", ys);
  rpc_status_add_meta(&ctx->call->status, "limit_on", limit);
  return -1;
}

const listing_gate_fn listing_gates[] = {
    gate_scrapped,
    gate_stolen,
    gate_scrapping_age,
    /* WIPE_CERTIFICATE_REQUIRED (the wipe issue) goes here: electronics
     * with storage_bytes > 0 need a valid, unrevoked certificate for the
     * item issued after its most recent sale. */
    /* SELLER_BLACKLISTED (the credit issue) goes here: the seller is on
     * the serious-dishonesty list. */
    NULL,
};
