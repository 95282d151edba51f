/*
 * Wipe certificates (SPEC §4.3): signing a serialized WipeCertificateBody
 * with the registry's CERTIFICATE key, and the verdict of VerifyCertificate
 * on a Certificate given the CERTIFICATE keys LogService.ListSigningKeys
 * lists (§4.6). No I/O: the caller supplies the keys and whether the
 * certificate is revoked.
 *
 * The signature is Ed25519 over WIPE_CERT_CONTEXT ‖ body, body being the
 * exact stored bytes (never re-serialized). A verdict lists every reason
 * that applies, in this order:
 *   BODY_MALFORMED          the body is empty, does not unpack as a
 *                           WipeCertificateBody, or has no valid issued_at;
 *   ID_MISMATCH             body.certificate_id is not the certificate's id;
 *   UNKNOWN_KEY             no listed key has the certificate's key_id (then
 *                           no signature is checked);
 *   BAD_SIGNATURE           no listed key with that key_id verifies the
 *                           signature (or it is not 64 bytes);
 *   KEY_NOT_VALID_AT_ISSUE  issued_at lies outside [valid_from, valid_until)
 *                           of the key that verified (a bound of 0 is open);
 *   REVOKED                 the caller says so.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sig.h"
#include "services/wipe/wipe.h"

#define R_BODY_MALFORMED "BODY_MALFORMED"
#define R_ID_MISMATCH "ID_MISMATCH"
#define R_UNKNOWN_KEY "UNKNOWN_KEY"
#define R_BAD_SIGNATURE "BAD_SIGNATURE"
#define R_KEY_NOT_VALID_AT_ISSUE "KEY_NOT_VALID_AT_ISSUE"
#define R_REVOKED "REVOKED"

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. */
#define TS_SECONDS_MIN INT64_C(-62135596800)
#define TS_SECONDS_MAX INT64_C(253402300799)

_Static_assert(sizeof(WIPE_CERT_CONTEXT) == sizeof(SIG_CONTEXT_WIPE_CERTIFICATE) &&
                   SIG_LEN == 64 && SIG_SK_LEN == 64 && SIG_PK_LEN == 32,
               "wipe.h and crypto/sig.h disagree");

int wipe_cert_sign(const uint8_t sk[64], const uint8_t *body, size_t len, uint8_t sig[64]) {
  if (!sk || !sig || (!body && len)) return REG_EINVAL;
  return sig_sign(sk, WIPE_CERT_CONTEXT, body, len, sig);
}

static void add_reason(wipe_cert_verdict *out, const char *r) {
  if (out->n_reasons < WIPE_CERT_REASONS_MAX) out->reasons[out->n_reasons++] = r;
}

/* Microseconds of issued_at into *us: 0, or -1 when it is absent or
 * outside Timestamp's range (within it the product cannot overflow). */
static int issued_us(const Google__Protobuf__Timestamp *t, int64_t *us) {
  if (!t || t->nanos < 0 || t->nanos > 999999999) return -1;
  if (t->seconds < TS_SECONDS_MIN || t->seconds > TS_SECONDS_MAX) return -1;
  *us = t->seconds * INT64_C(1000000) + t->nanos / 1000;
  return 0;
}

static int key_valid_at(const wipe_cert_key *k, int64_t at_us) {
  if (k->valid_from_us != 0 && at_us < k->valid_from_us) return 0;
  if (k->valid_until_us != 0 && at_us >= k->valid_until_us) return 0;
  return 1;
}

void wipe_cert_verify(const Registry__V1__Certificate *c, const wipe_cert_key *keys, size_t n_keys,
                      int revoked, wipe_cert_verdict *out) {
  Registry__V1__WipeCertificateBody *body = NULL;
  const wipe_cert_key *signer = NULL;
  const char *id, *key_id;
  int64_t at_us = 0;
  int have_at = 0, key_known = 0;

  if (!out) return;
  memset(out, 0, sizeof(*out));
  if (!c) {
    add_reason(out, R_BODY_MALFORMED);
    if (revoked) add_reason(out, R_REVOKED);
    return;
  }
  id = c->id ? c->id : "";
  key_id = c->key_id ? c->key_id : "";
  snprintf(out->key_id, sizeof(out->key_id), "%s", key_id);

  /* The body: what it says is only used once the signature holds, except
   * its certificate id, which must name this certificate either way. */
  if (c->body.len > 0 && c->body.data)
    body = registry__v1__wipe_certificate_body__unpack(NULL, c->body.len, c->body.data);
  if (body) have_at = issued_us(body->issued_at, &at_us) == 0;
  if (!body || !have_at) add_reason(out, R_BODY_MALFORMED);
  if (body && strcmp(body->certificate_id ? body->certificate_id : "", id) != 0)
    add_reason(out, R_ID_MISMATCH);

  /* The key: 4-byte ids may collide, so every listed key with the id is
   * tried; the one that verifies is the signer. */
  for (size_t i = 0; keys && i < n_keys && !signer; i++) {
    if (strncmp(keys[i].key_id, key_id, sizeof(keys[i].key_id)) != 0) continue;
    key_known = 1;
    if (c->signature.len == SIG_LEN && c->signature.data &&
        sig_verify(keys[i].pk, WIPE_CERT_CONTEXT, c->body.data, c->body.len,
                   c->signature.data) == 0)
      signer = &keys[i];
  }
  if (!key_known)
    add_reason(out, R_UNKNOWN_KEY);
  else if (!signer)
    add_reason(out, R_BAD_SIGNATURE);

  /* Decision: the validity window is asked only of the key that verified —
   * the issue time of an unauthenticated body says nothing. */
  if (signer && have_at && !key_valid_at(signer, at_us)) add_reason(out, R_KEY_NOT_VALID_AT_ISSUE);
  if (revoked) add_reason(out, R_REVOKED);

  out->valid = out->n_reasons == 0;
  registry__v1__wipe_certificate_body__free_unpacked(body, NULL);
}
