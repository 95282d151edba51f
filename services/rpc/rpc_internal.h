/*
 * The transport's private structures, shared by its files:
 *   server.c   rpc_server, rpc_loop: listeners, threads, signals, drain;
 *   session.c  rpc_session: one HTTP/2 connection, the request side;
 *   stream.c   rpc_stream: one call, the response side, worker results;
 *   pool.c     rpc_pool, rpc_job: the worker threads and their queue;
 *   health.c, reflection.c: the built-in loop-owned services;
 *   metrics.c  per-loop counters and /metrics.
 * Nothing here is for services; they see rpc.h, rpc_server.h, rpc_stream.h.
 */
#ifndef REG_RPC_RPC_INTERNAL_H
#define REG_RPC_RPC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <nghttp2/nghttp2.h>

#include "services/base/arena.h"
#include "services/base/log.h"
#include "services/rpc/rpc.h"
#include "services/rpc/rpc_server.h"
#include "services/rpc/rpc_stream.h"
#include "services/rpc/rpc_wire.h"

#define RPC_MAX_CONCURRENT_STREAMS 256
#define RPC_STREAM_WINDOW (1u << 20)     /* per-stream receive window */
#define RPC_CONN_WINDOW (1u << 24)       /* connection receive window */
#define RPC_OUT_HIGH_WATER (64u * 1024u) /* socket output before we stop serializing */
#define RPC_OUT_LOW_WATER (16u * 1024u)  /* ... and resume */
#define RPC_STREAM_ROOM (64u * 1024u)    /* queued output of a loop-owned stream */
#define RPC_STREAM_MAX_QUEUED (1u << 20) /* hard cap of the same */
#define RPC_MAX_PENDING 8                /* messages held while authorize runs */
#define RPC_MAX_BEARER 1024
#define RPC_GOAWAY_GRACE_MS 1000         /* shutdown notice → final GOAWAY */
#define RPC_HIST_BUCKETS 14

typedef struct rpc_loop rpc_loop;
typedef struct rpc_session rpc_session;
typedef struct rpc_pool rpc_pool;
typedef struct rpc_job rpc_job;
typedef struct rpc_reflection rpc_reflection;
typedef struct rpc_health_watch rpc_health_watch;

/* ------------------------------------------------------------ methods */

/* A method as the transport routes it. */
typedef struct rpc_route {
  const rpc_method *m;
  const char *path;
  size_t path_len;
  uint32_t hash;
  size_t index; /* metrics row; the row n_routes is "unknown" */
  char service[128];
} rpc_route;

const rpc_route *rpc_server_route(const rpc_server *s, const char *path, size_t len);
uint32_t rpc_hash(const char *p, size_t n);

/* ------------------------------------------------------------ metrics */

/* Per-loop counters: written by the loop thread only (relaxed atomics, no
 * lock), summed by the metrics thread. */
typedef struct rpc_counters {
  _Atomic uint64_t calls[17];
  _Atomic uint64_t bucket[RPC_HIST_BUCKETS]; /* non-cumulative */
  _Atomic uint64_t sum_us;
  _Atomic uint64_t count;
} rpc_counters;

void rpc_metrics_record(rpc_loop *l, const rpc_route *r, rpc_code code, int64_t dur_us);
int rpc_metrics_start(rpc_server *s) REG_MUST_CHECK; /* binds; thread started by run */
int rpc_metrics_run(rpc_server *s) REG_MUST_CHECK;
void rpc_metrics_stop(rpc_server *s);
void rpc_metrics_free(rpc_server *s);

/* ------------------------------------------------------------ pool */

/* A unit of work for a worker. `run` runs on a worker unless the job's
 * deadline passed before a worker took it (skipped = 1) or the pool
 * stopped first (skipped = 2); then `done` runs on the owning loop (or,
 * at shutdown, on the thread freeing the server). */
struct rpc_job {
  rpc_job *next;
  rpc_loop *loop;
  void (*run)(rpc_job *j, void *worker_state);
  void (*done)(rpc_job *j);
  int64_t deadline_us; /* 0: none */
  int skipped;
  int worker_index;
};

