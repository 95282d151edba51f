/*
 * Reverse invoice signatures (SPEC §4.5, §4.6): signing a serialized
 * ReverseInvoiceBody with the registry's INVOICE key, and the verdict on an
 * Invoice given the INVOICE keys LogService.ListSigningKeys lists. Pure — no
 * I/O, no database — so that registry-verify can link it: the library
 * reginvoicesig needs only regcrypto, regproto, regbase and libsodium.
 *
 * The signature is Ed25519 over INVOICE_CONTEXT ("registry.v1.ReverseInvoice\n",
 * services/invoice/invoice.h) ‖ body, body being the exact stored bytes
 * (never re-serialized). Tested in tests/unit/services_invoice/.
 */
#ifndef REG_INVOICE_INVOICE_SIG_H
#define REG_INVOICE_INVOICE_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"
#include "registry/v1/invoice.pb-c.h"
#include "services/base/err.h"

#define INVOICE_SIG_REASONS_MAX SIG_REASONS_MAX

/* Ed25519 over INVOICE_CONTEXT ‖ body with the INVOICE key's secret key
 * (crypto/sig.h); the shape of keystore_sign_fn (services/core/keystore.h),
 * so it is what the handlers hand to keystore_sign. 0; REG_EINVAL (a NULL
 * argument); sig_sign's REG_ENOMEM / REG_ECRYPTO passed through. */
int invoice_sign(const uint8_t sk[64], const uint8_t *body, size_t len,
                 uint8_t sig[64]) REG_MUST_CHECK;

/* A verification key as LogService.ListSigningKeys lists it (crypto/sig.h;
 * the same type as wipe_cert_key). */
typedef sig_key invoice_sig_key;

/* The verdict (crypto/sig.h): valid, or every reason why not (UPPER_SNAKE,
 * static strings), in this order:
 *   BODY_MALFORMED          the body is empty, does not unpack as a
 *                           ReverseInvoiceBody, or has no valid issued_at
 *                           (also: no invoice at all);
 *   ID_MISMATCH             body.invoice_id is not the invoice's id;
 *   UNKNOWN_KEY             no listed key has the invoice's key_id (then no
 *                           signature is checked);
 *   BAD_SIGNATURE           no listed key with that key_id verifies the
 *                           signature (tampered body or signature, another
 *                           key, or not 64 bytes);
 *   KEY_NOT_VALID_AT_ISSUE  issued_at lies outside [valid_from, valid_until)
 *                           of the key that verified (a bound of 0 is open).
 * key_id: the invoice's key_id, truncated to 8 characters. */
typedef sig_verdict invoice_sig_verdict;

/* Verifies inv (id, body, signature, key_id) against the INVOICE keys.
 * Only the signed body is vouched for: the invoice's other fields are a
 * copy for convenience and are not compared with it. */
void invoice_verify(const Registry__V1__Invoice *inv, const invoice_sig_key *keys,
                    size_t n_keys, invoice_sig_verdict *out);

#endif
