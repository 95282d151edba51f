/*
 * Wipe certificates as stored (certs.h): loading one as the API returns
 * it, the CERTIFICATE verification keys, and the rule that says whether a
 * certificate vouches for an item — what CreateListing's gate
 * WIPE_CERTIFICATE_REQUIRED and UpdateListing ask.
 *
 * One query gathers everything the rule needs about a certificate: its
 * row, whether a revocation exists, whether it was issued after the
 * latest recorded sale of its item, and the one CERTIFICATE key it names
 * (signing_keys' primary key is (purpose, key_id), so at most one). The
 * signature is then checked here by wipe_cert_verify over the exact stored
 * bytes. The revocation and the sale are read by the same statement as the
 * certificate; callers hold the item row locked (items_lock), as
 * RevokeCertificate and RecordSale do, so neither can slip in between the
 * check and the listing it admits.
 */
#include "services/core/certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/core/keystore.h"

/* A body holds at most WIPE_MEDIA_MAX media and texts of a few hundred
 * bytes: a few tens of KiB. A stored one beyond this is damage. */
#define CERTS_BODY_MAX (1024u * 1024)
/* Candidates certs_on_file tries, newest first. */
#define CERTS_ON_FILE_MAX 8

#define WHY_OTHER_ITEM "names another item"
#define WHY_REVOKED "is revoked"
#define WHY_BEFORE_SALE "was issued before the item's most recent sale"
#define WHY_NOT_VERIFIED "does not verify"

static const char *nz(const char *s) { return s ? s : ""; }

/* Copies a text column into a fixed buffer: REG_EIO when NULL or too long. */
static int copy_col(const PGresult *r, int row, int col, char *out, size_t cap) {
  const char *v = pg_val(r, row, col);
  if (!v || strlen(v) >= cap) return REG_EIO;
  memcpy(out, v, strlen(v) + 1);
  return 0;
}

/* The decoded capacity a bytea column needs (its text form is "\x" + hex). */
static size_t bytea_cap(const PGresult *r, int row, int col) {
  int tl = PQgetlength(r, row, col);
  return tl > 2 ? (size_t)(tl - 2) / 2 : 0;
}

/* A bytea column into `a` (out->data, out->len), at most CERTS_BODY_MAX
 * bytes: REG_EIO for NULL, malformed or oversized values. */
static int bytea_arena(arena *a, const PGresult *r, int row, int col, ProtobufCBinaryData *out) {
  return pg_bytea_arena(a, r, row, col, CERTS_BODY_MAX, &out->data, &out->len);
}

/* ---- certs_get, certs_list ---- */

#define CERT_COLS                                                                    \
  "c.id, c.body, c.signature, c.key_id, c.event_id, le.log_index, "                  \
  "r.certificate_id IS NOT NULL, coalesce(r.reason, ''), c.item_id, c.issuer_id, "   \
  PG_US("c.issued_at") " "                                                           \
  "FROM certificates c "                                                             \
  "LEFT JOIN certificate_revocations r ON r.certificate_id = c.id "                  \
  "LEFT JOIN events e ON e.event_id = c.event_id "                                   \
  "LEFT JOIN log_entries le ON le.event_row = e.id "

/* Row i of a CERT_COLS result into the arena. */
static int cert_from_row(arena *a, const PGresult *r, int i, certs_rec *out) {
  certs_rec rec;
  memset(&rec, 0, sizeof(rec));
  Registry__V1__Certificate *m = arena_alloc(a, sizeof(*m));
  if (!m) return REG_ENOMEM;
  registry__v1__certificate__init(m);
  int rv;
  if ((rv = bytea_arena(a, r, i, 1, &m->body)) != 0 ||
      (rv = bytea_arena(a, r, i, 2, &m->signature)) != 0 ||
      (rv = copy_col(r, i, 8, rec.item_id, sizeof(rec.item_id))) != 0 ||
      (rv = copy_col(r, i, 9, rec.issuer_id, sizeof(rec.issuer_id))) != 0)
    return rv;
  m->id = arena_strdup(a, nz(pg_val(r, i, 0)));
  m->key_id = arena_strdup(a, nz(pg_val(r, i, 3)));
  m->event_id = arena_strdup(a, nz(pg_val(r, i, 4)));
  m->sequenced = pg_val(r, i, 5) != NULL;
  m->log_index = pg_int(r, i, 5);
  m->revoked = pg_bool(r, i, 6);
  m->revoked_reason = arena_strdup(a, nz(pg_val(r, i, 7)));
  rec.issued_at_us = pg_int(r, i, 10);
  if (!m->id || !m->key_id || !m->event_id || !m->revoked_reason) return REG_ENOMEM;
  rec.msg = m;
  *out = rec;
  return 0;
}

