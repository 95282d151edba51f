/*
 * One call: the rpc_stream, from its request headers to its trailers.
 *
 * Request side. Headers are checked when the HEADERS frame is complete, in
 * this order: content-type (not application/grpc[+proto|;…] → HTTP 415),
 * method (not POST → HTTP 405), path (unknown → UNIMPLEMENTED),
 * grpc-encoding (not identity → UNIMPLEMENTED), grpc-timeout (malformed →
 * INVALID_ARGUMENT; else a timer on the loop). DATA goes through the
 * deframer (wire.c); each complete message is decoded (arena allocator)
 * and UTF-8 checked (utf8.c) before anything else sees it.
 *
 * Two kinds of method:
 *   - worker unary (rpc_method.unary): at END_STREAM, with exactly one
 *     message, the decoded request and the call's arena move into a job
 *     for the pool; the worker runs authorize and the handler, packs the
 *     response (or builds the error trailer) and posts the job back to this
 *     loop. The job names its stream by slot + generation: when the
 *     stream was reset, timed out or its connection died meanwhile, the
 *     generation no longer matches and the result is dropped.
 *   - loop-owned (rpc_method.stream, rpc_stream.h): the handler gets each
 *     message as it arrives and produces responses as flow control pulls
 *     them (on_writable from the data provider). A method with needs_key
 *     first runs authorize on a worker; messages that arrive meanwhile wait
 *     (at most RPC_MAX_PENDING).
 *
 * Response side. Errors before any message are Trailers-Only (one HEADERS
 * frame with END_STREAM). Otherwise the response HEADERS carry a data
 * provider reading the stream's evbuffer; when it is empty and the call is
 * finished, the provider ends DATA without END_STREAM and submits the
 * trailers from inside the read callback. An empty buffer on an unfinished
 * call defers the provider until rpc_stream_send/resume.
 *
 * Memory: stream objects, their evbuffers and unary jobs are recycled per
 * loop, deadline timers are embedded, and a loop-owned stream's messages
 * are decoded into a per-loop scratch arena that is renewed when it grows:
 * a health Check costs no malloc of ours beyond what libevent and nghttp2
 * do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

#define STREAM_CACHE_MAX 1024
#define JOB_CACHE_MAX 1024
#define SCRATCH_RENEW (256u * 1024u)
#define NO_SLOT UINT32_MAX
#define STOP REG_ECONFLICT /* a deframer callback's "the call is over" */

typedef struct unary_job {
  rpc_job base;
  uint32_t slot, gen;
  const rpc_route *route;
  ProtobufCMessage *req;
  uint8_t *resp;
  size_t resp_len;
  rpc_trailer trailer;
  char peer[64];
  rpc_call call;
} unary_job;

typedef struct auth_job {
  rpc_job base;
  uint32_t slot, gen;
  rpc_call call;
  char peer[64];
  char bearer[RPC_MAX_BEARER + 1];
} auth_job;

typedef struct work_job {
  rpc_job base;
  uint32_t slot, gen;
  rpc_work_fn work;
  rpc_work_done_cb done;
  void *arg;
} work_job;

#define MAKE_NV(NAME, VALUE, VLEN)                                                    \
  {(uint8_t *)(NAME), (uint8_t *)(VALUE), sizeof(NAME) - 1, (VLEN),                   \
   NGHTTP2_NV_FLAG_NO_COPY_NAME}
#define MAKE_NV_CS(NAME, VALUE)                                                       \
  {(uint8_t *)(NAME), (uint8_t *)(VALUE), sizeof(NAME) - 1, sizeof(VALUE) - 1,        \
   NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE}

static const char *const code_str[17] = {"0", "1", "2", "3", "4", "5", "6", "7", "8",
                                         "9", "10", "11", "12", "13", "14", "15", "16"};

static size_t arena_limit(const rpc_loop *l) {
  return 4 * l->srv->cfg.max_message_bytes + (1u << 20);
}

/* ------------------------------------------------------------ slots, caches */

static rpc_stream *lookup(rpc_loop *l, uint32_t slot, uint32_t gen) {
  if (slot >= l->n_slots || l->slots[slot].gen != gen) return NULL;
  return l->slots[slot].s;
}

