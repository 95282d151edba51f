/*
 * CreditService handlers (SPEC §4.4, §6; DOMAIN §4) and their SQL. Every
 * table is append-only: statuses are derived here at query time from
 * supersessions, dispute resolutions and dates (credit_rules.c). Mutations
 * run in write_run; reads of a natural person's credit data in read_run
 * with the access-log row in the same transaction. Profiles are cached in
 * Redis behind a per-subject generation bumped after every committed
 * change (README "The profile cache"). Decisions: services/credit/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "registry/v1/common.pb-c.h"
#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/base/log.h"
#include "services/core/access_log.h"
#include "services/core/app.h"
#include "services/core/events.h"
#include "services/core/ident.h"
#include "services/core/ids.h"
#include "services/core/page.h"
#include "services/core/party.h"
#include "services/core/pbtime.h"
#include "services/core/rpcutil.h"
#include "services/core/text.h"
#include "services/core/write.h"
#include "services/credit/credit.h"
#include "services/credit/credit_rpc.h"

#define EV(x) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##x
#define SK(x) REGISTRY__V1__SUBJECT_KIND__SUBJECT_KIND_##x
#define OUT(x) REGISTRY__V1__DISPUTE_OUTCOME__DISPUTE_OUTCOME_##x
#define ROLE(x) REGISTRY__V1__ROLE__ROLE_##x

#define CACHE_TTL_S "300"
#define ENC_MAX (1u << 20)

static credit_grade_rule grade_rule;

int credit_init(const reg_config *cfg) {
  char err[200];
  credit_grade_rule_default(&grade_rule);
  if (credit_grade_rule_parse(cfg->credit_grade, &grade_rule, err, sizeof(err)) != 0) {
    log_error(NULL, "bad credit_grade configuration: %s", err);
    return REG_EINVAL;
  }
  return 0;
}

static int has_role(const rpc_call *call, int role) { return (call->caller.roles >> role) & 1u; }

static int bad(rpc_call *call, const credit_violation *v) {
  return rpc_fail_field(&call->status, v->field, "%s %s", v->field, v->message);
}




static int check_text(rpc_call *call, char *s, const char *field, int required) {
  if (s) text_trim(s);
  if (required && !core_given(s)) return rpc_fail_field(&call->status, field, "%s is required", field);
  if (s && text_chars(s) > CREDIT_TEXT_MAX)
    return rpc_fail_field(&call->status, field, "%s must be at most %d characters", field,
                          CREDIT_TEXT_MAX);
  return 0;
}

static char *day_str(arena *a, clock_day d) {
  if (!d) return arena_strdup(a, "");
  char s[11];
  clock_day_format(d, s);
  return arena_strdup(a, s);
}

/* ---- subjects ---- */

typedef struct subject_rec {
  Registry__V1__Subject *msg;
  int kind;
  int person;
  uint8_t ref[32];          /* person: blind index */
  char uscc[19];
  char organization_id[IDS_MAX];
  char registered_by[IDS_MAX];
} subject_rec;

#define SUBJECT_COLS                                                                   \
  "id, kind, person_ref, person_enc, coalesce(uscc, ''), coalesce(name, ''), "         \
  "coalesce(organization_id, ''), registered_by, " PG_US("created_at") " FROM credit_subjects "

static int subject_from_row(rpc_call *call, const PGresult *r, int k, int unmasked,
                            subject_rec *out) {
  subject_rec s;
  memset(&s, 0, sizeof(s));
  arena *a = call->arena;
  Registry__V1__Subject *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__subject__init(m);
  m->id = arena_strdup(a, pg_val(r, k, 0));
  s.kind = (int)pg_int(r, k, 1);
  m->kind = (Registry__V1__SubjectKind)s.kind;
  s.person = credit_kind_is_person(s.kind);
  snprintf(s.uscc, sizeof(s.uscc), "%s", pg_val(r, k, 4));
  snprintf(s.organization_id, sizeof(s.organization_id), "%s", pg_val(r, k, 6));
  snprintf(s.registered_by, sizeof(s.registered_by), "%s", pg_val(r, k, 7));
  m->uscc = arena_strdup(a, s.uscc);
  m->organization_id = arena_strdup(a, s.organization_id);
  m->registered_by = arena_strdup(a, s.registered_by);
  m->created_at = pbtime_new(a, pg_int(r, k, 8));
  if (!m->id || !m->uscc || !m->organization_id || !m->registered_by || !m->created_at)
    return REG_ENOMEM;
  if (s.person) {
    uint8_t *ref = NULL, *enc = NULL;
    size_t ref_len = 0, enc_len = 0;
    Registry__V1__Person *p = NULL;
    int rv;
    if ((rv = pg_bytea_arena(a, r, k, 2, 32, &ref, &ref_len)) != 0 ||
        (rv = pg_bytea_arena(a, r, k, 3, ENC_MAX, &enc, &enc_len)) != 0 ||
        (rv = party_open_person(core_ring(call), a, enc, enc_len, "credit_subjects", "person", m->id,
                                unmasked, &p)) != 0)
      return rv;
    if (ref_len != 32) return REG_EIO;
    memcpy(s.ref, ref, 32);
    m->name = p->name;
    m->id_number = p->id_number;
  } else {
    m->name = arena_strdup(a, pg_val(r, k, 5));
    if (!m->name) return REG_ENOMEM;
  }
  s.msg = m;
  *out = s;
  return 0;
}

