/*
 * Receipts and checkpoints as text: the c2sp.org/tlog-proof@v1 format of
 * an inclusion proof under a signed checkpoint, and the
 * c2sp.org/tlog-checkpoint body that the log signs. The grammar follows
 * the C2SP documents and the reference parser
 * (github.com/transparency-dev/formats/proof): header, optional "extra"
 * line, "index N", one base64 hash per line, a blank line, then the note
 * verbatim. We are stricter than that parser in two places a verifier
 * cares about: the index has no leading zeros (as the spec says), and the
 * note must have the shape of a signed checkpoint, so bytes appended after
 * a receipt do not pass as part of it. Nothing here allocates; every
 * parsed value goes into a caller's buffer of a stated capacity.
 */
#include "crypto/tlog_proof.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto/note.h"

#define HASH 32
#define HASH_B64 44 /* base64 of 32 bytes, padded */
#define HEADER_LEN (sizeof(TLOG_PROOF_HEADER) - 1)
#define DASH "\xE2\x80\x94 " /* U+2014 and a space: a note's signature line */
#define DASH_LEN 4
#define U64_DIGITS 20

_Static_assert(HASH_B64 + 1 == sodium_base64_ENCODED_LEN(HASH, sodium_base64_VARIANT_ORIGINAL),
               "hash base64 length");

/* The line starting at text[*pos], without its "\n": 0, or REG_EINVAL when
 * the text ends without one. Moves *pos past the newline. */
static int next_line(const char *text, size_t len, size_t *pos, const char **line,
                     size_t *line_len) {
  const char *nl;

  if (*pos >= len) return REG_EINVAL;
  nl = memchr(text + *pos, '\n', len - *pos);
  if (!nl) return REG_EINVAL;
  *line = text + *pos;
  *line_len = (size_t)(nl - *line);
  *pos += *line_len + 1;
  return 0;
}

