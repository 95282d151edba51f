/*
 * Reverse invoice signatures (services/invoice/invoice_sig.h): sign a
 * ReverseInvoiceBody, verify an Invoice. Modelled on the wipe certificates
 * (services/wipe/wipe_cert.c) and giving the same reasons where they apply;
 * an invoice is never revoked (a red invoice reverses it), so there is no
 * REVOKED.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/sig.h"
#include "services/invoice/invoice.h"
#include "services/invoice/invoice_sig.h"

#define R_BODY_MALFORMED "BODY_MALFORMED"
#define R_ID_MISMATCH "ID_MISMATCH"
#define R_UNKNOWN_KEY "UNKNOWN_KEY"
#define R_BAD_SIGNATURE "BAD_SIGNATURE"
#define R_KEY_NOT_VALID_AT_ISSUE "KEY_NOT_VALID_AT_ISSUE"

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. */
#define TS_SECONDS_MIN INT64_C(-62135596800)
#define TS_SECONDS_MAX INT64_C(253402300799)

_Static_assert(SIG_LEN == 64 && SIG_SK_LEN == 64 && SIG_PK_LEN == 32,
               "invoice_sig.h and crypto/sig.h disagree");

int invoice_sign(const uint8_t sk[64], const uint8_t *body, size_t len, uint8_t sig[64]) {
  if (!sk || !sig || (!body && len)) return REG_EINVAL;
  return sig_sign(sk, INVOICE_CONTEXT, body, len, sig);
}

static void add_reason(invoice_sig_verdict *out, const char *r) {
  if (out->n_reasons < INVOICE_SIG_REASONS_MAX) out->reasons[out->n_reasons++] = r;
}

/* Microseconds of issued_at into *us: 0, or -1 when it is absent or
 * outside Timestamp's range (within it the product cannot overflow). */
static int issued_us(const Google__Protobuf__Timestamp *t, int64_t *us) {
  if (!t || t->nanos < 0 || t->nanos > 999999999) return -1;
  if (t->seconds < TS_SECONDS_MIN || t->seconds > TS_SECONDS_MAX) return -1;
  *us = t->seconds * INT64_C(1000000) + t->nanos / 1000;
  return 0;
}

static int key_valid_at(const invoice_sig_key *k, int64_t at_us) {
  if (k->valid_from_us != 0 && at_us < k->valid_from_us) return 0;
  if (k->valid_until_us != 0 && at_us >= k->valid_until_us) return 0;
  return 1;
}

void invoice_verify(const Registry__V1__Invoice *inv, const invoice_sig_key *keys,
                    size_t n_keys, invoice_sig_verdict *out) {
  Registry__V1__ReverseInvoiceBody *body = NULL;
  const invoice_sig_key *signer = NULL;
  const char *id, *key_id;
  int64_t at_us = 0;
  int have_at = 0, key_known = 0;

  if (!out) return;
  memset(out, 0, sizeof(*out));
  if (!inv) {
    add_reason(out, R_BODY_MALFORMED);
    return;
  }
  id = inv->id ? inv->id : "";
  key_id = inv->key_id ? inv->key_id : "";
  snprintf(out->key_id, sizeof(out->key_id), "%s", key_id);

  /* The body: what it says is only used once the signature holds, except
   * its invoice id, which must name this invoice either way. */
  if (inv->body.len > 0 && inv->body.data)
    body = registry__v1__reverse_invoice_body__unpack(NULL, inv->body.len, inv->body.data);
  if (body) have_at = issued_us(body->issued_at, &at_us) == 0;
  if (!body || !have_at) add_reason(out, R_BODY_MALFORMED);
  if (body && strcmp(body->invoice_id ? body->invoice_id : "", id) != 0)
    add_reason(out, R_ID_MISMATCH);

  /* The key: 4-byte ids may collide, so every listed key with the id is
   * tried; the one that verifies is the signer. */
  for (size_t i = 0; keys && i < n_keys && !signer; i++) {
    if (strncmp(keys[i].key_id, key_id, sizeof(keys[i].key_id)) != 0) continue;
    key_known = 1;
    if (inv->signature.len == SIG_LEN && inv->signature.data &&
        sig_verify(keys[i].pk, INVOICE_CONTEXT, inv->body.data, inv->body.len,
                   inv->signature.data) == 0)
      signer = &keys[i];
  }
  if (!key_known)
    add_reason(out, R_UNKNOWN_KEY);
  else if (!signer)
    add_reason(out, R_BAD_SIGNATURE);

  /* The validity window is asked only of the key that verified — the issue
   * time of an unauthenticated body says nothing. */
  if (signer && have_at && !key_valid_at(signer, at_us)) add_reason(out, R_KEY_NOT_VALID_AT_ISSUE);

  out->valid = out->n_reasons == 0;
  registry__v1__reverse_invoice_body__free_unpacked(body, NULL);
}