static int slot_take(rpc_loop *l, rpc_stream *s) {
  uint32_t idx;
  if (l->free_slot != NO_SLOT && l->free_slot < l->n_slots) {
    idx = l->free_slot;
    l->free_slot = l->slots[idx].next_free;
  } else {
    if (l->n_slots == l->cap_slots) {
      uint32_t cap = l->cap_slots ? l->cap_slots * 2 : 256;
      struct rpc_slot *ns = realloc(l->slots, cap * sizeof(*ns));
      if (!ns) return REG_ENOMEM;
      l->slots = ns;
      l->cap_slots = cap;
    }
    idx = l->n_slots++;
    l->slots[idx].gen = 0;
  }
  l->slots[idx].s = s;
  l->slots[idx].next_free = NO_SLOT;
  s->slot = idx;
  s->gen = l->slots[idx].gen;
  return 0;
}

static void slot_give(rpc_loop *l, rpc_stream *s) {
  struct rpc_slot *sl = &l->slots[s->slot];
  sl->s = NULL;
  sl->gen++;
  sl->next_free = l->free_slot;
  l->free_slot = s->slot;
}

void rpc_loop_free_caches(rpc_loop *l) {
  while (l->stream_cache) {
    rpc_stream *s = l->stream_cache;
    l->stream_cache = s->next;
    if (s->out) evbuffer_free(s->out);
    free(s);
  }
  l->n_stream_cache = 0;
  while (l->job_cache) {
    rpc_job *j = l->job_cache;
    l->job_cache = j->next;
    free(j);
  }
  l->n_job_cache = 0;
  arena_free(l->scratch);
  l->scratch = NULL;
  free(l->slots);
  l->slots = NULL;
  l->n_slots = l->cap_slots = 0;
  l->free_slot = NO_SLOT;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg);

rpc_stream *rpc_stream_acquire(rpc_session *sess, int32_t id) {
  rpc_loop *l = sess->loop;
  rpc_stream *s = l->stream_cache;
  struct evbuffer *out = NULL;
  if (s) {
    l->stream_cache = s->next;
    l->n_stream_cache--;
    out = s->out;
  } else {
    s = malloc(sizeof(*s));
    if (!s) return NULL;
    out = evbuffer_new();
    if (!out) {
      free(s);
      return NULL;
    }
  }
  memset(s, 0, sizeof(*s));
  s->out = out;
  if (slot_take(l, s) != 0) {
    evbuffer_free(out);
    free(s);
    return NULL;
  }
  s->sess = sess;
  s->loop = l;
  s->id = id;
  s->timeout_us = -1;
  s->start_us = clock_mono_us();
  s->detached = 1;
  s->code = RPC_OK;
  s->lctx.method = s->path;
  s->lctx.peer = sess->peer;
  rpc_deframer_init(&s->in, l->srv->cfg.max_message_bytes, &sess->budget);
  event_assign(&s->deadline_ev, l->base, -1, 0, on_deadline, s);
  s->next = sess->streams;
  if (sess->streams) sess->streams->prev = s;
  sess->streams = s;
  sess->n_streams++;
  l->n_streams++;
  return s;
}

static void detach(rpc_stream *s, rpc_code why) {
  if (s->detached || !s->ops) return;
  s->detached = 1;
  const rpc_stream_ops *ops = s->ops;
  void *state = s->state;
  s->ops = NULL;
  s->state = NULL;
  ops->on_close(s, state, why);
}

void rpc_stream_release(rpc_stream *s, rpc_code why) {
  rpc_session *sess = s->sess;
  rpc_loop *l = s->loop;
  if (s->phase != PHASE_ANSWERED) {
    rpc_metrics_record(l, s->route, why, clock_mono_us() - s->start_us);
    s->phase = PHASE_ANSWERED;
    s->code = why;
  }
  detach(s, s->code);
  if (s->deadline_armed) event_del(&s->deadline_ev);
  rpc_deframer_clear(&s->in);
  for (unsigned i = 0; i < s->n_pending; i++) free(s->pending[i].data);
  arena_free(s->arena); /* NULL while a worker holds it */
  rpc_trailer_clear(&s->trailer);
  evbuffer_drain(s->out, evbuffer_get_length(s->out));

  if (s->prev)
    s->prev->next = s->next;
  else
    sess->streams = s->next;
  if (s->next) s->next->prev = s->prev;
  sess->n_streams--;
  l->n_streams--;
  slot_give(l, s);
  if (l->n_stream_cache < STREAM_CACHE_MAX) {
    s->next = l->stream_cache;
    l->stream_cache = s;
    l->n_stream_cache++;
  } else {
    evbuffer_free(s->out);
    free(s);
  }
  if (l->draining) rpc_loop_check_drained(l);
}

