/*
 * ListingService handlers (SPEC §4.2, §6): one thin function per method.
 * Each validates with the listing rules, then runs in one transaction —
 * write_run for mutations (request_id, events, history rows), read_run for
 * reads that must write the access log beside what they return — and maps
 * outcomes to gRPC statuses. Who may call which method is in
 * services/methods.c; ownership ("a platform sees its own") is here.
 *
 * Every call that changes an item's listings locks the item row first
 * (items_lock), then reads and changes listings: calls about one item take
 * turns and never deadlock. Design notes: services/listing/README.md.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/base/clock.h"
#include "services/core/access_log.h"
#include "services/core/app.h"
#include "services/core/auth.h"
#include "services/core/certs.h"
#include "services/core/events.h"
#include "services/core/ids.h"
#include "services/core/items.h"
#include "services/core/page.h"
#include "services/core/party.h"
#include "services/core/pbtime.h"
#include "services/core/rpcutil.h"
#include "services/core/write.h"
#include "services/listing/listing.h"
#include "services/listing/listing_rpc.h"
#include "services/listing/listing_store.h"

#define EV(x) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##x
#define LS(x) REGISTRY__V1__LISTING_STATUS__LISTING_STATUS_##x
#define HK(x) REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_##x
#define IS(x) REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_##x
#define IK(x) REGISTRY__V1__ITEM_KIND__ITEM_KIND_##x
#define ROLE(x) REGISTRY__V1__ROLE__ROLE_##x
#define PERSON_CASE REGISTRY__V1__PARTY__KIND_PERSON

/* ---- small helpers ---- */


static int bad(rpc_call *call, const listing_violation *v) {
  return rpc_fail_field(&call->status, v->field, "%s %s", v->field, v->message);
}



static int is_final(int s) { return s == LS(SOLD) || s == LS(WITHDRAWN) || s == LS(TAKEN_DOWN); }

/* Appends an event whose record is the packed message (as a non-inspector
 * sees it), naming the item and the listing. */
static int emit(rpc_call *call, pg_conn *pg, int type, const char *item_id,
                const char *listing_id, const ProtobufCMessage *record, char ev[IDS_MAX]) {
  size_t len = 0;
  uint8_t *buf = arena_pack(call->arena, record, &len);
  if (!buf) return REG_ENOMEM;
  event_refs refs = {.item_id = item_id, .listing_id = listing_id};
  return events_append(pg, type, core_org(call), &refs, buf, len, ev);
}

/* The event of a changed listing: its record is the listing as it is now,
 * seller masked. *out (may be NULL) gets that listing. */
static int emit_listing(rpc_call *call, pg_conn *pg, int type, const char *id, listing_rec *out,
                        char ev[IDS_MAX]) {
  listing_rec rec;
  int rv = listing_store_get(pg, core_ring(call), call->arena, id, 0, 0, &rec);
  if (rv == 0) rv = emit(call, pg, type, rec.msg->item_id, id, &rec.msg->base, ev);
  if (rv == 0 && out) *out = rec;
  return rv;
}

/* The access log row of a response that carries a person in clear (or a
 * search by their ID number, with its purpose). */
static int log_person(rpc_call *call, pg_conn *pg, const uint8_t ref[32], const char *purpose) {
  return access_log_write(pg, core_org(call), call->method->path, ref, NULL, purpose ? purpose : "");
}

/* One access-log row per distinct person in refs[0..n) (32-byte blind
 * indexes; NULL entries skipped). */
static int log_people(rpc_call *call, pg_conn *pg, const uint8_t *const *refs, size_t n,
                      const char *purpose) {
  for (size_t i = 0; i < n; i++) {
    if (!refs[i]) continue;
    int dup = 0;
    for (size_t j = 0; j < i && !dup; j++) dup = refs[j] && memcmp(refs[j], refs[i], 32) == 0;
    if (dup) continue;
    int rv = log_person(call, pg, refs[i], purpose);
    if (rv != 0) return rv;
  }
  return 0;
}

/* An item as the caller may see it: the owner in clear for an inspector,
 * which is access-logged in the same transaction. */
static int item_out(rpc_call *call, pg_conn *pg, const char *id, Registry__V1__Item **out) {
  Registry__V1__Item *item = NULL;
  int insp = core_is_inspector(call);
  int rv = items_get(pg, core_ring(call), call->arena, id, insp, &item);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "item", id);
  if (rv != 0) return rv;
  if (insp && item->owner && item->owner->kind_case == PERSON_CASE && item->owner->person) {
    uint8_t bi[32];
    rv = party_person_ref(core_ring(call), item->owner->person->id_number, bi);
    if (rv == 0) rv = log_person(call, pg, bi, "");
    if (rv != 0) return rv;
  }
  *out = item;
  return 0;
}

/* What write_run keeps for a replay must carry no person in clear: an
 * inspector's response does, so the recorded copy is the response with its
 * `field` (item, listing, appraisal) replaced by the masked resource. A
 * replay is not access-logged, and request_ids is not encrypted. */
static int replay_masked(rpc_call *call, const ProtobufCMessage *resp, const char *field,
                         const ProtobufCMessage *masked, ProtobufCMessage **stored) {
  const ProtobufCMessageDescriptor *d = resp->descriptor;
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, field);
  if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) return REG_EINVAL;
  ProtobufCMessage *copy = arena_alloc(call->arena, d->sizeof_message);
  if (!copy) return REG_ENOMEM;
  memcpy(copy, resp, d->sizeof_message);
  *(const ProtobufCMessage **)(void *)((char *)copy + f->offset) = masked;
  *stored = copy;
  return 0;
}

/* replay_masked for a response whose `item` an inspector saw in clear. */
static int replay_item(rpc_call *call, pg_conn *pg, const ProtobufCMessage *resp, const char *id,
                       ProtobufCMessage **stored) {
  if (!core_is_inspector(call)) return 0;
  Registry__V1__Item *m = NULL;
  int rv = items_get(pg, core_ring(call), call->arena, id, 0, &m);
  return rv ? rv : replay_masked(call, resp, "item", &m->base, stored);
}

/* A listing as the caller may see it (its own platform, or an inspector,
 * who sees the seller in clear — access-logged). */
