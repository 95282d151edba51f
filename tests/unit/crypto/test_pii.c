/*
 * Unit tests of crypto/pii.c: data keys created, wrapped, reloaded into a
 * fresh ring; encryption round trips and rotation; tampering, wrong
 * associated data and unknown key versions; the blind index (known
 * answer, determinism, domain separation); concurrent readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "crypto/pii.h"

static const char AD[] = "subjects/id_number/sub_123";
static const char PT[] = "11010519491231002X";

typedef struct fx {
  uint8_t master[32];
  pii_keyring *ring;
  uint8_t wrapped1[PII_WRAPPED_KEY_LEN];
  size_t wrapped1_len;
} fx;

static int setup(void **state) {
  static fx f;
  memset(&f, 0, sizeof(f));
  for (int i = 0; i < 32; i++) f.master[i] = (uint8_t)i;
  if (pii_keyring_new(f.master, &f.ring) != 0) return -1;
  if (pii_data_key_create(f.ring, 1, f.wrapped1, sizeof(f.wrapped1), &f.wrapped1_len) != 0)
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  pii_keyring_free(f->ring);
  return 0;
}

static void test_round_trip(void **state) {
  fx *f = *state;
  uint8_t ct[sizeof(PT) - 1 + PII_OVERHEAD], pt[sizeof(PT)];
  size_t ct_len = 0, pt_len = 0;

  assert_int_equal(f->wrapped1_len, PII_WRAPPED_KEY_LEN);
  assert_int_equal(pii_keyring_active(f->ring), 1);
  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), ct, sizeof(ct),
                               &ct_len),
                   0);
  assert_int_equal(ct_len, strlen(PT) + PII_OVERHEAD);
  static const uint8_t v1[4] = {0, 0, 0, 1};
  assert_memory_equal(ct, v1, 4); /* big-endian version tag */
  assert_int_equal(pii_decrypt(f->ring, AD, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
  assert_int_equal(pt_len, strlen(PT));
  assert_memory_equal(pt, PT, pt_len);
}

static void test_reload_from_wrapped(void **state) {
  fx *f = *state;
  pii_keyring *r2 = NULL;
  uint8_t ct[64], pt[64];
  size_t ct_len = 0, pt_len = 0;

  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), ct, sizeof(ct),
                               &ct_len),
                   0);
  assert_int_equal(pii_keyring_new(f->master, &r2), 0);
  assert_int_equal(pii_keyring_active(r2), 0);
  assert_int_equal(pii_decrypt(r2, AD, ct, ct_len, pt, sizeof(pt), &pt_len), REG_ENOTFOUND);
  /* the wrapped key is bound to its version */
  assert_int_equal(pii_keyring_add(r2, 2, f->wrapped1, f->wrapped1_len), REG_ECRYPTO);
  assert_int_equal(pii_keyring_add(r2, 1, f->wrapped1, f->wrapped1_len), 0);
  assert_int_equal(pii_keyring_add(r2, 1, f->wrapped1, f->wrapped1_len), REG_EEXIST);
  assert_int_equal(pii_keyring_active(r2), 1);
  assert_int_equal(pii_decrypt(r2, AD, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
  assert_memory_equal(pt, PT, strlen(PT));
  pii_keyring_free(r2);
}

static void test_other_master_cannot_unwrap(void **state) {
  fx *f = *state;
  uint8_t m2[32];
  pii_keyring *r2 = NULL;

  memcpy(m2, f->master, 32);
  m2[0] ^= 0xFF;
  assert_int_equal(pii_keyring_new(m2, &r2), 0);
  assert_int_equal(pii_keyring_add(r2, 1, f->wrapped1, f->wrapped1_len), REG_ECRYPTO);
  assert_int_equal(pii_keyring_active(r2), 0);
  pii_keyring_free(r2);
}

static void test_tamper_and_wrong_ad(void **state) {
  fx *f = *state;
  uint8_t ct[64], pt[64];
  size_t ct_len = 0;

  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), ct, sizeof(ct),
                               &ct_len),
                   0);
  for (size_t i = 4; i < ct_len; i++) { /* nonce, ciphertext, tag */
    size_t pt_len = 777;
    ct[i] ^= 0x20;
    assert_int_equal(pii_decrypt(f->ring, AD, ct, ct_len, pt, sizeof(pt), &pt_len),
                     REG_ECRYPTO);
    assert_int_equal(pt_len, 777);
    ct[i] ^= 0x20;
  }
  size_t pt_len = 0;
  assert_int_equal(pii_decrypt(f->ring, "subjects/id_number/sub_124", ct, ct_len, pt,
                               sizeof(pt), &pt_len),
                   REG_ECRYPTO);
  assert_int_equal(pii_decrypt(f->ring, NULL, ct, ct_len, pt, sizeof(pt), &pt_len),
                   REG_ECRYPTO);
  /* a version that is not in the ring */
  ct[3] = 9;
  assert_int_equal(pii_decrypt(f->ring, AD, ct, ct_len, pt, sizeof(pt), &pt_len),
                   REG_ENOTFOUND);
  ct[3] = 1;
  assert_int_equal(pii_decrypt(f->ring, AD, ct, PII_OVERHEAD - 1, pt, sizeof(pt), &pt_len),
                   REG_EINVAL);
  assert_int_equal(pii_decrypt(f->ring, AD, ct, ct_len, pt, strlen(PT) - 1, &pt_len),
                   REG_ERANGE);
  assert_int_equal(pii_decrypt(f->ring, AD, ct, ct_len, pt, sizeof(pt), &pt_len), 0);
  assert_memory_equal(pt, PT, strlen(PT));
}