/* ------------------------------------------------------------ responding */

static ssize_t on_data_read(nghttp2_session *h2, int32_t stream_id, uint8_t *buf,
                            size_t length, uint32_t *flags, nghttp2_data_source *src,
                            void *user_data) {
  (void)user_data;
  rpc_stream *s = src->ptr;
  if (!s->resp_done && !s->detached && s->ops && s->ops->on_writable &&
      evbuffer_get_length(s->out) < length)
    s->ops->on_writable(s, s->state);
  int n = evbuffer_remove(s->out, buf, length);
  if (n < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (evbuffer_get_length(s->out) == 0) {
    if (s->resp_done) {
      const rpc_trailer *t = &s->trailer;
      nghttp2_nv trl[3] = {MAKE_NV("grpc-status", code_str[t->code], strlen(code_str[t->code]))};
      size_t nv = 1;
      if (t->msg_len) {
        nghttp2_nv m = MAKE_NV("grpc-message", rpc_trailer_msg(t), t->msg_len);
        trl[nv++] = m;
      }
      if (t->det_len) {
        nghttp2_nv d = MAKE_NV("grpc-status-details-bin", rpc_trailer_details(t), t->det_len);
        trl[nv++] = d;
      }
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      if (nghttp2_submit_trailer(h2, stream_id, trl, nv) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
      s->trailers_sent = 1;
    } else if (n == 0) {
      s->deferred = 1;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return n;
}

static int start_response(rpc_stream *s) {
  nghttp2_nv hdrs[] = {
      MAKE_NV_CS(":status", "200"),
      MAKE_NV_CS("content-type", "application/grpc"),
  };
  nghttp2_data_provider prd;
  prd.source.ptr = s;
  prd.read_callback = on_data_read;
  int rv = nghttp2_submit_response(s->sess->h2, s->id, hdrs, 2, &prd);
  if (rv != 0) {
    log_warn(&s->lctx, "nghttp2_submit_response: %s", nghttp2_strerror(rv));
    return REG_EIO;
  }
  s->resp_started = 1;
  return 0;
}

static void resume(rpc_stream *s) {
  if (!s->deferred) return;
  s->deferred = 0;
  (void)nghttp2_session_resume_data(s->sess->h2, s->id);
}

static void trailers_only(rpc_stream *s) {
  const rpc_trailer *t = &s->trailer;
  nghttp2_nv hdrs[5] = {
      MAKE_NV_CS(":status", "200"),
      MAKE_NV_CS("content-type", "application/grpc"),
      MAKE_NV("grpc-status", code_str[t->code], strlen(code_str[t->code])),
  };
  size_t n = 3;
  if (t->msg_len) {
    nghttp2_nv m = MAKE_NV("grpc-message", rpc_trailer_msg(t), t->msg_len);
    hdrs[n++] = m;
  }
  if (t->det_len) {
    nghttp2_nv d = MAKE_NV("grpc-status-details-bin", rpc_trailer_details(t), t->det_len);
    hdrs[n++] = d;
  }
  int rv = nghttp2_submit_response(s->sess->h2, s->id, hdrs, n, NULL);
  if (rv != 0) log_warn(&s->lctx, "nghttp2_submit_response: %s", nghttp2_strerror(rv));
  s->resp_started = 1;
  s->trailers_sent = 1;
}

/* The call's final status is in s->trailer: record it and put it on the
 * wire (Trailers-Only, or trailers after the queued messages). */
static void conclude(rpc_stream *s) {
  s->code = s->trailer.code;
  s->phase = PHASE_ANSWERED;
  if (s->deadline_armed) {
    event_del(&s->deadline_ev);
    s->deadline_armed = 0;
  }
  rpc_metrics_record(s->loop, s->route, s->code, clock_mono_us() - s->start_us);
  if (s->code != RPC_OK && s->code != RPC_NOT_FOUND && s->code != RPC_CANCELLED)
    log_debug(&s->lctx, "stream %d: %s: %s", s->id, rpc_code_name(s->code),
              s->trailer.block ? s->trailer.block : "");
  if (s->code == RPC_INTERNAL || s->code == RPC_UNKNOWN || s->code == RPC_DATA_LOSS)
    log_error(&s->lctx, "%s: %s", rpc_code_name(s->code),
              s->trailer.block ? s->trailer.block : "");
  if (!s->resp_started) {
    trailers_only(s);
  } else {
    s->resp_done = 1;
    resume(s);
  }
  rpc_session_kick(s->sess);
}

void rpc_stream_reject(rpc_stream *s, rpc_code code, const char *msg) {
  if (s->phase == PHASE_ANSWERED) return;
  rpc_trailer_clear(&s->trailer);
  rpc_trailer_simple(&s->trailer, code, msg);
  conclude(s);
  detach(s, code);
}

static void reject_status(rpc_stream *s, const rpc_status *st) {
  if (s->phase == PHASE_ANSWERED) return;
  rpc_trailer_clear(&s->trailer);
  if (rpc_trailer_build(&s->trailer, st) != 0)
    rpc_trailer_simple(&s->trailer, st->code, NULL);
  conclude(s);
  detach(s, st->code);
}

void rpc_stream_abort(rpc_stream *s, rpc_code code, const char *msg) {
  if (s->phase != PHASE_ANSWERED) {
    evbuffer_drain(s->out, evbuffer_get_length(s->out));
    rpc_stream_reject(s, code, msg);
  }
  detach(s, code);
}

void rpc_stream_http_error(rpc_stream *s, const char *status) {
  if (s->phase == PHASE_ANSWERED) return;
  nghttp2_nv hdrs[] = {
      MAKE_NV(":status", status, strlen(status)),
      MAKE_NV_CS("content-type", "text/plain"),
  };
  int rv = nghttp2_submit_response(s->sess->h2, s->id, hdrs, 2, NULL);
  if (rv != 0) log_warn(&s->lctx, "nghttp2_submit_response: %s", nghttp2_strerror(rv));
  s->resp_started = 1;
  s->trailers_sent = 1;
  s->phase = PHASE_ANSWERED;
  s->code = RPC_UNKNOWN;
  rpc_metrics_record(s->loop, s->route, RPC_UNKNOWN, clock_mono_us() - s->start_us);
  log_debug(&s->lctx, "stream %d: HTTP %s", s->id, status);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_stream *s = arg;
  s->deadline_armed = 0;
  rpc_stream_abort(s, RPC_DEADLINE_EXCEEDED, "deadline exceeded");
}

/* ------------------------------------------------------------ request side */

static arena *call_arena(rpc_stream *s) {
  if (!s->arena) s->arena = arena_new(arena_limit(s->loop));
  return s->arena;
}

/* Decodes one message into `a` and checks its strings. NULL when it was
 * refused (the call is answered). */
static ProtobufCMessage *decode(rpc_stream *s, arena *a, const uint8_t *data, size_t len) {
  const ProtobufCMessageDescriptor *in = s->route->m->input;
  if (!a) {
    rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
    return NULL;
  }
  ProtobufCMessage *msg = protobuf_c_message_unpack(in, arena_allocator(a), len, data);
  if (!msg) {
    char m[200];
    snprintf(m, sizeof(m), "cannot decode the request as %s", in->name);
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, m);
    return NULL;
  }
  char path[128];
  int rv = rpc_msg_check_utf8(msg, path, sizeof(path));
  if (rv == REG_EINVAL) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail_field(&st, path, "not valid UTF-8");
    reject_status(s, &st);
    return NULL;
  }
  if (rv != 0) {
    char m[200];
    snprintf(m, sizeof(m), "request nests too deeply at %s", path);
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, m);
    return NULL;
  }
  return msg;
}

/* One message to a loop-owned handler. */
static int deliver(rpc_stream *s, const uint8_t *data, size_t len) {
  rpc_loop *l = s->loop;
  if (!l->scratch) l->scratch = arena_new(arena_limit(l));
  ProtobufCMessage *msg = decode(s, l->scratch, data, len);
  if (!msg) return STOP;
  if (!s->detached && s->ops->on_message) s->ops->on_message(s, s->state, msg);
  if (l->scratch && arena_used(l->scratch) > SCRATCH_RENEW) {
    arena_free(l->scratch);
    l->scratch = NULL;
  }
  return s->phase == PHASE_ANSWERED ? STOP : 0;
}

static int on_message(void *arg, const uint8_t *data, size_t len) {
  rpc_stream *s = arg;
  if (s->phase == PHASE_ANSWERED) return STOP;
  const rpc_method *m = s->route->m;
  s->n_msgs++;
  if ((m->kind == RPC_KIND_UNARY || m->kind == RPC_KIND_SERVER_STREAM) && s->n_msgs > 1) {
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, "more than one request message");
    return STOP;
  }
  if (m->stream) {
    if (s->phase == PHASE_AUTH) {
      if (s->n_pending == RPC_MAX_PENDING) {
        rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "too many messages before authorization");
        return STOP;
      }
      uint8_t *copy = malloc(len ? len : 1);
      if (!copy) {
        rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
        return STOP;
      }
      memcpy(copy, data, len);
      s->pending[s->n_pending].data = copy;
      s->pending[s->n_pending].len = len;
      s->n_pending++;
      return 0;
    }
    return deliver(s, data, len);
  }
  s->req = decode(s, call_arena(s), data, len);
  return s->req ? 0 : STOP;
}