static int listing_out(rpc_call *call, pg_conn *pg, const char *id, Registry__V1__Listing **out) {
  listing_rec rec;
  int insp = core_is_inspector(call);
  int rv = listing_store_get(pg, core_ring(call), call->arena, id, insp, 0, &rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "listing", id);
  if (rv != 0) return rv;
  if (!insp && strcmp(rec.msg->platform_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "listing %s belongs to another platform", id);
  if (insp && rec.seller_kind == PARTY_PERSON && (rv = log_person(call, pg, rec.seller_ref, "")))
    return rv;
  *out = rec.msg;
  return 0;
}

/* Warnings of a response, at most LISTING_WARNINGS_MAX. */
#define LISTING_WARNINGS_MAX 4
typedef struct warnings {
  Registry__V1__Warning **w;
  size_t n;
} warnings;

static int warn(arena *a, warnings *ws, const char *reason, const char *message) {
  if (!ws->w && !(ws->w = arena_calloc(a, LISTING_WARNINGS_MAX, sizeof(*ws->w)))) return REG_ENOMEM;
  if (ws->n == LISTING_WARNINGS_MAX) return 0;
  Registry__V1__Warning *x = arena_alloc(a, sizeof(*x));
  if (!x) return REG_ENOMEM;
  registry__v1__warning__init(x);
  x->reason = (char *)reason;
  x->message = (char *)message;
  ws->w[ws->n++] = x;
  return 0;
}

/* Locks a listing's item, then the listing: the lock order of every call
 * that changes listings. `owner_only`: another platform's listing is
 * refused before any lock is taken, so naming a competitor's listing cannot
 * make the writers of its item queue (a listing's platform never changes). */
static int lock_listing(rpc_call *call, pg_conn *pg, const char *listing_id, int owner_only,
                        items_row *item, listing_rec *rec) {
  char item_id[48], platform_id[48];
  int rv = listing_store_item_of(pg, listing_id, item_id, platform_id);
  if (rv == 0 && owner_only && strcmp(platform_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED, "listing %s belongs to another platform",
                    listing_id);
  if (rv == 0) rv = items_lock(pg, item_id, item);
  if (rv == 0) rv = listing_store_get(pg, core_ring(call), call->arena, listing_id, 0, 1, rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "listing", listing_id);
  return rv;
}


/* The platform a list is limited to: a platform's own (naming another →
 * PERMISSION_DENIED); an inspector's choice, or "" for all. */
static int list_platform(rpc_call *call, const char *requested, const char **out) {
  if (core_is_inspector(call)) {
    *out = core_given(requested) ? requested : "";
    return 0;
  }
  if (core_given(requested) && strcmp(requested, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "a platform lists only its own; platform_id is for inspectors");
  *out = core_org(call);
  return 0;
}

/* ---- RegisterItem ---- */

static int do_register_item(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                            ProtobufCMessage **stored) {
  Registry__V1__RegisterItemRequest *req = arg;
  items_row row;
  int created = 0, rolled = 0;
  int rv = items_register(pg, core_org(call), req, &row, &created, &rolled);
  if (rv != 0) return rv;
  Registry__V1__RegisterItemResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__register_item_response__init(r);
  if ((rv = item_out(call, pg, row.id, &r->item)) != 0) return rv;
  r->created = created;
  warnings ws = {0};
  if (rolled &&
      (rv = warn(call->arena, &ws, "ODOMETER_ROLLBACK_SUSPECTED",
                 "the mileage is below the highest reading on record; the item is branded")))
    return rv;
  r->warnings = ws.w;
  r->n_warnings = ws.n;
  if ((rv = replay_item(call, pg, &r->base, row.id, stored)) != 0) return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_register_item(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__RegisterItemRequest *req = (Registry__V1__RegisterItemRequest *)m;
  listing_violation v;
  if (listing_rules_check_register(req, clock_today_cst(), &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__register_item_response__descriptor,
                   do_register_item, req, resp);
}

/* ---- GetItem / GetItemHistory ---- */

static int do_get_item(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  Registry__V1__GetItemResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_item_response__init(r);
  int rv = item_out(call, pg, arg, &r->item);
  if (rv != 0) return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_get_item(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetItemRequest *req = (const void *)m;
  if (!core_given(req->item_id)) return rpc_fail_field(&call->status, "item_id", "item_id is required");
  return read_run(call, do_get_item, req->item_id, resp);
}

/* An item named by id, VIN or IMEI (one of them, checked): its id. */
typedef struct item_key {
  const char *item_id, *vin, *imei;
} item_key;

static int resolve_item(rpc_call *call, pg_conn *pg, const item_key *k, char id[48]) {
  if (core_given(k->item_id)) {
    snprintf(id, 48, "%s", k->item_id);
    return 0;
  }
  int rv = items_find(pg, k->vin, k->imei, id);
  if (rv == REG_ENOTFOUND)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "no item with %s %s", core_given(k->vin) ? "vin" : "imei",
                    core_given(k->vin) ? k->vin : k->imei);
  return rv;
}

static int do_item_history(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  char id[48];
  int rv = resolve_item(call, pg, arg, id);
  if (rv != 0) return rv;
  Registry__V1__GetItemHistoryResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_item_history_response__init(r);
  int trunc = 0;
  if ((rv = item_out(call, pg, id, &r->item)) != 0 ||
      (rv = listing_store_history(pg, call->arena, id, &r->entries, &r->n_entries, &trunc)) != 0)
    return rv;
  r->truncated = trunc;
  *resp = &r->base;
  return 0;
}

int listing_rpc_get_item_history(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__GetItemHistoryRequest *req = (Registry__V1__GetItemHistoryRequest *)m;
  item_key k = {
      req->key_case == REGISTRY__V1__GET_ITEM_HISTORY_REQUEST__KEY_ITEM_ID ? req->item_id : NULL,
      req->key_case == REGISTRY__V1__GET_ITEM_HISTORY_REQUEST__KEY_VIN ? req->vin : NULL,
      req->key_case == REGISTRY__V1__GET_ITEM_HISTORY_REQUEST__KEY_IMEI ? req->imei : NULL};
  listing_violation v;
  if (listing_rules_check_item_key(k.item_id, (char *)k.vin, (char *)k.imei, &v) != 0)
    return bad(call, &v);
  return read_run(call, do_item_history, &k, resp);
}

/* ---- CreateListing ---- */

/* The listing's warnings (SPEC §4.2, §6): odometer rollback, guided
 * scrapping, a seller other than the recorded owner. */
static int create_warnings(rpc_call *call, pg_conn *pg, items_row *item, const char *listing_id,
                           const Registry__V1__CreateListingRequest *req,
                           const party_sealed *seller, warnings *ws) {
  int rv = 0;
  int64_t highest = item->highest_mileage_km;
  if (item->kind == IK(VEHICLE) && req->mileage_km > 0) {
    int rolled = 0;
    rv = items_odometer(pg, item, core_org(call), req->mileage_km, listing_id, &rolled);
    if (rv != 0) return rv;
    if ((rolled || req->mileage_km < highest) &&
        (rv = warn(call->arena, ws, "ODOMETER_ROLLBACK_SUSPECTED",
                   "the mileage is below the highest reading on record; the item is branded")))
      return rv;
  }
  int64_t km = req->mileage_km > highest ? req->mileage_km : highest;
  if (item->kind == IK(VEHICLE) &&
      listing_rules_guided_scrapping(item->vehicle_type, item->use_nature, km,
                                     call_app(call)->cfg.guided_scrapping_km) &&
      (rv = warn(call->arena, ws, "GUIDED_SCRAPPING_MILEAGE",
                 "the vehicle has reached the guided-scrapping mileage")))
    return rv;
  if (item->owner_kind &&
      !party_same(item->owner_kind, item->owner_ref, item->owner_ref_len, seller->kind,
                  seller->ref, seller->ref_len) &&
      (rv = warn(call->arena, ws, "SELLER_NOT_RECORDED_OWNER",
                 "the seller is not the owner the registry recorded at the item's latest sale")))
    return rv;
  return 0;
}

static int do_create_listing(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                             ProtobufCMessage **stored) {
  (void)stored;
  Registry__V1__CreateListingRequest *req = arg;
  items_row item;
  int rv = items_lock(pg, req->item_id, &item);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "item", req->item_id);
  if (rv != 0) return rv;
  if (core_given(req->market_id)) {
    rv = listing_store_market_exists(pg, req->market_id);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "market", req->market_id);
    if (rv != 0) return rv;
  }
  if (core_given(req->appraisal_id)) {
    char of[48];
    rv = listing_store_appraisal_item(pg, req->appraisal_id, of);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "appraisal", req->appraisal_id);
    if (rv != 0) return rv;
    if (strcmp(of, item.id) != 0)
      return rpc_fail_field(&call->status, "appraisal_id",
                            "appraisal_id names an appraisal of another item");
  }
  char id[IDS_MAX];
  ids_new("lst", id, sizeof(id));
  party_sealed seller;
  if ((rv = party_seal(core_ring(call), call->arena, req->seller, "listings", "seller", id, &seller)))
    return rv;
  char cert[IDS_MAX] = "";
  listing_gate_ctx g = {call, pg, &item, req, &seller, listing_scrap(), clock_today_cst(), cert};
  for (size_t i = 0; listing_gates[i]; i++)
    if ((rv = listing_gates[i](&g)) != 0) return rv;

  int64_t at = pg_tx_time_us(pg);
  listing_new ln = {id, item.id, core_org(call), item.kind, &seller, req, at, cert[0] ? cert : NULL};
  listing_rec rec;
  rv = listing_store_insert(pg, core_ring(call), call->arena, &ln, &rec);
  if (rv == REG_EEXIST)
    return core_refuse(call, "ALREADY_LISTED",
                  "item %s already has an open listing (ACTIVE, RESERVED or SUSPENDED) on this platform",
                  item.id);
  char ev[IDS_MAX];
  if (rv || (rv = emit(call, pg, EV(LISTING_CREATED), item.id, id, &rec.msg->base, ev)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(LISTED), .organization_id = core_org(call),
                                     .listing_id = id, .price_fen = req->price_fen,
                                     .mileage_km = req->mileage_km, .detail = "ACTIVE",
                                     .event_id = ev})))
    return rv;
  warnings ws = {0};
  if ((rv = create_warnings(call, pg, &item, id, req, &seller, &ws))) return rv;

  Registry__V1__CreateListingResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__create_listing_response__init(r);
  r->listing = rec.msg;
  r->warnings = ws.w;
  r->n_warnings = ws.n;
  *resp = &r->base;
  return 0;
}

