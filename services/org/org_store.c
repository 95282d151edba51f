/*
 * OrgService's SQL: organizations with their qualifications, and API keys.
 * Every query is parameterized; times cross as Unix microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/token.h"
#include "services/core/pbtime.h"
#include "services/core/ids.h"
#include "services/org/org.h"


/* Columns of an organization joined with its qualifications (one row per
 * qualification, NULLs when none), ordered by organization id then kind. */
#define ORG_COLS                                                                 \
  "o.id, o.name, coalesce(o.uscc, ''), o.roles, o.region_code, o.suspended, "    \
  "o.suspended_reason, " PG_US("o.created_at") ", q.kind, q.certificate_no, "       \
  "q.valid_from::text, q.valid_until::text, q.revoked, q.revoked_reason, "       \
  PG_US("q.updated_at")

uint8_t *org_pack(arena *a, const ProtobufCMessage *m, size_t *len) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = arena_alloc(a, n ? n : 1);
  if (!buf) return NULL;
  *len = protobuf_c_message_pack(m, buf);
  return buf;
}


static char *dup(arena *a, const char *s) { return arena_strdup(a, s ? s : ""); }

static int parse_roles(arena *a, const char *s, Registry__V1__Organization *o) {
  size_t n = 0;
  Registry__V1__Role tmp[32];
  for (; *s && n < 32; s++) {
    if (*s < '0' || *s > '9') continue;
    int v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
    tmp[n++] = (Registry__V1__Role)v;
    if (!*s) break;
  }
  o->roles = arena_alloc(a, sizeof(tmp[0]) * (n ? n : 1));
  if (!o->roles) return REG_ENOMEM;
  memcpy(o->roles, tmp, sizeof(tmp[0]) * n);
  o->n_roles = n;
  return 0;
}

/* Turns rows of ORG_COLS into organizations (consecutive rows of one id
 * are one organization). At most `limit` organizations; *more when the
 * result held another. */
static int assemble(arena *a, PGresult *r, int limit, Registry__V1__Organization ***out,
                    size_t *n_out, int *more) {
  int rows = PQntuples(r);
  Registry__V1__Organization **orgs = arena_calloc(a, (size_t)rows + 1, sizeof(*orgs));
  if (!orgs) return REG_ENOMEM;
  size_t n = 0;
  int extra = 0;
  for (int i = 0; i < rows;) {
    if (limit >= 0 && (int)n == limit) {
      extra = 1;
      break;
    }
    Registry__V1__Organization *o = arena_alloc(a, sizeof(*o));
    if (!o) return REG_ENOMEM;
    registry__v1__organization__init(o);
    o->id = dup(a, pg_val(r, i, 0));
    o->name = dup(a, pg_val(r, i, 1));
    o->uscc = dup(a, pg_val(r, i, 2));
    if (parse_roles(a, pg_val(r, i, 3), o) != 0) return REG_ENOMEM;
    o->region_code = dup(a, pg_val(r, i, 4));
    o->status = pg_bool(r, i, 5) ? REGISTRY__V1__ORGANIZATION_STATUS__ORGANIZATION_STATUS_SUSPENDED
                                 : REGISTRY__V1__ORGANIZATION_STATUS__ORGANIZATION_STATUS_ACTIVE;
    o->suspended_reason = dup(a, pg_val(r, i, 6));
    o->created_at = pbtime_new(a, pg_int(r, i, 7));
    int first = i;
    while (i < rows && strcmp(pg_val(r, i, 0), o->id) == 0) i++;
    int nq = pg_val(r, first, 8) ? i - first : 0;
    o->qualifications = arena_calloc(a, (size_t)nq + 1, sizeof(*o->qualifications));
    if (!o->qualifications || !o->created_at) return REG_ENOMEM;
    for (int j = 0; j < nq; j++) {
      int row = first + j;
      Registry__V1__Qualification *q = arena_alloc(a, sizeof(*q));
      if (!q) return REG_ENOMEM;
      registry__v1__qualification__init(q);
      q->kind = (Registry__V1__QualificationKind)pg_int(r, row, 8);
      q->certificate_no = dup(a, pg_val(r, row, 9));
      q->valid_from = dup(a, pg_val(r, row, 10));
      q->valid_until = dup(a, pg_val(r, row, 11));
      q->revoked = pg_bool(r, row, 12);
      q->revoked_reason = dup(a, pg_val(r, row, 13));
      q->updated_at = pbtime_new(a, pg_int(r, row, 14));
      o->qualifications[j] = q;
    }
    o->n_qualifications = (size_t)nq;
    orgs[n++] = o;
  }
  *out = orgs;
  *n_out = n;
  if (more) *more = extra;
  return 0;
}


