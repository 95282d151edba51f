/*
 * The server: the method table, the per-port lock, one event loop per
 * core with its own SO_REUSEPORT listener, signals and the drain.
 *
 * Threads. rpc_server_run runs loop 0 on the calling thread and loops
 * 1..n-1 on their own threads; each loop owns its listener, its
 * connections and their streams, and nothing else is shared between loops
 * except the worker pool's queue (pool.c), the serving/draining atomics
 * and the read-only method table and reflection index. Worker and loop
 * threads block SIGTERM/SIGINT so that loop 0's evsignal handlers see them.
 *
 * The lock. Two servers on one port would both bind with SO_REUSEPORT and
 * the kernel would split connections between them, so before binding the
 * server takes an exclusive non-blocking flock on
 * <lock_dir>/registryd-<port>.lock; another holder means REG_EEXIST (the
 * caller exits 1). The file is never unlinked (unlinking races with a
 * newcomer's open); the lock dies with the process.
 *
 * The drain (SIGTERM, SIGINT or rpc_server_stop): every loop closes its
 * listener, health turns NOT_SERVING (Watch streams are told), each
 * connection gets a shutdown notice (GOAWAY with the maximum stream id),
 * then after RPC_GOAWAY_GRACE_MS the final GOAWAY with the last stream id
 * it processed (a connection with no open stream gets it at once). In-flight
 * calls finish normally; a connection is closed when its last stream is
 * done and its output flushed. After drain_seconds whatever is still open
 * (Watch streams, slow calls) ends with UNAVAILABLE, and one second later
 * the loop leaves regardless. A second signal jumps to that bound. When
 * every loop has left, the workers finish their current job and stop,
 * results nobody will read are dropped, and rpc_server_run returns 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/listener.h>
#include <event2/thread.h>

#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

#define DEFAULT_WORKERS 4
#define DEFAULT_MAX_MESSAGE (4u << 20)
#define DEFAULT_DRAIN_S 10
#define MAX_LOOPS 256
#define BACKLOG 1024

extern const unsigned char registry_descriptor_set[];
extern const size_t registry_descriptor_set_len;

static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_ok;
static void init_evthread(void) { evthread_ok = evthread_use_pthreads() == 0; }

/* ------------------------------------------------------------ methods */

uint32_t rpc_hash(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)p[i];
    h *= 16777619u;
  }
  return h;
}

const rpc_route *rpc_server_route(const rpc_server *s, const char *path, size_t len) {
  uint32_t h = rpc_hash(path, len);
  size_t mask = s->route_cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t v = s->route_table[i];
    if (v == 0) return NULL;
    const rpc_route *r = &s->routes[v - 1];
    if (r->hash == h && r->path_len == len && memcmp(r->path, path, len) == 0) return r;
  }
}

int rpc_server_has_service(const rpc_server *s, const char *name) {
  if (!name || !name[0]) return 1;
  for (size_t i = 0; i < s->n_routes; i++)
    if (strcmp(s->routes[i].service, name) == 0) return 1;
  return 0;
}

int rpc_builtin_methods(rpc_server *s, rpc_method **out, size_t *n) {
  (void)s;
  static const char *const paths[4] = {
      "/grpc.health.v1.Health/Check",
      "/grpc.health.v1.Health/Watch",
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  };
  rpc_method *m = calloc(4, sizeof(*m));
  if (!m) return REG_ENOMEM;
  for (int i = 0; i < 4; i++) m[i].path = paths[i];
  m[0].input = m[1].input = &grpc__health__v1__health_check_request__descriptor;
  m[0].output = m[1].output = &grpc__health__v1__health_check_response__descriptor;
  m[0].kind = RPC_KIND_UNARY;
  m[0].stream = &rpc_health_check_ops;
  m[1].kind = RPC_KIND_SERVER_STREAM;
  m[1].stream = &rpc_health_watch_ops;
  /* v1alpha is the same messages under another package: same wire form. */
  for (int i = 2; i < 4; i++) {
    m[i].input = &grpc__reflection__v1__server_reflection_request__descriptor;
    m[i].output = &grpc__reflection__v1__server_reflection_response__descriptor;
    m[i].kind = RPC_KIND_BIDI;
    m[i].stream = &rpc_reflection_ops;
  }
  *out = m;
  *n = 4;
  return 0;
}