int certs_get(pg_conn *pg, arena *a, const char *id, certs_rec *out) {
  if (!pg || !a || !id || !out) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT " CERT_COLS "WHERE c.id = $1", &p, &r);
  if (rv != 0) return rv;
  rv = PQntuples(r) == 1 ? cert_from_row(a, r, 0, out) : REG_ENOTFOUND;
  PQclear(r);
  return rv;
}

static const char *null_if_empty(const char *s) { return s && *s ? s : NULL; }

int certs_list(pg_conn *pg, arena *a, const certs_filter *f, int limit, certs_rec **out,
               size_t *n, int *more) {
  if (!pg || !a || !f || limit <= 0 || !out || !n || !more) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, null_if_empty(f->item_id));
  pg_params_text(&p, null_if_empty(f->imei));
  pg_params_text(&p, null_if_empty(f->serial_no));
  pg_params_text(&p, null_if_empty(f->issuer_id));
  if (f->after_id) pg_params_int(&p, f->after_us);
  else pg_params_null(&p);
  pg_params_text(&p, f->after_id);
  pg_params_int(&p, (int64_t)limit + 1);
  PGresult *r = NULL;
  int rv = pg_query_planned(
      pg,
      "SELECT " CERT_COLS
      "WHERE ($1::text IS NULL OR c.item_id = $1) "
      "AND ($2::text IS NULL OR c.item_id = (SELECT id FROM items WHERE imei = $2)) "
      "AND ($3::text IS NULL OR c.item_id IN (SELECT id FROM items WHERE serial_no = $3)) "
      "AND ($4::text IS NULL OR c.issuer_id = $4) "
      "AND ($5::int8 IS NULL OR (c.issued_at, c.id) > (" PG_TS(5) ", $6::text)) "
      "ORDER BY c.issued_at, c.id LIMIT $7",
      &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  size_t k = rows > (size_t)limit ? (size_t)limit : rows;
  certs_rec *recs = arena_calloc(a, k + 1, sizeof(*recs));
  if (!recs) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < k; i++) rv = cert_from_row(a, r, (int)i, &recs[i]);
  PQclear(r);
  if (rv != 0) return rv;
  *out = recs;
  *n = k;
  *more = rows > k;
  return 0;
}

/* ---- certs_keys ---- */

/* One signing_keys row (key_id, public_key, valid_from µs, valid_until µs
 * or NULL) from columns col.. into k. */
static int key_from_row(const PGresult *r, int row, int col, wipe_cert_key *k) {
  memset(k, 0, sizeof(*k));
  if (copy_col(r, row, col, k->key_id, sizeof(k->key_id)) != 0) return REG_EIO;
  if (pg_bytea(r, row, col + 1, k->pk, sizeof(k->pk)) != (long)sizeof(k->pk)) return REG_EIO;
  k->valid_from_us = pg_int(r, row, col + 2);
  k->valid_until_us = pg_int(r, row, col + 3); /* NULL: still current → 0 */
  return 0;
}

int certs_keys(pg_conn *pg, arena *a, wipe_cert_key **keys, size_t *n) {
  if (!pg || !a || !keys || !n) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, KEYSTORE_PURPOSE_CERTIFICATE);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT key_id, public_key, " PG_US("valid_from") ", " PG_US("valid_until")
                    " FROM signing_keys WHERE purpose = $1 ORDER BY valid_from, key_id",
                    &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  wipe_cert_key *ks = arena_calloc(a, rows ? rows : 1, sizeof(*ks));
  if (!ks) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < rows; i++) rv = key_from_row(r, (int)i, 0, &ks[i]);
  PQclear(r);
  if (rv != 0) return rv;
  *keys = ks;
  *n = rows;
  return 0;
}

/* ---- the rule ---- */

#define STR_(x) #x
#define STR(x) STR_(x)

/* What the rule reads of a certificate: its row, the revocation, the
 * latest sale of its item, and the CERTIFICATE key it names (NULL columns
 * when signing_keys has no such key). Columns 0–9, in vouch_row's order. */
