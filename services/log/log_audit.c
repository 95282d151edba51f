/*
 * registryd audit: recompute the log from the event rows and compare with
 * what the log published (SPEC §5). In one read-only snapshot:
 *   1. every checkpoint's signature verifies with the LOG key named by its
 *      key id, and its body matches its columns;
 *   2. the sequenced events have the indices 0 … n−1, none missing (a
 *      deleted row is reported by its index);
 *   3. each event's leaf hashes to the leaf hash stored in the level-0 tile
 *      at its index (an edited row is reported by its index);
 *   4. the tree recomputed from the event rows has, at every checkpoint's
 *      size, that checkpoint's root (if the tiles were rewritten too, the
 *      first checkpoint that disagrees bounds where the change is);
 *   5. every event row is in the log or still queued (events_pending): an
 *      event taken off the queue behind the server's back is named.
 * Events are streamed through a cursor; memory is O(log n) (a compact range
 * of subtree roots) plus one tile.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "crypto/sig.h"
#include "crypto/tile.h"
#include "crypto/tlog_proof.h"
#include "services/log/log_audit.h"

#define FETCH 10000

typedef struct cp {
  uint64_t size;
  uint8_t root[32];
} cp;

/* A compact range over leaves [0, n): the roots of its perfect subtrees,
 * largest first (the binary digits of n). */
typedef struct range {
  uint8_t h[64][32];
  int height[64];
  int k;
  uint64_t n;
} range;

static void range_push(range *r, const uint8_t leaf_hash[32]) {
  memcpy(r->h[r->k], leaf_hash, 32);
  r->height[r->k++] = 0;
  r->n++;
  while (r->k >= 2 && r->height[r->k - 1] == r->height[r->k - 2]) {
    merkle_node_hash(r->h[r->k - 2], r->h[r->k - 1], r->h[r->k - 2]);
    r->height[r->k - 2]++;
    r->k--;
  }
}

/* MTH of the leaves so far: the subtree roots folded from the right. */
static void range_root(const range *r, uint8_t out[32]) {
  if (r->k == 0) {
    merkle_empty_root(out);
    return;
  }
  uint8_t acc[32];
  memcpy(acc, r->h[r->k - 1], 32);
  for (int i = r->k - 2; i >= 0; i--) merkle_node_hash(r->h[i], acc, acc);
  memcpy(out, acc, 32);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("audit: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  return 1;
}

/* Checks every checkpoint's signature and body; fills cps (malloc'd). */
static int load_checkpoints(pg_conn *pg, const char *registry_id, cp **out, size_t *n_out) {
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT c.tree_size, c.root, c.note, c.key_id, k.name, k.public_key "
                    "FROM log_checkpoints c LEFT JOIN signing_keys k "
                    "ON k.purpose = 3 AND k.key_id = c.key_id ORDER BY c.tree_size",
                    NULL, &r);
  if (rv != 0) return -rv;
  int n = PQntuples(r);
  cp *cps = calloc((size_t)n + 1, sizeof(*cps));
  int bad = 0;
  for (int i = 0; cps && i < n && !bad; i++) {
    uint64_t size = (uint64_t)pg_int(r, i, 0);
    uint8_t pk[32], root[32], body_root[32];
    char vkey[512], origin[300];
    uint64_t body_size = 0;
    const char *note = pg_val(r, i, 2), *text_end = NULL;
    if (!pg_val(r, i, 4) || pg_bytea(r, i, 5, pk, 32) != 32) {
      bad = fail("checkpoint at size %" PRIu64 ": its key is not a LOG key", size);
      continue;
    }
    if (pg_bytea(r, i, 1, root, 32) != 32 ||
        sig_vkey(pg_val(r, i, 4), pk, vkey, sizeof(vkey)) != 0 ||
        note_verify(vkey, note, strlen(note), &text_end) != 0 ||
        tlog_checkpoint_parse(note, (size_t)(text_end - note), origin, sizeof(origin), &body_size,
                              body_root) != 0 ||
        body_size != size || sodium_memcmp(body_root, root, 32) != 0 ||
        strcmp(origin, registry_id) != 0) {
      bad = fail("checkpoint at size %" PRIu64 ": signature or body does not verify", size);
      continue;
    }
    cps[i].size = size;
    memcpy(cps[i].root, root, 32);
  }
  PQclear(r);
  if (!cps) return -REG_ENOMEM;
  if (bad) {
    free(cps);
    return 1;
  }
  *out = cps;
  *n_out = (size_t)n;
  return 0;
}

