/*
 * Unit tests of crypto/tile.c: tile arithmetic at the edges (255, 256, 257,
 * 65,536 and 65,537 leaves), hashes read out of tiles, appending one leaf
 * at a time and in batches (the same tiles either way, each changed tile
 * put once per call, lowest level first), roots from tiles against the
 * RFC 9162 definition for every size up to 2,000 and at the edges, and
 * proofs made from tiles around the edges verified against direct roots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/merkle.h"
#include "crypto/tile.h"
#include "tile_mem.h"

#define NLEAVES 70000
#define MAXP MERKLE_MAX_PROOF

typedef struct fx {
  uint8_t (*leaves)[32];
  tile_mem one; /* NLEAVES appended one at a time */
  level_mem lm; /* every complete subtree of NLEAVES */
} fx;

static int setup(void **state) {
  static fx f;

  memset(&f, 0, sizeof(f));
  f.leaves = malloc((size_t)NLEAVES * 32);
  if (!f.leaves) return -1;
  for (uint64_t i = 0; i < NLEAVES; i++) {
    uint8_t raw[8];
    for (int b = 0; b < 8; b++) raw[b] = (uint8_t)(i >> (8 * b));
    merkle_leaf_hash(raw, sizeof(raw), f.leaves[i]);
  }
  for (uint64_t i = 0; i < NLEAVES; i++) {
    tm_begin(&f.one);
    if (tile_append(tm_get, tm_put, &f.one, i, (const uint8_t(*)[32])f.leaves + i, 1) != 0)
      return -1;
  }
  if (f.one.order_errors != 0) return -1;
  if (lm_build(&f.lm, (const uint8_t(*)[32])f.leaves, NLEAVES) != 0) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tm_clear(&f->one);
  lm_clear(&f->lm);
  free(f->leaves);
  return 0;
}

static void test_locate(void **state) {
  static const struct {
    int level;
    uint64_t index;
    int tl;
    uint64_t ti;
    int first, count;
  } cases[] = {
      {0, 0, 0, 0, 0, 1},         {0, 255, 0, 0, 255, 1},     {0, 256, 0, 1, 0, 1},
      {0, 257, 0, 1, 1, 1},       {0, 65535, 0, 255, 255, 1}, {0, 65536, 0, 256, 0, 1},
      {1, 127, 0, 0, 254, 2},     {1, 128, 0, 1, 0, 2},       {3, 5, 0, 0, 40, 8},
      {7, 0, 0, 0, 0, 128},       {7, 1, 0, 0, 128, 128},     {7, 2, 0, 1, 0, 128},
      {7, 511, 0, 255, 128, 128}, {8, 0, 1, 0, 0, 1},         {8, 255, 1, 0, 255, 1},
      {8, 256, 1, 1, 0, 1},       {9, 1, 1, 0, 2, 2},         {15, 1, 1, 0, 128, 128},
      {16, 0, 2, 0, 0, 1},        {16, 1, 2, 0, 1, 1},        {17, 0, 2, 0, 0, 2},
      {63, 1, 7, 0, 128, 128},    {56, 255, 7, 0, 255, 1},
  };
  (void)state;

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int tl = -1, first = -1, count = -1;
    uint64_t ti = 99;
    tile_locate(cases[i].level, cases[i].index, &tl, &ti, &first, &count);
    if (tl != cases[i].tl || ti != cases[i].ti || first != cases[i].first ||
        count != cases[i].count)
      fail_msg("tile_locate(%d, %llu) = (%d, %llu, %d, %d), want (%d, %llu, %d, %d)",
               cases[i].level, (unsigned long long)cases[i].index, tl, (unsigned long long)ti,
               first, count, cases[i].tl, (unsigned long long)cases[i].ti, cases[i].first,
               cases[i].count);
  }
}

