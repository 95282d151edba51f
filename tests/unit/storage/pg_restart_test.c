/*
 * storage/pg/pg.c while the PostgreSQL server is stopped and started again
 * (REG_TEST_PGCTL stop|start): calls fail with REG_EUNAVAIL, quickly, and
 * the same pg_conn works again once the server is back. Runs alone
 * (RUN_SERIAL): it takes the shared test server down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "storage/pg/pg.h"
#include "testdb.h"

static int setup(void **state) { return testdb_setup(state); }

static int teardown(void **state) {
  /* Whatever happened, leave the server running. */
  testdb_ctl("REG_TEST_PGCTL", "start");
  return testdb_teardown(state);
}

static int64_t count_rows(pg_conn *c) {
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, "SELECT count(*) FROM r", NULL, &r), 0);
  int64_t n = pg_int(r, 0, 0);
  PQclear(r);
  return n;
}

static void test_stop_start(void **state) {
  testdb *db = *state;
  pg_conn *c = pg_conn_new(db->conninfo);
  assert_non_null(c);
  assert_int_equal(pg_query(c, "CREATE TABLE r (x int)", NULL, NULL), 0);
  assert_int_equal(pg_conn_up(c), 1);

  /* A transaction open when the server goes away: COMMIT cannot succeed. */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  assert_int_equal(pg_query(c, "INSERT INTO r VALUES (1)", NULL, NULL), 0);

  assert_int_equal(testdb_ctl("REG_TEST_PGCTL", "stop"), 0);
  assert_int_equal(pg_tx_commit(c), REG_EUNAVAIL);
  assert_int_equal(pg_in_tx(c), 0);

  long long t0 = testdb_now_ms();
  for (int i = 0; i < 100; i++) {
    assert_int_equal(pg_query(c, "SELECT 1", NULL, NULL), REG_EUNAVAIL);
    assert_int_equal(pg_tx_begin(c, 0), REG_EUNAVAIL);
  }
  assert_true(testdb_now_ms() - t0 < 2000);
  assert_int_equal(pg_conn_up(c), 0);
  assert_null(pg_conn_raw(c));
  /* Still down after the reconnect interval. */
  testdb_sleep_ms(1100);
  assert_int_equal(pg_query(c, "SELECT 1", NULL, NULL), REG_EUNAVAIL);

  assert_int_equal(testdb_ctl("REG_TEST_PGCTL", "start"), 0);
  /* The same pg_conn comes back by itself (one attempt a second). */
  int rc = REG_EUNAVAIL;
  long long deadline = testdb_now_ms() + 15000;
  while (rc == REG_EUNAVAIL && testdb_now_ms() < deadline) {
    rc = pg_query(c, "SELECT 1", NULL, NULL);
    if (rc == REG_EUNAVAIL) testdb_sleep_ms(100);
  }
  assert_int_equal(rc, 0);
  assert_int_equal(pg_conn_up(c), 1);
  assert_int_equal(count_rows(c), 0); /* the open transaction never committed */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  assert_int_equal(pg_query(c, "INSERT INTO r VALUES (2)", NULL, NULL), 0);
  assert_int_equal(pg_tx_commit(c), 0);
  assert_int_equal(count_rows(c), 1);
  pg_conn_free(c);
}

int main(void) {
  static const char *const vars[] = {"REG_TEST_PG", "REG_TEST_PGCTL", NULL};
  testdb_require(vars);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stop_start, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
