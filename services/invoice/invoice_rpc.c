/*
 * InvoiceService handlers (SPEC §4.5, DOMAIN §1) and their SQL. Issuing a
 * blue or red invoice is one write_run transaction in a fixed lock order:
 * the seller's advisory lock, then any vehicle items (items_lock), then the
 * issuer's counter row (the number) — so two recyclers racing on one
 * seller take turns at the cap, and numbers are gap-free (a rolled-back
 * invoice gives its number back). Reads run in read_run, and every
 * response carrying the seller in clear is access-logged in the same
 * transaction. Decisions: services/invoice/README.md.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "registry/v1/listing.pb-c.h"
#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/base/log.h"
#include "services/core/access_log.h"
#include "services/core/app.h"
#include "services/core/auth.h"
#include "services/core/certs.h"
#include "services/core/events.h"
#include "services/core/ident.h"
#include "services/core/ids.h"
#include "services/core/items.h"
#include "services/core/keystore.h"
#include "services/core/mask.h"
#include "services/core/page.h"
#include "services/core/party.h"
#include "services/core/pbtime.h"
#include "services/core/rpcutil.h"
#include "services/core/write.h"
#include "services/invoice/invoice.h"
#include "services/invoice/invoice_rpc.h"
#include "services/invoice/invoice_sig.h"

#define EV(x) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##x
#define HK(x) REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_##x
#define IS(x) REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_##x
#define IK(x) REGISTRY__V1__ITEM_KIND__ITEM_KIND_##x
#define QK(x) REGISTRY__V1__QUALIFICATION_KIND__QUALIFICATION_KIND_##x
#define CAT(x) REGISTRY__V1__INVOICE_CATEGORY__INVOICE_CATEGORY_##x
#define KIND(x) REGISTRY__V1__INVOICE_KIND__INVOICE_KIND_##x
#define ROLE(x) REGISTRY__V1__ROLE__ROLE_##x

/* Any of these entitles a recycler to issue (DOMAIN §1). */
#define ISSUER_QUALIFICATIONS \
  ((1u << QK(REVERSE_INVOICE)) | (1u << QK(VEHICLE_DISMANTLING)) | (1u << QK(HAZARDOUS_WASTE)))

/* Advisory lock classes (the two-int4 key space, apart from the listing
 * service's single-int8 keys): a seller, and the assignment of issuer
 * numbers. */
#define LOCK_SELLER 5001
#define LOCK_ISSUER_NO 5002

#define BODY_MAX (1u << 20)

static invoice_rates *rates;

int invoice_init(const reg_config *cfg) {
  char err[200];
  if (invoice_rates_new(cfg->invoice_vat, cfg->invoice_income_tax, &rates, err, sizeof(err)) != 0) {
    log_error(NULL, "bad invoice rate configuration: %s", err);
    return REG_EINVAL;
  }
  return 0;
}

void invoice_shutdown(void) {
  invoice_rates_free(rates);
  rates = NULL;
}


static int bad(rpc_call *call, const invoice_violation *v) {
  return rpc_fail_field(&call->status, v->field, "%s %s", v->field, v->message);
}


static void meta_i64(rpc_call *call, const char *key, int64_t v) {
  char s[24];
  snprintf(s, sizeof(s), "%lld", (long long)v);
  rpc_status_add_meta(&call->status, key, s);
}


/* A person's ID number to search by (normalized into out), and its
 * purpose when required. */
static int check_person_search(rpc_call *call, const char *id_number, const char *field,
                               const char *purpose, char out[19]) {
  if (!core_given(id_number)) return rpc_fail_field(&call->status, field, "%s is required", field);
  if (ident_resident_id_check(id_number, out) != 0)
    return rpc_fail_field(&call->status, field, "%s is not a valid resident ID number", field);
  if (access_log_purpose_check(purpose) != 0)
    return rpc_fail_field(&call->status, "purpose",
                          "purpose is required (at most %d bytes) when reading a person's "
                          "invoicing", ACCESS_LOG_PURPOSE_MAX);
  return 0;
}

/* ---- reading invoices ---- */

/* An invoice as stored, with what the handlers need beside the message. */
typedef struct inv_rec {
  Registry__V1__Invoice *msg;
  uint8_t seller_ref[32];
  uint8_t *seller_enc;
  size_t seller_enc_len;
  clock_day issued_on;
} inv_rec;

#define INV_COLS                                                                          \
  "i.id, i.invoice_number, i.kind, i.issuer_id, i.seller_ref, i.seller_enc, "             \
  "i.issued_on::text, i.amount_fen, i.vat_rate_bp, i.vat_fen, i.income_tax_rate_bp, "     \
  "i.income_tax_fen, i.total_fen, coalesce(i.original_invoice_id, ''), i.red_reason, "    \
  "i.body, i.signature, i.key_id, i.event_id, le.log_index "                              \
  "FROM invoices i LEFT JOIN events e ON e.event_id = i.event_id "                        \
  "LEFT JOIN log_entries le ON le.event_row = e.id "

/* Row k of an INV_COLS result: the seller opened (clear when `unmasked`),
 * the lines from the signed body. */
static int inv_from_row(const pii_keyring *rg, arena *a, const PGresult *r, int k, int unmasked,
                        inv_rec *out) {
  inv_rec rec;
  memset(&rec, 0, sizeof(rec));
  Registry__V1__Invoice *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__invoice__init(m);
  int rv;
  uint8_t *ref = NULL;
  size_t ref_len = 0;
  if ((rv = pg_bytea_arena(a, r, k, 4, 32, &ref, &ref_len)) != 0 ||
      (rv = pg_bytea_arena(a, r, k, 5, BODY_MAX, &rec.seller_enc, &rec.seller_enc_len)) != 0 ||
      (rv = pg_bytea_arena(a, r, k, 15, BODY_MAX, &m->body.data, &m->body.len)) != 0 ||
      (rv = pg_bytea_arena(a, r, k, 16, 64, &m->signature.data, &m->signature.len)) != 0)
    return rv;
  if (ref_len != 32) return REG_EIO;
  memcpy(rec.seller_ref, ref, 32);
  if (clock_day_parse(pg_val(r, k, 6), &rec.issued_on) != 0) return REG_EIO;
  m->id = arena_strdup(a, pg_val(r, k, 0));
  m->invoice_number = arena_strdup(a, pg_val(r, k, 1));
  m->kind = (Registry__V1__InvoiceKind)pg_int(r, k, 2);
  m->issuer_id = arena_strdup(a, pg_val(r, k, 3));
  m->issued_on = arena_strdup(a, pg_val(r, k, 6));
  m->amount_fen = pg_int(r, k, 7);
  m->vat_rate_bp = (int32_t)pg_int(r, k, 8);
  m->vat_fen = pg_int(r, k, 9);
  m->income_tax_rate_bp = (int32_t)pg_int(r, k, 10);
  m->income_tax_fen = pg_int(r, k, 11);
  m->total_fen = pg_int(r, k, 12);
  m->original_invoice_id = arena_strdup(a, pg_val(r, k, 13));
  m->red_reason = (Registry__V1__RedReason)pg_int(r, k, 14);
  m->key_id = arena_strdup(a, pg_val(r, k, 17));
  m->event_id = arena_strdup(a, pg_val(r, k, 18));
  m->sequenced = pg_val(r, k, 19) != NULL;
  m->log_index = pg_int(r, k, 19);
  if (!m->id || !m->invoice_number || !m->issuer_id || !m->issued_on ||
      !m->original_invoice_id || !m->key_id || !m->event_id)
    return REG_ENOMEM;
  Registry__V1__ReverseInvoiceBody *b = registry__v1__reverse_invoice_body__unpack(
      arena_allocator(a), m->body.len, m->body.data);
  if (!b) return REG_EIO; /* the stored body is what was signed: damage */
  m->lines = b->lines;
  m->n_lines = b->n_lines;
  if ((rv = party_open_person(rg, a, rec.seller_enc, rec.seller_enc_len, "invoices", "seller",
                              m->id, unmasked, &m->seller)) != 0)
    return rv;
  rec.msg = m;
  *out = rec;
  return 0;
}

