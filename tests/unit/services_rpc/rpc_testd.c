/*
 * rpc_testd: a small server built on the transport (rpc_server.h,
 * rpc_stream.h) for the interop tests in test_transport.py. It serves
 * rpctest.v1.TestService plus the built-in health and reflection, with an
 * authorize that accepts only "Bearer test" for methods that need a key:
 *   Echo        worker unary, no key (echoes text, pads the response,
 *               reports which worker ran it and how many Sleeps started)
 *   SecretEcho  worker unary, key
 *   Sleep       worker unary that sleeps (deadlines, late results)
 *   SetServing  worker unary: rpc_server_set_serving (health Watch)
 *   Fail        worker unary: rich errors (BadRequest, ErrorInfo, RetryInfo)
 *   Count       loop-owned server stream, key, produced lazily on_writable
 *   Chat        loop-owned bidi; "worker:" messages go through a worker
 *   Upload      loop-owned client stream
 * Usage: rpc_testd --listen HOST:PORT [--lock-dir D] [--max-message N]
 *        [--workers N] [--loops N] [--metrics-listen HOST:PORT]
 *        [--drain-seconds N] [--max-queue N]
 * Prints "READY <port>" on stdout when listening; exits 1 when the port's
 * lock is held or the server cannot start, 0 after a SIGTERM drain.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rpctest.pb-c.h"
#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc.h"
#include "services/rpc/rpc_server.h"
#include "services/rpc/rpc_stream.h"

extern const unsigned char rpctest_descriptor_set[];
extern const size_t rpctest_descriptor_set_len;

typedef struct app {
  rpc_server *srv;
  _Atomic long sleeps_started;
} app;

typedef struct worker {
  int index;
} worker;

static app the_app;

/* ------------------------------------------------------------ worker side */

static int on_worker_init(void *a, int index, void **state) {
  (void)a;
  worker *w = calloc(1, sizeof(*w));
  if (!w) return REG_ENOMEM;
  w->index = index;
  *state = w;
  return 0;
}

static void on_worker_fini(void *a, void *state) {
  (void)a;
  free(state);
}

static int authorize(rpc_call *call) {
  if (call->bearer && strcmp(call->bearer, "test") == 0) {
    call->authenticated = 1;
    snprintf(call->caller.org_id, sizeof(call->caller.org_id), "org_test");
    return 0;
  }
  if (call->method->needs_key)
    return rpc_fail(&call->status, RPC_UNAUTHENTICATED, "missing or invalid API key");
  return 0;
}

static int echo(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Rpctest__V1__EchoRequest *rq = (const Rpctest__V1__EchoRequest *)req;
  Rpctest__V1__EchoResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
  rpctest__v1__echo_response__init(r);
  r->text = rq->text;
  r->worker = ((worker *)call->worker)->index;
  r->sleeps_started = atomic_load(&((app *)call->app)->sleeps_started);
  r->caller = call->authenticated ? call->caller.org_id : "";
  if (rq->pad_bytes > 0) {
    if (rq->pad_bytes > (64 << 20))
      return rpc_fail_field(&call->status, "pad_bytes", "at most 64 MiB");
    r->pad.data = arena_alloc(call->arena, (size_t)rq->pad_bytes);
    if (!r->pad.data) return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
    memset(r->pad.data, 'p', (size_t)rq->pad_bytes);
    r->pad.len = (size_t)rq->pad_bytes;
  }
  *resp = &r->base;
  return 0;
}

static int do_sleep(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Rpctest__V1__SleepRequest *rq = (const Rpctest__V1__SleepRequest *)req;
  atomic_fetch_add(&((app *)call->app)->sleeps_started, 1);
  if (rq->ms < 0 || rq->ms > 60000) return rpc_fail_field(&call->status, "ms", "0..60000");
  struct timespec ts = {rq->ms / 1000, (long)(rq->ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  Rpctest__V1__SleepResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
  rpctest__v1__sleep_response__init(r);
  r->slept_ms = rq->ms;
  *resp = &r->base;
  return 0;
}

static int set_serving(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Rpctest__V1__SetServingRequest *rq = (const Rpctest__V1__SetServingRequest *)req;
  rpc_server_set_serving(((app *)call->app)->srv, rq->serving);
  static Rpctest__V1__SetServingResponse r = RPCTEST__V1__SET_SERVING_RESPONSE__INIT;
  *resp = &r.base;
  return 0;
}

static int fail(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)resp;
  const Rpctest__V1__FailRequest *rq = (const Rpctest__V1__FailRequest *)req;
  if (rq->code == RPC_INVALID_ARGUMENT) {
    (void)rpc_fail_field(&call->status, "seller.person.name", "must not be empty");
    return rpc_fail_field(&call->status, "lines[1].amount_fen", "must be positive");
  }
  if (rq->code == RPC_RESOURCE_EXHAUSTED) {
    (void)rpc_fail_reason(&call->status, RPC_RESOURCE_EXHAUSTED, "RATE_LIMITED",
                          "rate limit: retry later");
    rpc_status_set_retry(&call->status, 1500);
    return -1;
  }
  (void)rpc_fail_reason(&call->status, (rpc_code)rq->code, "SELLER_CAP_EXCEEDED",
                        "seller cap exceeded: 100%% used, «ünïcode»");
  rpc_status_add_meta(&call->status, "cap_fen", "10000000");
  rpc_status_add_meta(&call->status, "current_total_fen", "9999999");
  return -1;
}

/* ------------------------------------------------------------ Count */

typedef struct count_state {
  int n, i;
} count_state;

static int count_open(rpc_stream *s, void **state, rpc_status *st) {
  (void)s;
  count_state *c = calloc(1, sizeof(*c));
  if (!c) return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  *state = c;
  return 0;
}

static void count_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  count_state *c = state;
  const Rpctest__V1__CountRequest *rq = (const Rpctest__V1__CountRequest *)msg;
  if (rq->n < 0 || rq->n > 10000000) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail_field(&st, "n", "0..10000000");
    rpc_stream_finish(s, &st);
    return;
  }
  c->n = rq->n;
  if (c->n == 0)
    rpc_stream_finish(s, NULL);
  else
    rpc_stream_resume(s);
}

