/*
 * Unit tests of crypto/merkle.c: the RFC 6962 / RFC 9162 vectors of
 * tests/data/merkle.json (hashes, roots, every inclusion and consistency
 * proof, made both from an array of level hashes and from tiles, and
 * verified), proofs that must be refused, and every proof of every tree
 * up to 70 leaves checked against the definition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto/merkle.h"
#include "crypto/tile.h"
#include "tile_mem.h"

#define NLEAVES 8
#define MAXP MERKLE_MAX_PROOF

typedef struct fx {
  json_t *doc;
  uint8_t leaves[NLEAVES][32]; /* leaf hashes */
  uint8_t roots[NLEAVES + 1][32];
  level_mem lm;
  tile_mem tm;
} fx;

static void unhex(const char *hex, uint8_t *out, size_t cap, size_t *len) {
  size_t n = 0;
  assert_int_equal(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0);
  if (len)
    *len = n;
  else
    assert_int_equal(n, cap);
}

static int setup(void **state) {
  static fx f;
  char path[1024];
  const char *dir = getenv("REG_TEST_DATA");
  json_error_t err;
  json_t *leaves, *roots;

  memset(&f, 0, sizeof(f));
  snprintf(path, sizeof(path), "%s/merkle.json", dir ? dir : "tests/data");
  f.doc = json_load_file(path, 0, &err);
  if (!f.doc) {
    fprintf(stderr, "%s: %s\n", path, err.text);
    return -1;
  }
  leaves = json_object_get(f.doc, "leaves_hex");
  roots = json_object_get(f.doc, "roots");
  if (json_array_size(leaves) != NLEAVES || json_array_size(roots) != NLEAVES + 1) return -1;
  for (size_t i = 0; i < NLEAVES; i++) {
    uint8_t raw[64];
    size_t n = 0;
    const char *hex = json_string_value(json_array_get(leaves, i));
    if (!hex || sodium_hex2bin(raw, sizeof(raw), hex, strlen(hex), NULL, &n, NULL) != 0) return -1;
    merkle_leaf_hash(raw, n, f.leaves[i]);
  }
  for (size_t i = 0; i <= NLEAVES; i++) {
    const char *hex = json_string_value(json_array_get(roots, i));
    size_t n = 0;
    if (!hex || sodium_hex2bin(f.roots[i], 32, hex, strlen(hex), NULL, &n, NULL) != 0 || n != 32)
      return -1;
  }
  if (lm_build(&f.lm, (const uint8_t(*)[32])f.leaves, NLEAVES) != 0) return -1;
  tm_begin(&f.tm);
  if (tile_append(tm_get, tm_put, &f.tm, 0, (const uint8_t(*)[32])f.leaves, NLEAVES) != 0)
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  lm_clear(&f->lm);
  tm_clear(&f->tm);
  json_decref(f->doc);
  return 0;
}

/* The proof of a vector entry, from hex. */
static size_t vector_proof(json_t *entry, const char *key, uint8_t (*out)[32]) {
  json_t *arr = json_object_get(entry, key);
  size_t n = json_array_size(arr);
  assert_non_null(arr);
  assert_true(n <= MAXP);
  for (size_t i = 0; i < n; i++) unhex(json_string_value(json_array_get(arr, i)), out[i], 32, NULL);
  return n;
}

