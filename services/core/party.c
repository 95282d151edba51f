/*
 * Parties at rest (party.h). A natural person becomes one ciphertext: the
 * packed registry.v1.Person sealed with crypto/pii.h under the associated
 * data "<table>/<column>/<row id>", so a ciphertext copied to another row
 * or column no longer opens; beside it the keyed blind index of the
 * resident ID number, which searches and "same party" checks compare. A
 * business is kept in clear: its USCC is the ref, its name the "enc"
 * column. Plaintext of a person lives only in wiped stack buffers and in
 * the caller's arena when the caller asked for it unmasked.
 */
#include "services/core/party.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "services/core/ident.h"
#include "services/core/mask.h"

/* The largest packed Person: a 100-character name is at most 400 bytes of
 * UTF-8, the ID 18 and the phone 20, plus tags and lengths. Anything larger
 * was not checked by party_check_person. */
#define PERSON_PACKED_MAX 1024
#define AD_MAX 256

/* ---- validation ---- */

/* Writes "<prefix>.<name>" (or just name when prefix is empty, or just the
 * prefix when name is NULL) and the message; returns REG_EINVAL. */
static int bad(char *field, size_t field_cap, char *msg, size_t msg_cap, const char *prefix,
               const char *name, const char *text) {
  const char *p = prefix ? prefix : "";
  if (field && field_cap) {
    if (!name) snprintf(field, field_cap, "%s", p);
    else if (!*p) snprintf(field, field_cap, "%s", name);
    else snprintf(field, field_cap, "%s.%s", p, name);
  }
  if (msg && msg_cap) snprintf(msg, msg_cap, "%s", text);
  return REG_EINVAL;
}

/* Number of characters of a valid UTF-8 string without control
 * characters, or -1 (overlong forms, surrogates and values above U+10FFFF
 * are invalid). *blank is set when it holds nothing but spaces (U+0020
 * and U+3000 IDEOGRAPHIC SPACE). */
static long utf8_chars(const char *s, int *blank) {
  const unsigned char *p = (const unsigned char *)s;
  long n = 0;
  *blank = 1;
  while (*p) {
    unsigned c = *p, cp;
    int len;
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7F) return -1;
      if (c != ' ') *blank = 0;
      p++;
      n++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return -1;
    for (int i = 1; i < len; i++) {
      if ((p[i] & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp < 0xA0))
      return -1;
    if (cp != 0x3000) *blank = 0;
    p += len;
    n++;
  }
  return n;
}

/* A name of a person or a business: non-blank, ≤ PARTY_NAME_MAX characters. */
static const char *name_problem(const char *s) {
  int blank = 1;
  if (!s || !*s) return "required";
  long n = utf8_chars(s, &blank);
  if (n < 0) return "must be valid UTF-8 without control characters";
  if (blank) return "must not be blank";
  if (n > PARTY_NAME_MAX) return "at most 100 characters";
  return NULL;
}

/* A phone number: an optional leading '+', then digits, with single '-'
 * between digits; ≤ PARTY_PHONE_MAX characters. Empty means none. */
static int phone_ok(const char *s) {
  size_t len = strlen(s);
  if (len > PARTY_PHONE_MAX) return 0;
  size_t i = s[0] == '+' ? 1 : 0;
  int prev_digit = 0, digits = 0;
  for (; i < len; i++) {
    if (s[i] >= '0' && s[i] <= '9') {
      prev_digit = 1;
      digits++;
    } else if (s[i] == '-' && prev_digit) {
      prev_digit = 0;
    } else {
      return 0;
    }
  }
  return digits > 0 && prev_digit;
}

/* Normalizes an identifier in place: the checkers write the same length
 * (upper case), and only a changed string is written, so an already
 * normalized constant is never touched. */
static void put_back(char *s, const char *norm) {
  if (strcmp(s, norm) != 0) memcpy(s, norm, strlen(norm));
}

int party_check_person(Registry__V1__Person *p, const char *prefix, char *field, size_t field_cap,
                       char *msg, size_t msg_cap) {
  if (!p) return bad(field, field_cap, msg, msg_cap, prefix, NULL, "required");
  const char *why = name_problem(p->name);
  if (why) return bad(field, field_cap, msg, msg_cap, prefix, "name", why);
  char id[19];
  if (!p->id_number || !*p->id_number)
    return bad(field, field_cap, msg, msg_cap, prefix, "id_number", "required");
  if (ident_resident_id_check(p->id_number, id) != 0)
    return bad(field, field_cap, msg, msg_cap, prefix, "id_number",
               "not a valid resident ID number (GB 11643)");
  if (p->phone && *p->phone && !phone_ok(p->phone))
    return bad(field, field_cap, msg, msg_cap, prefix, "phone",
               "digits with an optional leading '+' and '-' separators, at most 20 characters");
  put_back(p->id_number, id);
  return 0;
}

