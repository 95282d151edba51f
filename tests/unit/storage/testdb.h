/*
 * Helpers for the storage tests, which talk to a real PostgreSQL and Redis
 * (tests/README.md): REG_TEST_PG is a libpq conninfo without dbname,
 * REG_TEST_REDIS "host:port"; REG_TEST_PGCTL / REG_TEST_REDISCTL are
 * commands that take `stop` or `start`. A program whose servers are not
 * configured exits with TESTDB_SKIP (ctest SKIP_RETURN_CODE).
 */
#ifndef REG_TESTS_STORAGE_TESTDB_H
#define REG_TESTS_STORAGE_TESTDB_H

#include <stddef.h>

#define TESTDB_SKIP 77

typedef struct testdb {
  char name[64];
  char conninfo[1024]; /* REG_TEST_PG plus dbname */
} testdb;

/* Exits with TESTDB_SKIP unless every variable named is set. */
void testdb_require(const char *const *vars);

/* cmocka fixtures: a fresh database reg_storage_test_<pid>_<n> per test;
 * *state is its testdb. */
int testdb_setup(void **state);
int testdb_teardown(void **state);

/* Runs sql in the maintenance database "postgres"; 0 or -1. */
int testdb_admin_exec(const char *sql);

/* Runs "$env verb" (e.g. REG_TEST_PGCTL stop); its exit status. */
int testdb_ctl(const char *env, const char *verb);

/* Monotonic milliseconds. */
long long testdb_now_ms(void);
void testdb_sleep_ms(long ms);

#endif
