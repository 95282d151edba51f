/*
 * request_id idempotency (SPEC §3). Every mutating request carries a
 * canonical UUID, unique per calling organization. Inside the write
 * transaction the (organization, request_id) pair is locked and looked up:
 * a replay of the same request returns the stored response, a different
 * request under the same id is refused, and a new id proceeds; only a
 * successful call records its response, in the same transaction, so a
 * refused or rolled-back call leaves the id unused.
 *
 * The request hash is SHA-256 over the method path, a NUL, and the request
 * re-serialized with request_id cleared.
 */
#ifndef REG_CORE_REQID_H
#define REG_CORE_REQID_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "services/base/arena.h"
#include "services/base/err.h"
#include "storage/pg/pg.h"

typedef struct reqid {
  char org_id[48];
  char uuid[37]; /* canonical lower case */
  const char *method;
  uint8_t hash[32];
} reqid;

/* Reads the message's `request_id` field, checks it is a canonical UUID
 * (REG_EINVAL otherwise, also when the message has no such field) and
 * computes the request hash. The message is restored before returning. */
int reqid_prepare(reqid *r, const char *org_id, const char *method,
                  const ProtobufCMessage *req) REG_MUST_CHECK;

/* In the write transaction: takes the transaction-scoped lock of the id and
 * looks it up. REG_ENOTFOUND: a new id, go on. 0: a replay of the same
 * request, *resp is the stored response decoded into `a`. REG_EEXIST: the
 * id was used by another request. Storage errors as pg_query. */
int reqid_begin(pg_conn *pg, const reqid *r, const ProtobufCMessageDescriptor *resp_desc,
                arena *a, ProtobufCMessage **resp) REG_MUST_CHECK;

/* Records the successful response (`stored` is what a replay will return). */
int reqid_record(pg_conn *pg, const reqid *r, const ProtobufCMessage *stored) REG_MUST_CHECK;

/* Deletes records older than `days` (never fewer than 30). */
int reqid_purge(pg_conn *pg, int days, long *deleted) REG_MUST_CHECK;

#endif
