/*
 * Redis connection for one worker thread: synchronous hiredis 0.14, opened
 * on first use, every command bounded by the connect and socket timeouts
 * (hiredis 0.14 has no per-command timeout; the socket timeout is the
 * command's), dropped on any I/O error or timeout and reopened at most once
 * a second. Redis is optional, so every failure is REG_EUNAVAIL to the
 * caller, who then goes on without cache or rate limit.
 *
 * Liveness. An idle RESP2 connection never has anything to read, so a
 * readable socket before a command means the server closed it (restart,
 * CLIENT KILL, timeout): the connection is replaced at once instead of
 * failing the next command. This also keeps hiredis from writing to a closed
 * socket (it uses write(2): the process must ignore SIGPIPE anyway).
 *
 * Scripts. kv_eval keeps, per connection, the SHA-1 that SCRIPT LOAD
 * returned for each script (identified by its address) and sends EVALSHA;
 * after NOSCRIPT (SCRIPT FLUSH, a failover) it sends EVAL, which caches the
 * script again on the server.
 */
#include "storage/redis/kv.h"
#include "storage/redis/kv_addr.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "services/base/clock.h"
#include "services/base/log.h"

#define RECONNECT_INTERVAL_US 1000000
#define DEFAULT_TIMEOUT_MS 200
#define MAX_SCRIPTS 8
#define MAX_EVAL_ARGS 32

struct kv_conn {
  int configured;
  char host[256];
  int port;
  struct timeval timeout;
  redisContext *ctx; /* NULL while down */
  int up;
  int64_t failed_at; /* monotonic µs of the last failure, 0 if none */
  struct {
    const char *script;
    char sha[41];
  } scripts[MAX_SCRIPTS]; /* loaded on this connection */
  int n_scripts;
};

static atomic_uint_fast64_t down_total;

uint64_t kv_down_total(void) { return (uint64_t)atomic_load(&down_total); }


kv_conn *kv_conn_new(const char *addr, int timeout_ms) {
  kv_conn *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  if (timeout_ms <= 0) timeout_ms = DEFAULT_TIMEOUT_MS;
  c->timeout.tv_sec = timeout_ms / 1000;
  c->timeout.tv_usec = (timeout_ms % 1000) * 1000;
  if (addr && *addr) {
    if (kv_addr_parse(addr, c->host, sizeof(c->host), &c->port) == 0)
      c->configured = 1;
    else
      log_error(NULL, "redis: bad address (want host:port); running without Redis");
  }
  return c;
}

/* `why` may point into the context (its errstr): logged before the free. */
static void conn_drop(kv_conn *c, const char *why) {
  if (c->up) log_warn(NULL, "redis: connection lost: %s", why);
  c->up = 0;
  if (c->ctx) redisFree(c->ctx);
  c->ctx = NULL;
  c->n_scripts = 0;
}

/* A failure that says the server is unusable: wait a second before the
 * next attempt. */
static int conn_fail(kv_conn *c, const char *why) {
  conn_drop(c, why);
  int64_t now = clock_mono_us();
  c->failed_at = now ? now : 1;
  atomic_fetch_add(&down_total, 1);
  return REG_EUNAVAIL;
}

static int conn_idle_alive(const redisContext *ctx) {
  struct pollfd p = {.fd = ctx->fd, .events = POLLIN};
  int r = poll(&p, 1, 0);
  if (r < 0) return errno == EINTR;
  return r == 0;
}

static int conn_ensure(kv_conn *c) {
  if (!c->configured) return REG_EUNAVAIL;
  if (c->ctx) {
    if (conn_idle_alive(c->ctx)) return 0;
    conn_drop(c, "closed by the server");
  }
  int64_t now = clock_mono_us();
  if (c->failed_at && now - c->failed_at < RECONNECT_INTERVAL_US) {
    atomic_fetch_add(&down_total, 1);
    return REG_EUNAVAIL;
  }
  redisContext *ctx = redisConnectWithTimeout(c->host, c->port, c->timeout);
  if (!ctx || ctx->err || redisSetTimeout(ctx, c->timeout) != REDIS_OK) {
    if (c->up || !c->failed_at)
      log_warn(NULL, "redis: cannot connect to %s:%d: %s", c->host, c->port,
               ctx ? ctx->errstr : "out of memory");
    if (ctx) redisFree(ctx);
    c->up = 0;
    now = clock_mono_us(); /* after the attempt, which may have timed out */
    c->failed_at = now ? now : 1;
    atomic_fetch_add(&down_total, 1);
    return REG_EUNAVAIL;
  }
  (void)redisEnableKeepAlive(ctx);
  if (c->failed_at) log_info(NULL, "redis: connected again");
  c->ctx = ctx;
  c->n_scripts = 0;
  c->up = 1;
  c->failed_at = 0;
  return 0;
}

void kv_conn_free(kv_conn *c) {
  if (!c) return;
  if (c->ctx) redisFree(c->ctx);
  free(c);
}

int kv_up(const kv_conn *c) { return c && c->up; }

/* Sends one command; any reply, error replies included. */
static int run(kv_conn *c, int argc, const char **argv, const size_t *lens, redisReply **out) {
  int rc = conn_ensure(c);
  if (rc) return rc;
  redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
  if (!r) {
    /* I/O error, EOF or timeout: the connection's state is unknown (a late
     * reply would be read as the next command's), so it goes. */
    return conn_fail(c, c->ctx->errstr[0] ? c->ctx->errstr : "I/O error");
  }
  c->up = 1;
  *out = r;
  return 0;
}