/* A subject by id, USCC or a person's blind index (one of them). */
static int subject_load(rpc_call *call, pg_conn *pg, const char *id, const char *uscc,
                        const uint8_t *ref, int unmasked, subject_rec *out) {
  pg_params p;
  pg_params_init(&p);
  const char *sql;
  if (id) {
    pg_params_text(&p, id);
    sql = "SELECT " SUBJECT_COLS "WHERE id = $1";
  } else if (uscc) {
    pg_params_text(&p, uscc);
    sql = "SELECT " SUBJECT_COLS "WHERE uscc = $1";
  } else {
    pg_params_bytea(&p, ref, 32);
    sql = "SELECT " SUBJECT_COLS "WHERE person_ref = $1";
  }
  PGresult *r = NULL;
  int rv = pg_query(pg, sql, &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? subject_from_row(call, r, 0, unmasked, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* The access-log row of a person's credit data or identity read. */
static int log_read(rpc_call *call, pg_conn *pg, const subject_rec *s, const char *purpose) {
  return access_log_write(pg, core_org(call), call->method->path, s->person ? s->ref : NULL,
                          s->msg->id, purpose ? purpose : "");
}

/* Appends an event naming the subject over the packed record. */
static int emit(rpc_call *call, pg_conn *pg, int type, const char *subject_id,
                const ProtobufCMessage *record, char ev[IDS_MAX]) {
  size_t len = 0;
  uint8_t *buf = arena_pack(call->arena, record, &len);
  if (!buf) return REG_ENOMEM;
  event_refs refs = {.subject_id = subject_id};
  return events_append(pg, type, core_org(call), &refs, buf, len, ev);
}

/* ---- the profile cache (Redis) ---- */

static void cache_key(char *out, size_t cap, const char *subject_id, int gen) {
  snprintf(out, cap, gen ? "credit:{%s}:gen" : "credit:{%s}", subject_id);
}

/* After a committed change: entries computed before it are never served. */
static void cache_bump(rpc_call *call, const char *subject_id) {
  kv_conn *kv = call_kv(call);
  if (!kv || !core_given(subject_id)) return;
  char key[96];
  cache_key(key, sizeof(key), subject_id, 1);
  const char *argv[] = {"INCR", key};
  redisReply *r = NULL;
  if (kv_command(kv, 2, argv, NULL, &r) == 0) freeReplyObject(r);
  /* Redis down: entries expire within CACHE_TTL_S (README) */
}

/* A cached profile: "<gen> <day> <person 0|1> " ‖ packed response. */
typedef struct cached {
  int hit;
  int person;
  long long gen;      /* the generation read before computing (for the store) */
  Registry__V1__GetCreditProfileResponse *resp;
} cached;

static void cache_get(rpc_call *call, const char *subject_id, clock_day today, cached *c) {
  memset(c, 0, sizeof(*c));
  c->gen = -1;
  kv_conn *kv = call_kv(call);
  if (!kv) return;
  char k1[96], k2[96];
  cache_key(k1, sizeof(k1), subject_id, 0);
  cache_key(k2, sizeof(k2), subject_id, 1);
  const char *argv[] = {"MGET", k1, k2};
  redisReply *r = NULL;
  if (kv_command(kv, 3, argv, NULL, &r) != 0) return;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) goto out;
  const redisReply *v = r->element[0], *g = r->element[1];
  c->gen = g->type == REDIS_REPLY_STRING ? strtoll(g->str, NULL, 10) : 0;
  if (v->type != REDIS_REPLY_STRING) goto out;
  long long gen = 0;
  int day = 0, person = 0, used = 0;
  /* the header ends at its one space; "%n" before it, not after: a space
   * in the format would also skip the packed message's leading bytes when
   * they are whitespace (its first tag is 0x0a) */
  if (sscanf(v->str, "%lld %d %d%n", &gen, &day, &person, &used) != 3 || used <= 0 ||
      (size_t)used >= v->len || v->str[used] != ' ' || gen != c->gen || day != today)
    goto out;
  used++;
  c->resp = registry__v1__get_credit_profile_response__unpack(
      arena_allocator(call->arena), v->len - (size_t)used, (const uint8_t *)v->str + used);
  if (c->resp) {
    c->hit = 1;
    c->person = person;
  }
out:
  freeReplyObject(r);
}

static void cache_put(rpc_call *call, const char *subject_id, clock_day today, long long gen,
                      int person, const Registry__V1__GetCreditProfileResponse *resp) {
  kv_conn *kv = call_kv(call);
  if (!kv || gen < 0) return;
  size_t len = 0;
  uint8_t *packed = arena_pack(call->arena, &resp->base, &len);
  char head[64];
  int hl = snprintf(head, sizeof(head), "%lld %d %d ", gen, (int)today, person ? 1 : 0);
  char *val = packed ? arena_alloc(call->arena, (size_t)hl + len) : NULL;
  if (!val) return;
  memcpy(val, head, (size_t)hl);
  memcpy(val + hl, packed, len);
  char key[96];
  cache_key(key, sizeof(key), subject_id, 0);
  const char *argv[] = {"SET", key, val, "EX", CACHE_TTL_S};
  size_t lens[] = {3, strlen(key), (size_t)hl + len, 2, strlen(CACHE_TTL_S)};
  redisReply *r = NULL;
  if (kv_command(kv, 5, argv, lens, &r) == 0) freeReplyObject(r);
}

/* ---- records ---- */

#define RECORD_COLS                                                                        \
  "r.id, r.subject_id, r.category, r.severity, r.occurred_on::text, "                      \
  "coalesce(r.ended_on::text, ''), r.summary, r.evidence_sha256, r.source_organization_id, " \
  "coalesce(r.supersedes_record_id, ''), " PG_US("r.created_at") ", "                      \
  "EXISTS (SELECT 1 FROM credit_records s WHERE s.supersedes_record_id = r.id), "          \
  "EXISTS (SELECT 1 FROM credit_disputes d JOIN credit_dispute_resolutions x "             \
  "  ON x.dispute_id = d.id WHERE d.record_id = r.id AND x.outcome = 3), "                 \
  "EXISTS (SELECT 1 FROM credit_disputes d WHERE d.record_id = r.id AND NOT EXISTS "       \
  "  (SELECT 1 FROM credit_dispute_resolutions x WHERE x.dispute_id = d.id)) "             \
  "FROM credit_records r "

typedef struct record_rec {
  Registry__V1__CreditRecord *msg;
  credit_record_facts facts;
} record_rec;

static int record_from_row(arena *a, const PGresult *r, int k, clock_day today, record_rec *out) {
  record_rec x;
  memset(&x, 0, sizeof(x));
  Registry__V1__CreditRecord *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__credit_record__init(m);
  credit_record_facts *f = &x.facts;
  f->category = (int)pg_int(r, k, 2);
  f->severity = (int)pg_int(r, k, 3);
  if (clock_day_parse(pg_val(r, k, 4), &f->occurred_on) != 0) return REG_EIO;
  if (*pg_val(r, k, 5) && clock_day_parse(pg_val(r, k, 5), &f->ended_on) != 0) return REG_EIO;
  f->superseded = pg_bool(r, k, 11);
  f->withdrawn = pg_bool(r, k, 12);
  f->open_dispute = pg_bool(r, k, 13);
  uint8_t *ev = NULL;
  size_t ev_len = 0;
  int rv = pg_bytea_arena(a, r, k, 7, 32 * CREDIT_EVIDENCE_MAX, &ev, &ev_len);
  if (rv != 0) return rv;
  if (ev_len % 32) return REG_EIO;
  m->n_evidence_sha256 = ev_len / 32;
  m->evidence_sha256 = arena_calloc(a, m->n_evidence_sha256 + 1, sizeof(*m->evidence_sha256));
  if (!m->evidence_sha256) return REG_ENOMEM;
  for (size_t i = 0; i < m->n_evidence_sha256; i++)
    m->evidence_sha256[i] = (ProtobufCBinaryData){32, ev + 32 * i};
  m->id = arena_strdup(a, pg_val(r, k, 0));
  m->subject_id = arena_strdup(a, pg_val(r, k, 1));
  m->category = (Registry__V1__RecordCategory)f->category;
  m->polarity = (Registry__V1__Polarity)credit_polarity(f->category);
  m->severity = f->severity;
  m->occurred_on = arena_strdup(a, pg_val(r, k, 4));
  m->ended_on = arena_strdup(a, pg_val(r, k, 5));
  m->summary = arena_strdup(a, pg_val(r, k, 6));
  m->source_organization_id = arena_strdup(a, pg_val(r, k, 8));
  m->supersedes_record_id = arena_strdup(a, pg_val(r, k, 9));
  m->created_at = pbtime_new(a, pg_int(r, k, 10));
  m->status = (Registry__V1__RecordStatus)credit_record_status(f, today);
  m->expires_on = m->polarity == REGISTRY__V1__POLARITY__POLARITY_NEGATIVE
                      ? day_str(a, credit_expires_on(f->occurred_on, f->ended_on))
                      : arena_strdup(a, "");
  if (!m->id || !m->subject_id || !m->occurred_on || !m->ended_on || !m->summary ||
      !m->source_organization_id || !m->supersedes_record_id || !m->created_at || !m->expires_on)
    return REG_ENOMEM;
  x.msg = m;
  *out = x;
  return 0;
}

static int record_load(pg_conn *pg, arena *a, const char *id, clock_day today, record_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " RECORD_COLS "WHERE r.id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? record_from_row(a, r, 0, today, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* May the caller submit records about (or dispute records of, as a
 * platform) this subject? SPEC §4.4. */
static int may_submit(rpc_call *call, pg_conn *pg, const subject_rec *s, int *ok) {
  *ok = 0;
  if (core_is_inspector(call)) {
    *ok = 1;
    return 0;
  }
  if (has_role(call, ROLE(APPRAISER)) && s->kind == SK(APPRAISER_PERSON) &&
      strcmp(s->registered_by, core_org(call)) == 0) {
    *ok = 1;
    return 0;
  }
  if (!has_role(call, ROLE(PLATFORM)) ||
      (s->kind != SK(SELLER_PERSON) && s->kind != SK(SELLER_BUSINESS)))
    return 0;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, core_org(call));
  pg_params_int(&p, s->person ? 1 : 2);
  if (s->person) pg_params_bytea(&p, s->ref, 32);
  else pg_params_bytea(&p, s->uscc, strlen(s->uscc));
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT 1 FROM listings WHERE seller_ref = $3 AND seller_kind = $2 "
                    "AND platform_id = $1 LIMIT 1",
                    &p, &r);
  if (rv != 0) return rv;
  *ok = PQntuples(r) == 1;
  PQclear(r);
  return 0;
}

/* Inserts a record (checked) and its event; *out: the record as stored. */
typedef struct record_new {
  const char *subject_id, *source;
  int category, severity;
  clock_day occurred, ended;
  const char *summary;
  ProtobufCBinaryData *evidence;
  size_t n_evidence;
  const char *supersedes;
} record_new;

static int record_insert(rpc_call *call, pg_conn *pg, const record_new *x, clock_day today,
                         record_rec *out) {
  char id[IDS_MAX], ev[IDS_MAX];
  ids_new("rec", id, sizeof(id));
  uint8_t *evid = arena_alloc(call->arena, 32 * x->n_evidence + 1);
  if (!evid) return REG_ENOMEM;
  for (size_t i = 0; i < x->n_evidence; i++) memcpy(evid + 32 * i, x->evidence[i].data, 32);
  /* the event's record: the record as submitted (its status is derived) */
  Registry__V1__CreditRecord m;
  registry__v1__credit_record__init(&m);
  m.id = id;
  m.subject_id = (char *)x->subject_id;
  m.category = x->category;
  m.polarity = credit_polarity(x->category);
  m.severity = x->severity;
  m.occurred_on = day_str(call->arena, x->occurred);
  m.ended_on = day_str(call->arena, x->ended);
  m.summary = (char *)x->summary;
  m.evidence_sha256 = x->evidence;
  m.n_evidence_sha256 = x->n_evidence;
  m.source_organization_id = (char *)x->source;
  m.supersedes_record_id = (char *)(x->supersedes ? x->supersedes : "");
  if (!m.occurred_on || !m.ended_on) return REG_ENOMEM;
  int rv = emit(call, pg, EV(RECORD_SUBMITTED), x->subject_id, &m.base, ev);
  if (rv != 0) return rv;
  PGresult *r = NULL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, x->subject_id);
  pg_params_int(&p, x->category);
  pg_params_int(&p, x->severity);
  pg_params_text(&p, m.occurred_on);
  pg_params_text(&p, x->ended ? m.ended_on : NULL);
  pg_params_text(&p, x->summary);
  pg_params_bytea(&p, evid, 32 * x->n_evidence);
  pg_params_text(&p, x->source);
  pg_params_text(&p, x->supersedes);
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  rv = pg_query(pg,
                "INSERT INTO credit_records (id, subject_id, category, severity, occurred_on, "
                "ended_on, summary, evidence_sha256, source_organization_id, supersedes_record_id, "
                "event_id, created_at) VALUES ($1, $2, $3, $4, $5::date, $6::date, $7, $8, $9, $10, "
                "$11, " PG_TS(12) ") ON CONFLICT (supersedes_record_id) DO NOTHING RETURNING id",
                &p, &r);
  if (rv != 0) return rv;
  int inserted = PQntuples(r) == 1;
  PQclear(r);
  if (!inserted) return REG_EEXIST; /* another record superseded it first */
  return record_load(pg, call->arena, id, today, out);
}

/* ---- RegisterSubject ---- */

static int do_register(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                       ProtobufCMessage **stored) {
  Registry__V1__RegisterSubjectRequest *req = arg;
  int person = credit_kind_is_person((int)req->kind);
  char id[IDS_MAX], ev[IDS_MAX];
  ids_new("sub", id, sizeof(id));
  party_sealed sealed;
  memset(&sealed, 0, sizeof(sealed));
  int rv;
  if (person) {
    Registry__V1__Person pp;
    registry__v1__person__init(&pp);
    pp.name = req->name;
    pp.id_number = req->id_number;
    if ((rv = party_seal_person(core_ring(call), call->arena, &pp, "credit_subjects", "person", id,
                                &sealed)) != 0)
      return rv;
  }
  /* an identifier registered before: that subject */
  subject_rec s;
  rv = subject_load(call, pg, NULL, person ? NULL : req->uscc, person ? sealed.ref : NULL,
                    core_is_inspector(call), &s);
  int created = 0;
  if (rv == REG_ENOTFOUND) {
    Registry__V1__Subject rec;
    registry__v1__subject__init(&rec);
    rec.id = id;
    rec.kind = req->kind;
    rec.uscc = person ? (char *)"" : req->uscc;
    rec.organization_id = req->organization_id;
    rec.registered_by = (char *)core_org(call);
    if ((rv = emit(call, pg, EV(SUBJECT_REGISTERED), id, &rec.base, ev)) != 0) return rv;
    pg_params p;
    pg_params_init(&p);
    pg_params_text(&p, id);
    pg_params_int(&p, req->kind);
    if (person) {
      pg_params_bytea(&p, sealed.ref, 32);
      pg_params_bytea(&p, sealed.enc, sealed.enc_len);
      pg_params_null(&p);
      pg_params_null(&p);
    } else {
      pg_params_null(&p);
      pg_params_null(&p);
      pg_params_text(&p, req->uscc);
      pg_params_text(&p, req->name);
    }
    pg_params_text(&p, core_given(req->organization_id) ? req->organization_id : NULL);
    pg_params_text(&p, core_org(call));
    pg_params_text(&p, ev);
    pg_params_int(&p, pg_tx_time_us(pg));
    PGresult *r = NULL;
    rv = pg_query(pg,
                  "INSERT INTO credit_subjects (id, kind, person_ref, person_enc, uscc, name, "
                  "organization_id, registered_by, event_id, created_at) VALUES ($1, $2, $3, $4, "
                  "$5, $6, $7, $8, $9, " PG_TS(10) ") ON CONFLICT DO NOTHING RETURNING id",
                  &p, &r);
    if (rv != 0) return rv;
    created = PQntuples(r) == 1;
    PQclear(r);
    if (!created) return REG_ECONFLICT; /* registered concurrently: retried, then found */
    rv = subject_load(call, pg, id, NULL, NULL, core_is_inspector(call), &s);
  }
  if (rv != 0) return rv;
  if (core_is_inspector(call) && s.person && (rv = log_read(call, pg, &s, "")) != 0) return rv;
  Registry__V1__RegisterSubjectResponse *out = arena_alloc(call->arena, sizeof(*out));
  if (!out) return REG_ENOMEM;
  registry__v1__register_subject_response__init(out);
  out->subject = s.msg;
  out->created = created;
  if (core_is_inspector(call) && s.person) { /* the replay keeps the masked subject */
    subject_rec masked;
    Registry__V1__RegisterSubjectResponse *copy = arena_alloc(call->arena, sizeof(*copy));
    if (!copy) return REG_ENOMEM;
    if ((rv = subject_load(call, pg, s.msg->id, NULL, NULL, 0, &masked)) != 0) return rv;
    *copy = *out;
    copy->subject = masked.msg;
    *stored = &copy->base;
  }
  *resp = &out->base;
  return 0;
}

int credit_rpc_register_subject(rpc_call *call, const ProtobufCMessage *m,
                                ProtobufCMessage **resp) {
  Registry__V1__RegisterSubjectRequest *req = (Registry__V1__RegisterSubjectRequest *)m;
  credit_violation v;
  if (credit_rules_check_subject(req, &v) != 0) return bad(call, &v);
  int k = (int)req->kind, ok = core_is_inspector(call) || has_role(call, ROLE(ADMIN));
  if (has_role(call, ROLE(PLATFORM)) && (k == SK(SELLER_PERSON) || k == SK(SELLER_BUSINESS))) ok = 1;
  if (has_role(call, ROLE(APPRAISER)) && k == SK(APPRAISER_PERSON)) ok = 1;
  if (!ok)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "the caller's roles may not register subjects of this kind");
  return write_run(call, m, &registry__v1__register_subject_response__descriptor, do_register,
                   req, resp);
}

