/*
 * PostgreSQL access for one worker thread: a pg_conn wraps one libpq
 * connection that is opened on first use and reopened after it is lost.
 *
 * Liveness. Before every statement an idle connection is polled without
 * blocking; a socket that is readable while no query is running carries
 * either an asynchronous notice or the server's goodbye (FATAL 57P01 and
 * EOF after a shutdown or pg_terminate_backend), so a connection that died
 * while the worker was idle is noticed before a statement is sent on it and
 * replaced at once. A failed connect attempt is not repeated for a second:
 * while the server is down a call costs one clock read and returns
 * REG_EUNAVAIL.
 *
 * Transactions. A connection lost inside a transaction is never replaced
 * behind the caller's back: every statement returns REG_EUNAVAIL until the
 * caller ends the transaction (pg_tx_rollback, or pg_tx_commit which then
 * reports REG_EUNAVAIL), so the rest of a transaction can never run in
 * autocommit on a fresh connection.
 *
 * Errors. SQLSTATEs map to the registry's codes (pg.h, storage/README.md).
 * Only unexpected errors (REG_EIO) are logged at error level, with the
 * SQLSTATE, the server's primary message and the start of the SQL text —
 * never the DETAIL field or the parameters, which may carry personal data.
 */
#include "storage/pg/pg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/base/clock.h"
#include "services/base/log.h"

#define RECONNECT_INTERVAL_US 1000000
#define PG_STMT_CACHE 256
#define BYTEA_OID 17 /* pg_type.oid of bytea, fixed since PostgreSQL 7 */

struct pg_conn {
  char *conninfo;
  PGconn *conn;      /* NULL while down */
  int up;            /* the last exchange with the server succeeded */
  int in_tx;         /* BEGIN sent; cleared only by commit or rollback */
  int64_t failed_at; /* monotonic µs of the last failed connect, 0 if none */
  int64_t session_timeout_ms; /* the session's statement_timeout (0: none) */
  int64_t tx_at_us;           /* the clock when the open transaction began */
  /* Statements prepared on this connection ("s<index>"): the registry's SQL
   * is a fixed set of literals, so each is parsed and planned once per
   * connection instead of once per call. Keyed by the text's address (a
   * literal's is stable), confirmed by the text itself. */
  struct {
    const char *key;  /* the caller's pointer */
    char *sql;        /* our copy of the text */
    uint64_t bytea;   /* which parameters are bytea */
    int n;            /* parameter count */
  } stmts[PG_STMT_CACHE];
  int n_stmts;
};

pg_conn *pg_conn_new(const char *conninfo) {
  pg_conn *c = calloc(1, sizeof(*c));
  if (!c) return NULL;
  c->conninfo = strdup(conninfo ? conninfo : "");
  if (!c->conninfo) {
    free(c);
    return NULL;
  }
  return c;
}

/* Prepared statements die with their session. */
static void stmts_clear(pg_conn *c) {
  for (int i = 0; i < c->n_stmts; i++) free(c->stmts[i].sql);
  c->n_stmts = 0;
}

void pg_conn_free(pg_conn *c) {
  if (!c) return;
  stmts_clear(c);
  if (c->conn) PQfinish(c->conn);
  /* The conninfo may hold a password. */
  sodium_memzero(c->conninfo, strlen(c->conninfo));
  free(c->conninfo);
  free(c);
}

PGconn *pg_conn_raw(pg_conn *c) { return c ? c->conn : NULL; }

int pg_conn_up(const pg_conn *c) { return c && c->up; }

int pg_in_tx(const pg_conn *c) { return c && c->in_tx; }

static void conn_drop(pg_conn *c) {
  stmts_clear(c);
  if (c->conn) PQfinish(c->conn);
  c->conn = NULL;
  if (c->up) log_warn(NULL, "pg: connection lost");
  c->up = 0;
}

