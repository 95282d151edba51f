/*
 * Page tokens: a versioned, MAC'd envelope around a list call's cursor and
 * the hash of its filters, in unpadded base64url so it travels in a proto
 * string and a URL unchanged. Verification compares the MAC in constant
 * time before looking at anything else in the token.
 */
#include "crypto/ptoken.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"

#define HEAD_LEN (1 + PTOKEN_FILTER_HASH_LEN)
#define MAX_RAW (HEAD_LEN + PTOKEN_MAX_CURSOR + PTOKEN_MAC_LEN)

_Static_assert(PTOKEN_MAX_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(MAX_RAW, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "PTOKEN_MAX_LEN");

static int mac(const uint8_t key[32], const uint8_t *msg, size_t len,
               uint8_t out[PTOKEN_MAC_LEN]) {
  return crypto_generichash(out, PTOKEN_MAC_LEN, msg, len, key, 32) == 0 ? 0 : REG_ECRYPTO;
}

int ptoken_encode(const uint8_t key[32], const uint8_t filter_hash[PTOKEN_FILTER_HASH_LEN],
                  const uint8_t *cursor, size_t cursor_len, char *out, size_t cap) {
  uint8_t raw[MAX_RAW];
  size_t raw_len, need;
  int rc;

  if (!key || !filter_hash || (!cursor && cursor_len) || !out) return REG_EINVAL;
  if (cursor_len > PTOKEN_MAX_CURSOR) return REG_EINVAL;
  raw_len = HEAD_LEN + cursor_len + PTOKEN_MAC_LEN;
  need = sodium_base64_ENCODED_LEN(raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if (cap < need) return REG_ERANGE;
  if ((rc = keys_init()) != 0) return rc;
  raw[0] = PTOKEN_VERSION;
  memcpy(raw + 1, filter_hash, PTOKEN_FILTER_HASH_LEN);
  if (cursor_len) memcpy(raw + HEAD_LEN, cursor, cursor_len);
  if ((rc = mac(key, raw, HEAD_LEN + cursor_len, raw + HEAD_LEN + cursor_len)) != 0) return rc;
  sodium_bin2base64(out, cap, raw, raw_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return 0;
}

int ptoken_decode(const uint8_t key[32], const uint8_t filter_hash[PTOKEN_FILTER_HASH_LEN],
                  const char *token, uint8_t *cursor, size_t cap, size_t *cursor_len) {
  uint8_t raw[MAX_RAW];
  uint8_t want[PTOKEN_MAC_LEN];
  size_t tlen, raw_len = 0, clen;
  const char *end = NULL;
  int rc;

  if (!key || !filter_hash || !token || !cursor_len || (!cursor && cap)) return REG_EINVAL;
  tlen = strlen(token);
  if (tlen == 0 || tlen > PTOKEN_MAX_LEN) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if (sodium_base642bin(raw, sizeof(raw), token, tlen, NULL, &raw_len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != token + tlen)
    return REG_EINVAL;
  if (raw_len < HEAD_LEN + PTOKEN_MAC_LEN || raw[0] != PTOKEN_VERSION) return REG_EINVAL;
  clen = raw_len - HEAD_LEN - PTOKEN_MAC_LEN;
  if ((rc = mac(key, raw, raw_len - PTOKEN_MAC_LEN, want)) != 0) return rc;
  if (sodium_memcmp(want, raw + raw_len - PTOKEN_MAC_LEN, PTOKEN_MAC_LEN) != 0) return REG_EINVAL;
  if (sodium_memcmp(raw + 1, filter_hash, PTOKEN_FILTER_HASH_LEN) != 0) return REG_EPERM;
  if (cap < clen) return REG_ERANGE;
  if (clen) memcpy(cursor, raw + HEAD_LEN, clen);
  *cursor_len = clen;
  return 0;
}

void ptoken_filter_hash(const char *const *parts, size_t n,
                        uint8_t out[PTOKEN_FILTER_HASH_LEN]) {
  crypto_generichash_state st;
  /* sodium_init fails only without an entropy source, which unkeyed
   * BLAKE2b does not need: hash regardless. */
  int ready = keys_init();

  (void)ready;
  crypto_generichash_init(&st, NULL, 0, PTOKEN_FILTER_HASH_LEN);
  for (size_t i = 0; i < n; i++) {
    const char *p = parts && parts[i] ? parts[i] : "";
    size_t len = strlen(p);
    uint8_t be[8];
    for (int b = 0; b < 8; b++) be[b] = (uint8_t)((uint64_t)len >> (56 - 8 * b));
    crypto_generichash_update(&st, be, sizeof(be));
    crypto_generichash_update(&st, (const unsigned char *)p, len);
  }
  crypto_generichash_final(&st, out, PTOKEN_FILTER_HASH_LEN);
}
