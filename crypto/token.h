/*
 * API keys. A key is "rk_" followed by the unpadded base64url form of 32
 * random bytes (46 characters). The registry stores only a keyed hash of
 * it (BLAKE2b-256 under keys_derive(master, KEYS_ID_TOKEN,
 * KEYS_CTX_TOKEN)), so a leaked table reveals no usable key and a lookup is
 * one indexed equality on the hash.
 */
#ifndef REG_CRYPTO_TOKEN_H
#define REG_CRYPTO_TOKEN_H

#include <stdint.h>

#include "services/base/err.h"

#define TOKEN_API_KEY_PREFIX "rk_"
#define TOKEN_API_KEY_LEN 46 /* 3 + 43, without the NUL */
#define TOKEN_HASH_LEN 32

/* A fresh random API key, NUL-terminated, into out. 0 or REG_ECRYPTO /
 * REG_EINVAL; out written only on success. The caller shows it once and
 * wipes it. */
int token_api_key_new(char out[TOKEN_API_KEY_LEN + 1]) REG_MUST_CHECK;

/* Keyed BLAKE2b-256 of the api_key string (its bytes up to the NUL) under
 * key (the token sub-key, see above) into out. Any string is hashed; check
 * the format first to refuse garbage cheaply. 0, REG_EINVAL (NULL) or
 * REG_ECRYPTO. Compare hashes with sodium_memcmp. */
int token_hash(const uint8_t key[32], const char *api_key,
               uint8_t out[TOKEN_HASH_LEN]) REG_MUST_CHECK;

/* 0 if s is "rk_" + 43 base64url characters that decode to 32 bytes (the
 * last character carries 4 bits, so it is one of AEIMQUYcgkosw048), else
 * REG_EINVAL. Not a secret comparison: it only looks at the shape. */
int token_api_key_check_format(const char *s) REG_MUST_CHECK;

#endif