/* A decimal uint64 with no leading zeros ("0" alone is fine). */
static int parse_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;

  if (n == 0 || n > U64_DIGITS || (n > 1 && s[0] == '0')) return REG_EINVAL;
  for (size_t i = 0; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (s[i] < '0' || s[i] > '9') return REG_EINVAL;
    if (v > (UINT64_MAX - d) / 10) return REG_EINVAL;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* A 32-byte hash from exactly 44 characters of padded standard base64. */
static int parse_hash(const char *s, size_t n, uint8_t out[HASH]) {
  uint8_t tmp[HASH];
  size_t got = 0;
  const char *end = NULL;

  if (n != HASH_B64) return REG_EINVAL;
  if (sodium_base642bin(tmp, sizeof(tmp), s, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) !=
          0 ||
      end != s + n || got != HASH)
    return REG_EINVAL;
  memcpy(out, tmp, HASH);
  return 0;
}

static int is_b64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

/* Strict padded standard base64 of any length: its decoded length in
 * *out_len, and (out not NULL) the bytes in out[cap], else only checked, a
 * chunk at a time. REG_EINVAL when malformed, REG_ERANGE when cap is too
 * small (nothing written then). */
static int decode_b64(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
  size_t pad = 0, need, got, off = 0;
  const char *end;

  if (n % 4 != 0) return REG_EINVAL;
  if (n > 0 && s[n - 1] == '=') pad = (n > 1 && s[n - 2] == '=') ? 2 : 1;
  for (size_t i = 0; i < n - pad; i++)
    if (!is_b64_char(s[i])) return REG_EINVAL;
  need = n / 4 * 3 - pad;
  if (out && need > cap) return REG_ERANGE;
  /* '=' only at the end, so each chunk but the last is plain base64 */
  while (off < n) {
    uint8_t scratch[48];
    size_t chunk = n - off > 64 ? 64 : n - off;
    uint8_t *dst = out ? out + off / 4 * 3 : scratch;
    size_t room = out ? need - off / 4 * 3 : sizeof(scratch);
    got = 0;
    end = NULL;
    if (sodium_base642bin(dst, room, s + off, chunk, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + off + chunk)
      return REG_EINVAL;
    off += chunk;
  }
  if (out_len) *out_len = need;
  return 0;
}

/* The checkpoint body in body[len]; origin copied only when origin_out is
 * not NULL. */
static int parse_body(const char *body, size_t len, char *origin_out, size_t ocap,
                      uint64_t *size_out, uint8_t root_out[HASH]) {
  const char *origin, *line;
  size_t pos = 0, origin_len, line_len;
  uint64_t size;
  uint8_t root[HASH];
  int rc;

  if (!body) return REG_EINVAL;
  if ((rc = next_line(body, len, &pos, &origin, &origin_len)) < 0) return rc;
  if (origin_len == 0) return REG_EINVAL;
  for (size_t i = 0; i < origin_len; i++)
    if ((unsigned char)origin[i] < 0x20 || origin[i] == 0x7F) return REG_EINVAL;
  if ((rc = next_line(body, len, &pos, &line, &line_len)) < 0) return rc;
  if ((rc = parse_u64(line, line_len, &size)) < 0) return rc;
  if ((rc = next_line(body, len, &pos, &line, &line_len)) < 0) return rc;
  if ((rc = parse_hash(line, line_len, root)) < 0) return rc;
  while (pos < len) { /* extension lines: non-empty, otherwise opaque */
    if ((rc = next_line(body, len, &pos, &line, &line_len)) < 0) return rc;
    if (line_len == 0) return REG_EINVAL;
  }
  if (origin_out) {
    if (origin_len + 1 > ocap) return REG_ERANGE;
    memcpy(origin_out, origin, origin_len);
    origin_out[origin_len] = '\0';
  }
  if (size_out) *size_out = size;
  if (root_out) memcpy(root_out, root, HASH);
  return 0;
}

/* 0 when note[len] has the shape of a signed checkpoint: a checkpoint
 * body, a blank line, and one or more lines "— <name> <base64>". */
static int check_note(const char *note, size_t len) {
  const char *line;
  size_t pos = 0, line_len, text_len, sigs = 0;
  int rc;

  for (text_len = 0; text_len + 1 < len; text_len++)
    if (note[text_len] == '\n' && note[text_len + 1] == '\n') break;
  if (text_len + 1 >= len) return REG_EINVAL; /* no blank line */
  text_len++;                                 /* the text keeps its final newline */
  if ((rc = parse_body(note, text_len, NULL, 0, NULL, NULL)) < 0) return rc;
  pos = text_len + 1;
  while (pos < len) {
    const char *name, *sp;
    if ((rc = next_line(note, len, &pos, &line, &line_len)) < 0) return rc;
    if (line_len < DASH_LEN || memcmp(line, DASH, DASH_LEN) != 0) return REG_EINVAL;
    name = line + DASH_LEN;
    sp = memchr(name, ' ', line_len - DASH_LEN);
    if (!sp || sp == name) return REG_EINVAL;
    if (sp + 1 == line + line_len) return REG_EINVAL;
    if ((rc = decode_b64(sp + 1, (size_t)(line + line_len - sp - 1), NULL, 0, NULL)) < 0) return rc;
    sigs++;
  }
  return sigs > 0 ? 0 : REG_EINVAL;
}

int tlog_proof_format_extra(uint64_t index, const uint8_t *extra, size_t extra_len,
                            const uint8_t (*hashes)[32], size_t n, const char *checkpoint_note,
                            char *out, size_t cap, size_t *len) {
  char num[U64_DIGITS + 1];
  size_t note_len, num_len, extra_b64 = 0, need, p = 0;
  int rc;

  if (!checkpoint_note || !out || !len || (n > 0 && !hashes)) return REG_EINVAL;
  if (n > TLOG_PROOF_MAX_HASHES) return REG_EINVAL;
  note_len = strlen(checkpoint_note);
  if ((rc = check_note(checkpoint_note, note_len)) < 0) return rc;
  if (note_len > NOTE_MAX_LEN) return REG_EINVAL;
  if (extra) {
    if (extra_len > TLOG_PROOF_MAX_EXTRA) return REG_EINVAL;
    extra_b64 = sodium_base64_ENCODED_LEN(extra_len, sodium_base64_VARIANT_ORIGINAL) - 1;
  }
  num_len = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)index);
  /* header, extra, index, hashes, blank line, note, NUL: all bounded above */
  need = HEADER_LEN + 1 + (extra ? 6 + extra_b64 + 1 : 0) + 6 + num_len + 1 + n * (HASH_B64 + 1) +
         1 + note_len + 1;
  if (need > cap) return REG_ERANGE;

  memcpy(out + p, TLOG_PROOF_HEADER "\n", HEADER_LEN + 1);
  p += HEADER_LEN + 1;
  if (extra) {
    memcpy(out + p, "extra ", 6);
    p += 6;
    sodium_bin2base64(out + p, extra_b64 + 1, extra, extra_len, sodium_base64_VARIANT_ORIGINAL);
    p += extra_b64;
    out[p++] = '\n';
  }
  memcpy(out + p, "index ", 6);
  p += 6;
  memcpy(out + p, num, num_len);
  p += num_len;
  out[p++] = '\n';
  for (size_t i = 0; i < n; i++) {
    sodium_bin2base64(out + p, HASH_B64 + 1, hashes[i], HASH, sodium_base64_VARIANT_ORIGINAL);
    p += HASH_B64;
    out[p++] = '\n';
  }
  out[p++] = '\n';
  memcpy(out + p, checkpoint_note, note_len);
  p += note_len;
  out[p] = '\0';
  *len = p;
  return 0;
}