/* 1 if an idle connection still looks usable. Reads whatever the server
 * sent meanwhile: after a shutdown that is an error message and then EOF,
 * hence more than one round. */
static int conn_idle_alive(PGconn *conn) {
  if (PQstatus(conn) != CONNECTION_OK) return 0;
  int fd = PQsocket(conn);
  if (fd < 0) return 0;
  for (int i = 0; i < 4; i++) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r == 0) return 1;
    if (r < 0) return errno == EINTR;
    if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) return 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) PQfreemem(n);
  }
  return PQstatus(conn) == CONNECTION_OK;
}

/* Server notices (NOTICE, WARNING, and the FATAL that a dying backend sends
 * while idle) go to our log instead of libpq's default stderr printer, with
 * the SQLSTATE and primary message only (a DETAIL may quote data). */
static void on_notice(void *arg, const PGresult *r) {
  (void)arg;
  const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  if (sev && strcmp(sev, "WARNING") == 0)
    log_warn(NULL, "pg: server warning %s: %s", state ? state : "-", msg ? msg : "");
  else
    log_debug(NULL, "pg: server %s %s: %s", sev ? sev : "notice", state ? state : "-",
              msg ? msg : "");
}

static int conn_open(pg_conn *c) {
  int64_t now = clock_mono_us();
  if (c->failed_at && now - c->failed_at < RECONNECT_INTERVAL_US) return REG_EUNAVAIL;
  /* Our defaults come first: the caller's conninfo (expanded from dbname)
   * overrides them. 2 s is libpq's smallest connect timeout: a worker waits
   * at most that long for an unreachable host, once a second at most. */
  static const char *const keys[] = {
      "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
      "client_encoding", "fallback_application_name", "dbname", NULL};
  const char *vals[] = {"2", "30", "10", "3", "UTF8", "registryd", c->conninfo, NULL};
  PGconn *conn = PQconnectdbParams(keys, vals, 1);
  if (!conn) return REG_ENOMEM;
  if (PQstatus(conn) != CONNECTION_OK) {
    /* libpq's message names host and port, never the password. */
    if (c->up || !c->failed_at)
      log_warn(NULL, "pg: cannot connect: %s", PQerrorMessage(conn));
    else
      log_debug(NULL, "pg: cannot connect: %s", PQerrorMessage(conn));
    PQfinish(conn);
    c->up = 0;
    now = clock_mono_us(); /* after the attempt, which may have timed out */
    c->failed_at = now ? now : 1;
    return REG_EUNAVAIL;
  }
  PQsetNoticeReceiver(conn, on_notice, NULL);
  if (c->failed_at) log_info(NULL, "pg: connected again");
  c->conn = conn;
  c->up = 1;
  c->failed_at = 0;
  c->session_timeout_ms = 0; /* a new session starts without one */
  return 0;
}

int pg_conn_ensure(pg_conn *c) {
  if (!c) return REG_EINVAL;
  if (c->conn) {
    if (conn_idle_alive(c->conn)) return 0;
    conn_drop(c);
  }
  /* A transaction's connection is gone: so is the transaction. */
  if (c->in_tx) return REG_EUNAVAIL;
  return conn_open(c);
}

/* ---- parameters ---- */

void pg_params_init(pg_params *p) { p->n = 0; }

/* The next slot, or -1 (and the parameter list marked overflowing, so that
 * the query fails with REG_ERANGE). */
static int param_slot(pg_params *p) {
  if (p->n < 0 || p->n >= PG_MAX_PARAMS) {
    p->n = PG_MAX_PARAMS + 1;
    return -1;
  }
  return p->n++;
}

static void param_set(pg_params *p, const char *value, int length, int format) {
  int i = param_slot(p);
  if (i < 0) return;
  p->values[i] = value;
  p->lengths[i] = length;
  p->formats[i] = format;
}

void pg_params_text(pg_params *p, const char *s) { param_set(p, s, 0, 0); }