static void test_rotation(void **state) {
  fx *f = *state;
  uint8_t old_ct[64], new_ct[64], pt[64], w[PII_WRAPPED_KEY_LEN], small[PII_WRAPPED_KEY_LEN - 1];
  size_t old_len = 0, new_len = 0, pt_len = 0, w_len = 0;
  static const uint8_t v2[4] = {0, 0, 0, 2};

  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), old_ct,
                               sizeof(old_ct), &old_len),
                   0);
  assert_int_equal(pii_data_key_create(f->ring, 2, small, sizeof(small), &w_len), REG_ERANGE);
  assert_int_equal(pii_data_key_create(f->ring, 0, w, sizeof(w), &w_len), REG_EINVAL);
  assert_int_equal(pii_data_key_create(f->ring, 1, w, sizeof(w), &w_len), REG_EEXIST);
  assert_int_equal(pii_data_key_create(f->ring, 2, w, sizeof(w), &w_len), 0);
  assert_int_equal(w_len, PII_WRAPPED_KEY_LEN);
  assert_int_equal(pii_keyring_active(f->ring), 2);
  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), new_ct,
                               sizeof(new_ct), &new_len),
                   0);
  assert_memory_equal(new_ct, v2, 4);
  assert_int_equal(pii_decrypt(f->ring, AD, old_ct, old_len, pt, sizeof(pt), &pt_len), 0);
  assert_memory_equal(pt, PT, strlen(PT));
  assert_int_equal(pii_decrypt(f->ring, AD, new_ct, new_len, pt, sizeof(pt), &pt_len), 0);
  assert_memory_equal(pt, PT, strlen(PT));

  /* loading in any order: the highest version is active */
  pii_keyring *r2 = NULL;
  assert_int_equal(pii_keyring_new(f->master, &r2), 0);
  assert_int_equal(pii_keyring_add(r2, 2, w, w_len), 0);
  assert_int_equal(pii_keyring_add(r2, 1, f->wrapped1, f->wrapped1_len), 0);
  assert_int_equal(pii_keyring_active(r2), 2);
  assert_int_equal(pii_decrypt(r2, AD, old_ct, old_len, pt, sizeof(pt), &pt_len), 0);
  assert_memory_equal(pt, PT, strlen(PT));
  pii_keyring_free(r2);
}

