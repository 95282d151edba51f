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
 * The key reasons (UNKNOWN_KEY .. KEY_NOT_VALID_AT_ISSUE) and the verdict
 * type are crypto/sig.h's, shared with the invoices.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/sig.h"
#include "services/wipe/wipe.h"

_Static_assert(sizeof(WIPE_CERT_CONTEXT) == sizeof(SIG_CONTEXT_WIPE_CERTIFICATE) &&
                   SIG_LEN == 64 && SIG_SK_LEN == 64 && SIG_PK_LEN == 32,
               "wipe.h and crypto/sig.h disagree");

int wipe_cert_sign(const uint8_t sk[64], const uint8_t *body, size_t len, uint8_t sig[64]) {
  if (!sk || !sig || (!body && len)) return REG_EINVAL;
  return sig_sign(sk, WIPE_CERT_CONTEXT, body, len, sig);
}

void wipe_cert_verify(const Registry__V1__Certificate *c, const wipe_cert_key *keys, size_t n_keys,
                      int revoked, wipe_cert_verdict *out) {
  Registry__V1__WipeCertificateBody *body = NULL;
  int64_t at_us = 0;
  int have_at = 0;

  if (!out) return;
  sig_verdict_init(out, c ? c->key_id : NULL);
  if (!c) {
    sig_verdict_add(out, SIG_R_BODY_MALFORMED);
    if (revoked) sig_verdict_add(out, SIG_R_REVOKED);
    return;
  }

  /* The body: what it says is only used once the signature holds, except
   * its certificate id, which must name this certificate either way. */
  if (c->body.len > 0 && c->body.data)
    body = registry__v1__wipe_certificate_body__unpack(NULL, c->body.len, c->body.data);
  if (body && body->issued_at)
    have_at = sig_timestamp_us(body->issued_at->seconds, body->issued_at->nanos, &at_us) == 0;
  if (!body || !have_at) sig_verdict_add(out, SIG_R_BODY_MALFORMED);
  if (body && strcmp(body->certificate_id ? body->certificate_id : "", c->id ? c->id : "") != 0)
    sig_verdict_add(out, SIG_R_ID_MISMATCH);

  /* The key, the signature, and the key's validity at issued_at. */
  (void)sig_verify_listed(keys, n_keys, c->key_id, WIPE_CERT_CONTEXT, c->body.data, c->body.len,
                          c->signature.data, c->signature.len, have_at, at_us, out);
  if (revoked) sig_verdict_add(out, SIG_R_REVOKED);

  out->valid = out->n_reasons == 0;
  registry__v1__wipe_certificate_body__free_unpacked(body, NULL);
}