#define VOUCH_SELECT                                                                 \
  "SELECT c.id, c.item_id, c.body, c.signature, c.key_id, "                          \
  "  r.certificate_id IS NOT NULL, "                                                 \
  "  coalesce(c.issued_at > (SELECT max(s.created_at) FROM sales s "                 \
  "                          WHERE s.item_id = c.item_id), true), "                  \
  "  k.key_id, k.public_key, " PG_US("k.valid_from") ", " PG_US("k.valid_until") " " \
  "FROM certificates c "                                                             \
  "LEFT JOIN certificate_revocations r ON r.certificate_id = c.id "                  \
  "LEFT JOIN signing_keys k ON k.purpose = " STR(KEYSTORE_PURPOSE_CERTIFICATE) " "   \
  "  AND k.key_id = c.key_id "

/* The verdict on row i of a VOUCH_SELECT result for item `item_id`: 0
 * (vouches), REG_EPERM with *why, or REG_ENOMEM / REG_EIO. */
static int vouch_row(const PGresult *r, int i, const char *item_id, const char **why) {
  if (strcmp(nz(pg_val(r, i, 1)), item_id) != 0) {
    *why = WHY_OTHER_ITEM;
    return REG_EPERM;
  }
  if (pg_bool(r, i, 5)) {
    *why = WHY_REVOKED;
    return REG_EPERM;
  }
  if (!pg_bool(r, i, 6)) {
    *why = WHY_BEFORE_SALE;
    return REG_EPERM;
  }

  wipe_cert_key key;
  size_t n_keys = 0;
  if (pg_val(r, i, 7)) {
    int rv = key_from_row(r, i, 7, &key);
    if (rv != 0) return rv;
    n_keys = 1;
  }
  size_t cap = bytea_cap(r, i, 2);
  if (!pg_val(r, i, 2) || cap > CERTS_BODY_MAX) return REG_EIO;
  uint8_t *body = malloc(cap ? cap : 1);
  if (!body) return REG_ENOMEM;
  uint8_t sig[64];
  long blen = pg_bytea(r, i, 2, body, cap);
  long slen = pg_bytea(r, i, 3, sig, sizeof(sig));
  int rv = 0;
  if (blen < 0 || slen < 0) {
    rv = REG_EIO;
  } else {
    Registry__V1__Certificate c = REGISTRY__V1__CERTIFICATE__INIT;
    c.id = (char *)nz(pg_val(r, i, 0));
    c.key_id = (char *)nz(pg_val(r, i, 4));
    c.body.data = body;
    c.body.len = (size_t)blen;
    c.signature.data = sig;
    c.signature.len = (size_t)slen;
    wipe_cert_verdict v;
    wipe_cert_verify(&c, n_keys ? &key : NULL, n_keys, 0, &v);
    if (!v.valid) {
      *why = WHY_NOT_VERIFIED;
      rv = REG_EPERM;
    }
  }
  free(body);
  return rv;
}

int certs_vouches(pg_conn *pg, const char *certificate_id, const char *item_id,
                  const char **why) {
  if (!pg || !certificate_id || !item_id || !why) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, certificate_id);
  PGresult *r = NULL;
  int rv = pg_query(pg, VOUCH_SELECT "WHERE c.id = $1", &p, &r);
  if (rv != 0) return rv;
  const char *w = NULL;
  rv = PQntuples(r) == 1 ? vouch_row(r, 0, item_id, &w) : REG_ENOTFOUND;
  PQclear(r);
  if (rv == REG_EPERM) *why = w;
  return rv;
}

int certs_on_file(pg_conn *pg, const char *item_id, char id_out[48]) {
  if (!pg || !item_id || !id_out) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, item_id);
  pg_params_int(&p, CERTS_ON_FILE_MAX);
  PGresult *r = NULL;
  /* the candidates the SQL can judge (unrevoked, issued after the last
   * sale), newest first; vouch_row asks everything again and verifies */
  int rv = pg_query(pg,
                    VOUCH_SELECT
                    "WHERE c.item_id = $1 AND r.certificate_id IS NULL "
                    "AND c.issued_at > coalesce((SELECT max(s.created_at) FROM sales s "
                    "  WHERE s.item_id = $1), '-infinity'::timestamptz) "
                    "ORDER BY c.issued_at DESC, c.id DESC LIMIT $2",
                    &p, &r);
  if (rv != 0) return rv;
  rv = REG_ENOTFOUND;
  for (int i = 0; i < PQntuples(r) && rv == REG_ENOTFOUND; i++) {
    const char *why = NULL;
    int v = vouch_row(r, i, item_id, &why);
    if (v == REG_EPERM) continue;
    if (v == 0 && copy_col(r, i, 0, id_out, 48) != 0) v = REG_EIO;
    rv = v;
  }
  PQclear(r);
  return rv;
}