void pg_params_bytea(pg_params *p, const void *data, size_t len) {
  if (len > INT_MAX || (!data && len)) {
    p->n = PG_MAX_PARAMS + 1;
    return;
  }
  /* A NULL value would be SQL NULL: an empty bytea needs a pointer. */
  param_set(p, data ? (const char *)data : "", (int)len, 1);
}

void pg_params_int(pg_params *p, int64_t v) {
  int i = param_slot(p);
  if (i < 0) return;
  snprintf(p->num[i], sizeof(p->num[i]), "%" PRId64, v);
  p->values[i] = p->num[i];
  p->lengths[i] = 0;
  p->formats[i] = 0;
}

void pg_params_bool(pg_params *p, int v) { param_set(p, v ? "t" : "f", 0, 0); }

void pg_params_null(pg_params *p) { param_set(p, NULL, 0, 0); }

void pg_bits_array(uint64_t bits, char out[PG_BITS_ARRAY_MAX]) {
  /* at most 64 numbers of ≤ 2 digits and a comma each: 193 bytes */
  size_t o = 0;
  out[o++] = '{';
  for (int b = 0; b < 64; b++)
    if (bits & (1ull << b))
      o += (size_t)snprintf(out + o, PG_BITS_ARRAY_MAX - o, "%s%d", o > 1 ? "," : "", b);
  snprintf(out + o, PG_BITS_ARRAY_MAX - o, "}");
}

/* ---- queries ---- */

static int sqlstate_is(const char *s, const char *prefix) {
  return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int map_sqlstate(const char *s) {
  if (!s) return REG_EIO;
  if (strcmp(s, "23505") == 0) return REG_EEXIST;
  if (strcmp(s, "57014") == 0) return REG_ETIMEDOUT;
  if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0 || strcmp(s, "55P03") == 0)
    return REG_ECONFLICT;
  /* The server is going away or refuses connections for now; 08P01 is a
   * protocol violation, a bug rather than an outage. */
  if ((sqlstate_is(s, "08") && strcmp(s, "08P01") != 0) || strcmp(s, "57P01") == 0 ||
      strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0)
    return REG_EUNAVAIL;
  if (sqlstate_is(s, "22") || sqlstate_is(s, "23")) return REG_EINVAL;
  return REG_EIO;
}

/* Takes ownership of r (NULL: out of memory or connection trouble). */
static int query_finish(pg_conn *c, const char *sql, PGresult *r, PGresult **out) {
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    c->up = 1;
    if (out)
      *out = r;
    else
      PQclear(r);
    return 0;
  }
  int lost = PQstatus(c->conn) != CONNECTION_OK;
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  int err;
  if (lost) {
    err = REG_EUNAVAIL;
  } else if (!r) {
    err = REG_ENOMEM;
  } else if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
    /* Not supported here; the connection is stuck in COPY: start over. */
    log_error(NULL, "pg: COPY is not supported by pg_query: %.120s", sql);
    err = REG_EIO;
    lost = 1;
  } else {
    err = map_sqlstate(state);
    if (err == REG_EUNAVAIL) lost = 1;
  }
  if (err == REG_EIO && state) {
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    log_error(NULL, "pg: SQLSTATE %s: %s; in: %.120s", state, msg ? msg : "", sql);
  } else if (err != REG_EUNAVAIL) {
    log_debug(NULL, "pg: SQLSTATE %s → %s", state ? state : "-", reg_strerror(err));
  }
  PQclear(r);
  if (lost) conn_drop(c);
  return err;
}

/* The cache slot of a statement: an existing one, n_stmts for a new one
 * (to prepare), or -1 when it cannot be cached (cache full, or the same
 * pointer now holds other text or parameter types). */
static int stmt_slot(const pg_conn *c, const char *sql, int n, uint64_t bytea) {
  for (int i = 0; i < c->n_stmts; i++) {
    if (c->stmts[i].key != sql) continue;
    if (c->stmts[i].n == n && c->stmts[i].bytea == bytea && strcmp(c->stmts[i].sql, sql) == 0)
      return i;
    return -1;
  }
  return c->n_stmts < PG_STMT_CACHE ? c->n_stmts : -1;
}

