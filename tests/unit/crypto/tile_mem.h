/*
 * Test helper (header only, included by test_merkle.c and test_tile.c): an
 * in-memory tile store for tile_append, a merkle_hash_fn reader over it
 * built on tile_locate + tile_subtree_hash, and an in-memory store of all
 * complete-subtree hashes built straight from the leaf hashes. The tile
 * store also checks tile_append's promise: each changed tile put once per
 * call, lowest tile level first.
 */
#ifndef REG_TEST_TILE_MEM_H
#define REG_TEST_TILE_MEM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/merkle.h"
#include "crypto/tile.h"

#define TM_LEVELS 8

typedef struct tm_tile {
  uint8_t h[TILE_WIDTH][32];
  int width;
  unsigned put_call; /* the call that last put it */
} tm_tile;

typedef struct tile_mem {
  tm_tile **tiles[TM_LEVELS];
  size_t count[TM_LEVELS];
  unsigned call;    /* bumped by tm_begin before each tile_append */
  int last_level;   /* level of the last put in this call */
  int order_errors; /* puts out of level order, or twice in one call */
  int fail_get;     /* error for get to return, 0 for none */
  int fail_put;
  int bad_width; /* get reports width + this */
  size_t gets, puts;
} tile_mem;

static inline void tm_begin(tile_mem *m) {
  m->call++;
  m->last_level = -1;
}

static inline void tm_clear(tile_mem *m) {
  for (int l = 0; l < TM_LEVELS; l++) {
    for (size_t i = 0; i < m->count[l]; i++) free(m->tiles[l][i]);
    free(m->tiles[l]);
  }
  memset(m, 0, sizeof(*m));
}

static inline int tm_get(void *ctx, int tl, uint64_t ti, uint8_t *out, int *width) {
  tile_mem *m = ctx;
  m->gets++;
  if (m->fail_get) return m->fail_get;
  if (tl < 0 || tl >= TM_LEVELS || ti >= m->count[tl] || !m->tiles[tl][ti]) return REG_ENOTFOUND;
  memcpy(out, m->tiles[tl][ti]->h, (size_t)m->tiles[tl][ti]->width * 32);
  *width = m->tiles[tl][ti]->width + m->bad_width;
  return 0;
}

static inline int tm_put(void *ctx, int tl, uint64_t ti, const uint8_t *hashes, int width) {
  tile_mem *m = ctx;
  tm_tile *t;
  m->puts++;
  if (m->fail_put) return m->fail_put;
  if (tl < 0 || tl >= TM_LEVELS || width < 1 || width > TILE_WIDTH) return REG_EINVAL;
  if (ti >= m->count[tl]) {
    size_t n = (size_t)ti + 1;
    tm_tile **grown = realloc(m->tiles[tl], n * sizeof(*grown));
    if (!grown) return REG_ENOMEM;
    for (size_t i = m->count[tl]; i < n; i++) grown[i] = NULL;
    m->tiles[tl] = grown;
    m->count[tl] = n;
  }
  t = m->tiles[tl][ti];
  if (!t) {
    t = calloc(1, sizeof(*t));
    if (!t) return REG_ENOMEM;
    m->tiles[tl][ti] = t;
  }
  if (tl < m->last_level || (t->put_call == m->call && m->call != 0)) m->order_errors++;
  m->last_level = tl;
  t->put_call = m->call;
  memcpy(t->h, hashes, (size_t)width * 32);
  t->width = width;
  return 0;
}

/* merkle_hash_fn over the tiles. */
static inline int tm_hash(void *ctx, int level, uint64_t index, uint8_t out[32]) {
  tile_mem *m = ctx;
  int tl, first, count;
  uint64_t ti;
  tile_locate(level, index, &tl, &ti, &first, &count);
  if (tl >= TM_LEVELS || ti >= m->count[tl] || !m->tiles[tl][ti]) return REG_ENOTFOUND;
  return tile_subtree_hash(&m->tiles[tl][ti]->h[0][0], m->tiles[tl][ti]->width, level, index, out);
}

/* Every complete-subtree hash of a tree, level by level. */
typedef struct level_mem {
  uint8_t (*h[64])[32];
  uint64_t count[64];
  int levels;
} level_mem;

static inline int lm_build(level_mem *m, const uint8_t (*leaves)[32], uint64_t n) {
  memset(m, 0, sizeof(*m));
  for (int l = 0; l < 64 && (n >> l) > 0; l++) {
    m->count[l] = n >> l;
    m->h[l] = malloc((size_t)m->count[l] * 32);
    if (!m->h[l]) return -1;
    m->levels = l + 1;
    for (uint64_t i = 0; i < m->count[l]; i++) {
      if (l == 0)
        memcpy(m->h[0][i], leaves[i], 32);
      else
        merkle_node_hash(m->h[l - 1][2 * i], m->h[l - 1][2 * i + 1], m->h[l][i]);
    }
  }
  return 0;
}

static inline void lm_clear(level_mem *m) {
  for (int l = 0; l < m->levels; l++) free(m->h[l]);
  memset(m, 0, sizeof(*m));
}

/* merkle_hash_fn over the level arrays; only complete subtrees exist. */
static inline int lm_hash(void *ctx, int level, uint64_t index, uint8_t out[32]) {
  level_mem *m = ctx;
  if (level < 0 || level >= m->levels || index >= m->count[level]) return REG_ENOTFOUND;
  memcpy(out, m->h[level][index], 32);
  return 0;
}

/* RFC 9162 MTH straight from the definition, for n ≥ 1 leaf hashes. */
static inline void mth_direct(const uint8_t (*leaves)[32], uint64_t n, uint8_t out[32]) {
  uint8_t l[32], r[32];
  uint64_t k = 1;
  if (n == 1) {
    memcpy(out, leaves[0], 32);
    return;
  }
  while (k * 2 < n) k *= 2;
  mth_direct(leaves, k, l);
  mth_direct(leaves + k, n - k, r);
  merkle_node_hash(l, r, out);
}

#endif