static int starts_with(const redisReply *r, const char *prefix) {
  size_t n = strlen(prefix);
  return r->str && r->len >= n && memcmp(r->str, prefix, n) == 0;
}

/* Maps an error reply (and frees it). */
static int reply_error(redisReply *r, const char *what) {
  int err = REG_EIO;
  if (starts_with(r, "LOADING") || starts_with(r, "BUSY") || starts_with(r, "MASTERDOWN") ||
      starts_with(r, "TRYAGAIN") || starts_with(r, "CLUSTERDOWN")) {
    err = REG_EUNAVAIL;
    atomic_fetch_add(&down_total, 1);
    log_warn(NULL, "redis: %s: server not ready: %.60s", what, r->str);
  } else {
    /* Only the error code: Redis echoes the command's arguments in the
     * text ("... with args beginning with: ..."). */
    int code = r->str ? (int)strcspn(r->str, " ") : 0;
    log_error(NULL, "redis: %s: error reply %.*s", what, code > 32 ? 32 : code,
              r->str ? r->str : "");
  }
  freeReplyObject(r);
  return err;
}

int kv_command(kv_conn *c, int argc, const char **argv, const size_t *lens,
               redisReply **out) {
  if (!c || argc < 1 || !argv || !out) return REG_EINVAL;
  redisReply *r = NULL;
  int rc = run(c, argc, argv, lens, &r);
  if (rc) return rc;
  if (r->type == REDIS_REPLY_ERROR) return reply_error(r, argv[0]);
  *out = r;
  return 0;
}

int kv_ping(kv_conn *c) {
  const char *argv[] = {"PING"};
  redisReply *r = NULL;
  int rc = kv_command(c, 1, argv, NULL, &r);
  if (rc) return rc == REG_EUNAVAIL ? rc : REG_EUNAVAIL;
  int ok = r->type == REDIS_REPLY_STATUS && r->str && strcmp(r->str, "PONG") == 0;
  freeReplyObject(r);
  return ok ? 0 : REG_EUNAVAIL;
}

/* ---- scripts ---- */

static const char *script_sha(const kv_conn *c, const char *script) {
  for (int i = 0; i < c->n_scripts; i++)
    if (c->scripts[i].script == script) return c->scripts[i].sha;
  return NULL;
}

/* SCRIPT LOAD on this connection → its SHA-1 (owned by c), or NULL when the
 * table is full (then the caller sends EVAL). */
static int script_load(kv_conn *c, const char *script, const char **sha) {
  *sha = NULL;
  if (c->n_scripts == MAX_SCRIPTS) return 0;
  const char *argv[] = {"SCRIPT", "LOAD", script};
  redisReply *r = NULL;
  int rc = kv_command(c, 3, argv, NULL, &r);
  if (rc) return rc;
  if (r->type != REDIS_REPLY_STRING || r->len != 40) {
    freeReplyObject(r);
    log_error(NULL, "redis: SCRIPT LOAD: unexpected reply");
    return REG_EIO;
  }
  /* The load may have reconnected: the table belongs to this connection. */
  int i = c->n_scripts++;
  c->scripts[i].script = script;
  memcpy(c->scripts[i].sha, r->str, 40);
  c->scripts[i].sha[40] = '\0';
  freeReplyObject(r);
  *sha = c->scripts[i].sha;
  return 0;
}

int kv_eval(kv_conn *c, const char *script, int nkeys, int argc, const char **argv,
            const size_t *lens, redisReply **out) {
  if (!c || !script || !out || argc < 0 || argc > MAX_EVAL_ARGS || nkeys < 0 || nkeys > argc ||
      (argc && !argv))
    return REG_EINVAL;
  int rc = conn_ensure(c);
  if (rc) return rc;
  const char *sha = script_sha(c, script);
  if (!sha) {
    rc = script_load(c, script, &sha);
    if (rc) return rc;
  }

  const char *av[MAX_EVAL_ARGS + 3];
  size_t al[MAX_EVAL_ARGS + 3];
  char nk[16];
  snprintf(nk, sizeof(nk), "%d", nkeys);
  av[0] = sha ? "EVALSHA" : "EVAL";
  av[1] = sha ? sha : script;
  av[2] = nk;
  for (int i = 0; i < 3; i++) al[i] = strlen(av[i]);
  for (int i = 0; i < argc; i++) {
    av[3 + i] = argv[i];
    al[3 + i] = lens ? lens[i] : strlen(argv[i]);
  }

  redisReply *r = NULL;
  rc = run(c, argc + 3, av, al, &r);
  if (rc) return rc;
  if (r->type == REDIS_REPLY_ERROR && sha && starts_with(r, "NOSCRIPT")) {
    freeReplyObject(r);
    r = NULL;
    av[0] = "EVAL";
    av[1] = script;
    al[0] = 4;
    al[1] = strlen(script);
    rc = run(c, argc + 3, av, al, &r);
    if (rc) return rc;
  }
  if (r->type == REDIS_REPLY_ERROR) return reply_error(r, "EVAL");
  *out = r;
  return 0;
}
