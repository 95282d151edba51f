/*
 * Tiles of stored Merkle hashes, in the manner of tlog-tiles
 * (c2sp.org/tlog-tiles): a tile at tile level T and index N holds up to 256
 * consecutive hashes of tree level 8·T, indices [256·N, 256·N + width).
 * Level-0 tiles hold leaf hashes; the hash at any level L is computed from
 * the tile of level 8·⌊L/8⌋ below it (at most 2^7 hashes, all in one
 * tile). A tile is "partial" (width < 256) only at the right edge of the
 * tree; it grows in place, its first hashes never change.
 *
 * Everything here is pure arithmetic and hashing; the log's store keeps
 * tiles as PostgreSQL bytea rows (services/log).
 */
#ifndef REG_CRYPTO_TILE_H
#define REG_CRYPTO_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define TILE_HEIGHT 8
#define TILE_WIDTH 256

/* Where the stored hashes for the subtree hash at (level, index) are: tile
 * (*tile_level, *tile_index), entries [*first, *first + *count) of it,
 * hashed up (level mod 8) times. */
void tile_locate(int level, uint64_t index, int *tile_level, uint64_t *tile_index,
                 int *first, int *count);

/* The width of tile (tile_level, tile_index) in a tree of `size` leaves:
 * 256 for a full tile, 1..255 for the partial one at the right edge, 0 when
 * the tile does not exist yet. */
int tile_width(int tile_level, uint64_t tile_index, uint64_t size);

/* The hash at (level, index) from the tile's hashes (width of them,
 * 32 bytes each), per tile_locate. REG_ERANGE when the tile is too narrow. */
int tile_subtree_hash(const uint8_t *tile, int width, int level, uint64_t index,
                      uint8_t out[32]) REG_MUST_CHECK;

/* Appending leaves. Given the tree size before (old_size) and the leaf
 * hashes appended (n of them), calls `put` once for every tile that
 * changed (new or grown), lowest level first, with its full contents so
 * far. `get` reads an existing tile into out (room for TILE_WIDTH hashes)
 * and its width: the right-edge tiles of old_size are needed to compute
 * the parents. n == 0 does nothing. 0; REG_ERANGE when
 * old_size + n overflows; REG_EIO when `get` returns a tile whose width
 * disagrees with old_size; REG_ENOMEM; errors of get and put passed
 * through (tiles put before the error stay put: run it in a transaction). */
typedef int (*tile_get_fn)(void *ctx, int tile_level, uint64_t tile_index, uint8_t *out,
                           int *width);
typedef int (*tile_put_fn)(void *ctx, int tile_level, uint64_t tile_index,
                           const uint8_t *hashes, int width);
int tile_append(tile_get_fn get, tile_put_fn put, void *ctx, uint64_t old_size,
                const uint8_t (*leaf_hashes)[32], size_t n) REG_MUST_CHECK;

#endif
