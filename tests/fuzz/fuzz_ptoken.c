/*
 * Fuzz target: page tokens (crypto/ptoken.h) under a fixed key.
 *
 * Input [0] even: the rest, NUL-terminated, is a token from a client:
 * ptoken_decode must not crash, must return one of its documented codes,
 * and (the MAC being unforgeable) must not accept it unless it is exactly
 * a token ptoken_encode gives for the decoded cursor. Outputs are written
 * only on success.
 *
 * Input [0] odd: [1] picks a cursor-buffer size and a position, the rest
 * is a cursor. Encoding (when it is at most PTOKEN_MAX_CURSOR bytes) must
 * give a token of at most PTOKEN_MAX_LEN characters that decodes back to
 * the same cursor; under other filters it is REG_EPERM; with a buffer
 * smaller than the cursor REG_ERANGE; with one character changed, or cut
 * short, it is refused.
 */
#include <string.h>

#include "crypto/keys.h"
#include "crypto/ptoken.h"
#include "services/base/err.h"
#include "tests/fuzz/fuzz.h"

static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static uint8_t filters[PTOKEN_FILTER_HASH_LEN], other[PTOKEN_FILTER_HASH_LEN];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  FUZZ_CHECK(keys_init() == 0);
  const char *f1[] = {"kind", "ROLE_PLATFORM"}, *f2[] = {"kind", "ROLE_INSPECTOR"};
  ptoken_filter_hash(f1, 2, filters);
  ptoken_filter_hash(f2, 2, other);
  return 0;
}

static void decode_input(const uint8_t *data, size_t size) {
  char *tok = malloc(size + 1);
  if (!tok) return;
  memcpy(tok, data, size);
  tok[size] = 0;
  uint8_t cur[PTOKEN_MAX_CURSOR + 8];
  memset(cur, 0xA5, sizeof(cur));
  size_t clen = 12345;
  int rv = ptoken_decode(key, filters, tok, cur, sizeof(cur), &clen);
  if (rv != 0) {
    FUZZ_CHECK(rv == REG_EINVAL || rv == REG_EPERM || rv == REG_ERANGE);
    FUZZ_CHECK(clen == 12345);
    for (size_t i = 0; i < sizeof(cur); i++) FUZZ_CHECK(cur[i] == 0xA5);
  } else {
    /* Accepted: it must be the token we would have issued. */
    char again[PTOKEN_MAX_LEN + 1];
    FUZZ_CHECK(clen <= PTOKEN_MAX_CURSOR);
    FUZZ_CHECK(ptoken_encode(key, filters, cur, clen, again, sizeof(again)) == 0);
    FUZZ_CHECK(strcmp(again, tok) == 0);
  }
  free(tok);
}

static void round_trip(uint8_t sel, const uint8_t *cursor, size_t n) {
  char tok[PTOKEN_MAX_LEN + 1];
  memset(tok, 0x5A, sizeof(tok));
  int rv = ptoken_encode(key, filters, cursor, n, tok, sizeof(tok));
  if (n > PTOKEN_MAX_CURSOR) {
    FUZZ_CHECK(rv == REG_EINVAL);
    return;
  }
  FUZZ_CHECK(rv == 0);
  size_t tlen = strlen(tok);
  FUZZ_CHECK(tlen > 0 && tlen <= PTOKEN_MAX_LEN);

  uint8_t cur[PTOKEN_MAX_CURSOR];
  size_t clen = 0;
  FUZZ_CHECK(ptoken_decode(key, filters, tok, cur, sizeof(cur), &clen) == 0);
  FUZZ_CHECK(clen == n && (n == 0 || memcmp(cur, cursor, n) == 0));
  FUZZ_CHECK(ptoken_decode(key, other, tok, cur, sizeof(cur), &clen) == REG_EPERM);
  size_t small = sel % (n + 1);
  if (small < n)
    FUZZ_CHECK(ptoken_decode(key, filters, tok, cur, small, &clen) == REG_ERANGE);

  /* One character changed: never accepted. */
  size_t pos = sel % tlen;
  char saved = tok[pos];
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/. ";
  char repl = alphabet[(sel >> 1) % (sizeof(alphabet) - 1)];
  if (repl == saved) repl = saved == 'A' ? 'B' : 'A';
  tok[pos] = repl;
  FUZZ_CHECK(ptoken_decode(key, filters, tok, cur, sizeof(cur), &clen) == REG_EINVAL);
  tok[pos] = saved;
  /* Cut short. */
  tok[pos] = 0;
  FUZZ_CHECK(ptoken_decode(key, filters, tok, cur, sizeof(cur), &clen) == REG_EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if ((data[0] & 1) == 0) {
    decode_input(data + 1, size - 1);
  } else if (size >= 2) {
    round_trip(data[1], data + 2, size - 2);
  }
  return 0;
}