/* ---- GetSubject ---- */

typedef struct get_subject_arg {
  const char *id, *uscc;
  int by_ref;
  uint8_t ref[32];
  const char *purpose;
} get_subject_arg;

static int do_get_subject(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  get_subject_arg *x = arg;
  subject_rec s;
  int insp = core_is_inspector(call);
  int rv = subject_load(call, pg, x->id, x->uscc, x->by_ref ? x->ref : NULL, insp, &s);
  if (rv == REG_ENOTFOUND)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "no such subject");
  if (rv != 0) return rv;
  if (s.person && (x->by_ref || insp) && (rv = log_read(call, pg, &s, x->purpose)) != 0) return rv;
  return core_respond(call, &registry__v1__get_subject_response__descriptor, "subject", s.msg,
                      resp);
}

int credit_rpc_get_subject(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetSubjectRequest *req = (const void *)m;
  get_subject_arg x = {.purpose = req->purpose};
  char norm[19];
  switch (req->key_case) {
  case REGISTRY__V1__GET_SUBJECT_REQUEST__KEY_SUBJECT_ID:
    if (core_check_id(call, req->subject_id, "subject_id") != 0) return -1;
    x.id = req->subject_id;
    break;
  case REGISTRY__V1__GET_SUBJECT_REQUEST__KEY_USCC:
    if (ident_uscc_check(req->uscc, norm) != 0)
      return rpc_fail_field(&call->status, "uscc", "uscc is not a valid unified social credit code");
    x.uscc = arena_strdup(call->arena, norm);
    if (!x.uscc) return core_fail_err(call, REG_ENOMEM);
    break;
  case REGISTRY__V1__GET_SUBJECT_REQUEST__KEY_ID_NUMBER: {
    if (ident_resident_id_check(req->id_number, norm) != 0)
      return rpc_fail_field(&call->status, "id_number", "id_number is not a valid resident ID number");
    if (access_log_purpose_check(req->purpose) != 0)
      return rpc_fail_field(&call->status, "purpose", "purpose is required when searching by an ID number");
    int rv = party_person_ref(core_ring(call), norm, x.ref);
    if (rv != 0) return core_fail_err(call, rv);
    x.by_ref = 1;
    break;
  }
  default:
    return rpc_fail_field(&call->status, "subject_id", "one of subject_id, uscc or id_number is required");
  }
  return read_run(call, do_get_subject, &x, resp);
}