int rpc_stream_on_data(rpc_stream *s, const uint8_t *data, size_t len) {
  if (s->phase == PHASE_ANSWERED || s->phase == PHASE_HEADERS) return 0;
  int rv = rpc_deframer_feed(&s->in, data, len, on_message, s);
  if (rv == 0 || rv == STOP) return 0;
  char m[160];
  switch (rv) {
  case REG_ERANGE:
    snprintf(m, sizeof(m), "request message larger than %zu bytes", s->in.max);
    break;
  case REG_EPERM: snprintf(m, sizeof(m), "compressed messages are not supported"); break;
  case REG_EINVAL: snprintf(m, sizeof(m), "invalid message flag"); break;
  default: snprintf(m, sizeof(m), "too much request data buffered on this connection"); break;
  }
  rpc_stream_abort(s, rpc_frame_code(rv), m);
  return 0;
}

static void run_auth(rpc_job *j, void *worker_state);
static void done_auth(rpc_job *j);

static void start_auth(rpc_stream *s) {
  rpc_server *srv = s->loop->srv;
  auth_job *aj = calloc(1, sizeof(*aj));
  if (!aj) {
    rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  aj->base.loop = s->loop;
  aj->base.run = run_auth;
  aj->base.done = done_auth;
  aj->base.deadline_us = s->deadline_us;
  aj->slot = s->slot;
  aj->gen = s->gen;
  snprintf(aj->peer, sizeof(aj->peer), "%s", s->sess->peer);
  rpc_status_init(&aj->call.status);
  aj->call.method = s->route->m;
  aj->call.deadline_us = s->deadline_us;
  aj->call.peer = aj->peer;
  if (s->bearer) {
    snprintf(aj->bearer, sizeof(aj->bearer), "%s", s->bearer);
    aj->call.bearer = aj->bearer;
  }
  aj->call.app = srv->cfg.app;
  s->phase = PHASE_AUTH;
  if (rpc_pool_submit(srv->pool, &aj->base) != 0) {
    free(aj);
    s->phase = PHASE_OPEN;
    rpc_stream_reject(s, RPC_UNAVAILABLE, "server overloaded: worker queue full");
  }
}

static void open_handler(rpc_stream *s) {
  const rpc_stream_ops *ops = s->route->m->stream;
  void *state = NULL;
  s->phase = PHASE_OPEN;
  if (ops->on_open) {
    rpc_status st;
    rpc_status_init(&st);
    if (ops->on_open(s, &state, &st) != 0) {
      if (st.code == RPC_OK) rpc_fail(&st, RPC_INTERNAL, "stream handler refused the call");
      reject_status(s, &st);
      return;
    }
  }
  s->ops = ops;
  s->state = state;
  s->detached = 0;
  for (unsigned i = 0; i < s->n_pending; i++) {
    if (s->phase != PHASE_ANSWERED) (void)deliver(s, s->pending[i].data, s->pending[i].len);
    free(s->pending[i].data);
  }
  s->n_pending = 0;
  if (s->end_seen) rpc_stream_on_end(s);
}

void rpc_stream_on_headers(rpc_stream *s) {
  if (s->phase != PHASE_HEADERS) return;
  if (!s->ct_ok) {
    rpc_stream_http_error(s, "415");
    return;
  }
  if (!s->post) {
    rpc_stream_http_error(s, "405");
    return;
  }
  if (!s->route) {
    char m[160];
    snprintf(m, sizeof(m), "unknown method %s", s->path);
    rpc_stream_reject(s, RPC_UNIMPLEMENTED, m);
    return;
  }
  s->lctx.method = s->route->path;
  if (s->enc_bad) {
    rpc_stream_reject(s, RPC_UNIMPLEMENTED, "grpc-encoding not supported: use identity");
    return;
  }
  if (s->timeout_bad) {
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, "malformed grpc-timeout");
    return;
  }
  if (s->timeout_set) {
    s->deadline_us = s->start_us + s->timeout_us;
    struct timeval tv = {(time_t)(s->timeout_us / 1000000),
                         (suseconds_t)(s->timeout_us % 1000000)};
    if (event_add(&s->deadline_ev, &tv) == 0) s->deadline_armed = 1;
  }
  s->phase = PHASE_OPEN;
  const rpc_method *m = s->route->m;
  if (!m->stream) return;
  if (m->needs_key)
    start_auth(s);
  else
    open_handler(s);
}

