/*
 * WipeService handlers (SPEC §4.3, DOMAIN §3): one function per method.
 * SubmitWipe and RevokeCertificate run in write_run (request_id, events,
 * history rows, one transaction); the reads in read_run. Who may call
 * which method is in services/methods.c; "the issuer or an inspector" is
 * checked here. Decisions: services/wipe/README.md.
 *
 * Lock order, as everywhere (services/core/items.h): the item row before
 * its listings.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto/pii.h"
#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/base/clock.h"
#include "services/core/app.h"
#include "services/core/auth.h"
#include "services/core/certs.h"
#include "services/core/events.h"
#include "services/core/ids.h"
#include "services/core/items.h"
#include "services/core/keystore.h"
#include "services/core/mask.h"
#include "services/core/page.h"
#include "services/core/pbtime.h"
#include "services/core/rpcutil.h"
#include "services/core/text.h"
#include "services/core/write.h"
#include "services/wipe/wipe.h"
#include "services/wipe/wipe_rpc.h"

#define EV(x) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##x
#define HK(x) REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_##x
#define IK(x) REGISTRY__V1__ITEM_KIND__ITEM_KIND_##x
#define ROLE(x) REGISTRY__V1__ROLE__ROLE_##x

/* Blind-index domain of wipe operators (README "The operator"). */
#define WIPE_OPERATOR_DOMAIN "wipe_operator"
#define WIPE_REASON_MAX 200 /* characters of a revocation reason */




/* ---- SubmitWipe ---- */

/* The sum of the media capacities, saturating: the storage of a device the
 * wipe registers. */
static int64_t storage_of(const Registry__V1__SubmitWipeRequest *req) {
  int64_t sum = 0;
  for (size_t i = 0; i < req->n_media; i++) {
    int64_t c = req->media[i]->capacity_bytes;
    sum = c > INT64_MAX - sum ? INT64_MAX : sum + c;
  }
  return sum;
}

/* The wiped device as a locked item: the one device.item_id names, or the
 * identifiers registered (or found) by the listing service's rule. */
static int device_item(rpc_call *call, pg_conn *pg, const Registry__V1__SubmitWipeRequest *req,
                       items_row *item) {
  const Registry__V1__Device *d = req->device;
  int rv;
  if (core_given(d->item_id)) {
    rv = items_lock(pg, d->item_id, item);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "item", d->item_id);
    if (rv != 0) return rv;
    if (item->kind != IK(ELECTRONIC))
      return rpc_fail_field(&call->status, "device.item_id",
                            "device.item_id names an item that is not an electronic device");
    return 0;
  }
  Registry__V1__Electronic e;
  registry__v1__electronic__init(&e);
  e.category = d->category;
  e.brand = d->brand;
  e.model = d->model;
  e.imei = d->imei;
  e.serial_no = d->serial_no;
  e.storage_bytes = storage_of(req);
  Registry__V1__RegisterItemRequest r;
  registry__v1__register_item_request__init(&r);
  r.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC;
  r.electronic = &e;
  rv = items_register(pg, core_org(call), &r, item, NULL, NULL);
  if (rv == REG_EINVAL) /* the identifiers belong to an item of another kind */
    return rpc_fail_field(&call->status, "device",
                          "the device's identifiers name an item that is not an electronic device");
  return rv;
}

/* The operator at rest: the name sealed for this record, and its ref. */
typedef struct operator_sealed {
  uint8_t ref[32];
  uint8_t *enc;
  size_t enc_len;
} operator_sealed;

static int seal_operator(rpc_call *call, const char *record_id, const char *name,
                         operator_sealed *out) {
  char *key = arena_printf(call->arena, "%s\n%s", core_org(call), name);
  char ad[96];
  snprintf(ad, sizeof(ad), "wipe_records/operator/%s", record_id);
  size_t len = strlen(name);
  out->enc = arena_alloc(call->arena, len + PII_OVERHEAD);
  if (!key || !out->enc) return REG_ENOMEM;
  int rv = pii_blind_index(core_ring(call), WIPE_OPERATOR_DOMAIN, key, out->ref);
  sodium_memzero(key, strlen(key));
  if (rv != 0) return rv;
  return pii_encrypt(core_ring(call), ad, (const uint8_t *)name, len, out->enc, len + PII_OVERHEAD,
                     &out->enc_len);
}

