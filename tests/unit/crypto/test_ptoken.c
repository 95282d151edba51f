/*
 * Unit tests of crypto/ptoken.c: round trips, a known-answer token, every
 * flipped character, other filters, another key, garbage, limits, and the
 * filter hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/keys.h"
#include "crypto/ptoken.h"

typedef struct fx {
  uint8_t key[32];
  uint8_t fh[PTOKEN_FILTER_HASH_LEN];
} fx;

static int setup(void **state) {
  static fx f;
  uint8_t m[32];
  for (int i = 0; i < 32; i++) m[i] = (uint8_t)i;
  if (keys_derive(m, KEYS_ID_PAGE, KEYS_CTX_PAGE, f.key) != 0) return -1;
  for (int i = 0; i < PTOKEN_FILTER_HASH_LEN; i++) f.fh[i] = (uint8_t)i;
  *state = &f;
  return 0;
}

static void test_known_answer(void **state) {
  fx *f = *state;
  char tok[PTOKEN_MAX_LEN + 1];
  uint8_t cur[PTOKEN_MAX_CURSOR];
  size_t cur_len = 0;

  /* independent BLAKE2b-128 MAC and base64url (Python) */
  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"cursor-42", 9, tok,
                                 sizeof(tok)),
                   0);
  assert_string_equal(tok, "AQABAgMEBQYHCAkKCwwNDg9jdXJzb3ItNDJs5p-1quPr-IA4KniDIIP8");
  assert_int_equal(ptoken_decode(f->key, f->fh, tok, cur, sizeof(cur), &cur_len), 0);
  assert_int_equal(cur_len, 9);
  assert_memory_equal(cur, "cursor-42", 9);
}

static void test_round_trip_sizes(void **state) {
  fx *f = *state;
  char tok[PTOKEN_MAX_LEN + 1];
  uint8_t in[PTOKEN_MAX_CURSOR], out[PTOKEN_MAX_CURSOR];
  static const size_t sizes[] = {0, 1, 2, 3, 17, 255, PTOKEN_MAX_CURSOR};

  for (size_t i = 0; i < sizeof(in); i++) in[i] = (uint8_t)(i * 31 + 7);
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    size_t out_len = 9999;
    assert_int_equal(ptoken_encode(f->key, f->fh, in, sizes[k], tok, sizeof(tok)), 0);
    assert_true(strlen(tok) <= PTOKEN_MAX_LEN);
    assert_int_equal(ptoken_decode(f->key, f->fh, tok, out, sizeof(out), &out_len), 0);
    assert_int_equal(out_len, sizes[k]);
    if (sizes[k]) assert_memory_equal(out, in, sizes[k]);
  }
  assert_int_equal(ptoken_encode(f->key, f->fh, in, PTOKEN_MAX_CURSOR + 1, tok, sizeof(tok)),
                   REG_EINVAL);
}

static void test_flipped_characters(void **state) {
  fx *f = *state;
  char tok[PTOKEN_MAX_LEN + 1];
  uint8_t cur[64];
  size_t len, cur_len;

  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"row:123", 7, tok, sizeof(tok)),
                   0);
  len = strlen(tok);
  for (size_t i = 0; i < len; i++) {
    char saved = tok[i];
    tok[i] = saved == 'A' ? 'B' : 'A';
    cur_len = 4242;
    int rc = ptoken_decode(f->key, f->fh, tok, cur, sizeof(cur), &cur_len);
    /* a change confined to the final character's padding bits is refused
     * by the decoder, the rest by the MAC: never accepted */
    assert_int_equal(rc, REG_EINVAL);
    assert_int_equal(cur_len, 4242);
    tok[i] = saved;
  }
}

static void test_other_filters_and_key(void **state) {
  fx *f = *state;
  char tok[PTOKEN_MAX_LEN + 1];
  uint8_t other_fh[PTOKEN_FILTER_HASH_LEN], other_key[32], cur[64];
  size_t cur_len = 0;

  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"x", 1, tok, sizeof(tok)), 0);
  memcpy(other_fh, f->fh, sizeof(other_fh));
  other_fh[15] ^= 1;
  assert_int_equal(ptoken_decode(f->key, other_fh, tok, cur, sizeof(cur), &cur_len), REG_EPERM);
  memcpy(other_key, f->key, 32);
  other_key[0] ^= 1;
  assert_int_equal(ptoken_decode(other_key, f->fh, tok, cur, sizeof(cur), &cur_len),
                   REG_EINVAL);
  assert_int_equal(ptoken_decode(f->key, f->fh, tok, cur, 0, &cur_len), REG_ERANGE);
  assert_int_equal(cur_len, 0);
}