static void run_unary(rpc_job *j, void *worker_state);
static void done_unary(rpc_job *j);

static void dispatch_unary(rpc_stream *s) {
  rpc_loop *l = s->loop;
  rpc_server *srv = l->srv;
  unary_job *uj = (unary_job *)l->job_cache;
  if (uj) {
    l->job_cache = uj->base.next;
    l->n_job_cache--;
  } else {
    uj = malloc(sizeof(*uj));
    if (!uj) {
      rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
      return;
    }
  }
  memset(&uj->base, 0, sizeof(uj->base));
  uj->base.loop = l;
  uj->base.run = run_unary;
  uj->base.done = done_unary;
  uj->base.deadline_us = s->deadline_us;
  uj->slot = s->slot;
  uj->gen = s->gen;
  uj->route = s->route;
  uj->req = s->req;
  uj->resp = NULL;
  uj->resp_len = 0;
  memset(&uj->trailer, 0, sizeof(uj->trailer));
  snprintf(uj->peer, sizeof(uj->peer), "%s", s->sess->peer);
  rpc_call *c = &uj->call;
  memset(c, 0, offsetof(rpc_call, status));
  rpc_status_init(&c->status);
  memset((char *)c + offsetof(rpc_call, deadline_us), 0,
         sizeof(*c) - offsetof(rpc_call, deadline_us));
  c->method = s->route->m;
  c->arena = s->arena;
  c->deadline_us = s->deadline_us;
  c->peer = uj->peer;
  c->bearer = s->bearer;
  c->app = srv->cfg.app;
  if (rpc_pool_submit(srv->pool, &uj->base) != 0) {
    uj->base.next = l->job_cache;
    l->job_cache = &uj->base;
    l->n_job_cache++;
    rpc_stream_reject(s, RPC_UNAVAILABLE, "server overloaded: worker queue full");
    return;
  }
  s->arena = NULL; /* the job owns it now */
  s->req = NULL;
  s->bearer = NULL;
  s->phase = PHASE_WORKER;
}

