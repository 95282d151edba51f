/*
 * Signing and personal-data keys in PostgreSQL (keystore.h). Secrets exist
 * in clear only in sodium_malloc'd memory or wiped stack buffers; in the
 * database they are wrapped (crypto/wrap.c) with associated data naming the
 * row, so a wrapped key moved to another row does not open.
 */
#include "services/core/keystore.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto/pii.h"
#include "crypto/sig.h"
#include "crypto/wrap.h"
#include "registry/v1/log.pb-c.h"
#include "services/core/events.h"

static void sig_ad(char *ad, size_t cap, int purpose, const char *key_id) {
  snprintf(ad, cap, "signing_keys/%d/%s", purpose, key_id);
}

/* Inserts a fresh key as current for `purpose` (the caller retired the old). */
static int insert_signing_key(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                              int purpose, char *key_id_out) {
  uint8_t pk[32];
  uint8_t *sk = sodium_malloc(64);
  if (!sk) return REG_ENOMEM;
  uint8_t wrapped[64 + WRAP_OVERHEAD];
  char name[300], ad[64], kid[9];
  uint8_t id[4];
  int rv = sig_keypair_new(pk, sk);
  if (rv != 0) goto out;
  rv = sig_key_name(registry_id, purpose, name, sizeof(name));
  if (rv != 0) goto out;
  rv = sig_key_id(name, pk, id);
  if (rv != 0) goto out;
  sig_key_id_hex(id, kid);
  sig_ad(ad, sizeof(ad), purpose, kid);
  rv = wrap_seal(master, ad, sk, 64, wrapped);
  if (rv != 0) goto out;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, purpose);
  pg_params_text(&p, kid);
  pg_params_text(&p, name);
  pg_params_bytea(&p, pk, 32);
  pg_params_bytea(&p, wrapped, sizeof(wrapped));
  rv = pg_query(pg,
                "INSERT INTO signing_keys (purpose, key_id, name, public_key, wrapped_secret) "
                "VALUES ($1, $2, $3, $4, $5)",
                &p, NULL);
  if (rv == 0 && key_id_out) memcpy(key_id_out, kid, 9);
out:
  sodium_free(sk);
  return rv;
}

static int ensure_pii_key(pg_conn *pg, const uint8_t master[32], int *created) {
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT count(*) FROM pii_data_keys", NULL, &r);
  if (rv != 0) return rv;
  int64_t n = pg_int(r, 0, 0);
  PQclear(r);
  if (n > 0) return 0;
  pii_keyring *ring = NULL;
  rv = pii_keyring_new(master, &ring);
  if (rv != 0) return rv;
  uint8_t wrapped[256];
  size_t wlen = 0;
  rv = pii_data_key_create(ring, 1, wrapped, sizeof(wrapped), &wlen);
  pii_keyring_free(ring);
  if (rv != 0) return rv;
  pg_params p;
  pg_params_init(&p);
  pg_params_bytea(&p, wrapped, wlen);
  rv = pg_query(pg, "INSERT INTO pii_data_keys (version, wrapped) VALUES (1, $1)", &p, NULL);
  if (rv == 0) (*created)++;
  return rv;
}

int keystore_ensure(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                    int *created) {
  int n = 0;
  int rv = pg_tx_begin(pg, 0);
  if (rv != 0) return rv;
  /* serialize with another migrate / rotate */
  rv = pg_query(pg, "LOCK TABLE signing_keys IN EXCLUSIVE MODE", NULL, NULL);
  for (int purpose = 1; rv == 0 && purpose <= 3; purpose++) {
    pg_params p;
    pg_params_init(&p);
    pg_params_int(&p, purpose);
    PGresult *r = NULL;
    rv = pg_query(pg, "SELECT 1 FROM signing_keys WHERE purpose = $1 AND valid_until IS NULL",
                  &p, &r);
    if (rv != 0) break;
    int have = PQntuples(r) > 0;
    PQclear(r);
    if (!have) {
      rv = insert_signing_key(pg, master, registry_id, purpose, NULL);
      if (rv == 0) n++;
    }
  }
  if (rv == 0) rv = ensure_pii_key(pg, master, &n);
  if (rv == 0) rv = pg_tx_commit(pg);
  if (rv != 0) {
    pg_tx_rollback(pg);
    return rv;
  }
  if (created) *created = n;
  return 0;
}