static int inv_load(const pii_keyring *rg, pg_conn *pg, arena *a, const char *id, int unmasked,
                    inv_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " INV_COLS "WHERE i.id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? inv_from_row(rg, a, r, 0, unmasked, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* The copy of a response's invoice kept for a replay: the seller masked
 * (request_ids is not encrypted; a replay is not access-logged). */
static ProtobufCMessage *masked_copy(arena *a, const Registry__V1__Invoice *inv,
                                     Registry__V1__Invoice **out_inv) {
  Registry__V1__Invoice *m = arena_alloc(a, sizeof(*m));
  Registry__V1__Person *p = arena_alloc(a, sizeof(*p));
  if (!m || !p) return NULL;
  *m = *inv;
  registry__v1__person__init(p);
  if (inv->seller) {
    p->name = mask_name(a, inv->seller->name);
    p->id_number = mask_id_number(a, inv->seller->id_number);
    p->phone = mask_phone(a, inv->seller->phone);
    if (!p->name || !p->id_number || !p->phone) return NULL;
  }
  m->seller = p;
  *out_inv = m;
  return &m->base;
}

/* ---- the seller's figures, under their lock ---- */

static int lock_seller(pg_conn *pg, const uint8_t ref[32]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, LOCK_SELLER);
  pg_params_bytea(&p, ref, 32);
  return pg_query(pg, "SELECT pg_advisory_xact_lock($1::int4, hashtext(encode($2, 'hex')))", &p,
                  NULL);
}

/* The seller's all-issuer totals: over the cap window of `day` and in
 * day's month. */
static int seller_totals(pg_conn *pg, const uint8_t ref[32], clock_day day, int64_t *window,
                         int64_t *month) {
  char from[11], mon[11];
  clock_day_format(invoice_window_start(day), from);
  clock_day_format(invoice_month_start(day), mon);
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, ref, 32);
  pg_params_text(&p, from);
  pg_params_text(&p, mon);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT coalesce(sum(amount_fen), 0)::int8, "
                    "coalesce(sum(amount_fen) FILTER (WHERE month = $3::date), 0)::int8 "
                    "FROM seller_months WHERE seller_ref = $1 AND month >= $2::date "
                    "AND month <= $3::date",
                    &p, &r);
  if (rv != 0) return rv;
  *window = pg_int(r, 0, 0);
  *month = pg_int(r, 0, 1);
  PQclear(r);
  return 0;
}

static int add_seller_month(pg_conn *pg, const uint8_t ref[32], clock_day day, int64_t amount) {
  char mon[11];
  clock_day_format(invoice_month_start(day), mon);
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, ref, 32);
  pg_params_text(&p, mon);
  pg_params_int(&p, amount);
  return pg_query(pg,
                  "INSERT INTO seller_months (seller_ref, month, amount_fen) VALUES ($1, $2, $3) "
                  "ON CONFLICT (seller_ref, month) DO UPDATE "
                  "SET amount_fen = seller_months.amount_fen + EXCLUDED.amount_fen",
                  &p, NULL);
}

/* ---- numbering ---- */

/* The issuer's next number in `day`'s year (its counter row stays locked
 * until commit). */
static int next_number(rpc_call *call, pg_conn *pg, clock_day day, char out[21]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, core_org(call));
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT issuer_no FROM invoice_issuers WHERE issuer_id = $1", &p, &r);
  if (rv != 0) return rv;
  int64_t no = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
  PQclear(r);
  if (!no) { /* the first invoice: the next issuer number, under the registry-wide lock
              * (its own statement: the INSERT's snapshot must follow the lock) */
    pg_params_init(&p);
    pg_params_int(&p, LOCK_ISSUER_NO);
    if ((rv = pg_query(pg, "SELECT pg_advisory_xact_lock($1::int4, 0)", &p, NULL)) != 0) return rv;
    pg_params_init(&p);
    pg_params_text(&p, core_org(call));
    rv = pg_query(pg,
                  "INSERT INTO invoice_issuers (issuer_id, issuer_no) "
                  "SELECT $1, coalesce(max(issuer_no), 0) + 1 FROM invoice_issuers "
                  "ON CONFLICT (issuer_id) DO UPDATE SET issuer_no = invoice_issuers.issuer_no "
                  "RETURNING issuer_no",
                  &p, &r);
    if (rv != 0) return rv;
    no = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
    PQclear(r);
    if (!no) return REG_EIO;
  }
  int y, mo, d;
  clock_day_to_ymd(day, &y, &mo, &d);
  pg_params_init(&p);
  pg_params_text(&p, core_org(call));
  pg_params_int(&p, y);
  rv = pg_query(pg,
                "INSERT INTO invoice_counters (issuer_id, year, last_seq) VALUES ($1, $2, 1) "
                "ON CONFLICT (issuer_id, year) DO UPDATE "
                "SET last_seq = invoice_counters.last_seq + 1 RETURNING last_seq",
                &p, &r);
  if (rv != 0) return rv;
  int64_t seq = PQntuples(r) == 1 ? pg_int(r, 0, 0) : 0;
  PQclear(r);
  if (invoice_number_format(day, call_app(call)->cfg.invoice_channel, (int32_t)no, seq, out) != 0)
    return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED,
                    "the issuer's invoice numbers for %d are used up", y);
  return 0;
}

/* ---- writing an invoice ---- */

/* What an invoice about to be stored is. */
typedef struct inv_new {
  const char *id;
  int kind;
  const uint8_t *seller_ref;
  const uint8_t *seller_enc;
  size_t seller_enc_len;
  const Registry__V1__Person *seller; /* clear, for the masked body */
  Registry__V1__InvoiceLine **lines;
  size_t n_lines;
  const int32_t *positions;  /* the original's line positions (red); NULL: 0, 1, … */
  int64_t amount, vat, income;
  int32_t vat_bp, income_bp;
  clock_day issued_on;
  const char *original_id;   /* red */
  int red_reason;
} inv_new;

/* Array literal of n int64 values ("{1,2,3}") in the arena. */
static char *i64_array(arena *a, const int64_t *v, size_t n) {
  char *s = arena_alloc(a, n * 22 + 3);
  if (!s) return NULL;
  size_t off = 0;
  s[off++] = '{';
  for (size_t i = 0; i < n; i++)
    off += (size_t)sprintf(s + off, "%s%lld", i ? "," : "", (long long)v[i]);
  s[off++] = '}';
  s[off] = 0;
  return s;
}

