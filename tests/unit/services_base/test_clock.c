/* tests services/base/clock.c: civil dates and the Asia/Shanghai day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_format_round_trip),
      cmocka_unit_test(test_parse_rejects),
      cmocka_unit_test(test_cst_day_boundary),
      cmocka_unit_test(test_ymd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
