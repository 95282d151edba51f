/*
 * Secret wrapping: XChaCha20-Poly1305-IETF under a KEK derived from the
 * master key (KEYS_CTX_WRAP), a fresh random nonce per seal, and the
 * caller's associated data binding the blob to its place in the database.
 * A leading version byte leaves room for another construction later.
 */
#include "crypto/wrap.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

_Static_assert(WRAP_OVERHEAD == 1 + NONCE_LEN + TAG_LEN, "WRAP_OVERHEAD");
_Static_assert(WRAP_KEK_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "KEK size");

int wrap_kek_derive(const uint8_t master[32], uint8_t kek[WRAP_KEK_LEN]) {
  return keys_derive(master, KEYS_ID_WRAP, KEYS_CTX_WRAP, kek);
}

static const unsigned char *ad_bytes(const char *ad, size_t *ad_len) {
  *ad_len = ad ? strlen(ad) : 0;
  return (const unsigned char *)ad;
}

int wrap_seal_kek(const uint8_t kek[WRAP_KEK_LEN], const char *ad, const uint8_t *in,
                  size_t len, uint8_t *out) {
  size_t ad_len;
  const unsigned char *adb = ad_bytes(ad, &ad_len);
  int rc;

  if (!kek || (!in && len) || !out) return REG_EINVAL;
  if (len > WRAP_MAX_LEN) return REG_ERANGE;
  if ((rc = keys_init()) != 0) return rc;
  out[0] = WRAP_VERSION;
  randombytes_buf(out + 1, NONCE_LEN);
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCE_LEN, NULL, in, len, adb,
                                                 ad_len, NULL, out + 1, kek) != 0)
    return REG_ECRYPTO;
  return 0;
}

int wrap_open_kek(const uint8_t kek[WRAP_KEK_LEN], const char *ad, const uint8_t *in,
                  size_t len, uint8_t *out, size_t *out_len) {
  size_t ad_len;
  const unsigned char *adb = ad_bytes(ad, &ad_len);
  int rc;

  if (!kek || !in || !out_len) return REG_EINVAL;
  if (len < WRAP_OVERHEAD || in[0] != WRAP_VERSION) return REG_EINVAL;
  if (!out && len > WRAP_OVERHEAD) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + 1 + NONCE_LEN,
                                                 len - 1 - NONCE_LEN, adb, ad_len, in + 1,
                                                 kek) != 0)
    return REG_ECRYPTO;
  *out_len = len - WRAP_OVERHEAD;
  return 0;
}

int wrap_seal(const uint8_t master[32], const char *ad, const uint8_t *in, size_t len,
              uint8_t *out) {
  uint8_t kek[WRAP_KEK_LEN];
  int rc;

  if ((rc = wrap_kek_derive(master, kek)) != 0) goto out;
  rc = wrap_seal_kek(kek, ad, in, len, out);
out:
  sodium_memzero(kek, sizeof(kek));
  return rc;
}

int wrap_open(const uint8_t master[32], const char *ad, const uint8_t *in, size_t len,
              uint8_t *out, size_t *out_len) {
  uint8_t kek[WRAP_KEK_LEN];
  int rc;

  if ((rc = wrap_kek_derive(master, kek)) != 0) goto out;
  rc = wrap_open_kek(kek, ad, in, len, out, out_len);
out:
  sodium_memzero(kek, sizeof(kek));
  return rc;
}