void rpc_stream_on_end(rpc_stream *s) {
  s->end_seen = 1;
  if (s->phase != PHASE_OPEN) return; /* answered, or authorize still running */
  if (!rpc_deframer_idle(&s->in)) {
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, "request ends inside a message");
    return;
  }
  const rpc_method *m = s->route->m;
  int one = m->kind == RPC_KIND_UNARY || m->kind == RPC_KIND_SERVER_STREAM;
  if (one && s->n_msgs == 0) {
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, "missing request message");
    return;
  }
  if (m->stream) {
    if (!s->detached && s->ops->on_half_close) s->ops->on_half_close(s, s->state);
    return;
  }
  if (!s->req) {
    rpc_stream_reject(s, RPC_INVALID_ARGUMENT, "missing request message");
    return;
  }
  dispatch_unary(s);
}

/* ------------------------------------------------------------ worker side */

static void run_unary(rpc_job *j, void *worker_state) {
  unary_job *uj = (unary_job *)j;
  rpc_call *c = &uj->call;
  rpc_server *srv = j->loop->srv;
  const rpc_method *m = c->method;
  ProtobufCMessage *resp = NULL;
  int rv = 0;
  c->worker = worker_state;
  if (srv->cfg.authorize) rv = srv->cfg.authorize(c);
  if (rv == 0 && m->needs_key && !c->authenticated)
    rv = rpc_fail(&c->status, RPC_UNAUTHENTICATED, "missing or invalid API key");
  if (rv == 0) rv = m->unary(c, uj->req, &resp);
  if (rv == 0 && (!resp || resp->descriptor != m->output))
    rv = rpc_fail(&c->status, RPC_INTERNAL, "handler returned no %s", m->output->name);
  if (rv == 0) {
    size_t len = protobuf_c_message_get_packed_size(resp);
    if (len > UINT32_MAX - RPC_FRAME_HEADER) {
      rv = rpc_fail(&c->status, RPC_INTERNAL, "response too large");
    } else {
      uint8_t *buf = malloc(RPC_FRAME_HEADER + len);
      if (!buf) {
        rv = rpc_fail(&c->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
      } else {
        rpc_frame_prefix(buf, (uint32_t)len);
        protobuf_c_message_pack(resp, buf + RPC_FRAME_HEADER);
        uj->resp = buf;
        uj->resp_len = RPC_FRAME_HEADER + len;
        return;
      }
    }
  }
  if (c->status.code == RPC_OK) rpc_fail(&c->status, RPC_UNKNOWN, "handler failed without a status");
  if (rpc_trailer_build(&uj->trailer, &c->status) != 0)
    rpc_trailer_simple(&uj->trailer, c->status.code, NULL);
}

static void on_ref_free(const void *data, size_t len, void *extra) {
  (void)len;
  (void)extra;
  free((void *)data);
}

static void done_unary(rpc_job *j) {
  unary_job *uj = (unary_job *)j;
  rpc_loop *l = j->loop;
  rpc_stream *s = lookup(l, uj->slot, uj->gen);
  if (s && s->phase == PHASE_WORKER) {
    if (j->skipped == 1) {
      rpc_stream_reject(s, RPC_DEADLINE_EXCEEDED, "deadline exceeded before a worker was free");
    } else if (j->skipped) {
      rpc_stream_reject(s, RPC_UNAVAILABLE, "server shutting down");
    } else if (uj->resp) {
      /* the evbuffer takes the worker's buffer without a copy */
      if (evbuffer_add_reference(s->out, uj->resp, uj->resp_len, on_ref_free, NULL) == 0) {
        uj->resp = NULL;
        if (start_response(s) == 0) {
          rpc_trailer_clear(&s->trailer);
          s->trailer.code = RPC_OK;
          conclude(s);
        } else {
          evbuffer_drain(s->out, evbuffer_get_length(s->out));
          rpc_stream_reject(s, RPC_INTERNAL, "cannot start the response");
        }
      } else {
        rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
      }
    } else {
      rpc_trailer_clear(&s->trailer);
      s->trailer = uj->trailer;
      memset(&uj->trailer, 0, sizeof(uj->trailer));
      conclude(s);
    }
  } else if (!j->skipped) {
    log_debug(NULL, "dropping a late result for %s", uj->route->path);
  }
  arena_free(uj->call.arena);
  free(uj->resp);
  rpc_trailer_clear(&uj->trailer);
  if (l->n_job_cache < JOB_CACHE_MAX) {
    j->next = l->job_cache;
    l->job_cache = j;
    l->n_job_cache++;
  } else {
    free(uj);
  }
}

static void run_auth(rpc_job *j, void *worker_state) {
  auth_job *aj = (auth_job *)j;
  rpc_server *srv = j->loop->srv;
  rpc_call *c = &aj->call;
  c->worker = worker_state;
  int rv = srv->cfg.authorize ? srv->cfg.authorize(c) : 0;
  c->worker = NULL;
  if (rv == 0 && !c->authenticated)
    (void)rpc_fail(&c->status, RPC_UNAUTHENTICATED, "missing or invalid API key");
}

static void done_auth(rpc_job *j) {
  auth_job *aj = (auth_job *)j;
  rpc_stream *s = lookup(j->loop, aj->slot, aj->gen);
  if (s && s->phase == PHASE_AUTH) {
    if (j->skipped == 1) {
      rpc_stream_reject(s, RPC_DEADLINE_EXCEEDED, "deadline exceeded before a worker was free");
    } else if (j->skipped) {
      rpc_stream_reject(s, RPC_UNAVAILABLE, "server shutting down");
    } else if (aj->call.status.code != RPC_OK) {
      reject_status(s, &aj->call.status);
    } else {
      rpc_call *c = rpc_stream_call(s);
      if (!c) {
        rpc_stream_reject(s, RPC_RESOURCE_EXHAUSTED, "out of memory");
      } else {
        c->authenticated = 1;
        c->caller = aj->call.caller;
        open_handler(s);
      }
    }
    if (s->phase == PHASE_ANSWERED || s->resp_started) rpc_session_kick(s->sess);
  }
  free(aj);
}

static void run_work(rpc_job *j, void *worker_state) {
  work_job *wj = (work_job *)j;
  wj->work(worker_state, j->loop->srv->cfg.app, wj->arg);
}

static void done_work(rpc_job *j) {
  work_job *wj = (work_job *)j;
  rpc_stream *s = j->skipped ? NULL : lookup(j->loop, wj->slot, wj->gen);
  if (s && !s->detached && s->ops)
    wj->done(s, s->state, wj->arg);
  else
    wj->done(NULL, NULL, wj->arg);
  free(wj);
}

/* ------------------------------------------------------------ rpc_stream.h */

int rpc_stream_send(rpc_stream *s, const ProtobufCMessage *m) {
  if (!s || !m || s->phase == PHASE_ANSWERED || m->descriptor != s->route->m->output)
    return REG_EINVAL;
  if (evbuffer_get_length(s->out) > RPC_STREAM_MAX_QUEUED) return REG_ENOMEM;
  size_t len = protobuf_c_message_get_packed_size(m);
  if (len > s->loop->srv->cfg.max_message_bytes * 4 + (1u << 20)) return REG_EINVAL;
  struct evbuffer_iovec v;
  if (evbuffer_reserve_space(s->out, (ev_ssize_t)(RPC_FRAME_HEADER + len), &v, 1) < 1 ||
      v.iov_len < RPC_FRAME_HEADER + len)
    return REG_ENOMEM;
  uint8_t *p = v.iov_base;
  rpc_frame_prefix(p, (uint32_t)len);
  protobuf_c_message_pack(m, p + RPC_FRAME_HEADER);
  v.iov_len = RPC_FRAME_HEADER + len;
  if (evbuffer_commit_space(s->out, &v, 1) != 0) return REG_ENOMEM;
  if (!s->resp_started) {
    if (start_response(s) != 0) return REG_ENOMEM;
  } else {
    resume(s);
  }
  rpc_session_kick(s->sess);
  return 0;
}

size_t rpc_stream_room(const rpc_stream *s) {
  if (!s || s->phase == PHASE_ANSWERED) return 0;
  size_t q = evbuffer_get_length(s->out);
  return q >= RPC_STREAM_ROOM ? 0 : RPC_STREAM_ROOM - q;
}

void rpc_stream_resume(rpc_stream *s) {
  if (!s || s->phase == PHASE_ANSWERED) return;
  if (!s->resp_started) {
    if (start_response(s) != 0) return;
  } else {
    resume(s);
  }
  rpc_session_kick(s->sess);
}

void rpc_stream_finish(rpc_stream *s, const rpc_status *st) {
  if (!s || s->phase == PHASE_ANSWERED) return;
  rpc_trailer_clear(&s->trailer);
  if (!st) {
    s->trailer.code = RPC_OK;
  } else if (rpc_trailer_build(&s->trailer, st) != 0) {
    rpc_trailer_simple(&s->trailer, st->code, NULL);
  }
  conclude(s);
}

int rpc_stream_run_on_worker(rpc_stream *s, rpc_work_fn work, rpc_work_done_cb done,
                             void *arg) {
  if (!s || !work || !done) return REG_EINVAL;
  if (s->loop->draining) return REG_EUNAVAIL;
  work_job *wj = calloc(1, sizeof(*wj));
  if (!wj) return REG_ENOMEM;
  wj->base.loop = s->loop;
  wj->base.run = run_work;
  wj->base.done = done_work;
  wj->slot = s->slot;
  wj->gen = s->gen;
  wj->work = work;
  wj->done = done;
  wj->arg = arg;
  int rv = rpc_pool_submit(s->loop->srv->pool, &wj->base);
  if (rv != 0) free(wj);
  return rv;
}

struct event_base *rpc_stream_base(const rpc_stream *s) { return s->loop->base; }

int rpc_stream_loop_index(const rpc_stream *s) { return s->loop->index; }

void *rpc_stream_app(const rpc_stream *s) { return s->loop->srv->cfg.app; }

const log_ctx *rpc_stream_log_ctx(const rpc_stream *s) { return &s->lctx; }

rpc_call *rpc_stream_call(rpc_stream *s) {
  if (s->call) return s->call;
  arena *a = call_arena(s);
  if (!a) return NULL;
  rpc_call *c = arena_calloc(a, 1, sizeof(*c));
  if (!c) return NULL;
  rpc_status_init(&c->status);
  c->method = s->route ? s->route->m : NULL;
  c->arena = a;
  c->deadline_us = s->deadline_us;
  c->peer = arena_strdup(a, s->sess->peer);
  c->bearer = s->bearer;
  c->app = s->loop->srv->cfg.app;
  s->call = c;
  return c;
}