/* The lines in columns, one statement. */
static int insert_lines(arena *a, pg_conn *pg, const inv_new *x) {
  int64_t *pos = arena_calloc(a, x->n_lines + 1, sizeof(*pos));
  int64_t *cat = arena_calloc(a, x->n_lines + 1, sizeof(*cat));
  int64_t *qty = arena_calloc(a, x->n_lines + 1, sizeof(*qty));
  int64_t *amt = arena_calloc(a, x->n_lines + 1, sizeof(*amt));
  char *vins = arena_alloc(a, x->n_lines * 20 + 3);
  if (!pos || !cat || !qty || !amt || !vins) return REG_ENOMEM;
  size_t off = 0;
  vins[off++] = '{';
  for (size_t i = 0; i < x->n_lines; i++) {
    const Registry__V1__InvoiceLine *l = x->lines[i];
    pos[i] = x->positions ? x->positions[i] : (int64_t)i;
    cat[i] = l->category;
    qty[i] = l->quantity_milli;
    amt[i] = l->amount_fen;
    /* a VIN is 17 letters and digits (checked): no quoting needed */
    off += (size_t)sprintf(vins + off, "%s%s", i ? "," : "", core_given(l->vin) ? l->vin : "NULL");
  }
  vins[off++] = '}';
  vins[off] = 0;
  char *ps = i64_array(a, pos, x->n_lines), *cs = i64_array(a, cat, x->n_lines),
       *qs = i64_array(a, qty, x->n_lines), *as = i64_array(a, amt, x->n_lines);
  if (!ps || !cs || !qs || !as) return REG_ENOMEM;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, x->id);
  pg_params_text(&p, ps);
  pg_params_text(&p, cs);
  pg_params_text(&p, qs);
  pg_params_text(&p, as);
  pg_params_text(&p, vins);
  return pg_query(pg,
                  "INSERT INTO invoice_lines (invoice_id, position, category, quantity_milli, "
                  "amount_fen, vin) SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int8[], "
                  "$5::int8[], $6::text[])",
                  &p, NULL);
}

/* Numbers, signs and stores the invoice with its event; *number_out (21). */
static int store_invoice(rpc_call *call, pg_conn *pg, const inv_new *x, char number[21],
                         Registry__V1__Invoice **out) {
  arena *a = call->arena;
  /* what needs no number first: the issuer's counter row, taken by
   * next_number, is held to commit and every issuer's invoices queue on it
   * (tests/bench: a busy issuer's rate is 1 / the time it is held). The
   * response carries the seller in clear: its access-log row. */
  int rv = add_seller_month(pg, x->seller_ref, x->issued_on, x->amount);
  if (rv == 0)
    rv = access_log_write(pg, core_org(call), call->method->path, x->seller_ref, NULL, "");
  if (rv == 0) rv = next_number(call, pg, x->issued_on, number);
  if (rv != 0) return rv;
  int64_t at = pg_tx_time_us(pg);
  char day[11];
  clock_day_format(x->issued_on, day);
  Registry__V1__ReverseInvoiceBody b;
  registry__v1__reverse_invoice_body__init(&b);
  uint8_t *ref = arena_alloc(a, 32);
  if (!ref) return REG_ENOMEM;
  memcpy(ref, x->seller_ref, 32);
  b.invoice_id = (char *)x->id;
  b.invoice_number = number;
  b.registry_id = call_app(call)->cfg.registry_id;
  b.kind = x->kind;
  b.issuer_organization_id = (char *)core_org(call);
  b.seller_name_masked = mask_name(a, x->seller->name);
  b.seller_id_number_masked = mask_id_number(a, x->seller->id_number);
  b.seller_ref = (ProtobufCBinaryData){32, ref};
  b.lines = x->lines;
  b.n_lines = x->n_lines;
  b.amount_fen = x->amount;
  b.vat_rate_bp = x->vat_bp;
  b.vat_fen = x->vat;
  b.income_tax_rate_bp = x->income_bp;
  b.income_tax_fen = x->income;
  b.total_fen = x->amount + x->vat;
  b.issued_on = day;
  b.issued_at = pbtime_new(a, at);
  b.original_invoice_id = (char *)(x->original_id ? x->original_id : "");
  b.red_reason = x->red_reason;
  if (!b.seller_name_masked || !b.seller_id_number_masked || !b.issued_at) return REG_ENOMEM;
  size_t len = 0;
  uint8_t *body = arena_pack(a, &b.base, &len);
  uint8_t sig[64];
  char kid[9], ev[IDS_MAX];
  if (!body) return REG_ENOMEM;
  if ((rv = keystore_sign(pg, call_app(call)->master_key, KEYSTORE_PURPOSE_INVOICE, invoice_sign,
                          body, len, sig, kid)) != 0)
    return rv;
  event_refs refs = {.invoice_id = x->id};
  if ((rv = events_append(pg, x->kind == KIND(RED) ? EV(RED_INVOICE_ISSUED) : EV(INVOICE_ISSUED),
                          core_org(call), &refs, body, len, ev)) != 0)
    return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, x->id);
  pg_params_text(&p, number);
  pg_params_int(&p, x->kind);
  pg_params_text(&p, core_org(call));
  pg_params_bytea(&p, x->seller_ref, 32);
  pg_params_bytea(&p, x->seller_enc, x->seller_enc_len);
  pg_params_text(&p, day);
  pg_params_int(&p, x->amount);
  pg_params_int(&p, x->vat_bp);
  pg_params_int(&p, x->vat);
  pg_params_int(&p, x->income_bp);
  pg_params_int(&p, x->income);
  pg_params_int(&p, x->amount + x->vat);
  pg_params_text(&p, x->original_id);
  pg_params_int(&p, x->red_reason);
  pg_params_bytea(&p, body, len);
  pg_params_bytea(&p, sig, 64);
  pg_params_text(&p, kid);
  pg_params_text(&p, ev);
  pg_params_int(&p, at);
  rv = pg_query(pg,
                "INSERT INTO invoices (id, invoice_number, kind, issuer_id, seller_ref, seller_enc, "
                "issued_on, amount_fen, vat_rate_bp, vat_fen, income_tax_rate_bp, income_tax_fen, "
                "total_fen, original_invoice_id, red_reason, body, signature, key_id, event_id, "
                "issued_at) VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $13, "
                "$14, $15, $16, $17, $18, $19, " PG_TS(20) ")",
                &p, NULL);
  if (rv == 0) rv = insert_lines(a, pg, x);
  if (rv != 0) return rv;

  /* the invoice as stored, from what was written (no read-back while the
   * counter row is held); log_index follows once sequenced */
  Registry__V1__Invoice *m = arena_alloc(a, sizeof(*m));
  uint8_t *sig_a = arena_alloc(a, 64);
  if (!m || !sig_a) return REG_ENOMEM;
  memcpy(sig_a, sig, 64);
  registry__v1__invoice__init(m);
  m->id = arena_strdup(a, x->id); /* the callers' ids live on their stacks */
  m->invoice_number = arena_strdup(a, number);
  m->kind = x->kind;
  m->issuer_id = (char *)core_org(call);
  m->seller = (Registry__V1__Person *)x->seller;
  m->lines = x->lines;
  m->n_lines = x->n_lines;
  m->amount_fen = x->amount;
  m->vat_rate_bp = x->vat_bp;
  m->vat_fen = x->vat;
  m->income_tax_rate_bp = x->income_bp;
  m->income_tax_fen = x->income;
  m->total_fen = x->amount + x->vat;
  m->issued_on = arena_strdup(a, day);
  m->original_invoice_id = b.original_invoice_id;
  m->red_reason = x->red_reason;
  m->body = (ProtobufCBinaryData){len, body};
  m->signature = (ProtobufCBinaryData){64, sig_a};
  m->key_id = arena_strdup(a, kid);
  m->event_id = arena_strdup(a, ev);
  if (!m->id || !m->invoice_number || !m->issued_on || !m->key_id || !m->event_id)
    return REG_ENOMEM;
  *out = m;
  return 0;
}

