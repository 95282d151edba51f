/*
 * storage/redis against a real Redis: PING, the token bucket (burst, refill,
 * retry time, independent keys, expiry, atomicity across connections), the
 * EVALSHA → EVAL fallback after SCRIPT FLUSH, a connection killed while
 * idle, and Redis absent or unreachable. Bucket keys carry the process id so
 * that runs never share a bucket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/redis/kv.h"
#include "testdb.h"

static kv_conn *conn_open(void) {
  kv_conn *c = kv_conn_new(getenv("REG_TEST_REDIS"), 500);
  assert_non_null(c);
  return c;
}

static void key_name(char *out, size_t cap, const char *what) {
  snprintf(out, cap, "test:%ld:%s", (long)getpid(), what);
}

static long long command_int(kv_conn *c, int argc, const char **argv) {
  struct redisReply *r = NULL;
  assert_int_equal(kv_command(c, argc, argv, NULL, &r), 0);
  assert_int_equal(r->type, REDIS_REPLY_INTEGER);
  long long v = r->integer;
  freeReplyObject(r);
  return v;
}

static void test_ping(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  assert_int_equal(kv_ping(c), 0);
  assert_int_equal(kv_up(c), 1);
  /* An error reply is REG_EIO and leaves the connection usable. */
  const char *bad[] = {"NOSUCHCOMMAND"};
  struct redisReply *r = NULL;
  assert_int_equal(kv_command(c, 1, bad, NULL, &r), REG_EIO);
  assert_null(r);
  assert_int_equal(kv_ping(c), 0);
  kv_conn_free(c);
  kv_conn_free(NULL);
}

static void test_burst_then_refused(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  char key[64];
  key_name(key, sizeof(key), "burst");
  int64_t retry = -1;
  for (int i = 0; i < 5; i++) {
    assert_int_equal(kv_ratelimit_take(c, key, 1.0, 5, &retry), 0);
    assert_int_equal(retry, -1); /* untouched when allowed */
  }
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 5, &retry), REG_EPERM);
  /* One token a second, none left: about a second to wait. */
  assert_in_range(retry, 900, 1000);
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 5, NULL), REG_EPERM);

  /* The key expires when the bucket would be full again (≤ 5 s here). */
  char bucket[96];
  snprintf(bucket, sizeof(bucket), "rl:{%s}", key);
  const char *pttl[] = {"PTTL", bucket};
  long long ttl = command_int(c, 2, pttl);
  assert_in_range(ttl, 4000, 5000);
  kv_conn_free(c);
}

static void test_refill(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  char key[64];
  key_name(key, sizeof(key), "refill");
  /* Ten a second, burst two. */
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  int64_t retry = 0;
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, &retry), REG_EPERM);
  assert_in_range(retry, 1, 100);
  testdb_sleep_ms((long)retry + 30);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, &retry), REG_EPERM);
  /* A long pause refills to the burst, no further. */
  testdb_sleep_ms(400);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), REG_EPERM);
  /* An expired (missing) key is a full bucket. */
  char bucket[96];
  snprintf(bucket, sizeof(bucket), "rl:{%s}", key);
  const char *del[] = {"DEL", bucket};
  assert_int_equal(command_int(c, 2, del), 1);
  assert_int_equal(kv_ratelimit_take(c, key, 10.0, 2, NULL), 0);
  kv_conn_free(c);
}

static void test_keys_independent(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  char a[64], b[64];
  key_name(a, sizeof(a), "a");
  key_name(b, sizeof(b), "b");
  assert_int_equal(kv_ratelimit_take(c, a, 0.01, 1, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, a, 0.01, 1, NULL), REG_EPERM);
  assert_int_equal(kv_ratelimit_take(c, b, 0.01, 1, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, b, 0.01, 1, NULL), REG_EPERM);
  int64_t retry = 0;
  assert_int_equal(kv_ratelimit_take(c, a, 0.01, 1, &retry), REG_EPERM);
  assert_in_range(retry, 99000, 100000); /* one token per 100 s */
  kv_conn_free(c);
}

static void test_bad_arguments(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  int64_t retry = -1;
  assert_int_equal(kv_ratelimit_take(c, "", 1.0, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, NULL, 1.0, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, "a{b}", 1.0, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, "k", 0.0, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, "k", -1.0, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, "k", NAN, 1, &retry), REG_EINVAL);
  assert_int_equal(kv_ratelimit_take(c, "k", 1.0, 0, &retry), REG_EINVAL);
  char long_key[300];
  memset(long_key, 'x', sizeof(long_key) - 1);
  long_key[sizeof(long_key) - 1] = '\0';
  assert_int_equal(kv_ratelimit_take(c, long_key, 1.0, 1, &retry), REG_EINVAL);
  assert_int_equal(retry, -1);
  kv_conn_free(c);
}

