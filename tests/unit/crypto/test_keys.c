/*
 * Unit tests of crypto/keys.c: sub-key derivation against known answers
 * computed with an independent BLAKE2b (Python hashlib: key = master,
 * salt = LE64(id) ‖ 0^8, person = ctx ‖ 0^8), and separation of uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"

static void master_fixture(uint8_t m[32]) {
  for (int i = 0; i < 32; i++) m[i] = (uint8_t)i;
}

static void hex_to(const char *hex, uint8_t *out, size_t n) {
  size_t got = 0;
  assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
  assert_int_equal(got, n);
}

static void test_known_answers(void **state) {
  static const struct {
    uint64_t id;
    const char *ctx;
    const char *hex;
  } kat[] = {
      {1, KEYS_CTX_WRAP, "c4fe1c732e8df8ee7f5532cd470d6c5037fd016d5bca59019ed46c965cc36749"},
      {1, KEYS_CTX_BLIND, "9237f9eb6fe6adc52f12622e4390ed5832172b9f04380c1e07bb9d735ffa4198"},
      {1, KEYS_CTX_TOKEN, "1c63cc54c6c308e297fb5e07b2717a24f78c02703da29f440e1ebaff1c1369ae"},
      {1, KEYS_CTX_PAGE, "4d8be55916d1b1c1bdaf0c5e3a784a93c6020f04df6da7a7ec284a6a4881a266"},
      {2, KEYS_CTX_WRAP, "2fd2e024acf8947b59e1b54e653b38d2c896a12ddd93e3cea851ae608ce45583"},
  };
  uint8_t m[32], got[32], want[32];
  (void)state;

  master_fixture(m);
  for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
    hex_to(kat[i].hex, want, sizeof(want));
    assert_int_equal(keys_derive(m, kat[i].id, kat[i].ctx, got), 0);
    assert_memory_equal(got, want, sizeof(want));
  }
}

static void test_uses_are_separate(void **state) {
  uint8_t m[32], a[32], b[32], c[32];
  (void)state;

  master_fixture(m);
  assert_int_equal(keys_derive(m, KEYS_ID_WRAP, KEYS_CTX_WRAP, a), 0);
  assert_int_equal(keys_derive(m, KEYS_ID_BLIND, KEYS_CTX_BLIND, b), 0);
  assert_memory_not_equal(a, b, sizeof(a));
  m[0] ^= 1; /* another master key, same use */
  assert_int_equal(keys_derive(m, KEYS_ID_WRAP, KEYS_CTX_WRAP, c), 0);
  assert_memory_not_equal(a, c, sizeof(a));
}

static void test_null_leaves_out_untouched(void **state) {
  uint8_t m[32], out[32], before[32];
  (void)state;

  master_fixture(m);
  memset(out, 0xAA, sizeof(out));
  memcpy(before, out, sizeof(out));
  assert_int_equal(keys_derive(NULL, 1, KEYS_CTX_WRAP, out), REG_EINVAL);
  assert_int_equal(keys_derive(m, 1, NULL, out), REG_EINVAL);
  assert_memory_equal(out, before, sizeof(out));
  assert_int_equal(keys_init(), 0);
  assert_int_equal(keys_init(), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_uses_are_separate),
      cmocka_unit_test(test_null_leaves_out_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