static void test_garbage(void **state) {
  fx *f = *state;
  static const char *const junk[] = {
      "", "A", "AA", "!!!!", "AQAB", "AQABAgMEBQYHCAkKCwwNDg9j",
      "AQABAgMEBQYHCAkKCwwNDg9jdXJzb3ItNDJs5p-1quPr-IA4KniDIIP8=",  /* padded */
      "AQABAgMEBQYHCAkKCwwNDg9jdXJzb3ItNDJs5p+1quPr+IA4KniDIIP8",   /* base64, not url */
      "AgABAgMEBQYHCAkKCwwNDg9jdXJzb3ItNDJs5p-1quPr-IA4KniDIIP8",   /* version 2 */
      " AQABAgMEBQYHCAkKCwwNDg9jdXJzb3ItNDJs5p-1quPr-IA4KniDIIP8",
  };
  uint8_t cur[64];
  size_t cur_len = 0;
  char big[PTOKEN_MAX_LEN + 2];

  for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
    print_message("junk[%zu] = \"%s\"\n", i, junk[i]);
    assert_int_equal(ptoken_decode(f->key, f->fh, junk[i], cur, sizeof(cur), &cur_len),
                     REG_EINVAL);
  }
  memset(big, 'A', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  assert_int_equal(ptoken_decode(f->key, f->fh, big, cur, sizeof(cur), &cur_len), REG_EINVAL);
  assert_int_equal(ptoken_decode(f->key, f->fh, NULL, cur, sizeof(cur), &cur_len), REG_EINVAL);
}

static void test_encode_cap(void **state) {
  fx *f = *state;
  char tok[PTOKEN_MAX_LEN + 1];
  char small[8] = "keep";

  /* 1 + 16 + 3 + 16 = 36 bytes → 48 characters + NUL */
  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"abc", 3, tok, 49), 0);
  assert_int_equal(strlen(tok), 48);
  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"abc", 3, tok, 48),
                   REG_ERANGE);
  assert_int_equal(ptoken_encode(f->key, f->fh, (const uint8_t *)"abc", 3, small, sizeof(small)),
                   REG_ERANGE);
  assert_string_equal(small, "keep");
}

static void test_filter_hash(void **state) {
  uint8_t a[16], b[16], want[16];
  size_t got = 0;
  const char *const p1[] = {"org_1", "", "2024-01-01"};
  const char *const p2[] = {"org_1", NULL, "2024-01-01"};
  const char *const q1[] = {"ab", "c"};
  const char *const q2[] = {"a", "bc"};
  (void)state;

  assert_int_equal(sodium_hex2bin(want, sizeof(want), "b581335e11924c4d24ab6f075b183e1d", 32,
                                  NULL, &got, NULL),
                   0);
  ptoken_filter_hash(p1, 3, a);
  assert_memory_equal(a, want, 16);
  ptoken_filter_hash(p2, 3, b); /* NULL counts as "" */
  assert_memory_equal(a, b, 16);
  ptoken_filter_hash(q1, 2, a);
  ptoken_filter_hash(q2, 2, b);
  assert_memory_not_equal(a, b, 16);
  assert_int_equal(sodium_hex2bin(want, sizeof(want), "cae66941d9efbd404e4d88758ea67670", 32,
                                  NULL, &got, NULL),
                   0);
  ptoken_filter_hash(NULL, 0, a);
  assert_memory_equal(a, want, 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_known_answer, setup),
      cmocka_unit_test_setup(test_round_trip_sizes, setup),
      cmocka_unit_test_setup(test_flipped_characters, setup),
      cmocka_unit_test_setup(test_other_filters_and_key, setup),
      cmocka_unit_test_setup(test_garbage, setup),
      cmocka_unit_test_setup(test_encode_cap, setup),
      cmocka_unit_test(test_filter_hash),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
