/*
 * The log's sequencer and checkpointer (log.h): a background thread of
 * `registryd serve` with its own PostgreSQL and Redis connections. Writers
 * never wait for it: a mutation commits its event rows, which a trigger
 * queues in events_pending in the same transaction, and this thread, after
 * the commit, gives them contiguous indices.
 *
 * One batch is one transaction, under a transaction-scoped advisory lock
 * (LOG_SEQ_LOCK) so that several registryd on one database take turns:
 *   lock → state row (size, root) → take the lowest queued ids off
 *   events_pending (never "id > last": ids are not commit order, and an
 *   event that commits late is queued by its commit and gets a later index)
 *   → insert log_entries (index, event row, leaf hash), append the hashes
 *   to the tiles, compute the new root → update the
 *   state row → COMMIT → one entry on the Redis stream for the batch (the
 *   watchers' doorbell; Redis down: skipped, PostgreSQL stays the record).
 * A checkpoint is made from the state row under the same lock, so a
 * checkpoint always matches the tiles and sizes only grow.
 */
#include <inttypes.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "crypto/sig.h"
#include "crypto/tile.h"
#include "crypto/tlog_proof.h"
#include "services/base/clock.h"
#include "services/base/log.h"
#include "services/core/app.h"
#include "services/core/keystore.h"
#include "services/log/log.h"

/* Bound on each statement of the sequencer's transactions. */
#define SEQ_TIMEOUT_MS 30000

static int lock_log(pg_conn *pg) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, LOG_SEQ_LOCK);
  return pg_query(pg, "SELECT pg_advisory_xact_lock($1::int8)", &p, NULL);
}

/* "{1,2,3}": column 0 of r as an int8[] literal, malloc'd. */
static char *id_array(const PGresult *r, int n) {
  size_t cap = 2 + (size_t)n * 21, len = 0;
  char *s = malloc(cap);
  if (!s) return NULL;
  s[len++] = '{';
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", pg_val(r, i, 0));
  s[len++] = '}';
  s[len] = 0;
  return s;
}

/* One XADD per batch: "indices [first, first + n) are in the log". The
 * stream is a doorbell for WatchEvents, whose watchers read the rows from
 * PostgreSQL (services/log/log_watch.c): one entry a batch keeps Redis off
 * the sequencer's path. Redis down: skipped; PostgreSQL stays the record. */
static void publish(kv_conn *kv, uint64_t first, int n) {
  char a[24], c[16];
  snprintf(a, sizeof(a), "%" PRIu64, first);
  snprintf(c, sizeof(c), "%d", n);
  const char *argv[] = {"XADD", LOG_STREAM_KEY, "MAXLEN", "~", LOG_STREAM_MAXLEN, "*",
                        "first", a, "count", c};
  struct redisReply *reply = NULL;
  int rv = kv_command(kv, 10, argv, NULL, &reply);
  if (reply) freeReplyObject(reply);
  if (rv != 0) log_debug(NULL, "log: event stream not updated from index %s: %s", a, reg_strerror(rv));
}

/* The transaction of one batch; the caller rolls back on failure. */
static int batch_tx(pg_conn *pg, int batch, uint64_t *first, int *n) {
  uint64_t size = 0;
  uint8_t root[32];
  int rv = lock_log(pg);
  if (rv == 0) rv = log_store_state(pg, &size, root);
  if (rv != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, batch);
  PGresult *r = NULL;
  /* the lowest queued ids, taken off the queue; a queued id without its
   * row (deleted behind the server's back) stops the log, loudly */
  rv = pg_query(pg,
                "WITH q AS (DELETE FROM events_pending WHERE id IN "
                "  (SELECT id FROM events_pending ORDER BY id LIMIT $1) RETURNING id) "
                "SELECT q.id, e.leaf FROM q LEFT JOIN events e ON e.id = q.id ORDER BY q.id",
                &p, &r);
  if (rv != 0) return rv;
  int k = PQntuples(r);
  if (k == 0) {
    PQclear(r);
    *n = 0;
    return 0;
  }
  uint8_t(*hashes)[32] = malloc((size_t)k * 32);
  char *ids = id_array(r, k);
  log_tiles *tiles = malloc(sizeof(*tiles));
  if (!hashes || !ids || !tiles) {
    rv = REG_ENOMEM;
    goto out;
  }
  for (int i = 0; i < k; i++) {
    if (!pg_val(r, i, 1)) {
      log_error(NULL, "log: queued event row %s is missing; sequencing stopped", pg_val(r, i, 0));
      rv = REG_EIO;
      goto out;
    }
    size_t cap = (size_t)PQgetlength(r, i, 1) / 2;
    uint8_t *leaf = malloc(cap ? cap : 1);
    long len = leaf ? pg_bytea(r, i, 1, leaf, cap) : -1;
    if (len >= 0) merkle_leaf_hash(leaf, (size_t)len, hashes[i]);
    free(leaf);
    if (len < 0) {
      rv = REG_EIO;
      goto out;
    }
  }
  /* indices size .. size + k - 1 in id order */
  pg_params_init(&p);
  pg_params_text(&p, ids);
  pg_params_int(&p, (int64_t)size);
  pg_params_bytea(&p, hashes, (size_t)k * 32);
  rv = pg_query(pg,
                "INSERT INTO log_entries (log_index, event_row, leaf_hash) "
                "SELECT $2::int8 + v.ord - 1, v.id, substring($3::bytea FROM ((v.ord - 1) * 32 + 1)::int4 FOR 32) "
                "FROM unnest($1::int8[]) WITH ORDINALITY AS v(id, ord)",
                &p, NULL);
  if (rv != 0) goto out;
  log_tiles_init(tiles, pg);
  rv = tile_append(log_tiles_get, log_tiles_put, tiles, size, (const uint8_t(*)[32])hashes,
                   (size_t)k);
  if (rv == 0) rv = merkle_root(log_tiles_hash, tiles, size + (uint64_t)k, root);
  if (rv != 0) goto out;
  pg_params_init(&p);
  pg_params_int(&p, (int64_t)(size + (uint64_t)k));
  pg_params_bytea(&p, root, 32);
  rv = pg_query(pg, "UPDATE log_state SET tree_size = $1, root = $2, updated_at = now() WHERE id",
                &p, NULL);
out:
  free(hashes);
  free(ids);
  free(tiles);
  PQclear(r);
  if (rv != 0) return rv;
  *first = size;
  *n = k;
  return 0;
}