static void test_script_flushed(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  char key[64];
  key_name(key, sizeof(key), "flush");
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 3, NULL), 0); /* SCRIPT LOAD, EVALSHA */
  const char *flush[] = {"SCRIPT", "FLUSH"};
  struct redisReply *r = NULL;
  assert_int_equal(kv_command(c, 2, flush, NULL, &r), 0);
  freeReplyObject(r);
  /* EVALSHA answers NOSCRIPT; EVAL runs it (and caches it again). */
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 3, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 3, NULL), 0);
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 3, NULL), REG_EPERM);
  kv_conn_free(c);
}

static void test_killed_while_idle(void **state) {
  (void)state;
  kv_conn *c = conn_open();
  kv_conn *killer = conn_open();
  const char *id[] = {"CLIENT", "ID"};
  long long my_id = command_int(c, 2, id);
  char id_s[32];
  snprintf(id_s, sizeof(id_s), "%lld", my_id);
  const char *kill[] = {"CLIENT", "KILL", "ID", id_s};
  assert_int_equal(command_int(killer, 4, kill), 1);
  testdb_sleep_ms(50);
  /* Noticed before sending: a new connection at once, no failed call. */
  uint64_t down = kv_down_total();
  char key[64];
  key_name(key, sizeof(key), "killed");
  assert_int_equal(kv_ratelimit_take(c, key, 1.0, 3, NULL), 0);
  assert_int_not_equal(command_int(c, 2, id), my_id);
  assert_true(kv_down_total() == down);
  kv_conn_free(killer);
  kv_conn_free(c);
}

static void test_absent_and_unreachable(void **state) {
  (void)state;
  int64_t retry = -1;
  kv_conn *none = kv_conn_new("", 100);
  assert_non_null(none);
  assert_int_equal(kv_ping(none), REG_EUNAVAIL);
  assert_int_equal(kv_ratelimit_take(none, "k", 1.0, 1, &retry), REG_EUNAVAIL);
  assert_int_equal(kv_up(none), 0);
  kv_conn_free(none);
  kv_conn *null_addr = kv_conn_new(NULL, 0);
  assert_int_equal(kv_ping(null_addr), REG_EUNAVAIL);
  kv_conn_free(null_addr);
  kv_conn *bad = kv_conn_new("no-port", 100);
  assert_int_equal(kv_ping(bad), REG_EUNAVAIL);
  kv_conn_free(bad);

  uint64_t down = kv_down_total();
  kv_conn *c = kv_conn_new("127.0.0.1:1", 100);
  assert_int_equal(kv_ping(c), REG_EUNAVAIL);
  long long t0 = testdb_now_ms();
  for (int i = 0; i < 10000; i++)
    assert_int_equal(kv_ratelimit_take(c, "k", 1.0, 1, &retry), REG_EUNAVAIL);
  assert_true(testdb_now_ms() - t0 < 500); /* no new attempt within the second */
  assert_int_equal(retry, -1);
  assert_true(kv_down_total() >= down + 10001);
  kv_conn_free(c);
}

typedef struct taker {
  const char *key;
  int allowed;
  int other;
} taker;

static void *take_many(void *arg) {
  taker *t = arg;
  kv_conn *c = kv_conn_new(getenv("REG_TEST_REDIS"), 1000);
  for (int i = 0; c && i < 40; i++) {
    int rc = kv_ratelimit_take(c, t->key, 0.001, 50, NULL);
    if (rc == 0)
      t->allowed++;
    else if (rc != REG_EPERM)
      t->other++;
  }
  kv_conn_free(c);
  return NULL;
}

static void test_atomic_across_connections(void **state) {
  (void)state;
  char key[64];
  key_name(key, sizeof(key), "shared");
  enum { N = 4 };
  taker t[N];
  pthread_t th[N];
  for (int i = 0; i < N; i++) {
    t[i] = (taker){key, 0, 0};
    assert_int_equal(pthread_create(&th[i], NULL, take_many, &t[i]), 0);
  }
  int allowed = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(t[i].other, 0);
    allowed += t[i].allowed;
  }
  assert_int_equal(allowed, 50); /* 160 attempts, a burst of 50, no refill */
  /* The bucket would live for hours (50 tokens at 0.001/s): remove it. */
  kv_conn *c = conn_open();
  char bucket[96];
  snprintf(bucket, sizeof(bucket), "rl:{%s}", key);
  const char *del[] = {"DEL", bucket};
  assert_int_equal(command_int(c, 2, del), 1);
  kv_conn_free(c);
}

int main(void) {
  static const char *const vars[] = {"REG_TEST_REDIS", NULL};
  testdb_require(vars);
  signal(SIGPIPE, SIG_IGN); /* as registryd does: hiredis writes with write(2) */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ping),
      cmocka_unit_test(test_burst_then_refused),
      cmocka_unit_test(test_refill),
      cmocka_unit_test(test_keys_independent),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_script_flushed),
      cmocka_unit_test(test_killed_while_idle),
      cmocka_unit_test(test_absent_and_unreachable),
      cmocka_unit_test(test_atomic_across_connections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