/* Taxes the invoice at its rates, stores it (store_invoice) and answers
 * with a response of type `d`: the invoice as stored, the seller in clear
 * for its issuer (access-logged by store_invoice), and for a replay the
 * same type with the seller masked. */
static int issue_and_respond(rpc_call *call, pg_conn *pg, inv_new *x,
                             const ProtobufCMessageDescriptor *d, ProtobufCMessage **resp,
                             ProtobufCMessage **stored) {
  x->vat = invoice_tax(x->amount, x->vat_bp);
  x->income = invoice_tax(x->amount, x->income_bp);
  char number[21];
  Registry__V1__Invoice *inv = NULL;
  int rv = store_invoice(call, pg, x, number, &inv);
  if (rv != 0) return rv;
  Registry__V1__Invoice *masked = NULL;
  if (!masked_copy(call->arena, inv, &masked)) return REG_ENOMEM;
  if ((rv = core_respond(call, d, "invoice", inv, resp)) != 0) return rv;
  return core_respond(call, d, "invoice", masked, stored);
}

/* ---- IssueReverseInvoice ---- */

typedef struct issue_arg {
  Registry__V1__IssueReverseInvoiceRequest *req;
  clock_day issued_on;
  int64_t amount;
} issue_arg;

/* A SCRAP_VEHICLE line's vehicle, registered when unknown, locked; refused
 * when already scrapped or stolen. */
static int line_vehicle(rpc_call *call, pg_conn *pg, size_t i, const char *vin, items_row *item) {
  char id[IDS_MAX];
  int rv = items_find(pg, vin, NULL, id);
  if (rv == 0) {
    rv = items_lock(pg, id, item);
  } else if (rv == REG_ENOTFOUND) {
    Registry__V1__Vehicle v;
    registry__v1__vehicle__init(&v);
    v.vin = (char *)vin;
    Registry__V1__RegisterItemRequest r;
    registry__v1__register_item_request__init(&r);
    r.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE;
    r.vehicle = &v;
    rv = items_register(pg, core_org(call), &r, item, NULL, NULL);
  }
  if (rv != 0) return rv;
  char field[32];
  snprintf(field, sizeof(field), "lines[%zu].vin", i);
  if (item->status == IS(SCRAPPED) || item->status == IS(STOLEN)) {
    const char *reason = item->status == IS(SCRAPPED) ? "ITEM_SCRAPPED" : "ITEM_STOLEN";
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, reason, "%s %s is %s", field, vin,
                    item->status == IS(SCRAPPED) ? "already scrapped" : "reported stolen");
    rpc_status_add_meta(&call->status, "field", field);
    return -1;
  }
  return 0;
}

/* A SCRAP_ELECTRONICS line's wipe certificate must vouch for its item. */
static int line_certificate(rpc_call *call, pg_conn *pg, size_t i, const char *cert_id) {
  certs_rec c;
  int rv = certs_get(pg, call->arena, cert_id, &c);
  if (rv == REG_ENOTFOUND)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "lines[%zu].wipe_certificate_id: certificate %s "
                    "not found", i, cert_id);
  const char *why = NULL;
  if (rv == 0) rv = certs_vouches(pg, cert_id, c.item_id, &why);
  if (rv == REG_EPERM)
    return rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "WIPE_CERTIFICATE_REQUIRED",
                           "lines[%zu].wipe_certificate_id: certificate %s %s", i, cert_id, why);
  return rv;
}

/* After the invoice row exists: the line's vehicle becomes SCRAPPED. */
static int scrap_vehicle(rpc_call *call, pg_conn *pg, items_row *item, const char *invoice_id,
                         const char *certificate_no) {
  char ev[IDS_MAX];
  int rv = items_set_status(pg, item, IS(SCRAPPED));
  if (rv == 0) rv = items_event(pg, core_ring(call), call->arena, EV(ITEM_SCRAPPED), core_org(call), item->id, ev);
  if (rv != 0) return rv;
  items_history h = {.kind = HK(SCRAPPED),
                     .organization_id = core_org(call),
                     .invoice_id = invoice_id,
                     .detail = certificate_no,
                     .event_id = ev};
  return items_history_add(pg, item->id, &h);
}

