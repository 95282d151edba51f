/*
 * Schema migrations: the SQL files under storage/migrations/, embedded in
 * the binary at build time (cmake/embed_migrations.cmake), applied in name
 * order, each in its own transaction together with its row in
 * schema_migrations (name, SHA-256 of the exact bytes, time).
 *
 * Several registryd processes may start at once: everything happens under
 * the session-level pg_advisory_lock(REG_MIGRATION_LOCK), so one applies and
 * the others then find every file recorded. The lock is released on every
 * path (and by the server if the session dies).
 *
 * An applied file is never edited: a recorded file whose hash differs from
 * the embedded one stops the run with REG_EINVAL and a log line naming it,
 * so that a build cannot silently run against a schema it does not match.
 */
#include <sodium.h>
#include <string.h>

#include "services/base/log.h"
#include "storage/pg/pg.h"

#define SHA256_LEN 32

/* The session that holds the lock: a pg_conn reconnects by itself when its
 * connection is lost outside a transaction, and the new session would not
 * hold the lock. */
typedef struct session {
  const PGconn *conn;
  int pid;
} session;

static int session_same(pg_conn *c, const session *s) {
  PGconn *now = pg_conn_raw(c);
  return now && now == s->conn && PQbackendPID(now) == s->pid;
}

static int lock_take(pg_conn *c) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, REG_MIGRATION_LOCK);
  return pg_query(c, "SELECT pg_advisory_lock($1::int8)", &p, NULL);
}

/* Releases the lock if the session that took it is still the one open; a
 * lost session released it already. */
static void lock_release(pg_conn *c, const session *s) {
  if (pg_in_tx(c)) pg_tx_rollback(c);
  if (!session_same(c, s)) return;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, REG_MIGRATION_LOCK);
  if (pg_query(c, "SELECT pg_advisory_unlock($1::int8)", &p, NULL) != 0)
    log_warn(NULL, "migrate: could not release the migration lock");
  /* A file may have changed session settings (SET without LOCAL). */
  if (pg_query(c, "RESET ALL", NULL, NULL) != 0)
    log_warn(NULL, "migrate: RESET ALL failed");
}

/* 1 recorded with the same hash, 0 not recorded; or an error. */
static int recorded(pg_conn *c, const pg_migration *m, const uint8_t hash[SHA256_LEN]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, m->name);
  PGresult *r = NULL;
  int rc = pg_query(c, "SELECT sha256 FROM schema_migrations WHERE name = $1", &p, &r);
  if (rc) return rc;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return 0;
  }
  uint8_t old[SHA256_LEN];
  long n = pg_bytea(r, 0, 0, old, sizeof(old));
  PQclear(r);
  if (n != SHA256_LEN || memcmp(old, hash, SHA256_LEN) != 0) {
    log_error(NULL,
              "migrate: %s was edited after it was applied (SHA-256 differs); "
              "applied files are never edited: add a new file instead",
              m->name);
    return REG_EINVAL;
  }
  return 1;
}

static int apply_one(pg_conn *c, const session *s, const pg_migration *m, int *count) {
  if (!m->name || !m->sql || strlen(m->sql) != m->len) {
    log_error(NULL, "migrate: %s: body missing or holds a NUL byte",
              m->name ? m->name : "(unnamed)");
    return REG_EINVAL;
  }
  uint8_t hash[SHA256_LEN];
  crypto_hash_sha256(hash, (const unsigned char *)m->sql, m->len);
  int rc = recorded(c, m, hash);
  if (rc < 0) return rc;
  if (rc == 1) return 0;

  rc = pg_tx_begin(c, 0);
  if (rc) return rc;
  if (!session_same(c, s)) {
    log_warn(NULL, "migrate: connection lost, the migration lock with it");
    pg_tx_rollback(c);
    return REG_EUNAVAIL;
  }
  /* The row first: should the advisory lock ever be bypassed, the primary
   * key still lets only one session apply the file. */
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, m->name);
  pg_params_bytea(&p, hash, sizeof(hash));
  rc = pg_query(c, "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)", &p, NULL);
  if (rc == 0) {
    rc = pg_query(c, m->sql, NULL, NULL); /* PQexec: several statements */
    if (rc) {
      /* The server's message is about the file's own SQL (no parameters). */
      PGconn *raw = pg_conn_raw(c);
      log_error(NULL, "migrate: %s failed (%s): %s", m->name, reg_strerror(rc),
                raw ? PQerrorMessage(raw) : "connection lost");
    }
  }
  if (rc == 0) {
    PGconn *raw = pg_conn_raw(c);
    if (!raw || PQtransactionStatus(raw) != PQTRANS_INTRANS) {
      log_error(NULL, "migrate: %s ends the transaction itself (BEGIN/COMMIT/ROLLBACK "
                      "are not allowed in a migration)", m->name);
      rc = REG_EINVAL;
    }
  }
  if (rc) {
    pg_tx_rollback(c);
    return rc;
  }
  rc = pg_tx_commit(c);
  if (rc) {
    log_error(NULL, "migrate: %s: COMMIT failed: %s", m->name, reg_strerror(rc));
    return rc;
  }
  log_info(NULL, "migrate: applied %s", m->name);
  (*count)++;
  return 0;
}

/* Warns about recorded files this build does not have: an older binary
 * started against a newer schema (a rollback). Not an error: the files
 * only ever add, and the operator may mean it. */
static void warn_unknown(pg_conn *c, const pg_migration *list, size_t n) {
  PGresult *r = NULL;
  if (pg_query(c, "SELECT name FROM schema_migrations ORDER BY name", NULL, &r) != 0) return;
  size_t j = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *name = pg_val(r, i, 0);
    while (j < n && strcmp(list[j].name, name) < 0) j++;
    if (j == n || strcmp(list[j].name, name) != 0)
      log_warn(NULL, "migrate: the database has %s, which this build does not know "
                     "(a newer build applied it)", name);
  }
  PQclear(r);
}

int pg_migrate_from(pg_conn *c, const pg_migration *list, size_t n, int *applied) {
  if (!c || (n && !list) || pg_in_tx(c)) return REG_EINVAL;
  for (size_t i = 1; i < n; i++) {
    if (!list[i - 1].name || !list[i].name || strcmp(list[i - 1].name, list[i].name) >= 0) {
      log_error(NULL, "migrate: migrations are not in strictly increasing name order");
      return REG_EINVAL;
    }
  }
  if (sodium_init() < 0) return REG_EIO;

  int rc = lock_take(c);
  if (rc) return rc;
  PGconn *conn = pg_conn_raw(c);
  session s = {conn, conn ? PQbackendPID(conn) : 0};

  int count = 0;
  rc = pg_query(c,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY,"
                " sha256 bytea NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                NULL, NULL);
  for (size_t i = 0; rc == 0 && i < n; i++) rc = apply_one(c, &s, &list[i], &count);
  if (rc == 0) warn_unknown(c, list, n);
  lock_release(c, &s);
  if (rc) return rc;
  if (count) log_info(NULL, "migrate: %d file(s) applied", count);
  if (applied) *applied = count;
  return 0;
}

int pg_migrate(pg_conn *c, int *applied) {
  return pg_migrate_from(c, pg_migrations, pg_migrations_count, applied);
}