int pg_query(pg_conn *c, const char *sql, const pg_params *params, PGresult **out) {
  if (!c || !sql) return REG_EINVAL;
  if (params && (params->n < 0 || params->n > PG_MAX_PARAMS)) return REG_ERANGE;
  int rc = pg_conn_ensure(c);
  if (rc) return rc;
  PGresult *r;
  if (params) {
    /* Binary parameters are bytea (the only binary kind pg_params makes);
     * the others' types are inferred by the server. */
    Oid types[PG_MAX_PARAMS];
    uint64_t bytea = 0;
    for (int i = 0; i < params->n; i++) {
      types[i] = params->formats[i] ? BYTEA_OID : 0;
      if (params->formats[i]) bytea |= 1ull << i;
    }
    int slot = stmt_slot(c, sql, params->n, bytea);
    if (slot < 0) {
      r = PQexecParams(c->conn, sql, params->n, types, params->values, params->lengths,
                       params->formats, 0);
      return query_finish(c, sql, r, out);
    }
    char name[16];
    snprintf(name, sizeof(name), "s%d", slot);
    if (slot == c->n_stmts) { /* new: prepare it first */
      char *copy = strdup(sql);
      if (!copy) return REG_ENOMEM;
      rc = query_finish(c, sql, PQprepare(c->conn, name, sql, params->n, types), NULL);
      if (rc) {
        free(copy);
        return rc;
      }
      c->stmts[slot].key = sql;
      c->stmts[slot].sql = copy;
      c->stmts[slot].bytea = bytea;
      c->stmts[slot].n = params->n;
      c->n_stmts++;
    }
    r = PQexecPrepared(c->conn, name, params->n, params->values, params->lengths,
                       params->formats, 0);
  } else {
    r = PQexec(c->conn, sql);
  }
  return query_finish(c, sql, r, out);
}

int pg_query_planned(pg_conn *c, const char *sql, const pg_params *params, PGresult **out) {
  if (!c || !sql || !params) return REG_EINVAL;
  if (params->n < 0 || params->n > PG_MAX_PARAMS) return REG_ERANGE;
  int rc = pg_conn_ensure(c);
  if (rc) return rc;
  Oid types[PG_MAX_PARAMS];
  for (int i = 0; i < params->n; i++) types[i] = params->formats[i] ? BYTEA_OID : 0;
  PGresult *r = PQexecParams(c->conn, sql, params->n, types, params->values, params->lengths,
                             params->formats, 0);
  return query_finish(c, sql, r, out);
}

/* ---- transactions ---- */

int pg_tx_begin(pg_conn *c, int64_t timeout_ms) {
  if (!c) return REG_EINVAL;
  if (c->in_tx) return REG_EINVAL;
  /* one round trip: BEGIN and the transaction's statement timeout travel
   * together (the simple protocol runs both; the number is ours) */
  char sql[96] = "BEGIN ISOLATION LEVEL READ COMMITTED";
  if (timeout_ms > 0) {
    if (timeout_ms > INT_MAX) timeout_ms = INT_MAX; /* the setting's maximum */
    snprintf(sql, sizeof(sql), "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL statement_timeout = %d",
             (int)timeout_ms);
  }
  int rc = pg_query(c, sql, NULL, NULL);
  if (rc) {
    if (c->conn && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
      c->in_tx = 1;
      pg_tx_rollback(c);
    }
    return rc;
  }
  c->in_tx = 1;
  c->tx_at_us = clock_now_us();
  return 0;
}

int64_t pg_tx_time_us(const pg_conn *c) {
  return c && c->in_tx ? c->tx_at_us : clock_now_us();
}