/* ---- SubmitRecord ---- */

typedef struct submit_arg {
  Registry__V1__SubmitRecordRequest *req;
  clock_day occurred, ended, today;
} submit_arg;

static int do_submit(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                     ProtobufCMessage **stored) {
  (void)stored;
  submit_arg *x = arg;
  const Registry__V1__SubmitRecordRequest *req = x->req;
  subject_rec s;
  int rv = subject_load(call, pg, req->subject_id, NULL, NULL, 0, &s);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "subject", req->subject_id);
  if (rv != 0) return rv;
  int ok = 0;
  if ((rv = may_submit(call, pg, &s, &ok)) != 0) return rv;
  if (!ok)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "the caller may not submit records about subject %s", req->subject_id);
  if (core_given(req->supersedes_record_id)) {
    record_rec old;
    rv = record_load(pg, call->arena, req->supersedes_record_id, x->today, &old);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "record", req->supersedes_record_id);
    if (rv != 0) return rv;
    if (strcmp(old.msg->subject_id, s.msg->id) != 0)
      return rpc_fail_field(&call->status, "supersedes_record_id",
                            "supersedes_record_id names a record of another subject");
    if (!core_is_inspector(call) && strcmp(old.msg->source_organization_id, core_org(call)) != 0)
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "only the record's source or an inspector may supersede it");
    if (old.facts.superseded)
      return core_refuse(call, "RECORD_SUPERSEDED", "the record is already superseded");
  }
  record_new n = {s.msg->id, core_org(call), (int)req->category, req->severity, x->occurred, x->ended,
                  req->summary, req->evidence_sha256, req->n_evidence_sha256,
                  core_given(req->supersedes_record_id) ? req->supersedes_record_id : NULL};
  record_rec rec;
  rv = record_insert(call, pg, &n, x->today, &rec);
  if (rv == REG_EEXIST) return core_refuse(call, "RECORD_SUPERSEDED", "the record is already superseded");
  if (rv != 0) return rv;
  return core_respond(call, &registry__v1__submit_record_response__descriptor, "record", rec.msg,
                      resp);
}

int credit_rpc_submit_record(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  submit_arg x = {.req = (Registry__V1__SubmitRecordRequest *)m, .today = clock_today_cst()};
  credit_violation v;
  if (credit_rules_check_record(x.req, x.today, &x.occurred, &x.ended, &v) != 0) return bad(call, &v);
  int rv = write_run(call, m, &registry__v1__submit_record_response__descriptor, do_submit, &x, resp);
  if (rv == 0) cache_bump(call, x.req->subject_id);
  return rv;
}

/* ---- GetCreditProfile ---- */

typedef struct profile_arg {
  const char *subject_id, *purpose;
  clock_day today;
  int person;
  Registry__V1__GetCreditProfileResponse *resp;
} profile_arg;

/* The first row of dishonesty entries whose listed_on (column `col`) and
 * removed_on ('' when not removed, column col + 1) put it in force on
 * `today`: *row (-1: none) and its days (when asked for). REG_EIO for a date that does not
 * parse on the way. */
static int first_in_force(const PGresult *r, int col, clock_day today, int *row,
                          clock_day *listed_on, clock_day *removed_on) {
  *row = -1;
  for (int i = 0; i < PQntuples(r); i++) {
    clock_day listed = 0, removed = 0;
    if (clock_day_parse(pg_val(r, i, col), &listed) != 0 ||
        (*pg_val(r, i, col + 1) && clock_day_parse(pg_val(r, i, col + 1), &removed) != 0))
      return REG_EIO;
    if (credit_list_active(listed, removed, today)) {
      *row = i;
      if (listed_on) *listed_on = listed;
      if (removed_on) *removed_on = removed;
      return 0;
    }
  }
  return 0;
}

/* Every record's facts and the list entries of a subject → the profile. */
static int compute_profile(rpc_call *call, pg_conn *pg, const char *subject_id, clock_day today,
                           Registry__V1__GetCreditProfileResponse **out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, subject_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " RECORD_COLS "WHERE r.subject_id = $1", &p, &r);
  if (rv != 0) return rv;
  size_t n = (size_t)PQntuples(r);
  credit_record_facts *f = arena_calloc(call->arena, n + 1, sizeof(*f));
  if (!f) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < n; i++) {
    record_rec x;
    rv = record_from_row(call->arena, r, (int)i, today, &x);
    if (rv == 0) f[i] = x.facts;
  }
  PQclear(r);
  if (rv != 0) return rv;
  rv = pg_query(pg,
                "SELECT e.listed_on::text, coalesce(m.removed_on::text, '') FROM dishonesty_entries e "
                "LEFT JOIN dishonesty_removals m ON m.entry_id = e.id WHERE e.subject_id = $1",
                &p, &r);
  if (rv != 0) return rv;
  int row = -1;
  rv = first_in_force(r, 0, today, &row, NULL, NULL);
  PQclear(r);
  if (rv != 0) return rv;
  int on_list = row >= 0;
  credit_grade g;
  credit_grade_compute(&grade_rule, f, n, on_list, today, &g);
  Registry__V1__GetCreditProfileResponse *o = arena_alloc(call->arena, sizeof(*o));
  if (!o) return REG_ENOMEM;
  registry__v1__get_credit_profile_response__init(o);
  o->subject_id = arena_strdup(call->arena, subject_id);
  o->grade = (Registry__V1__Grade)g.grade;
  o->score = g.score;
  o->points = g.points;
  o->positive_count = g.positive_count;
  o->negative_count = g.negative_count;
  o->open_disputes = g.open_disputes;
  o->on_dishonesty_list = on_list;
  o->computed_at = pbtime_new(call->arena, pg_tx_time_us(pg));
  if (!o->subject_id || !o->computed_at) return REG_ENOMEM;
  *out = o;
  return 0;
}

static int do_profile(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  profile_arg *x = arg;
  subject_rec s;
  int rv = subject_load(call, pg, x->subject_id, NULL, NULL, 0, &s);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "subject", x->subject_id);
  if (rv != 0) return rv;
  x->person = s.person;
  if (s.person && access_log_purpose_check(x->purpose) != 0)
    return rpc_fail_field(&call->status, "purpose",
                          "purpose is required to read a natural person's credit data");
  if (!x->resp && (rv = compute_profile(call, pg, s.msg->id, x->today, &x->resp)) != 0) return rv;
  if (s.person && (rv = log_read(call, pg, &s, x->purpose)) != 0) return rv;
  *resp = &x->resp->base;
  return 0;
}

int credit_rpc_get_credit_profile(rpc_call *call, const ProtobufCMessage *m,
                                  ProtobufCMessage **resp) {
  const Registry__V1__GetCreditProfileRequest *req = (const void *)m;
  if (core_check_id(call, req->subject_id, "subject_id") != 0) return -1;
  profile_arg x = {.subject_id = req->subject_id, .purpose = req->purpose,
                   .today = clock_today_cst()};
  cached c;
  cache_get(call, req->subject_id, x.today, &c);
  if (c.hit && !c.person) { /* an organization's profile: no access log */
    *resp = &c.resp->base;
    return 0;
  }
  if (c.hit) x.resp = c.resp; /* a person's: the access log still needs PostgreSQL */
  int rv = read_run(call, do_profile, &x, resp);
  if (rv == 0 && !c.hit) cache_put(call, req->subject_id, x.today, c.gen, x.person, x.resp);
  return rv;
}

/* ---- ListRecords ---- */

typedef struct list_records_arg {
  const Registry__V1__ListRecordsRequest *req;
  clock_day from, to, today;
  page_req page;
} list_records_arg;

