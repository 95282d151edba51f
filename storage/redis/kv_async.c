/*
 * Asynchronous Redis client for one event loop: hiredis 0.14's async API on
 * the loop's libevent event_base (hiredis/adapters/libevent.h), with what
 * hiredis 0.14 leaves out — a timeout per command and on connect (libevent
 * timers), a bounded queue, reconnection at most once a second, and a user
 * callback that runs exactly once whatever happens to the connection.
 *
 * Commands. Each command is a `cmd`, the privdata hiredis hands back. While
 * it waits it is on the client's pending list (all of them were sent on the
 * current connection, c->ac). It leaves the list when it completes: by its
 * reply, its timer, or the loss of the connection. A cmd is freed when both
 * its user callback has run (cb == NULL) and hiredis has let go of it
 * (in_hiredis == 0: hiredis calls every callback exactly once, with a NULL
 * reply when the context is freed).
 *
 * Losing a connection (conn_drop) is one path for every cause — command
 * timeout, connect timeout, connect failure, I/O error, EOF, kv_async_free:
 * the context is detached from the client (c->ac = NULL, ac->data = NULL),
 * the pending list is moved aside and marked orphan, the context is freed
 * if hiredis is not already freeing it, and then each orphan's callback
 * runs with REG_EUNAVAIL. hiredis' own NULL-reply callbacks for orphans only
 * release them. Because the client is detached before any user callback
 * runs, a callback that sends a command gets a fresh connection (or
 * REG_EUNAVAIL), never the dying one.
 *
 * hiredis 0.14 rules this relies on (async.c): callbacks run with
 * REDIS_IN_CALLBACK set, and redisAsyncFree inside one only marks the
 * context, which hiredis frees after the callback returns; a connect
 * callback runs without that flag, and after a failed connect hiredis frees
 * the context itself, so we never free a context from its connect or
 * disconnect callback; the disconnect callback runs only for a context that
 * had connected.
 *
 * Re-entrancy. User callbacks may call kv_async_free on their client. Every
 * entry from the loop into code that runs user callbacks counts itself in
 * c->depth; kv_async_free inside them fails the pending commands and marks
 * the client closing, and the outermost entry frees it on the way out.
 */
#include "storage/redis/kv_async.h"
#include "storage/redis/kv_addr.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "services/base/clock.h"
#include "services/base/log.h"

#define RECONNECT_INTERVAL_US 1000000
#define DEFAULT_CONNECT_TIMEOUT_MS 500

typedef struct cmd cmd;
struct cmd {
  cmd *prev, *next; /* on c's pending list; next also links an orphan list */
  kv_async *c;
  kv_async_cb cb; /* NULL once called */
  void *arg;
  struct event timer;
  char name[16]; /* the command's name, for log lines (never its arguments) */
  unsigned in_hiredis : 1; /* hiredis still holds it as privdata */
  unsigned orphan : 1;     /* off the pending list: completed or its connection gone */
};

struct kv_async {
  struct event_base *base;
  int configured;
  char host[256];
  int port;
  struct timeval connect_timeout;
  redisAsyncContext *ac; /* NULL while down; ac->data == this client */
  struct event connect_timer;
  int connected;      /* ac has connected */
  int down_logged;    /* a failure was logged; log the recovery */
  int64_t attempt_at; /* monotonic µs when the last connection attempt started */
  cmd *head, *tail;   /* pending, in the order sent */
  int npending;
  int depth;   /* entries from the loop now running user callbacks */
  int closing; /* kv_async_free called: free once depth is 0 */
};


static void on_connect_timeout(evutil_socket_t fd, short what, void *arg);

kv_async *kv_async_new(struct event_base *base, const char *addr, int connect_timeout_ms) {
  if (!base) return NULL;
  kv_async *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->base = base;
  if (connect_timeout_ms <= 0) connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  c->connect_timeout.tv_sec = connect_timeout_ms / 1000;
  c->connect_timeout.tv_usec = (connect_timeout_ms % 1000) * 1000;
  if (evtimer_assign(&c->connect_timer, base, on_connect_timeout, c) != 0) {
    free(c);
    return NULL;
  }
  if (addr && *addr) {
    if (kv_addr_parse(addr, c->host, sizeof(c->host), &c->port) == 0)
      c->configured = 1;
    else
      log_error(NULL, "redis async: bad address (want host:port); running without Redis");
  }
  return c;
}

int kv_async_up(const kv_async *c) { return c && c->ac && c->connected; }

int kv_async_pending(const kv_async *c) { return c ? c->npending : 0; }

/* ---- commands ---- */

static void cmd_unlink(kv_async *c, cmd *m) {
  if (m->prev)
    m->prev->next = m->next;
  else
    c->head = m->next;
  if (m->next)
    m->next->prev = m->prev;
  else
    c->tail = m->prev;
  m->prev = m->next = NULL;
  m->orphan = 1;
  c->npending--;
}

static void cmd_release(cmd *m) {
  if (!m->cb && !m->in_hiredis) free(m);
}

