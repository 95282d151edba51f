/*
 * storage/redis/kv_async.c against a real Redis (REG_TEST_REDIS) on a
 * libevent loop: a round trip, pipelined commands answered in order, a
 * per-command timeout, error replies, Redis absent, a closed port, a server
 * that accepts and never answers, a connect that hangs, XREAD BLOCK, an
 * idle connection killed by the server, the pending-command bound, and
 * kv_async_free with commands pending (from outside and from inside a
 * callback). With the argument "restart" it runs instead the test that
 * stops and starts Redis (REG_TEST_REDISCTL), registered as
 * storage_kv_async_restart and run alone (RUN_SERIAL).
 *
 * Every callback lands in a `done` record that counts its calls: each must
 * be called exactly once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "storage/redis/kv_async.h"
#include "testdb.h"

/* One command's outcome. */
typedef struct done {
  int calls;
  int status;
  int type; /* reply type, -1 without a reply */
  long long integer;
  char str[64]; /* the reply's string, NUL-terminated (binary: see len) */
  size_t len;
  long long at_ms;
  int order; /* position among completions (global sequence) */
} done;

static int sequence;

static void on_done(kv_async *c, int status, struct redisReply *r, void *arg) {
  (void)c;
  done *d = arg;
  d->calls++;
  d->status = status;
  d->type = r ? r->type : -1;
  d->integer = r ? r->integer : 0;
  d->len = r && r->str ? (r->len < sizeof(d->str) - 1 ? r->len : sizeof(d->str) - 1) : 0;
  if (d->len) memcpy(d->str, r->str, d->len);
  d->str[d->len] = '\0';
  d->at_ms = testdb_now_ms();
  d->order = sequence++;
  if (r) assert_int_equal(status, 0);
  if (status == 0) assert_non_null(r);
}

typedef struct fixture {
  struct event_base *base;
  struct event *tick; /* wakes the loop so that run_until sees its deadline */
} fixture;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  f->base = event_base_new();
  assert_non_null(f->base);
  f->tick = event_new(f->base, -1, EV_PERSIST, on_tick, NULL);
  struct timeval tv = {0, 5000};
  assert_int_equal(event_add(f->tick, &tv), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  event_free(f->tick);
  event_base_free(f->base);
  free(f);
  return 0;
}

/* Runs the loop until every d[i].calls >= 1 or max_ms passed. */
static void run_until(fixture *f, done *d, int n, long max_ms) {
  long long deadline = testdb_now_ms() + max_ms;
  for (;;) {
    int all = 1;
    for (int i = 0; i < n; i++)
      if (d[i].calls == 0) all = 0;
    if (all || testdb_now_ms() > deadline) return;
    event_base_loop(f->base, EVLOOP_ONCE);
  }
}

static void run_for(fixture *f, long ms) {
  long long deadline = testdb_now_ms() + ms;
  while (testdb_now_ms() < deadline) event_base_loop(f->base, EVLOOP_ONCE);
}

static kv_async *client(fixture *f) {
  kv_async *c = kv_async_new(f->base, getenv("REG_TEST_REDIS"), 500);
  assert_non_null(c);
  return c;
}

static void key_name(char *out, size_t cap, const char *what) {
  snprintf(out, cap, "test:%ld:async:%s", (long)getpid(), what);
}

/* Sends argv (NULL-terminated) and waits for the answer. */
static void command_wait(fixture *f, kv_async *c, int timeout_ms, done *d, const char **argv) {
  int argc = 0;
  while (argv[argc]) argc++;
  memset(d, 0, sizeof(*d));
  assert_int_equal(kv_async_command(c, timeout_ms, on_done, d, argc, argv, NULL), 0);
  assert_int_equal(d->calls, 0); /* never from inside kv_async_command */
  run_until(f, d, 1, timeout_ms + 1000);
  assert_int_equal(d->calls, 1);
}

/* Retries PING until it succeeds (a reconnect waits for its second). */
static void ping_until_ok(fixture *f, kv_async *c, long max_ms) {
  long long deadline = testdb_now_ms() + max_ms;
  for (;;) {
    done d = {0};
    const char *ping[] = {"PING"};
    int rc = kv_async_command(c, 1000, on_done, &d, 1, ping, NULL);
    if (rc == 0) {
      run_until(f, &d, 1, 2000);
      assert_int_equal(d.calls, 1);
      if (d.status == 0) {
        assert_string_equal(d.str, "PONG");
        return;
      }
      assert_int_equal(d.status, REG_EUNAVAIL);
    } else {
      assert_int_equal(rc, REG_EUNAVAIL);
    }
    assert_true(testdb_now_ms() < deadline);
    run_for(f, 50);
  }
}