static int do_list_records(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_records_arg *x = arg;
  const Registry__V1__ListRecordsRequest *req = x->req;
  subject_rec s;
  int rv = subject_load(call, pg, req->subject_id, NULL, NULL, 0, &s);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "subject", req->subject_id);
  if (rv != 0) return rv;
  int insp = core_is_inspector(call);
  if (!insp && (!s.organization_id[0] || strcmp(s.organization_id, core_org(call)) != 0))
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "records are read by inspectors and by the organization the subject is");
  if (s.person && access_log_purpose_check(req->purpose) != 0)
    return rpc_fail_field(&call->status, "purpose",
                          "purpose is required to read a natural person's credit data");
  int64_t after_day = 0;
  const char *after_id = NULL;
  if (x->page.cursor[0] && page_cursor_parse(x->page.cursor, &after_day, &after_id) != 0)
    return core_bad_page_token(call);
  char from[11], to[11], after[11];
  clock_day_format(x->from, from);
  clock_day_format(x->to, to);
  clock_day_format((clock_day)after_day, after);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, s.msg->id);
  pg_params_int(&p, req->category);
  pg_params_text(&p, x->from ? from : NULL);
  pg_params_text(&p, x->to ? to : NULL);
  pg_params_text(&p, core_given(req->source_organization_id) ? req->source_organization_id : NULL);
  pg_params_text(&p, after_id ? after : NULL);
  pg_params_text(&p, after_id);
  PGresult *r = NULL;
  /* expired records are filtered after the status is derived: the page is
   * read whole (a subject's records, ordered) and cut here */
  rv = pg_query_planned(pg,
                        "SELECT " RECORD_COLS
                        "WHERE r.subject_id = $1 AND ($2::int = 0 OR r.category = $2) "
                        "AND ($3::date IS NULL OR r.occurred_on >= $3::date) "
                        "AND ($4::date IS NULL OR r.occurred_on <= $4::date) "
                        "AND ($5::text IS NULL OR r.source_organization_id = $5) "
                        "AND ($6::date IS NULL OR (r.occurred_on, r.id) > ($6::date, $7::text)) "
                        "ORDER BY r.occurred_on, r.id",
                        &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r), n = 0;
  size_t limit = (size_t)x->page.size;
  record_rec *recs = arena_calloc(call->arena, limit + 1, sizeof(*recs));
  int more = 0;
  if (!recs) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < rows; i++) {
    record_rec rec;
    if ((rv = record_from_row(call->arena, r, (int)i, x->today, &rec)) != 0) break;
    if (!insp && rec.msg->status == REGISTRY__V1__RECORD_STATUS__RECORD_STATUS_EXPIRED) continue;
    if (n == limit) {
      more = 1;
      break;
    }
    recs[n++] = rec;
  }
  PQclear(r);
  if (rv != 0) return rv;
  if (s.person && (rv = log_read(call, pg, &s, req->purpose)) != 0) return rv;
  Registry__V1__ListRecordsResponse *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__CreditRecord **list = arena_calloc(call->arena, n + 1, sizeof(*list));
  if (!out || !list) return REG_ENOMEM;
  registry__v1__list_records_response__init(out);
  for (size_t i = 0; i < n; i++) list[i] = recs[i].msg;
  out->records = list;
  out->n_records = n;
  if (more && n &&
      (rv = core_next_page_token(call, &x->page, recs[n - 1].facts.occurred_on, recs[n - 1].msg->id,
                                 &out->next_page_token)) != 0)
    return rv;
  *resp = &out->base;
  return 0;
}



int credit_rpc_list_records(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ListRecordsRequest *req = (const void *)m;
  list_records_arg x = {.req = req, .today = clock_today_cst()};
  if (core_check_id(call, req->subject_id, "subject_id") != 0) return -1;
  if (core_parse_day(call, req->from_on, "from_on", &x.from) ||
      core_parse_day(call, req->to_on, "to_on", &x.to))
    return -1;
  if (core_given(req->source_organization_id) && strlen(req->source_organization_id) >= IDS_MAX)
    return rpc_fail_field(&call->status, "source_organization_id", "source_organization_id is too long");
  char cat[12];
  snprintf(cat, sizeof(cat), "%d", (int)req->category);
  const char *f[] = {call->method->path, req->subject_id, cat, core_given(req->from_on) ? req->from_on : "",
                     core_given(req->to_on) ? req->to_on : "",
                     core_given(req->source_organization_id) ? req->source_organization_id : ""};
  if (core_page_begin(call, req->page_size, req->page_token, f, 6, &x.page) != 0) return -1;
  return read_run(call, do_list_records, &x, resp);
}

/* ---- ListAccessLog ---- */

typedef struct access_arg {
  const Registry__V1__ListAccessLogRequest *req;
  page_req page;
} access_arg;

static int do_access_log(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  access_arg *x = arg;
  const Registry__V1__ListAccessLogRequest *req = x->req;
  int insp = core_is_inspector(call);
  subject_rec s;
  int by_subject = core_given(req->subject_id), rv;
  if (by_subject) {
    rv = subject_load(call, pg, req->subject_id, NULL, NULL, 0, &s);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "subject", req->subject_id);
    if (rv != 0) return rv;
    if (!insp && (!s.organization_id[0] || strcmp(s.organization_id, core_org(call)) != 0))
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "the access log of a subject is read by inspectors and by the organization "
                      "the subject is");
  }
  int64_t after = 0;
  const char *after_id = NULL;
  if (x->page.cursor[0] && page_cursor_parse(x->page.cursor, &after, &after_id) != 0)
    return core_bad_page_token(call);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, by_subject ? s.msg->id : NULL);
  if (by_subject && s.person) pg_params_bytea(&p, s.ref, 32);
  else pg_params_null(&p);
  pg_params_text(&p, by_subject ? NULL : req->inspector_organization_id);
  if (after_id) pg_params_int(&p, strtoll(after_id, NULL, 10));
  else pg_params_null(&p);
  pg_params_int(&p, (int64_t)x->page.size + 1);
  PGresult *r = NULL;
  rv = pg_query_planned(pg,
                        "SELECT id, " PG_US("at") ", organization_id, method, coalesce(subject_id, ''), "
                        "purpose FROM access_log "
                        "WHERE (($1::text IS NOT NULL AND (subject_id = $1 OR "
                        "  ($2::bytea IS NOT NULL AND subject_blind_index = $2))) "
                        "  OR ($3::text IS NOT NULL AND organization_id = $3)) "
                        "AND ($4::int8 IS NULL OR id > $4) ORDER BY id LIMIT $5",
                        &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  size_t n = rows > (size_t)x->page.size ? (size_t)x->page.size : rows;
  Registry__V1__ListAccessLogResponse *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__AccessLogEntry **es = arena_calloc(call->arena, n + 1, sizeof(*es));
  if (!out || !es) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < n; i++) {
    Registry__V1__AccessLogEntry *e = arena_alloc(call->arena, sizeof(*e));
    if (!e) {
      rv = REG_ENOMEM;
      break;
    }
    registry__v1__access_log_entry__init(e);
    e->at = pbtime_new(call->arena, pg_int(r, (int)i, 1));
    e->organization_id = arena_strdup(call->arena, pg_val(r, (int)i, 2));
    e->method = arena_strdup(call->arena, pg_val(r, (int)i, 3));
    e->subject_id = arena_strdup(call->arena, pg_val(r, (int)i, 4));
    e->purpose = arena_strdup(call->arena, pg_val(r, (int)i, 5));
    if (!e->at || !e->organization_id || !e->method || !e->subject_id || !e->purpose)
      rv = REG_ENOMEM;
    es[i] = e;
  }
  char *cursor = rv == 0 && rows > n && n ? page_cursor(call->arena, 0, pg_val(r, (int)n - 1, 0)) : NULL;
  PQclear(r);
  if (rv != 0) return rv;
  registry__v1__list_access_log_response__init(out);
  out->entries = es;
  out->n_entries = n;
  if (rows > n && n && (rv = core_page_token(call, &x->page, cursor, &out->next_page_token)) != 0)
    return rv;
  *resp = &out->base;
  return 0;
}