int rpc_pool_new(rpc_server *srv, int n, size_t max_queue, rpc_pool **out) REG_MUST_CHECK;
/* 0, or REG_EUNAVAIL when the queue is full or the pool stopped. */
int rpc_pool_submit(rpc_pool *p, rpc_job *j) REG_MUST_CHECK;
size_t rpc_pool_depth(const rpc_pool *p);
/* Finishes running jobs, hands queued ones back as skipped, joins. */
void rpc_pool_stop(rpc_pool *p);
void rpc_pool_free(rpc_pool *p);

/* Hands a finished job to its loop (any thread). */
void rpc_loop_post(rpc_loop *l, rpc_job *j);

/* ------------------------------------------------------------ server, loop */

struct rpc_loop {
  rpc_server *srv;
  int index;
  struct event_base *base;
  struct evconnlistener *listener;
  pthread_t thread;
  int thread_started;

  struct event *notify_ev;    /* worker results arrived */
  struct event *serving_ev;   /* health state changed */
  struct event *drain_ev;     /* begin the drain */
  struct event *goaway_ev;    /* final GOAWAY after the grace */
  struct event *bound_ev;     /* drain bound reached */
  struct event *stop_ev;      /* last resort: leave the loop */
  pthread_mutex_t mu;
  int mu_ok;
  rpc_job *done_head, *done_tail;

  rpc_session *sessions;
  size_t n_sessions;
  size_t n_streams;
  int draining;
  int final_goaway;
  int exiting;

  /* stream slots: id + generation, so late results find a dead stream */
  struct rpc_slot {
    rpc_stream *s;
    uint32_t gen;
    uint32_t next_free;
  } *slots;
  uint32_t n_slots, cap_slots, free_slot; /* free_slot: UINT32_MAX none */
  rpc_stream *stream_cache;   /* released stream objects for reuse */
  size_t n_stream_cache;
  rpc_job *job_cache;         /* unary jobs for reuse */
  size_t n_job_cache;
  arena *scratch;             /* decoded messages of loop-owned streams */

  rpc_health_watch *watches;  /* health Watch streams of this loop */
  int health_sent;            /* serving state last broadcast */

  rpc_counters *counters;     /* n_routes + 1 rows */
};

struct rpc_server {
  rpc_server_config cfg;
  char *listen_str;
  char *lock_dir;
  char *metrics_str;
  int port;
  int lock_fd;

  rpc_route *routes;
  size_t n_routes;
  uint32_t *route_table; /* open addressing: route index + 1, 0 empty */
  size_t route_cap;
  rpc_method *builtin;   /* health and reflection entries */
  size_t n_builtin;

  rpc_loop *loops;
  int n_loops;
  rpc_pool *pool;
  rpc_reflection *refl;
  nghttp2_session_callbacks *h2_cbs;
  nghttp2_option *h2_opt;

  struct event *sig_term, *sig_int;
  _Atomic int serving;
  _Atomic int draining;
  _Atomic int running;

  /* metrics.c */
  struct event_base *m_base;
  struct evhttp *m_http;
  struct event *m_stop;
  pthread_t m_thread;
  int m_started;
};

int rpc_server_serving(const rpc_server *s); /* serving && !draining */
int rpc_server_has_service(const rpc_server *s, const char *name); /* "" too */
void rpc_loop_check_drained(rpc_loop *l);

/* ------------------------------------------------------------ session, stream */

typedef enum stream_phase {
  PHASE_HEADERS = 0, /* receiving request headers */
  PHASE_OPEN,        /* accepted; receiving messages */
  PHASE_AUTH,        /* loop-owned, authorize running on a worker */
  PHASE_WORKER,      /* unary call on a worker */
  PHASE_ANSWERED,    /* final status decided */
} stream_phase;