int log_seq_batch(pg_conn *pg, kv_conn *kv, int batch, int *n) {
  if (batch < 1) return REG_EINVAL;
  int rv = pg_tx_begin(pg, SEQ_TIMEOUT_MS);
  if (rv != 0) return rv;
  uint64_t first = 0;
  int k = 0;
  rv = batch_tx(pg, batch, &first, &k);
  if (rv == 0) rv = pg_tx_commit(pg);
  if (rv != 0) {
    pg_tx_rollback(pg);
    return rv;
  }
  if (kv && k > 0) publish(kv, first, k);
  *n = k;
  return 0;
}

/* The queue's head is deleted batch after batch: its index keeps the dead
 * entries until a vacuum, and every batch's "lowest ids" scan walks over
 * them. Autovacuum comes by once a minute at best, so while a backlog
 * drains the sequencer vacuums the queue itself every SEQ_TIDY_ROWS rows
 * (the log benchmark: without it the rate fell by a third over 1M). */
#define SEQ_TIDY_ROWS 32768

static void tidy_queue(pg_conn *pg) {
  int rv = pg_query(pg, "VACUUM events_pending", NULL, NULL);
  if (rv != 0) log_warn(NULL, "log: VACUUM events_pending failed: %s", reg_strerror(rv));
}

/* ---- checkpoints ---- */

/* Signs body with the current LOG key and inserts the checkpoint. */
static int sign_and_store(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                          uint64_t size, const uint8_t root[32]) {
  char name[300], kid[9], body[TLOG_MAX_ORIGIN + 80];
  uint8_t pk[32], sig[64];
  uint8_t *sk = sodium_malloc(64);
  char *note = NULL;
  if (!sk) return REG_ENOMEM;
  int rv = keystore_signing_key(pg, master, KEYSTORE_PURPOSE_LOG, sk, pk, kid);
  if (rv == 0) rv = sig_key_name(registry_id, SIG_PURPOSE_LOG, name, sizeof(name));
  if (rv == 0) rv = tlog_checkpoint_body(registry_id, size, root, body, sizeof(body));
  if (rv != 0) goto out;
  size_t cap = strlen(body) + NOTE_SIGN_OVERHEAD(strlen(name));
  note = malloc(cap);
  if (!note) {
    rv = REG_ENOMEM;
    goto out;
  }
  rv = note_sign(name, sk, pk, body, note, cap, sig);
  if (rv != 0) goto out;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, (int64_t)size);
  pg_params_bytea(&p, root, 32);
  pg_params_text(&p, note);
  pg_params_bytea(&p, sig, 64);
  pg_params_text(&p, kid);
  rv = pg_query(pg,
                "INSERT INTO log_checkpoints (tree_size, root, note, signature, key_id) "
                "VALUES ($1, $2, $3, $4, $5)",
                &p, NULL);
out:
  sodium_free(sk);
  free(note);
  return rv;
}