static void test_width(void **state) {
  static const struct {
    uint64_t size;
    int tl;
    uint64_t ti;
    int width;
  } cases[] = {
      {0, 0, 0, 0},
      {1, 0, 0, 1},
      {1, 1, 0, 0},
      {255, 0, 0, 255},
      {255, 0, 1, 0},
      {255, 1, 0, 0},
      {256, 0, 0, 256},
      {256, 0, 1, 0},
      {256, 1, 0, 1},
      {256, 2, 0, 0},
      {257, 0, 0, 256},
      {257, 0, 1, 1},
      {257, 1, 0, 1},
      {257, 1, 1, 0},
      {511, 0, 1, 255},
      {511, 1, 0, 1},
      {512, 1, 0, 2},
      {65535, 0, 255, 255},
      {65535, 1, 0, 255},
      {65535, 2, 0, 0},
      {65536, 0, 255, 256},
      {65536, 0, 256, 0},
      {65536, 1, 0, 256},
      {65536, 1, 1, 0},
      {65536, 2, 0, 1},
      {65536, 3, 0, 0},
      {65537, 0, 256, 1},
      {65537, 0, 257, 0},
      {65537, 1, 0, 256},
      {65537, 1, 1, 0},
      {65537, 2, 0, 1},
      {65792, 1, 1, 1},
      {UINT64_MAX, 7, 0, 255},
      {UINT64_MAX, 0, UINT64_MAX >> 8, 255},
      {UINT64_MAX, 8, 0, 0},
      {UINT64_MAX, -1, 0, 0},
      {1000, 0, UINT64_MAX, 0},
  };
  (void)state;

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int w = tile_width(cases[i].tl, cases[i].ti, cases[i].size);
    if (w != cases[i].width)
      fail_msg("tile_width(%d, %llu, %llu) = %d, want %d", cases[i].tl,
               (unsigned long long)cases[i].ti, (unsigned long long)cases[i].size, w,
               cases[i].width);
  }
}

/* The stored tiles of m are exactly those of a tree of `size` leaves:
 * every tile that should exist has tile_width hashes equal to the
 * complete-subtree hashes of lm. */
static void check_tiles(const tile_mem *m, const level_mem *lm, uint64_t size) {
  for (int tl = 0; tl < TM_LEVELS; tl++) {
    uint64_t count = 0;
    while (tile_width(tl, count, size) > 0) count++;
    assert_int_equal(m->count[tl], count);
    for (uint64_t ti = 0; ti < count; ti++) {
      int w = tile_width(tl, ti, size);
      const tm_tile *t = m->tiles[tl][ti];
      assert_non_null(t);
      assert_int_equal(t->width, w);
      for (int i = 0; i < w; i++)
        assert_memory_equal(t->h[i], lm->h[TILE_HEIGHT * tl][ti * TILE_WIDTH + (uint64_t)i], 32);
    }
  }
}

static void test_subtree_hash(void **state) {
  fx *f = *state;
  const tm_tile *t0 = f->one.tiles[0][1], *t1 = f->one.tiles[1][0];
  uint8_t out[32], keep[32];

  /* every hash of levels 0..7 in level-0 tile 1, of 8..15 in level-1 tile 0 */
  for (int level = 0; level < 8; level++)
    for (uint64_t j = 0; j < (uint64_t)(TILE_WIDTH >> level); j++) {
      uint64_t index = (TILE_WIDTH >> level) + j;
      assert_int_equal(tile_subtree_hash(&t0->h[0][0], TILE_WIDTH, level, index, out), 0);
      assert_memory_equal(out, f->lm.h[level][index], 32);
      if (8 + level < f->lm.levels && j < f->lm.count[8 + level]) {
        assert_int_equal(tile_subtree_hash(&t1->h[0][0], t1->width, 8 + level, j, out), 0);
        assert_memory_equal(out, f->lm.h[8 + level][j], 32);
      }
    }
  /* a tile too narrow for the hash asked */
  memset(out, 0x77, 32);
  memcpy(keep, out, 32);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 255, 0, 511, out), REG_ERANGE);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 255, 7, 3, out), REG_ERANGE);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 127, 7, 2, out), REG_ERANGE);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 0, 0, 256, out), REG_ERANGE);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 256, -1, 0, out), REG_EINVAL);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 257, 0, 0, out), REG_EINVAL);
  assert_memory_equal(out, keep, 32);
  assert_int_equal(tile_subtree_hash(&t0->h[0][0], 128, 7, 2, out), 0);
  assert_memory_equal(out, f->lm.h[7][2], 32);
}

/* One leaf at a time up to 2,000: after each, the tiles are those of the
 * tree and the root from tiles is the root by definition. */
static void test_root_sweep(void **state) {
  fx *f = *state;
  tile_mem m;
  uint8_t got[32], want[32];

  memset(&m, 0, sizeof(m));
  for (uint64_t size = 1; size <= 2000; size++) {
    tm_begin(&m);
    assert_int_equal(
        tile_append(tm_get, tm_put, &m, size - 1, (const uint8_t(*)[32])f->leaves + size - 1, 1),
        0);
    assert_int_equal(merkle_root(tm_hash, &m, size, got), 0);
    mth_direct((const uint8_t(*)[32])f->leaves, size, want);
    assert_memory_equal(got, want, 32);
    if (size % 97 == 0 || size % 256 <= 1 || size % 256 == 255) check_tiles(&m, &f->lm, size);
  }
  assert_int_equal(m.order_errors, 0);
  tm_clear(&m);
}