static int do_issue(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                    ProtobufCMessage **stored) {
  issue_arg *x = arg;
  Registry__V1__IssueReverseInvoiceRequest *req = x->req;
  int rv = auth_require_any_qualification(call, pg, ISSUER_QUALIFICATIONS, x->issued_on);
  if (rv != 0) return rv;
  size_t n_vehicles = 0;
  for (size_t i = 0; i < req->n_lines; i++) n_vehicles += req->lines[i]->category == CAT(SCRAP_VEHICLE);
  if (n_vehicles &&
      (rv = auth_require_qualification(call, pg, QK(VEHICLE_DISMANTLING), x->issued_on)) != 0)
    return rv;

  char id[IDS_MAX];
  ids_new("inv", id, sizeof(id));
  party_sealed seller;
  if ((rv = party_seal_person(core_ring(call), call->arena, req->seller, "invoices", "seller", id,
                              &seller)) != 0)
    return rv;
  if ((rv = lock_seller(pg, seller.ref)) != 0) return rv;

  /* consent, once per (issuer, seller) */
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, core_org(call));
  pg_params_bytea(&p, seller.ref, 32);
  PGresult *r = NULL;
  if ((rv = pg_query(pg, "SELECT 1 FROM seller_consents WHERE issuer_id = $1 AND seller_ref = $2",
                     &p, &r)) != 0)
    return rv;
  int consented = PQntuples(r) == 1;
  PQclear(r);
  if (!consented && !req->seller_consent)
    return rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "SELLER_CONSENT_MISSING",
                           "the seller's consent to tax filing on their behalf (seller_consent) is "
                           "required on the first invoice from this issuer");

  int64_t window = 0, month = 0;
  if ((rv = seller_totals(pg, seller.ref, x->issued_on, &window, &month)) != 0) return rv;
  int64_t cap = call_app(call)->cfg.invoice_seller_cap_fen;
  if (!invoice_cap_allows(window, x->amount, cap)) {
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "SELLER_CAP_EXCEEDED",
                    "the seller's reverse-invoiced total over the 12 months would exceed the cap");
    meta_i64(call, "current_total_fen", window);
    meta_i64(call, "cap_fen", cap);
    return -1;
  }

  /* the lines' vehicles (locked after the seller: the lock order) and
   * certificates */
  items_row *vehicles = arena_calloc(call->arena, n_vehicles + 1, sizeof(*vehicles));
  const char **cert_nos = arena_calloc(call->arena, n_vehicles + 1, sizeof(*cert_nos));
  if (!vehicles || !cert_nos) return REG_ENOMEM;
  size_t nv = 0;
  for (size_t i = 0; i < req->n_lines; i++) {
    const Registry__V1__InvoiceLine *l = req->lines[i];
    if (l->category == CAT(SCRAP_VEHICLE)) {
      if ((rv = line_vehicle(call, pg, i, l->vin, &vehicles[nv])) != 0) return rv;
      for (size_t j = 0; j < nv; j++)
        if (strcmp(vehicles[j].id, vehicles[nv].id) == 0)
          return rpc_fail_field(&call->status, "lines", "lines name vehicle %s twice", l->vin);
      cert_nos[nv++] = l->scrap_certificate_no;
    } else if (core_given(l->wipe_certificate_id) &&
               (rv = line_certificate(call, pg, i, l->wipe_certificate_id)) != 0) {
      return rv;
    }
  }

  invoice_rate rate = invoice_rates_on(rates, x->issued_on);
  inv_new n = {.id = id,
               .kind = KIND(BLUE),
               .seller_ref = seller.ref,
               .seller_enc = seller.enc,
               .seller_enc_len = seller.enc_len,
               .seller = req->seller,
               .lines = req->lines,
               .n_lines = req->n_lines,
               .amount = x->amount,
               .vat_bp = invoice_vat_rate_bp(&rate, month + x->amount),
               .income_bp = rate.income_tax_bp,
               .issued_on = x->issued_on};
  /* consent and scrapping need the invoice's id, not its number: before
   * the counter row (store_invoice) */
  if (!consented) {
    pg_params_init(&p);
    pg_params_text(&p, core_org(call));
    pg_params_bytea(&p, seller.ref, 32);
    pg_params_int(&p, pbtime_us(req->seller_consent->consented_at));
    pg_params_text(&p, req->seller_consent->channel);
    pg_params_text(&p, id);
    if ((rv = pg_query(pg,
                       "INSERT INTO seller_consents (issuer_id, seller_ref, consented_at, channel, "
                       "invoice_id) VALUES ($1, $2, " PG_TS(3) ", $4, $5)",
                       &p, NULL)) != 0)
      return rv;
  }
  for (size_t j = 0; j < nv; j++)
    if ((rv = scrap_vehicle(call, pg, &vehicles[j], id, cert_nos[j])) != 0) return rv;
  return issue_and_respond(call, pg, &n, &registry__v1__issue_reverse_invoice_response__descriptor,
                           resp, stored);
}

int invoice_rpc_issue_reverse_invoice(rpc_call *call, const ProtobufCMessage *m,
                                      ProtobufCMessage **resp) {
  issue_arg x = {.req = (Registry__V1__IssueReverseInvoiceRequest *)m};
  invoice_violation v;
  if (invoice_rules_check_issue(x.req, clock_today_cst(), clock_now_us(), &x.issued_on, &x.amount,
                                &v) != 0)
    return bad(call, &v);
  return write_run(call, m, &registry__v1__issue_reverse_invoice_response__descriptor, do_issue,
                   &x, resp);
}

/* ---- IssueRedInvoice ---- */

/* What remains of each line of the original to reverse (positive), and
 * the quantity likewise. */
static int remaining_lines(pg_conn *pg, arena *a, const char *original_id, size_t n,
                           int64_t **amount, int64_t **qty) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, original_id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT o.position, o.amount_fen + coalesce(sum(l.amount_fen), 0), "
                    "o.quantity_milli + coalesce(sum(l.quantity_milli), 0) "
                    "FROM invoice_lines o LEFT JOIN invoices i ON i.original_invoice_id = o.invoice_id "
                    "LEFT JOIN invoice_lines l ON l.invoice_id = i.id AND l.position = o.position "
                    "WHERE o.invoice_id = $1 GROUP BY o.position, o.amount_fen, o.quantity_milli "
                    "ORDER BY o.position",
                    &p, &r);
  if (rv != 0) return rv;
  *amount = arena_calloc(a, n + 1, sizeof(**amount));
  *qty = arena_calloc(a, n + 1, sizeof(**qty));
  if (!*amount || !*qty) rv = REG_ENOMEM;
  else if ((size_t)PQntuples(r) != n) rv = REG_EIO;
  for (size_t i = 0; rv == 0 && i < n; i++) {
    (*amount)[i] = pg_int(r, (int)i, 1);
    (*qty)[i] = pg_int(r, (int)i, 2);
  }
  PQclear(r);
  return rv;
}

