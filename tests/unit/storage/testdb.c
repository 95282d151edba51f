/*
 * Fresh databases and server control for the storage tests (testdb.h).
 * Database names are made from the process id and a counter; they are
 * identifiers, quoted with libpq's PQescapeIdentifier.
 */
#include "testdb.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void testdb_require(const char *const *vars) {
  for (; *vars; vars++) {
    const char *v = getenv(*vars);
    if (!v || !*v) {
      fprintf(stderr, "skipped: %s is not set (see ops/test)\n", *vars);
      exit(TESTDB_SKIP);
    }
  }
}

static void on_notice(void *arg, const char *message) {
  (void)arg;
  (void)message; /* "database ... does not exist, skipping" */
}

static PGconn *admin_connect(void) {
  char ci[1024];
  snprintf(ci, sizeof(ci), "%s dbname=postgres", getenv("REG_TEST_PG"));
  PGconn *c = PQconnectdb(ci);
  if (PQstatus(c) != CONNECTION_OK) {
    fprintf(stderr, "testdb: %s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, on_notice, NULL);
  return c;
}

static int exec_on(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) fprintf(stderr, "testdb: %s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  return ok ? 0 : -1;
}

int testdb_admin_exec(const char *sql) {
  PGconn *c = admin_connect();
  if (!c) return -1;
  int rc = exec_on(c, sql);
  PQfinish(c);
  return rc;
}

/* DROP (if exists) and optionally CREATE the database name. */
static int db_reset(const char *name, int create) {
  PGconn *c = admin_connect();
  if (!c) return -1;
  char *id = PQescapeIdentifier(c, name, strlen(name));
  char sql[256];
  int rc = -1;
  if (id) {
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", id);
    rc = exec_on(c, sql);
    if (rc == 0 && create) {
      snprintf(sql, sizeof(sql), "CREATE DATABASE %s", id);
      rc = exec_on(c, sql);
    }
    PQfreemem(id);
  }
  PQfinish(c);
  return rc;
}

int testdb_setup(void **state) {
  static int counter;
  testdb *db = calloc(1, sizeof(*db));
  if (!db) return -1;
  snprintf(db->name, sizeof(db->name), "reg_storage_test_%ld_%d", (long)getpid(), ++counter);
  snprintf(db->conninfo, sizeof(db->conninfo), "%s dbname=%s", getenv("REG_TEST_PG"), db->name);
  if (db_reset(db->name, 1) != 0) {
    free(db);
    return -1;
  }
  *state = db;
  return 0;
}

int testdb_teardown(void **state) {
  testdb *db = *state;
  int rc = 0;
  if (db) {
    rc = db_reset(db->name, 0);
    free(db);
  }
  *state = NULL;
  return rc;
}

int testdb_ctl(const char *env, const char *verb) {
  const char *cmd = getenv(env);
  if (!cmd || !*cmd) return -1;
  char line[1024];
  snprintf(line, sizeof(line), "%s %s", cmd, verb);
  int st = system(line);
  return st;
}

long long testdb_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void testdb_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
