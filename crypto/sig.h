/*
 * Ed25519 signing keys, their C2SP key ids and verifier keys
 * (c2sp.org/signed-note), and signatures with a context string.
 *
 *   key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]
 *   vkey   = name "+" hex(key id) "+" base64(0x01 ‖ public key)
 *
 * The registry has one key per purpose (SPEC §4.6); a key's name is
 * "<registry_id>/certificate", "<registry_id>/invoice", and for the log
 * the log origin "<registry_id>" itself.
 */
#ifndef REG_CRYPTO_SIG_H
#define REG_CRYPTO_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define SIG_PK_LEN 32
#define SIG_SK_LEN 64
#define SIG_LEN 64
#define SIG_KEY_ID_LEN 4
#define SIG_ALG_ED25519 0x01

/* Key purposes, numbered as the proto enum (0 is never valid). */
enum sig_purpose {
  SIG_PURPOSE_CERTIFICATE = 1,
  SIG_PURPOSE_INVOICE = 2,
  SIG_PURPOSE_LOG = 3,
};

/* Contexts prefixed to what sig_sign signs, one per kind of document. */
#define SIG_CONTEXT_WIPE_CERTIFICATE "registry.v1.WipeCertificate\n"

/* A fresh key pair (pk, and sk = libsodium's seed ‖ pk). 0 or
 * REG_ECRYPTO; outputs written only on success. The caller wipes sk. */
int sig_keypair_new(uint8_t pk[SIG_PK_LEN], uint8_t sk[SIG_SK_LEN]) REG_MUST_CHECK;

/* 0 if name[len] is a valid C2SP key name: non-empty, well-formed UTF-8,
 * no "+", no Unicode white space, no control character; else
 * REG_EINVAL. */
int sig_key_name_check(const char *name, size_t len) REG_MUST_CHECK;

/* The C2SP key id of (name, Ed25519 pk). 0 or REG_EINVAL (invalid name or
 * NULL); id written only on success. */
int sig_key_id(const char *name, const uint8_t pk[SIG_PK_LEN],
               uint8_t id[SIG_KEY_ID_LEN]) REG_MUST_CHECK;

/* The 8 lower-case hex digits of id and a NUL into out. */
void sig_key_id_hex(const uint8_t id[SIG_KEY_ID_LEN], char out[9]);

/* The vkey of (name, pk), NUL-terminated, into out[cap]: strlen(name) + 54
 * characters, so cap ≥ strlen(name) + 55. 0, REG_EINVAL (invalid name) or
 * REG_ERANGE (cap too small); out written only on success. */
int sig_vkey(const char *name, const uint8_t pk[SIG_PK_LEN], char *out,
             size_t cap) REG_MUST_CHECK;

/* Parses a vkey (names of up to 255 bytes) into its name (NUL-terminated,
 * name[name_cap]), key id and public key, checking that the algorithm byte
 * is Ed25519 and that the key id is the one computed from name and key
 * (hex digits of either case are accepted). 0; REG_EINVAL (malformed,
 * other algorithm, or id mismatch), REG_ERANGE (name_cap too small).
 * Outputs written only on success. */
int sig_vkey_parse(const char *vkey, char *name, size_t name_cap, uint8_t id[SIG_KEY_ID_LEN],
                   uint8_t pk[SIG_PK_LEN]) REG_MUST_CHECK;

/* Ed25519 signature of context ‖ msg[len] (context a C string such as
 * SIG_CONTEXT_WIPE_CERTIFICATE, or NULL/"" for msg alone) into sig.
 * 0, REG_EINVAL, REG_ENOMEM or REG_ECRYPTO; sig written only on success. */
int sig_sign(const uint8_t sk[SIG_SK_LEN], const char *context, const uint8_t *msg, size_t len,
             uint8_t sig[SIG_LEN]) REG_MUST_CHECK;

/* 0 if sig is pk's signature of context ‖ msg[len]; REG_ECRYPTO if not
 * (including a small-order key or a non-canonical signature), REG_EINVAL
 * for a NULL argument, REG_ENOMEM if the message could not be assembled.
 * Anything but 0 means "not verified". */
int sig_verify(const uint8_t pk[SIG_PK_LEN], const char *context, const uint8_t *msg,
               size_t len, const uint8_t sig[SIG_LEN]) REG_MUST_CHECK;