/* The device as the certificate names it: the item's identifiers as
 * registered, whichever way the submission named it. */
static int body_device(rpc_call *call, pg_conn *pg, const char *item_id,
                       Registry__V1__Device **out) {
  Registry__V1__Item *it = NULL;
  int rv = items_get(pg, core_ring(call), call->arena, item_id, 0, &it);
  if (rv != 0) return rv;
  Registry__V1__Device *d = arena_alloc(call->arena, sizeof(*d));
  if (!d) return REG_ENOMEM;
  registry__v1__device__init(d);
  d->item_id = it->id;
  if (it->details_case == REGISTRY__V1__ITEM__DETAILS_ELECTRONIC && it->electronic) {
    d->category = it->electronic->category;
    d->brand = it->electronic->brand;
    d->model = it->electronic->model;
    d->imei = it->electronic->imei;
    d->serial_no = it->electronic->serial_no;
  }
  *out = d;
  return 0;
}

typedef struct issue_ctx {
  const Registry__V1__SubmitWipeRequest *req;
  const char *record_id, *certificate_id, *item_id;
  const operator_sealed *op;
} issue_ctx;

/* Builds, signs and stores the certificate with its CERTIFICATE_ISSUED
 * event (whose record is the signed body). */
static int issue(rpc_call *call, pg_conn *pg, const issue_ctx *x, Registry__V1__Certificate **out) {
  const Registry__V1__SubmitWipeRequest *req = x->req;
  arena *a = call->arena;
  int64_t at = pg_tx_time_us(pg);
  Registry__V1__WipeCertificateBody b;
  registry__v1__wipe_certificate_body__init(&b);
  int rv = body_device(call, pg, x->item_id, &b.device);
  if (rv != 0) return rv;
  uint8_t *opref = arena_alloc(a, 32);
  if (!opref) return REG_ENOMEM;
  memcpy(opref, x->op->ref, 32);
  b.certificate_id = (char *)x->certificate_id;
  b.registry_id = call_app(call)->cfg.registry_id;
  b.issuer_organization_id = (char *)core_org(call);
  b.issued_at = pbtime_new(a, at);
  b.record_id = (char *)x->record_id;
  b.item_id = (char *)x->item_id;
  b.n_media = req->n_media;
  b.media = req->media;
  b.method = req->method;
  b.technique = req->technique;
  b.passes = req->passes;
  b.random_pass = req->random_pass;
  b.verification = req->verification;
  b.verified_percent = req->verified_percent;
  b.tool_name = req->tool_name;
  b.tool_version = req->tool_version;
  b.operator_name_masked = mask_name(a, req->operator_name);
  b.operator_ref = (ProtobufCBinaryData){32, opref};
  b.started_at = req->started_at;
  b.finished_at = req->finished_at;
  b.performed_at = req->performed_at;
  b.destination = req->destination;
  b.result = req->result;
  if (!b.issued_at || !b.operator_name_masked) return REG_ENOMEM;
  size_t len = 0;
  uint8_t *body = arena_pack(a, &b.base, &len);
  uint8_t *sig = arena_alloc(a, 64);
  if (!body || !sig) return REG_ENOMEM;
  char kid[9];
  if ((rv = keystore_sign(pg, call_app(call)->master_key, KEYSTORE_PURPOSE_CERTIFICATE,
                          wipe_cert_sign, body, len, sig, kid)) != 0)
    return rv;

  char ev[IDS_MAX];
  event_refs refs = {.item_id = x->item_id, .certificate_id = x->certificate_id};
  if ((rv = events_append(pg, EV(CERTIFICATE_ISSUED), core_org(call), &refs, body, len, ev)) != 0)
    return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, x->certificate_id);
  pg_params_text(&p, x->record_id);
  pg_params_text(&p, x->item_id);
  pg_params_text(&p, core_org(call));
  pg_params_bytea(&p, body, len);
  pg_params_bytea(&p, sig, 64);
  pg_params_text(&p, kid);
  pg_params_text(&p, ev);
  pg_params_int(&p, at);
  rv = pg_query(pg,
                "INSERT INTO certificates (id, record_id, item_id, issuer_id, body, signature, "
                "key_id, event_id, issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, " PG_TS(9) ")",
                &p, NULL);
  if (rv != 0) return rv;

  Registry__V1__Certificate *c = arena_alloc(a, sizeof(*c));
  char *kid_a = arena_strdup(a, kid), *ev_a = arena_strdup(a, ev);
  if (!c || !kid_a || !ev_a) return REG_ENOMEM;
  registry__v1__certificate__init(c);
  c->id = (char *)x->certificate_id;
  c->body = (ProtobufCBinaryData){len, body};
  c->signature = (ProtobufCBinaryData){64, sig};
  c->key_id = kid_a;
  c->event_id = ev_a;
  *out = c;
  return 0;
}

