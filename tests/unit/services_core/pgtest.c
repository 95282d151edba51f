#include "tests/unit/services_core/pgtest.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* One statement on the maintenance database: 0, or -1 (logged). */
static int admin_exec(const char *sql) {
  char ci[512];
  snprintf(ci, sizeof(ci), "%s dbname=postgres", getenv("REG_TEST_PG"));
  PGconn *c = PQconnectdb(ci);
  PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
  int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
  if (rc != 0) fprintf(stderr, "pgtest: %s: %s", sql, PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return rc;
}

pg_conn *pgtest_open(const char *prefix, char *dbname, size_t cap, char *conninfo, size_t ci_cap) {
  const char *base = getenv("REG_TEST_PG");
  if (!base) return NULL;
  snprintf(dbname, cap, "%s_%d", prefix, (int)getpid());
  char sql[160], ci[512];
  snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
  if (admin_exec(sql) != 0) return NULL;
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
  if (admin_exec(sql) != 0) return NULL;
  snprintf(ci, sizeof(ci), "%s dbname=%s", base, dbname);
  if (conninfo) snprintf(conninfo, ci_cap, "%s", ci);
  pg_conn *pg = pg_conn_new(ci);
  int applied = 0;
  if (pg && pg_migrate(pg, &applied) == 0) return pg;
  pg_conn_free(pg);
  return NULL;
}

void pgtest_close(pg_conn *pg, const char *dbname) {
  pg_conn_free(pg);
  char sql[160];
  snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
  admin_exec(sql);
}