int log_audit(pg_conn *pg, const char *registry_id, uint64_t *leaves, size_t *checkpoints) {
  cp *cps = NULL;
  size_t n_cps = 0;
  range *rg = calloc(1, sizeof(*rg));
  uint8_t *tile = malloc((size_t)TILE_WIDTH * 32);
  int64_t tile_idx = -1;
  int tile_w = 0, rc = 0;
  if (!rg || !tile) {
    rc = -REG_ENOMEM;
    goto out;
  }
  int rv = pg_tx_begin(pg, 0);
  if (rv == 0) rv = pg_query(pg, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, NULL);
  if (rv != 0) {
    rc = -rv;
    goto out;
  }
  if ((rc = load_checkpoints(pg, registry_id, &cps, &n_cps)) != 0) goto done;

  PGresult *r = NULL;
  if ((rv = pg_query(pg, "SELECT tree_size FROM log_state", NULL, &r)) != 0) {
    rc = -rv;
    goto done;
  }
  uint64_t size = (uint64_t)pg_int(r, 0, 0);
  PQclear(r);
  if (n_cps && cps[n_cps - 1].size > size) {
    rc = fail("checkpoint at size %" PRIu64 " is beyond the tree's size %" PRIu64,
              cps[n_cps - 1].size, size);
    goto done;
  }
  if ((rv = pg_query(pg,
                     "DECLARE audit_events NO SCROLL CURSOR FOR SELECT l.log_index, e.leaf "
                     "FROM log_entries l JOIN events e ON e.id = l.event_row ORDER BY l.log_index",
                     NULL, NULL)) != 0) {
    rc = -rv;
    goto done;
  }
  size_t next_cp = 0;
  for (;;) {
    if ((rv = pg_query(pg, "FETCH 10000 FROM audit_events", NULL, &r)) != 0) {
      rc = -rv;
      goto done;
    }
    int rows = PQntuples(r);
    for (int i = 0; i < rows && !rc; i++) {
      uint64_t idx = (uint64_t)pg_int(r, i, 0);
      if (idx != rg->n) {
        rc = fail("index %" PRIu64 ": missing (the event row was deleted)", rg->n);
        break;
      }
      size_t len = (size_t)PQgetlength(r, i, 1);
      uint8_t *leaf = malloc(len + 1), h[32];
      long got = leaf ? pg_bytea(r, i, 1, leaf, len + 1) : -1;
      if (got < 0) {
        free(leaf);
        rc = -REG_ENOMEM;
        break;
      }
      merkle_leaf_hash(leaf, (size_t)got, h);
      free(leaf);
      /* the leaf hash the log stored for this index */
      if ((int64_t)(idx / TILE_WIDTH) != tile_idx) {
        PGresult *t = NULL;
        pg_params p;
        pg_params_init(&p);
        pg_params_int(&p, (int64_t)(idx / TILE_WIDTH));
        if ((rv = pg_query(pg, "SELECT hashes FROM log_tiles WHERE level = 0 AND idx = $1", &p, &t)) != 0) {
          rc = -rv;
          break;
        }
        long w = PQntuples(t) == 1 ? pg_bytea(t, 0, 0, tile, (size_t)TILE_WIDTH * 32) : -1;
        PQclear(t);
        tile_idx = (int64_t)(idx / TILE_WIDTH);
        tile_w = w > 0 ? (int)(w / 32) : 0;
      }
      int at = (int)(idx % TILE_WIDTH);
      if (at >= tile_w || sodium_memcmp(tile + (size_t)at * 32, h, 32) != 0) {
        rc = fail("index %" PRIu64 ": the event row differs from the logged leaf", idx);
        break;
      }
      range_push(rg, h);
      while (next_cp < n_cps && cps[next_cp].size == rg->n) {
        uint8_t root[32];
        range_root(rg, root);
        if (sodium_memcmp(root, cps[next_cp].root, 32) != 0) {
          uint64_t lo = next_cp ? cps[next_cp - 1].size : 0;
          rc = fail("the events disagree with the checkpoint at size %" PRIu64
                    " (a change between index %" PRIu64 " and it)",
                    cps[next_cp].size, lo);
          break;
        }
        next_cp++;
      }
    }
    PQclear(r);
    if (rc || rows < FETCH) break;
  }
  if (!rc && rg->n < size) rc = fail("index %" PRIu64 ": missing (the event row was deleted)", rg->n);
  if (!rc && rg->n > size)
    rc = fail("index %" PRIu64 ": sequenced beyond the tree's size %" PRIu64, size, size);
  /* 5. every event row is in the log or still queued for it */
  if (!rc && (rv = pg_query(pg,
                            "SELECT e.event_id FROM events e WHERE NOT EXISTS "
                            "(SELECT 1 FROM log_entries l WHERE l.event_row = e.id) AND NOT EXISTS "
                            "(SELECT 1 FROM events_pending q WHERE q.id = e.id) ORDER BY e.id LIMIT 1",
                            NULL, &r)) != 0)
    rc = -rv;
  else if (!rc) {
    if (PQntuples(r) > 0)
      rc = fail("event %s: neither in the log nor queued for it (taken off the queue)",
                pg_val(r, 0, 0));
    PQclear(r);
  }
done:
  pg_tx_rollback(pg);
  if (rc == 0) {
    if (leaves) *leaves = rg->n;
    if (checkpoints) *checkpoints = n_cps;
  }
out:
  free(cps);
  free(rg);
  free(tile);
  return rc;
}