int listing_rpc_create_listing(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__CreateListingRequest *req = (Registry__V1__CreateListingRequest *)m;
  listing_violation v;
  if (listing_rules_check_create(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__create_listing_response__descriptor,
                   do_create_listing, req, resp);
}

/* ---- UpdateListing ---- */

static int do_update_listing(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                             ProtobufCMessage **stored) {
  (void)stored;
  const Registry__V1__UpdateListingRequest *req = arg;
  items_row item;
  listing_rec rec;
  int rv = lock_listing(call, pg, req->listing_id, 1, &item, &rec);
  if (rv != 0) return rv;
  if (strcmp(rec.msg->platform_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "listing %s belongs to another platform", req->listing_id);
  int from = (int)rec.msg->status;
  int to = req->status ? (int)req->status : from;
  listing_change c = {.price_fen = -1, .at_us = pg_tx_time_us(pg)};
  int change = 0;
  if (req->price_fen && req->price_fen->value != rec.msg->price_fen) {
    c.price_fen = req->price_fen->value;
    change = 1;
  }
  if (core_given(req->wipe_certificate_id) &&
      strcmp(req->wipe_certificate_id, rec.msg->wipe_certificate_id) != 0) {
    c.wipe_certificate_id = req->wipe_certificate_id;
    change = 1;
  }
  if (to != from) {
    if (listing_rules_transition(from, to, LISTING_BY_PLATFORM) != 0)
      return core_refuse(call, "INVALID_STATUS_TRANSITION", "a platform cannot move a listing from %s to %s",
                    items_listing_status_name(from), items_listing_status_name(to));
    int susp = rec.suspended_for;
    if (to == LS(ACTIVE) && item.status == IS(SCRAPPED))
      return core_refuse(call, "ITEM_SCRAPPED", "item %s is scrapped", item.id);
    if (from == LS(SUSPENDED) && to == LS(ACTIVE)) {
      if (item.status == IS(STOLEN))
        return core_refuse(call, "ITEM_STOLEN", "item %s is still reported stolen", item.id);
      /* a revoked certificate blocks until a new one is named (which must
       * vouch for the item: checked below) */
      if ((susp & ITEMS_SUSPENDED_CERTIFICATE) && !c.wipe_certificate_id)
        return core_refuse(call, "WIPE_CERTIFICATE_REQUIRED",
                      "the listing's wipe certificate was revoked; name a new one in wipe_certificate_id");
      susp = 0;
    }
    if (is_final(to)) susp = 0;
    c.status = to;
    c.status_detail = "";
    c.suspended_for = susp;
    change = 1;
  } else if (change && is_final(from)) {
    return core_refuse(call, "LISTING_CLOSED", "listing %s is %s and cannot change", req->listing_id,
                  items_listing_status_name(from));
  }
  if (c.wipe_certificate_id) {
    /* a newly named certificate must vouch for the item (services/core/
     * certs.h), as at CreateListing */
    const char *why = NULL;
    rv = certs_vouches(pg, c.wipe_certificate_id, item.id, &why);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "certificate", c.wipe_certificate_id);
    if (rv == REG_EPERM)
      return core_refuse(call, "WIPE_CERTIFICATE_REQUIRED", "certificate %s %s",
                    c.wipe_certificate_id, why);
    if (rv != 0) return rv;
  }

  Registry__V1__UpdateListingResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__update_listing_response__init(r);
  if (!change) { /* nothing to do: the listing as it is, nothing logged */
    r->listing = rec.msg;
    *resp = &r->base;
    return 0;
  }
  char ev[IDS_MAX];
  listing_rec now;
  if ((rv = listing_store_update(pg, req->listing_id, &c)) ||
      (rv = emit_listing(call, pg, EV(LISTING_UPDATED), req->listing_id, &now, ev)))
    return rv;
  if (to != from) {
    char *detail = arena_printf(call->arena, "%s -> %s", items_listing_status_name(from),
                                items_listing_status_name(to));
    if (!detail) return REG_ENOMEM;
    rv = items_history_add(pg, item.id,
                 &(items_history){.kind = HK(LISTING_STATUS_CHANGED), .organization_id = core_org(call),
                                  .listing_id = req->listing_id, .price_fen = now.msg->price_fen,
                                  .detail = detail, .event_id = ev});
    if (rv != 0) return rv;
  }
  r->listing = now.msg;
  *resp = &r->base;
  return 0;
}

int listing_rpc_update_listing(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__UpdateListingRequest *req = (const void *)m;
  listing_violation v;
  if (listing_rules_check_update(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__update_listing_response__descriptor,
                   do_update_listing, (void *)req, resp);
}

/* ---- RecordSale ---- */

typedef struct sale_arg {
  Registry__V1__RecordSaleRequest *req;
  clock_day sold_on;
} sale_arg;

/* Anti-flipping (SPEC §6, DOMAIN §2): *counts when a natural person
 * resells a vehicle the registry recorded them buying less than a year
 * before; -1 with the status set when it would be their third such sale
 * in sold_on's calendar year. */
static int flip_check(rpc_call *call, pg_conn *pg, const items_row *item, const listing_rec *l,
                      clock_day sold_on, int *counts) {
  *counts = 0;
  if (item->kind != IK(VEHICLE) || l->seller_kind != PARTY_PERSON || l->seller_ref_len != 32)
    return 0;
  clock_day bought;
  int rv = listing_store_last_purchase(pg, item->id, l->seller_ref, &bought);
  if (rv == REG_ENOTFOUND) return 0;
  if (rv != 0) return rv;
  if (!listing_rules_is_flip(bought, sold_on)) return 0;
  int y, mo, d, n = 0;
  clock_day_to_ymd(sold_on, &y, &mo, &d);
  if ((rv = listing_store_flips_in_year(pg, l->seller_ref, y, &n)) != 0) return rv;
  if (listing_rules_flip_refused(n)) {
    core_refuse(call, "SELLER_FLIPPING_LIMIT",
           "the seller already resold %d vehicles in %d within a year of buying them", n, y);
    char s[16];
    snprintf(s, sizeof(s), "%d", n);
    rpc_status_add_meta(&call->status, "flips_this_year", s);
    snprintf(s, sizeof(s), "%d", LISTING_FLIP_LIMIT);
    rpc_status_add_meta(&call->status, "limit", s);
    return -1;
  }
  *counts = 1;
  return 0;
}

/* Every other open listing of the item becomes WITHDRAWN (SOLD_ELSEWHERE);
 * their platforms see the events in WatchEvents. */
static int withdraw_others(rpc_call *call, pg_conn *pg, const char *item_id, const char *sold_id,
                           int64_t at) {
  char **ids = NULL;
  int *from = NULL;
  size_t n = 0;
  int rv = listing_store_withdraw_others(pg, call->arena, item_id, sold_id, at, &ids, &from, &n);
  for (size_t i = 0; rv == 0 && i < n; i++) {
    char ev[IDS_MAX];
    listing_rec rec;
    rv = emit_listing(call, pg, EV(LISTING_UPDATED), ids[i], &rec, ev);
    if (rv == 0)
      rv = items_history_add(pg, item_id,
                   &(items_history){.kind = HK(LISTING_STATUS_CHANGED),
                                    .organization_id = core_org(call), .listing_id = ids[i],
                                    .price_fen = rec.msg->price_fen, .detail = "SOLD_ELSEWHERE",
                                    .event_id = ev});
  }
  return rv;
}

static int do_record_sale(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                          ProtobufCMessage **stored) {
  (void)stored;
  sale_arg *s = arg;
  const Registry__V1__RecordSaleRequest *req = s->req;
  items_row item;
  listing_rec l;
  int rv = lock_listing(call, pg, req->listing_id, 1, &item, &l);
  if (rv != 0) return rv;
  if (strcmp(l.msg->platform_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "listing %s belongs to another platform", req->listing_id);
  if (item.status == IS(SCRAPPED))
    return core_refuse(call, "ITEM_SCRAPPED", "item %s is scrapped and cannot be sold", item.id);
  if (item.status == IS(STOLEN))
    return core_refuse(call, "ITEM_STOLEN", "item %s is reported stolen and cannot be sold", item.id);
  int from = (int)l.msg->status;
  if (listing_rules_transition(from, LS(SOLD), LISTING_BY_SALE) != 0)
    return core_refuse(call, "INVALID_STATUS_TRANSITION", "a %s listing cannot be sold",
                  items_listing_status_name(from));
  /* sales of one item are recorded in the order they happened: a sold_on
   * before the item's previous sale would rewrite its chain of owners (and
   * could move a resale out of the anti-flipping year) */
  clock_day prev = 0;
  rv = listing_store_last_sale_day(pg, item.id, &prev);
  if (rv != 0 && rv != REG_ENOTFOUND) return rv;
  if (rv == 0 && s->sold_on < prev) {
    char d[11];
    clock_day_format(prev, d);
    return rpc_fail_field(&call->status, "sold_on",
                          "sold_on is before the item's previous sale, on %s", d);
  }
  int counts = 0;
  if ((rv = flip_check(call, pg, &item, &l, s->sold_on, &counts)) != 0) return rv;

  /* the seller as the listing recorded them, sealed again for the sale
   * row; the buyer for the sale row and as the item's new owner */
  char id[IDS_MAX];
  ids_new("sal", id, sizeof(id));
  Registry__V1__Party *seller = NULL;
  party_sealed seller_s, buyer_s, owner_s;
  if ((rv = party_open_ref(core_ring(call), call->arena, l.seller_kind, l.seller_ref, l.seller_ref_len,
                           l.seller_enc, l.seller_enc_len, "listings", "seller", req->listing_id, 1,
                           &seller)) ||
      (rv = party_seal(core_ring(call), call->arena, seller, "sales", "seller", id, &seller_s)) ||
      (rv = party_seal(core_ring(call), call->arena, req->buyer, "sales", "buyer", id, &buyer_s)) ||
      (rv = party_seal(core_ring(call), call->arena, req->buyer, "items", "owner", item.id, &owner_s)))
    return rv;

  int64_t at = pg_tx_time_us(pg);
  sale_new sn = {id, req->listing_id, item.id, core_org(call), item.kind, &seller_s, &buyer_s,
                 req->price_fen, s->sold_on, counts, at};
  listing_change c = {.price_fen = -1, .status = LS(SOLD), .status_detail = "", .at_us = at};
  sale_rec sale;
  char ev_sale[IDS_MAX], ev_listing[IDS_MAX];
  char *detail = arena_printf(call->arena, "%s -> SOLD", items_listing_status_name(from));
  if (!detail) return REG_ENOMEM;
  if ((rv = listing_store_sale_insert(pg, &sn)) ||
      (rv = listing_store_sale_get(pg, core_ring(call), call->arena, id, 0, &sale)) ||
      (rv = emit(call, pg, EV(SALE_RECORDED), item.id, req->listing_id, &sale.msg->base, ev_sale)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(SOLD), .organization_id = core_org(call),
                                     .listing_id = req->listing_id, .sale_id = id,
                                     .price_fen = req->price_fen, .detail = detail,
                                     .event_id = ev_sale})) ||
      (rv = listing_store_update(pg, req->listing_id, &c)) ||
      (rv = emit_listing(call, pg, EV(LISTING_UPDATED), req->listing_id, NULL, ev_listing)) ||
      (rv = listing_store_set_owner(pg, item.id, &owner_s, at)) ||
      (rv = withdraw_others(call, pg, item.id, req->listing_id, at)))
    return rv;

  return core_respond(call, &registry__v1__record_sale_response__descriptor, "sale", sale.msg,
                      resp);
}

int listing_rpc_record_sale(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  sale_arg s = {.req = (Registry__V1__RecordSaleRequest *)m};
  listing_violation v;
  if (listing_rules_check_sale(s.req, clock_today_cst(), &s.sold_on, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__record_sale_response__descriptor,
                   do_record_sale, &s, resp);
}

/* ---- GetListing / ListListings / ListSales ---- */

static int do_get_listing(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  Registry__V1__GetListingResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_listing_response__init(r);
  int rv = listing_out(call, pg, arg, &r->listing);
  if (rv != 0) return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_get_listing(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetListingRequest *req = (const void *)m;
  if (!core_given(req->listing_id))
    return rpc_fail_field(&call->status, "listing_id", "listing_id is required");
  return read_run(call, do_get_listing, req->listing_id, resp);
}

/* A search by a person's ID number, its blind index (and hex, bound into
 * the page token instead of the number itself). */
typedef struct person_key {
  int set;
  uint8_t ref[32];
  char hex[65];
} person_key;

static int person_key_of(rpc_call *call, const char *id_number, person_key *k) {
  memset(k, 0, sizeof(*k));
  if (!core_given(id_number)) return 0;
  int rv = party_person_ref(core_ring(call), id_number, k->ref);
  if (rv != 0) return core_fail_err(call, rv);
  sodium_bin2hex(k->hex, sizeof(k->hex), k->ref, sizeof(k->ref));
  k->set = 1;
  return 0;
}

typedef struct list_listings_arg {
  listing_filter f;
  person_key seller;
  const char *purpose;
  page_req page;
} list_listings_arg;

static int do_list_listings(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_listings_arg *c = arg;
  int insp = core_is_inspector(call);
  c->f.cursor = c->page.cursor;
  listing_rec *recs = NULL;
  size_t n = 0;
  int more = 0;
  int rv = listing_store_list(pg, core_ring(call), call->arena, &c->f, insp, c->page.size, &recs, &n,
                              &more);
  if (rv == REG_EINVAL) return core_bad_page_token(call);
  if (rv != 0) return rv;
  /* the access log: the search by ID number (with its purpose), and every
   * person an inspector now sees in clear */
  if (c->seller.set && (rv = log_person(call, pg, c->seller.ref, c->purpose))) return rv;
  if (insp) {
    const uint8_t **refs = arena_calloc(call->arena, n + 1, sizeof(*refs));
    if (!refs) return REG_ENOMEM;
    for (size_t i = 0; i < n; i++)
      if (recs[i].seller_kind == PARTY_PERSON &&
          !(c->seller.set && memcmp(recs[i].seller_ref, c->seller.ref, 32) == 0))
        refs[i] = recs[i].seller_ref;
    if ((rv = log_people(call, pg, refs, n, c->purpose))) return rv;
  }
  Registry__V1__ListListingsResponse *r = arena_alloc(call->arena, sizeof(*r));
  Registry__V1__Listing **ls = arena_calloc(call->arena, n + 1, sizeof(*ls));
  if (!r || !ls) return REG_ENOMEM;
  registry__v1__list_listings_response__init(r);
  for (size_t i = 0; i < n; i++) ls[i] = recs[i].msg;
  r->listings = ls;
  r->n_listings = n;
  if (more && n &&
      (rv = core_next_page_token(call, &c->page, pbtime_us(ls[n - 1]->created_at), ls[n - 1]->id,
                                 &r->next_page_token)) != 0)
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_list_listings(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__ListListingsRequest *req = (Registry__V1__ListListingsRequest *)m;
  listing_violation v;
  if (listing_rules_check_list_listings(req, &v) != 0) return bad(call, &v);
  list_listings_arg c;
  memset(&c, 0, sizeof(c));
  const char *platform = NULL;
  if (list_platform(call, req->platform_id, &platform) != 0) return -1;
  if (person_key_of(call, req->seller_id_number, &c.seller) != 0) return -1;
  c.f.status = (int)req->status;
  c.f.kind = (int)req->kind;
  c.f.platform_id = platform;
  c.f.market_id = req->market_id;
  c.f.item_id = req->item_id;
  if (c.seller.set) {
    c.f.seller_kind = PARTY_PERSON;
    c.f.seller_ref = c.seller.ref;
    c.f.seller_ref_len = 32;
  } else if (core_given(req->seller_uscc)) {
    c.f.seller_kind = PARTY_BUSINESS;
    c.f.seller_ref = (const uint8_t *)req->seller_uscc;
    c.f.seller_ref_len = strlen(req->seller_uscc);
  }
  c.purpose = req->purpose;
  char status[12], kind[12];
  snprintf(status, sizeof(status), "%d", c.f.status);
  snprintf(kind, sizeof(kind), "%d", c.f.kind);
  const char *filters[] = {call->method->path, status, kind, c.seller.hex,
                           core_given(req->seller_uscc) ? req->seller_uscc : "",
                           req->market_id ? req->market_id : "", req->item_id ? req->item_id : "",
                           *platform ? platform : "*"};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 8, &c.page) != 0) return -1;
  return read_run(call, do_list_listings, &c, resp);
}

typedef struct list_sales_arg {
  sale_filter f;
  person_key seller, buyer;
  const char *purpose;
  page_req page;
} list_sales_arg;

static int do_list_sales(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_sales_arg *c = arg;
  int insp = core_is_inspector(call);
  c->f.cursor = c->page.cursor;
  sale_rec *recs = NULL;
  size_t n = 0;
  int more = 0;
  int rv = listing_store_sale_list(pg, core_ring(call), call->arena, &c->f, insp, c->page.size, &recs,
                                   &n, &more);
  if (rv == REG_EINVAL) return core_bad_page_token(call);
  if (rv != 0) return rv;
  const person_key *searched = c->seller.set ? &c->seller : c->buyer.set ? &c->buyer : NULL;
  if (searched && (rv = log_person(call, pg, searched->ref, c->purpose))) return rv;
  if (insp) {
    const uint8_t **refs = arena_calloc(call->arena, 2 * n + 1, sizeof(*refs));
    if (!refs) return REG_ENOMEM;
    for (size_t i = 0; i < n; i++) {
      if (recs[i].seller_kind == PARTY_PERSON &&
          !(searched && memcmp(recs[i].seller_ref, searched->ref, 32) == 0))
        refs[2 * i] = recs[i].seller_ref;
      if (recs[i].buyer_kind == PARTY_PERSON &&
          !(searched && memcmp(recs[i].buyer_ref, searched->ref, 32) == 0))
        refs[2 * i + 1] = recs[i].buyer_ref;
    }
    if ((rv = log_people(call, pg, refs, 2 * n, c->purpose))) return rv;
  }
  Registry__V1__ListSalesResponse *r = arena_alloc(call->arena, sizeof(*r));
  Registry__V1__Sale **ss = arena_calloc(call->arena, n + 1, sizeof(*ss));
  if (!r || !ss) return REG_ENOMEM;
  registry__v1__list_sales_response__init(r);
  for (size_t i = 0; i < n; i++) ss[i] = recs[i].msg;
  r->sales = ss;
  r->n_sales = n;
  if (more && n &&
      (rv = core_next_page_token(call, &c->page, pbtime_us(ss[n - 1]->created_at), ss[n - 1]->id,
                                 &r->next_page_token)) != 0)
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_list_sales(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__ListSalesRequest *req = (Registry__V1__ListSalesRequest *)m;
  list_sales_arg c;
  memset(&c, 0, sizeof(c));
  listing_violation v;
  if (listing_rules_check_list_sales(req, &c.f.from, &c.f.to, &v) != 0) return bad(call, &v);
  const char *platform = NULL;
  if (list_platform(call, req->platform_id, &platform) != 0) return -1;
  if (person_key_of(call, req->seller_id_number, &c.seller) != 0 ||
      person_key_of(call, req->buyer_id_number, &c.buyer) != 0)
    return -1;
  c.f.item_id = req->item_id;
  c.f.platform_id = platform;
  c.f.seller_ref = c.seller.set ? c.seller.ref : NULL;
  c.f.buyer_ref = c.buyer.set ? c.buyer.ref : NULL;
  c.purpose = req->purpose;
  char from[11], to[11];
  clock_day_format(c.f.from, from);
  clock_day_format(c.f.to, to);
  const char *filters[] = {call->method->path, req->item_id ? req->item_id : "", c.seller.hex,
                           c.buyer.hex, *platform ? platform : "*", from, to};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 7, &c.page) != 0) return -1;
  return read_run(call, do_list_sales, &c, resp);
}

/* ---- AttachAppraisal ---- */

static int do_attach_appraisal(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                               ProtobufCMessage **stored) {
  const Registry__V1__AttachAppraisalRequest *req = arg;
  int rv = auth_require_qualification(
      call, pg, REGISTRY__V1__QUALIFICATION_KIND__QUALIFICATION_KIND_APPRAISAL, clock_today_cst());
  if (rv != 0) return rv;
  items_row item;
  rv = items_lock(pg, req->item_id, &item);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "item", req->item_id);
  if (rv != 0) return rv;
  if (core_given(req->listing_id)) {
    char of[48], platform[48];
    rv = listing_store_item_of(pg, req->listing_id, of, platform);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "listing", req->listing_id);
    if (rv != 0) return rv;
    if (strcmp(of, item.id) != 0)
      return rpc_fail_field(&call->status, "listing_id", "listing_id names a listing of another item");
  }
  char id[IDS_MAX], ev[IDS_MAX];
  ids_new("apr", id, sizeof(id));
  party_sealed appraiser;
  if ((rv = party_seal_person(core_ring(call), call->arena, req->appraiser, "appraisals", "appraiser",
                              id, &appraiser)))
    return rv;
  appraisal_new an = {id, item.id, req->listing_id, core_org(call), &appraiser, req, pg_tx_time_us(pg)};
  Registry__V1__Appraisal *masked = NULL, *out = NULL;
  uint8_t ref[32];
  int insp = core_is_inspector(call);
  if ((rv = listing_store_appraisal_insert(pg, &an)) ||
      (rv = listing_store_appraisal_get(pg, core_ring(call), call->arena, id, 0, &masked, ref)) ||
      (rv = emit(call, pg, EV(APPRAISAL_ATTACHED), item.id, req->listing_id, &masked->base, ev)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(APPRAISED), .organization_id = core_org(call),
                                     .listing_id = req->listing_id, .appraisal_id = id,
                                     .price_fen = req->appraised_value_fen,
                                     .detail = req->condition_grade, .event_id = ev})))
    return rv;
  out = masked;
  if (insp && ((rv = listing_store_appraisal_get(pg, core_ring(call), call->arena, id, 1, &out, ref)) ||
               (rv = log_person(call, pg, ref, ""))))
    return rv;
  Registry__V1__AttachAppraisalResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__attach_appraisal_response__init(r);
  r->appraisal = out;
  if (insp && (rv = replay_masked(call, &r->base, "appraisal", &masked->base, stored))) return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_attach_appraisal(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__AttachAppraisalRequest *req = (Registry__V1__AttachAppraisalRequest *)m;
  listing_violation v;
  if (listing_rules_check_appraisal(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__attach_appraisal_response__descriptor,
                   do_attach_appraisal, req, resp);
}

/* ---- ReportStolen / ClearStolen ---- */

typedef struct stolen_arg {
  item_key key;
  const char *report_ref, *reporter, *reason;
} stolen_arg;

/* Resolves and locks the item of a stolen report. */
static int lock_keyed_item(rpc_call *call, pg_conn *pg, const item_key *k, items_row *item) {
  char id[48];
  int rv = resolve_item(call, pg, k, id);
  if (rv != 0) return rv;
  rv = items_lock(pg, id, item);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "item", id);
  return rv;
}

