/*
 * The log's SQL (log.h): the state row, checkpoints, signing keys, entries
 * and the tile reader that proofs are made from.
 *
 * Proofs read stored hashes, never leaves: each hash a proof needs comes
 * from one tile row (crypto/tile.h), and the reader keeps the tiles it read
 * for the rest of the call, so a proof in a tree of 100M leaves reads a
 * handful of rows (O(log n) hashes, ≤ 2 tiles per tile level).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "crypto/merkle.h"
#include "crypto/sig.h"
#include "crypto/tile.h"
#include "services/core/pbtime.h"
#include "services/log/log.h"

/* ---- the tile reader ---- */

void log_tiles_init(log_tiles *t, pg_conn *pg) {
  t->pg = pg;
  t->n = 0;
  t->next = 0;
}

static int cache_find(log_tiles *t, int level, uint64_t index) {
  for (int i = 0; i < t->n; i++)
    if (t->cache[i].level == level && t->cache[i].index == index) return i;
  return -1;
}

/* The slot for (level, index): the cached one, or the next slot round-robin. */
static int cache_slot(log_tiles *t, int level, uint64_t index) {
  int i = cache_find(t, level, index);
  if (i >= 0) return i;
  if (t->n < LOG_TILE_CACHE) i = t->n++;
  else {
    i = t->next;
    t->next = (t->next + 1) % LOG_TILE_CACHE;
  }
  t->cache[i].level = level;
  t->cache[i].index = index;
  t->cache[i].width = 0;
  return i;
}

/* Loads tile (level, index) into the cache → its slot (width 0: no row). */
static int tile_load(log_tiles *t, int level, uint64_t index, int *slot) {
  int i = cache_find(t, level, index);
  if (i >= 0) {
    *slot = i;
    return 0;
  }
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, level);
  pg_params_int(&p, (int64_t)index);
  PGresult *r = NULL;
  int rv = pg_query(t->pg, "SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2", &p, &r);
  if (rv != 0) return rv;
  i = cache_slot(t, level, index);
  if (PQntuples(r) == 1) {
    long n = pg_bytea(r, 0, 0, t->cache[i].hashes, sizeof(t->cache[i].hashes));
    if (n <= 0 || n % 32) {
      t->cache[i].level = -1; /* never matches again */
      rv = REG_EIO;
    } else {
      t->cache[i].width = (int)(n / 32);
    }
  }
  PQclear(r);
  if (rv == 0) *slot = i;
  return rv;
}

int log_tiles_hash(void *ctx, int level, uint64_t index, uint8_t out[32]) {
  log_tiles *t = ctx;
  int tl, first, count, slot = 0;
  uint64_t ti;
  tile_locate(level, index, &tl, &ti, &first, &count);
  int rv = tile_load(t, tl, ti, &slot);
  if (rv != 0) return rv;
  rv = tile_subtree_hash(t->cache[slot].hashes, t->cache[slot].width, level, index, out);
  return rv == REG_ERANGE ? REG_ENOTFOUND : rv;
}

int log_tiles_get(void *ctx, int tile_level, uint64_t tile_index, uint8_t *out, int *width) {
  log_tiles *t = ctx;
  int slot = 0;
  int rv = tile_load(t, tile_level, tile_index, &slot);
  if (rv != 0) return rv;
  memcpy(out, t->cache[slot].hashes, (size_t)t->cache[slot].width * 32);
  *width = t->cache[slot].width;
  return 0;
}

int log_tiles_put(void *ctx, int tile_level, uint64_t tile_index, const uint8_t *hashes,
                  int width) {
  log_tiles *t = ctx;
  if (width < 1 || width > TILE_WIDTH) return REG_EINVAL;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, tile_level);
  pg_params_int(&p, (int64_t)tile_index);
  pg_params_bytea(&p, hashes, (size_t)width * 32);
  PGresult *r = NULL;
  /* a tile only grows: the stored hashes must be a prefix of the new ones */
  int rv = pg_query(t->pg,
                    "INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3) "
                    "ON CONFLICT (level, idx) DO UPDATE SET hashes = EXCLUDED.hashes "
                    "WHERE length(log_tiles.hashes) <= length(EXCLUDED.hashes) "
                    "  AND substring(EXCLUDED.hashes FROM 1 FOR length(log_tiles.hashes)) "
                    "      = log_tiles.hashes",
                    &p, &r);
  if (rv != 0) return rv;
  int changed = strcmp(PQcmdTuples(r), "1") == 0;
  PQclear(r);
  if (!changed) return REG_EIO; /* a stored tile disagrees: never overwrite it */
  int i = cache_slot(t, tile_level, tile_index);
  memcpy(t->cache[i].hashes, hashes, (size_t)width * 32);
  t->cache[i].width = width;
  return 0;
}

