/*
 * A fresh, migrated PostgreSQL database per test program (REG_TEST_PG, as
 * ops/test exports it), for the unit tests that need real SQL.
 */
#ifndef REG_TEST_PGTEST_H
#define REG_TEST_PGTEST_H

#include <stddef.h>

#include "storage/pg/pg.h"

/* Creates database "<prefix>_<pid>" (dropping a leftover of that name),
 * applies the migrations and connects: the connection, or NULL. The name
 * goes to dbname[cap]; its conninfo to conninfo[ci_cap] when not NULL. */
pg_conn *pgtest_open(const char *prefix, char *dbname, size_t cap, char *conninfo, size_t ci_cap);

/* Closes the connection and drops the database. */
void pgtest_close(pg_conn *pg, const char *dbname);

#endif
