/*
 * PostgreSQL access for workers: one connection per worker thread, opened
 * lazily and reopened after a failure (at most one attempt a second while
 * the server is down, so a dead database costs a call nothing but the
 * check), parameterized queries only (never SQL built with printf),
 * transactions with a statement timeout taken from the call's deadline, and
 * error mapping from SQLSTATE to the registry's codes.
 */
#ifndef REG_STORAGE_PG_H
#define REG_STORAGE_PG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "services/base/arena.h"
#include "services/base/err.h"

typedef struct pg_conn pg_conn;

/* A handle for conninfo; connects on first use. NULL when out of memory.
 * Free with pg_conn_free (closes the connection; NULL is a no-op). */
pg_conn *pg_conn_new(const char *conninfo);
void pg_conn_free(pg_conn *c);

/* 0 when connected (connecting now if needed), REG_EUNAVAIL otherwise. */
int pg_conn_ensure(pg_conn *c) REG_MUST_CHECK;
/* The live libpq connection, or NULL when down. Borrowed. */
PGconn *pg_conn_raw(pg_conn *c);
/* 1 if the last attempt to talk to the server succeeded. */
int pg_conn_up(const pg_conn *c);

#define PG_MAX_PARAMS 32

/* Parameters of one query. Values are borrowed (must outlive the query);
 * numbers are formatted into the struct's own buffers. */
typedef struct pg_params {
  int n;
  const char *values[PG_MAX_PARAMS];
  int lengths[PG_MAX_PARAMS];
  int formats[PG_MAX_PARAMS]; /* 0 text, 1 binary */
  char num[PG_MAX_PARAMS][24];
} pg_params;

void pg_params_init(pg_params *p);
/* Each appends one parameter ($1, $2, … in call order); beyond
 * PG_MAX_PARAMS the query fails with REG_ERANGE. */
void pg_params_text(pg_params *p, const char *s);  /* NULL → SQL NULL */
void pg_params_bytea(pg_params *p, const void *data, size_t len); /* binary */
void pg_params_int(pg_params *p, int64_t v);
void pg_params_bool(pg_params *p, int v);
void pg_params_null(pg_params *p);

/* The int[] literal of a bit set ("{1,5}" for bits 1 and 5; "{}" for none),
 * for a parameter like $1::int[] (enum values kept as bits: roles, event
 * types). Bit 0 is never set by callers (the UNSPECIFIED value). */
#define PG_BITS_ARRAY_MAX 200
void pg_bits_array(uint64_t bits, char out[PG_BITS_ARRAY_MAX]);

/* Runs sql with params (results in text format). params NULL: sql is a
 * fixed text that may hold several statements, sent with PQexec (the result
 * is the last statement's). On success *out is the
 * result (caller PQclear's it; may be NULL if out is NULL — then the result
 * is cleared). Errors: REG_EUNAVAIL (connection lost: the connection is
 * dropped and will be reopened), REG_EEXIST (unique violation 23505),
 * REG_ETIMEDOUT (57014 statement timeout / cancel), REG_ECONFLICT (40001,
 * 40P01, 55P03), REG_EINVAL (class 22 data exceptions, class 23 other integrity
 * violations), REG_EIO (anything else; the message is logged without
 * parameters). */
int pg_query(pg_conn *c, const char *sql, const pg_params *params,
             PGresult **out) REG_MUST_CHECK;
/* pg_query without the prepared-statement cache: planned for these
 * parameters on every run. For queries whose best plan depends on which
 * optional filters are set ("($3 IS NULL OR col = $3)"), where a cached
 * generic plan would choose one index for all of them. */
int pg_query_planned(pg_conn *c, const char *sql, const pg_params *params,
                     PGresult **out) REG_MUST_CHECK;

/* SQL for microsecond times (what clock_now_us and pg_tx_time_us give):
 * PG_TS(3) is parameter $3 (int8 µs since the epoch) as a timestamptz,
 * exactly (no float rounding); PG_US("col") is a timestamptz column as int8
 * µs. String literals, for building statements at compile time. */
#define PG_TS(n) "('epoch'::timestamptz + $" #n "::int8 * interval '1 microsecond')"
#define PG_US(col) "(extract(epoch FROM " col ") * 1000000)::int8"

/* Transactions. pg_tx_begin starts READ COMMITTED and, when timeout_ms > 0,
 * SET LOCAL statement_timeout. pg_tx_commit returns REG_EUNAVAIL when the
 * COMMIT's fate is unknown (connection lost). pg_tx_rollback never fails
 * visibly (a dead connection rolls back by itself). */
int pg_tx_begin(pg_conn *c, int64_t timeout_ms) REG_MUST_CHECK;
int pg_tx_commit(pg_conn *c) REG_MUST_CHECK;
/* The session's statement_timeout for statements outside a transaction
 * (0: none). Sent only when it changes (one round trip), so calls without a
 * deadline pay nothing; a new connection starts at 0. REG_EINVAL inside a
 * transaction (use pg_tx_begin's timeout there). */
int pg_set_statement_timeout(pg_conn *c, int64_t timeout_ms) REG_MUST_CHECK;
void pg_tx_rollback(pg_conn *c);
/* The transaction's time: the clock (µs since the epoch) when pg_tx_begin
 * ran, or the clock now outside a transaction. Everything one transaction
 * records (event times, listing times) uses it, so its rows agree. */
int64_t pg_tx_time_us(const pg_conn *c);
int pg_in_tx(const pg_conn *c);

/* Result helpers: text value or NULL for SQL NULL; bytea decoded (hex text
 * form) into out (at most cap bytes) → length, or -1. */
const char *pg_val(const PGresult *r, int row, int col);
int64_t pg_int(const PGresult *r, int row, int col); /* NULL → 0 */
int pg_bool(const PGresult *r, int row, int col);
long pg_bytea(const PGresult *r, int row, int col, uint8_t *out, size_t cap);
/* A bytea column decoded into the arena (*out, *len; at most `max` bytes):
 * 0; REG_EIO for NULL, malformed or longer than max; REG_ENOMEM. */
int pg_bytea_arena(arena *a, const PGresult *r, int row, int col, size_t max, uint8_t **out,
                   size_t *len) REG_MUST_CHECK;
/* A timestamptz column as Unix microseconds (expects the query to select
 * (extract(epoch from x)*1e6)::int8, so this is pg_int). */

/* Migrations (migrate.c): applies the embedded migrations (the files
 * storage/migrations/NNNN_name.sql) not yet recorded in schema_migrations,
 * in name order, each in its own
 * transaction, all under pg_advisory_lock(REG_MIGRATION_LOCK). A recorded
 * file whose SHA-256 differs from the embedded one is refused (REG_EINVAL:
 * applied files are never edited). *applied gets the number applied. */
#define REG_MIGRATION_LOCK 7319004201LL
int pg_migrate(pg_conn *c, int *applied) REG_MUST_CHECK;

/* One migration file: its name (NNNN_name.sql) and body (NUL-terminated;
 * len excludes the NUL). A body must not contain transaction control. */
typedef struct pg_migration {
  const char *name;
  const char *sql;
  size_t len;
} pg_migration;

/* The table generated from storage/migrations/ (migrations.c), in order. */
extern const pg_migration pg_migrations[];
extern const size_t pg_migrations_count;

/* pg_migrate over an explicit list (in order; tests use their own). Also
 * REG_EINVAL when called inside a transaction or for a body with a NUL byte
 * or transaction control; other errors as pg_query. */
int pg_migrate_from(pg_conn *c, const pg_migration *list, size_t n,
                    int *applied) REG_MUST_CHECK;

#endif