int pg_set_statement_timeout(pg_conn *c, int64_t timeout_ms) {
  if (!c || timeout_ms < 0) return REG_EINVAL;
  if (c->in_tx) return REG_EINVAL;
  if (timeout_ms > INT_MAX) timeout_ms = INT_MAX;
  int rc = pg_conn_ensure(c);
  if (rc) return rc;
  if (timeout_ms == c->session_timeout_ms) return 0;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, timeout_ms);
  rc = pg_query(c, "SELECT set_config('statement_timeout', $1, false)", &p, NULL);
  if (rc == 0) c->session_timeout_ms = timeout_ms;
  return rc;
}

int pg_tx_commit(pg_conn *c) {
  if (!c || !c->in_tx) return REG_EINVAL;
  PGresult *r = NULL;
  int rc = pg_query(c, "COMMIT", NULL, &r);
  /* Whatever happened, the transaction is over: a failed COMMIT rolls back,
   * a lost connection took it along. */
  c->in_tx = 0;
  if (rc) return rc;
  /* COMMIT of a transaction that had already failed answers "ROLLBACK". */
  const char *tag = PQcmdStatus(r);
  if (tag && strcmp(tag, "ROLLBACK") == 0) {
    log_error(NULL, "pg: COMMIT of a failed transaction rolled back");
    rc = REG_EIO;
  }
  PQclear(r);
  return rc;
}

void pg_tx_rollback(pg_conn *c) {
  if (!c) return;
  c->in_tx = 0;
  if (!c->conn || PQtransactionStatus(c->conn) == PQTRANS_IDLE) return;
  PGresult *r = PQexec(c->conn, "ROLLBACK");
  if (!r || PQresultStatus(r) != PGRES_COMMAND_OK || PQstatus(c->conn) != CONNECTION_OK)
    conn_drop(c); /* a dead connection rolls back by itself */
  PQclear(r);
}

/* ---- results ---- */

const char *pg_val(const PGresult *r, int row, int col) {
  if (!r || row < 0 || col < 0 || row >= PQntuples(r) || col >= PQnfields(r)) return NULL;
  if (PQgetisnull(r, row, col)) return NULL;
  return PQgetvalue(r, row, col);
}

int64_t pg_int(const PGresult *r, int row, int col) {
  const char *v = pg_val(r, row, col);
  return v ? (int64_t)strtoll(v, NULL, 10) : 0;
}

int pg_bool(const PGresult *r, int row, int col) {
  const char *v = pg_val(r, row, col);
  return v && v[0] == 't';
}

int pg_bytea_arena(arena *a, const PGresult *r, int row, int col, size_t max, uint8_t **out,
                   size_t *len) {
  if (!pg_val(r, row, col)) return REG_EIO;
  int tl = PQgetlength(r, row, col);
  size_t cap = tl > 2 ? (size_t)(tl - 2) / 2 : 0; /* "\x" + hex */
  if (cap > max) return REG_EIO;
  uint8_t *buf = arena_alloc(a, cap ? cap : 1);
  if (!buf) return REG_ENOMEM;
  long n = pg_bytea(r, row, col, buf, cap);
  if (n < 0) return REG_EIO;
  *out = buf;
  *len = (size_t)n;
  return 0;
}

long pg_bytea(const PGresult *r, int row, int col, uint8_t *out, size_t cap) {
  const char *v = pg_val(r, row, col);
  /* Only the hex output format (bytea_output = hex, the default). */
  if (!v || v[0] != '\\' || v[1] != 'x') return -1;
  const char *hex = v + 2;
  size_t hex_len = strlen(hex);
  if (hex_len % 2 || hex_len / 2 > cap || hex_len / 2 > LONG_MAX) return -1;
  if (strspn(hex, "0123456789abcdefABCDEF") != hex_len) return -1;
  if (hex_len == 0) return 0;
  size_t n = 0;
  if (sodium_hex2bin(out, cap, hex, hex_len, NULL, &n, NULL) != 0) return -1;
  return (long)n;
}
