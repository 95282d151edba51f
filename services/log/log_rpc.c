/*
 * LogService handlers: one thin function per method. Each checks what it
 * can without the database, then reads in one transaction (read_run: the
 * deadline is the statement timeout, so a proof and the checkpoint it
 * refers to come from one consistent view) and maps the rules' verdicts to
 * statuses: a bad field → INVALID_ARGUMENT naming it, a size beyond the
 * latest checkpoint → OUT_OF_RANGE, nothing there yet → NOT_FOUND.
 * ListSigningKeys, GetCheckpoint, GetInclusionProof and GetConsistencyProof
 * need no key (services/methods.c).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto/tlog_proof.h"
#include "services/core/pbtime.h"
#include "services/core/write.h"
#include "services/log/log.h"
#include "services/log/log_rpc.h"

/* A rules verdict (REG_EINVAL / REG_ERANGE / REG_ENOTFOUND) as a status. */
static int refuse(rpc_call *call, int rv, const log_violation *v) {
  switch (rv) {
  case REG_EINVAL:
    return rpc_fail_field(&call->status, v->field, "%s", v->message);
  case REG_ERANGE:
    return rpc_fail(&call->status, RPC_OUT_OF_RANGE, "%s", v->message);
  case REG_ENOTFOUND:
    return rpc_fail(&call->status, RPC_NOT_FOUND, "%s", v->message);
  default:
    return rv;
  }
}


/* The proof size: `requested` (0: the latest checkpoint's). */
static int proof_size(rpc_call *call, pg_conn *pg, int64_t requested, const char *field,
                      uint64_t *out) {
  int64_t latest = 0;
  int rv = log_store_checkpoint_size(pg, &latest);
  if (rv != 0) return rv;
  log_violation v;
  rv = log_rules_tree_size(requested, latest, field, out, &v);
  return rv ? refuse(call, rv, &v) : 0;
}

/* ---- ListSigningKeys ---- */

static int do_list_keys(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  (void)arg;
  Registry__V1__ListSigningKeysResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__list_signing_keys_response__init(r);
  int rv = log_store_keys(pg, call->arena, &r->keys, &r->n_keys);
  if (rv != 0) return rv;
  *resp = &r->base;
  return 0;
}

int log_rpc_list_signing_keys(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  (void)m;
  return read_run(call, do_list_keys, NULL, resp);
}

/* ---- GetCheckpoint ---- */