/* ---- state, checkpoints, keys ---- */

int log_store_state(pg_conn *pg, uint64_t *size, uint8_t root[32]) {
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT tree_size, root FROM log_state WHERE id", NULL, &r);
  if (rv != 0) return rv;
  uint8_t h[32];
  if (PQntuples(r) != 1 || pg_bytea(r, 0, 1, h, 32) != 32) rv = REG_EIO;
  else {
    *size = (uint64_t)pg_int(r, 0, 0);
    if (root) memcpy(root, h, 32);
  }
  PQclear(r);
  return rv;
}

int log_store_checkpoint_size(pg_conn *pg, int64_t *size) {
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT coalesce(max(tree_size), 0) FROM log_checkpoints", NULL, &r);
  if (rv != 0) return rv;
  *size = pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

/* vkey of (name, pk) in the arena; "" when the name is not a valid key name. */
static char *vkey_of(arena *a, const char *name, const uint8_t pk[32]) {
  size_t cap = strlen(name) + 55;
  char *v = arena_alloc(a, cap);
  if (!v) return NULL;
  if (sig_vkey(name, pk, v, cap) != 0) v[0] = 0;
  return v;
}

int log_store_checkpoint_latest(pg_conn *pg, arena *a, log_checkpoint *out) {
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT c.tree_size, c.root, c.signature, c.key_id, "
                    "  (extract(epoch FROM c.created_at) * 1e6)::int8, c.note, k.name, "
                    "  k.public_key "
                    "FROM log_checkpoints c LEFT JOIN signing_keys k "
                    "  ON k.purpose = 3 AND k.key_id = c.key_id "
                    "ORDER BY c.tree_size DESC LIMIT 1",
                    NULL, &r);
  if (rv != 0) return rv;
  log_checkpoint c;
  memset(&c, 0, sizeof(c));
  uint8_t pk[32];
  if (PQntuples(r) != 1) {
    rv = REG_ENOTFOUND;
    goto out;
  }
  c.tree_size = pg_int(r, 0, 0);
  if (pg_bytea(r, 0, 1, c.root, 32) != 32 || pg_bytea(r, 0, 2, c.signature, 64) != 64 ||
      strlen(pg_val(r, 0, 3)) != 8) {
    rv = REG_EIO;
    goto out;
  }
  memcpy(c.key_id, pg_val(r, 0, 3), 9);
  c.created_us = pg_int(r, 0, 4);
  c.note = arena_strdup(a, pg_val(r, 0, 5));
  if (pg_val(r, 0, 6) && pg_bytea(r, 0, 7, pk, 32) == 32) c.vkey = vkey_of(a, pg_val(r, 0, 6), pk);
  else c.vkey = arena_strdup(a, "");
  if (!c.note || !c.vkey) {
    rv = REG_ENOMEM;
    goto out;
  }
  *out = c;
out:
  PQclear(r);
  return rv;
}


int log_store_keys(pg_conn *pg, arena *a, Registry__V1__SigningKey ***out, size_t *n) {
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT purpose, key_id, name, public_key, "
                    "  (extract(epoch FROM valid_from) * 1e6)::int8, "
                    "  (extract(epoch FROM valid_until) * 1e6)::int8 "
                    "FROM signing_keys ORDER BY purpose, valid_from, key_id",
                    NULL, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  Registry__V1__SigningKey **keys = arena_calloc(a, rows ? rows : 1, sizeof(*keys));
  if (!keys) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < rows; i++) {
    Registry__V1__SigningKey *k = arena_alloc(a, sizeof(*k));
    ProtobufCBinaryData pk = {32, arena_alloc(a, 32)};
    if (!k || !pk.data) {
      rv = REG_ENOMEM;
      break;
    }
    registry__v1__signing_key__init(k);
    if (pg_bytea(r, (int)i, 3, pk.data, 32) != 32) {
      rv = REG_EIO;
      break;
    }
    k->purpose = (Registry__V1__KeyPurpose)pg_int(r, (int)i, 0);
    k->key_id = arena_strdup(a, pg_val(r, (int)i, 1));
    k->name = arena_strdup(a, pg_val(r, (int)i, 2));
    k->public_key = pk;
    k->valid_from = pbtime_new(a, pg_int(r, (int)i, 4));
    if (pg_val(r, (int)i, 5)) k->valid_until = pbtime_new(a, pg_int(r, (int)i, 5));
    k->vkey = vkey_of(a, pg_val(r, (int)i, 2), pk.data);
    if (!k->key_id || !k->name || !k->valid_from || !k->vkey ||
        (pg_val(r, (int)i, 5) && !k->valid_until)) {
      rv = REG_ENOMEM;
      break;
    }
    keys[i] = k;
  }
  PQclear(r);
  if (rv != 0) return rv;
  *out = keys;
  *n = rows;
  return 0;
}