static void test_hash_vectors(void **state) {
  fx *f = *state;
  uint8_t want[32], got[32], buf[9];
  const char *l = "L123456";

  /* roots[0] is SHA-256 of nothing, roots[1] the leaf hash of leaves_hex[0]
   * (the empty leaf), roots[2] the node hash of the first two */
  merkle_empty_root(got);
  assert_memory_equal(got, f->roots[0], 32);
  assert_memory_equal(f->leaves[0], f->roots[1], 32);
  merkle_node_hash(f->leaves[0], f->leaves[1], got);
  assert_memory_equal(got, f->roots[2], 32);

  unhex(json_string_value(json_object_get(f->doc, "leaf_hash_L123456")), want, 32, NULL);
  merkle_leaf_hash((const uint8_t *)l, strlen(l), got);
  assert_memory_equal(got, want, 32);

  /* node_hash_N123_N456 has 4-byte children, which merkle_node_hash (fixed
   * 32-byte children) cannot take: check the vector against the definition
   * it shares with merkle_node_hash, SHA-256(0x01 ‖ left ‖ right) */
  unhex(json_string_value(json_object_get(f->doc, "node_hash_N123_N456")), want, 32, NULL);
  memcpy(buf, "\x01N123N456", 9);
  crypto_hash_sha256(got, buf, sizeof(buf));
  assert_memory_equal(got, want, 32);
  {
    uint8_t a[32], b[32], in[65];
    memset(a, 0xAA, 32);
    memset(b, 0x55, 32);
    in[0] = 1;
    memcpy(in + 1, a, 32);
    memcpy(in + 33, b, 32);
    crypto_hash_sha256(want, in, sizeof(in));
    merkle_node_hash(a, b, got);
    assert_memory_equal(got, want, 32);
    merkle_node_hash(a, b, a); /* output may alias an input */
    assert_memory_equal(a, want, 32);
  }
}

static void test_roots(void **state) {
  fx *f = *state;
  uint8_t got[32];

  for (uint64_t n = 0; n <= NLEAVES; n++) {
    level_mem lm;
    tile_mem tm;
    memset(&tm, 0, sizeof(tm));
    assert_int_equal(merkle_root(lm_hash, &f->lm, n, got), 0);
    assert_memory_equal(got, f->roots[n], 32);
    assert_int_equal(merkle_root(tm_hash, &f->tm, n, got), 0);
    assert_memory_equal(got, f->roots[n], 32);
    if (n > 0) {
      mth_direct((const uint8_t(*)[32])f->leaves, n, got);
      assert_memory_equal(got, f->roots[n], 32);
    }
    /* a tree holding only the first n leaves gives the same root */
    assert_int_equal(lm_build(&lm, (const uint8_t(*)[32])f->leaves, n), 0);
    assert_int_equal(merkle_root(lm_hash, &lm, n, got), 0);
    assert_memory_equal(got, f->roots[n], 32);
    lm_clear(&lm);
    tm_begin(&tm);
    assert_int_equal(tile_append(tm_get, tm_put, &tm, 0, (const uint8_t(*)[32])f->leaves, n), 0);
    assert_int_equal(merkle_root(tm_hash, &tm, n, got), 0);
    assert_memory_equal(got, f->roots[n], 32);
    tm_clear(&tm);
  }
}

static void test_inclusion_vectors(void **state) {
  fx *f = *state;
  json_t *arr = json_object_get(f->doc, "inclusion"), *e;
  size_t i;

  assert_true(json_array_size(arr) > 0);
  json_array_foreach(arr, i, e) {
    uint64_t index = (uint64_t)json_integer_value(json_object_get(e, "leaf_index"));
    uint64_t size = (uint64_t)json_integer_value(json_object_get(e, "tree_size"));
    uint8_t want[MAXP][32], got[MAXP][32];
    size_t n = vector_proof(e, "path", want), m = 99;

    assert_true(size >= 1 && size <= NLEAVES && index < size);
    assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, index, size, got, MAXP, &m), 0);
    assert_int_equal(m, n);
    if (n) assert_memory_equal(got, want, n * 32);
    m = 99;
    assert_int_equal(merkle_inclusion_proof(tm_hash, &f->tm, index, size, got, MAXP, &m), 0);
    assert_int_equal(m, n);
    if (n) assert_memory_equal(got, want, n * 32);
    assert_int_equal(merkle_verify_inclusion(index, size, f->leaves[index],
                                             (const uint8_t(*)[32])want, n, f->roots[size]),
                     0);
  }
}