int keystore_rotate(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                    int purpose, char *key_id_out) {
  if (purpose < 1 || purpose > 3) return REG_EINVAL;
  char kid[9];
  int rv = pg_tx_begin(pg, 0);
  if (rv != 0) return rv;
  rv = pg_query(pg, "LOCK TABLE signing_keys IN EXCLUSIVE MODE", NULL, NULL);
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, purpose);
  if (rv == 0)
    rv = pg_query(pg,
                  "UPDATE signing_keys SET valid_until = now() "
                  "WHERE purpose = $1 AND valid_until IS NULL",
                  &p, NULL);
  if (rv == 0) rv = insert_signing_key(pg, master, registry_id, purpose, kid);
  if (rv == 0) {
    /* the event commits to the new public key row */
    char rec[64];
    int n = snprintf(rec, sizeof(rec), "%d/%s", purpose, kid);
    rv = events_append(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_SIGNING_KEY_ROTATED, "", NULL,
                       (const uint8_t *)rec, (size_t)n, NULL);
  }
  if (rv == 0) rv = pg_tx_commit(pg);
  if (rv != 0) {
    pg_tx_rollback(pg);
    return rv;
  }
  if (key_id_out) memcpy(key_id_out, kid, 9);
  return 0;
}

int keystore_signing_key(pg_conn *pg, const uint8_t master[32], int purpose,
                         uint8_t *sk_out, uint8_t pk_out[32], char key_id_out[9]) {
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, purpose);
  PGresult *r = NULL;
  int rv = pg_query(pg,
                    "SELECT key_id, public_key, wrapped_secret FROM signing_keys "
                    "WHERE purpose = $1 AND valid_until IS NULL",
                    &p, &r);
  if (rv != 0) return rv;
  uint8_t wrapped[64 + WRAP_OVERHEAD], pk[32];
  char ad[64];
  size_t sklen = 0;
  if (PQntuples(r) != 1) {
    rv = REG_ENOTFOUND;
    goto out;
  }
  const char *kid = pg_val(r, 0, 0);
  if (strlen(kid) != 8 || pg_bytea(r, 0, 1, pk, 32) != 32 ||
      pg_bytea(r, 0, 2, wrapped, sizeof(wrapped)) != (long)sizeof(wrapped)) {
    rv = REG_EIO;
    goto out;
  }
  sig_ad(ad, sizeof(ad), purpose, kid);
  rv = wrap_open(master, ad, wrapped, sizeof(wrapped), sk_out, &sklen);
  if (rv != 0) goto out;
  memcpy(pk_out, pk, 32);
  memcpy(key_id_out, kid, 9);
out:
  PQclear(r);
  return rv;
}

/* One guarded secret-key buffer per thread (keystore_sign). */
static pthread_key_t sk_key;
static pthread_once_t sk_once = PTHREAD_ONCE_INIT;
static int sk_key_ok;

static void sk_free(void *p) { sodium_free(p); }
static void sk_key_make(void) { sk_key_ok = pthread_key_create(&sk_key, sk_free) == 0; }

static uint8_t *thread_sk(void) {
  if (pthread_once(&sk_once, sk_key_make) != 0 || !sk_key_ok) return NULL;
  uint8_t *sk = pthread_getspecific(sk_key);
  if (sk) return sk;
  if (!(sk = sodium_malloc(64))) return NULL;
  if (pthread_setspecific(sk_key, sk) != 0) {
    sodium_free(sk);
    return NULL;
  }
  return sk;
}

int keystore_sign(pg_conn *pg, const uint8_t master[32], int purpose, keystore_sign_fn sign,
                  const uint8_t *msg, size_t len, uint8_t sig[64], char key_id_out[9]) {
  if (!pg || !master || !sign || !sig || !key_id_out) return REG_EINVAL;
  uint8_t *sk = thread_sk();
  if (!sk) return REG_ENOMEM;
  uint8_t pk[32];
  int rv = keystore_signing_key(pg, master, purpose, sk, pk, key_id_out);
  if (rv == 0) rv = sign(sk, msg, len, sig);
  sodium_memzero(sk, 64);
  return rv;
}

int keystore_load_pii(pg_conn *pg, pii_keyring *ring) {
  PGresult *r = NULL;
  int rv = pg_query(pg, "SELECT version, wrapped FROM pii_data_keys ORDER BY version", NULL, &r);
  if (rv != 0) return rv;
  for (int i = 0; rv == 0 && i < PQntuples(r); i++) {
    uint8_t w[256];
    long n = pg_bytea(r, i, 1, w, sizeof(w));
    if (n < 0) rv = REG_EIO;
    else rv = pii_keyring_add(ring, (uint32_t)pg_int(r, i, 0), w, (size_t)n);
  }
  PQclear(r);
  return rv;
}