static int do_report_stolen(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                            ProtobufCMessage **stored) {
  const stolen_arg *s = arg;
  items_row item;
  int rv = lock_keyed_item(call, pg, &s->key, &item);
  if (rv != 0) return rv;
  if (item.status == IS(STOLEN))
    return core_refuse(call, "ALREADY_REPORTED", "item %s is already reported stolen", item.id);
  if (item.status == IS(SCRAPPED))
    return core_refuse(call, "ITEM_SCRAPPED", "item %s is scrapped", item.id);
  rv = listing_store_stolen_insert(pg, item.id, s->report_ref, s->reporter, core_org(call),
                                   pg_tx_time_us(pg));
  if (rv == REG_EEXIST)
    return core_refuse(call, "ALREADY_REPORTED", "item %s is already reported stolen", item.id);
  char ev[IDS_MAX];
  Registry__V1__ReportStolenResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__report_stolen_response__init(r);
  if (rv || (rv = items_set_status(pg, &item, IS(STOLEN))) ||
      (rv = items_event(pg, core_ring(call), call->arena, EV(STOLEN_REPORTED), core_org(call), item.id, ev)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(STOLEN_REPORTED), .organization_id = core_org(call),
                                     .detail = s->report_ref, .event_id = ev})) ||
      (rv = items_suspend_listings(pg, call->arena, &item, core_org(call), ITEMS_SUSPENDED_STOLEN, NULL,
                                   &r->suspended_listing_ids, &r->n_suspended_listing_ids)) ||
      (rv = item_out(call, pg, item.id, &r->item)) ||
      (rv = replay_item(call, pg, &r->base, item.id, stored)))
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_report_stolen(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__ReportStolenRequest *req = (Registry__V1__ReportStolenRequest *)m;
  listing_violation v;
  if (listing_rules_check_report_stolen(req, &v) != 0) return bad(call, &v);
  stolen_arg s = {
      {req->key_case == REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_ITEM_ID ? req->item_id : NULL,
       req->key_case == REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_VIN ? req->vin : NULL,
       req->key_case == REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_IMEI ? req->imei : NULL},
      req->report_ref, req->reporter, NULL};
  return write_run(call, m, &registry__v1__report_stolen_response__descriptor,
                   do_report_stolen, &s, resp);
}

