/*
 * Small text helpers every service's rules use (strings arrive as valid
 * UTF-8: the transport checks every string before a handler runs).
 */
#ifndef REG_CORE_TEXT_H
#define REG_CORE_TEXT_H

#include <stddef.h>

#include "services/base/clock.h"

/* Unicode characters (code points) of a valid UTF-8 string: every byte
 * that is not a continuation byte (0x80..0xBF) starts one. */
size_t text_chars(const char *s);

/* Removes leading and trailing spaces and tabs in place. A string with
 * none is never written to (protobuf-c's shared empty string stays
 * untouched). NULL is a no-op. */
void text_trim(char *s);

/* The optional `YYYY-MM-DD:` prefix of a dated config-spec entry
 * s[0..len) (a colon anywhere in it marks one): with one, sets *from and
 * *dated = 1 and moves *rest past the colon; without, *rest = s. 0, or
 * REG_EINVAL for a bad date (*from, *dated and *rest then unspecified). */
int core_spec_date(const char *s, size_t len, clock_day *from, int *dated, const char **rest);

/* ---- rule verdicts ---- */

/* A rule's verdict on one field, named by its path ("vehicle.vin",
 * "lines[0].amount_fen"): what every service's rules fill in. */
typedef struct core_violation {
  char field[64];
  char message[200];
} core_violation;

/* Fills `v` with `field` and `msg` (truncated to fit); returns REG_EINVAL. */
int core_fail(core_violation *v, const char *field, const char *msg);

/* The same with a printf-style message. */
int core_failf(core_violation *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A one-line text (NULL is ""): no control characters ("must not contain
 * control characters"), not blank when `required` — spaces only count as
 * missing ("is required") — and at most `max_chars` characters ("is longer
 * than N characters"). 0, or REG_EINVAL with `v` filled. */
int core_check_text(const char *s, const char *field, int required, size_t max_chars,
                    core_violation *v);

/* The same for a long text, which may also hold line breaks and tabs
 * (blank: nothing but spaces, tabs and line breaks). */
int core_check_long_text(const char *s, const char *field, int required, size_t max_chars,
                         core_violation *v);

/* An enum field: lo..hi. Outside, "must be a known value other than
 * UNSPECIFIED" — or, where 0 (UNSPECIFIED) is allowed (lo == 0), "is not a
 * known value". */
int core_check_enum(int x, int lo, int hi, const char *field, core_violation *v);

#endif