static int check_method(const rpc_method *m) {
  if (!m->path || m->path[0] != '/' || !strchr(m->path + 1, '/') || !m->input || !m->output)
    return REG_EINVAL;
  if (!!m->unary == !!m->stream) return REG_EINVAL;     /* exactly one handler */
  if (m->unary && m->kind != RPC_KIND_UNARY) return REG_EINVAL; /* workers: unary only */
  if (m->stream && !m->stream->on_close) return REG_EINVAL;
  return 0;
}

static int add_route(rpc_server *s, const rpc_method *m) {
  size_t len = strlen(m->path);
  if (rpc_server_route(s, m->path, len)) return 0; /* first entry wins */
  rpc_route *r = &s->routes[s->n_routes];
  r->m = m;
  r->path = m->path;
  r->path_len = len;
  r->hash = rpc_hash(m->path, len);
  r->index = s->n_routes;
  const char *slash = strchr(m->path + 1, '/');
  size_t sl = (size_t)(slash - (m->path + 1));
  if (sl >= sizeof(r->service)) return REG_EINVAL;
  memcpy(r->service, m->path + 1, sl);
  r->service[sl] = 0;
  s->n_routes++;
  size_t mask = s->route_cap - 1;
  for (size_t i = r->hash & mask;; i = (i + 1) & mask) {
    if (s->route_table[i] == 0) {
      s->route_table[i] = (uint32_t)s->n_routes;
      break;
    }
  }
  return 0;
}

static int build_routes(rpc_server *s) {
  int rv = rpc_builtin_methods(s, &s->builtin, &s->n_builtin);
  if (rv != 0) return rv;
  size_t total = s->cfg.n_methods + s->n_builtin;
  s->route_cap = 16;
  while (s->route_cap < 2 * total + 1) s->route_cap *= 2;
  s->routes = calloc(total, sizeof(*s->routes));
  s->route_table = calloc(s->route_cap, sizeof(uint32_t));
  if (!s->routes || !s->route_table) return REG_ENOMEM;
  for (size_t i = 0; i < s->cfg.n_methods; i++) {
    if (check_method(&s->cfg.methods[i]) != 0) {
      log_error(NULL, "bad method table entry %zu (%s)", i,
                s->cfg.methods[i].path ? s->cfg.methods[i].path : "no path");
      return REG_EINVAL;
    }
    if ((rv = add_route(s, &s->cfg.methods[i])) != 0) return rv;
  }
  for (size_t i = 0; i < s->n_builtin; i++)
    if ((rv = add_route(s, &s->builtin[i])) != 0) return rv;
  return 0;
}

/* ------------------------------------------------------------ lock, listeners */

static int take_lock(rpc_server *s) {
  char path[1200];
  snprintf(path, sizeof(path), "%s/registryd-%d.lock", s->lock_dir, s->port);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    log_error(NULL, "cannot open lock file %s: %s", path, strerror(errno));
    return REG_EIO;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK) {
      log_error(NULL, "another process serves port %d (lock %s is held)", s->port, path);
      return REG_EEXIST;
    }
    log_error(NULL, "flock %s: %s", path, strerror(e));
    return REG_EIO;
  }
  char pid[32];
  int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0) { /* informative only */
  }
  s->lock_fd = fd;
  return 0;
}

static int bind_socket(struct sockaddr_storage *ss, socklen_t len, int *out) {
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return REG_EIO;
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)ss, len) != 0 || listen(fd, BACKLOG) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return REG_EIO;
  }
  *out = fd;
  return 0;
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *addr,
                      int addrlen, void *arg) {
  (void)lis;
  rpc_session_accept(arg, fd, addr, addrlen);
}

