/*
 * Unit tests of crypto/token.c: API-key shape, format check, and the
 * keyed hash against a known answer from an independent BLAKE2b.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "crypto/token.h"

static void test_new_key_shape(void **state) {
  char a[TOKEN_API_KEY_LEN + 1], b[TOKEN_API_KEY_LEN + 1];
  (void)state;

  assert_int_equal(token_api_key_new(a), 0);
  assert_int_equal(token_api_key_new(b), 0);
  assert_int_equal(strlen(a), TOKEN_API_KEY_LEN);
  assert_memory_equal(a, "rk_", 3);
  assert_string_not_equal(a, b);
  assert_int_equal(token_api_key_check_format(a), 0);
  assert_int_equal(token_api_key_check_format(b), 0);
}

static void test_format(void **state) {
  static const char *const good[] = {
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "rk_----ABCD----ABCD----ABCD----ABCD----ABCD__A",
      "rk_zz09zz09zz09zz09zz09zz09zz09zz09zz09zz09zzw",
  };
  static const char *const bad[] = {
      "",
      "rk_",
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 42 */
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* 44 */
      "RK_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+", /* base64, not base64url */
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", /* non-zero padding bits */
      "rk_AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA",
  };
  (void)state;

  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_int_equal(token_api_key_check_format(good[i]), 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    print_message("bad[%zu] = \"%s\"\n", i, bad[i]);
    assert_int_equal(token_api_key_check_format(bad[i]), REG_EINVAL);
  }
  assert_int_equal(token_api_key_check_format(NULL), REG_EINVAL);
}

static void test_hash_known_answer(void **state) {
  uint8_t m[32], key[32], h[32], h2[32], want[32];
  size_t got = 0;
  (void)state;

  for (int i = 0; i < 32; i++) m[i] = (uint8_t)i;
  assert_int_equal(keys_derive(m, KEYS_ID_TOKEN, KEYS_CTX_TOKEN, key), 0);
  assert_int_equal(
      sodium_hex2bin(want, sizeof(want),
                     "bbd16a7b068c6320cba3095d367d0ea62fa995d1e13e0824a59144182468bb6f", 64,
                     NULL, &got, NULL),
      0);
  assert_int_equal(token_hash(key, "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h), 0);
  assert_memory_equal(h, want, 32);
  assert_int_equal(token_hash(key, "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQ", h2), 0);
  assert_memory_not_equal(h, h2, 32);
  key[0] ^= 1;
  assert_int_equal(token_hash(key, "rk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h2), 0);
  assert_memory_not_equal(h, h2, 32);
  assert_int_equal(token_hash(key, NULL, h2), REG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_key_shape),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_hash_known_answer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
