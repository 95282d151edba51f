/* Helpers shared by the tests of signed documents (wipe certificates,
 * tests/unit/services_wipe/test_wipe_cert.c; reverse invoices,
 * tests/unit/services_invoice/test_invoice_sig.c), whose verification
 * shares one core (crypto/sig.h: sig_key, sig_verdict, sig_verify_listed):
 * fixed Ed25519 keys from seeds, packing and signing a body, the exact
 * reasons of a verdict, and the loops that flip every bit of a body or a
 * signature. A document is reached through its test's verify function
 * (sigdoc_verify_fn), so these helpers do not know its type. */
#ifndef REG_TESTS_UNIT_SIGDOC_TEST_H
#define REG_TESTS_UNIT_SIGDOC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>

#include "crypto/sig.h"

/* 2026-03-15T10:00:00+08:00 */
#define NOW_S INT64_C(1773540000)
#define S_US INT64_C(1000000)
#define DAY_S INT64_C(86400)

/* A document's signing function (wipe_cert_sign, invoice_sign). */
typedef int (*sigdoc_sign_fn)(const uint8_t sk[64], const uint8_t *msg, size_t len,
                              uint8_t sig[64]);

/* Verifies the test's document `doc` against keys[n] into *v. */
typedef void (*sigdoc_verify_fn)(const void *doc, const sig_key *keys, size_t n, sig_verdict *v);

/* A signing key from a fixed seed, with its listing entry. */
typedef struct tkey {
  uint8_t pk[32], sk[64];
  sig_key k;
} tkey;

/* The key of seed seed_byte × 32, its id the C2SP id under key_name. */
static inline void key_from_seed(tkey *t, const char *key_name, uint8_t seed_byte) {
  uint8_t seed[crypto_sign_SEEDBYTES], id[SIG_KEY_ID_LEN];
  memset(seed, seed_byte, sizeof(seed));
  assert_int_equal(crypto_sign_seed_keypair(t->pk, t->sk, seed), 0);
  memset(&t->k, 0, sizeof(t->k));
  assert_int_equal(sig_key_id(key_name, t->pk, id), 0);
  sig_key_id_hex(id, t->k.key_id);
  memcpy(t->k.pk, t->pk, sizeof(t->pk));
}

/* m packed into a fresh buffer *out (the caller frees it); its length. */
static inline size_t sigdoc_pack(const ProtobufCMessage *m, uint8_t **out) {
  size_t len = protobuf_c_message_get_packed_size(m);
  *out = malloc(len);
  assert_non_null(*out);
  assert_int_equal(protobuf_c_message_pack(m, *out), len);
  return len;
}

/* body[len] signed by `signer` with `sign` into sig; the document's body,
 * signature and key_id fields pointed at body, sig and key_id. */
static inline void sigdoc_sign(sigdoc_sign_fn sign, const tkey *signer, const char *key_id,
                               uint8_t *body, size_t len, uint8_t sig[64],
                               ProtobufCBinaryData *body_f, ProtobufCBinaryData *sig_f,
                               char **key_id_f) {
  assert_int_equal(sign(signer->sk, body, len, sig), 0);
  body_f->data = body;
  body_f->len = len;
  sig_f->data = sig;
  sig_f->len = 64;
  *key_id_f = (char *)key_id;
}

static inline int has_reason(const sig_verdict *v, const char *r) {
  for (size_t i = 0; i < v->n_reasons; i++)
    if (strcmp(v->reasons[i], r) == 0) return 1;
  return 0;
}

/* The verdict is exactly `want` (NULL-terminated; none → valid). */
static inline void expect(const char *what, const sig_verdict *v, const char *const *want) {
  size_t n = 0;
  char got[256] = "";
  for (size_t i = 0; i < v->n_reasons; i++) {
    strncat(got, v->reasons[i], sizeof(got) - strlen(got) - 2);
    strncat(got, " ", sizeof(got) - strlen(got) - 1);
  }
  for (; want[n]; n++)
    if (!has_reason(v, want[n])) fail_msg("%s: missing %s; got [%s]", what, want[n], got);
  if (v->n_reasons != n) fail_msg("%s: %zu reasons [%s], expected %zu", what, v->n_reasons, got, n);
  if (v->valid != (n == 0)) fail_msg("%s: valid=%d with [%s]", what, v->valid, got);
}

