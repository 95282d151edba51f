/*
 * What every service's handlers say the same way: the caller's organization
 * and roles, a required registry id, NOT_FOUND, a refused business rule,
 * an optional date, the page size and token of a list request (with the
 * standard INVALID_ARGUMENT for each) and the next page's token, and a
 * response whose one field is a message. Each failing check sets the
 * call's status and returns -1, so a handler can `return core_…(…)`.
 */
#ifndef REG_CORE_RPCUTIL_H
#define REG_CORE_RPCUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "registry/v1/common.pb-c.h"
#include "services/base/clock.h"
#include "services/core/app.h"
#include "services/core/page.h"
#include "services/rpc/rpc.h"

/* A string the request set (not NULL, not ""). */
static inline int core_given(const char *s) { return s && *s; }
static inline const char *core_org(const rpc_call *call) { return call->caller.org_id; }
static inline const pii_keyring *core_ring(const rpc_call *call) { return call_app(call)->pii; }
static inline int core_is_inspector(const rpc_call *call) {
  return (call->caller.roles >> REGISTRY__V1__ROLE__ROLE_INSPECTOR) & 1u;
}

/* A required registry id: present ("<field> is required") and shorter
 * than any id the registry makes ("<field> is not a registry id (too
 * long)"), both INVALID_ARGUMENT on `field`. */
int core_check_id(rpc_call *call, const char *s, const char *field);

/* NOT_FOUND "<what> <id> not found". */
int core_not_found(rpc_call *call, const char *what, const char *id);

/* A refused business rule: FAILED_PRECONDITION with ErrorInfo `reason`
 * (the message cut at 400 bytes). */
int core_refuse(rpc_call *call, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An optional date YYYY-MM-DD: *out 0 when not given; otherwise
 * INVALID_ARGUMENT "<field> must be a date YYYY-MM-DD". */
int core_parse_day(rpc_call *call, const char *s, const char *field, clock_day *out);

/* page_begin with the page-token key, its failures the caller's:
 * "page_size must not be negative", "page_token was issued for other
 * filters", "invalid page_token" (INVALID_ARGUMENT on the field named). */
int core_page_begin(rpc_call *call, int32_t size, const char *token, const char *const *filters,
                    size_t n_filters, page_req *out);

/* INVALID_ARGUMENT "invalid page_token" (a cursor that does not parse). */
int core_bad_page_token(rpc_call *call);

/* The token of the page after `cursor` (arena) into *out: 0, REG_ENOMEM
 * (also for a NULL cursor, which page_cursor returns out of memory), or
 * page_next_token's error. */
int core_page_token(rpc_call *call, const page_req *p, const char *cursor, char **out);

/* The same for lists ordered by (time, id): the cursor "<key>/<id>"
 * (page_cursor) of the page's last row. */
int core_next_page_token(rpc_call *call, const page_req *p, int64_t key, const char *id,
                         char **out);

/* A response of type `d` (arena) whose message field `field` is `value`:
 * 0, REG_ENOMEM, or REG_EINVAL when `d` has no such single message field. */
int core_respond(rpc_call *call, const ProtobufCMessageDescriptor *d, const char *field,
                 const void *value, ProtobufCMessage **resp);

#endif
