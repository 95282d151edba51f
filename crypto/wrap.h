/*
 * Wrapping of stored secrets (signing keys, PII data keys) under a
 * key-encryption key (KEK) derived from the master key:
 * XChaCha20-Poly1305-IETF with a random 24-byte nonce. The associated data
 * names what is wrapped and where it lives ("signing_keys/LOG/3",
 * "pii_data_keys/7"), so a wrapped blob moved to another row does not
 * open.
 *
 * Layout: version byte (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16).
 */
#ifndef REG_CRYPTO_WRAP_H
#define REG_CRYPTO_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define WRAP_VERSION 1
#define WRAP_OVERHEAD (1 + 24 + 16)
#define WRAP_KEK_LEN 32
/* Largest secret wrap_seal accepts. */
#define WRAP_MAX_LEN (1u << 20)

/* Derives the KEK (keys_derive(master, KEYS_ID_WRAP, KEYS_CTX_WRAP)) into
 * kek, for callers that keep the KEK instead of the master key. 0 or
 * REG_EINVAL / REG_ECRYPTO. The caller wipes kek. */
int wrap_kek_derive(const uint8_t master[32], uint8_t kek[WRAP_KEK_LEN]) REG_MUST_CHECK;

/* Seals in[len] under the KEK of master with associated data ad (a C
 * string; NULL means empty) into out, which must hold len + WRAP_OVERHEAD
 * bytes. 0; REG_EINVAL (NULL buffer), REG_ERANGE (len > WRAP_MAX_LEN) or
 * REG_ECRYPTO. out written only on success. */
int wrap_seal(const uint8_t master[32], const char *ad, const uint8_t *in, size_t len,
              uint8_t *out) REG_MUST_CHECK;

/* Opens in[len] (as made by wrap_seal) into out, which must hold
 * len - WRAP_OVERHEAD bytes; *out_len gets that length. 0; REG_EINVAL
 * (too short, unknown version byte, NULL argument), REG_ECRYPTO (bad tag:
 * wrong key, wrong ad or tampered). On failure *out_len is untouched and
 * out holds no plaintext (libsodium may have zeroed it). */
int wrap_open(const uint8_t master[32], const char *ad, const uint8_t *in, size_t len,
              uint8_t *out, size_t *out_len) REG_MUST_CHECK;

/* The same two operations with the KEK itself (see wrap_kek_derive). */
int wrap_seal_kek(const uint8_t kek[WRAP_KEK_LEN], const char *ad, const uint8_t *in,
                  size_t len, uint8_t *out) REG_MUST_CHECK;
int wrap_open_kek(const uint8_t kek[WRAP_KEK_LEN], const char *ad, const uint8_t *in,
                  size_t len, uint8_t *out, size_t *out_len) REG_MUST_CHECK;

#endif
