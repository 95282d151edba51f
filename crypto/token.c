/*
 * API-key minting, format check and keyed hashing. The random part is
 * 32 bytes from libsodium's CSPRNG; the stored form is a keyed
 * BLAKE2b-256, never the key itself.
 */
#include "crypto/token.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"

#define RAW_LEN 32
#define PREFIX_LEN (sizeof(TOKEN_API_KEY_PREFIX) - 1)
#define B64_LEN (TOKEN_API_KEY_LEN - PREFIX_LEN)

_Static_assert(B64_LEN == 43, "43 base64url characters");

int token_api_key_new(char out[TOKEN_API_KEY_LEN + 1]) {
  uint8_t raw[RAW_LEN];
  char buf[TOKEN_API_KEY_LEN + 1];
  int rc;

  if (!out) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  randombytes_buf(raw, sizeof(raw));
  memcpy(buf, TOKEN_API_KEY_PREFIX, PREFIX_LEN);
  sodium_bin2base64(buf + PREFIX_LEN, sizeof(buf) - PREFIX_LEN, raw, sizeof(raw),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  memcpy(out, buf, sizeof(buf));
  sodium_memzero(raw, sizeof(raw));
  sodium_memzero(buf, sizeof(buf));
  return 0;
}

int token_hash(const uint8_t key[32], const char *api_key, uint8_t out[TOKEN_HASH_LEN]) {
  uint8_t h[TOKEN_HASH_LEN];
  int rc = 0;

  if (!key || !api_key || !out) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if (crypto_generichash(h, sizeof(h), (const unsigned char *)api_key, strlen(api_key), key,
                         32) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  memcpy(out, h, sizeof(h));
out:
  sodium_memzero(h, sizeof(h));
  return rc;
}

static int is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_';
}

int token_api_key_check_format(const char *s) {
  uint8_t raw[RAW_LEN];
  size_t raw_len = 0;
  const char *end = NULL;
  int rc = REG_EINVAL;

  if (!s || strncmp(s, TOKEN_API_KEY_PREFIX, PREFIX_LEN) != 0) return REG_EINVAL;
  if (strlen(s) != TOKEN_API_KEY_LEN) return REG_EINVAL;
  for (size_t i = PREFIX_LEN; i < TOKEN_API_KEY_LEN; i++)
    if (!is_b64url(s[i])) return REG_EINVAL;
  if (keys_init() != 0) return REG_EINVAL;
  /* libsodium refuses non-zero padding bits in the last character */
  if (sodium_base642bin(raw, sizeof(raw), s + PREFIX_LEN, B64_LEN, NULL, &raw_len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
      raw_len == RAW_LEN && end == s + TOKEN_API_KEY_LEN)
    rc = 0;
  sodium_memzero(raw, sizeof(raw));
  return rc;
}
