/*
 * Identifier validation (DOMAIN §5): VIN, IMEI, resident ID, unified
 * social credit code, and request-id UUIDs. Pure functions over short
 * strings; the one outside input is today's date, for refusing birth
 * dates in the future.
 */
#include "services/core/ident.h"

#include <stdio.h>
#include <string.h>

#include "services/base/clock.h"

static char upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Copies exactly n characters of in, upper-cased, to buf[n + 1]; REG_EINVAL
 * if in is NULL or not n characters long. */
static int take_upper(const char *in, size_t n, char *buf) {
  if (!in || strlen(in) != n) return REG_EINVAL;
  for (size_t i = 0; i < n; i++) buf[i] = upper(in[i]);
  buf[n] = 0;
  return 0;
}

/* VIN transliteration (ISO 3779 Annex), -1 for I, O, Q and non-alphanumerics. */
static int vin_value(char c) {
  static const char *const letters = "ABCDEFGHJKLMNPRSTUVWXYZ";
  static const int values[] = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5,
                               7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
  const char *p;

  if (is_digit(c)) return c - '0';
  if (c == 0 || !(p = strchr(letters, c))) return -1;
  return values[p - letters];
}

int ident_vin_check(const char *in, char out[18]) {
  static const int w[17] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
  char v[18];
  int sum = 0, r;

  if (take_upper(in, 17, v) != 0) return REG_EINVAL;
  for (int i = 0; i < 17; i++) {
    int x = vin_value(v[i]);
    if (x < 0) return REG_EINVAL;
    sum += x * w[i];
  }
  r = sum % 11;
  if (v[8] != (r == 10 ? 'X' : (char)('0' + r))) return REG_EINVAL;
  memcpy(out, v, sizeof(v));
  return 0;
}

int ident_imei_check(const char *in, char out[16]) {
  int sum = 0;

  if (!in || strlen(in) != 15) return REG_EINVAL;
  for (int i = 0; i < 15; i++) {
    int d;
    if (!is_digit(in[i])) return REG_EINVAL;
    d = in[i] - '0';
    if (i % 2 == 1) { /* every second digit from the left, check digit at 14 */
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  if (sum % 10 != 0) return REG_EINVAL;
  memcpy(out, in, 16);
  return 0;
}

int ident_resident_id_check(const char *in, char out[19]) {
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static const char check[] = "10X98765432";
  char v[19], date[11];
  clock_day born;
  int sum = 0;

  if (take_upper(in, 18, v) != 0) return REG_EINVAL;
  for (int i = 0; i < 17; i++) {
    if (!is_digit(v[i])) return REG_EINVAL;
    sum += (v[i] - '0') * w[i];
  }
  if (v[17] != check[sum % 11]) return REG_EINVAL;
  /* characters 7–14: YYYYMMDD, a real date (clock_day_parse: 1900 on) */
  snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", v + 6, v + 10, v + 12);
  if (clock_day_parse(date, &born) != 0 || born > clock_today_cst()) return REG_EINVAL;
  memcpy(out, v, sizeof(v));
  return 0;
}

/* GB 32100 character values 0–30, -1 for I, O, S, V, Z and others. */
static int uscc_value(char c) {
  static const char *const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const char *p;

  if (c == 0 || !(p = strchr(alphabet, c))) return -1;
  return (int)(p - alphabet);
}

/* GB 11714 check of the 9-character organization code oc: weights
 * 3 7 9 10 5 8 4 2 over digits (0–9) and letters (A=10 … Z=35);
 * C = 11 − (Σ mod 11), written "X" for 10 and "0" for 11. */
static int org_code_ok(const char *oc) {
  static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0, c;

  for (int i = 0; i < 8; i++) {
    int x;
    if (is_digit(oc[i])) x = oc[i] - '0';
    else if (oc[i] >= 'A' && oc[i] <= 'Z') x = oc[i] - 'A' + 10;
    else return 0;
    sum += x * w[i];
  }
  c = 11 - sum % 11;
  return oc[8] == (c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c));
}

int ident_uscc_check(const char *in, char out[19]) {
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  char v[19];
  int sum = 0;

  if (take_upper(in, 18, v) != 0) return REG_EINVAL;
  for (int i = 0; i < 18; i++)
    if (uscc_value(v[i]) < 0) return REG_EINVAL;
  for (int i = 2; i < 8; i++)
    if (!is_digit(v[i])) return REG_EINVAL;
  for (int i = 0; i < 17; i++) sum += uscc_value(v[i]) * w[i];
  if (uscc_value(v[17]) != (31 - sum % 31) % 31) return REG_EINVAL;
  if (!org_code_ok(v + 8)) return REG_EINVAL;
  memcpy(out, v, sizeof(v));
  return 0;
}

int ident_uuid_check(const char *in) {
  if (!in || strlen(in) != 36) return REG_EINVAL;
  for (int i = 0; i < 36; i++) {
    char c = in[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return REG_EINVAL;
    } else if (!is_digit(c) && !((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return REG_EINVAL;
    }
  }
  return 0;
}
