/*
 * SPEC §3 masking of names, ID numbers and phone numbers. Each rule keeps
 * a few leading and trailing characters and replaces the middle with a
 * fixed run of "*"; lengths are counted in UTF-8 code points so that a
 * Chinese name loses whole characters, never half of one.
 */
#include "services/core/mask.h"
#include "services/core/text.h"

#include <string.h>


/* Byte offset of code point k in s (k ≤ text_chars(s)). */
static size_t offset_of(const char *s, size_t k) {
  size_t i = 0;
  const unsigned char *p = (const unsigned char *)s;
  for (; p[i]; i++) {
    if ((p[i] & 0xC0) != 0x80) {
      if (k == 0) return i;
      k--;
    }
  }
  return i;
}

/* The first `head` characters of s, `stars` '*', then its last `tail`
 * characters. */
static char *keep_ends(arena *a, const char *s, size_t head, size_t stars, size_t tail) {
  size_t n = text_chars(s), len = strlen(s);
  size_t head_end = offset_of(s, head), tail_start = offset_of(s, n - tail);
  size_t tail_len = len - tail_start;
  char *out = arena_alloc(a, head_end + stars + tail_len + 1);

  if (!out) return NULL;
  memcpy(out, s, head_end);
  memset(out + head_end, '*', stars);
  memcpy(out + head_end + stars, s + tail_start, tail_len);
  out[head_end + stars + tail_len] = 0;
  return out;
}

static char *all_stars(arena *a, size_t n) {
  char *out = arena_alloc(a, n + 1);

  if (!out) return NULL;
  memset(out, '*', n);
  out[n] = 0;
  return out;
}

char *mask_name(arena *a, const char *name) {
  size_t n;

  if (!a || !name) return NULL;
  n = text_chars(name);
  if (n == 0) return arena_strdup(a, "");
  if (n == 1) return all_stars(a, 1);
  if (n == 2) return keep_ends(a, name, 1, 1, 0);
  return keep_ends(a, name, 1, 1, 1);
}

char *mask_id_number(arena *a, const char *id) {
  size_t n;

  if (!a || !id) return NULL;
  n = text_chars(id);
  if (n <= 8) return all_stars(a, n);
  return keep_ends(a, id, 4, 10, 4);
}

char *mask_phone(arena *a, const char *phone) {
  size_t n;

  if (!a || !phone) return NULL;
  n = text_chars(phone);
  if (n <= 7) return all_stars(a, n);
  return keep_ends(a, phone, 3, 4, 4);
}
