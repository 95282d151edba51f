/*
 * Signed notes: formatting a signature line under a text, and parsing a
 * note back into text and signature lines to verify the one from a given
 * key. Parsing follows the reference implementation
 * (golang.org/x/mod/sumdb/note): the text ends at the last blank line,
 * every line after it must be a well-formed signature line, lines from
 * unknown keys are ignored, and a bad signature from the expected key
 * rejects the note.
 */
#include "crypto/note.h"

#include <sodium.h>
#include <string.h>

#include "crypto/keys.h"
#include "crypto/sig.h"

#define DASH "\xE2\x80\x94 " /* U+2014 and a space */
#define DASH_LEN 4
#define SIG_B64_LEN 92 /* base64 of key id ‖ signature (68 bytes), padded */
#define MAX_NAME 256

_Static_assert(SIG_B64_LEN + 1 == sodium_base64_ENCODED_LEN(SIG_KEY_ID_LEN + SIG_LEN,
                                                             sodium_base64_VARIANT_ORIGINAL),
               "signature base64 length");

/* 0 if s[len] is UTF-8 with no control character but "\n" (what a note's
 * bytes must be), else REG_EINVAL. */
static int check_chars(const unsigned char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    unsigned char b = s[i];
    size_t n;
    uint32_t c;
    if (b < 0x80) {
      if (b < 0x20 && b != '\n') return REG_EINVAL;
      i++;
      continue;
    }
    if ((b & 0xE0) == 0xC0) n = 2, c = b & 0x1F;
    else if ((b & 0xF0) == 0xE0) n = 3, c = b & 0x0F;
    else if ((b & 0xF8) == 0xF0) n = 4, c = b & 0x07;
    else return REG_EINVAL;
    if (n > len - i) return REG_EINVAL;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return REG_EINVAL;
      c = c << 6 | (s[i + k] & 0x3F);
    }
    if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
        c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      return REG_EINVAL;
    i += n;
  }
  return 0;
}

int note_sign(const char *name, const uint8_t sk[64], const uint8_t pk[32], const char *text,
              char *out, size_t cap, uint8_t sig_out[64]) {
  uint8_t blob[SIG_KEY_ID_LEN + SIG_LEN];
  size_t tlen, nlen, need, p;
  int rc;

  if (!name || !sk || !pk || !text || !out) return REG_EINVAL;
  tlen = strlen(text);
  nlen = strlen(name);
  if (tlen == 0 || text[tlen - 1] != '\n' || tlen > NOTE_MAX_LEN ||
      check_chars((const unsigned char *)text, tlen) != 0)
    return REG_EINVAL;
  if ((rc = keys_init()) != 0) return rc;
  /* libsodium's sk is seed ‖ pk: refuse a pk that is not sk's */
  if (sodium_memcmp(sk + 32, pk, 32) != 0) return REG_EINVAL;
  if ((rc = sig_key_id(name, pk, blob)) != 0) return rc; /* also checks name */
  need = tlen + NOTE_SIGN_OVERHEAD(nlen);
  if (cap < need) return REG_ERANGE;
  if ((rc = sig_sign(sk, NULL, (const uint8_t *)text, tlen, blob + SIG_KEY_ID_LEN)) != 0)
    return rc;
  memcpy(out, text, tlen);
  p = tlen;
  out[p++] = '\n';
  memcpy(out + p, DASH, DASH_LEN);
  p += DASH_LEN;
  memcpy(out + p, name, nlen);
  p += nlen;
  out[p++] = ' ';
  sodium_bin2base64(out + p, cap - p, blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
  p += SIG_B64_LEN;
  out[p++] = '\n';
  out[p] = 0;
  if (sig_out) memcpy(sig_out, blob + SIG_KEY_ID_LEN, SIG_LEN);
  return 0;
}

static int is_b64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

/* 0 if s[len] is padded standard base64 of at least 5 bytes. */
static int check_b64(const char *s, size_t len) {
  size_t pad = 0;

  if (len < 8 || len % 4 != 0) return REG_EINVAL;
  while (pad < 2 && s[len - 1 - pad] == '=') pad++;
  for (size_t i = 0; i < len - pad; i++)
    if (!is_b64(s[i])) return REG_EINVAL;
  return 0;
}

int note_verify(const char *vkey, const char *note, size_t len, const char **text_end) {
  char name[MAX_NAME];
  uint8_t id[SIG_KEY_ID_LEN], pk[SIG_PK_LEN], blob[SIG_KEY_ID_LEN + SIG_LEN];
  const char *mine = NULL; /* base64 of the first line from our key */
  size_t mine_len = 0, split, nlen, nsigs = 0;
  int rc;

  if (!vkey || !note) return REG_EINVAL;
  if ((rc = sig_vkey_parse(vkey, name, sizeof(name), id, pk)) != 0) return REG_EINVAL;
  nlen = strlen(name);
  if (len < 2 || len > NOTE_MAX_LEN || note[len - 1] != '\n' ||
      check_chars((const unsigned char *)note, len) != 0)
    return REG_EINVAL;
  /* the text ends at the last blank line */
  for (split = len - 1; split > 0; split--)
    if (note[split - 1] == '\n' && note[split] == '\n') break;
  if (split == 0) return REG_EINVAL;
  split--; /* note[split] is the text's final newline */

  for (size_t i = split + 2; i < len;) {
    const char *line = note + i, *nl = memchr(line, '\n', len - i), *sp, *b64;
    size_t line_len = (size_t)(nl - line), ln, blen;

    if (++nsigs > NOTE_MAX_SIGS) return REG_EINVAL;
    if (line_len < DASH_LEN || memcmp(line, DASH, DASH_LEN) != 0) return REG_EINVAL;
    sp = memchr(line + DASH_LEN, ' ', line_len - DASH_LEN);
    if (!sp) return REG_EINVAL;
    ln = (size_t)(sp - (line + DASH_LEN));
    b64 = sp + 1;
    blen = (size_t)(nl - b64);
    if (sig_key_name_check(line + DASH_LEN, ln) != 0 || check_b64(b64, blen) != 0)
      return REG_EINVAL;
    if (!mine && ln == nlen && memcmp(line + DASH_LEN, name, nlen) == 0) {
      /* the first 8 characters hold the key id (6 bytes, no padding) */
      size_t got = 0;
      if (keys_init() != 0 ||
          sodium_base642bin(blob, sizeof(blob), b64, 8, NULL, &got, NULL,
                            sodium_base64_VARIANT_ORIGINAL) != 0 ||
          got < SIG_KEY_ID_LEN)
        return REG_EINVAL;
      if (memcmp(blob, id, SIG_KEY_ID_LEN) == 0) {
        mine = b64;
        mine_len = blen;
      }
    }
    i += line_len + 1;
  }
  if (nsigs == 0) return REG_EINVAL;
  if (!mine) return REG_ECRYPTO; /* not signed by this key */
  {
    size_t got = 0;
    const char *end = NULL;
    if (sodium_base642bin(blob, sizeof(blob), mine, mine_len, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != sizeof(blob) || end != mine + mine_len)
      return REG_ECRYPTO; /* our key id, but not an Ed25519 signature */
  }
  if ((rc = sig_verify(pk, NULL, (const uint8_t *)note, split + 1, blob + SIG_KEY_ID_LEN)) != 0)
    return rc == REG_ENOMEM ? rc : REG_ECRYPTO;
  if (text_end) *text_end = note + split + 1;
  return 0;
}