int credit_rpc_list_access_log(rpc_call *call, const ProtobufCMessage *m,
                               ProtobufCMessage **resp) {
  const Registry__V1__ListAccessLogRequest *req = (const void *)m;
  access_arg x = {.req = req};
  if (core_given(req->subject_id) == core_given(req->inspector_organization_id))
    return rpc_fail_field(&call->status, "subject_id",
                          "give one of subject_id and inspector_organization_id");
  if (core_given(req->subject_id) && core_check_id(call, req->subject_id, "subject_id") != 0) return -1;
  if (core_given(req->inspector_organization_id)) {
    if (core_check_id(call, req->inspector_organization_id, "inspector_organization_id") != 0) return -1;
    if (!core_is_inspector(call))
      return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                      "what an organization read is listed for inspectors");
  }
  const char *f[] = {call->method->path, core_given(req->subject_id) ? req->subject_id : "",
                     core_given(req->inspector_organization_id) ? req->inspector_organization_id : ""};
  if (core_page_begin(call, req->page_size, req->page_token, f, 3, &x.page) != 0) return -1;
  return read_run(call, do_access_log, &x, resp);
}

/* ---- disputes ---- */

#define DISPUTE_COLS                                                                       \
  "d.id, d.record_id, d.subject_id, d.filed_by, d.reason, d.filed_on::text, "             \
  "coalesce(x.outcome, 0), coalesce(x.note, ''), coalesce(x.correction_record_id, ''), "  \
  "coalesce(x.resolved_by, ''), " PG_US("x.resolved_at") ", r.source_organization_id "    \
  "FROM credit_disputes d LEFT JOIN credit_dispute_resolutions x ON x.dispute_id = d.id "  \
  "JOIN credit_records r ON r.id = d.record_id "

typedef struct dispute_rec {
  Registry__V1__Dispute *msg;
  char source[IDS_MAX];
  clock_day filed_on;
} dispute_rec;

static int dispute_from_row(rpc_call *call, const PGresult *r, int k, clock_day today,
                            dispute_rec *out) {
  arena *a = call->arena;
  int days = call_app(call)->cfg.credit_dispute_days;
  Registry__V1__Dispute *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__dispute__init(m);
  dispute_rec d;
  memset(&d, 0, sizeof(d));
  if (clock_day_parse(pg_val(r, k, 5), &d.filed_on) != 0) return REG_EIO;
  snprintf(d.source, sizeof(d.source), "%s", pg_val(r, k, 11));
  m->id = arena_strdup(a, pg_val(r, k, 0));
  m->record_id = arena_strdup(a, pg_val(r, k, 1));
  m->subject_id = arena_strdup(a, pg_val(r, k, 2));
  m->filed_by = arena_strdup(a, pg_val(r, k, 3));
  m->reason = arena_strdup(a, pg_val(r, k, 4));
  m->filed_on = arena_strdup(a, pg_val(r, k, 5));
  m->due_on = day_str(a, credit_dispute_due(d.filed_on, days));
  m->outcome = (Registry__V1__DisputeOutcome)pg_int(r, k, 6);
  m->overdue = !m->outcome && credit_dispute_overdue(d.filed_on, days, today);
  m->note = arena_strdup(a, pg_val(r, k, 7));
  m->correction_record_id = arena_strdup(a, pg_val(r, k, 8));
  m->resolved_by = arena_strdup(a, pg_val(r, k, 9));
  if (pg_val(r, k, 10) && !(m->resolved_at = pbtime_new(a, pg_int(r, k, 10)))) return REG_ENOMEM;
  if (!m->id || !m->record_id || !m->subject_id || !m->filed_by || !m->reason || !m->filed_on ||
      !m->due_on || !m->note || !m->correction_record_id || !m->resolved_by)
    return REG_ENOMEM;
  d.msg = m;
  *out = d;
  return 0;
}

static int dispute_load(rpc_call *call, pg_conn *pg, const char *id, clock_day today,
                        dispute_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " DISPUTE_COLS "WHERE d.id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? dispute_from_row(call, r, 0, today, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

/* Serializes the changes to one subject's disputes and list entries. */
static int lock_subject(pg_conn *pg, const char *subject_id) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, subject_id);
  return pg_query(pg, "SELECT 1 FROM credit_subjects WHERE id = $1 FOR UPDATE", &p, NULL);
}

typedef struct dispute_arg {
  const void *req;
  clock_day today, occurred, ended;
  char subject_id[IDS_MAX]; /* out: whose profile changed */
} dispute_arg;

static int do_file(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                   ProtobufCMessage **stored) {
  (void)stored;
  dispute_arg *x = arg;
  const Registry__V1__FileDisputeRequest *req = x->req;
  record_rec rec;
  int rv = record_load(pg, call->arena, req->record_id, x->today, &rec);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "record", req->record_id);
  if (rv != 0) return rv;
  subject_rec s;
  if ((rv = subject_load(call, pg, rec.msg->subject_id, NULL, NULL, 0, &s)) != 0) return rv;
  int ok = s.organization_id[0] && strcmp(s.organization_id, core_org(call)) == 0;
  if (!ok && has_role(call, ROLE(PLATFORM)) && (rv = may_submit(call, pg, &s, &ok)) != 0) return rv;
  if (!ok)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "disputes are filed by the organization the subject is or a platform that "
                    "may submit records about it");
  if ((rv = lock_subject(pg, s.msg->id)) != 0 ||
      (rv = record_load(pg, call->arena, req->record_id, x->today, &rec)) != 0)
    return rv;
  if (rec.facts.superseded || rec.facts.withdrawn)
    return core_refuse(call, "RECORD_NOT_DISPUTABLE", "a superseded or withdrawn record cannot be disputed");
  if (rec.facts.open_dispute) return core_refuse(call, "DISPUTE_OPEN", "the record has an open dispute");
  char id[IDS_MAX], ev[IDS_MAX], day[11];
  ids_new("dsp", id, sizeof(id));
  clock_day_format(x->today, day);
  Registry__V1__Dispute d;
  registry__v1__dispute__init(&d);
  d.id = id;
  d.record_id = req->record_id;
  d.subject_id = s.msg->id;
  d.filed_by = (char *)core_org(call);
  d.reason = req->reason;
  d.filed_on = day;
  if ((rv = emit(call, pg, EV(DISPUTE_FILED), s.msg->id, &d.base, ev)) != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, req->record_id);
  pg_params_text(&p, s.msg->id);
  pg_params_text(&p, core_org(call));
  pg_params_text(&p, req->reason);
  pg_params_text(&p, day);
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  rv = pg_query(pg,
                "INSERT INTO credit_disputes (id, record_id, subject_id, filed_by, reason, filed_on, "
                "event_id, filed_at) VALUES ($1, $2, $3, $4, $5, $6::date, $7, " PG_TS(8) ")",
                &p, NULL);
  dispute_rec out;
  if (rv != 0 || (rv = dispute_load(call, pg, id, x->today, &out)) != 0) return rv;
  snprintf(x->subject_id, sizeof(x->subject_id), "%s", s.msg->id);
  return core_respond(call, &registry__v1__file_dispute_response__descriptor, "dispute", out.msg,
                      resp);
}

int credit_rpc_file_dispute(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  Registry__V1__FileDisputeRequest *req = (Registry__V1__FileDisputeRequest *)m;
  dispute_arg x = {.req = req, .today = clock_today_cst()};
  if (core_check_id(call, req->record_id, "record_id") != 0 || check_text(call, req->reason, "reason", 1))
    return -1;
  int rv = write_run(call, m, &registry__v1__file_dispute_response__descriptor, do_file, &x, resp);
  if (rv == 0) cache_bump(call, x.subject_id);
  return rv;
}