static int do_red(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                  ProtobufCMessage **stored) {
  const Registry__V1__IssueRedInvoiceRequest *req = arg;
  clock_day today = clock_today_cst();
  int rv = auth_require_any_qualification(call, pg, ISSUER_QUALIFICATIONS, today);
  if (rv != 0) return rv;
  inv_rec orig;
  rv = inv_load(core_ring(call), pg, call->arena, req->original_invoice_id, 1, &orig);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "invoice", req->original_invoice_id);
  if (rv != 0) return rv;
  if (strcmp(orig.msg->issuer_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "only the issuer of invoice %s may issue a red invoice against it",
                    req->original_invoice_id);
  if (orig.msg->kind != KIND(BLUE))
    return rpc_fail_field(&call->status, "original_invoice_id",
                          "original_invoice_id names a red invoice; a red reverses a blue one");
  if ((rv = lock_seller(pg, orig.seller_ref)) != 0) return rv;
  size_t n = orig.msg->n_lines;
  if (!req->full && req->n_lines > n)
    return rpc_fail_field(&call->status, "lines", "the original has %zu lines; lines names %zu", n,
                          req->n_lines);
  int64_t *left = NULL, *left_qty = NULL;
  if ((rv = remaining_lines(pg, call->arena, orig.msg->id, n, &left, &left_qty)) != 0) return rv;

  /* what to reverse per original line */
  int64_t *asked = arena_calloc(call->arena, n + 1, sizeof(*asked));
  int64_t *asked_qty = arena_calloc(call->arena, n + 1, sizeof(*asked_qty));
  if (!asked || !asked_qty) return REG_ENOMEM;
  size_t n_asked = req->full ? n : req->n_lines;
  __int128 sum = 0;
  for (size_t i = 0; i < n_asked; i++) {
    asked[i] = req->full ? left[i] : req->lines[i]->amount_fen;
    asked_qty[i] = req->full ? left_qty[i] : req->lines[i]->quantity_milli;
    sum += asked[i];
  }
  size_t bad_line = 0;
  if (sum <= 0 || invoice_red_check(left, n, asked, n_asked, &bad_line) != 0) {
    if (sum <= 0)
      rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "RED_EXCEEDS_ORIGINAL",
                      "nothing remains of invoice %s to reverse", orig.msg->id);
    else
      rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "RED_EXCEEDS_ORIGINAL",
                      "lines[%zu] asks %lld fen; %lld remain of the original's line", bad_line,
                      (long long)asked[bad_line], (long long)left[bad_line]);
    char s[24];
    snprintf(s, sizeof(s), "%zu", bad_line);
    if (sum > 0) rpc_status_add_meta(&call->status, "line", s);
    meta_i64(call, "remaining_fen", sum > 0 ? left[bad_line] : 0);
    return -1;
  }

  for (size_t i = 0; i < n_asked; i++) { /* nor more of a line's quantity than remains */
    if (asked_qty[i] <= left_qty[i]) continue;
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "RED_EXCEEDS_ORIGINAL",
                    "lines[%zu] asks quantity_milli %lld; %lld remain of the original's line", i,
                    (long long)asked_qty[i], (long long)left_qty[i]);
    char s[24];
    snprintf(s, sizeof(s), "%zu", i);
    rpc_status_add_meta(&call->status, "line", s);
    meta_i64(call, "remaining_quantity_milli", left_qty[i]);
    return -1;
  }

  /* the red lines: the original's, negated, at their positions */
  Registry__V1__InvoiceLine **lines = arena_calloc(call->arena, n + 1, sizeof(*lines));
  int32_t *pos = arena_calloc(call->arena, n + 1, sizeof(*pos));
  if (!lines || !pos) return REG_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n_asked; i++) {
    if (asked[i] == 0) continue;
    Registry__V1__InvoiceLine *l = arena_alloc(call->arena, sizeof(*l));
    if (!l) return REG_ENOMEM;
    *l = *orig.msg->lines[i];
    l->amount_fen = -asked[i];
    l->quantity_milli = -asked_qty[i];
    lines[k] = l;
    pos[k++] = (int32_t)i;
  }
  char id[IDS_MAX];
  ids_new("inv", id, sizeof(id));
  party_sealed seller;
  if ((rv = party_seal_person(core_ring(call), call->arena, orig.msg->seller, "invoices", "seller", id,
                              &seller)) != 0)
    return rv;
  inv_new x = {.id = id,
               .kind = KIND(RED),
               .seller_ref = orig.seller_ref,
               .seller_enc = seller.enc,
               .seller_enc_len = seller.enc_len,
               .seller = orig.msg->seller,
               .lines = lines,
               .n_lines = k,
               .positions = pos,
               .amount = -(int64_t)sum,
               .vat_bp = orig.msg->vat_rate_bp,
               .income_bp = orig.msg->income_tax_rate_bp,
               .issued_on = today,
               .original_id = orig.msg->id,
               .red_reason = req->reason};
  return issue_and_respond(call, pg, &x, &registry__v1__issue_red_invoice_response__descriptor, resp,
                           stored);
}

int invoice_rpc_issue_red_invoice(rpc_call *call, const ProtobufCMessage *m,
                                  ProtobufCMessage **resp) {
  const Registry__V1__IssueRedInvoiceRequest *req = (const void *)m;
  invoice_violation v;
  if (invoice_rules_check_red(req, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__issue_red_invoice_response__descriptor, do_red,
                   (void *)req, resp);
}

/* ---- CheckSellerCap / GetSellerTotal ---- */

typedef struct person_arg {
  uint8_t ref[32];
  int64_t amount;
  clock_day day;
  const char *purpose;
} person_arg;

static int do_check_cap(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  person_arg *x = arg;
  int64_t window = 0, month = 0;
  int rv = seller_totals(pg, x->ref, x->day, &window, &month);
  if (rv != 0 ||
      (rv = access_log_write(pg, core_org(call), call->method->path, x->ref, NULL, x->purpose)) != 0)
    return rv;
  int64_t cap = call_app(call)->cfg.invoice_seller_cap_fen;
  Registry__V1__CheckSellerCapResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__check_seller_cap_response__init(r);
  r->allowed = invoice_cap_allows(window, x->amount, cap);
  r->remaining_fen = window >= cap ? 0 : cap - window;
  *resp = &r->base;
  return 0;
}

int invoice_rpc_check_seller_cap(rpc_call *call, const ProtobufCMessage *m,
                                 ProtobufCMessage **resp) {
  const Registry__V1__CheckSellerCapRequest *req = (const void *)m;
  person_arg x = {.amount = req->amount_fen, .day = clock_today_cst(), .purpose = req->purpose};
  char idn[19];
  if (check_person_search(call, req->id_number, "id_number", req->purpose, idn) != 0) return -1;
  if (req->amount_fen < 0)
    return rpc_fail_field(&call->status, "amount_fen", "amount_fen must not be negative");
  int rv = party_person_ref(core_ring(call), idn, x.ref);
  if (rv != 0) return core_fail_err(call, rv);
  return read_run(call, do_check_cap, &x, resp);
}

static int do_seller_total(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  person_arg *x = arg;
  char from[11], to[11];
  clock_day_format(invoice_window_start(x->day), from);
  clock_day_format(x->day, to);
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, x->ref, 32);
  pg_params_text(&p, from);
  pg_params_text(&p, to);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT coalesce(sum(amount_fen), 0)::int8 FROM invoices WHERE seller_ref = $1 "
                    "AND issued_on BETWEEN $2::date AND $3::date",
                    &p, &r);
  if (rv != 0) return rv;
  int64_t total = pg_int(r, 0, 0);
  PQclear(r);
  if ((rv = access_log_write(pg, core_org(call), call->method->path, x->ref, NULL, x->purpose)) != 0)
    return rv;
  Registry__V1__GetSellerTotalResponse *out = arena_alloc(call->arena, sizeof(*out));
  if (!out) return REG_ENOMEM;
  registry__v1__get_seller_total_response__init(out);
  out->total_fen = total;
  out->window_from = arena_strdup(call->arena, from);
  out->window_to = arena_strdup(call->arena, to);
  out->cap_fen = call_app(call)->cfg.invoice_seller_cap_fen;
  if (!out->window_from || !out->window_to) return REG_ENOMEM;
  *resp = &out->base;
  return 0;
}

int invoice_rpc_get_seller_total(rpc_call *call, const ProtobufCMessage *m,
                                 ProtobufCMessage **resp) {
  const Registry__V1__GetSellerTotalRequest *req = (const void *)m;
  person_arg x = {.day = clock_today_cst(), .purpose = req->purpose};
  char idn[19];
  if (check_person_search(call, req->id_number, "id_number", req->purpose, idn) != 0) return -1;
  if (core_given(req->as_of) && clock_day_parse(req->as_of, &x.day) != 0)
    return rpc_fail_field(&call->status, "as_of", "as_of must be a date YYYY-MM-DD");
  if (x.day > clock_today_cst())
    return rpc_fail_field(&call->status, "as_of", "as_of must not be in the future");
  int rv = party_person_ref(core_ring(call), idn, x.ref);
  if (rv != 0) return core_fail_err(call, rv);
  return read_run(call, do_seller_total, &x, resp);
}

/* ---- GetInvoice / ListInvoices ---- */