static int do_clear_stolen(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                           ProtobufCMessage **stored) {
  const stolen_arg *s = arg;
  items_row item;
  int rv = lock_keyed_item(call, pg, &s->key, &item);
  if (rv != 0) return rv;
  char *ref = NULL;
  rv = item.status == IS(STOLEN)
           ? listing_store_stolen_clear(pg, call->arena, item.id, s->report_ref, s->reason,
                                        core_org(call), pg_tx_time_us(pg), &ref)
           : REG_ENOTFOUND;
  if (rv == REG_ENOTFOUND)
    return core_refuse(call, "NOT_REPORTED_STOLEN", "item %s is not reported stolen", item.id);
  if (rv == REG_EPERM)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "item %s has no open stolen report %s", item.id,
                    s->report_ref);
  char ev[IDS_MAX];
  Registry__V1__ClearStolenResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__clear_stolen_response__init(r);
  if (rv || (rv = items_set_status(pg, &item, IS(ACTIVE))) ||
      (rv = items_event(pg, core_ring(call), call->arena, EV(STOLEN_CLEARED), core_org(call), item.id, ev)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(STOLEN_CLEARED), .organization_id = core_org(call),
                                     .detail = ref, .event_id = ev})) ||
      (rv = items_release_listings(pg, call->arena, &item, core_org(call), ITEMS_SUSPENDED_STOLEN,
                                   &r->reactivated_listing_ids, &r->n_reactivated_listing_ids)) ||
      (rv = item_out(call, pg, item.id, &r->item)) ||
      (rv = replay_item(call, pg, &r->base, item.id, stored)))
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_clear_stolen(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__ClearStolenRequest *req = (Registry__V1__ClearStolenRequest *)m;
  listing_violation v;
  if (listing_rules_check_clear_stolen(req, &v) != 0) return bad(call, &v);
  stolen_arg s = {
      {req->key_case == REGISTRY__V1__CLEAR_STOLEN_REQUEST__KEY_ITEM_ID ? req->item_id : NULL,
       req->key_case == REGISTRY__V1__CLEAR_STOLEN_REQUEST__KEY_VIN ? req->vin : NULL,
       req->key_case == REGISTRY__V1__CLEAR_STOLEN_REQUEST__KEY_IMEI ? req->imei : NULL},
      req->report_ref, NULL, req->reason};
  return write_run(call, m, &registry__v1__clear_stolen_response__descriptor,
                   do_clear_stolen, &s, resp);
}