static int do_resolve(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                      ProtobufCMessage **stored) {
  (void)stored;
  dispute_arg *x = arg;
  const Registry__V1__ResolveDisputeRequest *req = x->req;
  dispute_rec d;
  int rv = dispute_load(call, pg, req->dispute_id, x->today, &d);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "dispute", req->dispute_id);
  if (rv != 0) return rv;
  if (!core_is_inspector(call) && strcmp(d.source, core_org(call)) != 0)
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "disputes are resolved by inspectors and by the record's source");
  if ((rv = lock_subject(pg, d.msg->subject_id)) != 0 ||
      (rv = dispute_load(call, pg, req->dispute_id, x->today, &d)) != 0)
    return rv;
  if (d.msg->outcome) return core_refuse(call, "DISPUTE_RESOLVED", "the dispute is already resolved");
  record_rec corr;
  memset(&corr, 0, sizeof(corr));
  if (req->outcome == OUT(CORRECTED)) {
    record_rec old;
    if ((rv = record_load(pg, call->arena, d.msg->record_id, x->today, &old)) != 0) return rv;
    if (old.facts.superseded)
      return core_refuse(call, "RECORD_SUPERSEDED", "the disputed record is already superseded");
    const Registry__V1__RecordCorrection *c = req->correction;
    record_new n = {d.msg->subject_id, old.msg->source_organization_id, (int)c->category,
                    c->severity, x->occurred, x->ended, c->summary, c->evidence_sha256,
                    c->n_evidence_sha256, d.msg->record_id};
    rv = record_insert(call, pg, &n, x->today, &corr);
    if (rv == REG_EEXIST)
      return core_refuse(call, "RECORD_SUPERSEDED", "the disputed record is already superseded");
    if (rv != 0) return rv;
  }
  char ev[IDS_MAX];
  Registry__V1__Dispute now = *d.msg;
  now.outcome = req->outcome;
  now.note = req->note ? req->note : (char *)"";
  now.correction_record_id = corr.msg ? corr.msg->id : (char *)"";
  now.resolved_by = (char *)core_org(call);
  now.overdue = 0;
  now.resolved_at = NULL;
  if ((rv = emit(call, pg, EV(DISPUTE_RESOLVED), d.msg->subject_id, &now.base, ev)) != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, req->dispute_id);
  pg_params_int(&p, req->outcome);
  pg_params_text(&p, now.note);
  pg_params_text(&p, corr.msg ? corr.msg->id : NULL);
  pg_params_text(&p, core_org(call));
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  rv = pg_query(pg,
                "INSERT INTO credit_dispute_resolutions (dispute_id, outcome, note, "
                "correction_record_id, resolved_by, event_id, resolved_at) VALUES ($1, $2, $3, $4, "
                "$5, $6, " PG_TS(7) ")",
                &p, NULL);
  if (rv != 0) return rv;
  snprintf(x->subject_id, sizeof(x->subject_id), "%s", d.msg->subject_id);
  /* the dispute as resolved, from what was written: no read-back */
  Registry__V1__ResolveDisputeResponse *o = arena_alloc(call->arena, sizeof(*o));
  Registry__V1__Dispute *out = arena_alloc(call->arena, sizeof(*out));
  if (!o || !out) return REG_ENOMEM;
  *out = now;
  if (!(out->resolved_at = pbtime_new(call->arena, pg_tx_time_us(pg)))) return REG_ENOMEM;
  registry__v1__resolve_dispute_response__init(o);
  o->dispute = out;
  o->correction = corr.msg;
  *resp = &o->base;
  return 0;
}

int credit_rpc_resolve_dispute(rpc_call *call, const ProtobufCMessage *m,
                               ProtobufCMessage **resp) {
  Registry__V1__ResolveDisputeRequest *req = (Registry__V1__ResolveDisputeRequest *)m;
  dispute_arg x = {.req = req, .today = clock_today_cst()};
  if (core_check_id(call, req->dispute_id, "dispute_id") != 0 || check_text(call, req->note, "note", 0))
    return -1;
  if (req->outcome < OUT(UPHELD) || req->outcome > OUT(WITHDRAWN))
    return rpc_fail_field(&call->status, "outcome", "outcome must be UPHELD, CORRECTED or WITHDRAWN");
  if ((req->outcome == OUT(CORRECTED)) != (req->correction != NULL))
    return rpc_fail_field(&call->status, "correction",
                          "correction is given with outcome CORRECTED, and only then");
  credit_violation v;
  if (req->correction &&
      credit_rules_check_correction(req->correction, x.today, &x.occurred, &x.ended, &v) != 0)
    return bad(call, &v);
  int rv = write_run(call, m, &registry__v1__resolve_dispute_response__descriptor, do_resolve, &x,
                     resp);
  if (rv == 0) cache_bump(call, x.subject_id);
  return rv;
}

typedef struct list_disputes_arg {
  int overdue_only;
  clock_day today;
  page_req page;
} list_disputes_arg;

static int do_list_disputes(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_disputes_arg *x = arg;
  int64_t after_day = 0;
  const char *after_id = NULL;
  if (x->page.cursor[0] && page_cursor_parse(x->page.cursor, &after_day, &after_id) != 0)
    return core_bad_page_token(call);
  char after[11], due_before[11];
  clock_day_format((clock_day)after_day, after);
  /* overdue: open and today > filed_on + days, i.e. filed_on < today - days */
  clock_day_format(x->today - call_app(call)->cfg.credit_dispute_days, due_before);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, core_is_inspector(call) ? NULL : core_org(call));
  pg_params_bool(&p, x->overdue_only);
  pg_params_text(&p, due_before);
  pg_params_text(&p, after_id ? after : NULL);
  pg_params_text(&p, after_id);
  pg_params_int(&p, (int64_t)x->page.size + 1);
  PGresult *r = NULL;
  int rv = pg_query_planned(pg,
                            "SELECT " DISPUTE_COLS
                            "WHERE ($1::text IS NULL OR d.filed_by = $1 OR r.source_organization_id = $1) "
                            "AND (NOT $2::bool OR (x.dispute_id IS NULL AND d.filed_on < $3::date)) "
                            "AND ($4::date IS NULL OR (d.filed_on, d.id) > ($4::date, $5::text)) "
                            "ORDER BY d.filed_on, d.id LIMIT $6",
                            &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  size_t n = rows > (size_t)x->page.size ? (size_t)x->page.size : rows;
  dispute_rec *ds = arena_calloc(call->arena, n + 1, sizeof(*ds));
  if (!ds) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < n; i++) rv = dispute_from_row(call, r, (int)i, x->today, &ds[i]);
  PQclear(r);
  if (rv != 0) return rv;
  Registry__V1__ListDisputesResponse *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__Dispute **list = arena_calloc(call->arena, n + 1, sizeof(*list));
  if (!out || !list) return REG_ENOMEM;
  registry__v1__list_disputes_response__init(out);
  for (size_t i = 0; i < n; i++) list[i] = ds[i].msg;
  out->disputes = list;
  out->n_disputes = n;
  if (rows > n && n &&
      (rv = core_next_page_token(call, &x->page, ds[n - 1].filed_on, ds[n - 1].msg->id,
                                 &out->next_page_token)) != 0)
    return rv;
  *resp = &out->base;
  return 0;
}

int credit_rpc_list_disputes(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ListDisputesRequest *req = (const void *)m;
  list_disputes_arg x = {.overdue_only = req->overdue_only, .today = clock_today_cst()};
  const char *f[] = {call->method->path, req->overdue_only ? "1" : "0"};
  if (core_page_begin(call, req->page_size, req->page_token, f, 2, &x.page) != 0) return -1;
  return read_run(call, do_list_disputes, &x, resp);
}

/* ---- the dishonesty list ---- */

typedef struct entry_rec {
  int64_t id;
  clock_day listed_on, removed_on;
  Registry__V1__DishonestyEntry *msg;
} entry_rec;

/* Row i of entry_active's query as a DishonestyEntry in force (NULL: out
 * of memory). */
static Registry__V1__DishonestyEntry *entry_msg(arena *a, const PGresult *r, int i,
                                               const char *subject_id, clock_day listed_on) {
  Registry__V1__DishonestyEntry *m = arena_alloc(a, sizeof(*m));
  if (!m) return NULL;
  registry__v1__dishonesty_entry__init(m);
  m->subject_id = arena_strdup(a, subject_id);
  m->reason = arena_strdup(a, pg_val(r, i, 3));
  m->decision_ref = arena_strdup(a, pg_val(r, i, 4));
  m->listed_on = arena_strdup(a, pg_val(r, i, 1));
  m->ends_on = day_str(a, credit_list_ends_on(listed_on));
  m->removed_on = arena_strdup(a, pg_val(r, i, 2));
  m->removed_reason = arena_strdup(a, pg_val(r, i, 6));
  m->listed_by = arena_strdup(a, pg_val(r, i, 5));
  m->active = 1;
  if (!m->subject_id || !m->reason || !m->decision_ref || !m->listed_on || !m->ends_on ||
      !m->removed_on || !m->removed_reason || !m->listed_by)
    return NULL;
  return m;
}

