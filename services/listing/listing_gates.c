/*
 * The gates of CreateListing (SPEC §4.2; DOMAIN §2, §3): each refuses the
 * listing for one reason, FAILED_PRECONDITION with that reason, and the
 * handler asks them in the order of listing_gates[] on the locked item.
 * A later issue adds its refusal by adding a function to the table, not by
 * touching the handler. ALREADY_LISTED is not here: a unique index in the
 * store settles it, races included. One gate also hands something back:
 * WIPE_CERTIFICATE_REQUIRED names the certificate the listing records.
 */
#include <stdio.h>
#include <string.h>

#include "services/core/certs.h"
#include "services/core/ids.h"
#include "services/credit/credit_rpc.h"
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
  clock_day_format(clock_anniversary(first, years), limit);
  rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION, "PAST_SCRAPPING_AGE",
                  "vehicle first registered on %s reached its %d-year scrapping age on %s",
                  it->first_registration_date, years, limit);
  char ys[16];
  snprintf(ys, sizeof(ys), "%d", years);
  rpc_status_add_meta(&ctx->call->status, "scrapping_age_years", ys);
  rpc_status_add_meta(&ctx->call->status, "limit_on", limit);
  return -1;
}

/* A certificate the request names must vouch for the item
 * (services/core/certs.h: names it, unrevoked, issued after its most
 * recent sale, verifies), whatever the item; unknown → NOT_FOUND. With
 * none named, an electronic item with storage takes the newest certificate
 * on file that vouches; none → refused. The certificate that passed goes
 * to ctx->certificate_id for the listing to record. */
static int gate_wipe_certificate(const listing_gate_ctx *ctx) {
  const items_row *it = ctx->item;
  const char *named = ctx->req->wipe_certificate_id;
  if (named && *named) {
    const char *why = NULL;
    int rv = certs_vouches(ctx->pg, named, it->id, &why);
    if (rv == REG_ENOTFOUND)
      return rpc_fail(&ctx->call->status, RPC_NOT_FOUND, "certificate %s not found", named);
    if (rv == REG_EPERM)
      return rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION,
                             "WIPE_CERTIFICATE_REQUIRED", "certificate %s %s", named, why);
    if (rv != 0) return rv;
    if (ctx->certificate_id) /* shorter than IDS_MAX: the rules checked it */
      snprintf(ctx->certificate_id, IDS_MAX, "%s", named);
    return 0;
  }
  if (it->kind != REGISTRY__V1__ITEM_KIND__ITEM_KIND_ELECTRONIC || it->storage_bytes <= 0)
    return 0;
  char found[IDS_MAX];
  int rv = certs_on_file(ctx->pg, it->id, found);
  if (rv == REG_ENOTFOUND)
    return rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION,
                           "WIPE_CERTIFICATE_REQUIRED",
                           "electronics with storage need a valid wipe certificate issued after "
                           "the item's most recent sale");
  if (rv != 0) return rv;
  if (ctx->certificate_id) memcpy(ctx->certificate_id, found, sizeof(found));
  return 0;
}

/* The seller is a credit subject on the serious-dishonesty list in force
 * (services/credit: matched by blind index or USCC). */
static int gate_seller_listed(const listing_gate_ctx *ctx) {
  const party_sealed *s = ctx->seller;
  int rv = credit_seller_listed(ctx->pg, s->kind, s->ref, s->ref_len, ctx->today);
  if (rv <= 0) return rv;
  return rpc_fail_reason(&ctx->call->status, RPC_FAILED_PRECONDITION, "SELLER_BLACKLISTED",
                         "the seller is on the serious-dishonesty list");
}

const listing_gate_fn listing_gates[] = {
    gate_scrapped,
    gate_stolen,
    gate_scrapping_age,
    gate_wipe_certificate,
    gate_seller_listed,
    NULL,
};
