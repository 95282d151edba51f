/*
 * The one place a call is let through (rpc_authorize_fn): runs on the
 * worker before every handler. For a method that needs a key it checks the
 * bearer API key (keyed hash lookup: unknown, revoked or expired →
 * UNAUTHENTICATED), the organization (suspended → PERMISSION_DENIED
 * ORGANIZATION_SUSPENDED), the method's roles from the method table
 * (PERMISSION_DENIED), and the key's token bucket in Redis
 * (RESOURCE_EXHAUSTED RATE_LIMITED with RetryInfo). With Redis down the call
 * proceeds unlimited; a log line (once per outage) and the metric say so.
 */
#ifndef REG_CORE_AUTH_H
#define REG_CORE_AUTH_H

#include "services/base/clock.h"
#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"

int auth_authorize(rpc_call *call);

/* A call that needs a qualification (SPEC §4.1): 0 when the caller holds
 * an unrevoked qualification of `kind` (registry.v1.QualificationKind)
 * valid on `day`; -1 with FAILED_PRECONDITION QUALIFICATION_MISSING (the
 * kind named) when not; a REG_* storage error. Runs in the caller's
 * transaction. */
int auth_require_qualification(rpc_call *call, pg_conn *pg, int kind, clock_day day);
/* The same for "any of": `kinds` has bit (1u << kind) for each kind that
 * will do; the refusal names them all (metadata qualification_kind:
 * "REVERSE_INVOICE,VEHICLE_DISMANTLING,HAZARDOUS_WASTE"). */
int auth_require_any_qualification(rpc_call *call, pg_conn *pg, uint32_t kinds, clock_day day);

#endif