static int do_get(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  inv_rec rec;
  int rv = inv_load(core_ring(call), pg, call->arena, arg, 1, &rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "invoice", arg);
  if (rv != 0) return rv;
  if (!core_is_inspector(call) && strcmp(rec.msg->issuer_id, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED, "invoice %s belongs to another issuer",
                    (const char *)arg);
  if ((rv = access_log_write(pg, core_org(call), call->method->path, rec.seller_ref, NULL, "")) != 0)
    return rv;
  return core_respond(call, &registry__v1__get_invoice_response__descriptor, "invoice", rec.msg,
                      resp);
}

int invoice_rpc_get_invoice(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetInvoiceRequest *req = (const void *)m;
  if (core_check_id(call, req->invoice_id, "invoice_id") != 0) return -1;
  return read_run(call, do_get, req->invoice_id, resp);
}

typedef struct list_arg {
  const char *issuer_id;  /* NULL: all (inspector) */
  int by_seller;
  uint8_t seller_ref[32];
  char seller_hex[65];
  clock_day from, to;     /* 0: open */
  const char *purpose;
  page_req page;
} list_arg;

static int do_list(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_arg *c = arg;
  int64_t after_day = 0;
  const char *after_id = NULL;
  if (c->page.cursor[0] && page_cursor_parse(c->page.cursor, &after_day, &after_id) != 0)
    return core_bad_page_token(call);
  char from[11] = "", to[11] = "", after[11] = "";
  if (c->from) clock_day_format(c->from, from);
  if (c->to) clock_day_format(c->to, to);
  if (after_id) clock_day_format((clock_day)after_day, after);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, c->issuer_id);
  if (c->by_seller) pg_params_bytea(&p, c->seller_ref, 32);
  else pg_params_null(&p);
  pg_params_text(&p, c->from ? from : NULL);
  pg_params_text(&p, c->to ? to : NULL);
  pg_params_text(&p, after_id ? after : NULL);
  pg_params_text(&p, after_id);
  pg_params_int(&p, (int64_t)c->page.size + 1);
  PGresult *r = NULL;
  int rv = pg_query_planned(pg,
                            "SELECT " INV_COLS
                            "WHERE ($1::text IS NULL OR i.issuer_id = $1) "
                            "AND ($2::bytea IS NULL OR i.seller_ref = $2) "
                            "AND ($3::date IS NULL OR i.issued_on >= $3::date) "
                            "AND ($4::date IS NULL OR i.issued_on <= $4::date) "
                            "AND ($5::date IS NULL OR (i.issued_on, i.id) > ($5::date, $6::text)) "
                            "ORDER BY i.issued_on, i.id LIMIT $7",
                            &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  size_t n = rows > (size_t)c->page.size ? (size_t)c->page.size : rows;
  inv_rec *recs = arena_calloc(call->arena, n + 1, sizeof(*recs));
  if (!recs) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < n; i++)
    rv = inv_from_row(core_ring(call), call->arena, r, (int)i, 1, &recs[i]);
  PQclear(r);
  if (rv != 0) return rv;
  /* the access log: one row per distinct seller shown in clear (the
   * search's own seller with its purpose) */
  for (size_t i = 0; i < n; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !memcmp(recs[j].seller_ref, recs[i].seller_ref, 32);
    if (!seen && (rv = access_log_write(pg, core_org(call), call->method->path, recs[i].seller_ref, NULL,
                                        c->by_seller ? c->purpose : "")) != 0)
      return rv;
  }
  if (c->by_seller && n == 0 &&
      (rv = access_log_write(pg, core_org(call), call->method->path, c->seller_ref, NULL, c->purpose)))
    return rv;
  Registry__V1__ListInvoicesResponse *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__Invoice **is = arena_calloc(call->arena, n + 1, sizeof(*is));
  if (!out || !is) return REG_ENOMEM;
  registry__v1__list_invoices_response__init(out);
  for (size_t i = 0; i < n; i++) is[i] = recs[i].msg;
  out->invoices = is;
  out->n_invoices = n;
  if (rows > n && n &&
      (rv = core_next_page_token(call, &c->page, recs[n - 1].issued_on, recs[n - 1].msg->id,
                                 &out->next_page_token)) != 0)
    return rv;
  *resp = &out->base;
  return 0;
}


int invoice_rpc_list_invoices(rpc_call *call, const ProtobufCMessage *m,
                              ProtobufCMessage **resp) {
  const Registry__V1__ListInvoicesRequest *req = (const void *)m;
  list_arg c;
  memset(&c, 0, sizeof(c));
  int insp = core_is_inspector(call);
  if (insp) {
    c.issuer_id = core_given(req->issuer_id) ? req->issuer_id : NULL;
  } else {
    if (core_given(req->issuer_id) && strcmp(req->issuer_id, core_org(call)) != 0)
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "an issuer lists its own invoices; issuer_id is for inspectors");
    c.issuer_id = core_org(call);
  }
  if (core_given(req->issuer_id) && strlen(req->issuer_id) >= IDS_MAX)
    return rpc_fail_field(&call->status, "issuer_id", "issuer_id is not a registry id (too long)");
  if (core_given(req->seller_id_number)) {
    if (!insp)
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "listing invoices by seller is for inspectors");
    char idn[19];
    if (check_person_search(call, req->seller_id_number, "seller_id_number", req->purpose, idn))
      return -1;
    int rv = party_person_ref(core_ring(call), idn, c.seller_ref);
    if (rv != 0) return core_fail_err(call, rv);
    sodium_bin2hex(c.seller_hex, sizeof(c.seller_hex), c.seller_ref, 32);
    c.by_seller = 1;
  }
  if (core_parse_day(call, req->from_on, "from_on", &c.from) || core_parse_day(call, req->to_on, "to_on", &c.to))
    return -1;
  if (c.from && c.to && c.from > c.to)
    return rpc_fail_field(&call->status, "to_on", "to_on is before from_on");
  c.purpose = req->purpose;
  const char *filters[] = {call->method->path, c.issuer_id ? c.issuer_id : "*", c.seller_hex,
                           core_given(req->from_on) ? req->from_on : "", core_given(req->to_on) ? req->to_on : ""};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 5, &c.page) != 0) return -1;
  return read_run(call, do_list, &c, resp);
}

/* ---- GetMonthlySummary ---- */

typedef struct summary_arg {
  const char *issuer_id;
  const char *month;
  clock_day start, end; /* [start, end) */
} summary_arg;

/* $1 the issuer, $2 and $3 the month's [start, end) as dates (in from, to). */
static void month_params(const summary_arg *s, pg_params *p, char from[11], char to[11]) {
  clock_day_format(s->start, from);
  clock_day_format(s->end, to);
  pg_params_init(p);
  pg_params_text(p, s->issuer_id);
  pg_params_text(p, from);
  pg_params_text(p, to);
}

/* 《代办税费报告表》: per category, each invoice's category amount taxed at
 * that invoice's rates (README "Amounts"). */