/* "CERTIFICATE", "INVOICE", "LOG" (static strings); NULL for any other
 * value. */
const char *sig_purpose_name(int purpose);

/* The purpose named s, in either case ("log", "LOG") → 0 and *out; else
 * REG_EINVAL, *out untouched. */
int sig_purpose_parse(const char *s, int *out) REG_MUST_CHECK;

/* The key name of a purpose, NUL-terminated, into out[cap]:
 * "<registry_id>/certificate", "<registry_id>/invoice", "<registry_id>".
 * 0; REG_EINVAL (unknown purpose, registry_id not a valid key name),
 * REG_ERANGE (cap too small); out written only on success. */
int sig_key_name(const char *registry_id, int purpose, char *out, size_t cap) REG_MUST_CHECK;

/* ---- verifying a signed document against listed keys ---- */

/* The reasons a verdict may hold, in the order they are added (UPPER_SNAKE
 * static strings). The first two and the last are the document's own
 * (services/wipe/wipe_cert.c, services/invoice/invoice_sig.c); the middle
 * three come from sig_verify_listed. */
#define SIG_R_BODY_MALFORMED "BODY_MALFORMED"
#define SIG_R_ID_MISMATCH "ID_MISMATCH"
#define SIG_R_UNKNOWN_KEY "UNKNOWN_KEY"
#define SIG_R_BAD_SIGNATURE "BAD_SIGNATURE"
#define SIG_R_KEY_NOT_VALID_AT_ISSUE "KEY_NOT_VALID_AT_ISSUE"
#define SIG_R_REVOKED "REVOKED"

#define SIG_REASONS_MAX 8

/* A verification key as LogService.ListSigningKeys lists it. */
typedef struct sig_key {
  char key_id[9];           /* 8 lowercase hex digits */
  uint8_t pk[SIG_PK_LEN];
  int64_t valid_from_us;    /* 0: unknown (an offline vkey) */
  int64_t valid_until_us;   /* 0: still current */
} sig_key;

/* The verdict on a signed document: valid, or every reason why not.
 * key_id: the document's key_id, truncated to 8 characters. */
typedef struct sig_verdict {
  int valid;
  size_t n_reasons;
  const char *reasons[SIG_REASONS_MAX];
  char key_id[9];
} sig_verdict;

/* Clears *v and copies key_id (NULL: "") into v->key_id, truncated. */
void sig_verdict_init(sig_verdict *v, const char *key_id);

/* Appends reason (a static string); beyond SIG_REASONS_MAX it is dropped. */
void sig_verdict_add(sig_verdict *v, const char *reason);

/* Microseconds since the epoch of a google.protobuf.Timestamp given as its
 * seconds and nanos into *us: 0, or REG_ERANGE (nanos outside
 * [0, 999999999], seconds outside 0001-01-01T00:00:00Z ..
 * 9999-12-31T23:59:59Z; within the range the product cannot overflow),
 * REG_EINVAL (us NULL); *us written only on success. */
int sig_timestamp_us(int64_t seconds, int64_t nanos, int64_t *us) REG_MUST_CHECK;

/* 1 if at_us lies within k's [valid_from_us, valid_until_us) (a bound of 0
 * is open), else 0. */
int sig_key_valid_at(const sig_key *k, int64_t at_us);

/* The key half of a verdict on a document signed over context ‖ body[len]
 * with signature sig[sig_len] by key key_id (NULL: ""). 4-byte ids may
 * collide, so every key of keys[n] whose key_id is key_id is tried; the
 * first that verifies is the signer. Adds to v, in this order:
 *   UNKNOWN_KEY             no listed key has key_id (no signature checked);
 *   BAD_SIGNATURE           no listed key with key_id verifies (or sig_len
 *                           is not SIG_LEN, or sig is NULL);
 *   KEY_NOT_VALID_AT_ISSUE  have_at, and at_us (the document's issue time)
 *                           is outside the signer's validity — asked only of
 *                           the key that verified, since the issue time of
 *                           an unauthenticated body says nothing.
 * Sets neither v->valid nor v->key_id. Returns the signer, or NULL. */
const sig_key *sig_verify_listed(const sig_key *keys, size_t n, const char *key_id,
                                 const char *context, const uint8_t *body, size_t len,
                                 const uint8_t *sig, size_t sig_len, int have_at, int64_t at_us,
                                 sig_verdict *v);

#endif
