/*
 * request_id bookkeeping in PostgreSQL (reqid.h). The lock is
 * pg_advisory_xact_lock on a 64-bit hash of "org/uuid", so two concurrent
 * calls with the same id serialize: the second sees the first's row once it
 * commits, or a free id if it rolled back.
 */
#include "services/core/reqid.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "services/core/ident.h"

static const ProtobufCFieldDescriptor *rid_field(const ProtobufCMessage *m) {
  const ProtobufCFieldDescriptor *f =
      protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "request_id");
  if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED) return NULL;
  return f;
}

int reqid_prepare(reqid *r, const char *org_id, const char *method,
                  const ProtobufCMessage *req) {
  const ProtobufCFieldDescriptor *f = rid_field(req);
  if (!f) return REG_EINVAL;
  /* The message lives in the call's arena and only this thread sees it:
   * clearing the field for the hash and restoring it is safe. */
  char **slot = (char **)(void *)((char *)req + f->offset);
  const char *id = *slot ? *slot : "";
  if (ident_uuid_check(id) != 0) return REG_EINVAL;
  if (strlen(org_id) >= sizeof(r->org_id)) return REG_EINVAL;

  char *saved = *slot;
  static char empty[] = "";
  *slot = empty;
  size_t len = protobuf_c_message_get_packed_size(req);
  uint8_t stackbuf[4096];
  uint8_t *buf = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
  if (!buf) {
    *slot = saved;
    return REG_ENOMEM;
  }
  protobuf_c_message_pack(req, buf);
  *slot = saved;

  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const unsigned char *)method, strlen(method) + 1);
  crypto_hash_sha256_update(&st, buf, len);
  crypto_hash_sha256_final(&st, r->hash);
  if (buf != stackbuf) free(buf);

  for (int i = 0; i < 36; i++) r->uuid[i] = (char)((id[i] >= 'A' && id[i] <= 'F') ? id[i] + 32 : id[i]);
  r->uuid[36] = 0;
  memcpy(r->org_id, org_id, strlen(org_id) + 1);
  r->method = method;
  return 0;
}

int reqid_begin(pg_conn *pg, const reqid *r, const ProtobufCMessageDescriptor *resp_desc,
                arena *a, ProtobufCMessage **resp) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, r->org_id);
  pg_params_text(&p, r->uuid);
  int rv = pg_query(pg, "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 7319))",
                    &p, NULL);
  if (rv != 0) return rv;
  PGresult *res = NULL;
  rv = pg_query(pg,
                "SELECT method, request_sha256, response FROM request_ids "
                "WHERE organization_id = $1 AND request_id = $2::uuid",
                &p, &res);
  if (rv != 0) return rv;
  if (PQntuples(res) == 0) {
    rv = REG_ENOTFOUND;
    goto out;
  }
  uint8_t h[32];
  if (strcmp(pg_val(res, 0, 0), r->method) != 0 || pg_bytea(res, 0, 1, h, sizeof(h)) != 32 ||
      sodium_memcmp(h, r->hash, 32) != 0) {
    rv = REG_EEXIST;
    goto out;
  }
  /* the stored response, decoded into the arena */
  size_t tlen = 0;
  unsigned char *raw = PQunescapeBytea((const unsigned char *)pg_val(res, 0, 2), &tlen);
  if (!raw) {
    rv = REG_ENOMEM;
    goto out;
  }
  ProtobufCMessage *m = protobuf_c_message_unpack(resp_desc, arena_allocator(a), tlen, raw);
  PQfreemem(raw);
  if (!m) {
    rv = REG_EIO;
    goto out;
  }
  *resp = m;
  rv = 0;
out:
  PQclear(res);
  return rv;
}

int reqid_record(pg_conn *pg, const reqid *r, const ProtobufCMessage *stored) {
  size_t len = protobuf_c_message_get_packed_size(stored);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) return REG_ENOMEM;
  protobuf_c_message_pack(stored, buf);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, r->org_id);
  pg_params_text(&p, r->uuid);
  pg_params_text(&p, r->method);
  pg_params_bytea(&p, r->hash, 32);
  pg_params_bytea(&p, buf, len);
  int rv = pg_query(pg,
                    "INSERT INTO request_ids (organization_id, request_id, method, "
                    "request_sha256, response) VALUES ($1, $2::uuid, $3, $4, $5)",
                    &p, NULL);
  free(buf);
  return rv;
}

int reqid_purge(pg_conn *pg, int days, long *deleted) {
  if (days < 30) days = 30;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, days);
  PGresult *res = NULL;
  int rv = pg_query(pg,
                    "DELETE FROM request_ids WHERE created_at < now() - make_interval(days => $1::int)",
                    &p, &res);
  if (rv != 0) return rv;
  if (deleted) *deleted = strtol(PQcmdTuples(res), NULL, 10);
  PQclear(res);
  return 0;
}