static void count_writable(rpc_stream *s, void *state) {
  count_state *c = state;
  while (c->i < c->n && rpc_stream_room(s) > 0) {
    Rpctest__V1__CountResponse r = RPCTEST__V1__COUNT_RESPONSE__INIT;
    r.i = ++c->i;
    if (rpc_stream_send(s, &r.base) != 0) break;
  }
  if (c->n > 0 && c->i >= c->n) rpc_stream_finish(s, NULL);
}

static void count_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)why;
  free(state);
}

static const rpc_stream_ops count_ops = {
    .on_open = count_open,
    .on_message = count_message,
    .on_writable = count_writable,
    .on_close = count_close,
};

/* ------------------------------------------------------------ Chat */

typedef struct chat_state {
  int pending;
  int half_closed;
} chat_state;

typedef struct chat_job {
  char text[512];
  int seq;
  int worker;
} chat_job;

static int chat_open(rpc_stream *s, void **state, rpc_status *st) {
  (void)s;
  chat_state *c = calloc(1, sizeof(*c));
  if (!c) return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  *state = c;
  return 0;
}

static void chat_send(rpc_stream *s, const char *text, int seq) {
  Rpctest__V1__ChatMessage m = RPCTEST__V1__CHAT_MESSAGE__INIT;
  m.text = (char *)text;
  m.seq = seq;
  if (rpc_stream_send(s, &m.base) != 0) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_RESOURCE_EXHAUSTED, "chat output full");
    rpc_stream_finish(s, &st);
  }
}

static void chat_work(void *w, void *a, void *arg) {
  (void)a;
  chat_job *j = arg;
  for (char *p = j->text; *p; p++) *p = (char)toupper((unsigned char)*p);
  j->worker = ((worker *)w)->index;
}

static void chat_done(rpc_stream *s, void *state, void *arg) {
  chat_job *j = arg;
  if (s) {
    chat_state *c = state;
    c->pending--;
    chat_send(s, j->text, j->seq);
    if (c->half_closed && c->pending == 0) rpc_stream_finish(s, NULL);
  }
  free(j);
}

static void chat_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  chat_state *c = state;
  const Rpctest__V1__ChatMessage *m = (const Rpctest__V1__ChatMessage *)msg;
  if (strncmp(m->text, "worker:", 7) != 0) {
    chat_send(s, m->text, m->seq);
    return;
  }
  chat_job *j = calloc(1, sizeof(*j));
  if (!j) return;
  snprintf(j->text, sizeof(j->text), "%s", m->text);
  j->seq = m->seq;
  if (rpc_stream_run_on_worker(s, chat_work, chat_done, j) != 0) {
    free(j);
    chat_send(s, "worker unavailable", m->seq);
    return;
  }
  c->pending++;
}

static void chat_half_close(rpc_stream *s, void *state) {
  chat_state *c = state;
  c->half_closed = 1;
  if (c->pending == 0) rpc_stream_finish(s, NULL);
}

static void chat_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)why;
  free(state);
}

static const rpc_stream_ops chat_ops = {
    .on_open = chat_open,
    .on_message = chat_message,
    .on_half_close = chat_half_close,
    .on_close = chat_close,
};

/* ------------------------------------------------------------ Upload */

typedef struct upload_state {
  int n;
} upload_state;

static int upload_open(rpc_stream *s, void **state, rpc_status *st) {
  (void)s;
  upload_state *u = calloc(1, sizeof(*u));
  if (!u) return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  *state = u;
  return 0;
}

static void upload_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  (void)s;
  (void)msg;
  ((upload_state *)state)->n++;
}