static void test_encrypt_limits(void **state) {
  fx *f = *state;
  pii_keyring *empty = NULL;
  uint8_t ct[64];
  size_t ct_len = 5;

  assert_int_equal(pii_encrypt(f->ring, AD, (const uint8_t *)PT, strlen(PT), ct,
                               strlen(PT) + PII_OVERHEAD - 1, &ct_len),
                   REG_ERANGE);
  assert_int_equal(ct_len, 5);
  assert_int_equal(pii_keyring_new(f->master, &empty), 0);
  assert_int_equal(pii_encrypt(empty, AD, (const uint8_t *)PT, strlen(PT), ct, sizeof(ct),
                               &ct_len),
                   REG_ENOTFOUND);
  pii_keyring_free(empty);
  pii_keyring_free(NULL);
}

static void test_blind_index(void **state) {
  fx *f = *state;
  uint8_t a[32], b[32], c[32], want[32];
  size_t got = 0;
  pii_keyring *r2 = NULL;

  /* independent BLAKE2b: key = kdf(master, 1, "regblind"),
   * input "resident_id" 0x00 "11010519491231002X" */
  assert_int_equal(
      sodium_hex2bin(want, sizeof(want),
                     "4d6c34fe641a683e2a067227d6aa4120c77badf604b0bdb964b30624e814b519", 64,
                     NULL, &got, NULL),
      0);
  assert_int_equal(pii_blind_index(f->ring, "resident_id", PT, a), 0);
  assert_memory_equal(a, want, 32);

  /* a restart: a new ring, no data keys, same master */
  assert_int_equal(pii_keyring_new(f->master, &r2), 0);
  assert_int_equal(pii_blind_index(r2, "resident_id", PT, b), 0);
  assert_memory_equal(a, b, 32);
  pii_keyring_free(r2);

  /* domain separation, including the boundary between domain and value */
  assert_int_equal(pii_blind_index(f->ring, "phone", PT, c), 0);
  assert_memory_not_equal(a, c, 32);
  assert_int_equal(pii_blind_index(f->ring, "resident_id1", "1010519491231002X", c), 0);
  assert_memory_not_equal(a, c, 32);
  assert_int_equal(pii_blind_index(f->ring, "resident_id", "11010519491231002Y", c), 0);
  assert_memory_not_equal(a, c, 32);
  assert_int_equal(pii_blind_index(f->ring, NULL, PT, c), REG_EINVAL);
}

#define THREADS 4
#define ROUNDS 200

static void *reader(void *arg) {
  const pii_keyring *r = arg;
  for (int i = 0; i < ROUNDS; i++) {
    uint8_t ct[64], pt[64];
    size_t ct_len = 0, pt_len = 0;
    if (pii_encrypt(r, AD, (const uint8_t *)PT, strlen(PT), ct, sizeof(ct), &ct_len) != 0 ||
        pii_decrypt(r, AD, ct, ct_len, pt, sizeof(pt), &pt_len) != 0 || pt_len != strlen(PT) ||
        memcmp(pt, PT, pt_len) != 0)
      return (void *)1;
  }
  return NULL;
}

static void test_concurrent_readers_and_rotation(void **state) {
  fx *f = *state;
  pthread_t t[THREADS];
  uint8_t w[PII_WRAPPED_KEY_LEN];
  size_t w_len;

  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, reader, f->ring), 0);
  /* grow the ring past its first capacity while readers run */
  for (uint32_t v = 10; v < 20; v++)
    assert_int_equal(pii_data_key_create(f->ring, v, w, sizeof(w), &w_len), 0);
  for (int i = 0; i < THREADS; i++) {
    void *res = (void *)1;
    assert_int_equal(pthread_join(t[i], &res), 0);
    assert_null(res);
  }
  assert_int_equal(pii_keyring_active(f->ring), 19);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_from_wrapped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_master_cannot_unwrap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tamper_and_wrong_ad, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_encrypt_limits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_blind_index, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_readers_and_rotation, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