static void on_accept_error(struct evconnlistener *lis, void *arg) {
  (void)lis;
  rpc_loop *l = arg;
  log_warn(NULL, "accept on loop %d: %s", l->index,
           evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* ------------------------------------------------------------ drain */

int rpc_server_serving(const rpc_server *s) {
  return atomic_load(&s->serving) && !atomic_load(&s->draining);
}

void rpc_loop_check_drained(rpc_loop *l) {
  if (!l->draining || l->exiting) return;
  for (rpc_session *sess = l->sessions; sess; sess = sess->next)
    if (sess->n_streams == 0 && !sess->goaway_sent) rpc_session_final_goaway(sess);
  if (l->n_sessions == 0) {
    l->exiting = 1;
    log_debug(NULL, "loop %d drained", l->index);
    event_base_loopexit(l->base, NULL);
  }
}

static void on_drain(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_loop *l = arg;
  if (l->draining) return;
  l->draining = 1;
  if (l->listener) {
    evconnlistener_free(l->listener);
    l->listener = NULL;
  }
  rpc_health_broadcast(l);
  for (rpc_session *sess = l->sessions; sess; sess = sess->next) {
    if (sess->n_streams == 0)
      rpc_session_final_goaway(sess);
    else
      rpc_session_shutdown_notice(sess);
  }
  struct timeval grace = {RPC_GOAWAY_GRACE_MS / 1000, (RPC_GOAWAY_GRACE_MS % 1000) * 1000};
  struct timeval bound = {l->srv->cfg.drain_seconds, 0};
  event_add(l->goaway_ev, &grace);
  event_add(l->bound_ev, &bound);
  rpc_loop_check_drained(l);
}

static void on_goaway(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_loop *l = arg;
  l->final_goaway = 1;
  for (rpc_session *sess = l->sessions; sess; sess = sess->next) rpc_session_final_goaway(sess);
  rpc_loop_check_drained(l);
}

static void on_stop(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_loop *l = arg;
  if (l->n_sessions) log_warn(NULL, "loop %d: closing %zu connections at the drain bound",
                              l->index, l->n_sessions);
  l->exiting = 1;
  event_base_loopexit(l->base, NULL);
}

static void on_bound(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_loop *l = arg;
  if (!l->draining) on_drain(-1, 0, l);
  if (l->n_streams)
    log_info(NULL, "loop %d: drain bound reached, ending %zu streams", l->index, l->n_streams);
  for (rpc_session *sess = l->sessions; sess; sess = sess->next) {
    for (rpc_stream *s = sess->streams; s; s = s->next)
      rpc_stream_abort(s, RPC_UNAVAILABLE, "server shutting down");
    rpc_session_final_goaway(sess);
  }
  struct timeval one = {1, 0};
  event_add(l->stop_ev, &one);
  rpc_loop_check_drained(l);
}

static void begin_drain(rpc_server *s) {
  int was = atomic_exchange(&s->draining, 1);
  if (was) {
    log_info(NULL, "second stop request: ending open streams now");
    for (int i = 0; i < s->n_loops; i++)
      if (s->loops[i].bound_ev) event_active(s->loops[i].bound_ev, EV_TIMEOUT, 0);
    return;
  }
  log_info(NULL, "draining: no new connections, finishing in-flight calls (bound %d s)",
           s->cfg.drain_seconds);
  for (int i = 0; i < s->n_loops; i++)
    if (s->loops[i].drain_ev) event_active(s->loops[i].drain_ev, EV_TIMEOUT, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
  (void)what;
  log_info(NULL, "signal %d received", (int)sig);
  begin_drain(arg);
}

static void on_notify(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_loop_drain_jobs(arg);
}

static void on_serving(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_health_broadcast(arg);
}

/* ------------------------------------------------------------ loops */

static int loop_init(rpc_server *s, rpc_loop *l, int index, struct sockaddr_storage *ss,
                     socklen_t sslen) {
  l->srv = s;
  l->index = index;
  l->free_slot = UINT32_MAX;
  l->health_sent = -1;
  if (pthread_mutex_init(&l->mu, NULL) != 0) return REG_ENOMEM;
  l->mu_ok = 1;
  l->base = event_base_new();
  if (!l->base) return REG_ENOMEM;
  l->notify_ev = event_new(l->base, -1, 0, on_notify, l);
  l->serving_ev = event_new(l->base, -1, 0, on_serving, l);
  l->drain_ev = event_new(l->base, -1, 0, on_drain, l);
  l->goaway_ev = evtimer_new(l->base, on_goaway, l);
  l->bound_ev = evtimer_new(l->base, on_bound, l);
  l->stop_ev = evtimer_new(l->base, on_stop, l);
  l->counters = calloc(s->n_routes + 1, sizeof(rpc_counters));
  if (!l->notify_ev || !l->serving_ev || !l->drain_ev || !l->goaway_ev || !l->bound_ev ||
      !l->stop_ev || !l->counters)
    return REG_ENOMEM;
  int fd = -1;
  if (bind_socket(ss, sslen, &fd) != 0) {
    log_error(NULL, "cannot listen on %s: %s", s->listen_str, strerror(errno));
    return REG_EIO;
  }
  l->listener = evconnlistener_new(l->base, on_accept, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
  if (!l->listener) {
    close(fd);
    return REG_ENOMEM;
  }
  evconnlistener_set_error_cb(l->listener, on_accept_error);
  return 0;
}

static void loop_clear(rpc_loop *l) {
  while (l->sessions) rpc_session_free(l->sessions);
  if (l->mu_ok) rpc_loop_drain_jobs(l);
  rpc_health_close_all(l);
  if (l->listener) evconnlistener_free(l->listener);
  l->listener = NULL;
  rpc_loop_free_caches(l);
  struct event **evs[] = {&l->notify_ev, &l->serving_ev, &l->drain_ev,
                          &l->goaway_ev, &l->bound_ev, &l->stop_ev};
  for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
    if (*evs[i]) event_free(*evs[i]);
    *evs[i] = NULL;
  }
  free(l->counters);
  l->counters = NULL;
  if (l->base) event_base_free(l->base);
  l->base = NULL;
  if (l->mu_ok) pthread_mutex_destroy(&l->mu);
  l->mu_ok = 0;
}

static void run_loop(rpc_loop *l) {
  if (event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
    log_error(NULL, "loop %d: event_base_loop failed", l->index);
  /* What the drain left (only after the bound): close it now. */
  while (l->sessions) rpc_session_free(l->sessions);
}

static void *loop_main(void *arg) {
  run_loop(arg);
  return NULL;
}

/* ------------------------------------------------------------ public */

/* "1.2.3.4:port", "[::1]:port", "localhost:port", ":port" / "*:port" (any);
 * numeric addresses only, port 0–65535 (0: an ephemeral port). */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, int *len) {
  char host[INET6_ADDRSTRLEN + 2];
  const char *colon = strrchr(spec, ':');
  if (!colon) return REG_EINVAL;
  size_t hl = (size_t)(colon - spec);
  const char *h = spec;
  int v6 = 0;
  if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
    h++;
    hl -= 2;
    v6 = 1;
  }
  if (hl >= sizeof(host)) return REG_EINVAL;
  memcpy(host, h, hl);
  host[hl] = 0;
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (!colon[1] || !end || *end || port < 0 || port > 65535) return REG_EINVAL;
  memset(ss, 0, sizeof(*ss));
  if (v6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((in_port_t)port);
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1) return REG_EINVAL;
    *len = (int)sizeof(*a6);
    return 0;
  }
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  a4->sin_family = AF_INET;
  a4->sin_port = htons((in_port_t)port);
  if (!host[0] || strcmp(host, "*") == 0)
    a4->sin_addr.s_addr = htonl(INADDR_ANY);
  else if (strcmp(host, "localhost") == 0)
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
    return REG_EINVAL;
  *len = (int)sizeof(*a4);
  return 0;
}

static char *dup_or(const char *v, const char *dflt) {
  return strdup(v && v[0] ? v : dflt);
}

int rpc_server_new(const rpc_server_config *cfg, rpc_server **out) {
  int rv = REG_EINVAL;
  rpc_server *s = NULL;
  if (!cfg || !cfg->listen || !out || (cfg->n_methods && !cfg->methods)) goto out;
  pthread_once(&evthread_once, init_evthread);
  rv = REG_ENOMEM;
  if (!evthread_ok) goto out;
  s = calloc(1, sizeof(*s));
  if (!s) goto out;
  s->lock_fd = -1;
  s->cfg = *cfg;
  atomic_store(&s->serving, 1);
  if (s->cfg.workers <= 0) s->cfg.workers = DEFAULT_WORKERS;
  if (s->cfg.max_message_bytes == 0) s->cfg.max_message_bytes = DEFAULT_MAX_MESSAGE;
  if (s->cfg.drain_seconds <= 0) s->cfg.drain_seconds = DEFAULT_DRAIN_S;
  if (s->cfg.max_queue == 0) s->cfg.max_queue = 1024 * (size_t)s->cfg.workers;
  if (!s->cfg.descriptor_set) {
    s->cfg.descriptor_set = registry_descriptor_set;
    s->cfg.descriptor_set_len = registry_descriptor_set_len;
  }
  int loops = cfg->loops > 0 ? cfg->loops : (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (loops < 1) loops = 1;
  if (loops > MAX_LOOPS) loops = MAX_LOOPS;
  s->listen_str = strdup(cfg->listen);
  s->lock_dir = dup_or(cfg->lock_dir, "/tmp");
  s->metrics_str = cfg->metrics_listen && cfg->metrics_listen[0] ? strdup(cfg->metrics_listen) : NULL;
  if (!s->listen_str || !s->lock_dir || (cfg->metrics_listen && cfg->metrics_listen[0] && !s->metrics_str))
    goto fail;
  s->cfg.listen = s->listen_str;
  s->cfg.lock_dir = s->lock_dir;
  s->cfg.metrics_listen = s->metrics_str;
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_storage ss;
  int sslen = 0;
  if (parse_listen(s->listen_str, &ss, &sslen) != 0) {
    log_error(NULL, "bad listen address %s (want host:port or [v6]:port)", s->listen_str);
    rv = REG_EINVAL;
    goto fail;
  }
  in_port_t *pp = ss.ss_family == AF_INET ? &((struct sockaddr_in *)&ss)->sin_port
                                          : &((struct sockaddr_in6 *)&ss)->sin6_port;
  s->port = ntohs(*pp);

  if ((rv = build_routes(s)) != 0) goto fail;
  rv = REG_ENOMEM;
  s->h2_cbs = rpc_session_callbacks();
  if (!s->h2_cbs || nghttp2_option_new(&s->h2_opt) != 0) goto fail;
  if ((rv = rpc_reflection_new(s->cfg.descriptor_set, s->cfg.descriptor_set_len, &s->refl)) != 0) {
    log_error(NULL, "cannot parse the reflection descriptor set");
    goto fail;
  }

  if (s->port != 0 && (rv = take_lock(s)) != 0) goto fail;
  s->loops = calloc((size_t)loops, sizeof(rpc_loop));
  if (!s->loops) goto fail;
  s->n_loops = loops;
  for (int i = 0; i < loops; i++) {
    if ((rv = loop_init(s, &s->loops[i], i, &ss, (socklen_t)sslen)) != 0) goto fail;
    if (s->port == 0) { /* an ephemeral port: the other loops share the first's */
      struct sockaddr_storage got;
      socklen_t gl = sizeof(got);
      if (getsockname(evconnlistener_get_fd(s->loops[0].listener), (struct sockaddr *)&got, &gl) != 0) {
        rv = REG_EIO;
        goto fail;
      }
      s->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                               : ((struct sockaddr_in6 *)&got)->sin6_port);
      *pp = htons((in_port_t)s->port);
      if ((rv = take_lock(s)) != 0) goto fail;
    }
  }
  if (s->metrics_str && (rv = rpc_metrics_start(s)) != 0) goto fail;
  if ((rv = rpc_pool_new(s, s->cfg.workers, s->cfg.max_queue, &s->pool)) != 0) goto fail;
  log_info(NULL, "listening on %s (port %d): %d loops, %d workers, max message %zu bytes",
           s->listen_str, s->port, s->n_loops, s->cfg.workers, s->cfg.max_message_bytes);
  *out = s;
  return 0;
fail:
  rpc_server_free(s);
out:
  return rv;
}

int rpc_server_port(const rpc_server *s) { return s ? s->port : 0; }

int rpc_server_run(rpc_server *s) {
  if (!s || atomic_exchange(&s->running, 1)) return REG_EINVAL;
  int rv = 0;
  rpc_loop *l0 = &s->loops[0];
  s->sig_term = evsignal_new(l0->base, SIGTERM, on_signal, s);
  s->sig_int = evsignal_new(l0->base, SIGINT, on_signal, s);
  if (!s->sig_term || !s->sig_int || evsignal_add(s->sig_term, NULL) != 0 ||
      evsignal_add(s->sig_int, NULL) != 0) {
    log_error(NULL, "cannot install the signal handlers");
    rv = REG_EIO;
    goto out;
  }
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  for (int i = 1; i < s->n_loops; i++) {
    if (pthread_create(&s->loops[i].thread, NULL, loop_main, &s->loops[i]) != 0) {
      log_error(NULL, "cannot start loop thread %d", i);
      rv = REG_EIO;
      break;
    }
    s->loops[i].thread_started = 1;
  }
  if (rv == 0 && s->metrics_str && rpc_metrics_run(s) != 0) rv = REG_EIO;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rv != 0) begin_drain(s);

  run_loop(l0);
  for (int i = 1; i < s->n_loops; i++) {
    if (s->loops[i].thread_started) pthread_join(s->loops[i].thread, NULL);
    s->loops[i].thread_started = 0;
  }
  rpc_metrics_stop(s);
  rpc_pool_stop(s->pool);
  for (int i = 0; i < s->n_loops; i++) rpc_loop_drain_jobs(&s->loops[i]);
  log_info(NULL, "drained: all loops and workers stopped");
out:
  if (s->sig_term) event_free(s->sig_term);
  if (s->sig_int) event_free(s->sig_int);
  s->sig_term = s->sig_int = NULL;
  return rv;
}

void rpc_server_stop(rpc_server *s) {
  if (s) begin_drain(s);
}

void rpc_server_set_serving(rpc_server *s, int serving) {
  if (!s) return;
  atomic_store(&s->serving, serving ? 1 : 0);
  for (int i = 0; i < s->n_loops; i++)
    if (s->loops[i].serving_ev) event_active(s->loops[i].serving_ev, EV_TIMEOUT, 0);
}

void rpc_server_free(rpc_server *s) {
  if (!s) return;
  rpc_metrics_free(s);
  rpc_pool_free(s->pool); /* queued jobs go back to their loops as skipped */
  for (int i = 0; i < s->n_loops; i++) loop_clear(&s->loops[i]);
  free(s->loops);
  rpc_reflection_free(s->refl);
  if (s->h2_cbs) nghttp2_session_callbacks_del(s->h2_cbs);
  if (s->h2_opt) nghttp2_option_del(s->h2_opt);
  free(s->routes);
  free(s->route_table);
  free(s->builtin);
  if (s->lock_fd >= 0) close(s->lock_fd);
  free(s->listen_str);
  free(s->lock_dir);
  free(s->metrics_str);
  free(s);
}
