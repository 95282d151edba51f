/*
 * Merkle trees in the RFC 6962 / RFC 9162 §2.1 form. MTH(D[n]) for n > 1 is
 * HASH(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])) with k the largest power of two
 * below n, so every tree is a row of complete ("perfect") subtrees, one per
 * set bit of n from the largest down, folded together from the right. Every
 * hash a proof needs is either such a complete subtree, which the reader
 * returns as stored, or the one partial subtree at the right edge of the
 * tree, which is folded from O(log n) complete ones here.
 *
 * Making proofs follows RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (SUBPROOF),
 * unrolled into loops over the bits of the index and sizes; verifying them
 * follows §2.1.3.2 and §2.1.4.2 step by step. Nothing here allocates: a
 * hash is one SHA-256 over a stack buffer.
 */
#include "crypto/merkle.h"

#include <sodium.h>
#include <string.h>

/* Most levels of a tree of up to 2^64 − 1 leaves. */
#define MAX_LEVELS 64

void merkle_leaf_hash(const uint8_t *leaf, size_t len, uint8_t out[32]) {
  crypto_hash_sha256_state st;
  static const uint8_t prefix = 0x00;

  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, &prefix, 1);
  if (len > 0) crypto_hash_sha256_update(&st, leaf, len);
  crypto_hash_sha256_final(&st, out);
}

void merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
  uint8_t buf[1 + 2 * MERKLE_HASH_LEN];

  buf[0] = 0x01;
  memcpy(buf + 1, left, MERKLE_HASH_LEN);
  memcpy(buf + 1 + MERKLE_HASH_LEN, right, MERKLE_HASH_LEN);
  crypto_hash_sha256(out, buf, sizeof(buf)); /* out may alias left or right */
}

void merkle_empty_root(uint8_t out[32]) { crypto_hash_sha256(out, NULL, 0); }

/* Number of bits needed to write x (0 for 0). */
static int bit_len(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }

/* MTH(D[start:end]) for 0 ≤ start < end, start a multiple of the largest
 * power of two ≤ end − start (true of every range RFC 9162's recursions
 * visit): the complete subtrees of the range, folded from the right. */
static int range_hash(merkle_hash_fn get, void *ctx, uint64_t start, uint64_t end,
                      uint8_t out[32]) {
  uint8_t parts[MAX_LEVELS][MERKLE_HASH_LEN];
  uint64_t n = end - start, pos = start;
  int count = 0, rc;

  for (int level = bit_len(n) - 1; level >= 0; level--) {
    if (!(n >> level & 1)) continue;
    rc = get(ctx, level, pos >> level, parts[count]);
    if (rc < 0) return rc;
    count++;
    pos += (uint64_t)1 << level;
  }
  for (int i = count - 2; i >= 0; i--)
    merkle_node_hash(parts[i], parts[count - 1], parts[count - 1]);
  memcpy(out, parts[count - 1], MERKLE_HASH_LEN);
  return 0;
}

int merkle_root(merkle_hash_fn get, void *ctx, uint64_t size, uint8_t out[32]) {
  if (size == 0) {
    merkle_empty_root(out);
    return 0;
  }
  return range_hash(get, ctx, 0, size, out);
}

/* The inclusion path of leaf `index` in a tree of `size` leaves has two
 * parts. Below level `inner` (where the paths to index and to size − 1
 * part), one sibling per level: complete subtrees, except the topmost,
 * which is to the right and may be cut off by the tree's edge. Above it,
 * one left sibling (always complete) per set bit of index. */
int merkle_inclusion_proof(merkle_hash_fn get, void *ctx, uint64_t index, uint64_t size,
                           uint8_t (*out)[32], size_t cap, size_t *n) {
  uint8_t path[MAX_LEVELS][MERKLE_HASH_LEN];
  size_t count = 0;
  int inner, rc;

  if (index >= size) return REG_EINVAL;
  inner = bit_len(index ^ (size - 1));
  for (int level = 0; level < 64; level++) {
    uint64_t sib = (index >> level) ^ 1;
    if (level < inner) {
      uint64_t start = sib << level, end = start + ((uint64_t)1 << level);
      if (end > size || end < start)
        rc = range_hash(get, ctx, start, size, path[count]);
      else
        rc = get(ctx, level, sib, path[count]);
    } else if (index >> level & 1) {
      rc = get(ctx, level, sib, path[count]);
    } else {
      continue;
    }
    if (rc < 0) return rc;
    count++;
  }
  if (count > cap) return REG_ERANGE;
  memcpy(out, path, count * MERKLE_HASH_LEN);
  *n = count;
  return 0;
}