static void test_round_trip(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  assert_int_equal(kv_async_up(c), 0); /* lazy: no connection yet */
  char key[96];
  key_name(key, sizeof(key), "rt");
  /* Binary-safe value (an embedded NUL). */
  const char *set[] = {"SET", key, "a\0b"};
  const size_t set_lens[] = {3, strlen(key), 3};
  done d = {0};
  assert_int_equal(kv_async_command(c, 1000, on_done, &d, 3, set, set_lens), 0);
  assert_int_equal(kv_async_pending(c), 1);
  run_until(f, &d, 1, 2000);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_STATUS);
  assert_string_equal(d.str, "OK");
  assert_int_equal(kv_async_up(c), 1);
  assert_int_equal(kv_async_pending(c), 0);

  const char *get[] = {"GET", key, NULL};
  command_wait(f, c, 1000, &d, get);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_STRING);
  assert_int_equal(d.len, 3);
  assert_memory_equal(d.str, "a\0b", 3);

  const char *del[] = {"DEL", key, NULL};
  command_wait(f, c, 1000, &d, del);
  assert_int_equal(d.integer, 1);
  command_wait(f, c, 1000, &d, get);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_NIL);
  kv_async_free(c);
  kv_async_free(NULL);
}

#define PIPELINED 300

static void test_pipelined_in_order(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  char key[96];
  key_name(key, sizeof(key), "pipe");
  const char *del[] = {"DEL", key, NULL};
  done d0;
  command_wait(f, c, 1000, &d0, del);

  static done d[PIPELINED];
  memset(d, 0, sizeof(d));
  sequence = 0;
  const char *incr[] = {"INCR", key};
  for (int i = 0; i < PIPELINED; i++)
    assert_int_equal(kv_async_command(c, 2000, on_done, &d[i], 2, incr, NULL), 0);
  assert_int_equal(kv_async_pending(c), PIPELINED);
  run_until(f, d, PIPELINED, 3000);
  for (int i = 0; i < PIPELINED; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, 0);
    assert_int_equal(d[i].integer, i + 1);
    assert_int_equal(d[i].order, i);
  }
  command_wait(f, c, 1000, &d0, del);
  kv_async_free(c);
}

static void test_timeout(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  char key[96];
  key_name(key, sizeof(key), "blpop");
  done d0;
  const char *ping[] = {"PING", NULL};
  command_wait(f, c, 1000, &d0, ping); /* connected */

  /* BLPOP waits 2 s; its timeout is 100 ms. The INCR queued behind it is
   * stuck behind it too: it fails with the connection. */
  const char *blpop[] = {"BLPOP", key, "2"};
  char other[96];
  key_name(other, sizeof(other), "behind");
  const char *incr[] = {"INCR", other};
  done d[2] = {{0}, {0}};
  sequence = 0;
  long long t0 = testdb_now_ms();
  assert_int_equal(kv_async_command(c, 100, on_done, &d[0], 3, blpop, NULL), 0);
  assert_int_equal(kv_async_command(c, 5000, on_done, &d[1], 2, incr, NULL), 0);
  run_until(f, d, 2, 3000);
  assert_int_equal(d[0].calls, 1);
  assert_int_equal(d[0].status, REG_ETIMEDOUT);
  assert_in_range(d[0].at_ms - t0, 90, 300);
  assert_int_equal(d[1].calls, 1);
  assert_int_equal(d[1].status, REG_EUNAVAIL);
  assert_true(d[1].at_ms - t0 < 300);
  assert_int_equal(kv_async_up(c), 0);
  assert_int_equal(kv_async_pending(c), 0);

  /* The late reply is never delivered; the same client works again on a
   * fresh connection (at most one attempt a second). */
  ping_until_ok(f, c, 3000);
  run_for(f, 200);
  assert_int_equal(d[0].calls, 1);
  assert_int_equal(d[1].calls, 1);
  const char *del[] = {"DEL", other, NULL};
  command_wait(f, c, 1000, &d0, del);
  kv_async_free(c);
}