static int checkpoint_tx(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                         int min_seconds, int *made, int64_t *wait_ms) {
  int rv = lock_log(pg);
  if (rv != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, min_seconds);
  PGresult *r = NULL;
  /* the state row, the latest checkpoint's size, and how long until the
   * next may be made */
  rv = pg_query(pg,
                "SELECT s.tree_size, s.root, coalesce(c.tree_size, 0), "
                "  coalesce(ceil(extract(epoch FROM c.created_at + make_interval(secs => $1) "
                "    - clock_timestamp()) * 1000), 0)::int8 "
                "FROM log_state s LEFT JOIN LATERAL (SELECT tree_size, created_at "
                "  FROM log_checkpoints ORDER BY tree_size DESC LIMIT 1) c ON true WHERE s.id",
                &p, &r);
  if (rv != 0) return rv;
  uint8_t root[32];
  if (PQntuples(r) != 1 || pg_bytea(r, 0, 1, root, 32) != 32) {
    PQclear(r);
    return REG_EIO;
  }
  uint64_t size = (uint64_t)pg_int(r, 0, 0), latest = (uint64_t)pg_int(r, 0, 2);
  int64_t left = pg_int(r, 0, 3);
  PQclear(r);
  *made = 0;
  *wait_ms = 0;
  if (size <= latest) return 0;
  if (left > 0) {
    *wait_ms = left;
    return 0;
  }
  rv = sign_and_store(pg, master, registry_id, size, root);
  if (rv == 0) *made = 1;
  return rv;
}

int log_seq_checkpoint(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                       int min_seconds, int *made, int64_t *wait_ms) {
  int rv = pg_tx_begin(pg, SEQ_TIMEOUT_MS);
  if (rv != 0) return rv;
  int m = 0;
  int64_t w = 0;
  rv = checkpoint_tx(pg, master, registry_id, min_seconds, &m, &w);
  if (rv == 0) rv = m ? pg_tx_commit(pg) : (pg_tx_rollback(pg), 0);
  if (rv != 0) {
    pg_tx_rollback(pg);
    return rv;
  }
  *made = m;
  *wait_ms = w;
  return 0;
}

/* ---- the thread ---- */

struct log_seq {
  const reg_app *app;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
};

/* Sleeps ms or until stopped; 1 when stopped. */
static int nap(log_seq *s, int64_t ms) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)(ms / 1000);
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0) {
  }
  int stop = s->stop;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

/* Logs a failure once until the step succeeds again. */
static void note_outcome(const char *what, int rv, int *last) {
  if (rv != 0 && rv != *last) log_warn(NULL, "log %s failed: %s (retrying)", what, reg_strerror(rv));
  if (rv == 0 && *last != 0) log_info(NULL, "log %s working again", what);
  *last = rv;
}

static void *seq_main(void *arg) {
  log_seq *s = arg;
  const reg_config *cfg = &s->app->cfg;
  pg_conn *pg = pg_conn_new(cfg->pg);
  kv_conn *kv = kv_conn_new(cfg->redis, cfg->redis_timeout_ms);
  if (!pg || !kv) {
    log_error(NULL, "log sequencer: out of memory; the log is not sequenced");
    goto out;
  }
  int last_seq = 0, last_cp = 0, pending = 1;
  int64_t since_tidy = 0;
  const int64_t period_us = (int64_t)cfg->checkpoint_seconds * 1000000;
  /* the first checkpoint of a process comes one period after its start */
  int64_t not_before = clock_mono_us() + period_us, next_poll = 0;
  for (;;) {
    int n = 0;
    int rv = log_seq_batch(pg, kv, cfg->log_batch_size, &n);
    note_outcome("sequencing", rv, &last_seq);
    if (n > 0) pending = 1;
    since_tidy += n;
    if (since_tidy >= SEQ_TIDY_ROWS) {
      tidy_queue(pg);
      since_tidy = 0;
    }
    int64_t now = clock_mono_us();
    /* the tree grew here, or another process may have grown it */
    if (now >= not_before && (pending || now >= next_poll)) {
      int made = 0;
      int64_t wait_ms = 0;
      rv = log_seq_checkpoint(pg, s->app->master_key, cfg->registry_id, cfg->checkpoint_seconds,
                              &made, &wait_ms);
      note_outcome("checkpoint", rv, &last_cp);
      next_poll = now + period_us;
      if (rv == 0) pending = wait_ms > 0;
      if (made) not_before = now + period_us;
      else if (wait_ms > 0) not_before = now + wait_ms * 1000;
      else if (rv != 0) not_before = now + 1000000;
    }
    /* a full batch: more are waiting, go on at once; a failure: back off */
    int64_t ms = n == cfg->log_batch_size ? 0 : cfg->log_batch_ms;
    if (last_seq != 0 && ms < 1000) ms = 1000;
    if (ms == 0) {
      pthread_mutex_lock(&s->mu);
      int stop = s->stop;
      pthread_mutex_unlock(&s->mu);
      if (stop) break;
    } else if (nap(s, ms)) {
      break;
    }
  }
out:
  pg_conn_free(pg);
  kv_conn_free(kv);
  return NULL;
}

int log_seq_start(const reg_app *app, log_seq **out) {
  log_seq *s = calloc(1, sizeof(*s));
  if (!s) return REG_ENOMEM;
  s->app = app;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&s->thread, NULL, seq_main, s) != 0) {
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    return REG_ENOMEM;
  }
  *out = s;
  return 0;
}

void log_seq_stop(log_seq *s) {
  if (!s) return;
  pthread_mutex_lock(&s->mu);
  s->stop = 1;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  pthread_join(s->thread, NULL);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}
