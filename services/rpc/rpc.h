/*
 * The contract between the gRPC transport and the services.
 *
 * A service exports rpc_method entries (services/methods.c holds the one
 * table of every method, its roles and whether it needs a key). The
 * transport (rpc_server.c and friends) accepts HTTP/2 connections on one
 * event loop per core, decodes each request into the call's arena and:
 *   - for a method with `loop` set (health, reflection): answers on the loop;
 *   - otherwise hands the call to the worker pool, where `authorize` (the one
 *     place authentication, role checks and rate limits happen) and then the
 *     handler run as plain synchronous functions; the encoded response goes
 *     back to the loop through a notification. A stream that was reset or
 *     timed out meanwhile is found by id + generation; the late result is
 *     dropped.
 * gRPC status codes live here and in the thin <svc>_rpc.c handlers only.
 */
#ifndef REG_RPC_RPC_H
#define REG_RPC_RPC_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "services/base/arena.h"

typedef enum rpc_code {
  RPC_OK = 0,
  RPC_CANCELLED = 1,
  RPC_UNKNOWN = 2,
  RPC_INVALID_ARGUMENT = 3,
  RPC_DEADLINE_EXCEEDED = 4,
  RPC_NOT_FOUND = 5,
  RPC_ALREADY_EXISTS = 6,
  RPC_PERMISSION_DENIED = 7,
  RPC_RESOURCE_EXHAUSTED = 8,
  RPC_FAILED_PRECONDITION = 9,
  RPC_ABORTED = 10,
  RPC_OUT_OF_RANGE = 11,
  RPC_UNIMPLEMENTED = 12,
  RPC_INTERNAL = 13,
  RPC_UNAVAILABLE = 14,
  RPC_DATA_LOSS = 15,
  RPC_UNAUTHENTICATED = 16,
} rpc_code;

/* "OK", "INVALID_ARGUMENT", …; "UNKNOWN" for an out-of-range value. */
const char *rpc_code_name(rpc_code code);

#define RPC_MAX_VIOLATIONS 16
#define RPC_MAX_META 8

/* A call's outcome: code, message and at most one kind of detail
 * (BadRequest violations, ErrorInfo reason + metadata, RetryInfo). */
typedef struct rpc_status {
  rpc_code code;
  char message[512];
  size_t n_violations;
  struct {
    char field[128];
    char description[256];
  } violations[RPC_MAX_VIOLATIONS];
  char reason[64]; /* ErrorInfo.reason, UPPER_SNAKE; "" none. Domain registry.v1. */
  size_t n_meta;
  struct {
    char key[64];
    char value[128];
  } meta[RPC_MAX_META];
  int64_t retry_delay_ms; /* RetryInfo; < 0 none */
} rpc_status;

void rpc_status_init(rpc_status *st); /* OK, no details */

/* Each sets the code and message and returns -1, so a handler can
 * `return rpc_fail(...)`. */
int rpc_fail(rpc_status *st, rpc_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* INVALID_ARGUMENT with one BadRequest violation for `field` (a dotted path,
 * e.g. "vehicle.vin"); calling it again adds a violation. The message names
 * the first field. */
int rpc_fail_field(rpc_status *st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A refused business rule: `code` with ErrorInfo{reason, domain registry.v1}. */
int rpc_fail_reason(rpc_status *st, rpc_code code, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void rpc_status_add_meta(rpc_status *st, const char *key, const char *value);
void rpc_status_set_retry(rpc_status *st, int64_t delay_ms);

/* The serialized google.rpc.Status for grpc-status-details-bin (before
 * base64), in *out (malloc'd, caller frees) — 0, or REG_ENOMEM. A status
 * with no details still yields a Status{code, message}. */
int rpc_status_encode(const rpc_status *st, uint8_t **out, size_t *out_len);

/* The caller, once authenticated. */
typedef struct rpc_caller {
  char org_id[48];
  char key_id[48];
  uint32_t roles; /* bit (1u << registry.v1.Role value) */
} rpc_caller;

typedef struct rpc_method rpc_method;

/* One call as a worker sees it. */
typedef struct rpc_call {
  const rpc_method *method;
  arena *arena;          /* dies with the call; the response may live here */
  rpc_status status;     /* set by rpc_fail* */
  int64_t deadline_us;   /* CLOCK_MONOTONIC µs (clock_mono_us); 0: none */
  const char *peer;      /* "ip:port" */
  const char *bearer;    /* the API key from `authorization: Bearer …`; NULL none */
  int authenticated;     /* caller below is valid */
  rpc_caller caller;
  void *worker;          /* the worker's own state (its PG and Redis connections) */
  void *app;             /* registry-wide state, from rpc_server_config.app */
  const char *request_id; /* for log lines, set by handlers that have one */
} rpc_call;

/* A unary handler: runs on a worker. Returns 0 with *resp set (allocated in
 * call->arena, or static) or -1 with call->status set. */
typedef int (*rpc_unary_fn)(rpc_call *call, const ProtobufCMessage *req,
                            ProtobufCMessage **resp);

/* The one place a call is allowed to proceed: runs on the worker before
 * every handler of a method (needs_key or not). Returns 0 to proceed or -1
 * with call->status set. */
typedef int (*rpc_authorize_fn)(rpc_call *call);

typedef enum rpc_kind {
  RPC_KIND_UNARY = 0,
  RPC_KIND_SERVER_STREAM = 1,
  RPC_KIND_CLIENT_STREAM = 2,
  RPC_KIND_BIDI = 3,
} rpc_kind;

typedef struct rpc_stream_ops rpc_stream_ops; /* loop-owned streams: rpc_stream.h */

struct rpc_method {
  const char *path; /* "/registry.v1.OrgService/WhoAmI" */
  const ProtobufCMessageDescriptor *input;
  const ProtobufCMessageDescriptor *output;
  rpc_kind kind;
  rpc_unary_fn unary;            /* worker-run unary handler, or NULL */
  const rpc_stream_ops *stream;  /* loop-owned handler (health, reflection, watch) */
  unsigned needs_key : 1;        /* 0: public (health, reflection, verification) */
  uint32_t roles;                /* roles allowed; 0 with needs_key: any caller */
};

#endif