static void test_error_reply(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  done d;
  const char *bad[] = {"NOSUCHCOMMAND", "secret-argument", NULL};
  command_wait(f, c, 1000, &d, bad);
  assert_int_equal(d.status, REG_EIO);
  assert_int_equal(d.type, -1); /* no reply handed over */
  /* Wrong type: an error reply too; the connection stays. */
  char key[96];
  key_name(key, sizeof(key), "str");
  const char *set[] = {"SET", key, "x", NULL};
  command_wait(f, c, 1000, &d, set);
  const char *lpush[] = {"LPUSH", key, "y", NULL};
  command_wait(f, c, 1000, &d, lpush);
  assert_int_equal(d.status, REG_EIO);
  assert_int_equal(kv_async_up(c), 1);
  const char *ping[] = {"PING", NULL};
  command_wait(f, c, 1000, &d, ping);
  assert_int_equal(d.status, 0);
  const char *del[] = {"DEL", key, NULL};
  command_wait(f, c, 1000, &d, del);
  kv_async_free(c);
}

static void test_invalid(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  done d = {0};
  const char *ping[] = {"PING"};
  assert_int_equal(kv_async_command(NULL, 100, on_done, &d, 1, ping, NULL), REG_EINVAL);
  assert_int_equal(kv_async_command(c, 100, NULL, &d, 1, ping, NULL), REG_EINVAL);
  assert_int_equal(kv_async_command(c, 0, on_done, &d, 1, ping, NULL), REG_EINVAL);
  assert_int_equal(kv_async_command(c, 100, on_done, &d, 0, ping, NULL), REG_EINVAL);
  assert_int_equal(kv_async_command(c, 100, on_done, &d, 1, NULL, NULL), REG_EINVAL);
  /* Commands whose callback would run more than once. */
  const char *sub[] = {"subscribe", "ch"};
  assert_int_equal(kv_async_command(c, 100, on_done, &d, 2, sub, NULL), REG_EINVAL);
  const char *mon[] = {"MONITOR"};
  assert_int_equal(kv_async_command(c, 100, on_done, &d, 1, mon, NULL), REG_EINVAL);
  run_for(f, 50);
  assert_int_equal(d.calls, 0);
  kv_async_free(c);
}

static void test_not_configured(void **state) {
  fixture *f = *state;
  const char *addrs[] = {"", NULL, "no-port", "127.0.0.1:0", "[::1]6379"};
  for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
    kv_async *c = kv_async_new(f->base, addrs[i], 100);
    assert_non_null(c);
    done d = {0};
    const char *ping[] = {"PING"};
    long long t0 = testdb_now_ms();
    for (int j = 0; j < 100; j++)
      assert_int_equal(kv_async_command(c, 100, on_done, &d, 1, ping, NULL), REG_EUNAVAIL);
    assert_true(testdb_now_ms() - t0 < 100);
    assert_int_equal(kv_async_up(c), 0);
    run_for(f, 20);
    assert_int_equal(d.calls, 0);
    kv_async_free(c);
  }
  assert_null(kv_async_new(NULL, "127.0.0.1:6379", 100));
}

static void test_closed_port(void **state) {
  fixture *f = *state;
  kv_async *c = kv_async_new(f->base, "127.0.0.1:1", 300);
  assert_non_null(c);
  done d = {0};
  const char *ping[] = {"PING"};
  long long t0 = testdb_now_ms();
  int rc = kv_async_command(c, 1000, on_done, &d, 1, ping, NULL);
  assert_true(testdb_now_ms() - t0 < 100); /* the loop is not blocked */
  if (rc == 0) {
    run_until(f, &d, 1, 2000);
    assert_int_equal(d.calls, 1);
    assert_int_equal(d.status, REG_EUNAVAIL);
    assert_true(d.at_ms - t0 < 300);
  } else {
    assert_int_equal(rc, REG_EUNAVAIL);
  }
  /* Within the second: refused at once, without an attempt. */
  done d2 = {0};
  t0 = testdb_now_ms();
  for (int j = 0; j < 100; j++)
    assert_int_equal(kv_async_command(c, 1000, on_done, &d2, 1, ping, NULL), REG_EUNAVAIL);
  assert_true(testdb_now_ms() - t0 < 50);
  assert_int_equal(kv_async_up(c), 0);
  run_for(f, 20);
  assert_int_equal(d2.calls, 0);
  kv_async_free(c);
}