/* Runs m's user callback (m is off the list) and releases m. The caller
 * holds c->depth. */
static void cmd_finish(kv_async *c, cmd *m, int status, redisReply *reply) {
  evtimer_del(&m->timer);
  kv_async_cb cb = m->cb;
  m->cb = NULL;
  if (cb) cb(c, status, status == 0 ? reply : NULL, m->arg);
  cmd_release(m);
}

static void depth_enter(kv_async *c) { c->depth++; }

/* After this, c may be gone. */
static void depth_leave(kv_async *c) {
  if (--c->depth > 0 || !c->closing) return;
  evtimer_del(&c->connect_timer);
  free(c);
}

/* How a connection ends, for the log. */
enum drop_kind {
  DROP_LOST,   /* it was up (or connecting, for a timeout): warn */
  DROP_FAILED, /* it never came up: warn once per outage */
  DROP_CLOSED, /* kv_async_free: silent */
};

/* Detaches the connection and fails every pending command with
 * REG_EUNAVAIL. free_ac: 0 when hiredis is already freeing the context (we
 * are inside its connect, disconnect or NULL-reply callback). The caller
 * holds c->depth. */
static void conn_drop(kv_async *c, const char *why, int free_ac, enum drop_kind kind) {
  redisAsyncContext *ac = c->ac;
  cmd *list = c->head;
  c->head = c->tail = NULL;
  c->npending = 0;
  for (cmd *m = list; m; m = m->next) m->orphan = 1;
  if (ac) {
    c->ac = NULL;
    ac->data = NULL;
    evtimer_del(&c->connect_timer);
    if (kind == DROP_LOST || (kind == DROP_FAILED && c->connected)) {
      log_warn(NULL, "redis async: connection lost: %s", why);
      c->down_logged = 1;
    } else if (kind == DROP_FAILED && !c->down_logged) {
      log_warn(NULL, "redis async: cannot connect to %s:%d: %s", c->host, c->port, why);
      c->down_logged = 1;
    }
    c->connected = 0;
    if (free_ac) redisAsyncFree(ac); /* NULL replies for the orphans: released below */
  }
  while (list) {
    cmd *m = list;
    list = m->next;
    m->prev = m->next = NULL;
    cmd_finish(c, m, REG_EUNAVAIL, NULL);
  }
}

static int starts_with(const redisReply *r, const char *prefix) {
  size_t n = strlen(prefix);
  return r->str && r->len >= n && memcmp(r->str, prefix, n) == 0;
}

/* An error reply → REG_EUNAVAIL (server not ready) or REG_EIO, logged by
 * its error code only: Redis echoes the command's arguments in the text. */
static int reply_error(const redisReply *r, const char *what) {
  if (starts_with(r, "LOADING") || starts_with(r, "BUSY") || starts_with(r, "MASTERDOWN") ||
      starts_with(r, "TRYAGAIN") || starts_with(r, "CLUSTERDOWN")) {
    log_warn(NULL, "redis async: %s: server not ready: %.11s", what, r->str);
    return REG_EUNAVAIL;
  }
  int code = r->str ? (int)strcspn(r->str, " ") : 0;
  log_error(NULL, "redis async: %s: error reply %.*s", what, code > 32 ? 32 : code,
            r->str ? r->str : "");
  return REG_EIO;
}

/* hiredis' reply callback: exactly once per command, r NULL when the
 * context is being freed. */
static void on_reply(redisAsyncContext *ac, void *r, void *privdata) {
  cmd *m = privdata;
  m->in_hiredis = 0;
  if (m->orphan) { /* completed already, or its connection was dropped */
    cmd_release(m);
    return;
  }
  kv_async *c = m->c;
  depth_enter(c);
  if (!r) {
    /* I/O error or EOF: hiredis is freeing ac and gives every command a
     * NULL reply; m is still pending and fails with the rest. */
    conn_drop(c, ac->errstr ? ac->errstr : "I/O error", 0,
              c->connected ? DROP_LOST : DROP_FAILED);
  } else {
    redisReply *reply = r;
    int status = reply->type == REDIS_REPLY_ERROR ? reply_error(reply, m->name) : 0;
    cmd_unlink(c, m);
    cmd_finish(c, m, status, reply);
  }
  depth_leave(c);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  cmd *m = arg;
  kv_async *c = m->c;
  depth_enter(c);
  cmd_unlink(c, m);
  /* The connection goes too (see kv_async.h): the commands behind m fail
   * first, with REG_EUNAVAIL; m's late reply, if any, is never read. */
  char why[48];
  snprintf(why, sizeof(why), "%s timed out", m->name);
  conn_drop(c, why, 1, DROP_LOST);
  cmd_finish(c, m, REG_ETIMEDOUT, NULL);
  depth_leave(c);
}

/* ---- connection ---- */

