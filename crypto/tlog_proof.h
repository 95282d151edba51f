/*
 * The text forms a verifier outside the registry reads: the checkpoint
 * body (c2sp.org/tlog-checkpoint) and the receipt of an event, a
 * c2sp.org/tlog-proof@v1 proof of its inclusion under a signed checkpoint:
 *
 *   "c2sp.org/tlog-proof@v1\n"
 *   ["extra " base64(extra data) "\n"]          (optional, unauthenticated)
 *   "index " <decimal, no leading zeros> "\n"
 *   base64(hash) "\n"                            (0..64, leaf's sibling first)
 *   "\n"
 *   <the signed checkpoint note, verbatim>
 *
 * Base64 is the standard alphabet with padding (RFC 4648 §4), decoded
 * strictly. The signatures of the note are not checked here (note.h).
 */
#ifndef REG_CRYPTO_TLOG_PROOF_H
#define REG_CRYPTO_TLOG_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

#define TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* Most inclusion hashes in a proof (a tree of up to 2^64 − 1 leaves). */
#define TLOG_PROOF_MAX_HASHES 64
/* Most bytes of extra data (its base64 line then fits the 64 KiB line
 * limit of the reference parser). */
#define TLOG_PROOF_MAX_EXTRA 48000
/* Longest proof text tlog_proof_parse reads: a note of NOTE_MAX_LEN and
 * this much before it. */
#define TLOG_PROOF_MAX_TEXT_OVERHEAD \
  (64 + TLOG_PROOF_MAX_EXTRA / 3 * 4 + TLOG_PROOF_MAX_HASHES * 45)
/* Longest origin line tlog_checkpoint_body writes. */
#define TLOG_MAX_ORIGIN 1024

/* Writes the proof of (index, hashes[n]) under checkpoint_note (a signed
 * note of the shape tlog_proof_parse accepts, at most NOTE_MAX_LEN bytes)
 * to out[cap], NUL-terminated, its length without the NUL in *len. 0;
 * REG_EINVAL (n > TLOG_PROOF_MAX_HASHES, a bad note), REG_ERANGE (cap too
 * small). Outputs written only on success. */
int tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t n,
                      const char *checkpoint_note, char *out, size_t cap,
                      size_t *len) REG_MUST_CHECK;

/* As tlog_proof_format, with an "extra" line of extra[extra_len] when
 * extra is not NULL (extra_len may be 0, at most TLOG_PROOF_MAX_EXTRA). */
int tlog_proof_format_extra(uint64_t index, const uint8_t *extra, size_t extra_len,
                            const uint8_t (*hashes)[32], size_t n, const char *checkpoint_note,
                            char *out, size_t cap, size_t *len) REG_MUST_CHECK;

/* Parses text[len] (need not be NUL-terminated): the index, the hashes
 * into hashes[cap] and their count in *n, and the note: *note points into
 * text, *note_len bytes up to the end of text. An "extra" line is checked
 * and skipped. The note must look like a signed checkpoint (a checkpoint
 * body, a blank line, one or more "— " signature lines, ending in "\n").
 * 0; REG_EINVAL for malformed text (no header, a bad index, bad base64, a
 * hash not 32 bytes, more than TLOG_PROOF_MAX_HASHES, no blank line, a
 * note of another shape, extra data over TLOG_PROOF_MAX_EXTRA, text longer
 * than NOTE_MAX_LEN + TLOG_PROOF_MAX_TEXT_OVERHEAD); REG_ERANGE when cap is too small. Outputs
 * written only on success. */
int tlog_proof_parse(const char *text, size_t len, uint64_t *index, uint8_t (*hashes)[32],
                     size_t cap, size_t *n, const char **note, size_t *note_len) REG_MUST_CHECK;

/* As tlog_proof_parse, and the extra data decoded into extra[extra_cap]
 * with its length in *extra_len (0 when the line is absent; *has_extra
 * says which, may be NULL). REG_ERANGE when extra_cap is too small
 * (extra may be NULL with extra_cap 0: then only an empty one fits). */
int tlog_proof_parse_extra(const char *text, size_t len, uint64_t *index, uint8_t (*hashes)[32],
                           size_t cap, size_t *n, const char **note, size_t *note_len,
                           uint8_t *extra, size_t extra_cap, size_t *extra_len,
                           int *has_extra) REG_MUST_CHECK;

/* Writes the checkpoint body "<origin>\n<size>\n<base64 root>\n" to
 * out[cap], NUL-terminated. 0; REG_EINVAL (origin empty, longer than
 * TLOG_MAX_ORIGIN, or with a control character), REG_ERANGE (cap too
 * small; strlen(origin) + 70 bytes suffice). */
int tlog_checkpoint_body(const char *origin, uint64_t size, const uint8_t root[32], char *out,
                         size_t cap) REG_MUST_CHECK;

/* Parses a checkpoint body (the note text, every line ending in "\n"):
 * origin into origin[ocap] NUL-terminated, the size (decimal, no leading
 * zeros, at most 2^64 − 1) and the root (base64 of 32 bytes); non-empty
 * extension lines may follow and are ignored. 0; REG_EINVAL for anything
 * else; REG_ERANGE when ocap is too small. Outputs written only on
 * success. */
int tlog_checkpoint_parse(const char *body, size_t len, char *origin, size_t ocap, uint64_t *size,
                          uint8_t root[32]) REG_MUST_CHECK;

#endif