/* A server that accepts (the kernel's backlog does) and never answers: a
 * command times out, and the connection is dropped. */
static void test_silent_server(void **state) {
  fixture *f = *state;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(s, 8), 0);
  socklen_t sl = sizeof(sa);
  assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));

  kv_async *c = kv_async_new(f->base, addr, 300);
  assert_non_null(c);
  done d[3] = {{0}, {0}, {0}};
  const char *ping[] = {"PING"};
  long long t0 = testdb_now_ms();
  for (int i = 0; i < 3; i++)
    assert_int_equal(kv_async_command(c, 150 + 100 * i, on_done, &d[i], 1, ping, NULL), 0);
  run_until(f, d, 3, 2000);
  assert_int_equal(d[0].calls, 1);
  assert_int_equal(d[0].status, REG_ETIMEDOUT);
  assert_in_range(d[0].at_ms - t0, 140, 350);
  for (int i = 1; i < 3; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, REG_EUNAVAIL); /* dropped with the connection */
  }
  assert_int_equal(kv_async_up(c), 0);
  kv_async_free(c);
  close(s);
}

/* A listener whose accept queue is full: the kernel drops further SYNs, so
 * a connection attempt hangs and the connect timeout ends it. */
static void test_connect_timeout(void **state) {
  fixture *f = *state;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
  assert_int_equal(listen(s, 0), 0);
  socklen_t sl = sizeof(sa);
  assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
  int filler[2];
  for (int i = 0; i < 2; i++) { /* fill the queue (backlog 0 holds one) */
    filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(filler[i] >= 0);
    (void)connect(filler[i], (struct sockaddr *)&sa, sizeof(sa));
  }
  testdb_sleep_ms(50);
  char addr[64];
  snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));

  kv_async *c = kv_async_new(f->base, addr, 200);
  assert_non_null(c);
  done d = {0};
  const char *ping[] = {"PING"};
  long long t0 = testdb_now_ms();
  assert_int_equal(kv_async_command(c, 3000, on_done, &d, 1, ping, NULL), 0);
  assert_true(testdb_now_ms() - t0 < 100);
  run_until(f, &d, 1, 4000);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.status, REG_EUNAVAIL);
  assert_in_range(d.at_ms - t0, 190, 400);
  assert_int_equal(kv_async_up(c), 0);
  kv_async_free(c);
  for (int i = 0; i < 2; i++) close(filler[i]);
  close(s);
}

static void test_pending_bound(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  static done d[KV_ASYNC_MAX_PENDING + 1];
  memset(d, 0, sizeof(d));
  const char *ping[] = {"PING"};
  for (int i = 0; i < KV_ASYNC_MAX_PENDING; i++)
    assert_int_equal(kv_async_command(c, 5000, on_done, &d[i], 1, ping, NULL), 0);
  assert_int_equal(kv_async_command(c, 5000, on_done, &d[KV_ASYNC_MAX_PENDING], 1, ping, NULL),
                   REG_ENOMEM);
  run_until(f, d, KV_ASYNC_MAX_PENDING, 5000);
  for (int i = 0; i < KV_ASYNC_MAX_PENDING; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, 0);
  }
  assert_int_equal(d[KV_ASYNC_MAX_PENDING].calls, 0);
  assert_int_equal(kv_async_pending(c), 0);
  done one;
  const char *ping2[] = {"PING", NULL};
  command_wait(f, c, 1000, &one, ping2);
  assert_int_equal(one.status, 0);
  kv_async_free(c);
}

static void test_free_with_pending(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  done d0;
  const char *ping0[] = {"PING", NULL};
  command_wait(f, c, 1000, &d0, ping0);
  char key[96];
  key_name(key, sizeof(key), "freeblpop");
  const char *blpop[] = {"BLPOP", key, "5"};
  const char *ping[] = {"PING"};
  done d[4] = {{0}, {0}, {0}, {0}};
  assert_int_equal(kv_async_command(c, 10000, on_done, &d[0], 3, blpop, NULL), 0);
  for (int i = 1; i < 4; i++)
    assert_int_equal(kv_async_command(c, 10000, on_done, &d[i], 1, ping, NULL), 0);
  run_for(f, 50); /* sent: BLPOP is now blocking on the server */
  kv_async_free(c);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(d[i].calls, 1); /* before kv_async_free returned */
    assert_int_equal(d[i].status, REG_EUNAVAIL);
  }
  run_for(f, 100);
  for (int i = 0; i < 4; i++) assert_int_equal(d[i].calls, 1);

  /* Never connected: the commands queued on the connecting context. */
  c = client(f);
  memset(d, 0, sizeof(d));
  for (int i = 0; i < 4; i++)
    assert_int_equal(kv_async_command(c, 10000, on_done, &d[i], 1, ping, NULL), 0);
  kv_async_free(c);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, REG_EUNAVAIL);
  }
  run_for(f, 50);
}