static int do_submit(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                     ProtobufCMessage **stored) {
  (void)stored; /* the response holds no personal data in clear */
  const Registry__V1__SubmitWipeRequest *req = arg;
  int rv = auth_require_qualification(
      call, pg, REGISTRY__V1__QUALIFICATION_KIND__QUALIFICATION_KIND_DATA_WIPE, clock_today_cst());
  if (rv != 0) return rv;
  items_row item;
  if ((rv = device_item(call, pg, req, &item)) != 0) return rv;

  const char *refused = wipe_rules_refusal(req);
  char *record_id = arena_alloc(call->arena, IDS_MAX);
  char *cert_id = arena_alloc(call->arena, IDS_MAX);
  if (!record_id || !cert_id) return REG_ENOMEM;
  ids_new("wpr", record_id, IDS_MAX);
  ids_new("crt", cert_id, IDS_MAX);
  operator_sealed op;
  if ((rv = seal_operator(call, record_id, req->operator_name, &op)) != 0) return rv;

  /* the facts as submitted, without the request id and the operator's
   * name (which is operator_enc) */
  Registry__V1__SubmitWipeRequest facts = *req;
  facts.request_id = (char *)"";
  facts.operator_name = (char *)"";
  size_t facts_len = 0;
  uint8_t *facts_buf = arena_pack(call->arena, &facts.base, &facts_len);
  if (!facts_buf) return REG_ENOMEM;
  int64_t at = pg_tx_time_us(pg);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, record_id);
  pg_params_text(&p, item.id);
  pg_params_text(&p, core_org(call));
  pg_params_bytea(&p, facts_buf, facts_len);
  pg_params_bytea(&p, op.ref, 32);
  pg_params_bytea(&p, op.enc, op.enc_len);
  pg_params_int(&p, req->result);
  pg_params_int(&p, req->verification);
  pg_params_text(&p, refused ? refused : "");
  pg_params_text(&p, refused ? NULL : cert_id);
  pg_params_int(&p, at);
  rv = pg_query(pg,
                "INSERT INTO wipe_records (id, item_id, organization_id, facts, operator_ref, "
                "operator_enc, result, verification, refused_reason, certificate_id, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, " PG_TS(11) ")",
                &p, NULL);
  char ev[IDS_MAX];
  event_refs refs = {.item_id = item.id, .certificate_id = refused ? NULL : cert_id};
  if (rv != 0 ||
      (rv = events_append(pg, EV(WIPE_RECORDED), core_org(call), &refs, facts_buf, facts_len, ev)) != 0)
    return rv;

  Registry__V1__SubmitWipeResponse *r = arena_alloc(call->arena, sizeof(*r));
  char *item_id = arena_strdup(call->arena, item.id);
  if (!r || !item_id) return REG_ENOMEM;
  registry__v1__submit_wipe_response__init(r);
  r->record_id = record_id;
  r->item_id = item_id;
  if (refused) {
    r->certificate_refused_reason = (char *)refused;
  } else {
    issue_ctx x = {req, record_id, cert_id, item_id, &op};
    if ((rv = issue(call, pg, &x, &r->certificate)) != 0) return rv;
  }
  items_history h = {.kind = HK(WIPED),
                     .organization_id = core_org(call),
                     .certificate_id = refused ? NULL : cert_id,
                     .detail = refused ? refused : "CERTIFIED",
                     .event_id = refused ? ev : r->certificate->event_id};
  if ((rv = items_history_add(pg, item.id, &h)) != 0) return rv;
  *resp = &r->base;
  return 0;
}