static int do_checkpoint(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  (void)arg;
  log_checkpoint c;
  int rv = log_store_checkpoint_latest(pg, call->arena, &c);
  if (rv == REG_ENOTFOUND) return rpc_fail(&call->status, RPC_NOT_FOUND, "the log has no checkpoint yet");
  if (rv != 0) return rv;
  Registry__V1__GetCheckpointResponse *r = arena_alloc(call->arena, sizeof(*r));
  uint8_t *root = arena_alloc(call->arena, 32), *sig = arena_alloc(call->arena, 64);
  if (!r || !root || !sig) return REG_ENOMEM;
  registry__v1__get_checkpoint_response__init(r);
  memcpy(root, c.root, 32);
  memcpy(sig, c.signature, 64);
  r->tree_size = c.tree_size;
  r->root_hash = (ProtobufCBinaryData){32, root};
  r->signature = (ProtobufCBinaryData){64, sig};
  r->timestamp = pbtime_new(call->arena, c.created_us);
  r->key_id = arena_strdup(call->arena, c.key_id);
  r->note = c.note;
  r->vkey = c.vkey;
  if (!r->timestamp || !r->key_id) return REG_ENOMEM;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_checkpoint(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  (void)m;
  return read_run(call, do_checkpoint, NULL, resp);
}

/* ---- GetInclusionProof ---- */

static int do_inclusion(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const Registry__V1__GetInclusionProofRequest *req = arg;
  uint64_t size = 0;
  log_violation v;
  int rv = proof_size(call, pg, req->tree_size, "tree_size", &size);
  if (rv != 0) return rv;
  if ((rv = log_rules_leaf_index(req->leaf_index, size, &v)) != 0) return refuse(call, rv, &v);
  Registry__V1__GetInclusionProofResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_inclusion_proof_response__init(r);
  rv = log_store_inclusion(pg, call->arena, (uint64_t)req->leaf_index, size, &r->hashes,
                           &r->n_hashes);
  if (rv != 0) return rv;
  r->tree_size = (int64_t)size;
  r->leaf_index = req->leaf_index;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_inclusion_proof(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetInclusionProofRequest *req = (const void *)m;
  log_violation v;
  int rv = log_rules_leaf_index(req->leaf_index, UINT64_MAX, &v);
  if (rv != 0) return refuse(call, rv, &v);
  return read_run(call, do_inclusion, (void *)req, resp);
}

/* ---- GetInclusionProofByHash ---- */

static int do_inclusion_by_hash(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const Registry__V1__GetInclusionProofByHashRequest *req = arg;
  uint64_t size = 0, index = 0;
  int rv = proof_size(call, pg, req->tree_size, "tree_size", &size);
  if (rv != 0) return rv;
  rv = log_store_index_by_hash(pg, req->leaf_hash.data, &index);
  if (rv == REG_ENOTFOUND || (rv == 0 && index >= size))
    return rpc_fail(&call->status, RPC_NOT_FOUND, "no leaf with that hash in the tree of size %llu",
                    (unsigned long long)size);
  if (rv != 0) return rv;
  Registry__V1__GetInclusionProofByHashResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_inclusion_proof_by_hash_response__init(r);
  rv = log_store_inclusion(pg, call->arena, index, size, &r->hashes, &r->n_hashes);
  if (rv != 0) return rv;
  r->tree_size = (int64_t)size;
  r->leaf_index = (int64_t)index;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_inclusion_proof_by_hash(rpc_call *call, const ProtobufCMessage *m,
                                        ProtobufCMessage **resp) {
  const Registry__V1__GetInclusionProofByHashRequest *req = (const void *)m;
  if (req->leaf_hash.len != 32)
    return rpc_fail_field(&call->status, "leaf_hash", "leaf_hash must be 32 bytes (SHA-256)");
  if (req->tree_size < 0)
    return rpc_fail_field(&call->status, "tree_size", "tree_size must not be negative");
  return read_run(call, do_inclusion_by_hash, (void *)req, resp);
}

/* ---- GetConsistencyProof ---- */

static int do_consistency(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const Registry__V1__GetConsistencyProofRequest *req = arg;
  int64_t latest = 0;
  uint64_t first = 0, second = 0;
  log_violation v;
  int rv = log_store_checkpoint_size(pg, &latest);
  if (rv != 0) return rv;
  rv = log_rules_consistency(req->first_size, req->second_size, latest, &first, &second, &v);
  if (rv != 0) return refuse(call, rv, &v);
  Registry__V1__GetConsistencyProofResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_consistency_proof_response__init(r);
  rv = log_store_consistency(pg, call->arena, first, second, &r->hashes, &r->n_hashes);
  if (rv != 0) return rv;
  r->first_size = (int64_t)first;
  r->second_size = (int64_t)second;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_consistency_proof(rpc_call *call, const ProtobufCMessage *m,
                                  ProtobufCMessage **resp) {
  const Registry__V1__GetConsistencyProofRequest *req = (const void *)m;
  if (req->first_size <= 0)
    return rpc_fail_field(&call->status, "first_size", "first_size must be positive");
  return read_run(call, do_consistency, (void *)req, resp);
}

/* ---- GetEntries ---- */

static int do_entries(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const Registry__V1__GetEntriesRequest *req = arg;
  uint64_t size = 0, s = 0, e = 0;
  log_violation v;
  int rv = log_store_state(pg, &size, NULL);
  if (rv != 0) return rv;
  if ((rv = log_rules_entries(req->start, req->end, size, &s, &e, &v)) != 0)
    return refuse(call, rv, &v);
  Registry__V1__GetEntriesResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_entries_response__init(r);
  rv = log_store_entries(pg, call->arena, s, e, &r->entries, &r->n_entries);
  if (rv != 0) return rv;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_entries(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetEntriesRequest *req = (const void *)m;
  uint64_t s = 0, e = 0;
  log_violation v;
  /* what needs no database: a negative start, an empty range */
  int rv = log_rules_entries(req->start, req->end, UINT64_MAX, &s, &e, &v);
  if (rv != 0) return refuse(call, rv, &v);
  return read_run(call, do_entries, (void *)req, resp);
}

/* ---- GetReceipt ---- */

static int do_receipt(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  const char *event_id = arg;
  int64_t index = -1;
  int rv = log_store_index_by_event(pg, event_id, &index);
  if (rv == REG_ENOTFOUND) return rpc_fail(&call->status, RPC_NOT_FOUND, "event %s not found", event_id);
  if (rv != 0) return rv;
  if (index < 0)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "event %s is not sequenced yet", event_id);
  log_checkpoint c;
  rv = log_store_checkpoint_latest(pg, call->arena, &c);
  if (rv != 0 && rv != REG_ENOTFOUND) return rv;
  if (rv == REG_ENOTFOUND || index >= c.tree_size)
    return rpc_fail(&call->status, RPC_NOT_FOUND, "no checkpoint covers event %s yet", event_id);
  ProtobufCBinaryData *hashes = NULL;
  size_t n = 0;
  rv = log_store_inclusion(pg, call->arena, (uint64_t)index, (uint64_t)c.tree_size, &hashes, &n);
  if (rv != 0) return rv;
  size_t cap = strlen(TLOG_PROOF_HEADER) + 32 + 46 * n + strlen(c.note) + 1, len = 0;
  char *text = arena_alloc(call->arena, cap);
  if (!text) return REG_ENOMEM;
  rv = tlog_proof_format((uint64_t)index, n ? (const uint8_t(*)[32])hashes[0].data : NULL, n,
                         c.note, text, cap, &len);
  if (rv != 0) return rv;
  Registry__V1__GetReceiptResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__get_receipt_response__init(r);
  r->log_index = index;
  r->receipt = text;
  *resp = &r->base;
  return 0;
}

int log_rpc_get_receipt(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetReceiptRequest *req = (const void *)m;
  if (!req->event_id || !*req->event_id)
    return rpc_fail_field(&call->status, "event_id", "event_id is required");
  if (strlen(req->event_id) > 64)
    return rpc_fail_field(&call->status, "event_id", "event_id is too long");
  return read_run(call, do_receipt, req->event_id, resp);
}
