/*
 * storage/pg/pg.c against a real PostgreSQL: parameters, error mapping,
 * transactions, result helpers, and a connection lost while idle or inside
 * a transaction (pg_terminate_backend; stopping the server is
 * pg_restart_test.c). Each test gets a fresh database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/pg/pg.h"
#include "testdb.h"

static pg_conn *conn_open(void **state) {
  testdb *db = *state;
  pg_conn *c = pg_conn_new(db->conninfo);
  assert_non_null(c);
  return c;
}

static void exec_ok(pg_conn *c, const char *sql) {
  assert_int_equal(pg_query(c, sql, NULL, NULL), 0);
}

static int64_t count_rows(pg_conn *c, const char *table_sql) {
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, table_sql, NULL, &r), 0);
  int64_t n = pg_int(r, 0, 0);
  PQclear(r);
  return n;
}

static void test_params_round_trip(void **state) {
  pg_conn *c = conn_open(state);
  static const char text[] = "it's \"quoted\" \\ back\\slash 二手商品 ✓";
  uint8_t bin[300];
  for (size_t i = 0; i < sizeof(bin); i++) bin[i] = (uint8_t)(i * 7); /* zeros inside */
  bin[1] = 0;
  bin[299] = 0;

  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, text);
  pg_params_text(&p, NULL);
  pg_params_bytea(&p, bin, sizeof(bin));
  pg_params_int(&p, INT64_MIN);
  pg_params_int(&p, INT64_MAX);
  pg_params_bool(&p, 1);
  pg_params_bool(&p, 0);
  pg_params_null(&p);
  pg_params_bytea(&p, NULL, 0);
  pg_params_int(&p, 0);
  PGresult *r = NULL;
  assert_int_equal(pg_query(c,
                            "SELECT $1::text, $2::text, $3::bytea, $4::int8, $5::int8,"
                            " $6::bool, $7::bool, $8::int8, $9::bytea, $10::int8,"
                            " octet_length($3::bytea), $1::text = $11::text",
                            &(pg_params){0}, NULL),
                   REG_EIO); /* $11 has no parameter: a server error */
  pg_params_text(&p, text);
  assert_int_equal(pg_query(c,
                            "SELECT $1::text, $2::text, $3::bytea, $4::int8, $5::int8,"
                            " $6::bool, $7::bool, $8::int8, $9::bytea, $10::int8,"
                            " octet_length($3::bytea), $1::text = $11::text",
                            &p, &r),
                   0);
  assert_int_equal(PQntuples(r), 1);
  assert_string_equal(pg_val(r, 0, 0), text);
  assert_null(pg_val(r, 0, 1));
  uint8_t back[300];
  assert_int_equal(pg_bytea(r, 0, 2, back, sizeof(back)), (long)sizeof(bin));
  assert_memory_equal(back, bin, sizeof(bin));
  assert_true(pg_int(r, 0, 3) == INT64_MIN);
  assert_true(pg_int(r, 0, 4) == INT64_MAX);
  assert_int_equal(pg_bool(r, 0, 5), 1);
  assert_int_equal(pg_bool(r, 0, 6), 0);
  assert_null(pg_val(r, 0, 7));
  assert_int_equal(pg_int(r, 0, 7), 0);
  assert_int_equal(pg_bytea(r, 0, 8, back, sizeof(back)), 0); /* empty, not NULL */
  assert_int_equal(pg_int(r, 0, 9), 0);
  assert_int_equal(pg_int(r, 0, 10), 300);
  assert_int_equal(pg_bool(r, 0, 11), 1);
  /* Helpers outside the result, and a buffer too small. */
  assert_null(pg_val(r, 1, 0));
  assert_null(pg_val(r, 0, 12));
  assert_null(pg_val(r, -1, 0));
  assert_int_equal(pg_bytea(r, 0, 2, back, 299), -1);
  assert_int_equal(pg_bytea(r, 0, 0, back, sizeof(back)), -1); /* not bytea */
  assert_int_equal(pg_bytea(r, 0, 1, back, sizeof(back)), -1); /* NULL */
  PQclear(r);
  pg_conn_free(c);
}

static void test_params_limit(void **state) {
  pg_conn *c = conn_open(state);
  pg_params p;
  pg_params_init(&p);
  for (int i = 0; i < PG_MAX_PARAMS; i++) pg_params_int(&p, i);
  assert_int_equal(p.n, PG_MAX_PARAMS);
  /* Exactly PG_MAX_PARAMS is fine. */
  char sql[1024] = "SELECT $1::int8";
  for (int i = 2; i <= PG_MAX_PARAMS; i++) {
    char part[16];
    snprintf(part, sizeof(part), " + $%d", i);
    strcat(sql, part);
  }
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, sql, &p, &r), 0);
  assert_int_equal(pg_int(r, 0, 0), (PG_MAX_PARAMS - 1) * PG_MAX_PARAMS / 2);
  PQclear(r);
  /* One more fails the query without sending it. */
  pg_params_text(&p, "x");
  assert_int_equal(pg_query(c, sql, &p, NULL), REG_ERANGE);
  pg_params_int(&p, 1);
  assert_int_equal(pg_query(c, sql, &p, NULL), REG_ERANGE);
  pg_conn_free(c);
}