/* ---- lookups and entries ---- */

int log_store_index_by_hash(pg_conn *pg, const uint8_t leaf_hash[32], uint64_t *index) {
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, leaf_hash, 32);
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT min(log_index) FROM log_entries WHERE leaf_hash = $1", &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1 || !pg_val(r, 0, 0)) rv = REG_ENOTFOUND;
  else *index = (uint64_t)pg_int(r, 0, 0);
  PQclear(r);
  return rv;
}

int log_store_index_by_event(pg_conn *pg, const char *event_id, int64_t *index) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, event_id);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT l.log_index FROM events e LEFT JOIN log_entries l ON l.event_row = e.id "
                    "WHERE e.event_id = $1",
                    &p, &r);
  if (rv != 0) return rv;
  if (PQntuples(r) != 1) rv = REG_ENOTFOUND;
  else *index = pg_val(r, 0, 0) ? pg_int(r, 0, 0) : -1;
  PQclear(r);
  return rv;
}

int log_store_entries(pg_conn *pg, arena *a, uint64_t start, uint64_t end,
                      Registry__V1__LogEntry ***out, size_t *n) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, (int64_t)start);
  pg_params_int(&p, (int64_t)end);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT l.log_index, e.leaf FROM log_entries l JOIN events e ON e.id = l.event_row "
                    "WHERE l.log_index >= $1 AND l.log_index < $2 ORDER BY l.log_index",
                    &p, &r);
  if (rv != 0) return rv;
  size_t rows = (size_t)PQntuples(r);
  /* indices are contiguous: a short read means the tree and the table disagree */
  if (rows != end - start) rv = REG_EIO;
  Registry__V1__LogEntry **es = arena_calloc(a, rows ? rows : 1, sizeof(*es));
  if (rv == 0 && !es) rv = REG_ENOMEM;
  for (size_t i = 0; rv == 0 && i < rows; i++) {
    Registry__V1__LogEntry *e = arena_alloc(a, sizeof(*e));
    size_t cap = (size_t)PQgetlength(r, (int)i, 1) / 2;
    uint8_t *leaf = arena_alloc(a, cap ? cap : 1), *h = arena_alloc(a, 32);
    if (!e || !leaf || !h) {
      rv = REG_ENOMEM;
      break;
    }
    registry__v1__log_entry__init(e);
    long len = pg_bytea(r, (int)i, 1, leaf, cap);
    if (len < 0) {
      rv = REG_EIO;
      break;
    }
    e->log_index = pg_int(r, (int)i, 0);
    e->leaf.data = leaf;
    e->leaf.len = (size_t)len;
    merkle_leaf_hash(leaf, (size_t)len, h);
    e->leaf_hash.data = h;
    e->leaf_hash.len = 32;
    es[i] = e;
  }
  PQclear(r);
  if (rv != 0) return rv;
  *out = es;
  *n = rows;
  return 0;
}

/* ---- proofs ---- */

static int hashes_out(arena *a, uint8_t (*h)[32], size_t n, ProtobufCBinaryData **out,
                      size_t *count) {
  ProtobufCBinaryData *b = arena_calloc(a, n ? n : 1, sizeof(*b));
  uint8_t *buf = arena_alloc(a, n ? n * 32 : 1);
  if (!b || !buf) return REG_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    memcpy(buf + 32 * i, h[i], 32);
    b[i].data = buf + 32 * i;
    b[i].len = 32;
  }
  *out = b;
  *count = n;
  return 0;
}

/* An inclusion (index, size) or consistency (first, second) proof read
 * from the tiles. */
static int proof(pg_conn *pg, arena *a, int consistency, uint64_t x, uint64_t y,
                 ProtobufCBinaryData **out, size_t *n) {
  log_tiles *t = arena_alloc(a, sizeof(*t));
  if (!t) return REG_ENOMEM;
  log_tiles_init(t, pg);
  uint8_t h[MERKLE_MAX_PROOF][32];
  size_t k = 0;
  int rv = consistency
               ? merkle_consistency_proof(log_tiles_hash, t, x, y, h, MERKLE_MAX_PROOF, &k)
               : merkle_inclusion_proof(log_tiles_hash, t, x, y, h, MERKLE_MAX_PROOF, &k);
  if (rv != 0) return rv;
  return hashes_out(a, h, k, out, n);
}

int log_store_inclusion(pg_conn *pg, arena *a, uint64_t index, uint64_t size,
                        ProtobufCBinaryData **out, size_t *n) {
  return proof(pg, a, 0, index, size, out, n);
}

int log_store_consistency(pg_conn *pg, arena *a, uint64_t first, uint64_t second,
                          ProtobufCBinaryData **out, size_t *n) {
  return proof(pg, a, 1, first, second, out, n);
}
