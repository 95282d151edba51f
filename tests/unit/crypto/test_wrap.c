/*
 * Unit tests of crypto/wrap.c: round trips, tampering with every part of
 * the blob, wrong associated data, wrong master key, short input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/wrap.h"

static const char AD[] = "signing_keys/LOG/3";

static void master_fixture(uint8_t m[32]) {
  for (int i = 0; i < 32; i++) m[i] = (uint8_t)(0x40 + i);
}

static void test_round_trip(void **state) {
  uint8_t m[32], secret[64], blob[64 + WRAP_OVERHEAD], back[64];
  size_t back_len = 0;
  (void)state;

  master_fixture(m);
  for (int i = 0; i < 64; i++) secret[i] = (uint8_t)(i * 7);
  assert_int_equal(wrap_seal(m, AD, secret, sizeof(secret), blob), 0);
  assert_int_equal(blob[0], WRAP_VERSION);
  assert_int_equal(wrap_open(m, AD, blob, sizeof(blob), back, &back_len), 0);
  assert_int_equal(back_len, sizeof(secret));
  assert_memory_equal(back, secret, sizeof(secret));
}

static void test_nonce_is_fresh(void **state) {
  uint8_t m[32], secret[16] = {1}, a[16 + WRAP_OVERHEAD], b[16 + WRAP_OVERHEAD];
  (void)state;

  master_fixture(m);
  assert_int_equal(wrap_seal(m, AD, secret, sizeof(secret), a), 0);
  assert_int_equal(wrap_seal(m, AD, secret, sizeof(secret), b), 0);
  assert_memory_not_equal(a + 1, b + 1, 24);
}

static void test_empty_secret(void **state) {
  uint8_t m[32], blob[WRAP_OVERHEAD], back[1];
  size_t back_len = 99;
  (void)state;

  master_fixture(m);
  assert_int_equal(wrap_seal(m, NULL, NULL, 0, blob), 0);
  assert_int_equal(wrap_open(m, NULL, blob, sizeof(blob), back, &back_len), 0);
  assert_int_equal(back_len, 0);
}

static void test_tamper_every_byte(void **state) {
  uint8_t m[32], secret[32], blob[32 + WRAP_OVERHEAD], back[32];
  (void)state;

  master_fixture(m);
  memset(secret, 0x5A, sizeof(secret));
  assert_int_equal(wrap_seal(m, AD, secret, sizeof(secret), blob), 0);
  for (size_t i = 0; i < sizeof(blob); i++) {
    size_t back_len = 12345;
    blob[i] ^= 0x01;
    int want = i == 0 ? REG_EINVAL : REG_ECRYPTO; /* byte 0 is the version */
    assert_int_equal(wrap_open(m, AD, blob, sizeof(blob), back, &back_len), want);
    assert_int_equal(back_len, 12345); /* untouched on failure */
    blob[i] ^= 0x01;
  }
}

static void test_wrong_ad_and_key(void **state) {
  uint8_t m[32], secret[32], blob[32 + WRAP_OVERHEAD], back[32];
  size_t back_len = 0;
  (void)state;

  master_fixture(m);
  memset(secret, 0x33, sizeof(secret));
  assert_int_equal(wrap_seal(m, AD, secret, sizeof(secret), blob), 0);
  assert_int_equal(wrap_open(m, "signing_keys/LOG/4", blob, sizeof(blob), back, &back_len),
                   REG_ECRYPTO);
  assert_int_equal(wrap_open(m, NULL, blob, sizeof(blob), back, &back_len), REG_ECRYPTO);
  m[31] ^= 0x80;
  assert_int_equal(wrap_open(m, AD, blob, sizeof(blob), back, &back_len), REG_ECRYPTO);
}

static void test_kek_form_matches(void **state) {
  uint8_t m[32], kek[WRAP_KEK_LEN], secret[8] = {9, 8, 7}, blob[8 + WRAP_OVERHEAD], back[8];
  size_t back_len = 0;
  (void)state;

  master_fixture(m);
  assert_int_equal(wrap_kek_derive(m, kek), 0);
  assert_int_equal(wrap_seal_kek(kek, AD, secret, sizeof(secret), blob), 0);
  assert_int_equal(wrap_open(m, AD, blob, sizeof(blob), back, &back_len), 0);
  assert_memory_equal(back, secret, sizeof(secret));
}

static void test_short_and_null(void **state) {
  uint8_t m[32], blob[WRAP_OVERHEAD - 1] = {WRAP_VERSION}, back[4];
  size_t back_len = 0;
  (void)state;

  master_fixture(m);
  assert_int_equal(wrap_open(m, AD, blob, sizeof(blob), back, &back_len), REG_EINVAL);
  assert_int_equal(wrap_open(m, AD, NULL, 50, back, &back_len), REG_EINVAL);
  assert_int_equal(wrap_seal(m, AD, NULL, 5, back), REG_EINVAL);
  assert_int_equal(wrap_seal(m, AD, back, (size_t)WRAP_MAX_LEN + 1, blob), REG_ERANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_nonce_is_fresh),
      cmocka_unit_test(test_empty_secret),   cmocka_unit_test(test_tamper_every_byte),
      cmocka_unit_test(test_wrong_ad_and_key), cmocka_unit_test(test_kek_form_matches),
      cmocka_unit_test(test_short_and_null),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
