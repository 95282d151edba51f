/*
 * The shape of every mutating call: one PostgreSQL transaction that takes
 * the request_id lock, replays a stored response or runs the service's
 * write function, records the response and commits. The statement timeout
 * is the call's remaining deadline; a serialization conflict is retried
 * (up to three times). Nothing is half-written: any failure rolls back.
 *
 * This is the one place (with core_fail_err) where storage errors become
 * gRPC statuses: UNAVAILABLE when PostgreSQL is unreachable,
 * DEADLINE_EXCEEDED when the deadline ran out, INTERNAL otherwise.
 */
#ifndef REG_CORE_WRITE_H
#define REG_CORE_WRITE_H

#include <protobuf-c/protobuf-c.h>

#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"

/* The service's part: runs inside the transaction. Returns 0 with *resp
 * (the response to send) and optionally *stored (what a replay returns;
 * NULL: the same as *resp); -1 with call->status set for a refusal; or a
 * REG_* storage error. */
typedef int (*write_fn)(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                        ProtobufCMessage **stored);

/* Runs a mutation for call->caller. `req` must have a request_id field.
 * Returns 0 with *resp, or -1 with call->status set. */
int write_run(rpc_call *call, const ProtobufCMessage *req,
              const ProtobufCMessageDescriptor *resp_desc, write_fn fn, void *arg,
              ProtobufCMessage **resp);

/* Runs a read-only function in a transaction with the deadline as
 * statement timeout (a read that must write the access log in the same
 * transaction uses this too). Same return convention as write_fn. */
typedef int (*read_fn)(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp);
int read_run(rpc_call *call, read_fn fn, void *arg, ProtobufCMessage **resp);

/* Sets call->status from a REG_* error and returns -1. */
int core_fail_err(rpc_call *call, int err);

/* The call's remaining time in milliseconds for statement_timeout: 0 when
 * there is no deadline, -1 when it has passed. */
long core_timeout_ms(const rpc_call *call);

#endif
