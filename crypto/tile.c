/*
 * Tiles: the log's stored Merkle hashes cut into rows of 256, as in
 * c2sp.org/tlog-tiles. Tile level T holds the hashes of tree level 8·T;
 * tile N of it holds indices [256·N, 256·N + 256). A hash at a level in
 * between is hashed up from at most 128 neighbouring entries of one tile,
 * so a reader needs one tile per hash it is asked for, and the whole tree
 * of n leaves is about n·(1 + 1/256 + …) stored hashes.
 *
 * Appending is level by level: the new leaf hashes fill level-0 tiles (the
 * partial right-edge tile is read back first); every tile that becomes
 * full yields one new hash of tree level 8, which fills level-1 tiles the
 * same way, and so on until a level gets nothing new. Each changed tile
 * is read at most once and written once per call, lowest level first.
 */
#include "crypto/tile.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/merkle.h"

#define HASH 32
/* Tile levels of a tree of up to 2^64 − 1 leaves (8·T < 64). */
#define MAX_TILE_LEVELS 8
/* New upper-level hashes kept on the stack before malloc is needed. */
#define STACK_HASHES 32

void tile_locate(int level, uint64_t index, int *tile_level, uint64_t *tile_index, int *first,
                 int *count) {
  int r = level % TILE_HEIGHT;

  *tile_level = level / TILE_HEIGHT;
  *tile_index = index >> (TILE_HEIGHT - r);
  *first = (int)((index << r) & (TILE_WIDTH - 1));
  *count = 1 << r;
}

int tile_width(int tile_level, uint64_t tile_index, uint64_t size) {
  uint64_t hashes; /* complete subtrees at tree level 8·tile_level */

  if (tile_level < 0 || tile_level >= MAX_TILE_LEVELS) return 0;
  hashes = size >> (TILE_HEIGHT * tile_level);
  if (tile_index >= hashes / TILE_WIDTH + 1) return 0;
  hashes -= tile_index * TILE_WIDTH;
  return hashes >= TILE_WIDTH ? TILE_WIDTH : (int)hashes;
}

/* Hashes count = 2^r consecutive hashes (32 bytes each) up to their one
 * subtree root. */
static void reduce(const uint8_t *hashes, int count, uint8_t out[32]) {
  uint8_t buf[TILE_WIDTH / 2][HASH];

  if (count == 1) {
    memcpy(out, hashes, HASH);
    return;
  }
  for (int i = 0; i < count / 2; i++)
    merkle_node_hash(hashes + 2 * i * HASH, hashes + (2 * i + 1) * HASH, buf[i]);
  for (int w = count / 2; w > 1; w /= 2)
    for (int i = 0; i < w / 2; i++) merkle_node_hash(buf[2 * i], buf[2 * i + 1], buf[i]);
  memcpy(out, buf[0], HASH);
}

int tile_subtree_hash(const uint8_t *tile, int width, int level, uint64_t index, uint8_t out[32]) {
  int tl, first, count;
  uint64_t ti;

  if (level < 0 || level >= 64 || width < 0 || width > TILE_WIDTH) return REG_EINVAL;
  tile_locate(level, index, &tl, &ti, &first, &count);
  if (first + count > width) return REG_ERANGE;
  reduce(tile + (size_t)first * HASH, count, out);
  return 0;
}

/* One tile level of an append: the hashes of this level go from `lo` to
 * `hi` (the new ones, hi − lo of them, in `add`); writes every changed
 * tile and, for each tile that became full, its root into up[] (as many as
 * (hi >> 8) − (lo >> 8)). up may be add itself: a tile's root is written
 * only after its entries were copied out, at an index no larger. */
static int append_level(tile_get_fn get, tile_put_fn put, void *ctx, int tl, uint64_t lo,
                        uint64_t hi, const uint8_t (*add)[32], uint8_t (*up)[32]) {
  uint8_t tile[TILE_WIDTH * HASH];
  uint64_t pos = lo, first_tile = lo / TILE_WIDTH;
  const uint8_t(*src)[32] = add;
  int rc;

  while (pos < hi) {
    uint64_t ti = pos / TILE_WIDTH;
    int start = (int)(pos % TILE_WIDTH), width;
    uint64_t room = (uint64_t)(TILE_WIDTH - start), take = hi - pos < room ? hi - pos : room;

    if (start > 0) {
      int got = -1;
      rc = get(ctx, tl, ti, tile, &got);
      if (rc < 0) return rc;
      if (got != start) return REG_EIO; /* the store disagrees with old_size */
    }
    memcpy(tile + (size_t)start * HASH, src, (size_t)take * HASH);
    src += take;
    width = start + (int)take;
    rc = put(ctx, tl, ti, tile, width);
    if (rc < 0) return rc;
    if (width == TILE_WIDTH) reduce(tile, TILE_WIDTH, up[ti - first_tile]);
    pos += take;
  }
  return 0;
}

int tile_append(tile_get_fn get, tile_put_fn put, void *ctx, uint64_t old_size,
                const uint8_t (*leaf_hashes)[32], size_t n) {
  uint8_t stack_up[STACK_HASHES][HASH];
  uint8_t(*up)[32] = stack_up;
  size_t up_cap = (size_t)n / TILE_WIDTH + 1;
  uint64_t new_size;
  const uint8_t(*add)[32] = leaf_hashes;
  int rc = 0;

  if (n == 0) return 0;
  if (!get || !put || !leaf_hashes) return REG_EINVAL;
  if ((uint64_t)n > UINT64_MAX - old_size) return REG_ERANGE;
  new_size = old_size + (uint64_t)n;
  if (up_cap > STACK_HASHES) {
    up = malloc(up_cap * HASH);
    if (!up) return REG_ENOMEM;
  }
  for (int tl = 0; tl < MAX_TILE_LEVELS; tl++) {
    uint64_t lo = old_size >> (TILE_HEIGHT * tl), hi = new_size >> (TILE_HEIGHT * tl);
    if (lo == hi) break;
    rc = append_level(get, put, ctx, tl, lo, hi, add, up);
    if (rc < 0) goto out;
    add = (const uint8_t(*)[32])up;
  }
out:
  if (up != stack_up) free(up);
  return rc;
}