/* The first reply's callback frees the client, tries to send, frees again. */
typedef struct self_free {
  done d;
  int rc_after;
} self_free;

static void on_free_self(kv_async *c, int status, struct redisReply *r, void *arg) {
  self_free *s = arg;
  on_done(c, status, r, &s->d);
  kv_async_free(c);
  const char *ping[] = {"PING"};
  done unused = {0};
  s->rc_after = kv_async_command(c, 100, on_done, &unused, 1, ping, NULL);
  kv_async_free(c);
}

static void test_free_from_callback(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  self_free s = {0};
  done d[3] = {{0}, {0}, {0}};
  const char *ping[] = {"PING"};
  assert_int_equal(kv_async_command(c, 1000, on_free_self, &s, 1, ping, NULL), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(kv_async_command(c, 1000, on_done, &d[i], 1, ping, NULL), 0);
  run_until(f, &s.d, 1, 2000);
  assert_int_equal(s.d.calls, 1);
  assert_int_equal(s.d.status, 0);
  assert_int_equal(s.rc_after, REG_EUNAVAIL);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, REG_EUNAVAIL);
  }
  run_for(f, 100); /* hiredis frees the context after the callback */
  for (int i = 0; i < 3; i++) assert_int_equal(d[i].calls, 1);
}

/* A callback that sends the next command (the live tail's loop). */
typedef struct chain {
  kv_async *c;
  int left;
  int ok;
} chain;

static void on_chain(kv_async *c, int status, struct redisReply *r, void *arg) {
  (void)r;
  chain *ch = arg;
  if (status == 0) ch->ok++;
  if (--ch->left > 0) {
    const char *ping[] = {"PING"};
    assert_int_equal(kv_async_command(c, 1000, on_chain, ch, 1, ping, NULL), 0);
  }
}

static void test_command_from_callback(void **state) {
  fixture *f = *state;
  chain ch = {.c = client(f), .left = 50};
  const char *ping[] = {"PING"};
  assert_int_equal(kv_async_command(ch.c, 1000, on_chain, &ch, 1, ping, NULL), 0);
  long long deadline = testdb_now_ms() + 3000;
  while (ch.left > 0 && testdb_now_ms() < deadline) event_base_loop(f->base, EVLOOP_ONCE);
  assert_int_equal(ch.left, 0);
  assert_int_equal(ch.ok, 50);
  kv_async_free(ch.c);
}

/* The live tail's command: XREAD BLOCK with a timeout longer than BLOCK. */
static void test_xread_block(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  char key[96];
  key_name(key, sizeof(key), "{stream}");
  done d;
  const char *del[] = {"DEL", key, NULL};
  command_wait(f, c, 1000, &d, del);
  const char *xadd[] = {"XADD", key, "*", "k", "v", NULL};
  command_wait(f, c, 1000, &d, xadd);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_STRING);
  char id[64];
  snprintf(id, sizeof(id), "%s", d.str);

  const char *from0[] = {"XREAD", "COUNT", "10", "BLOCK", "100", "STREAMS", key, "0", NULL};
  command_wait(f, c, 1100, &d, from0);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_ARRAY);
  /* Nothing after the last id: nil once BLOCK has passed. */
  const char *after[] = {"XREAD", "BLOCK", "100", "STREAMS", key, id, NULL};
  long long t0 = testdb_now_ms();
  command_wait(f, c, 1100, &d, after);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.type, REDIS_REPLY_NIL);
  assert_true(d.at_ms - t0 >= 90);
  command_wait(f, c, 1000, &d, del);
  kv_async_free(c);
}

/* An idle connection closed by the server (CLIENT KILL) is noticed by the
 * loop; the next command gets a fresh one. */