static int check_business(Registry__V1__Business *b, const char *prefix, char *field,
                          size_t field_cap, char *msg, size_t msg_cap) {
  if (!b) return bad(field, field_cap, msg, msg_cap, prefix, NULL, "required");
  char uscc[19];
  if (!b->uscc || !*b->uscc)
    return bad(field, field_cap, msg, msg_cap, prefix, "uscc", "required");
  if (ident_uscc_check(b->uscc, uscc) != 0)
    return bad(field, field_cap, msg, msg_cap, prefix, "uscc",
               "not a valid unified social credit code (GB 32100)");
  const char *why = name_problem(b->name);
  if (why) return bad(field, field_cap, msg, msg_cap, prefix, "name", why);
  put_back(b->uscc, uscc);
  return 0;
}

int party_check(Registry__V1__Party *p, const char *prefix, int required, char *field,
                size_t field_cap, char *msg, size_t msg_cap) {
  if (!p) {
    if (!required) return 0;
    return bad(field, field_cap, msg, msg_cap, prefix, NULL, "required");
  }
  const char *pre = prefix ? prefix : "";
  char sub[128];
  switch (p->kind_case) {
  case REGISTRY__V1__PARTY__KIND_PERSON:
    snprintf(sub, sizeof(sub), "%s%sperson", pre, *pre ? "." : "");
    return party_check_person(p->person, sub, field, field_cap, msg, msg_cap);
  case REGISTRY__V1__PARTY__KIND_BUSINESS:
    snprintf(sub, sizeof(sub), "%s%sbusiness", pre, *pre ? "." : "");
    return check_business(p->business, sub, field, field_cap, msg, msg_cap);
  default:
    return bad(field, field_cap, msg, msg_cap, prefix, NULL,
               "set exactly one of person or business");
  }
}

/* ---- sealing ---- */

static int make_ad(char ad[AD_MAX], const char *table, const char *column, const char *row_id) {
  if (!table || !column || !row_id) return REG_EINVAL;
  int n = snprintf(ad, AD_MAX, "%s/%s/%s", table, column, row_id);
  return n < 0 || n >= AD_MAX ? REG_ERANGE : 0;
}

/* The resident ID in its normalized form (upper case), checked. */
static int norm_id(const char *id, char out[19]) {
  return id && ident_resident_id_check(id, out) == 0 ? 0 : REG_EINVAL;
}

int party_seal_person(const pii_keyring *ring, arena *a, const Registry__V1__Person *p,
                      const char *table, const char *column, const char *row_id,
                      party_sealed *out) {
  if (!ring || !a || !p || !out) return REG_EINVAL;
  char ad[AD_MAX], id[19];
  int rv = make_ad(ad, table, column, row_id);
  if (rv != 0) return rv;
  if (norm_id(p->id_number, id) != 0) return REG_EINVAL;
  uint8_t ref[32];
  rv = pii_blind_index(ring, PARTY_ID_DOMAIN, id, ref);
  if (rv != 0) {
    sodium_memzero(id, sizeof(id));
    return rv;
  }

  /* pack with the normalized ID, so the stored Person matches the index */
  Registry__V1__Person copy = *p;
  copy.id_number = id;
  size_t n = registry__v1__person__get_packed_size(&copy);
  if (n > PERSON_PACKED_MAX) {
    sodium_memzero(id, sizeof(id));
    return REG_ERANGE;
  }
  uint8_t pt[PERSON_PACKED_MAX];
  registry__v1__person__pack(&copy, pt);
  uint8_t *enc = arena_alloc(a, n + PII_OVERHEAD);
  size_t enc_len = 0;
  rv = enc ? pii_encrypt(ring, ad, pt, n, enc, n + PII_OVERHEAD, &enc_len) : REG_ENOMEM;
  sodium_memzero(pt, sizeof(pt));
  sodium_memzero(id, sizeof(id));
  if (rv != 0) return rv;
  out->kind = PARTY_PERSON;
  memcpy(out->ref, ref, 32);
  out->ref_len = 32;
  out->enc = enc;
  out->enc_len = enc_len;
  return 0;
}

int party_seal(const pii_keyring *ring, arena *a, const Registry__V1__Party *p, const char *table,
               const char *column, const char *row_id, party_sealed *out) {
  if (!a || !p || !out) return REG_EINVAL;
  if (p->kind_case == REGISTRY__V1__PARTY__KIND_PERSON)
    return party_seal_person(ring, a, p->person, table, column, row_id, out);
  if (p->kind_case != REGISTRY__V1__PARTY__KIND_BUSINESS || !p->business) return REG_EINVAL;
  char uscc[19];
  if (!p->business->uscc || ident_uscc_check(p->business->uscc, uscc) != 0) return REG_EINVAL;
  const char *name = p->business->name ? p->business->name : "";
  size_t len = strlen(name);
  uint8_t *enc = arena_alloc(a, len ? len : 1);
  if (!enc) return REG_ENOMEM;
  memcpy(enc, name, len);
  out->kind = PARTY_BUSINESS;
  memcpy(out->ref, uscc, 18);
  out->ref_len = 18;
  out->enc = enc;
  out->enc_len = len;
  return 0;
}

/* ---- opening ---- */

/* s masked by fn (or copied when unmasked) into the arena; NULL when full. */
static char *reveal(arena *a, const char *s, int unmasked, char *(*fn)(arena *, const char *)) {
  if (!s) s = "";
  return unmasked ? arena_strdup(a, s) : fn(a, s);
}

