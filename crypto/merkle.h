/*
 * RFC 6962 / RFC 9162 Merkle trees over SHA-256 (leaf prefix 0x00, node
 * prefix 0x01): hashing, roots, inclusion and consistency proofs (making
 * them from stored hashes, and verifying them).
 *
 * Stored hashes are reached through a reader: "the hash of the complete
 * subtree at level L and index N", covering leaves [N·2^L, (N+1)·2^L). The
 * log keeps them in tiles (tile.h); a proof needs O(log n) of them.
 */
#ifndef REG_CRYPTO_MERKLE_H
#define REG_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define MERKLE_HASH_LEN 32
/* Most hashes in a proof of a tree of up to 2^63 leaves (a consistency
 * proof can be up to twice the height). */
#define MERKLE_MAX_PROOF 128

/* SHA-256(0x00 ‖ leaf). */
void merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[32]);
/* SHA-256(0x01 ‖ left ‖ right). */
void merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]);
/* The root of the empty tree: SHA-256 of nothing. */
void merkle_empty_root(uint8_t out[32]);

/* The reader of stored complete-subtree hashes: 0 with out, or an error
 * (passed through to the caller). */
typedef int (*merkle_hash_fn)(void *ctx, int level, uint64_t index, uint8_t out[32]);

/* MTH of the first `size` leaves. */
int merkle_root(merkle_hash_fn get, void *ctx, uint64_t size, uint8_t out[32]) REG_MUST_CHECK;

/* RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size`
 * leaves (index < size): hashes into out[cap], count in *n. REG_EINVAL for
 * index ≥ size; REG_ERANGE when cap is too small. */
int merkle_inclusion_proof(merkle_hash_fn get, void *ctx, uint64_t index, uint64_t size,
                           uint8_t (*out)[32], size_t cap, size_t *n) REG_MUST_CHECK;

/* RFC 9162 §2.1.4 consistency proof between sizes 0 < first ≤ second
 * (empty when they are equal). REG_EINVAL for first == 0 or first > second;
 * REG_ERANGE when cap is too small. */
int merkle_consistency_proof(merkle_hash_fn get, void *ctx, uint64_t first, uint64_t second,
                             uint8_t (*out)[32], size_t cap, size_t *n) REG_MUST_CHECK;

/* RFC 9162 §2.1.3.2: 0 when the proof shows leaf_hash at index in the tree
 * of `size` with `root`; REG_ECRYPTO when it does not (wrong hash, index,
 * size, or a proof too long or too short); REG_EINVAL for index ≥ size. */
int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[32],
                            const uint8_t (*proof)[32], size_t n,
                            const uint8_t root[32]) REG_MUST_CHECK;

/* RFC 9162 §2.1.4.2: 0 when the proof shows the tree of `first` leaves with
 * root1 is a prefix of the tree of `second` leaves with root2. first ==
 * second needs an empty proof and equal roots; first == 0 or first > second
 * is REG_EINVAL. */
int merkle_verify_consistency(uint64_t first, uint64_t second, const uint8_t root1[32],
                              const uint8_t root2[32], const uint8_t (*proof)[32],
                              size_t n) REG_MUST_CHECK;

#endif
