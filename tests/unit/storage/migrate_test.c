/*
 * storage/pg/migrate.c and cmake/embed_migrations.cmake: the embedded bytes
 * equal the files; files apply once, in order, each atomically; an edited
 * applied file is refused; the advisory lock serializes concurrent runs and
 * is released on every path. The fixture files under migrations/ here are
 * embedded as test_migrations[]; other lists are built in the tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/pg/pg.h"
#include "testdb.h"

extern const pg_migration test_migrations[];
extern const size_t test_migrations_count;

/* A migration from a string constant. */
#define MIG(name, sql) {name, sql, sizeof(sql) - 1}

static pg_conn *conn_open(void **state) {
  testdb *db = *state;
  pg_conn *c = pg_conn_new(db->conninfo);
  assert_non_null(c);
  return c;
}

static int64_t scalar(pg_conn *c, const char *sql) {
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, sql, NULL, &r), 0);
  int64_t n = pg_int(r, 0, 0);
  PQclear(r);
  return n;
}

/* The migration lock is free (tried from another session). */
static void assert_lock_free(void **state) {
  pg_conn *o = conn_open(state);
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, REG_MIGRATION_LOCK);
  PGresult *r = NULL;
  assert_int_equal(pg_query(o, "SELECT pg_try_advisory_lock($1::int8)", &p, &r), 0);
  assert_int_equal(pg_bool(r, 0, 0), 1);
  PQclear(r);
  pg_conn_free(o); /* the session lock goes with the session */
}

static void test_embedded_bytes(void **state) {
  (void)state;
  assert_int_equal(test_migrations_count, 2);
  static const char *const names[] = {"0001_tricky.sql", "0002_no_final_newline.sql"};
  for (size_t i = 0; i < test_migrations_count; i++) {
    const pg_migration *m = &test_migrations[i];
    assert_string_equal(m->name, names[i]);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", REG_TEST_MIGRATIONS_DIR, m->name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(m->len, n);
    assert_memory_equal(m->sql, buf, n);
    assert_int_equal(m->sql[m->len], '\0');
  }
  /* The fixture holds what a string literal would have mangled. */
  assert_non_null(strstr(test_migrations[0].sql, "?\?/"));
  assert_non_null(strstr(test_migrations[0].sql, "\\\\slash"));
  assert_non_null(strstr(test_migrations[0].sql, "二手商品"));
  assert_int_equal(test_migrations[1].sql[test_migrations[1].len - 1], 'd');
}

static void test_apply_twice(void **state) {
  pg_conn *c = conn_open(state);
  int applied = -1;
  assert_int_equal(pg_migrate_from(c, test_migrations, test_migrations_count, &applied), 0);
  assert_int_equal(applied, 2);
  assert_int_equal(scalar(c, "SELECT count(*) FROM fx_one"), 2);
  assert_int_equal(scalar(c, "SELECT count(*) FROM schema_migrations"), 2);
  PGresult *r = NULL;
  assert_int_equal(
      pg_query(c, "SELECT note FROM fx_one WHERE id = 1", NULL, &r), 0);
  assert_string_equal(pg_val(r, 0, 0), "it's \"quoted\" \\ back\\\\slash 二手 ?\?/");
  PQclear(r);

  /* The recorded hash is SHA-256 of the exact bytes. */
  assert_true(sodium_init() >= 0);
  uint8_t want[32], got[32];
  crypto_hash_sha256(want, (const unsigned char *)test_migrations[0].sql,
                     test_migrations[0].len);
  r = NULL;
  assert_int_equal(pg_query(c, "SELECT sha256 FROM schema_migrations ORDER BY name LIMIT 1",
                            NULL, &r),
                   0);
  assert_int_equal(pg_bytea(r, 0, 0, got, sizeof(got)), 32);
  assert_memory_equal(got, want, 32);
  PQclear(r);

  applied = -1;
  assert_int_equal(pg_migrate_from(c, test_migrations, test_migrations_count, &applied), 0);
  assert_int_equal(applied, 0);
  /* A longer list applies only the new file. */
  pg_migration more[3] = {test_migrations[0], test_migrations[1],
                          MIG("0003_more.sql", "CREATE TABLE fx_three (x int)")};
  assert_int_equal(pg_migrate_from(c, more, 3, &applied), 0);
  assert_int_equal(applied, 1);
  assert_int_equal(pg_migrate_from(c, more, 3, NULL), 0);
  assert_lock_free(state);
  pg_conn_free(c);
}

