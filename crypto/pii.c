/*
 * The personal-data keyring: data keys by version, the KEK that wraps
 * them and the blind-index key, all in sodium_malloc memory (guarded,
 * locked, wiped on free). Data keys live in one sodium_malloc array that
 * grows by doubling; a read-write lock lets many workers encrypt, decrypt
 * and look up while an operator's rotation adds a key.
 */
#include "crypto/pii.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define BLIND_LEN 32

_Static_assert(PII_OVERHEAD == 4 + NONCE_LEN + TAG_LEN, "PII_OVERHEAD");
_Static_assert(PII_DATA_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

struct pii_keyring {
  pthread_rwlock_t lock;
  uint8_t *kek;       /* sodium_malloc, WRAP_KEK_LEN */
  uint8_t *blind;     /* sodium_malloc, BLIND_LEN */
  uint8_t *keys;      /* sodium_malloc, cap * PII_DATA_KEY_LEN; NULL while cap is 0 */
  uint32_t *versions; /* malloc, cap */
  size_t n, cap;
  uint32_t active;
};

/* The reader side takes the lock through a const ring: the lock is the one
 * member readers change. */
static pthread_rwlock_t *ring_lock(const pii_keyring *r) { return (pthread_rwlock_t *)&r->lock; }

int pii_keyring_new(const uint8_t master[32], pii_keyring **out) {
  pii_keyring *r = NULL;
  int rc;

  if (!master || !out) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  r = calloc(1, sizeof(*r));
  if (!r) return REG_ENOMEM;
  if (pthread_rwlock_init(&r->lock, NULL) != 0) {
    free(r);
    return REG_ENOMEM;
  }
  r->kek = sodium_malloc(WRAP_KEK_LEN);
  r->blind = sodium_malloc(BLIND_LEN);
  if (!r->kek || !r->blind) {
    rc = REG_ENOMEM;
    goto out;
  }
  if ((rc = wrap_kek_derive(master, r->kek)) != 0) goto out;
  if ((rc = keys_derive(master, KEYS_ID_BLIND, KEYS_CTX_BLIND, r->blind)) != 0) goto out;
  *out = r;
  r = NULL;
out:
  pii_keyring_free(r);
  return rc;
}

void pii_keyring_free(pii_keyring *r) {
  if (!r) return;
  sodium_free(r->kek); /* sodium_free wipes; NULL is a no-op */
  sodium_free(r->blind);
  sodium_free(r->keys);
  free(r->versions);
  pthread_rwlock_destroy(&r->lock);
  free(r);
}

/* Index of version in the ring, or -1. Caller holds the lock. */
static long find(const pii_keyring *r, uint32_t version) {
  for (size_t i = 0; i < r->n; i++)
    if (r->versions[i] == version) return (long)i;
  return -1;
}

/* Room for one more key. Caller holds the write lock. */
static int grow(pii_keyring *r) {
  size_t cap;
  uint8_t *keys;
  uint32_t *versions;

  if (r->n < r->cap) return 0;
  if (r->cap >= PII_MAX_KEYS) return REG_ERANGE;
  cap = r->cap ? r->cap * 2 : 4;
  if (cap > PII_MAX_KEYS) cap = PII_MAX_KEYS;
  versions = realloc(r->versions, cap * sizeof(*versions));
  if (!versions) return REG_ENOMEM;
  r->versions = versions;
  keys = sodium_malloc(cap * PII_DATA_KEY_LEN);
  if (!keys) return REG_ENOMEM;
  if (r->n) memcpy(keys, r->keys, r->n * PII_DATA_KEY_LEN);
  sodium_free(r->keys);
  r->keys = keys;
  r->cap = cap;
  return 0;
}

/* Adds key under version. If newest, version must exceed every version in
 * the ring. */
static int add_key(pii_keyring *r, uint32_t version, const uint8_t key[PII_DATA_KEY_LEN],
                   int newest) {
  int rc;

  if (pthread_rwlock_wrlock(&r->lock) != 0) return REG_EIO;
  if (find(r, version) >= 0) {
    rc = REG_EEXIST;
    goto out;
  }
  if (newest && version < r->active) {
    rc = REG_EINVAL;
    goto out;
  }
  if ((rc = grow(r)) != 0) goto out;
  memcpy(r->keys + r->n * PII_DATA_KEY_LEN, key, PII_DATA_KEY_LEN);
  r->versions[r->n++] = version;
  if (version > r->active) r->active = version;
out:
  pthread_rwlock_unlock(&r->lock);
  return rc;
}

static void key_ad(uint32_t version, char ad[32]) {
  snprintf(ad, 32, "pii_data_keys/%lu", (unsigned long)version);
}

int pii_data_key_create(pii_keyring *r, uint32_t version, uint8_t *wrapped, size_t cap,
                        size_t *wrapped_len) {
  uint8_t key[PII_DATA_KEY_LEN];
  uint8_t w[PII_WRAPPED_KEY_LEN];
  char ad[32];
  int rc;

  if (!r || version == 0 || !wrapped || !wrapped_len) return REG_EINVAL;
  if (cap < PII_WRAPPED_KEY_LEN) return REG_ERANGE;
  randombytes_buf(key, sizeof(key)); /* keys_init ran in pii_keyring_new */
  key_ad(version, ad);
  if ((rc = wrap_seal_kek(r->kek, ad, key, sizeof(key), w)) != 0) goto out;
  if ((rc = add_key(r, version, key, 1)) != 0) goto out;
  memcpy(wrapped, w, sizeof(w));
  *wrapped_len = sizeof(w);
out:
  sodium_memzero(key, sizeof(key));
  return rc;
}

int pii_keyring_add(pii_keyring *r, uint32_t version, const uint8_t *wrapped, size_t len) {
  uint8_t key[PII_DATA_KEY_LEN];
  size_t key_len = 0;
  char ad[32];
  int rc;

  if (!r || version == 0 || !wrapped) return REG_EINVAL;
  if (len != PII_WRAPPED_KEY_LEN) return REG_EINVAL;
  key_ad(version, ad);
  if ((rc = wrap_open_kek(r->kek, ad, wrapped, len, key, &key_len)) != 0) goto out;
  rc = add_key(r, version, key, 0);
out:
  sodium_memzero(key, sizeof(key));
  return rc;
}

uint32_t pii_keyring_active(const pii_keyring *r) {
  uint32_t v;

  if (!r || pthread_rwlock_rdlock(ring_lock(r)) != 0) return 0;
  v = r->active;
  pthread_rwlock_unlock(ring_lock(r));
  return v;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pii_encrypt(const pii_keyring *r, const char *ad, const uint8_t *pt, size_t len,
                uint8_t *out, size_t cap, size_t *out_len) {
  size_t ad_len = ad ? strlen(ad) : 0;
  long i;
  int rc = 0;

  if (!r || (!pt && len) || !out || !out_len) return REG_EINVAL;
  if (len > PII_MAX_LEN || cap < len + PII_OVERHEAD) return REG_ERANGE;
  if (pthread_rwlock_rdlock(ring_lock(r)) != 0) return REG_EIO;
  if (r->active == 0 || (i = find(r, r->active)) < 0) {
    rc = REG_ENOTFOUND;
    goto out;
  }
  put_be32(out, r->active);
  randombytes_buf(out + 4, NONCE_LEN);
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(
          out + 4 + NONCE_LEN, NULL, pt, len, (const unsigned char *)ad, ad_len, NULL, out + 4,
          r->keys + (size_t)i * PII_DATA_KEY_LEN) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  *out_len = len + PII_OVERHEAD;
out:
  pthread_rwlock_unlock(ring_lock(r));
  return rc;
}

int pii_decrypt(const pii_keyring *r, const char *ad, const uint8_t *in, size_t len,
                uint8_t *out, size_t cap, size_t *out_len) {
  size_t ad_len = ad ? strlen(ad) : 0;
  long i;
  int rc = 0;

  if (!r || !in || !out_len || (!out && cap)) return REG_EINVAL;
  if (len < PII_OVERHEAD) return REG_EINVAL;
  if (pthread_rwlock_rdlock(ring_lock(r)) != 0) return REG_EIO;
  if ((i = find(r, get_be32(in))) < 0) {
    rc = REG_ENOTFOUND;
    goto out;
  }
  if (cap < len - PII_OVERHEAD) {
    rc = REG_ERANGE;
    goto out;
  }
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          len > PII_OVERHEAD ? out : NULL, NULL, NULL, in + 4 + NONCE_LEN, len - 4 - NONCE_LEN,
          (const unsigned char *)ad, ad_len, in + 4, r->keys + (size_t)i * PII_DATA_KEY_LEN) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  *out_len = len - PII_OVERHEAD;
out:
  pthread_rwlock_unlock(ring_lock(r));
  return rc;
}

int pii_blind_index(const pii_keyring *r, const char *domain, const char *value,
                    uint8_t out[32]) {
  crypto_generichash_state st;
  static const unsigned char sep = 0;
  uint8_t h[32];
  int rc = 0;

  if (!r || !domain || !value || !out) return REG_EINVAL;
  /* the blind key is written once in pii_keyring_new (which also ran
   * keys_init): no lock needed */
  if (crypto_generichash_init(&st, r->blind, BLIND_LEN, sizeof(h)) != 0 ||
      crypto_generichash_update(&st, (const unsigned char *)domain, strlen(domain)) != 0 ||
      crypto_generichash_update(&st, &sep, 1) != 0 ||
      crypto_generichash_update(&st, (const unsigned char *)value, strlen(value)) != 0 ||
      crypto_generichash_final(&st, h, sizeof(h)) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  memcpy(out, h, sizeof(h));
out:
  sodium_memzero(&st, sizeof(st));
  sodium_memzero(h, sizeof(h));
  return rc;
}