/* The edge sizes: the tiles a single append of `size` leaves makes, and
 * the root from them. */
static void test_edges(void **state) {
  static const uint64_t sizes[] = {1, 2, 255, 256, 257, 511, 512, 513, 65535, 65536, 65537};
  fx *f = *state;
  uint8_t got[32], want[32];

  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    tile_mem m;
    memset(&m, 0, sizeof(m));
    tm_begin(&m);
    assert_int_equal(tile_append(tm_get, tm_put, &m, 0, (const uint8_t(*)[32])f->leaves, sizes[i]),
                     0);
    assert_int_equal(m.order_errors, 0);
    assert_int_equal(m.gets, 0); /* nothing to read back from an empty tree */
    check_tiles(&m, &f->lm, sizes[i]);
    assert_int_equal(merkle_root(tm_hash, &m, sizes[i], got), 0);
    mth_direct((const uint8_t(*)[32])f->leaves, sizes[i], want);
    assert_memory_equal(got, want, 32);
    assert_int_equal(merkle_root(tm_hash, &f->one, sizes[i], got), 0);
    assert_memory_equal(got, want, 32);
    /* then across the next edge in one call of two leaves */
    tm_begin(&m);
    assert_int_equal(
        tile_append(tm_get, tm_put, &m, sizes[i], (const uint8_t(*)[32])f->leaves + sizes[i], 2),
        0);
    assert_int_equal(m.order_errors, 0);
    check_tiles(&m, &f->lm, sizes[i] + 2);
    tm_clear(&m);
  }
  /* the edge tiles themselves */
  assert_int_equal(f->one.tiles[0][255]->width, 256);
  assert_int_equal(f->one.tiles[1][0]->width, 256);
  assert_int_equal(f->one.count[2], 1);
  assert_int_equal(f->one.tiles[2][0]->width, 1);
  assert_memory_equal(f->one.tiles[2][0]->h[0], f->lm.h[16][0], 32);
}

/* Batches of 1, 7, 255, 256 and 300 leaves in turn make the same tiles as
 * one leaf at a time, each changed tile put once per call. */
static void test_batches(void **state) {
  static const size_t batch[] = {1, 7, 255, 256, 300, 1, 300, 256, 255, 7};
  fx *f = *state;
  tile_mem m;
  uint64_t size = 0;
  size_t k = 0;

  memset(&m, 0, sizeof(m));
  while (size < NLEAVES) {
    size_t n = batch[k++ % (sizeof(batch) / sizeof(batch[0]))];
    size_t puts = m.puts, gets = m.gets;
    uint64_t changed = 0;
    if (n > NLEAVES - size) n = (size_t)(NLEAVES - size);
    tm_begin(&m);
    assert_int_equal(
        tile_append(tm_get, tm_put, &m, size, (const uint8_t(*)[32])f->leaves + size, n), 0);
    /* the tiles that changed: at each level, from the one holding the
     * first new hash to the one holding the last */
    for (int tl = 0; tl < TM_LEVELS; tl++) {
      uint64_t lo = size >> (8 * tl), hi = (size + n) >> (8 * tl);
      if (lo == hi) break;
      changed += (hi - 1) / 256 - lo / 256 + 1;
    }
    assert_int_equal(m.puts - puts, changed);
    assert_true(m.gets - gets <= changed); /* only partial edge tiles are read */
    size += n;
  }
  assert_int_equal(m.order_errors, 0);
  check_tiles(&m, &f->lm, NLEAVES);
  check_tiles(&f->one, &f->lm, NLEAVES);
  tm_clear(&m);
}

/* Proofs from tiles at sizes around the edges: equal to those from the
 * complete-subtree store, and verified against the direct roots. */