int wipe_rpc_submit_wipe(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__SubmitWipeRequest *req = (Registry__V1__SubmitWipeRequest *)m;
  wipe_violation v;
  if (wipe_rules_check_submit(req, clock_now_us(), &v) != 0)
    return rpc_fail_field(&call->status, v.field, "%s %s", v.field, v.message);
  if (core_given(req->device->item_id) && core_check_id(call, req->device->item_id, "device.item_id") != 0)
    return -1;
  return write_run(call, m, &registry__v1__submit_wipe_response__descriptor, do_submit, req, resp);
}

/* ---- GetCertificate ---- */

static int do_get(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  certs_rec rec;
  int rv = certs_get(pg, call->arena, arg, &rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "certificate", arg);
  if (rv != 0) return rv;
  return core_respond(call, &registry__v1__get_certificate_response__descriptor, "certificate", rec.msg,
                      resp);
}

int wipe_rpc_get_certificate(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetCertificateRequest *req = (const void *)m;
  if (core_check_id(call, req->certificate_id, "certificate_id") != 0) return -1;
  return read_run(call, do_get, req->certificate_id, resp);
}

/* ---- ListCertificates ---- */

typedef struct list_arg {
  const char *item_id, *imei, *serial_no, *issuer_id; /* NULL: not filtered */
  page_req page;
} list_arg;

static int do_list(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_arg *c = arg;
  certs_filter f = {c->item_id, c->imei, c->serial_no, c->issuer_id, 0, NULL};
  if (c->page.cursor[0] && page_cursor_parse(c->page.cursor, &f.after_us, &f.after_id) != 0)
    return core_bad_page_token(call);
  certs_rec *recs = NULL;
  size_t n = 0;
  int more = 0;
  int rv = certs_list(pg, call->arena, &f, c->page.size, &recs, &n, &more);
  if (rv != 0) return rv;
  Registry__V1__ListCertificatesResponse *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__Certificate **cs = arena_calloc(call->arena, n + 1, sizeof(*cs));
  if (!out || !cs) return REG_ENOMEM;
  registry__v1__list_certificates_response__init(out);
  for (size_t i = 0; i < n; i++) cs[i] = recs[i].msg;
  out->certificates = cs;
  out->n_certificates = n;
  if (more && n &&
      (rv = core_next_page_token(call, &c->page, recs[n - 1].issued_at_us, recs[n - 1].msg->id,
                                 &out->next_page_token)) != 0)
    return rv;
  *resp = &out->base;
  return 0;
}