static void upload_half_close(rpc_stream *s, void *state) {
  upload_state *u = state;
  char text[64];
  snprintf(text, sizeof(text), "got %d", u->n);
  Rpctest__V1__ChatMessage m = RPCTEST__V1__CHAT_MESSAGE__INIT;
  m.text = text;
  m.seq = u->n;
  if (rpc_stream_send(s, &m.base) != 0) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_INTERNAL, "cannot send");
    rpc_stream_finish(s, &st);
    return;
  }
  rpc_stream_finish(s, NULL);
}

static void upload_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)why;
  free(state);
}

static const rpc_stream_ops upload_ops = {
    .on_open = upload_open,
    .on_message = upload_message,
    .on_half_close = upload_half_close,
    .on_close = upload_close,
};

/* ------------------------------------------------------------ main */

#define SVC "/rpctest.v1.TestService/"
static const rpc_method methods[] = {
    {SVC "Echo", &rpctest__v1__echo_request__descriptor, &rpctest__v1__echo_response__descriptor,
     RPC_KIND_UNARY, echo, NULL, 0, 0},
    {SVC "SecretEcho", &rpctest__v1__echo_request__descriptor,
     &rpctest__v1__echo_response__descriptor, RPC_KIND_UNARY, echo, NULL, 1, 0},
    {SVC "Sleep", &rpctest__v1__sleep_request__descriptor, &rpctest__v1__sleep_response__descriptor,
     RPC_KIND_UNARY, do_sleep, NULL, 0, 0},
    {SVC "SetServing", &rpctest__v1__set_serving_request__descriptor,
     &rpctest__v1__set_serving_response__descriptor, RPC_KIND_UNARY, set_serving, NULL, 0, 0},
    {SVC "Fail", &rpctest__v1__fail_request__descriptor, &rpctest__v1__fail_response__descriptor,
     RPC_KIND_UNARY, fail, NULL, 0, 0},
    {SVC "Count", &rpctest__v1__count_request__descriptor, &rpctest__v1__count_response__descriptor,
     RPC_KIND_SERVER_STREAM, NULL, &count_ops, 1, 0},
    {SVC "Chat", &rpctest__v1__chat_message__descriptor, &rpctest__v1__chat_message__descriptor,
     RPC_KIND_BIDI, NULL, &chat_ops, 0, 0},
    {SVC "Upload", &rpctest__v1__chat_message__descriptor, &rpctest__v1__chat_message__descriptor,
     RPC_KIND_CLIENT_STREAM, NULL, &upload_ops, 0, 0},
};

static const char *arg_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    fprintf(stderr, "rpc_testd: %s needs a value\n", argv[*i]);
    exit(2);
  }
  return argv[++*i];
}

int main(int argc, char **argv) {
  rpc_server_config cfg = {0};
  cfg.listen = "127.0.0.1:0";
  cfg.workers = 2;
  cfg.loops = 2;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--listen")) cfg.listen = arg_value(argc, argv, &i);
    else if (!strcmp(a, "--lock-dir")) cfg.lock_dir = arg_value(argc, argv, &i);
    else if (!strcmp(a, "--max-message")) cfg.max_message_bytes = strtoul(arg_value(argc, argv, &i), NULL, 10);
    else if (!strcmp(a, "--workers")) cfg.workers = atoi(arg_value(argc, argv, &i));
    else if (!strcmp(a, "--loops")) cfg.loops = atoi(arg_value(argc, argv, &i));
    else if (!strcmp(a, "--metrics-listen")) cfg.metrics_listen = arg_value(argc, argv, &i);
    else if (!strcmp(a, "--drain-seconds")) cfg.drain_seconds = atoi(arg_value(argc, argv, &i));
    else if (!strcmp(a, "--max-queue")) cfg.max_queue = strtoul(arg_value(argc, argv, &i), NULL, 10);
    else if (!strcmp(a, "--log-level")) {
      log_level lvl;
      if (log_level_parse(arg_value(argc, argv, &i), &lvl) == 0) log_set_threshold(lvl);
    } else {
      fprintf(stderr, "rpc_testd: unknown argument %s\n", a);
      return 2;
    }
  }
  cfg.methods = methods;
  cfg.n_methods = sizeof(methods) / sizeof(methods[0]);
  cfg.authorize = authorize;
  cfg.worker_init = on_worker_init;
  cfg.worker_fini = on_worker_fini;
  cfg.app = &the_app;
  cfg.descriptor_set = rpctest_descriptor_set;
  cfg.descriptor_set_len = rpctest_descriptor_set_len;

  int rv = rpc_server_new(&cfg, &the_app.srv);
  if (rv != 0) {
    fprintf(stderr, "rpc_testd: cannot start: %s\n", reg_strerror(rv));
    return 1;
  }
  printf("READY %d\n", rpc_server_port(the_app.srv));
  fflush(stdout);
  rv = rpc_server_run(the_app.srv);
  rpc_server_free(the_app.srv);
  return rv == 0 ? 0 : 1;
}