int tlog_proof_format(uint64_t index, const uint8_t (*hashes)[32], size_t n,
                      const char *checkpoint_note, char *out, size_t cap, size_t *len) {
  return tlog_proof_format_extra(index, NULL, 0, hashes, n, checkpoint_note, out, cap, len);
}

int tlog_proof_parse_extra(const char *text, size_t len, uint64_t *index, uint8_t (*hashes)[32],
                           size_t cap, size_t *n, const char **note, size_t *note_len,
                           uint8_t *extra, size_t extra_cap, size_t *extra_len, int *has_extra) {
  uint8_t parsed[TLOG_PROOF_MAX_HASHES][HASH];
  const char *line, *xb64 = NULL;
  size_t pos = 0, line_len, count = 0, xlen = 0, xb64_len = 0;
  uint64_t idx;
  int rc, xhave = 0;

  if (!text || !index || !n || !note || !note_len || (cap > 0 && !hashes)) return REG_EINVAL;
  if (len > NOTE_MAX_LEN + TLOG_PROOF_MAX_TEXT_OVERHEAD) return REG_EINVAL;
  if ((rc = next_line(text, len, &pos, &line, &line_len)) < 0) return rc;
  if (line_len != HEADER_LEN || memcmp(line, TLOG_PROOF_HEADER, HEADER_LEN) != 0) return REG_EINVAL;
  if ((rc = next_line(text, len, &pos, &line, &line_len)) < 0) return rc;
  if (line_len >= 6 && memcmp(line, "extra ", 6) == 0) {
    xb64 = line + 6;
    xb64_len = line_len - 6;
    if (xb64_len > TLOG_PROOF_MAX_EXTRA / 3 * 4) return REG_EINVAL;
    if ((rc = decode_b64(xb64, xb64_len, NULL, 0, &xlen)) < 0) return rc;
    xhave = 1;
    if ((rc = next_line(text, len, &pos, &line, &line_len)) < 0) return rc;
  }
  if (line_len < 6 || memcmp(line, "index ", 6) != 0) return REG_EINVAL;
  if ((rc = parse_u64(line + 6, line_len - 6, &idx)) < 0) return rc;
  for (;;) {
    if ((rc = next_line(text, len, &pos, &line, &line_len)) < 0) return rc; /* no blank line */
    if (line_len == 0) break;
    if (count == TLOG_PROOF_MAX_HASHES) return REG_EINVAL;
    if ((rc = parse_hash(line, line_len, parsed[count])) < 0) return rc;
    count++;
  }
  if ((rc = check_note(text + pos, len - pos)) < 0) return rc;
  if (count > cap) return REG_ERANGE;
  if (extra_len && xhave) {
    if (xlen > extra_cap) return REG_ERANGE;
    if (xlen > 0 && (rc = decode_b64(xb64, xb64_len, extra, extra_cap, &xlen)) < 0) return rc;
  }

  if (count > 0) memcpy(hashes, parsed, count * HASH);
  *n = count;
  *index = idx;
  *note = text + pos;
  *note_len = len - pos;
  if (extra_len) *extra_len = xhave ? xlen : 0;
  if (has_extra) *has_extra = xhave;
  return 0;
}

int tlog_proof_parse(const char *text, size_t len, uint64_t *index, uint8_t (*hashes)[32],
                     size_t cap, size_t *n, const char **note, size_t *note_len) {
  return tlog_proof_parse_extra(text, len, index, hashes, cap, n, note, note_len, NULL, 0, NULL,
                                NULL);
}

int tlog_checkpoint_body(const char *origin, uint64_t size, const uint8_t root[32], char *out,
                         size_t cap) {
  char num[U64_DIGITS + 1];
  size_t olen, num_len, p = 0;

  if (!origin || !root || !out) return REG_EINVAL;
  olen = strlen(origin);
  if (olen == 0 || olen > TLOG_MAX_ORIGIN) return REG_EINVAL;
  for (size_t i = 0; i < olen; i++)
    if ((unsigned char)origin[i] < 0x20 || origin[i] == 0x7F) return REG_EINVAL;
  num_len = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
  if (cap < olen + num_len + HASH_B64 + 4) return REG_ERANGE; /* 3 newlines, NUL */
  memcpy(out + p, origin, olen);
  p += olen;
  out[p++] = '\n';
  memcpy(out + p, num, num_len);
  p += num_len;
  out[p++] = '\n';
  sodium_bin2base64(out + p, HASH_B64 + 1, root, HASH, sodium_base64_VARIANT_ORIGINAL);
  p += HASH_B64;
  out[p++] = '\n';
  out[p] = '\0';
  return 0;
}

int tlog_checkpoint_parse(const char *body, size_t len, char *origin, size_t ocap, uint64_t *size,
                          uint8_t root[32]) {
  if (!origin || !size || !root) return REG_EINVAL;
  return parse_body(body, len, origin, ocap, size, root);
}
