/*
 * Authentication, authorization and rate limiting of every call (auth.h).
 */
#include "services/core/auth.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "crypto/token.h"
#include "registry/v1/org.pb-c.h"
#include "services/base/log.h"
#include "services/core/app.h"
#include "services/core/write.h"

static atomic_int redis_down_logged;

static int rate_limit(rpc_call *call) {
  reg_app *app = call_app(call);
  if (app->cfg.rate_limit_per_second <= 0) return 0;
  int64_t retry_ms = 0;
  /* the bucket is rl:{key_id}: one per API key */
  int rv = kv_ratelimit_take(call_kv(call), call->caller.key_id, app->cfg.rate_limit_per_second,
                             app->cfg.rate_limit_burst, &retry_ms);
  if (rv == REG_EPERM) {
    rpc_fail_reason(&call->status, RPC_RESOURCE_EXHAUSTED, "RATE_LIMITED",
                    "rate limit exceeded for this API key");
    rpc_status_set_retry(&call->status, retry_ms > 0 ? retry_ms : 1);
    return -1;
  }
  if (rv != 0 && rv != REG_EUNAVAIL) {
    log_error(NULL, "rate limiter: %s", reg_strerror(rv));
    return 0;
  }
  if (rv != 0) {
    if (!atomic_exchange(&redis_down_logged, 1))
      log_warn(NULL, "redis unavailable: serving without rate limits");
    return 0;
  }
  if (atomic_load(&redis_down_logged) && atomic_exchange(&redis_down_logged, 0))
    log_info(NULL, "redis available again: rate limits on");
  return 0;
}

int auth_authorize(rpc_call *call) {
  const rpc_method *m = call->method;
  if (!m->needs_key) return 0;
  if (!call->bearer || !*call->bearer)
    return rpc_fail(&call->status, RPC_UNAUTHENTICATED, "missing API key (authorization: Bearer …)");
  if (token_api_key_check_format(call->bearer) != 0)
    return rpc_fail(&call->status, RPC_UNAUTHENTICATED, "invalid API key");
  /* The call's remaining time bounds every statement it runs outside a
   * transaction (the key lookup here, plain reads in handlers); a write's
   * transaction sets its own, exactly. Rounded up to a whole second, so
   * that calls with the same deadline find it already set (one round trip
   * saved per call); a read may outlive its caller by that second at most. */
  long left = core_timeout_ms(call);
  if (left < 0) return rpc_fail(&call->status, RPC_DEADLINE_EXCEEDED, "deadline exceeded");
  if (left > 0) left = (left + 999) / 1000 * 1000;
  int trv = pg_set_statement_timeout(call_pg(call), left);
  if (trv != 0) return core_fail_err(call, trv);

  reg_app *app = call_app(call);
  uint8_t h[32];
  if (token_hash(app->token_key, call->bearer, h) != 0)
    return rpc_fail(&call->status, RPC_INTERNAL, "internal error");
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, h, sizeof(h));
  PGresult *r = NULL;
  int rv = pg_query(call_pg(call),
                    "SELECT k.id, k.organization_id, o.roles, o.suspended, "
                    "  k.revoked_at IS NOT NULL, "
                    "  k.valid_until IS NOT NULL AND k.valid_until <= now(), "
                    "  k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute' "
                    "FROM api_keys k JOIN organizations o ON o.id = k.organization_id "
                    "WHERE k.key_hash = $1",
                    &p, &r);
  if (rv != 0) return core_fail_err(call, rv);
  if (PQntuples(r) != 1 || pg_bool(r, 0, 4) || pg_bool(r, 0, 5)) {
    PQclear(r);
    return rpc_fail(&call->status, RPC_UNAUTHENTICATED, "invalid, revoked or expired API key");
  }
  rpc_caller *c = &call->caller;
  snprintf(c->key_id, sizeof(c->key_id), "%s", pg_val(r, 0, 0));
  snprintf(c->org_id, sizeof(c->org_id), "%s", pg_val(r, 0, 1));
  c->roles = 0;
  /* int[] in text form: {1,5} */
  for (const char *s = pg_val(r, 0, 2); *s; s++)
    if (*s >= '0' && *s <= '9') {
      int v = 0;
      while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
      if (v > 0 && v < 32) c->roles |= 1u << v;
      if (!*s) break;
    }
  int suspended = pg_bool(r, 0, 3);
  int touch = pg_bool(r, 0, 6);
  PQclear(r);
  call->authenticated = 1;

  if (suspended)
    return rpc_fail_reason(&call->status, RPC_PERMISSION_DENIED, "ORGANIZATION_SUSPENDED",
                           "the organization is suspended");
  if (m->roles && !(m->roles & c->roles))
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "the organization's roles do not allow %s", m->path);
  if (touch) {
    pg_params q;
    pg_params_init(&q);
    pg_params_text(&q, c->key_id);
    /* last use is informational: a failure here does not fail the call */
    if (pg_query(call_pg(call), "UPDATE api_keys SET last_used_at = now() WHERE id = $1", &q,
                 NULL) != 0)
      log_warn(NULL, "could not record last use of key %s", c->key_id);
  }
  return rate_limit(call);
}

int auth_require_any_qualification(rpc_call *call, pg_conn *pg, uint32_t kinds, clock_day day) {
  char d[11], arr[PG_BITS_ARRAY_MAX];
  clock_day_format(day, d);
  pg_bits_array(kinds, arr);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, call->caller.org_id);
  pg_params_text(&p, arr);
  pg_params_text(&p, d);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT 1 FROM qualifications WHERE organization_id = $1 "
                    "AND kind = ANY($2::int[]) "
                    "AND NOT revoked AND $3::date BETWEEN valid_from AND valid_until LIMIT 1",
                    &p, &r);
  if (rv != 0) return rv;
  int held = PQntuples(r) == 1;
  PQclear(r);
  if (held) return 0;
  /* the kinds by name, in enum order: "REVERSE_INVOICE,HAZARDOUS_WASTE" */
  char names[200] = "";
  size_t off = 0;
  for (int k = 0; k < 32; k++) {
    if (!(kinds & (1u << k))) continue;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&registry__v1__qualification_kind__descriptor, k);
    int w = snprintf(names + off, sizeof(names) - off, "%s%s", off ? "," : "",
                     v ? v->name + strlen("QUALIFICATION_KIND_") : "?");
    if (w < 0 || (size_t)w >= sizeof(names) - off) break;
    off += (size_t)w;
  }
  if (strchr(names, ','))
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "QUALIFICATION_MISSING",
                    "the caller holds none of the qualifications %s valid on %s", names, d);
  else
    rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "QUALIFICATION_MISSING",
                    "the caller holds no valid %s qualification on %s", names, d);
  rpc_status_add_meta(&call->status, "qualification_kind", names);
  return -1;
}

int auth_require_qualification(rpc_call *call, pg_conn *pg, int kind, clock_day day) {
  if (kind < 0 || kind > 31) return REG_EINVAL;
  return auth_require_any_qualification(call, pg, 1u << kind, day);
}
