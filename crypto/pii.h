/*
 * Encryption of personal data at rest (SPEC §3): names of natural persons,
 * resident ID numbers, phone numbers. Each value is sealed with
 * XChaCha20-Poly1305-IETF under a random 32-byte data key; data keys are
 * stored wrapped under the master key (crypto/wrap.h, ad
 * "pii_data_keys/<version>") and every ciphertext is tagged with the
 * version of its key, so keys can rotate while old rows stay readable.
 * Lookups by value use a keyed blind index (BLAKE2b-256 under a key
 * derived from the master key), deterministic across restarts.
 *
 * Threads: a keyring is filled at start-up (pii_data_key_create,
 * pii_keyring_add) and then read by many workers at once. Every function
 * taking `const pii_keyring *` may be called concurrently; adds may also
 * run while readers do (an internal read-write lock orders them), but
 * pii_keyring_free must not overlap any other call. Functions that take
 * the lock also return REG_EIO if pthread refuses it (never expected).
 */
#ifndef REG_CRYPTO_PII_H
#define REG_CRYPTO_PII_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/wrap.h"
#include "services/base/err.h"

typedef struct pii_keyring pii_keyring;

/* 4-byte big-endian key version ‖ 24-byte nonce ‖ ciphertext ‖ 16-byte tag. */
#define PII_OVERHEAD (4 + 24 + 16)
#define PII_DATA_KEY_LEN 32
/* Size of a wrapped data key (what pii_data_key_create writes). */
#define PII_WRAPPED_KEY_LEN (PII_DATA_KEY_LEN + WRAP_OVERHEAD)
/* Most data keys one ring holds (rotations over the registry's life). */
#define PII_MAX_KEYS 1024
/* Largest plaintext pii_encrypt accepts. */
#define PII_MAX_LEN (1u << 20)

/* A new, empty ring for master: derives and keeps the KEK and the
 * blind-index key (in sodium_malloc memory), not master, which the caller
 * may wipe as soon as this returns. 0 and *out (free with
 * pii_keyring_free); REG_EINVAL, REG_ENOMEM or REG_ECRYPTO, *out
 * untouched. */
int pii_keyring_new(const uint8_t master[32], pii_keyring **out) REG_MUST_CHECK;

/* Wipes and frees every key. NULL is a no-op. */
void pii_keyring_free(pii_keyring *r);

/* Generates a random data key of this version (≥ 1, not yet in the ring),
 * writes it wrapped (ad "pii_data_keys/<version>", PII_WRAPPED_KEY_LEN
 * bytes) to wrapped[cap] and *wrapped_len, adds it and makes it active.
 * The caller stores the wrapped key. 0; REG_EINVAL (version 0 or a NULL
 * argument), REG_EEXIST (version already in the ring), REG_ERANGE
 * (cap < PII_WRAPPED_KEY_LEN, or PII_MAX_KEYS reached), REG_ENOMEM,
 * REG_ECRYPTO. On failure the ring and the outputs are unchanged. */
int pii_data_key_create(pii_keyring *r, uint32_t version, uint8_t *wrapped, size_t cap,
                        size_t *wrapped_len) REG_MUST_CHECK;

/* Unwraps a stored data key of this version and adds it; the highest
 * version in the ring becomes active. 0; REG_EINVAL (version 0, malformed
 * or wrong length), REG_ECRYPTO (does not unwrap under this master key and
 * version), REG_EEXIST, REG_ERANGE (PII_MAX_KEYS reached), REG_ENOMEM. */
int pii_keyring_add(pii_keyring *r, uint32_t version, const uint8_t *wrapped,
                    size_t len) REG_MUST_CHECK;

/* The version new ciphertexts are made with; 0 when the ring is empty. */
uint32_t pii_keyring_active(const pii_keyring *r);

/* Encrypts pt[len] under the active key with associated data ad (a C
 * string such as "table/column/row-id"; NULL means empty) into out[cap]:
 * len + PII_OVERHEAD bytes, *out_len set. 0; REG_ENOTFOUND (no active
 * key), REG_ERANGE (cap too small, len > PII_MAX_LEN), REG_EINVAL,
 * REG_ECRYPTO. Outputs written only on success. */
int pii_encrypt(const pii_keyring *r, const char *ad, const uint8_t *pt, size_t len,
                uint8_t *out, size_t cap, size_t *out_len) REG_MUST_CHECK;

/* Decrypts in[len] with the key named by its version tag and the same ad
 * it was encrypted with into out[cap] (len - PII_OVERHEAD bytes), *out_len
 * set. 0; REG_EINVAL (shorter than PII_OVERHEAD, NULL argument),
 * REG_ENOTFOUND (version not in the ring), REG_ERANGE (cap too small),
 * REG_ECRYPTO (bad tag: wrong ad or tampered). On failure *out_len is
 * untouched and out holds no plaintext (it may have been zeroed). */
int pii_decrypt(const pii_keyring *r, const char *ad, const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len) REG_MUST_CHECK;

/* Blind index of value in a domain (e.g. "resident_id", "phone"):
 * BLAKE2b-256 keyed by the blind key over domain ‖ 0x00 ‖ value. The same
 * master key gives the same index, across restarts and regardless of data
 * key rotation; different domains give unrelated indexes. Normalize the
 * value first (ident_*_check). 0 and out; REG_EINVAL (NULL), REG_ECRYPTO. */
int pii_blind_index(const pii_keyring *r, const char *domain, const char *value,
                    uint8_t out[32]) REG_MUST_CHECK;

#endif