static int summary_categories(rpc_call *call, pg_conn *pg, const summary_arg *s,
                              Registry__V1__GetMonthlySummaryResponse *out) {
  char from[11], to[11];
  pg_params p;
  month_params(s, &p, from, to);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT l.category, i.vat_rate_bp, i.income_tax_rate_bp, sum(l.amount_fen)::int8 "
                    "FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id "
                    "WHERE i.issuer_id = $1 AND i.issued_on >= $2::date AND i.issued_on < $3::date "
                    "GROUP BY i.id, l.category, i.vat_rate_bp, i.income_tax_rate_bp "
                    "ORDER BY l.category",
                    &p, &r);
  if (rv != 0) return rv;
  enum { NCAT = CAT(OTHER) + 1 };
  Registry__V1__CategorySummary *cs = arena_calloc(call->arena, NCAT, sizeof(*cs));
  Registry__V1__CategorySummary **list = arena_calloc(call->arena, NCAT, sizeof(*list));
  int used[NCAT] = {0};
  if (!cs || !list) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < PQntuples(r); i++) {
    int64_t c = pg_int(r, i, 0), amount = pg_int(r, i, 3);
    if (c < 1 || c >= NCAT) {
      rv = REG_EIO;
      break;
    }
    if (!used[c]) {
      registry__v1__category_summary__init(&cs[c]);
      cs[c].category = (Registry__V1__InvoiceCategory)c;
      used[c] = 1;
    }
    cs[c].amount_fen += amount;
    cs[c].vat_fen += invoice_tax(amount, (int32_t)pg_int(r, i, 1));
    cs[c].income_tax_fen += invoice_tax(amount, (int32_t)pg_int(r, i, 2));
  }
  PQclear(r);
  if (rv != 0) return rv;
  for (int c = 1; c < NCAT; c++)
    if (used[c]) list[out->n_categories++] = &cs[c];
  out->categories = list;
  return 0;
}

/* 《代办税费明细报告表》: per seller, this issuer's month and what is due. */
static int summary_sellers(rpc_call *call, pg_conn *pg, const summary_arg *s,
                           Registry__V1__GetMonthlySummaryResponse *out) {
  char from[11], to[11];
  pg_params p;
  month_params(s, &p, from, to);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT i.seller_ref, sum(i.amount_fen)::int8, sum(i.vat_fen)::int8, "
                    "sum(i.income_tax_fen)::int8, count(*)::int8, "
                    "coalesce((SELECT m.amount_fen FROM seller_months m "
                    "  WHERE m.seller_ref = i.seller_ref AND m.month = $2::date), 0), "
                    "(array_agg(i.id ORDER BY i.id))[1], (array_agg(i.seller_enc ORDER BY i.id))[1] "
                    "FROM invoices i WHERE i.issuer_id = $1 AND i.issued_on >= $2::date "
                    "AND i.issued_on < $3::date GROUP BY i.seller_ref ORDER BY i.seller_ref",
                    &p, &r);
  if (rv != 0) return rv;
  size_t n = (size_t)PQntuples(r);
  Registry__V1__SellerSummary **list = arena_calloc(call->arena, n + 1, sizeof(*list));
  Registry__V1__SummaryTotals *t = arena_alloc(call->arena, sizeof(*t));
  if (!list || !t) rv = REG_ENOMEM;
  else registry__v1__summary_totals__init(t);
  invoice_rate rate = invoice_rates_on(rates, s->start);
  for (size_t i = 0; rv == 0 && i < n; i++) {
    Registry__V1__SellerSummary *x = arena_alloc(call->arena, sizeof(*x));
    uint8_t *ref = NULL, *enc = NULL;
    size_t ref_len = 0, enc_len = 0;
    if (!x) {
      rv = REG_ENOMEM;
      break;
    }
    registry__v1__seller_summary__init(x);
    if ((rv = pg_bytea_arena(call->arena, r, (int)i, 0, 32, &ref, &ref_len)) != 0 ||
        (rv = pg_bytea_arena(call->arena, r, (int)i, 7, BODY_MAX, &enc, &enc_len)) != 0 ||
        (rv = party_open_person(core_ring(call), call->arena, enc, enc_len, "invoices", "seller",
                                pg_val(r, (int)i, 6), 1, &x->seller)) != 0)
      break;
    if (ref_len != 32) {
      rv = REG_EIO;
      break;
    }
    x->seller_ref = (ProtobufCBinaryData){32, ref};
    x->amount_fen = pg_int(r, (int)i, 1);
    x->vat_invoiced_fen = pg_int(r, (int)i, 2);
    x->income_tax_fen = pg_int(r, (int)i, 3);
    x->all_issuers_amount_fen = pg_int(r, (int)i, 5);
    x->vat_due_fen = x->all_issuers_amount_fen > rate.vat_threshold_fen
                         ? invoice_tax(x->amount_fen, rate.vat_bp)
                         : 0;
    x->vat_adjustment_fen = x->vat_due_fen - x->vat_invoiced_fen;
    t->amount_fen += x->amount_fen;
    t->vat_invoiced_fen += x->vat_invoiced_fen;
    t->vat_due_fen += x->vat_due_fen;
    t->vat_adjustment_fen += x->vat_adjustment_fen;
    t->income_tax_fen += x->income_tax_fen;
    t->invoice_count += (int32_t)pg_int(r, (int)i, 4);
    list[i] = x;
  }
  PQclear(r);
  if (rv != 0) return rv;
  /* every seller shown in clear is access-logged */
  for (size_t i = 0; i < n; i++)
    if ((rv = access_log_write(pg, core_org(call), call->method->path, list[i]->seller_ref.data, NULL,
                               "")) != 0)
      return rv;
  out->sellers = list;
  out->n_sellers = n;
  out->totals = t;
  return 0;
}

static int do_summary(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const summary_arg *s = arg;
  Registry__V1__GetMonthlySummaryResponse *out = arena_alloc(call->arena, sizeof(*out));
  if (!out) return REG_ENOMEM;
  registry__v1__get_monthly_summary_response__init(out);
  out->issuer_id = (char *)s->issuer_id;
  out->month = (char *)s->month;
  int rv = summary_categories(call, pg, s, out);
  if (rv == 0) rv = summary_sellers(call, pg, s, out);
  if (rv != 0) return rv;
  *resp = &out->base;
  return 0;
}

int invoice_rpc_get_monthly_summary(rpc_call *call, const ProtobufCMessage *m,
                                    ProtobufCMessage **resp) {
  const Registry__V1__GetMonthlySummaryRequest *req = (const void *)m;
  summary_arg s = {.month = req->month};
  if (core_is_inspector(call)) {
    if (core_check_id(call, req->issuer_id, "issuer_id") != 0) return -1;
    s.issuer_id = req->issuer_id;
  } else {
    if (core_given(req->issuer_id) && strcmp(req->issuer_id, core_org(call)) != 0)
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "an issuer reads its own monthly summary; issuer_id is for inspectors");
    s.issuer_id = core_org(call);
  }
  if (invoice_month_parse(req->month, &s.start) != 0)
    return rpc_fail_field(&call->status, "month", "month must be YYYY-MM");
  int y, mo, d;
  clock_day_to_ymd(s.start, &y, &mo, &d);
  s.end = mo == 12 ? clock_day_from_ymd(y + 1, 1, 1) : clock_day_from_ymd(y, mo + 1, 1);
  return read_run(call, do_summary, &s, resp);
}
