/*
 * Loop-owned calls: handlers that run on the connection's event loop
 * instead of a worker (health, reflection, LogService.WatchEvents). A
 * method whose rpc_method.stream is set is served through these callbacks;
 * its kind may be any of unary, server streaming or bidirectional.
 *
 * Every callback runs on the stream's loop thread and must not block: work
 * that needs PostgreSQL goes to rpc_stream_run_on_worker. Responses are
 * pulled: the transport calls on_writable whenever HTTP/2 flow control and
 * the socket can take more, so a long stream never sits in memory whole.
 *
 * Lifetime: on_open (optional) creates the handler's state; on_message gets
 * each request message; on_close is called exactly once, and is the place
 * to free the state. After on_close the rpc_stream pointer is invalid. It
 * comes when the call is over for the handler:
 *   - after rpc_stream_finish, once the stream has closed (why = the code
 *     the handler finished with);
 *   - at once when the peer resets or cancels (RPC_CANCELLED), the
 *     connection drops (RPC_CANCELLED), the deadline passes
 *     (RPC_DEADLINE_EXCEEDED, already sent to the caller) or the drain
 *     bound ends the stream (RPC_UNAVAILABLE, already sent).
 * The transport never calls a callback from inside another callback of the
 * same stream, and rpc_stream_* calls from inside callbacks are allowed.
 */
#ifndef REG_RPC_RPC_STREAM_H
#define REG_RPC_RPC_STREAM_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc.h"

struct event_base;

typedef struct rpc_stream rpc_stream;

struct rpc_stream_ops {
  /* The call's headers were accepted (and, for needs_key methods, the
   * worker-side authorize succeeded). Return 0 with *state set (or left
   * NULL), or -1 with st set: the caller gets st and nothing else runs
   * (no on_close). Optional. */
  int (*on_open)(rpc_stream *s, void **state, rpc_status *st);
  /* One request message, decoded and UTF-8 checked. msg lives in scratch
   * memory valid only during the call: copy what you keep. */
  void (*on_message)(rpc_stream *s, void *state, const ProtobufCMessage *msg);
  /* The client will send nothing more. Optional. */
  void (*on_half_close)(rpc_stream *s, void *state);
  /* There is room for more output (see rpc_stream_room): send what is
   * ready, or nothing and call rpc_stream_resume later. Optional. */
  void (*on_writable)(rpc_stream *s, void *state);
  /* Exactly once, see above. Required. */
  void (*on_close)(rpc_stream *s, void *state, rpc_code why);
};

/* Queues one response message (the response headers go out first if they
 * have not). 0; REG_EINVAL when the call is finished or m is not the
 * method's output type; REG_ENOMEM when out of memory or when more than
 * 1 MiB is already queued (producers should honour rpc_stream_room). */
int rpc_stream_send(rpc_stream *s, const ProtobufCMessage *m) REG_MUST_CHECK;

/* Bytes that may still be queued before on_writable should stop (0: full). */
size_t rpc_stream_room(const rpc_stream *s);

/* Asks for on_writable as soon as flow control allows (starts the response
 * headers if needed). */
void rpc_stream_resume(rpc_stream *s);

/* Ends the call with st (NULL: OK) after the queued messages; as
 * Trailers-Only when nothing was sent. No-op on a finished call. */
void rpc_stream_finish(rpc_stream *s, const rpc_status *st);

/* Work for a worker thread: `work` runs there with the worker's state and
 * the server's app; then `done` runs on this stream's loop with s and the
 * handler state, or with s == NULL and state == NULL when the call ended
 * meanwhile (its on_close already ran): then only free arg. done always
 * runs exactly once, also at shutdown. 0, or REG_EUNAVAIL (queue full or
 * draining: nothing will run) / REG_ENOMEM. */
typedef void (*rpc_work_fn)(void *worker, void *app, void *arg);
typedef void (*rpc_work_done_cb)(rpc_stream *s, void *state, void *arg);
int rpc_stream_run_on_worker(rpc_stream *s, rpc_work_fn work,
                             rpc_work_done_cb done, void *arg) REG_MUST_CHECK;

/* The loop's event_base (timers, hiredis' libevent adapter). */
struct event_base *rpc_stream_base(const rpc_stream *s);
/* Which loop (0..loops-1): for per-loop state such as a hiredis context. */
int rpc_stream_loop_index(const rpc_stream *s);
/* The call as a worker would see it: method, peer, bearer, deadline_us,
 * app and, after authorize, the caller; call->arena lives as long as the
 * stream. NULL when out of memory. worker is NULL. */
rpc_call *rpc_stream_call(rpc_stream *s);
/* Method path, request id (NULL) and peer, for log lines. */
const log_ctx *rpc_stream_log_ctx(const rpc_stream *s);
void *rpc_stream_app(const rpc_stream *s);

#endif