static void test_error_mapping(void **state) {
  pg_conn *c = conn_open(state);
  pg_conn *other = conn_open(state);
  exec_ok(c, "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL CHECK (name <> ''))");
  exec_ok(c, "INSERT INTO t VALUES (1, 'a')");

  /* 23505 unique violation */
  assert_int_equal(pg_query(c, "INSERT INTO t VALUES (1, 'b')", NULL, NULL), REG_EEXIST);
  /* 23502 not null, 23514 check → other integrity violations */
  assert_int_equal(pg_query(c, "INSERT INTO t VALUES (2, NULL)", NULL, NULL), REG_EINVAL);
  assert_int_equal(pg_query(c, "INSERT INTO t VALUES (2, '')", NULL, NULL), REG_EINVAL);
  /* 22012 division by zero, 22P02 bad input */
  assert_int_equal(pg_query(c, "SELECT 1/0", NULL, NULL), REG_EINVAL);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, "not a number");
  assert_int_equal(pg_query(c, "SELECT $1::int", &p, NULL), REG_EINVAL);
  /* 42601 syntax error, 42P01 undefined table → REG_EIO */
  assert_int_equal(pg_query(c, "SELEC 1", NULL, NULL), REG_EIO);
  assert_int_equal(pg_query(c, "SELECT * FROM nowhere", NULL, NULL), REG_EIO);

  /* 57014 statement timeout, from the transaction's timeout */
  assert_int_equal(pg_tx_begin(c, 100), 0);
  assert_int_equal(pg_query(c, "SELECT pg_sleep(5)", NULL, NULL), REG_ETIMEDOUT);
  pg_tx_rollback(c);
  /* SET LOCAL: the timeout ended with the transaction. */
  exec_ok(c, "SELECT pg_sleep(0.2)");

  /* 55P03 lock not available → REG_ECONFLICT */
  assert_int_equal(pg_tx_begin(other, 0), 0);
  assert_int_equal(pg_query(other, "SELECT * FROM t WHERE id = 1 FOR UPDATE", NULL, NULL), 0);
  assert_int_equal(pg_tx_begin(c, 0), 0);
  assert_int_equal(pg_query(c, "SELECT * FROM t WHERE id = 1 FOR UPDATE NOWAIT", NULL, NULL),
                   REG_ECONFLICT);
  pg_tx_rollback(c);
  pg_tx_rollback(other);

  /* 40001 serialization failure → REG_ECONFLICT */
  exec_ok(c, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  exec_ok(c, "SELECT * FROM t");
  exec_ok(other, "UPDATE t SET name = 'z' WHERE id = 1");
  assert_int_equal(pg_query(c, "UPDATE t SET name = 'y' WHERE id = 1", NULL, NULL),
                   REG_ECONFLICT);
  exec_ok(c, "ROLLBACK");

  /* After all that the connection is fine. */
  assert_int_equal(count_rows(c, "SELECT count(*) FROM t"), 1);
  assert_int_equal(pg_conn_up(c), 1);
  pg_conn_free(other);
  pg_conn_free(c);
}

static void test_multi_statement(void **state) {
  pg_conn *c = conn_open(state);
  PGresult *r = NULL;
  assert_int_equal(pg_query(c,
                            "CREATE TABLE m (x int); INSERT INTO m VALUES (1), (2);"
                            " SELECT sum(x) FROM m",
                            NULL, &r),
                   0);
  assert_int_equal(pg_int(r, 0, 0), 3); /* the last statement's result */
  PQclear(r);
  /* Several statements need params NULL. */
  pg_params p;
  pg_params_init(&p);
  assert_int_equal(pg_query(c, "SELECT 1; SELECT 2", &p, NULL), REG_EIO);
  pg_conn_free(c);
}