/* The subject's entry in force on today (REG_ENOTFOUND: none). */
static int entry_active(rpc_call *call, pg_conn *pg, const char *subject_id, clock_day today,
                        entry_rec *out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, subject_id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT e.id, e.listed_on::text, coalesce(m.removed_on::text, ''), e.reason, "
                    "e.decision_ref, e.listed_by, coalesce(m.reason, '') FROM dishonesty_entries e "
                    "LEFT JOIN dishonesty_removals m ON m.entry_id = e.id WHERE e.subject_id = $1 "
                    "ORDER BY e.listed_on DESC, e.id DESC",
                    &p, &r);
  if (rv != 0) return rv;
  int i = -1;
  entry_rec e = {0};
  rv = first_in_force(r, 1, today, &i, &e.listed_on, &e.removed_on);
  if (rv == 0 && i < 0) rv = REG_ENOTFOUND;
  if (rv == 0) {
    e.id = pg_int(r, i, 0);
    if (!(e.msg = entry_msg(call->arena, r, i, subject_id, e.listed_on))) rv = REG_ENOMEM;
    else *out = e;
  }
  PQclear(r);
  return rv;
}

/* The subject (NOT_FOUND when unknown), locked, and its entry in force:
 * entry_active's answer. */
static int locked_entry(rpc_call *call, pg_conn *pg, const char *subject_id, clock_day today,
                        subject_rec *s, entry_rec *e) {
  int rv = subject_load(call, pg, subject_id, NULL, NULL, 0, s);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "subject", subject_id);
  if (rv != 0 || (rv = lock_subject(pg, s->msg->id)) != 0) return rv;
  return entry_active(call, pg, s->msg->id, today, e);
}

typedef struct list_arg {
  const void *req;
  clock_day today, listed_on;
} list_arg;

static int do_place(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                    ProtobufCMessage **stored) {
  (void)stored;
  list_arg *x = arg;
  const Registry__V1__PlaceOnDishonestyListRequest *req = x->req;
  subject_rec s;
  entry_rec e;
  int rv = locked_entry(call, pg, req->subject_id, x->today, &s, &e);
  if (rv == 0) return core_refuse(call, "ALREADY_ON_LIST", "the subject is on the dishonesty list");
  if (rv != REG_ENOTFOUND) return rv;
  if (credit_list_ends_on(x->listed_on) <= x->today)
    return rpc_fail_field(&call->status, "listed_on",
                          "an entry listed on that day would already have ended");
  char ev[IDS_MAX], day[11];
  clock_day_format(x->listed_on, day);
  Registry__V1__DishonestyEntry rec;
  registry__v1__dishonesty_entry__init(&rec);
  rec.subject_id = s.msg->id;
  rec.reason = req->reason;
  rec.decision_ref = req->decision_ref;
  rec.listed_on = day;
  rec.listed_by = (char *)core_org(call);
  rec.active = 1;
  if ((rv = emit(call, pg, EV(DISHONESTY_LISTED), s.msg->id, &rec.base, ev)) != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, s.msg->id);
  pg_params_text(&p, req->reason);
  pg_params_text(&p, req->decision_ref);
  pg_params_text(&p, day);
  pg_params_text(&p, core_org(call));
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  rv = pg_query(pg,
                "INSERT INTO dishonesty_entries (subject_id, reason, decision_ref, listed_on, "
                "listed_by, event_id, listed_at) VALUES ($1, $2, $3, $4::date, $5, $6, " PG_TS(7) ")",
                &p, NULL);
  if (rv != 0 || (rv = entry_active(call, pg, s.msg->id, x->today, &e)) != 0) return rv;
  return core_respond(call, &registry__v1__place_on_dishonesty_list_response__descriptor, "entry",
                      e.msg, resp);
}

int credit_rpc_place_on_dishonesty_list(rpc_call *call, const ProtobufCMessage *m,
                                        ProtobufCMessage **resp) {
  Registry__V1__PlaceOnDishonestyListRequest *req = (Registry__V1__PlaceOnDishonestyListRequest *)m;
  list_arg x = {.req = req, .today = clock_today_cst()};
  credit_violation v;
  if (credit_rules_check_listing(req, x.today, &x.listed_on, &v) != 0) return bad(call, &v);
  int rv = write_run(call, m, &registry__v1__place_on_dishonesty_list_response__descriptor,
                     do_place, &x, resp);
  if (rv == 0) cache_bump(call, req->subject_id);
  return rv;
}

static int do_remove(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                     ProtobufCMessage **stored) {
  (void)stored;
  list_arg *x = arg;
  const Registry__V1__RemoveFromDishonestyListRequest *req = x->req;
  subject_rec s;
  entry_rec e;
  int rv = locked_entry(call, pg, req->subject_id, x->today, &s, &e);
  if (rv == REG_ENOTFOUND)
    return core_refuse(call, "NOT_ON_LIST", "the subject is not on the dishonesty list");
  if (rv != 0) return rv;
  clock_day from = credit_list_removable_on(e.listed_on);
  if (x->today < from) {
    char d[11];
    clock_day_format(from, d);
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "REMOVAL_TOO_EARLY",
                    "an entry may be removed from its first anniversary, %s", d);
    rpc_status_add_meta(&call->status, "removable_on", d);
    return -1;
  }
  char ev[IDS_MAX], day[11];
  clock_day_format(x->today, day);
  Registry__V1__DishonestyEntry now = *e.msg;
  now.removed_on = day;
  now.removed_reason = req->reason;
  now.active = 0;
  if ((rv = emit(call, pg, EV(DISHONESTY_REMOVED), s.msg->id, &now.base, ev)) != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, e.id);
  pg_params_text(&p, day);
  pg_params_text(&p, req->reason);
  pg_params_text(&p, core_org(call));
  pg_params_text(&p, ev);
  pg_params_int(&p, pg_tx_time_us(pg));
  if ((rv = pg_query(pg,
                     "INSERT INTO dishonesty_removals (entry_id, removed_on, reason, removed_by, "
                     "event_id, removed_at) VALUES ($1, $2::date, $3, $4, $5, " PG_TS(6) ")",
                     &p, NULL)) != 0)
    return rv;
  Registry__V1__DishonestyEntry *out = arena_alloc(call->arena, sizeof(*out));
  Registry__V1__RemoveFromDishonestyListResponse *o = arena_alloc(call->arena, sizeof(*o));
  if (!out || !o) return REG_ENOMEM;
  *out = now;
  out->subject_id = e.msg->subject_id;
  out->removed_on = arena_strdup(call->arena, day);
  out->removed_reason = arena_strdup(call->arena, req->reason);
  out->listed_by = e.msg->listed_by;
  if (!out->removed_on || !out->removed_reason) return REG_ENOMEM;
  registry__v1__remove_from_dishonesty_list_response__init(o);
  o->entry = out;
  *resp = &o->base;
  return 0;
}

int credit_rpc_remove_from_dishonesty_list(rpc_call *call, const ProtobufCMessage *m,
                                           ProtobufCMessage **resp) {
  Registry__V1__RemoveFromDishonestyListRequest *req =
      (Registry__V1__RemoveFromDishonestyListRequest *)m;
  list_arg x = {.req = req, .today = clock_today_cst()};
  if (core_check_id(call, req->subject_id, "subject_id") != 0 || check_text(call, req->reason, "reason", 1))
    return -1;
  int rv = write_run(call, m, &registry__v1__remove_from_dishonesty_list_response__descriptor,
                     do_remove, &x, resp);
  if (rv == 0) cache_bump(call, req->subject_id);
  return rv;
}

/* ---- the listing gate ---- */

int credit_seller_listed(pg_conn *pg, int seller_kind, const uint8_t *ref, size_t ref_len,
                         clock_day today) {
  pg_params p;
  pg_params_init(&p);
  char uscc[19]; /* the parameters point here until the query ran */
  if (seller_kind == 1) {
    pg_params_bytea(&p, ref, ref_len);
    pg_params_null(&p);
  } else {
    pg_params_null(&p);
    if (ref_len >= sizeof(uscc)) return 0;
    memcpy(uscc, ref, ref_len);
    uscc[ref_len] = 0;
    pg_params_text(&p, uscc);
  }
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT e.listed_on::text, coalesce(m.removed_on::text, '') "
                    "FROM credit_subjects s JOIN dishonesty_entries e ON e.subject_id = s.id "
                    "LEFT JOIN dishonesty_removals m ON m.entry_id = e.id "
                    "WHERE ($1::bytea IS NOT NULL AND s.person_ref = $1) "
                    "OR ($2::text IS NOT NULL AND s.uscc = $2)",
                    &p, &r);
  if (rv != 0) return rv;
  int row = -1;
  rv = first_in_force(r, 0, today, &row, NULL, NULL);
  PQclear(r);
  return rv ? rv : row >= 0;
}
