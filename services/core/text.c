#include "services/core/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "services/base/err.h"

size_t text_chars(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80) n++;
  return n;
}

void text_trim(char *s) {
  if (!s || !*s) return;
  size_t b = 0, e = strlen(s);
  while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
  if (b == 0 && s[e] == 0) return; /* unchanged: never write */
  memmove(s, s + b, e - b);
  s[e - b] = 0;
}

int core_spec_date(const char *s, size_t len, clock_day *from, int *dated, const char **rest) {
  *rest = s;
  const char *colon = memchr(s, ':', len);
  if (!colon) return 0;
  char day[16];
  size_t dl = (size_t)(colon - s);
  if (dl >= sizeof(day)) return REG_EINVAL;
  memcpy(day, s, dl);
  day[dl] = 0;
  if (clock_day_parse(day, from) != 0) return REG_EINVAL;
  *dated = 1;
  *rest = colon + 1;
  return 0;
}

int core_fail(core_violation *v, const char *field, const char *msg) {
  snprintf(v->field, sizeof(v->field), "%s", field);
  snprintf(v->message, sizeof(v->message), "%s", msg);
  return REG_EINVAL;
}

int core_failf(core_violation *v, const char *field, const char *fmt, ...) {
  char m[sizeof(v->message)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m, sizeof(m), fmt, ap);
  va_end(ap);
  return core_fail(v, field, m);
}

static int check_text(const char *s, const char *field, int required, int lines,
                      size_t max_chars, core_violation *v) {
  if (!s) s = "";
  int blank = 1;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    int allowed_ctl = lines && (*p == '\n' || *p == '\r' || *p == '\t');
    if ((*p < 0x20 || *p == 0x7f) && !allowed_ctl)
      return core_fail(v, field, "must not contain control characters");
    if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') blank = 0;
  }
  if (required && blank) return core_fail(v, field, "is required");
  if (text_chars(s) > max_chars)
    return core_failf(v, field, "is longer than %zu characters", max_chars);
  return 0;
}

int core_check_text(const char *s, const char *field, int required, size_t max_chars,
                    core_violation *v) {
  return check_text(s, field, required, 0, max_chars, v);
}

int core_check_long_text(const char *s, const char *field, int required, size_t max_chars,
                         core_violation *v) {
  return check_text(s, field, required, 1, max_chars, v);
}

int core_check_enum(int x, int lo, int hi, const char *field, core_violation *v) {
  if (x >= lo && x <= hi) return 0;
  return core_fail(v, field,
                   lo == 0 ? "is not a known value" : "must be a known value other than UNSPECIFIED");
}