static void test_consistency_vectors(void **state) {
  fx *f = *state;
  json_t *arr = json_object_get(f->doc, "consistency"), *e;
  size_t i;

  assert_true(json_array_size(arr) > 0);
  json_array_foreach(arr, i, e) {
    uint64_t first = (uint64_t)json_integer_value(json_object_get(e, "first_size"));
    uint64_t second = (uint64_t)json_integer_value(json_object_get(e, "second_size"));
    uint8_t want[MAXP][32], got[MAXP][32];
    size_t n = vector_proof(e, "proof", want), m = 99;

    assert_true(first >= 1 && first <= second && second <= NLEAVES);
    assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, first, second, got, MAXP, &m), 0);
    assert_int_equal(m, n);
    if (n) assert_memory_equal(got, want, n * 32);
    m = 99;
    assert_int_equal(merkle_consistency_proof(tm_hash, &f->tm, first, second, got, MAXP, &m), 0);
    assert_int_equal(m, n);
    if (n) assert_memory_equal(got, want, n * 32);
    assert_int_equal(merkle_verify_consistency(first, second, f->roots[first], f->roots[second],
                                               (const uint8_t(*)[32])want, n),
                     0);
  }
}

/* Every way of spoiling an inclusion proof that verifies. */
static void check_inclusion_refusals(uint64_t index, uint64_t size, const uint8_t leaf[32],
                                     const uint8_t (*proof)[32], size_t n, const uint8_t root[32],
                                     const uint8_t (*roots)[32], uint64_t nroots) {
  uint8_t p[MAXP + 1][32], bad[32];

  assert_true(n < MAXP);
  memcpy(p, proof, n * 32);
  assert_int_equal(merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n, root), 0);
  for (size_t i = 0; i < n; i++) { /* an altered hash */
    p[i][i % 32] ^= 0x01;
    assert_int_equal(merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n, root),
                     REG_ECRYPTO);
    p[i][i % 32] ^= 0x01;
  }
  memcpy(bad, leaf, 32); /* another leaf, another root */
  bad[31] ^= 0x80;
  assert_int_equal(merkle_verify_inclusion(index, size, bad, (const uint8_t(*)[32])p, n, root),
                   REG_ECRYPTO);
  memcpy(bad, root, 32);
  bad[0] ^= 0x80;
  assert_int_equal(merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n, bad),
                   REG_ECRYPTO);
  for (uint64_t j = 0; j < size; j++) /* another index */
    if (j != index)
      assert_int_equal(merkle_verify_inclusion(j, size, leaf, (const uint8_t(*)[32])p, n, root),
                       REG_ECRYPTO);
  /* another size: refused against that size's root; against this root
   * whenever that size's path has another length (a size whose tree has
   * the same shape above the leaf takes the same path to the same hash,
   * which RFC 9162 verification accepts: the size only names the shape) */
  for (uint64_t s = index + 1; s <= size + 3; s++) {
    uint64_t x = index ^ (s - 1);
    int inner = x ? 64 - __builtin_clzll(x) : 0;
    size_t len = (size_t)inner + (size_t)__builtin_popcountll(inner < 64 ? index >> inner : 0);
    if (s == size) continue;
    if (s < nroots)
      assert_int_equal(
          merkle_verify_inclusion(index, s, leaf, (const uint8_t(*)[32])p, n, roots[s]),
          REG_ECRYPTO);
    if (len != n)
      assert_int_equal(merkle_verify_inclusion(index, s, leaf, (const uint8_t(*)[32])p, n, root),
                       REG_ECRYPTO);
  }
  /* an extra trailing hash, a missing one */
  memset(p[n], 0, 32);
  assert_int_equal(merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n + 1, root),
                   REG_ECRYPTO);
  memcpy(p[n], root, 32);
  assert_int_equal(merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n + 1, root),
                   REG_ECRYPTO);
  if (n > 0) {
    assert_int_equal(
        merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p, n - 1, root),
        REG_ECRYPTO);
    assert_int_equal(
        merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])p + 1, n - 1, root),
        REG_ECRYPTO);
  }
  /* index ≥ size */
  assert_int_equal(merkle_verify_inclusion(size, size, leaf, (const uint8_t(*)[32])p, n, root),
                   REG_EINVAL);
}

/* The length of the consistency proof between first < second (RFC 9162
 * SUBPROOF, counted). */