static void test_edited_file_refused(void **state) {
  pg_conn *c = conn_open(state);
  pg_migration v1[] = {MIG("0001_a.sql", "CREATE TABLE a (x int)")};
  pg_migration v2[] = {MIG("0001_a.sql", "CREATE TABLE a (x int, y int)"),
                       MIG("0002_b.sql", "CREATE TABLE b (x int)")};
  int applied = -1;
  assert_int_equal(pg_migrate_from(c, v1, 1, &applied), 0);
  assert_int_equal(applied, 1);
  applied = -1;
  assert_int_equal(pg_migrate_from(c, v2, 2, &applied), REG_EINVAL);
  assert_int_equal(applied, -1); /* untouched on failure */
  /* Nothing after the edited file ran. */
  assert_int_equal(scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename = 'b'"), 0);
  assert_int_equal(pg_in_tx(c), 0);
  assert_lock_free(state);
  pg_conn_free(c);
}

static void test_failed_file_rolls_back(void **state) {
  pg_conn *c = conn_open(state);
  pg_migration list[] = {MIG("0001_a.sql", "CREATE TABLE a (x int)"),
                         MIG("0002_b.sql", "CREATE TABLE b (x int); SELECT 1/0;"),
                         MIG("0003_c.sql", "CREATE TABLE c (x int)")};
  int applied = -1;
  assert_int_equal(pg_migrate_from(c, list, 3, &applied), REG_EINVAL);
  assert_int_equal(scalar(c, "SELECT count(*) FROM schema_migrations"), 1);
  assert_int_equal(
      scalar(c, "SELECT count(*) FROM pg_tables WHERE tablename IN ('b', 'c')"), 0);
  assert_lock_free(state);
  /* A file that never applied may still be fixed. */
  list[1] = (pg_migration)MIG("0002_b.sql", "CREATE TABLE b (x int); SELECT 1/1;");
  assert_int_equal(pg_migrate_from(c, list, 3, &applied), 0);
  assert_int_equal(applied, 2);
  pg_conn_free(c);
}

static void test_bad_lists(void **state) {
  pg_conn *c = conn_open(state);
  int applied = -1;
  pg_migration unordered[] = {MIG("0002_b.sql", "SELECT 1"), MIG("0001_a.sql", "SELECT 1")};
  assert_int_equal(pg_migrate_from(c, unordered, 2, &applied), REG_EINVAL);
  pg_migration dup[] = {MIG("0001_a.sql", "SELECT 1"), MIG("0001_a.sql", "SELECT 1")};
  assert_int_equal(pg_migrate_from(c, dup, 2, &applied), REG_EINVAL);
  static const char nul[] = "SELECT 1;\0DROP TABLE x";
  pg_migration with_nul[] = {MIG("0001_a.sql", nul)};
  assert_int_equal(pg_migrate_from(c, with_nul, 1, &applied), REG_EINVAL);
  pg_migration commits[] = {MIG("0001_a.sql", "CREATE TABLE a (x int); COMMIT;")};
  assert_int_equal(pg_migrate_from(c, commits, 1, &applied), REG_EINVAL);
  assert_int_equal(applied, -1);
  /* Not inside a caller's transaction. */
  assert_int_equal(pg_tx_begin(c, 0), 0);
  assert_int_equal(pg_migrate_from(c, test_migrations, test_migrations_count, &applied),
                   REG_EINVAL);
  pg_tx_rollback(c);
  assert_int_equal(pg_migrate_from(c, NULL, 0, &applied), 0);
  assert_int_equal(applied, 0);
  assert_lock_free(state);
  pg_conn_free(c);
}

static void test_session_settings_reset(void **state) {
  pg_conn *c = conn_open(state);
  PGresult *r = NULL;
  assert_int_equal(pg_query(c, "SHOW search_path", NULL, &r), 0);
  char before[256];
  snprintf(before, sizeof(before), "%s", pg_val(r, 0, 0));
  PQclear(r);
  pg_migration list[] = {
      MIG("0001_a.sql", "SET search_path TO pg_catalog; CREATE TABLE public.a (x int)")};
  assert_int_equal(pg_migrate_from(c, list, 1, NULL), 0);
  assert_int_equal(pg_query(c, "SHOW search_path", NULL, &r), 0);
  assert_string_equal(pg_val(r, 0, 0), before);
  PQclear(r);
  pg_conn_free(c);
}

typedef struct runner {
  const char *conninfo;
  const pg_migration *list;
  size_t n;
  int rc;
  int applied;
} runner;

static void *run_migrate(void *arg) {
  runner *w = arg;
  pg_conn *c = pg_conn_new(w->conninfo);
  if (!c) {
    w->rc = REG_ENOMEM;
    return NULL;
  }
  w->rc = pg_migrate_from(c, w->list, w->n, &w->applied);
  pg_conn_free(c);
  return NULL;
}

static void test_concurrent(void **state) {
  testdb *db = *state;
  /* Not idempotent on purpose: applying a file twice would fail. */
  pg_migration list[] = {
      MIG("0001_a.sql", "SELECT pg_sleep(0.3); CREATE TABLE a (x int); INSERT INTO a VALUES (1)"),
      MIG("0002_b.sql", "INSERT INTO a VALUES (2)"),
      MIG("0003_c.sql", "ALTER TABLE a ADD COLUMN y int")};
  enum { N = 4 };
  runner w[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    w[i] = (runner){db->conninfo, list, 3, -100, -1};
    assert_int_equal(pthread_create(&t[i], NULL, run_migrate, &w[i]), 0);
  }
  int total = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].rc, 0);
    total += w[i].applied;
  }
  assert_int_equal(total, 3);
  pg_conn *c = conn_open(state);
  assert_int_equal(scalar(c, "SELECT count(*) FROM schema_migrations"), 3);
  assert_int_equal(scalar(c, "SELECT count(*) FROM a"), 2);
  assert_lock_free(state);
  pg_conn_free(c);
}

/* The real storage/migrations/ files apply to an empty database, once. */
static void test_embedded_migrations(void **state) {
  pg_conn *c = conn_open(state);
  int applied = -1;
  assert_int_equal(pg_migrate(c, &applied), 0);
  assert_int_equal(applied, (int)pg_migrations_count);
  assert_int_equal(pg_migrate(c, &applied), 0);
  assert_int_equal(applied, 0);
  assert_int_equal(scalar(c, "SELECT count(*) FROM schema_migrations"),
                   (int64_t)pg_migrations_count);
  for (size_t i = 0; i < pg_migrations_count; i++)
    assert_int_equal(pg_migrations[i].sql[pg_migrations[i].len], '\0');
  pg_conn_free(c);
}

int main(void) {
  static const char *const vars[] = {"REG_TEST_PG", NULL};
  testdb_require(vars);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_embedded_bytes),
      cmocka_unit_test_setup_teardown(test_apply_twice, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_edited_file_refused, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_failed_file_rolls_back, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_bad_lists, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_session_settings_reset, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_concurrent, testdb_setup, testdb_teardown),
      cmocka_unit_test_setup_teardown(test_embedded_migrations, testdb_setup, testdb_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