int org_store_insert(pg_conn *pg, const char *id, const char *name, const char *uscc,
                     uint32_t roles, const char *region_code) {
  char rl[PG_BITS_ARRAY_MAX];
  pg_bits_array(roles, rl);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, name);
  pg_params_text(&p, uscc && *uscc ? uscc : NULL);
  pg_params_text(&p, rl);
  pg_params_text(&p, region_code ? region_code : "");
  return pg_query(pg,
                  "INSERT INTO organizations (id, name, uscc, roles, region_code) "
                  "VALUES ($1, $2, $3, $4::int[], $5)",
                  &p, NULL);
}

int org_store_get(pg_conn *pg, arena *a, const char *id, clock_day valid_on,
                  Registry__V1__Organization **out) {
  char d[11];
  if (valid_on >= 0) clock_day_format(valid_on, d);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, valid_on >= 0 ? d : NULL);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT " ORG_COLS " FROM organizations o "
                    "LEFT JOIN qualifications q ON q.organization_id = o.id AND "
                    "  ($2::date IS NULL OR (NOT q.revoked AND $2::date BETWEEN q.valid_from AND q.valid_until)) "
                    "WHERE o.id = $1 ORDER BY q.kind",
                    &p, &r);
  if (rv != 0) return rv;
  Registry__V1__Organization **orgs = NULL;
  size_t n = 0;
  rv = assemble(a, r, -1, &orgs, &n, NULL);
  PQclear(r);
  if (rv != 0) return rv;
  if (n != 1) return REG_ENOTFOUND;
  *out = orgs[0];
  return 0;
}

int org_store_set_suspended(pg_conn *pg, const char *id, int suspended, const char *reason) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_bool(&p, suspended);
  pg_params_text(&p, suspended ? reason : "");
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "UPDATE organizations SET suspended = $2, suspended_reason = $3, "
                    "updated_at = now() WHERE id = $1",
                    &p, &r);
  if (rv != 0) return rv;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n == 1 ? 0 : REG_ENOTFOUND;
}

int org_store_set_qualification(pg_conn *pg, const char *org_id, int kind, const char *cert_no,
                                clock_day from, clock_day until) {
  char f[11], u[11];
  clock_day_format(from, f);
  clock_day_format(until, u);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, org_id);
  pg_params_int(&p, kind);
  pg_params_text(&p, cert_no);
  pg_params_text(&p, f);
  pg_params_text(&p, u);
  return pg_query(pg,
                  "INSERT INTO qualifications (organization_id, kind, certificate_no, valid_from, "
                  "valid_until) VALUES ($1, $2, $3, $4::date, $5::date) "
                  "ON CONFLICT (organization_id, kind) DO UPDATE SET "
                  "certificate_no = EXCLUDED.certificate_no, valid_from = EXCLUDED.valid_from, "
                  "valid_until = EXCLUDED.valid_until, revoked = false, revoked_reason = '', "
                  "updated_at = now()",
                  &p, NULL);
}

int org_store_revoke_qualification(pg_conn *pg, const char *org_id, int kind,
                                   const char *reason) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, org_id);
  pg_params_int(&p, kind);
  pg_params_text(&p, reason);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "UPDATE qualifications SET revoked = true, revoked_reason = $3, "
                    "updated_at = now() WHERE organization_id = $1 AND kind = $2 AND NOT revoked",
                    &p, &r);
  if (rv != 0) return rv;
  int n = atoi(PQcmdTuples(r));
  PQclear(r);
  return n == 1 ? 0 : REG_ENOTFOUND;
}

int org_store_list(pg_conn *pg, arena *a, int role, int kind, clock_day valid_on,
                   const char *cursor, int limit, Registry__V1__Organization ***out,
                   size_t *n, int *more) {
  char d[11];
  clock_day_format(valid_on, d);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, cursor ? cursor : "");
  pg_params_int(&p, role);
  pg_params_int(&p, kind);
  pg_params_text(&p, d);
  pg_params_int(&p, limit + 1);
  PGresult *r = NULL;
  int rv = pg_query(
      pg,
      "SELECT " ORG_COLS " FROM ("
      "  SELECT * FROM organizations o WHERE NOT o.suspended AND o.id > $1 "
      "  AND ($2::int = 0 OR $2::int = ANY (o.roles)) "
      "  AND ($3::int = 0 OR EXISTS (SELECT 1 FROM qualifications x WHERE "
      "       x.organization_id = o.id AND x.kind = $3::int AND NOT x.revoked AND "
      "       $4::date BETWEEN x.valid_from AND x.valid_until)) "
      "  ORDER BY o.id LIMIT $5) o "
      "LEFT JOIN qualifications q ON q.organization_id = o.id AND NOT q.revoked AND "
      "  $4::date BETWEEN q.valid_from AND q.valid_until "
      "ORDER BY o.id, q.kind",
      &p, &r);
  if (rv != 0) return rv;
  rv = assemble(a, r, limit, out, n, more);
  PQclear(r);
  return rv;
}