static size_t consistency_len(uint64_t first, uint64_t second) {
  uint64_t m = first, len = second;
  size_t count = 0;
  int b = 1;
  while (m != len) {
    uint64_t k = 1;
    while (k * 2 < len) k *= 2;
    if (m <= k) {
      len = k;
    } else {
      m -= k;
      len -= k;
      b = 0;
    }
    count++;
  }
  return count + (b ? 0 : 1);
}

/* The proof for (first, second) claimed for (f2, s2): refused against the
 * roots of (f2, s2); against r1, r2 whenever (f2, s2) takes a proof of
 * another length (sizes of the same shape take the same proof to the same
 * hashes, which RFC 9162 verification accepts: sizes only name shapes). */
static void check_other_sizes(uint64_t first, uint64_t second, uint64_t f2, uint64_t s2,
                              const uint8_t r1[32], const uint8_t r2[32],
                              const uint8_t (*proof)[32], size_t n, const uint8_t (*roots)[32],
                              uint64_t nroots) {
  if (f2 == 0 || f2 > s2 || (f2 == first && s2 == second)) return;
  if (s2 < nroots)
    assert_int_equal(merkle_verify_consistency(f2, s2, roots[f2], roots[s2], proof, n),
                     REG_ECRYPTO);
  if (f2 == s2 || consistency_len(f2, s2) != n)
    assert_int_equal(merkle_verify_consistency(f2, s2, r1, r2, proof, n), REG_ECRYPTO);
}

/* Every way of spoiling a consistency proof that verifies (first < second). */
static void check_consistency_refusals(uint64_t first, uint64_t second, const uint8_t r1[32],
                                       const uint8_t r2[32], const uint8_t (*proof)[32], size_t n,
                                       const uint8_t (*roots)[32], uint64_t nroots) {
  uint8_t p[MAXP + 1][32], bad[32];

  assert_true(n >= 1 && n < MAXP);
  assert_int_equal(consistency_len(first, second), n);
  memcpy(p, proof, n * 32);
  assert_int_equal(merkle_verify_consistency(first, second, r1, r2, (const uint8_t(*)[32])p, n), 0);
  for (size_t i = 0; i < n; i++) {
    p[i][(i * 7) % 32] ^= 0x04;
    assert_int_equal(merkle_verify_consistency(first, second, r1, r2, (const uint8_t(*)[32])p, n),
                     REG_ECRYPTO);
    p[i][(i * 7) % 32] ^= 0x04;
  }
  memcpy(bad, r1, 32);
  bad[5] ^= 1;
  assert_int_equal(merkle_verify_consistency(first, second, bad, r2, (const uint8_t(*)[32])p, n),
                   REG_ECRYPTO);
  memcpy(bad, r2, 32);
  bad[5] ^= 1;
  assert_int_equal(merkle_verify_consistency(first, second, r1, bad, (const uint8_t(*)[32])p, n),
                   REG_ECRYPTO);
  assert_int_equal(merkle_verify_consistency(first, second, r2, r1, (const uint8_t(*)[32])p, n),
                   REG_ECRYPTO);
  /* wrong sizes */
  for (uint64_t f2 = first > 3 ? first - 3 : 1; f2 <= first + 3; f2++)
    for (uint64_t s2 = second > 3 ? second - 3 : 1; s2 <= second + 3; s2++)
      check_other_sizes(first, second, f2, s2, r1, r2, (const uint8_t(*)[32])p, n, roots, nroots);
  /* extra trailing hash, a missing one, none */
  memcpy(p[n], r2, 32);
  assert_int_equal(merkle_verify_consistency(first, second, r1, r2, (const uint8_t(*)[32])p, n + 1),
                   REG_ECRYPTO);
  assert_int_equal(merkle_verify_consistency(first, second, r1, r2, (const uint8_t(*)[32])p, n - 1),
                   REG_ECRYPTO);
  if (n > 1)
    assert_int_equal(
        merkle_verify_consistency(first, second, r1, r2, (const uint8_t(*)[32])p + 1, n - 1),
        REG_ECRYPTO);
  /* first > second, first == 0 */
  assert_int_equal(merkle_verify_consistency(second, first, r2, r1, (const uint8_t(*)[32])p, n),
                   REG_EINVAL);
  assert_int_equal(merkle_verify_consistency(0, second, r1, r2, (const uint8_t(*)[32])p, n),
                   REG_EINVAL);
}