static void test_tx_visibility(void **state) {
  pg_conn *c = conn_open(state);
  pg_conn *other = conn_open(state);
  exec_ok(c, "CREATE TABLE v (x int UNIQUE)");

  assert_int_equal(pg_in_tx(c), 0);
  assert_int_equal(pg_tx_commit(c), REG_EINVAL); /* no transaction */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  assert_int_equal(pg_in_tx(c), 1);
  assert_int_equal(pg_tx_begin(c, 0), REG_EINVAL); /* no nesting */
  exec_ok(c, "INSERT INTO v VALUES (1)");
  assert_int_equal(count_rows(other, "SELECT count(*) FROM v"), 0);
  assert_int_equal(count_rows(c, "SELECT count(*) FROM v"), 1);
  assert_int_equal(pg_tx_commit(c), 0);
  assert_int_equal(pg_in_tx(c), 0);
  assert_int_equal(count_rows(other, "SELECT count(*) FROM v"), 1);

  assert_int_equal(pg_tx_begin(c, 1000), 0);
  exec_ok(c, "INSERT INTO v VALUES (2)");
  pg_tx_rollback(c);
  assert_int_equal(pg_in_tx(c), 0);
  assert_int_equal(count_rows(other, "SELECT count(*) FROM v"), 1);
  assert_int_equal(count_rows(c, "SELECT count(*) FROM v"), 1);

  /* COMMIT after a failed statement rolls back and says so. */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  exec_ok(c, "INSERT INTO v VALUES (3)");
  assert_int_equal(pg_query(c, "INSERT INTO v VALUES (1)", NULL, NULL), REG_EEXIST);
  assert_int_equal(pg_query(c, "SELECT 1", NULL, NULL), REG_EIO); /* 25P02 */
  assert_int_equal(pg_tx_commit(c), REG_EIO);
  assert_int_equal(pg_in_tx(c), 0);
  assert_int_equal(count_rows(other, "SELECT count(*) FROM v"), 1);

  /* A deferred unique violation surfaces at COMMIT. */
  exec_ok(c, "CREATE TABLE d (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)");
  assert_int_equal(pg_tx_begin(c, 0), 0);
  exec_ok(c, "INSERT INTO d VALUES (1), (1)");
  assert_int_equal(pg_tx_commit(c), REG_EEXIST);
  assert_int_equal(count_rows(c, "SELECT count(*) FROM d"), 0);

  /* Rollback outside a transaction is harmless. */
  pg_tx_rollback(c);
  exec_ok(c, "SELECT 1");
  pg_conn_free(other);
  pg_conn_free(c);
}

static int backend_pid(pg_conn *c) {
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, "SELECT pg_backend_pid()", NULL, &r), 0);
  int pid = (int)pg_int(r, 0, 0);
  PQclear(r);
  return pid;
}

static void terminate(pg_conn *killer, int pid) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, pid);
  PGresult *r = NULL;
  assert_int_equal(pg_query(killer, "SELECT pg_terminate_backend($1::int, 5000)", &p, &r), 0);
  assert_int_equal(pg_bool(r, 0, 0), 1);
  PQclear(r);
}

static void test_connection_lost(void **state) {
  pg_conn *c = conn_open(state);
  pg_conn *killer = conn_open(state);
  exec_ok(c, "CREATE TABLE k (x int)");

  /* Lost while idle: noticed before the next statement, which runs on a
   * new connection at once. */
  int pid = backend_pid(c);
  terminate(killer, pid);
  exec_ok(c, "INSERT INTO k VALUES (1)");
  assert_int_not_equal(backend_pid(c), pid);

  /* Lost inside a transaction: every statement fails until the caller
   * ends it; nothing runs in autocommit on a fresh connection. */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  exec_ok(c, "INSERT INTO k VALUES (2)");
  terminate(killer, backend_pid(c));
  assert_int_equal(pg_query(c, "INSERT INTO k VALUES (3)", NULL, NULL), REG_EUNAVAIL);
  assert_int_equal(pg_query(c, "INSERT INTO k VALUES (4)", NULL, NULL), REG_EUNAVAIL);
  assert_int_equal(pg_in_tx(c), 1);
  assert_int_equal(pg_tx_commit(c), REG_EUNAVAIL);
  assert_int_equal(pg_in_tx(c), 0);
  assert_int_equal(count_rows(c, "SELECT count(*) FROM k"), 1);

  /* Lost during COMMIT's predecessor; rollback path. */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  terminate(killer, backend_pid(c));
  assert_int_equal(pg_query(c, "INSERT INTO k VALUES (5)", NULL, NULL), REG_EUNAVAIL);
  pg_tx_rollback(c);
  assert_int_equal(count_rows(c, "SELECT count(*) FROM k"), 1);
  assert_int_equal(pg_conn_up(c), 1);
  pg_conn_free(killer);
  pg_conn_free(c);
}

static void test_unreachable(void **state) {
  (void)state;
  /* Port 1 on loopback: refused at once. */
  pg_conn *c = pg_conn_new("host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  assert_non_null(c);
  assert_int_equal(pg_conn_up(c), 0);
  assert_int_equal(pg_query(c, "SELECT 1", NULL, NULL), REG_EUNAVAIL);
  assert_int_equal(pg_conn_ensure(c), REG_EUNAVAIL);
  assert_null(pg_conn_raw(c));
  /* Within the second no new attempt is made: thousands of calls are cheap. */
  long long t0 = testdb_now_ms();
  for (int i = 0; i < 10000; i++)
    assert_int_equal(pg_query(c, "SELECT 1", NULL, NULL), REG_EUNAVAIL);
  assert_true(testdb_now_ms() - t0 < 500);
  assert_int_equal(pg_tx_begin(c, 0), REG_EUNAVAIL);
  assert_int_equal(pg_in_tx(c), 0);
  pg_conn_free(c);
  pg_conn_free(NULL);
}

int main(void) {
  static const char *const vars[] = {"REG_TEST_PG", NULL};
  testdb_require(vars);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_params_round_trip, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_params_limit, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_error_mapping, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_multi_statement, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_tx_visibility, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_connection_lost, testdb_setup, testdb_teardown),
      cmocka_unit_test(test_unreachable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
