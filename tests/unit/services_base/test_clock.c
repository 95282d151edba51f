/* tests services/base/clock.c: civil dates and the Asia/Shanghai day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/base/clock.h"
#include "services/base/err.h"

static void test_parse_format_round_trip(void **st) {
  (void)st;
  static const char *const days[] = {"1970-01-01", "2000-02-29", "2024-02-29", "2026-11-28",
                                     "1900-03-01", "9999-12-31", "2027-12-31"};
  for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
    clock_day d;
    assert_int_equal(clock_day_parse(days[i], &d), 0);
    char out[11];
    clock_day_format(d, out);
    assert_string_equal(out, days[i]);
  }
  clock_day d;
  assert_int_equal(clock_day_parse("1970-01-01", &d), 0);
  assert_int_equal(d, 0);
  assert_int_equal(clock_day_parse("2026-11-28", &d), 0);
  assert_int_equal(d, 20785);
}

static void test_parse_rejects(void **st) {
  (void)st;
  static const char *const bad[] = {"2023-02-29", "1900-02-29", "2026-13-01", "2026-00-10",
                                    "2026-04-31", "2026-4-1",   "20261128",   "2026-11-28T",
                                    "",           "abcd-ef-gh", "1899-12-31", "2026/11/28"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    clock_day d = 12345;
    assert_int_equal(clock_day_parse(bad[i], &d), REG_EINVAL);
    assert_int_equal(d, 12345); /* untouched on failure */
  }
}

static void test_cst_day_boundary(void **st) {
  (void)st;
  /* 2026-11-27T15:59:59Z is 23:59:59 in Shanghai; one second later the
   * Shanghai date is the 28th while UTC is still the 27th. */
  int64_t t = (int64_t)1764259199 * 1000000;
  char out[11];
  clock_day_format(clock_day_of_us(t), out);
  assert_string_equal(out, "2025-11-27");
  clock_day_format(clock_day_of_us(t + 1000000), out);
  assert_string_equal(out, "2025-11-28");
  /* before the epoch */
  clock_day_format(clock_day_of_us(-(int64_t)9 * 3600 * 1000000), out);
  assert_string_equal(out, "1969-12-31");
}

static void test_ymd(void **st) {
  (void)st;
  int y, m, d;
  clock_day_to_ymd(clock_day_from_ymd(2024, 2, 29), &y, &m, &d);
  assert_int_equal(y, 2024);
  assert_int_equal(m, 2);
  assert_int_equal(d, 29);
  assert_true(clock_is_leap(2000));
  assert_false(clock_is_leap(1900));
  assert_true(clock_is_leap(2024));
  assert_false(clock_is_leap(2026));
}

static clock_day day(const char *s) {
  clock_day d = 0;
  if (clock_day_parse(s, &d) != 0) fail_msg("bad test date %s", s);
  return d;
}

typedef struct anniv_case {
  const char *from;
  int years;
  const char *expected;
} anniv_case;

/* The N-year anniversary: same month and day, 29 February → 28 February in
 * a common year (and back to 29 February when the target year is leap). */
static void test_anniversary(void **st) {
  (void)st;
  const anniv_case cases[] = {
      {"2024-02-29", 1, "2025-02-28"},   {"2024-02-29", 4, "2028-02-29"},
      {"2024-02-29", 0, "2024-02-29"},   {"2024-02-29", 3, "2027-02-28"},
      {"2020-02-29", 5, "2025-02-28"},   {"2000-02-29", 100, "2100-02-28"},
      {"2020-02-29", 100, "2120-02-29"}, {"1996-02-29", 4, "2000-02-29"},
      {"2016-02-29", 10, "2026-02-28"},  {"2023-02-28", 1, "2024-02-28"},
      {"2023-03-01", 1, "2024-03-01"},   {"2024-03-01", 1, "2025-03-01"},
      {"2025-12-31", 1, "2026-12-31"},   {"2026-01-01", 5, "2031-01-01"},
      {"1970-01-01", 30, "2000-01-01"},  {"2025-02-28", -1, "2024-02-28"},
      {"2028-02-29", -3, "2025-02-28"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char out[11];
    clock_day_format(clock_anniversary(day(cases[i].from), cases[i].years), out);
    if (strcmp(out, cases[i].expected) != 0)
      fail_msg("%s + %d y: %s, expected %s", cases[i].from, cases[i].years, out, cases[i].expected);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_format_round_trip),
      cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_cst_day_boundary),
      cmocka_unit_test(test_ymd),
      cmocka_unit_test(test_anniversary),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