static void test_vector_refusals(void **state) {
  fx *f = *state;
  json_t *e;
  size_t i;
  uint8_t p[MAXP][32];

  json_array_foreach(json_object_get(f->doc, "inclusion"), i, e) {
    uint64_t index = (uint64_t)json_integer_value(json_object_get(e, "leaf_index"));
    uint64_t size = (uint64_t)json_integer_value(json_object_get(e, "tree_size"));
    size_t n = vector_proof(e, "path", p);
    check_inclusion_refusals(index, size, f->leaves[index], (const uint8_t(*)[32])p, n,
                             f->roots[size], (const uint8_t(*)[32])f->roots, NLEAVES + 1);
  }
  json_array_foreach(json_object_get(f->doc, "consistency"), i, e) {
    uint64_t first = (uint64_t)json_integer_value(json_object_get(e, "first_size"));
    uint64_t second = (uint64_t)json_integer_value(json_object_get(e, "second_size"));
    size_t n = vector_proof(e, "proof", p);
    if (first == second) {
      uint8_t other[32];
      memcpy(other, f->roots[first], 32);
      other[0] ^= 1;
      assert_int_equal(
          merkle_verify_consistency(first, second, f->roots[first], f->roots[second], NULL, 0), 0);
      assert_int_equal(merkle_verify_consistency(first, second, f->roots[first], other, NULL, 0),
                       REG_ECRYPTO);
      memcpy(p[0], f->roots[first], 32); /* equal sizes take no hash at all */
      assert_int_equal(merkle_verify_consistency(first, second, f->roots[first], f->roots[second],
                                                 (const uint8_t(*)[32])p, 1),
                       REG_ECRYPTO);
      continue;
    }
    check_consistency_refusals(first, second, f->roots[first], f->roots[second],
                               (const uint8_t(*)[32])p, n, (const uint8_t(*)[32])f->roots,
                               NLEAVES + 1);
  }
}

/* Every proof of every tree up to 70 leaves, from both stores, against
 * roots computed from the definition. */
static void test_exhaustive_small(void **state) {
  enum { N = 70 };
  uint8_t leaves[N][32], roots[N + 1][32], a[MAXP][32], b[MAXP][32];
  level_mem lm;
  tile_mem tm;
  (void)state;

  memset(&tm, 0, sizeof(tm));
  for (int i = 0; i < N; i++) {
    uint8_t raw[2] = {(uint8_t)i, 0x5A};
    merkle_leaf_hash(raw, sizeof(raw), leaves[i]);
  }
  merkle_empty_root(roots[0]);
  for (int s = 1; s <= N; s++) mth_direct((const uint8_t(*)[32])leaves, (uint64_t)s, roots[s]);
  assert_int_equal(lm_build(&lm, (const uint8_t(*)[32])leaves, N), 0);
  tm_begin(&tm);
  assert_int_equal(tile_append(tm_get, tm_put, &tm, 0, (const uint8_t(*)[32])leaves, N), 0);

  for (uint64_t size = 1; size <= N; size++) {
    uint8_t got[32];
    assert_int_equal(merkle_root(lm_hash, &lm, size, got), 0);
    assert_memory_equal(got, roots[size], 32);
    for (uint64_t index = 0; index < size; index++) {
      size_t na = 0, nb = 0;
      assert_int_equal(merkle_inclusion_proof(lm_hash, &lm, index, size, a, MAXP, &na), 0);
      assert_int_equal(merkle_inclusion_proof(tm_hash, &tm, index, size, b, MAXP, &nb), 0);
      assert_int_equal(na, nb);
      if (na) assert_memory_equal(a, b, na * 32);
      if (size <= 20)
        check_inclusion_refusals(index, size, leaves[index], (const uint8_t(*)[32])a, na,
                                 roots[size], (const uint8_t(*)[32])roots, N + 1);
      else
        assert_int_equal(merkle_verify_inclusion(index, size, leaves[index],
                                                 (const uint8_t(*)[32])a, na, roots[size]),
                         0);
    }
    for (uint64_t first = 1; first <= size; first++) {
      size_t na = 0, nb = 0;
      assert_int_equal(merkle_consistency_proof(lm_hash, &lm, first, size, a, MAXP, &na), 0);
      assert_int_equal(merkle_consistency_proof(tm_hash, &tm, first, size, b, MAXP, &nb), 0);
      assert_int_equal(na, nb);
      if (na) assert_memory_equal(a, b, na * 32);
      if (first == size) {
        assert_int_equal(na, 0);
        assert_int_equal(merkle_verify_consistency(first, size, roots[first], roots[size], NULL, 0),
                         0);
      } else if (size <= 20) {
        check_consistency_refusals(first, size, roots[first], roots[size], (const uint8_t(*)[32])a,
                                   na, (const uint8_t(*)[32])roots, N + 1);
      } else {
        assert_int_equal(merkle_verify_consistency(first, size, roots[first], roots[size],
                                                   (const uint8_t(*)[32])a, na),
                         0);
      }
    }
  }
  lm_clear(&lm);
  tm_clear(&tm);
}

