/*
 * Sub-key derivation from the master key (libsodium crypto_kdf, i.e.
 * BLAKE2b keyed by the master key with the sub-key id as salt and the
 * 8-byte context as personalisation), and the once-per-process
 * sodium_init() every other file in crypto/ relies on.
 */
#include "crypto/keys.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int sodium_ready;

int keys_init(void) {
  if (atomic_load_explicit(&sodium_ready, memory_order_acquire)) return 0;
  /* sodium_init is itself thread-safe and idempotent; the flag only spares
   * its mutex on every later call. */
  if (sodium_init() < 0) return REG_ECRYPTO;
  atomic_store_explicit(&sodium_ready, 1, memory_order_release);
  return 0;
}

int keys_derive(const uint8_t master[KEYS_MASTER_LEN], uint64_t subkey_id,
                const char ctx[8], uint8_t out[KEYS_SUBKEY_LEN]) {
  uint8_t k[KEYS_SUBKEY_LEN];
  int rc = 0;

  if (!master || !ctx || !out) return REG_EINVAL;
  if ((rc = keys_init()) != 0) goto out;
  if (crypto_kdf_derive_from_key(k, sizeof(k), subkey_id, ctx, master) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  memcpy(out, k, sizeof(k));
out:
  sodium_memzero(k, sizeof(k));
  return rc;
}
