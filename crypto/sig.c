/*
 * Ed25519 keys and signatures (libsodium crypto_sign), and the naming
 * around them that C2SP signed notes and our ListSigningKeys use: key
 * names, 4-byte key ids and "vkey" verifier-key strings. Signing with a
 * context string keeps a certificate signature from ever verifying as,
 * say, an invoice. Last, the key half of a verdict on a signed document
 * (a wipe certificate, an invoice): the listed keys tried, the validity
 * window of the one that verified.
 */
#include "crypto/sig.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/keys.h"

#define PK_B64_LEN 44 /* base64 of 0x01 ‖ pk, padded */

_Static_assert(SIG_PK_LEN == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(SIG_SK_LEN == crypto_sign_SECRETKEYBYTES, "sk size");
_Static_assert(SIG_LEN == crypto_sign_BYTES, "sig size");
_Static_assert(PK_B64_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(1 + SIG_PK_LEN, sodium_base64_VARIANT_ORIGINAL),
               "vkey key length");

int sig_keypair_new(uint8_t pk[SIG_PK_LEN], uint8_t sk[SIG_SK_LEN]) {
  uint8_t p[SIG_PK_LEN], s[SIG_SK_LEN];
  int rc;

  if (!pk || !sk) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if (crypto_sign_keypair(p, s) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  memcpy(pk, p, sizeof(p));
  memcpy(sk, s, sizeof(s));
out:
  sodium_memzero(s, sizeof(s));
  return rc;
}

/* Decodes one UTF-8 sequence of s[len] into *cp; its length, or 0 if it is
 * malformed (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp) {
  uint32_t c;
  size_t n;

  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if ((s[0] & 0xE0) == 0xC0) n = 2, c = s[0] & 0x1F;
  else if ((s[0] & 0xF0) == 0xE0) n = 3, c = s[0] & 0x0F;
  else if ((s[0] & 0xF8) == 0xF0) n = 4, c = s[0] & 0x07;
  else return 0;
  if (n > len) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = c << 6 | (s[i] & 0x3F);
  }
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
      c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return n;
}

/* Unicode White_Space (what Go's unicode.IsSpace, used by the reference
 * implementation, rejects in names). */
static int is_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

int sig_key_name_check(const char *name, size_t len) {
  const unsigned char *s = (const unsigned char *)name;

  if (!name || len == 0) return REG_EINVAL;
  for (size_t i = 0; i < len;) {
    uint32_t c;
    size_t n = utf8_next(s + i, len - i, &c);
    if (n == 0 || c == '+' || c < 0x20 || c == 0x7F || is_space(c)) return REG_EINVAL;
    i += n;
  }
  return 0;
}

int sig_key_id(const char *name, const uint8_t pk[SIG_PK_LEN], uint8_t id[SIG_KEY_ID_LEN]) {
  static const unsigned char sep[2] = {0x0A, SIG_ALG_ED25519};
  crypto_hash_sha256_state st;
  uint8_t h[crypto_hash_sha256_BYTES];
  int rc;

  if (!name || !pk || !id) return REG_EINVAL;
  if ((rc = sig_key_name_check(name, strlen(name))) != 0) return rc;
  if ((rc = keys_init()) != 0) return rc;
  if (crypto_hash_sha256_init(&st) != 0 ||
      crypto_hash_sha256_update(&st, (const unsigned char *)name, strlen(name)) != 0 ||
      crypto_hash_sha256_update(&st, sep, sizeof(sep)) != 0 ||
      crypto_hash_sha256_update(&st, pk, SIG_PK_LEN) != 0 ||
      crypto_hash_sha256_final(&st, h) != 0)
    return REG_ECRYPTO;
  memcpy(id, h, SIG_KEY_ID_LEN);
  return 0;
}

void sig_key_id_hex(const uint8_t id[SIG_KEY_ID_LEN], char out[9]) {
  sodium_bin2hex(out, 9, id, SIG_KEY_ID_LEN); /* pure: needs no sodium_init */
}

int sig_vkey(const char *name, const uint8_t pk[SIG_PK_LEN], char *out, size_t cap) {
  uint8_t id[SIG_KEY_ID_LEN], key[1 + SIG_PK_LEN];
  size_t nlen, need;
  int rc;

  if (!name || !pk || !out) return REG_EINVAL;
  if ((rc = sig_key_id(name, pk, id)) != 0) return rc;
  nlen = strlen(name);
  need = nlen + 1 + 8 + 1 + PK_B64_LEN + 1;
  if (cap < need) return REG_ERANGE;
  memcpy(out, name, nlen);
  out[nlen] = '+';
  sig_key_id_hex(id, out + nlen + 1);
  out[nlen + 9] = '+';
  key[0] = SIG_ALG_ED25519;
  memcpy(key + 1, pk, SIG_PK_LEN);
  sodium_bin2base64(out + nlen + 10, PK_B64_LEN + 1, key, sizeof(key),
                    sodium_base64_VARIANT_ORIGINAL);
  return 0;
}

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int sig_vkey_parse(const char *vkey, char *name, size_t name_cap, uint8_t id[SIG_KEY_ID_LEN],
                   uint8_t pk[SIG_PK_LEN]) {
  const char *plus, *hex, *b64, *end = NULL;
  uint8_t key[1 + SIG_PK_LEN], want[SIG_KEY_ID_LEN], got[SIG_KEY_ID_LEN];
  char nbuf[256];
  size_t nlen, key_len = 0, hex_len = 0;
  int rc;

  if (!vkey || !name || !id || !pk) return REG_EINVAL;
  if (!(plus = strchr(vkey, '+'))) return REG_EINVAL;
  nlen = (size_t)(plus - vkey);
  if (nlen >= sizeof(nbuf) || sig_key_name_check(vkey, nlen) != 0) return REG_EINVAL;
  hex = plus + 1;
  for (int i = 0; i < 8; i++)
    if (!is_hex(hex[i])) return REG_EINVAL;
  if (hex[8] != '+') return REG_EINVAL;
  b64 = hex + 9;
  if ((rc = keys_init()) != 0) return rc;
  if (sodium_hex2bin(got, sizeof(got), hex, 8, NULL, &hex_len, NULL) != 0 ||
      hex_len != sizeof(got))
    return REG_EINVAL;
  if (strlen(b64) != PK_B64_LEN ||
      sodium_base642bin(key, sizeof(key), b64, PK_B64_LEN, NULL, &key_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      key_len != sizeof(key) || end != b64 + PK_B64_LEN || key[0] != SIG_ALG_ED25519)
    return REG_EINVAL;
  memcpy(nbuf, vkey, nlen);
  nbuf[nlen] = 0;
  if ((rc = sig_key_id(nbuf, key + 1, want)) != 0) return rc;
  if (memcmp(want, got, sizeof(want)) != 0) return REG_EINVAL;
  if (name_cap < nlen + 1) return REG_ERANGE;
  memcpy(name, nbuf, nlen + 1);
  memcpy(id, got, sizeof(got));
  memcpy(pk, key + 1, SIG_PK_LEN);
  return 0;
}

/* context ‖ msg in one buffer (libsodium's Ed25519 signs one message).
 * *buf is malloc'd, or msg itself when there is no context (then *owned
 * is NULL). */
static int assemble(const char *context, const uint8_t *msg, size_t len, const uint8_t **buf,
                    size_t *buf_len, uint8_t **owned) {
  size_t clen = context ? strlen(context) : 0;
  uint8_t *p;

  *owned = NULL;
  if (clen == 0) {
    *buf = msg;
    *buf_len = len;
    return 0;
  }
  if (len > SIZE_MAX - clen) return REG_ENOMEM;
  if (!(p = malloc(clen + len ? clen + len : 1))) return REG_ENOMEM;
  memcpy(p, context, clen);
  if (len) memcpy(p + clen, msg, len);
  *buf = p;
  *buf_len = clen + len;
  *owned = p;
  return 0;
}

int sig_sign(const uint8_t sk[SIG_SK_LEN], const char *context, const uint8_t *msg, size_t len,
             uint8_t sig[SIG_LEN]) {
  const uint8_t *m = NULL;
  uint8_t *owned = NULL;
  uint8_t s[SIG_LEN];
  size_t mlen = 0;
  int rc;

  if (!sk || (!msg && len) || !sig) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if ((rc = assemble(context, msg, len, &m, &mlen, &owned)) != 0) goto out;
  if (crypto_sign_detached(s, NULL, m, mlen, sk) != 0) {
    rc = REG_ECRYPTO;
    goto out;
  }
  memcpy(sig, s, sizeof(s));
out:
  free(owned);
  return rc;
}

int sig_verify(const uint8_t pk[SIG_PK_LEN], const char *context, const uint8_t *msg,
               size_t len, const uint8_t sig[SIG_LEN]) {
  const uint8_t *m = NULL;
  uint8_t *owned = NULL;
  size_t mlen = 0;
  int rc;

  if (!pk || (!msg && len) || !sig) return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  if ((rc = assemble(context, msg, len, &m, &mlen, &owned)) != 0) goto out;
  if (crypto_sign_verify_detached(sig, m, mlen, pk) != 0) rc = REG_ECRYPTO;
out:
  free(owned);
  return rc;
}

static const char *const purpose_names[] = {
    [SIG_PURPOSE_CERTIFICATE] = "CERTIFICATE",
    [SIG_PURPOSE_INVOICE] = "INVOICE",
    [SIG_PURPOSE_LOG] = "LOG",
};

const char *sig_purpose_name(int purpose) {
  if (purpose < SIG_PURPOSE_CERTIFICATE || purpose > SIG_PURPOSE_LOG) return NULL;
  return purpose_names[purpose];
}

int sig_purpose_parse(const char *s, int *out) {
  if (!s || !out) return REG_EINVAL;
  for (int p = SIG_PURPOSE_CERTIFICATE; p <= SIG_PURPOSE_LOG; p++) {
    if (strcasecmp(s, purpose_names[p]) == 0) {
      *out = p;
      return 0;
    }
  }
  return REG_EINVAL;
}

int sig_key_name(const char *registry_id, int purpose, char *out, size_t cap) {
  const char *suffix;
  size_t rlen, slen;

  if (!registry_id || !out) return REG_EINVAL;
  switch (purpose) {
  case SIG_PURPOSE_CERTIFICATE: suffix = "/certificate"; break;
  case SIG_PURPOSE_INVOICE: suffix = "/invoice"; break;
  case SIG_PURPOSE_LOG: suffix = ""; break;
  default: return REG_EINVAL;
  }
  rlen = strlen(registry_id);
  if (sig_key_name_check(registry_id, rlen) != 0) return REG_EINVAL;
  slen = strlen(suffix);
  if (cap < rlen + slen + 1) return REG_ERANGE;
  memcpy(out, registry_id, rlen);
  memcpy(out + rlen, suffix, slen + 1);
  return 0;
}

/* ---- verifying a signed document against listed keys ---- */

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. */
#define TS_SECONDS_MIN INT64_C(-62135596800)
#define TS_SECONDS_MAX INT64_C(253402300799)

void sig_verdict_init(sig_verdict *v, const char *key_id) {
  if (!v) return;
  memset(v, 0, sizeof(*v));
  snprintf(v->key_id, sizeof(v->key_id), "%s", key_id ? key_id : "");
}

void sig_verdict_add(sig_verdict *v, const char *reason) {
  if (v && v->n_reasons < SIG_REASONS_MAX) v->reasons[v->n_reasons++] = reason;
}

int sig_timestamp_us(int64_t seconds, int64_t nanos, int64_t *us) {
  if (!us) return REG_EINVAL;
  if (nanos < 0 || nanos > 999999999) return REG_ERANGE;
  if (seconds < TS_SECONDS_MIN || seconds > TS_SECONDS_MAX) return REG_ERANGE;
  *us = seconds * INT64_C(1000000) + nanos / 1000;
  return 0;
}

int sig_key_valid_at(const sig_key *k, int64_t at_us) {
  if (k->valid_from_us != 0 && at_us < k->valid_from_us) return 0;
  if (k->valid_until_us != 0 && at_us >= k->valid_until_us) return 0;
  return 1;
}

const sig_key *sig_verify_listed(const sig_key *keys, size_t n, const char *key_id,
                                 const char *context, const uint8_t *body, size_t len,
                                 const uint8_t *sig, size_t sig_len, int have_at, int64_t at_us,
                                 sig_verdict *v) {
  const sig_key *signer = NULL;
  int key_known = 0;

  if (!key_id) key_id = "";
  for (size_t i = 0; keys && i < n && !signer; i++) {
    if (strncmp(keys[i].key_id, key_id, sizeof(keys[i].key_id)) != 0) continue;
    key_known = 1;
    if (sig_len == SIG_LEN && sig && sig_verify(keys[i].pk, context, body, len, sig) == 0)
      signer = &keys[i];
  }
  if (!key_known)
    sig_verdict_add(v, SIG_R_UNKNOWN_KEY);
  else if (!signer)
    sig_verdict_add(v, SIG_R_BAD_SIGNATURE);
  if (signer && have_at && !sig_key_valid_at(signer, at_us))
    sig_verdict_add(v, SIG_R_KEY_NOT_VALID_AT_ISSUE);
  return signer;
}