static void test_idle_killed(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  kv_async *killer = client(f);
  done d;
  const char *id[] = {"CLIENT", "ID", NULL};
  command_wait(f, c, 1000, &d, id);
  assert_int_equal(d.status, 0);
  char idbuf[32];
  snprintf(idbuf, sizeof(idbuf), "%lld", d.integer);
  const char *kill[] = {"CLIENT", "KILL", "ID", idbuf, NULL};
  command_wait(f, killer, 1000, &d, kill);
  assert_int_equal(d.status, 0);
  assert_int_equal(d.integer, 1);
  long long deadline = testdb_now_ms() + 2000;
  while (kv_async_up(c) && testdb_now_ms() < deadline) event_base_loop(f->base, EVLOOP_ONCE);
  assert_int_equal(kv_async_up(c), 0);
  ping_until_ok(f, c, 3000);
  assert_int_equal(kv_async_up(c), 1);
  kv_async_free(killer);
  kv_async_free(c);
}

/* ---- restart (RUN_SERIAL) ---- */

static int restart_teardown(void **state) {
  testdb_ctl("REG_TEST_REDISCTL", "start"); /* leave it running */
  return teardown(state);
}

static void test_stop_start(void **state) {
  fixture *f = *state;
  kv_async *c = client(f);
  ping_until_ok(f, c, 3000);
  char key[96];
  key_name(key, sizeof(key), "restart");
  const char *blpop[] = {"BLPOP", key, "20"};
  const char *ping[] = {"PING"};
  done d[4] = {{0}, {0}, {0}, {0}};
  assert_int_equal(kv_async_command(c, 30000, on_done, &d[0], 3, blpop, NULL), 0);
  for (int i = 1; i < 4; i++)
    assert_int_equal(kv_async_command(c, 30000, on_done, &d[i], 1, ping, NULL), 0);
  run_for(f, 100);
  assert_int_equal(d[0].calls, 0);

  assert_int_equal(testdb_ctl("REG_TEST_REDISCTL", "stop"), 0);
  run_until(f, d, 4, 5000);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(d[i].calls, 1);
    assert_int_equal(d[i].status, REG_EUNAVAIL);
  }
  assert_int_equal(kv_async_up(c), 0);
  assert_int_equal(kv_async_pending(c), 0);

  /* While down: REG_EUNAVAIL, at once or from a failed attempt; never slow. */
  for (int i = 0; i < 20; i++) {
    done e = {0};
    long long t0 = testdb_now_ms();
    int rc = kv_async_command(c, 1000, on_done, &e, 1, ping, NULL);
    if (rc == 0) {
      run_until(f, &e, 1, 2000);
      assert_int_equal(e.calls, 1);
      assert_int_equal(e.status, REG_EUNAVAIL);
      assert_true(e.at_ms - t0 < 700);
    } else {
      assert_int_equal(rc, REG_EUNAVAIL);
    }
    run_for(f, 100);
  }

  assert_int_equal(testdb_ctl("REG_TEST_REDISCTL", "start"), 0);
  ping_until_ok(f, c, 10000); /* the same client, a new connection */
  assert_int_equal(kv_async_up(c), 1);
  run_for(f, 100);
  for (int i = 0; i < 4; i++) assert_int_equal(d[i].calls, 1);
  kv_async_free(c);
}

int main(int argc, char **argv) {
  int restart = argc > 1 && strcmp(argv[1], "restart") == 0;
  static const char *const vars[] = {"REG_TEST_REDIS", NULL};
  static const char *const restart_vars[] = {"REG_TEST_REDIS", "REG_TEST_REDISCTL", NULL};
  testdb_require(restart ? restart_vars : vars);
  signal(SIGPIPE, SIG_IGN);
  if (restart) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stop_start, setup, restart_teardown),
    };
    return cmocka_run_group_tests_name("kv_async_restart", tests, NULL, NULL);
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_reply, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_configured, setup, teardown),
      cmocka_unit_test_setup_teardown(test_closed_port, setup, teardown),
      cmocka_unit_test_setup_teardown(test_silent_server, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pending_bound, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_with_pending, setup, teardown),
      cmocka_unit_test_setup_teardown(test_free_from_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_command_from_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_xread_block, setup, teardown),
      cmocka_unit_test_setup_teardown(test_idle_killed, setup, teardown),
  };
  return cmocka_run_group_tests_name("kv_async", tests, NULL, NULL);
}
