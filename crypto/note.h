/*
 * C2SP signed notes (c2sp.org/signed-note), Ed25519 only: the form of our
 * log checkpoints (SPEC §4.6) and of anything else a third party should
 * verify with stock tools.
 *
 *   <text, ending in "\n">
 *   "\n"
 *   "— " <key name> " " base64(key id ‖ signature) "\n"     (one per signer)
 *
 * The dash is U+2014 (bytes E2 80 94). The signature covers the text only,
 * including its final newline, without the blank line.
 */
#ifndef REG_CRYPTO_NOTE_H
#define REG_CRYPTO_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

/* Most signature lines note_verify reads, as the reference implementation. */
#define NOTE_MAX_SIGS 100
/* Longest note note_verify reads. */
#define NOTE_MAX_LEN (1u << 20)
/* Bytes note_sign adds to the text (the NUL included): */
#define NOTE_SIGN_OVERHEAD(name_len) ((name_len) + 1 + 3 + 1 + 1 + 92 + 1 + 1)

/* Signs text with (name, sk, pk) and writes the signed note, NUL-terminated,
 * to out[cap] (strlen(text) + NOTE_SIGN_OVERHEAD(strlen(name)) bytes
 * suffice), and the raw 64-byte signature to sig_out (may be NULL). text
 * must be non-empty, end in "\n", be UTF-8 with no control character other
 * than "\n". 0; REG_EINVAL (bad text or name, pk is not sk's public key),
 * REG_ERANGE (cap too small), REG_ENOMEM, REG_ECRYPTO. Outputs written
 * only on success. */
int note_sign(const char *name, const uint8_t sk[64], const uint8_t pk[32], const char *text,
              char *out, size_t cap, uint8_t sig_out[64]) REG_MUST_CHECK;

/* Verifies that note[len] (need not be NUL-terminated) is a well-formed
 * signed note carrying a good signature from the key of vkey (as
 * sig_vkey makes it). Lines from other keys are checked for syntax only.
 * 0, and *text_end (may be NULL) points just past the text's final
 * newline, inside note; REG_EINVAL for a malformed vkey or note (no blank
 * line, a bad signature line, more than NOTE_MAX_SIGS, longer than
 * NOTE_MAX_LEN, control characters, not ending in "\n"); REG_ECRYPTO when
 * no line is from that key or its signature does not verify. */
int note_verify(const char *vkey, const char *note, size_t len,
                const char **text_end) REG_MUST_CHECK;

#endif