static void wipe_str(char *s) {
  if (s && s != protobuf_c_empty_string) sodium_memzero(s, strlen(s));
}

int party_open_person(const pii_keyring *ring, arena *a, const uint8_t *enc, size_t enc_len,
                      const char *table, const char *column, const char *row_id, int unmasked,
                      Registry__V1__Person **out) {
  if (!ring || !a || !enc || !out) return REG_EINVAL;
  if (enc_len < PII_OVERHEAD) return REG_ECRYPTO;
  if (enc_len - PII_OVERHEAD > PERSON_PACKED_MAX) return REG_ERANGE;
  char ad[AD_MAX];
  int rv = make_ad(ad, table, column, row_id);
  if (rv != 0) return rv;
  uint8_t pt[PERSON_PACKED_MAX];
  size_t n = 0;
  rv = pii_decrypt(ring, ad, enc, enc_len, pt, sizeof(pt), &n);
  if (rv != 0) {
    sodium_memzero(pt, sizeof(pt));
    return rv;
  }
  /* decoded with malloc, so the clear strings can be wiped before free */
  Registry__V1__Person *clear = registry__v1__person__unpack(NULL, n, pt);
  sodium_memzero(pt, sizeof(pt));
  if (!clear) return REG_ECRYPTO; /* authentic but not a Person: never written by us */
  Registry__V1__Person *p = arena_alloc(a, sizeof(*p));
  if (p) {
    registry__v1__person__init(p);
    p->name = reveal(a, clear->name, unmasked, mask_name);
    p->id_number = reveal(a, clear->id_number, unmasked, mask_id_number);
    p->phone = reveal(a, clear->phone, unmasked, mask_phone);
  }
  rv = p && p->name && p->id_number && p->phone ? 0 : REG_ENOMEM;
  wipe_str(clear->name);
  wipe_str(clear->id_number);
  wipe_str(clear->phone);
  registry__v1__person__free_unpacked(clear, NULL);
  if (rv == 0) *out = p;
  return rv;
}

int party_open_ref(const pii_keyring *ring, arena *a, int kind, const uint8_t *ref,
                   size_t ref_len, const uint8_t *enc, size_t enc_len, const char *table,
                   const char *column, const char *row_id, int unmasked,
                   Registry__V1__Party **out) {
  if (!a || !out) return REG_EINVAL;
  Registry__V1__Party *party = arena_alloc(a, sizeof(*party));
  if (!party) return REG_ENOMEM;
  registry__v1__party__init(party);
  if (kind == PARTY_PERSON) {
    Registry__V1__Person *p = NULL;
    int rv = party_open_person(ring, a, enc, enc_len, table, column, row_id, unmasked, &p);
    if (rv != 0) return rv;
    party->kind_case = REGISTRY__V1__PARTY__KIND_PERSON;
    party->person = p;
  } else if (kind == PARTY_BUSINESS) {
    if (!enc && enc_len) return REG_EINVAL;
    if (ref && ref_len != 18) return REG_EINVAL;
    Registry__V1__Business *b = arena_alloc(a, sizeof(*b));
    if (!b) return REG_ENOMEM;
    registry__v1__business__init(b);
    b->name = arena_strndup(a, enc ? (const char *)enc : "", enc_len);
    b->uscc = arena_strndup(a, ref ? (const char *)ref : "", ref ? ref_len : 0);
    if (!b->name || !b->uscc) return REG_ENOMEM;
    party->kind_case = REGISTRY__V1__PARTY__KIND_BUSINESS;
    party->business = b;
  } else {
    return REG_EINVAL;
  }
  *out = party;
  return 0;
}

int party_open(const pii_keyring *ring, arena *a, int kind, const uint8_t *enc, size_t enc_len,
               const char *table, const char *column, const char *row_id, int unmasked,
               Registry__V1__Party **out) {
  return party_open_ref(ring, a, kind, NULL, 0, enc, enc_len, table, column, row_id, unmasked,
                        out);
}

int party_person_ref(const pii_keyring *ring, const char *id_number, uint8_t out[32]) {
  if (!ring || !id_number || !out) return REG_EINVAL;
  /* upper-case a final "x" as ident_resident_id_check does, so a search
   * with either spelling finds the sealed party */
  char id[32];
  size_t len = strlen(id_number);
  if (len >= sizeof(id)) return REG_EINVAL;
  for (size_t i = 0; i <= len; i++)
    id[i] = id_number[i] >= 'a' && id_number[i] <= 'z' ? (char)(id_number[i] - 32) : id_number[i];
  int rv = pii_blind_index(ring, PARTY_ID_DOMAIN, id, out);
  sodium_memzero(id, sizeof(id));
  return rv;
}

int party_same(int kind_a, const uint8_t *ref_a, size_t len_a, int kind_b, const uint8_t *ref_b,
               size_t len_b) {
  if (kind_a != kind_b || len_a != len_b || len_a == 0 || !ref_a || !ref_b) return 0;
  return sodium_memcmp(ref_a, ref_b, len_a) == 0;
}
