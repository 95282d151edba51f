/*
 * storage/redis while the Redis server is stopped and started again
 * (REG_TEST_REDISCTL stop|start): the rate limiter answers REG_EUNAVAIL,
 * quickly, and the same kv_conn works again once Redis is back. Runs alone
 * (RUN_SERIAL): it takes the shared test server down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "storage/redis/kv.h"
#include "testdb.h"

static int teardown(void **state) {
  (void)state;
  testdb_ctl("REG_TEST_REDISCTL", "start"); /* leave it running */
  return 0;
}

static void test_stop_start(void **state) {
  (void)state;
  kv_conn *c = kv_conn_new(getenv("REG_TEST_REDIS"), 300);
  assert_non_null(c);
  char key[64];
  snprintf(key, sizeof(key), "test:%ld:restart", (long)getpid());
  assert_int_equal(kv_ratelimit_take(c, key, 100.0, 10, NULL), 0);
  assert_int_equal(kv_up(c), 1);

  assert_int_equal(testdb_ctl("REG_TEST_REDISCTL", "stop"), 0);
  uint64_t down = kv_down_total();
  int64_t retry = -1;
  long long t0 = testdb_now_ms();
  for (int i = 0; i < 100; i++) {
    assert_int_equal(kv_ratelimit_take(c, key, 100.0, 10, &retry), REG_EUNAVAIL);
    assert_int_equal(kv_ping(c), REG_EUNAVAIL);
  }
  assert_true(testdb_now_ms() - t0 < 2000);
  assert_int_equal(retry, -1);
  assert_int_equal(kv_up(c), 0);
  assert_true(kv_down_total() >= down + 200);
  testdb_sleep_ms(1100);
  assert_int_equal(kv_ratelimit_take(c, key, 100.0, 10, NULL), REG_EUNAVAIL);

  assert_int_equal(testdb_ctl("REG_TEST_REDISCTL", "start"), 0);
  /* The same kv_conn comes back by itself (one attempt a second); the new
   * server has no scripts: SCRIPT LOAD again on the new connection. */
  int rc = REG_EUNAVAIL;
  long long deadline = testdb_now_ms() + 10000;
  while (rc == REG_EUNAVAIL && testdb_now_ms() < deadline) {
    rc = kv_ratelimit_take(c, key, 100.0, 10, NULL);
    if (rc == REG_EUNAVAIL) testdb_sleep_ms(100);
  }
  assert_int_equal(rc, 0);
  assert_int_equal(kv_up(c), 1);
  assert_int_equal(kv_ping(c), 0);
  kv_conn_free(c);
}

int main(void) {
  static const char *const vars[] = {"REG_TEST_REDIS", "REG_TEST_REDISCTL", NULL};
  testdb_require(vars);
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_stop_start, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
