/*
 * WipeService (SPEC §4.3; DOMAIN §3): data-wipe records and signed wipe
 * certificates. This header is the service's contract; so far it holds
 * the rules (wipe_rules.c) and certificate signing and verification
 * (wipe_cert.c), both pure, no I/O, tested in tests/unit/services_wipe/.
 * Store, handlers and the listing gate follow.
 */
#ifndef REG_WIPE_WIPE_H
#define REG_WIPE_WIPE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sig.h"
#include "registry/v1/wipe.pb-c.h"
#include "services/base/err.h"
#include "services/core/text.h"

/* A rule's verdict on one field, named by its path ("technique",
 * "media[1].type", "device.imei", "verified_percent"). */
typedef core_violation wipe_violation; /* services/core/text.h */

#define WIPE_TEXT_MAX 200    /* tool name and version, operator name, serials: characters */
#define WIPE_MEDIA_MAX 64    /* media in one submission */

/* Checks a SubmitWipe request: required fields and enum ranges, the
 * device (item_id, or identifiers: IMEI valid when given, normalized in
 * place; at least one of imei / serial_no), every medium, times
 * (started_at ≤ finished_at, performed_at not in the future: `now_us`),
 * and the consistency matrix of SPEC §4.3 — a meaningless combination is
 * REG_EINVAL naming the field, and nothing is stored:
 *   - method DESTROY ⇔ technique SHRED or DISINTEGRATE ("technique");
 *   - DEGAUSS only when every medium is an HDD ("media[i].type");
 *   - CRYPTO_ERASE and BLOCK_ERASE have passes = 0, OVERWRITE passes ≥ 1
 *     ("passes"); random_pass only with OVERWRITE ("random_pass");
 *   - verified_percent 0 for NONE, 1–99 for SAMPLE, 100 for FULL
 *     ("verified_percent");
 *   - DESTROY or DEGAUSS with destination REUSE or RESALE ("destination").
 * 0 when the submission is to be stored. */
int wipe_rules_check_submit(Registry__V1__SubmitWipeRequest *req, int64_t now_us,
                            wipe_violation *v);

/* For a stored submission: NULL when it earns a certificate (result
 * SUCCESS, verification SAMPLE or FULL, and the technique meets DOMAIN §3
 * for every medium), else the refusal reason: "WIPE_FAILED" (result not
 * SUCCESS), "WIPE_NOT_VERIFIED" (verification NONE), or
 * "WIPE_METHOD_INSUFFICIENT", asked in that order. */
const char *wipe_rules_refusal(const Registry__V1__SubmitWipeRequest *req);

/* DOMAIN §3 sufficiency of a technique for one medium type: HDD —
 * OVERWRITE with ≥ 3 passes including a random pass, or DEGAUSS; flash
 * media (SSD, NVME, EMMC, FLASH) — OVERWRITE ≥ 1 pass, BLOCK_ERASE,
 * CRYPTO_ERASE, or FACTORY_RESET_ENCRYPTED (a factory reset of an
 * encrypted device is a cryptographic erase, NIST SP 800-88 Table A); any
 * medium — SHRED, DISINTEGRATE; OTHER technique never. 1 when sufficient. */
int wipe_rules_sufficient(int media_type, int technique, int passes, int random_pass);

/* ---- certificates (wipe_cert.c): sign and verify, no I/O ---- */

/* What a certificate's signature covers: WIPE_CERT_CONTEXT ‖ body. */
#define WIPE_CERT_CONTEXT "registry.v1.WipeCertificate\n"
#define WIPE_CERT_REASONS_MAX SIG_REASONS_MAX

/* Ed25519 over WIPE_CERT_CONTEXT ‖ body with the CERTIFICATE key's secret
 * key (crypto/sig.h). 0; REG_EINVAL (a NULL argument); sig_sign's
 * REG_ENOMEM / REG_ECRYPTO passed through. */
int wipe_cert_sign(const uint8_t sk[64], const uint8_t *body, size_t len,
                   uint8_t sig[64]) REG_MUST_CHECK;

/* A verification key as LogService.ListSigningKeys lists it (crypto/sig.h). */
typedef sig_key wipe_cert_key;

/* The verdict (crypto/sig.h): valid, or every reason why not (UPPER_SNAKE,
 * static strings): BODY_MALFORMED (not a WipeCertificateBody), ID_MISMATCH
 * (the body names another certificate id), UNKNOWN_KEY (key_id not among
 * `keys`), BAD_SIGNATURE (tampered body or signature, or another key),
 * KEY_NOT_VALID_AT_ISSUE (issued_at outside the key's validity), REVOKED. */
typedef sig_verdict wipe_cert_verdict;

/* Verifies c (id, body, signature, key_id) against the CERTIFICATE keys;
 * `revoked` adds REVOKED. Every applicable reason is listed. */
void wipe_cert_verify(const Registry__V1__Certificate *c, const wipe_cert_key *keys, size_t n_keys,
                      int revoked, wipe_cert_verdict *out);

#endif