static int failing_reader(void *ctx, int level, uint64_t index, uint8_t out[32]) {
  (void)ctx;
  (void)level;
  (void)index;
  (void)out;
  return REG_EIO;
}

static void test_make_refusals(void **state) {
  fx *f = *state;
  uint8_t out[MAXP][32], keep[32];
  size_t n = 77;

  memset(out, 0xEE, sizeof(out));
  memset(keep, 0xEE, sizeof(keep));
  /* index ≥ size, first == 0, first > second */
  assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, 5, 5, out, MAXP, &n), REG_EINVAL);
  assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, 0, 0, out, MAXP, &n), REG_EINVAL);
  assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, 0, 5, out, MAXP, &n), REG_EINVAL);
  assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, 6, 5, out, MAXP, &n), REG_EINVAL);
  /* cap too small: 3 hashes for leaf 0 of 8 / from 3 to 8 needs 4 */
  assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, 0, 8, out, 2, &n), REG_ERANGE);
  assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, 3, 8, out, 3, &n), REG_ERANGE);
  /* reader errors pass through */
  assert_int_equal(merkle_inclusion_proof(failing_reader, NULL, 1, 8, out, MAXP, &n), REG_EIO);
  assert_int_equal(merkle_consistency_proof(failing_reader, NULL, 3, 8, out, MAXP, &n), REG_EIO);
  assert_int_equal(merkle_root(failing_reader, NULL, 8, out[0]), REG_EIO);
  /* a tree larger than what is stored */
  assert_int_equal(merkle_root(lm_hash, &f->lm, 9, out[0]), REG_ENOTFOUND);
  /* nothing written on failure */
  assert_int_equal(n, 77);
  for (size_t i = 0; i < MAXP; i++) assert_memory_equal(out[i], keep, 32);
  /* exactly enough */
  assert_int_equal(merkle_inclusion_proof(lm_hash, &f->lm, 0, 8, out, 3, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(merkle_consistency_proof(lm_hash, &f->lm, 3, 8, out, 4, &n), 0);
  assert_int_equal(n, 4);
  /* a proof longer than any tree's is refused before hashing */
  assert_int_equal(
      merkle_verify_inclusion(0, 8, f->leaves[0], (const uint8_t(*)[32])out, MAXP + 1, f->roots[8]),
      REG_ECRYPTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_vectors),      cmocka_unit_test(test_roots),
      cmocka_unit_test(test_inclusion_vectors), cmocka_unit_test(test_consistency_vectors),
      cmocka_unit_test(test_vector_refusals),   cmocka_unit_test(test_exhaustive_small),
      cmocka_unit_test(test_make_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
