/*
 * Page tokens for list calls (SPEC §3): opaque to clients, tamper-proof,
 * and bound to the filters of the call that made them.
 *
 *   token = base64url-no-padding( version (1) ‖ filter hash (16)
 *                                 ‖ cursor (0..256) ‖ MAC (16) )
 *
 * MAC = BLAKE2b-128 keyed by the page key (keys_derive(master,
 * KEYS_ID_PAGE, KEYS_CTX_PAGE)) over everything before it. The filter
 * hash is ptoken_filter_hash over the call's filters (not its page size),
 * so a token replayed with other filters is told apart from a forged one.
 * Tokens are not encrypted: the cursor (e.g. the last row's sort key) is
 * readable by whoever holds the token; put nothing secret in it.
 */
#ifndef REG_CRYPTO_PTOKEN_H
#define REG_CRYPTO_PTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define PTOKEN_VERSION 1
#define PTOKEN_FILTER_HASH_LEN 16
#define PTOKEN_MAC_LEN 16
#define PTOKEN_MAX_CURSOR 256
/* Longest token (NUL excluded): base64 of 1 + 16 + 256 + 16 = 289 bytes. */
#define PTOKEN_MAX_LEN 386

/* Writes the NUL-terminated token to out[cap]. 0; REG_EINVAL (NULL
 * argument, cursor_len > PTOKEN_MAX_CURSOR), REG_ERANGE (cap too small:
 * PTOKEN_MAX_LEN + 1 always suffices), REG_ECRYPTO. out written only on
 * success. */
int ptoken_encode(const uint8_t key[32], const uint8_t filter_hash[PTOKEN_FILTER_HASH_LEN],
                  const uint8_t *cursor, size_t cursor_len, char *out,
                  size_t cap) REG_MUST_CHECK;

/* Checks token and copies its cursor to cursor[cap], its length to
 * *cursor_len. 0;
 *   REG_EINVAL  garbage: not base64url, wrong length or version, bad MAC
 *               (forged or altered, or made under another key);
 *   REG_EPERM   a genuine token from other filters (the caller answers
 *               INVALID_ARGUMENT, saying the filters changed);
 *   REG_ERANGE  cap smaller than the cursor.
 * Outputs written only on success. */
int ptoken_decode(const uint8_t key[32], const uint8_t filter_hash[PTOKEN_FILTER_HASH_LEN],
                  const char *token, uint8_t *cursor, size_t cap,
                  size_t *cursor_len) REG_MUST_CHECK;

/* Unkeyed BLAKE2b-128 over the n parts, each as its 8-byte big-endian
 * length then its bytes (so {"ab","c"} and {"a","bc"} differ). A NULL
 * part counts as "". Cannot fail. */
void ptoken_filter_hash(const char *const *parts, size_t n,
                        uint8_t out[PTOKEN_FILTER_HASH_LEN]);

#endif
