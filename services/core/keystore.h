/*
 * Keys kept in PostgreSQL, wrapped under the master key:
 *   - signing keys (Ed25519) for the purposes CERTIFICATE, INVOICE and LOG,
 *     named "<registry_id>/certificate", "<registry_id>/invoice" and, for the
 *     log, the origin "<registry_id>"; one current key per purpose, old keys
 *     kept (valid_until set) for verification;
 *   - personal-data keys (random data keys, versioned).
 * `registryd migrate` creates whatever is missing; `registryd keys rotate`
 * makes a new signing key current.
 */
#ifndef REG_CORE_KEYSTORE_H
#define REG_CORE_KEYSTORE_H

#include <stdint.h>

#include "services/base/err.h"
#include "storage/pg/pg.h"

typedef struct pii_keyring pii_keyring;

#define KEYSTORE_PURPOSE_CERTIFICATE 1
#define KEYSTORE_PURPOSE_INVOICE 2
#define KEYSTORE_PURPOSE_LOG 3

/* Creates a signing key for every purpose that has no current key, and a
 * first personal-data key if there is none. *created: how many keys. */
int keystore_ensure(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                    int *created) REG_MUST_CHECK;

/* Retires the purpose's current signing key (valid_until = now) and makes a
 * new one current, in one transaction; appends a SIGNING_KEY_ROTATED event.
 * key_id_out: 9 bytes. */
int keystore_rotate(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                    int purpose, char *key_id_out) REG_MUST_CHECK;

/* The current signing key of a purpose: sk into sk_out (64 bytes; the
 * caller passes sodium_malloc'd memory and wipes it), pk and key id. */
int keystore_signing_key(pg_conn *pg, const uint8_t master[32], int purpose,
                         uint8_t *sk_out, uint8_t pk_out[32], char key_id_out[9]) REG_MUST_CHECK;

/* Signs with the current key of a purpose without the caller holding the
 * secret key: it is unwrapped into this thread's guarded buffer
 * (sodium_malloc'd once per thread, freed when the thread ends), handed to
 * `sign` (which prefixes its document's context, e.g. wipe_cert_sign) and
 * wiped at once. A signature thus costs one query and no page mapping.
 * sig: 64 bytes; key_id_out: 9. */
typedef int (*keystore_sign_fn)(const uint8_t sk[64], const uint8_t *msg, size_t len,
                                uint8_t sig[64]);
int keystore_sign(pg_conn *pg, const uint8_t master[32], int purpose, keystore_sign_fn sign,
                  const uint8_t *msg, size_t len, uint8_t sig[64],
                  char key_id_out[9]) REG_MUST_CHECK;

/* Loads every personal-data key into the ring. */
int keystore_load_pii(pg_conn *pg, pii_keyring *ring) REG_MUST_CHECK;

#endif
