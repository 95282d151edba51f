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

#endif