/* ---- API keys ---- */

#define KEY_COLS                                                                   \
  "id, organization_id, " PG_US("created_at") ", coalesce(" PG_US("valid_until") ", 0), " \
  "coalesce(" PG_US("last_used_at") ", 0), coalesce(" PG_US("revoked_at") ", 0)"

static Registry__V1__ApiKey *key_from_row(arena *a, PGresult *r, int i) {
  Registry__V1__ApiKey *k = arena_alloc(a, sizeof(*k));
  if (!k) return NULL;
  registry__v1__api_key__init(k);
  k->key_id = dup(a, pg_val(r, i, 0));
  k->organization_id = dup(a, pg_val(r, i, 1));
  k->created_at = pbtime_new(a, pg_int(r, i, 2));
  if (pg_int(r, i, 3)) k->valid_until = pbtime_new(a, pg_int(r, i, 3));
  if (pg_int(r, i, 4)) k->last_used_at = pbtime_new(a, pg_int(r, i, 4));
  if (pg_int(r, i, 5)) {
    k->revoked = 1;
    k->revoked_at = pbtime_new(a, pg_int(r, i, 5));
  }
  return k;
}

int org_store_key_create(pg_conn *pg, const uint8_t token_key[32], const char *org_id,
                         int64_t valid_until_us, char *key_out, char *key_id_out,
                         arena *a, Registry__V1__ApiKey **meta_out) {
  char key[TOKEN_API_KEY_LEN + 1], id[IDS_MAX];
  uint8_t h[32];
  int rv = token_api_key_new(key);
  if (rv == 0) rv = token_hash(token_key, key, h);
  if (rv != 0) return rv;
  ids_new("key", id, sizeof(id));
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, org_id);
  pg_params_bytea(&p, h, sizeof(h));
  if (valid_until_us) pg_params_int(&p, valid_until_us);
  else pg_params_null(&p);
  PGresult *r = NULL;
  rv = pg_query(pg,
                "INSERT INTO api_keys (id, organization_id, key_hash, valid_until) VALUES "
                "($1, $2, $3, 'epoch'::timestamptz + $4::int8 * interval '1 microsecond') "
                "RETURNING " KEY_COLS,
                &p, &r);
  if (rv != 0) return rv;
  Registry__V1__ApiKey *meta = a ? key_from_row(a, r, 0) : NULL;
  PQclear(r);
  if (a && !meta) return REG_ENOMEM;
  memcpy(key_out, key, sizeof(key));
  memcpy(key_id_out, id, strlen(id) + 1);
  if (meta_out) *meta_out = meta;
  return 0;
}

int org_store_key_get(pg_conn *pg, arena *a, const char *key_id, Registry__V1__ApiKey **out) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, key_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " KEY_COLS " FROM api_keys WHERE id = $1", &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else if (!(*out = key_from_row(a, r, 0))) rv = REG_ENOMEM;
  PQclear(r);
  return rv;
}

int org_store_key_revoke(pg_conn *pg, const char *key_id) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, key_id);
  return pg_query(pg,
                  "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
                  &p, NULL);
}

char *org_store_key_cursor(arena *a, const Registry__V1__ApiKey *k) {
  return arena_printf(a, "%lld/%s", (long long)pbtime_us(k->created_at), k->key_id);
}

int org_store_key_list(pg_conn *pg, arena *a, const char *org_id, const char *cursor, int limit,
                       Registry__V1__ApiKey ***out, size_t *n, int *more) {
  long long after_us = -1;
  const char *after_id = "";
  if (cursor && *cursor) {
    char *end = NULL;
    after_us = strtoll(cursor, &end, 10);
    if (!end || *end != '/') return REG_EINVAL;
    after_id = end + 1;
  }
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, org_id);
  pg_params_int(&p, after_us);
  pg_params_text(&p, after_id);
  pg_params_int(&p, limit + 1);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT " KEY_COLS " FROM api_keys WHERE organization_id = $1 AND "
                    "(" PG_US("created_at") ", id) > ($2::int8, $3) "
                    "ORDER BY " PG_US("created_at") ", id LIMIT $4",
                    &p, &r);
  if (rv != 0) return rv;
  int rows = PQntuples(r);
  int take = rows > limit ? limit : rows;
  Registry__V1__ApiKey **keys = arena_calloc(a, (size_t)take + 1, sizeof(*keys));
  if (!keys) rv = REG_ENOMEM;
  for (int i = 0; rv == 0 && i < take; i++)
    if (!(keys[i] = key_from_row(a, r, i))) rv = REG_ENOMEM;
  PQclear(r);
  if (rv != 0) return rv;
  *out = keys;
  *n = (size_t)take;
  *more = rows > limit;
  return 0;
}