#define EXPECT(what, v, ...) expect(what, v, (const char *const[]){__VA_ARGS__, NULL})
#define EXPECT_VALID(what, v) expect(what, v, (const char *const[]){NULL})

/* sign's argument checks: NULL key, body (but for an empty one) or
 * signature → REG_EINVAL. */
static inline void sigdoc_sign_args(sigdoc_sign_fn sign, const uint8_t sk[64]) {
  uint8_t sig[64], body[1] = {0};
  assert_int_equal(sign(NULL, body, 1, sig), REG_EINVAL);
  assert_int_equal(sign(sk, NULL, 1, sig), REG_EINVAL);
  assert_int_equal(sign(sk, body, 1, NULL), REG_EINVAL);
  assert_int_equal(sign(sk, NULL, 0, sig), 0);
}

/* sig is exactly pk's Ed25519 signature over context ‖ body[len], and not
 * over the body alone. */
static inline void sigdoc_signed_in_context(const uint8_t sig[64], const char *context,
                                            const uint8_t *body, size_t len,
                                            const uint8_t pk[32]) {
  size_t mlen = strlen(context) + len;
  uint8_t *m = malloc(mlen);
  assert_non_null(m);
  memcpy(m, context, strlen(context));
  memcpy(m + strlen(context), body, len);
  assert_int_equal(crypto_sign_verify_detached(sig, m, mlen, pk), 0);
  assert_int_not_equal(crypto_sign_verify_detached(sig, body, len, pk), 0);
  free(m);
}

/* Every bit of body[len] (the document's body) flipped in turn: never
 * valid, always BAD_SIGNATURE, and otherwise only what a changed body can
 * cause (BODY_MALFORMED, ID_MISMATCH). The body is restored; the number of
 * flips is returned. */
static inline size_t sigdoc_body_bit_flips(uint8_t *body, size_t len, sigdoc_verify_fn verify,
                                           const void *doc, const sig_key *keys, size_t n) {
  sig_verdict v;
  size_t flips = 0;
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++, flips++) {
      body[i] ^= (uint8_t)(1u << bit);
      verify(doc, keys, n, &v);
      body[i] ^= (uint8_t)(1u << bit);
      if (v.valid) fail_msg("byte %zu bit %d: still valid", i, bit);
      if (!has_reason(&v, "BAD_SIGNATURE")) fail_msg("byte %zu bit %d: no BAD_SIGNATURE", i, bit);
      for (size_t r = 0; r < v.n_reasons; r++)
        if (strcmp(v.reasons[r], "BAD_SIGNATURE") != 0 &&
            strcmp(v.reasons[r], "BODY_MALFORMED") != 0 && strcmp(v.reasons[r], "ID_MISMATCH") != 0)
          fail_msg("byte %zu bit %d: unexpected %s", i, bit, v.reasons[r]);
    }
  }
  return flips;
}

/* Each byte of the signature sig[64] flipped in turn: BAD_SIGNATURE only.
 * The signature is restored. */
static inline void sigdoc_signature_flips(uint8_t sig[64], sigdoc_verify_fn verify,
                                          const void *doc, const sig_key *keys, size_t n) {
  sig_verdict v;
  for (size_t i = 0; i < 64; i++) {
    sig[i] ^= 0x01;
    verify(doc, keys, n, &v);
    sig[i] ^= 0x01;
    EXPECT("flipped signature byte", &v, "BAD_SIGNATURE");
  }
}

/* The document's signature field s (64 bytes) cut to 63, grown to 65, and
 * absent: BAD_SIGNATURE only. s is left absent. */
static inline void sigdoc_signature_lengths(ProtobufCBinaryData *s, sigdoc_verify_fn verify,
                                            const void *doc, const sig_key *keys, size_t n) {
  sig_verdict v;
  uint8_t longer[65];
  assert_int_equal(s->len, 64);
  memcpy(longer, s->data, 64);
  longer[64] = 0;

  s->len = 63;
  verify(doc, keys, n, &v);
  EXPECT("63-byte signature", &v, "BAD_SIGNATURE");
  s->data = longer;
  s->len = 65;
  verify(doc, keys, n, &v);
  EXPECT("65-byte signature", &v, "BAD_SIGNATURE");
  s->data = NULL;
  s->len = 0;
  verify(doc, keys, n, &v);
  EXPECT("no signature", &v, "BAD_SIGNATURE");
}

#endif
