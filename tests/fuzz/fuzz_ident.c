/*
 * Fuzz target: identifier validators (services/core/ident.h) and masking
 * of personal data (services/core/mask.h), on a NUL-terminated copy of the
 * input.
 *
 * Validators: the result is 0 or REG_EINVAL; on failure the output buffer
 * is untouched; on success it holds exactly the documented length and
 * alphabet, it is the input upper-cased, nothing past the documented size
 * is written, and validating the normalized value again accepts it and
 * gives it back unchanged (idempotent).
 *
 * Masking: never writes or reads out of bounds (ASan), always a
 * NUL-terminated string no longer than the input plus the stars; on valid
 * UTF-8 (what the transport lets through) the result has the documented
 * number of characters and keeps the documented leading and trailing
 * characters. An arena too small for the result yields NULL, not a crash.
 */
#include <string.h>

#include "services/base/arena.h"
#include "services/base/err.h"
#include "services/core/ident.h"
#include "services/core/mask.h"
#include "services/rpc/rpc_wire.h"
#include "tests/fuzz/fuzz.h"

#define GUARD 16
#define FILL 0x5A

typedef int (*check_fn)(const char *in, char *out);

static int vin(const char *in, char *out) { return ident_vin_check(in, out); }
static int imei(const char *in, char *out) { return ident_imei_check(in, out); }
static int rid(const char *in, char *out) { return ident_resident_id_check(in, out); }
static int uscc(const char *in, char *out) { return ident_uscc_check(in, out); }

static const struct {
  check_fn fn;
  size_t len; /* characters of a valid value */
} validators[] = {{vin, 17}, {imei, 15}, {rid, 18}, {uscc, 18}};

static char upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }

static void check_validator(check_fn fn, size_t len, const char *in) {
  char out[32 + GUARD], again[32 + GUARD];
  memset(out, FILL, sizeof(out));
  int rv = fn(in, out);
  if (rv != 0) {
    FUZZ_CHECK(rv == REG_EINVAL);
    for (size_t i = 0; i < sizeof(out); i++) FUZZ_CHECK((unsigned char)out[i] == FILL);
    return;
  }
  FUZZ_CHECK(strlen(in) == len);
  FUZZ_CHECK(out[len] == 0);
  for (size_t i = 0; i < len; i++) {
    FUZZ_CHECK(out[i] == upper(in[i]));
    FUZZ_CHECK((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'A' && out[i] <= 'Z'));
  }
  for (size_t i = len + 1; i < sizeof(out); i++) FUZZ_CHECK((unsigned char)out[i] == FILL);

  memset(again, FILL, sizeof(again));
  FUZZ_CHECK(fn(out, again) == 0);
  FUZZ_CHECK(memcmp(out, again, len + 1) == 0);
}

static size_t count_chars(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80) n++;
  return n;
}

/* Byte offset of character k of valid UTF-8 s (k ≤ its count). */
static size_t char_off(const char *s, size_t k) {
  size_t i = 0;
  for (; s[i]; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80 && k-- == 0) return i;
  return i;
}

/* r = mask of s keeping `head` and `tail` characters around `stars` '*'
 * (or all stars when s has at most `whole` characters). */
static void check_mask(const char *s, const char *r, int utf8, size_t head, size_t stars,
                       size_t tail, size_t whole) {
  if (!r) return; /* arena exhausted */
  size_t len = strlen(s), rlen = strlen(r);
  FUZZ_CHECK(rlen <= len + stars);
  if (!utf8) return;
  size_t n = count_chars(s);
  if (n <= whole) {
    FUZZ_CHECK(rlen == n);
    for (size_t i = 0; i < rlen; i++) FUZZ_CHECK(r[i] == '*');
    return;
  }
  size_t h = char_off(s, head), t = char_off(s, n - tail);
  FUZZ_CHECK(rlen == h + stars + (len - t));
  FUZZ_CHECK(memcmp(r, s, h) == 0);
  for (size_t i = 0; i < stars; i++) FUZZ_CHECK(r[h + i] == '*');
  FUZZ_CHECK(memcmp(r + h + stars, s + t, len - t) == 0);
}

static void check_masks(arena *a, const char *s, int utf8) {
  size_t n = count_chars(s);
  const char *r = mask_name(a, s);
  if (r && utf8) {
    if (n == 0) FUZZ_CHECK(r[0] == 0);
    else if (n == 1) FUZZ_CHECK(strcmp(r, "*") == 0);
    else if (n == 2) check_mask(s, r, utf8, 1, 1, 0, 0);
    else check_mask(s, r, utf8, 1, 1, 1, 0);
  } else if (r) {
    FUZZ_CHECK(strlen(r) <= strlen(s) + 1);
  }
  check_mask(s, mask_id_number(a, s), utf8, 4, 10, 4, 8);
  check_mask(s, mask_phone(a, s), utf8, 3, 4, 4, 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;

  for (size_t i = 0; i < sizeof(validators) / sizeof(validators[0]); i++)
    check_validator(validators[i].fn, validators[i].len, s);

  int rv = ident_uuid_check(s);
  FUZZ_CHECK(rv == 0 || rv == REG_EINVAL);
  if (rv == 0) {
    FUZZ_CHECK(strlen(s) == 36);
    FUZZ_CHECK(ident_uuid_check(s) == 0);
  }

  /* Masks see what got through the transport's UTF-8 check; strings with
   * an early NUL are cut there, as protobuf-c does. */
  int utf8 = rpc_utf8_valid((const uint8_t *)s, strlen(s));
  arena *a = arena_new(1u << 20);
  if (a) {
    check_masks(a, s, utf8);
    arena_free(a);
  }
  /* An arena that runs out part-way: NULL results, no crash. */
  a = arena_new(size / 2 + 1);
  if (a) {
    check_masks(a, s, utf8);
    arena_free(a);
  }
  free(s);
  return 0;
}