static void test_edge_proofs(void **state) {
  static const uint64_t sizes[] = {1,   2,   3,    255,   256,   257,   511,
                                   512, 513, 1000, 65535, 65536, 65537, NLEAVES};
  static const uint64_t idx[] = {0,   1,   2,   127,   128,   254,   255,   256,  257,
                                 511, 512, 999, 32768, 65534, 65535, 65536, 65537};
  enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
  fx *f = *state;
  uint8_t roots[NS][32], a[MAXP][32], b[MAXP][32], got[32];
  (void)state;

  for (size_t i = 0; i < NS; i++) {
    mth_direct((const uint8_t(*)[32])f->leaves, sizes[i], roots[i]);
    assert_int_equal(merkle_root(tm_hash, &f->one, sizes[i], got), 0);
    assert_memory_equal(got, roots[i], 32);
  }
  for (size_t i = 0; i < NS; i++) {
    uint64_t size = sizes[i];
    for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]) + 3; j++) {
      uint64_t index = j < sizeof(idx) / sizeof(idx[0])        ? idx[j]
                       : j == sizeof(idx) / sizeof(idx[0])     ? size / 2
                       : j == sizeof(idx) / sizeof(idx[0]) + 1 ? size - 2
                                                               : size - 1;
      size_t na = 0, nb = 0;
      if (index >= size) continue;
      assert_int_equal(merkle_inclusion_proof(tm_hash, &f->one, index, size, a, MAXP, &na), 0);
      assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, index, size, b, MAXP, &nb), 0);
      assert_int_equal(na, nb);
      if (na) assert_memory_equal(a, b, na * 32);
      assert_int_equal(merkle_verify_inclusion(index, size, f->leaves[index],
                                               (const uint8_t(*)[32])a, na, roots[i]),
                       0);
      a[0][0] ^= (na > 0);
      if (na > 0)
        assert_int_equal(merkle_verify_inclusion(index, size, f->leaves[index],
                                                 (const uint8_t(*)[32])a, na, roots[i]),
                         REG_ECRYPTO);
    }
    for (size_t k = 0; k <= i; k++) {
      size_t na = 0, nb = 0;
      assert_int_equal(merkle_consistency_proof(tm_hash, &f->one, sizes[k], size, a, MAXP, &na), 0);
      assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, sizes[k], size, b, MAXP, &nb), 0);
      assert_int_equal(na, nb);
      if (na) assert_memory_equal(a, b, na * 32);
      assert_int_equal(merkle_verify_consistency(sizes[k], size, roots[k], roots[i],
                                                 (const uint8_t(*)[32])a, na),
                       0);
      if (na > 0) {
        a[na - 1][3] ^= 0x10;
        assert_int_equal(merkle_verify_consistency(sizes[k], size, roots[k], roots[i],
                                                   (const uint8_t(*)[32])a, na),
                         REG_ECRYPTO);
      }
    }
  }
}

static void test_append_refusals(void **state) {
  fx *f = *state;
  tile_mem m;

  memset(&m, 0, sizeof(m));
  tm_begin(&m);
  assert_int_equal(tile_append(tm_get, tm_put, &m, 0, (const uint8_t(*)[32])f->leaves, 300), 0);
  /* nothing to append: no call at all */
  assert_int_equal(tile_append(tm_get, tm_put, &m, 300, (const uint8_t(*)[32])f->leaves, 0), 0);
  assert_int_equal(m.puts, 3);
  /* the store's edge tile disagrees with old_size */
  tm_begin(&m);
  assert_int_equal(tile_append(tm_get, tm_put, &m, 299, (const uint8_t(*)[32])f->leaves + 299, 1),
                   REG_EIO);
  m.bad_width = 1;
  tm_begin(&m);
  assert_int_equal(tile_append(tm_get, tm_put, &m, 300, (const uint8_t(*)[32])f->leaves + 300, 1),
                   REG_EIO);
  m.bad_width = 0;
  /* the store's errors pass through */
  m.fail_get = REG_EUNAVAIL;
  tm_begin(&m);
  assert_int_equal(tile_append(tm_get, tm_put, &m, 300, (const uint8_t(*)[32])f->leaves + 300, 1),
                   REG_EUNAVAIL);
  m.fail_get = 0;
  m.fail_put = REG_ECONFLICT;
  tm_begin(&m);
  assert_int_equal(tile_append(tm_get, tm_put, &m, 300, (const uint8_t(*)[32])f->leaves + 300, 600),
                   REG_ECONFLICT);
  m.fail_put = 0;
  /* sizes past 2^64 − 1 */
  assert_int_equal(tile_append(tm_get, tm_put, &m, UINT64_MAX, (const uint8_t(*)[32])f->leaves, 1),
                   REG_ERANGE);
  assert_int_equal(tile_append(NULL, tm_put, &m, 0, (const uint8_t(*)[32])f->leaves, 1),
                   REG_EINVAL);
  tm_clear(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_locate),       cmocka_unit_test(test_width),
      cmocka_unit_test(test_subtree_hash), cmocka_unit_test(test_root_sweep),
      cmocka_unit_test(test_edges),        cmocka_unit_test(test_batches),
      cmocka_unit_test(test_edge_proofs),  cmocka_unit_test(test_append_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
