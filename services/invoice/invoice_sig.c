/*
 * Reverse invoice signatures (services/invoice/invoice_sig.h): sign a
 * ReverseInvoiceBody, verify an Invoice. Modelled on the wipe certificates
 * (services/wipe/wipe_cert.c) and giving the same reasons where they apply;
 * an invoice is never revoked (a red invoice reverses it), so there is no
 * REVOKED. The key half of the verdict and its types are crypto/sig.h's.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/sig.h"
#include "services/invoice/invoice.h"
#include "services/invoice/invoice_sig.h"

_Static_assert(SIG_LEN == 64 && SIG_SK_LEN == 64 && SIG_PK_LEN == 32,
               "invoice_sig.h and crypto/sig.h disagree");

int invoice_sign(const uint8_t sk[64], const uint8_t *body, size_t len, uint8_t sig[64]) {
  if (!sk || !sig || (!body && len)) return REG_EINVAL;
  return sig_sign(sk, INVOICE_CONTEXT, body, len, sig);
}

void invoice_verify(const Registry__V1__Invoice *inv, const invoice_sig_key *keys,
                    size_t n_keys, invoice_sig_verdict *out) {
  Registry__V1__ReverseInvoiceBody *body = NULL;
  int64_t at_us = 0;
  int have_at = 0;

  if (!out) return;
  sig_verdict_init(out, inv ? inv->key_id : NULL);
  if (!inv) {
    sig_verdict_add(out, SIG_R_BODY_MALFORMED);
    return;
  }

  /* The body: what it says is only used once the signature holds, except
   * its invoice id, which must name this invoice either way. */
  if (inv->body.len > 0 && inv->body.data)
    body = registry__v1__reverse_invoice_body__unpack(NULL, inv->body.len, inv->body.data);
  if (body && body->issued_at)
    have_at = sig_timestamp_us(body->issued_at->seconds, body->issued_at->nanos, &at_us) == 0;
  if (!body || !have_at) sig_verdict_add(out, SIG_R_BODY_MALFORMED);
  if (body && strcmp(body->invoice_id ? body->invoice_id : "", inv->id ? inv->id : "") != 0)
    sig_verdict_add(out, SIG_R_ID_MISMATCH);

  /* The key, the signature, and the key's validity at issued_at. */
  (void)sig_verify_listed(keys, n_keys, inv->key_id, INVOICE_CONTEXT, inv->body.data,
                          inv->body.len, inv->signature.data, inv->signature.len, have_at, at_us,
                          out);

  out->valid = out->n_reasons == 0;
  registry__v1__reverse_invoice_body__free_unpacked(body, NULL);
}