struct rpc_stream {
  rpc_session *sess;
  rpc_loop *loop;
  int32_t id;
  uint32_t slot, gen;
  stream_phase phase;
  const rpc_route *route;   /* NULL: unknown path */
  char path[96];            /* the path as received (truncated), for logs */
  log_ctx lctx;

  /* request headers */
  unsigned ct_ok : 1, post : 1, enc_bad : 1, timeout_bad : 1, timeout_set : 1;
  unsigned end_seen : 1;    /* client END_STREAM */
  unsigned resp_started : 1, resp_done : 1, trailers_sent : 1, deferred : 1;
  unsigned detached : 1;    /* handler's on_close ran (or never opened) */
  int64_t timeout_us;
  int64_t start_us;
  int64_t deadline_us;
  char *bearer;             /* arena copy */
  arena *arena;             /* call memory; moves to the job for worker calls */
  rpc_call *call;           /* loop-owned streams: lazily, in arena */

  rpc_deframer in;
  unsigned n_msgs;
  ProtobufCMessage *req;    /* worker unary: the decoded request (arena) */
  struct pending_msg {
    uint8_t *data;
    size_t len;
  } pending[RPC_MAX_PENDING];
  unsigned n_pending;

  /* response */
  struct evbuffer *out;     /* framed messages not yet taken by nghttp2 */
  rpc_trailer trailer;
  rpc_code code;

  /* loop-owned handler */
  const rpc_stream_ops *ops;
  void *state;

  struct event deadline_ev; /* embedded: no malloc per call */
  int deadline_armed;

  rpc_stream *prev, *next;  /* session's list */
};

struct rpc_session {
  rpc_loop *loop;
  struct bufferevent *bev;
  nghttp2_session *h2;
  char peer[64];
  log_ctx lctx;
  rpc_stream *streams;
  size_t n_streams;
  rpc_budget budget;        /* buffered incomplete request messages */
  struct event send_ev;     /* embedded: deferred nghttp2_session_send */
  int send_armed;
  int notice_sent, goaway_sent, closing;
  rpc_session *prev, *next; /* loop's list */
};

/* session.c */
nghttp2_session_callbacks *rpc_session_callbacks(void);
void rpc_session_accept(rpc_loop *l, int fd, const struct sockaddr *addr, int addrlen);
void rpc_session_kick(rpc_session *sess);  /* send soon, from outside nghttp2 */
void rpc_session_shutdown_notice(rpc_session *sess);
void rpc_session_final_goaway(rpc_session *sess);
void rpc_session_free(rpc_session *sess);  /* the one teardown */

/* stream.c */
rpc_stream *rpc_stream_acquire(rpc_session *sess, int32_t id);
void rpc_stream_release(rpc_stream *s, rpc_code why); /* stream closed or session gone */
void rpc_stream_on_headers(rpc_stream *s);
int rpc_stream_on_data(rpc_stream *s, const uint8_t *data, size_t len);
void rpc_stream_on_end(rpc_stream *s);
void rpc_stream_reject(rpc_stream *s, rpc_code code, const char *msg);
void rpc_stream_http_error(rpc_stream *s, const char *status);
void rpc_stream_abort(rpc_stream *s, rpc_code code, const char *msg); /* deadline, drain */
void rpc_loop_drain_jobs(rpc_loop *l);  /* run done of posted jobs */
void rpc_loop_free_caches(rpc_loop *l);

/* health.c, reflection.c */
extern const rpc_stream_ops rpc_health_check_ops;
extern const rpc_stream_ops rpc_health_watch_ops;
extern const rpc_stream_ops rpc_reflection_ops;
void rpc_health_broadcast(rpc_loop *l);
void rpc_health_close_all(rpc_loop *l);
int rpc_reflection_new(const unsigned char *set, size_t len, rpc_reflection **out) REG_MUST_CHECK;
void rpc_reflection_free(rpc_reflection *r);
/* Adds health and reflection methods to the server's table. */
int rpc_builtin_methods(rpc_server *s, rpc_method **out, size_t *n) REG_MUST_CHECK;

#endif
