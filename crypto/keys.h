/*
 * Sub-keys of the master key. The registry holds one 32-byte master key
 * (from the configuration); every key it actually uses is derived from it
 * with libsodium's BLAKE2b KDF under a per-use 8-byte context and a
 * 64-bit sub-key id, so that no two uses ever share a key and a use can be
 * rotated by bumping its id.
 *
 * keys_init() wraps sodium_init(); every public entry point of crypto/ that
 * calls libsodium calls it first, so callers need not.
 */
#ifndef REG_CRYPTO_KEYS_H
#define REG_CRYPTO_KEYS_H

#include <stdint.h>

#include "services/base/err.h"

#define KEYS_MASTER_LEN 32
#define KEYS_SUBKEY_LEN 32

/* Contexts: exactly 8 bytes, no NUL needed (the literals below are 8
 * characters). One per use:
 *   KEYS_CTX_WRAP   key-encryption key for wrapped secrets (crypto/wrap.c):
 *                   signing keys, PII data keys
 *   KEYS_CTX_BLIND  blind-index key for lookups of personal data
 *                   (crypto/pii.c)
 *   KEYS_CTX_TOKEN  key of the API-key hash (crypto/token.c)
 *   KEYS_CTX_PAGE   MAC key of page tokens (crypto/ptoken.c) */
#define KEYS_CTX_WRAP "regwrap_"
#define KEYS_CTX_BLIND "regblind"
#define KEYS_CTX_TOKEN "regtoken"
#define KEYS_CTX_PAGE "regpage_"

/* The sub-key ids in use today. A blind index or token hash keyed by
 * another id would not match stored rows: change them only with a
 * migration that recomputes those columns. */
#define KEYS_ID_WRAP 1
#define KEYS_ID_BLIND 1
#define KEYS_ID_TOKEN 1
#define KEYS_ID_PAGE 1

/* Initialises libsodium once per process (thread-safe, cheap after the
 * first call). 0, or REG_ECRYPTO if sodium_init() failed (no entropy
 * source). */
int keys_init(void) REG_MUST_CHECK;

/* Derives the 32-byte sub-key (subkey_id, ctx) of master into out.
 * 0, REG_EINVAL (a NULL argument) or REG_ECRYPTO; out written only on
 * success. The caller wipes out (sodium_memzero) when done with it. */
int keys_derive(const uint8_t master[KEYS_MASTER_LEN], uint64_t subkey_id,
                const char ctx[8], uint8_t out[KEYS_SUBKEY_LEN]) REG_MUST_CHECK;

#endif