static void on_connect(const redisAsyncContext *ac, int status) {
  kv_async *c = ac->data;
  if (!c) return;
  if (status == REDIS_OK) {
    evtimer_del(&c->connect_timer);
    c->connected = 1;
    if (c->down_logged) log_info(NULL, "redis async: connected again");
    c->down_logged = 0;
    return;
  }
  /* hiredis frees ac after this returns. */
  depth_enter(c);
  conn_drop(c, ac->errstr ? ac->errstr : "connect failed", 0, DROP_FAILED);
  depth_leave(c);
}

/* Only for a context that had connected and that we did not drop: it was
 * lost with no command pending (else on_reply got there first). */
static void on_disconnect(const redisAsyncContext *ac, int status) {
  kv_async *c = ac->data;
  if (!c) return;
  depth_enter(c);
  conn_drop(c, status == REDIS_OK ? "closed" : (ac->errstr ? ac->errstr : "I/O error"), 0,
            DROP_LOST);
  depth_leave(c);
}

static void on_connect_timeout(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  kv_async *c = arg;
  if (!c->ac || c->connected) return;
  depth_enter(c);
  conn_drop(c, "connect timed out", 1, DROP_FAILED);
  depth_leave(c);
}

/* Starts a connection attempt; commands may be queued at once. */
static int conn_open(kv_async *c) {
  int64_t now = clock_mono_us();
  if (c->attempt_at && now - c->attempt_at < RECONNECT_INTERVAL_US) return REG_EUNAVAIL;
  c->attempt_at = now ? now : 1;
  /* Numeric hosts do not block; names go through a blocking getaddrinfo. */
  redisAsyncContext *ac = redisAsyncConnect(c->host, c->port);
  if (!ac) return REG_ENOMEM;
  if (ac->err) {
    if (!c->down_logged)
      log_warn(NULL, "redis async: cannot connect to %s:%d: %s", c->host, c->port,
               ac->errstr ? ac->errstr : "error");
    c->down_logged = 1;
    redisAsyncFree(ac);
    return REG_EUNAVAIL;
  }
  if (redisLibeventAttach(ac, c->base) != REDIS_OK ||
      evtimer_add(&c->connect_timer, &c->connect_timeout) != 0) {
    redisAsyncFree(ac);
    return REG_ENOMEM;
  }
  ac->data = c;
  (void)redisAsyncSetConnectCallback(ac, on_connect);
  (void)redisAsyncSetDisconnectCallback(ac, on_disconnect);
  c->ac = ac;
  c->connected = 0;
  return 0;
}

/* Commands whose callback hiredis 0.14 would call more than once. */
static int is_push_command(const char *name, size_t len) {
  static const char *const refused[] = {"SUBSCRIBE",  "PSUBSCRIBE", "SSUBSCRIBE",
                                        "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
                                        "MONITOR"};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
    if (len == strlen(refused[i]) && strncasecmp(name, refused[i], len) == 0) return 1;
  return 0;
}

int kv_async_command(kv_async *c, int timeout_ms, kv_async_cb cb, void *arg, int argc,
                     const char **argv, const size_t *lens) {
  if (!c || !cb || argc < 1 || !argv || !argv[0] || timeout_ms <= 0) return REG_EINVAL;
  size_t len0 = lens ? lens[0] : strlen(argv[0]);
  if (is_push_command(argv[0], len0)) return REG_EINVAL;
  if (c->closing || !c->configured) return REG_EUNAVAIL;
  if (c->npending >= KV_ASYNC_MAX_PENDING) return REG_ENOMEM;
  if (!c->ac) {
    int rc = conn_open(c);
    if (rc) return rc;
  }

  cmd *m = calloc(1, sizeof(*m));
  if (!m) return REG_ENOMEM;
  m->c = c;
  m->cb = cb;
  m->arg = arg;
  size_t n = len0 < sizeof(m->name) - 1 ? len0 : sizeof(m->name) - 1;
  for (size_t i = 0; i < n; i++) /* printable only: it goes into log lines */
    m->name[i] = argv[0][i] > ' ' && argv[0][i] < 127 ? argv[0][i] : '?';
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  if (evtimer_assign(&m->timer, c->base, on_timeout, m) != 0 ||
      evtimer_add(&m->timer, &tv) != 0) {
    free(m);
    return REG_ENOMEM;
  }
  /* Only appends to the output buffer: no callback runs from here. */
  if (redisAsyncCommandArgv(c->ac, on_reply, m, argc, argv, lens) != REDIS_OK) {
    int closing = c->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING);
    evtimer_del(&m->timer);
    free(m);
    return closing ? REG_EUNAVAIL : REG_ENOMEM;
  }
  m->in_hiredis = 1;
  m->prev = c->tail;
  if (c->tail)
    c->tail->next = m;
  else
    c->head = m;
  c->tail = m;
  c->npending++;
  return 0;
}

void kv_async_free(kv_async *c) {
  if (!c || c->closing) return;
  c->closing = 1;
  depth_enter(c);
  conn_drop(c, "client closed", 1, DROP_CLOSED);
  depth_leave(c);
}