/* SUBPROOF(m, D[start:start+len], b) of RFC 9162 §2.1.4.1 without
 * recursion: each step down appends one hash after everything the deeper
 * steps produce, so the hashes are collected top-down and written out
 * bottom-up, after the one the last step may produce. */
int merkle_consistency_proof(merkle_hash_fn get, void *ctx, uint64_t first, uint64_t second,
                             uint8_t (*out)[32], size_t cap, size_t *n) {
  uint8_t steps[MAX_LEVELS][MERKLE_HASH_LEN], last[MERKLE_HASH_LEN];
  uint64_t m = first, start = 0, len = second;
  size_t count = 0, total;
  int b = 1, have_last = 0, rc;

  if (first == 0 || first > second) return REG_EINVAL;
  while (m != len) {
    uint64_t k = (uint64_t)1 << (bit_len(len - 1) - 1); /* largest power of two < len */
    if (m <= k) {
      rc = range_hash(get, ctx, start + k, start + len, steps[count]);
      len = k;
    } else {
      rc = range_hash(get, ctx, start, start + k, steps[count]);
      start += k;
      m -= k;
      len -= k;
      b = 0;
    }
    if (rc < 0) return rc;
    count++;
  }
  if (!b) {
    rc = range_hash(get, ctx, start, start + len, last);
    if (rc < 0) return rc;
    have_last = 1;
  }
  total = count + (size_t)have_last;
  if (total > cap) return REG_ERANGE;
  if (have_last) memcpy(out[0], last, MERKLE_HASH_LEN);
  for (size_t i = 0; i < count; i++)
    memcpy(out[(size_t)have_last + i], steps[count - 1 - i], MERKLE_HASH_LEN);
  *n = total;
  return 0;
}

int merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[32],
                            const uint8_t (*proof)[32], size_t n, const uint8_t root[32]) {
  uint8_t r[MERKLE_HASH_LEN];
  uint64_t fn = index, sn;

  if (index >= size) return REG_EINVAL;
  if (n > MERKLE_MAX_PROOF) return REG_ECRYPTO;
  sn = size - 1;
  memcpy(r, leaf_hash, MERKLE_HASH_LEN);
  for (size_t i = 0; i < n; i++) {
    if (sn == 0) return REG_ECRYPTO; /* proof too long */
    if ((fn & 1) || fn == sn) {
      merkle_node_hash(proof[i], r, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      merkle_node_hash(r, proof[i], r);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return REG_ECRYPTO; /* proof too short */
  return sodium_memcmp(r, root, MERKLE_HASH_LEN) == 0 ? 0 : REG_ECRYPTO;
}

int merkle_verify_consistency(uint64_t first, uint64_t second, const uint8_t root1[32],
                              const uint8_t root2[32], const uint8_t (*proof)[32], size_t n) {
  uint8_t fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
  uint64_t fn, sn;
  size_t i;

  if (first == 0 || first > second) return REG_EINVAL;
  if (first == second)
    return n == 0 && sodium_memcmp(root1, root2, MERKLE_HASH_LEN) == 0 ? 0 : REG_ECRYPTO;
  if (n == 0 || n > MERKLE_MAX_PROOF) return REG_ECRYPTO;
  /* step 2: when first is a power of two, the proof starts with root1,
   * which RFC 9162 has the verifier prepend (i walks from "−1") */
  fn = first - 1;
  sn = second - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  if ((first & (first - 1)) == 0) {
    memcpy(fr, root1, MERKLE_HASH_LEN);
    i = 0;
  } else {
    memcpy(fr, proof[0], MERKLE_HASH_LEN);
    i = 1;
  }
  memcpy(sr, fr, MERKLE_HASH_LEN);
  for (; i < n; i++) {
    if (sn == 0) return REG_ECRYPTO; /* proof too long */
    if ((fn & 1) || fn == sn) {
      merkle_node_hash(proof[i], fr, fr);
      merkle_node_hash(proof[i], sr, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      merkle_node_hash(sr, proof[i], sr);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return REG_ECRYPTO; /* proof too short */
  if (sodium_memcmp(fr, root1, MERKLE_HASH_LEN) != 0) return REG_ECRYPTO;
  return sodium_memcmp(sr, root2, MERKLE_HASH_LEN) == 0 ? 0 : REG_ECRYPTO;
}
