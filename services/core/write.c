/*
 * The transaction driver of mutations and reads (write.h).
 */
#include "services/core/write.h"

#include "services/base/clock.h"
#include "services/base/log.h"
#include "services/core/app.h"
#include "services/core/reqid.h"

long core_timeout_ms(const rpc_call *call) {
  if (!call->deadline_us) return 0;
  int64_t left = call->deadline_us - clock_mono_us();
  if (left <= 0) return -1;
  return left / 1000 > 0 ? (long)(left / 1000) : 1;
}

int core_fail_err(rpc_call *call, int err) {
  log_ctx lc = {call->method ? call->method->path : NULL, call->request_id, call->peer};
  switch (err) {
  case REG_EUNAVAIL:
    return rpc_fail(&call->status, RPC_UNAVAILABLE, "database unavailable, retry later");
  case REG_ETIMEDOUT:
    return rpc_fail(&call->status, RPC_DEADLINE_EXCEEDED, "deadline exceeded");
  case REG_ECONFLICT:
    return rpc_fail(&call->status, RPC_ABORTED, "concurrent update, retry");
  case REG_ENOMEM:
    return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
  default:
    log_error(&lc, "internal error: %s", reg_strerror(err));
    return rpc_fail(&call->status, RPC_INTERNAL, "internal error");
  }
}

/* -1 is a refusal only with a status set: REG_ENOMEM is -1 as well, and a
 * function that ran out of memory must still answer (RESOURCE_EXHAUSTED
 * through core_fail_err). */
static int refused(const rpc_call *call, int rv) {
  return rv == -1 && call->status.code != RPC_OK;
}

static int begin(rpc_call *call, pg_conn *pg) {
  long ms = core_timeout_ms(call);
  if (ms < 0) return REG_ETIMEDOUT;
  return pg_tx_begin(pg, ms);
}

int write_run(rpc_call *call, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *resp_desc, write_fn fn, void *arg,
              ProtobufCMessage **resp) {
  pg_conn *pg = call_pg(call);
  reqid r;
  if (reqid_prepare(&r, call->caller.org_id, call->method->path, req) != 0)
    return rpc_fail_field(&call->status, "request_id", "request_id must be a canonical UUID");
  call->request_id = r.uuid;

  for (int attempt = 0;; attempt++) {
    int rv = begin(call, pg);
    if (rv != 0) return core_fail_err(call, rv);
    ProtobufCMessage *out = NULL, *stored = NULL;
    rv = reqid_begin(pg, &r, resp_desc, call->arena, &out);
    if (rv == 0) { /* a replay: the first response, nothing changes */
      pg_tx_rollback(pg);
      *resp = out;
      return 0;
    }
    if (rv == REG_EEXIST) {
      pg_tx_rollback(pg);
      return rpc_fail_reason(&call->status, RPC_ALREADY_EXISTS, "REQUEST_ID_REUSED",
                             "request_id was already used with a different request");
    }
    if (rv == REG_ENOTFOUND) {
      rv = fn(call, pg, arg, &out, &stored);
      if (refused(call, rv)) {
        pg_tx_rollback(pg);
        return -1;
      }
      if (rv == 0) rv = reqid_record(pg, &r, stored ? stored : out);
      /* the caller has been told DEADLINE_EXCEEDED: do not commit behind it */
      if (rv == 0 && core_timeout_ms(call) < 0) rv = REG_ETIMEDOUT;
      if (rv == 0) rv = pg_tx_commit(pg);
      if (rv == 0) {
        *resp = out;
        return 0;
      }
    }
    pg_tx_rollback(pg);
    if (rv == REG_ECONFLICT && attempt < 3) continue;
    return core_fail_err(call, rv);
  }
}

int read_run(rpc_call *call, read_fn fn, void *arg, ProtobufCMessage **resp) {
  pg_conn *pg = call_pg(call);
  int rv = begin(call, pg);
  if (rv != 0) return core_fail_err(call, rv);
  ProtobufCMessage *out = NULL;
  rv = fn(call, pg, arg, &out);
  if (refused(call, rv)) {
    pg_tx_rollback(pg);
    return -1;
  }
  if (rv == 0) rv = pg_tx_commit(pg);
  if (rv != 0) {
    pg_tx_rollback(pg);
    return core_fail_err(call, rv);
  }
  *resp = out;
  return 0;
}