/* ---- ClearBrand ---- */

static int do_clear_brand(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                          ProtobufCMessage **stored) {
  const Registry__V1__ClearBrandRequest *req = arg;
  items_row item;
  int rv = items_lock(pg, req->item_id, &item);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "item", req->item_id);
  if (rv != 0) return rv;
  rv = items_clear_brand(pg, &item, core_org(call), (int)req->brand, req->reason, req->decision_ref);
  if (rv == REG_ENOTFOUND) return core_refuse(call, "BRAND_NOT_SET", "item %s does not carry that brand", item.id);
  Registry__V1__ClearBrandResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__clear_brand_response__init(r);
  if (rv || (rv = item_out(call, pg, item.id, &r->item)) ||
      (rv = replay_item(call, pg, &r->base, item.id, stored)))
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_clear_brand(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ClearBrandRequest *req = (const void *)m;
  listing_violation v;
  if (listing_rules_check_clear_brand(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__clear_brand_response__descriptor,
                   do_clear_brand, (void *)req, resp);
}

/* ---- TakeDownListing ---- */

static int do_take_down(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                        ProtobufCMessage **stored) {
  const Registry__V1__TakeDownListingRequest *req = arg;
  items_row item;
  listing_rec l;
  int rv = lock_listing(call, pg, req->listing_id, 0, &item, &l);
  if (rv != 0) return rv;
  int from = (int)l.msg->status;
  if (listing_rules_transition(from, LS(TAKEN_DOWN), LISTING_BY_INSPECTOR) != 0)
    return core_refuse(call, "INVALID_STATUS_TRANSITION", "a %s listing cannot be taken down",
                  items_listing_status_name(from));
  listing_change c = {.price_fen = -1, .status = LS(TAKEN_DOWN), .status_detail = req->reason,
                      .at_us = pg_tx_time_us(pg)};
  char ev[IDS_MAX];
  Registry__V1__TakeDownListingResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__take_down_listing_response__init(r);
  if ((rv = listing_store_update(pg, req->listing_id, &c)) ||
      (rv = emit_listing(call, pg, EV(LISTING_TAKEN_DOWN), req->listing_id, NULL, ev)) ||
      (rv = items_history_add(pg, item.id,
                    &(items_history){.kind = HK(TAKEN_DOWN), .organization_id = core_org(call),
                                     .listing_id = req->listing_id, .price_fen = l.msg->price_fen,
                                     .detail = req->reason, .event_id = ev})) ||
      (rv = listing_out(call, pg, req->listing_id, &r->listing)))
    return rv;
  listing_rec masked;
  if ((rv = listing_store_get(pg, core_ring(call), call->arena, req->listing_id, 0, 0, &masked)) ||
      (rv = replay_masked(call, &r->base, "listing", &masked.msg->base, stored)))
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_take_down_listing(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__TakeDownListingRequest *req = (const void *)m;
  listing_violation v;
  if (listing_rules_check_take_down(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__take_down_listing_response__descriptor,
                   do_take_down, (void *)req, resp);
}

/* ---- RegisterMarket ---- */

static int do_register_market(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                              ProtobufCMessage **stored) {
  (void)stored;
  const Registry__V1__RegisterMarketRequest *req = arg;
  char id[IDS_MAX];
  ids_new("mkt", id, sizeof(id));
  Registry__V1__RegisterMarketResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__register_market_response__init(r);
  int rv = listing_store_market_insert(pg, call->arena, id, req, core_org(call), pg_tx_time_us(pg),
                                       &r->market);
  if (rv || (rv = emit(call, pg, EV(MARKET_REGISTERED), NULL, NULL, &r->market->base, NULL)))
    return rv;
  *resp = &r->base;
  return 0;
}

int listing_rpc_register_market(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__RegisterMarketRequest *req = (Registry__V1__RegisterMarketRequest *)m;
  listing_violation v;
  if (listing_rules_check_market(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__register_market_response__descriptor,
                   do_register_market, req, resp);
}