int wipe_rpc_list_certificates(rpc_call *call, const ProtobufCMessage *m,
                               ProtobufCMessage **resp) {
  Registry__V1__ListCertificatesRequest *req = (Registry__V1__ListCertificatesRequest *)m;
  list_arg c;
  memset(&c, 0, sizeof(c));
  const char *names[] = {"item_id", "imei", "serial_no", "issuer_id"};
  char *vals[] = {req->item_id, req->imei, req->serial_no, req->issuer_id};
  const char **slots[] = {&c.item_id, &c.imei, &c.serial_no, &c.issuer_id};
  const char *first = NULL;
  for (size_t i = 0; i < 4; i++) {
    if (!core_given(vals[i])) continue;
    text_trim(vals[i]);
    if (first)
      return rpc_fail_field(&call->status, names[i], "give at most one of item_id, imei, serial_no "
                            "and issuer_id (%s is given)", first);
    if (strlen(vals[i]) > WIPE_TEXT_MAX)
      return rpc_fail_field(&call->status, names[i], "%s is too long", names[i]);
    first = names[i];
    *slots[i] = vals[i];
  }
  /* Decision: no filter lists a caller's own certificates; an inspector's
   * all of them. */
  if (!first && !core_is_inspector(call)) c.issuer_id = core_org(call);
  const char *filters[] = {call->method->path, c.item_id ? c.item_id : "", c.imei ? c.imei : "",
                           c.serial_no ? c.serial_no : "", c.issuer_id ? c.issuer_id : ""};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 5, &c.page) != 0) return -1;
  return read_run(call, do_list, &c, resp);
}

/* ---- VerifyCertificate ---- */

typedef struct verify_arg {
  const Registry__V1__Certificate *given; /* by value; NULL: by id */
  const char *id;
} verify_arg;

static int is_revoked(pg_conn *pg, const char *id, int *revoked) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT 1 FROM certificate_revocations WHERE certificate_id = $1", &p, &r);
  if (rv != 0) return rv;
  *revoked = PQntuples(r) > 0;
  PQclear(r);
  return 0;
}

static int do_verify(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  verify_arg *x = arg;
  const Registry__V1__Certificate *c = x->given;
  int revoked = 0, rv;
  if (!c) {
    certs_rec rec;
    rv = certs_get(pg, call->arena, x->id, &rec);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "certificate", x->id);
    if (rv != 0) return rv;
    c = rec.msg;
    revoked = rec.msg->revoked;
  } else if (core_given(c->id) && strlen(c->id) < IDS_MAX && (rv = is_revoked(pg, c->id, &revoked))) {
    return rv;
  }
  wipe_cert_key *keys = NULL;
  size_t n = 0;
  if ((rv = certs_keys(pg, call->arena, &keys, &n)) != 0) return rv;
  wipe_cert_verdict v;
  wipe_cert_verify(c, keys, n, revoked, &v);
  Registry__V1__VerifyCertificateResponse *r = arena_alloc(call->arena, sizeof(*r));
  char *kid = arena_strdup(call->arena, v.key_id);
  if (!r || !kid) return REG_ENOMEM;
  registry__v1__verify_certificate_response__init(r);
  r->valid = v.valid;
  r->revoked = revoked;
  r->key_id = kid;
  r->n_reasons = v.n_reasons;
  if (v.n_reasons) { /* static strings */
    r->reasons = arena_calloc(call->arena, v.n_reasons, sizeof(*r->reasons));
    if (!r->reasons) return REG_ENOMEM;
    for (size_t i = 0; i < v.n_reasons; i++) r->reasons[i] = (char *)v.reasons[i];
  }
  *resp = &r->base;
  return 0;
}

int wipe_rpc_verify_certificate(rpc_call *call, const ProtobufCMessage *m,
                                ProtobufCMessage **resp) {
  const Registry__V1__VerifyCertificateRequest *req = (const void *)m;
  verify_arg x = {0};
  if (req->subject_case == REGISTRY__V1__VERIFY_CERTIFICATE_REQUEST__SUBJECT_CERTIFICATE &&
      req->certificate) {
    x.given = req->certificate;
  } else {
    const char *id = req->subject_case == REGISTRY__V1__VERIFY_CERTIFICATE_REQUEST__SUBJECT_CERTIFICATE_ID
                         ? req->certificate_id
                         : NULL;
    if (core_check_id(call, id, "certificate_id") != 0) return -1;
    x.id = id;
  }
  return read_run(call, do_verify, &x, resp);
}

/* ---- RevokeCertificate ---- */

static int do_revoke(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                     ProtobufCMessage **stored) {
  (void)stored;
  const Registry__V1__RevokeCertificateRequest *req = arg;
  certs_rec rec;
  int rv = certs_get(pg, call->arena, req->certificate_id, &rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "certificate", req->certificate_id);
  if (rv != 0) return rv;
  if (!core_is_inspector(call) && strcmp(rec.issuer_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "only the issuer or an inspector may revoke certificate %s", req->certificate_id);
  /* the item first (lock order), then the certificate as it is now: two
   * revocations of one certificate take turns and the second sees the
   * first */
  items_row item;
  if ((rv = items_lock(pg, rec.item_id, &item)) != 0 ||
      (rv = certs_get(pg, call->arena, req->certificate_id, &rec)) != 0)
    return rv;
  if (rec.msg->revoked)
    return rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "ALREADY_REVOKED",
                           "certificate %s is already revoked", req->certificate_id);

  /* the event's record: the certificate as revoked (without its log
   * position, which is the log's, not the certificate's) */
  Registry__V1__Certificate now = *rec.msg;
  now.revoked = 1;
  now.revoked_reason = req->reason;
  now.log_index = 0;
  now.sequenced = 0;
  size_t len = 0;
  uint8_t *record = arena_pack(call->arena, &now.base, &len);
  if (!record) return REG_ENOMEM;
  char ev[IDS_MAX];
  event_refs refs = {.item_id = item.id, .certificate_id = req->certificate_id};
  if ((rv = events_append(pg, EV(CERTIFICATE_REVOKED), core_org(call), &refs, record, len, ev)) != 0)
    return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, req->certificate_id);
  pg_params_text(&p, core_org(call));
  pg_params_text(&p, req->reason);
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  rv = pg_query(pg,
                "INSERT INTO certificate_revocations (certificate_id, revoked_by, reason, event_id, "
                "revoked_at) VALUES ($1, $2, $3, $4, " PG_TS(5) ")",
                &p, NULL);
  Registry__V1__RevokeCertificateResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (rv == 0 && !r) rv = REG_ENOMEM;
  if (rv != 0) return rv;
  registry__v1__revoke_certificate_response__init(r);
  items_history h = {.kind = HK(CERTIFICATE_REVOKED),
                     .organization_id = core_org(call),
                     .certificate_id = req->certificate_id,
                     .detail = req->reason,
                     .event_id = ev};
  if ((rv = items_history_add(pg, item.id, &h)) != 0 ||
      (rv = items_suspend_listings(pg, call->arena, &item, core_org(call), ITEMS_SUSPENDED_CERTIFICATE,
                                   req->certificate_id, &r->suspended_listing_ids,
                                   &r->n_suspended_listing_ids)) != 0)
    return rv;
  /* the certificate as read under the item lock, now revoked: no third read */
  rec.msg->revoked = 1;
  rec.msg->revoked_reason = req->reason;
  r->certificate = rec.msg;
  *resp = &r->base;
  return 0;
}

int wipe_rpc_revoke_certificate(rpc_call *call, const ProtobufCMessage *m,
                                ProtobufCMessage **resp) {
  Registry__V1__RevokeCertificateRequest *req = (Registry__V1__RevokeCertificateRequest *)m;
  if (core_check_id(call, req->certificate_id, "certificate_id") != 0) return -1;
  if (req->reason) text_trim(req->reason);
  if (!core_given(req->reason)) return rpc_fail_field(&call->status, "reason", "reason is required");
  if (text_chars(req->reason) > WIPE_REASON_MAX)
    return rpc_fail_field(&call->status, "reason", "reason must be at most %d characters",
                          WIPE_REASON_MAX);
  return write_run(call, m, &registry__v1__revoke_certificate_response__descriptor, do_revoke, req,
                   resp);
}
