/*
 * Clocks and civil dates. China Standard Time is UTC+8 without daylight
 * saving (none since 1991), so the Asia/Shanghai date of an instant is the
 * UTC date of the instant plus eight hours; no tz database is needed.
 * Day arithmetic uses Howard Hinnant's days-from-civil algorithm.
 */
#include "services/base/clock.h"

#include <string.h>
#include <time.h>

#include "services/base/err.h"

#define CST_OFFSET_US (8LL * 3600 * 1000000)

int64_t clock_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

clock_day clock_day_of_us(int64_t unix_us) {
  int64_t t = unix_us + CST_OFFSET_US;
  int64_t day = t / (86400LL * 1000000);
  if (t < 0 && t % (86400LL * 1000000)) day--;
  return (clock_day)day;
}

clock_day clock_today_cst(void) { return clock_day_of_us(clock_now_us()); }

int clock_is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

clock_day clock_day_from_ymd(int y, int m, int d) {
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (clock_day)(era * 146097 + (int)doe - 719468);
}

void clock_day_to_ymd(clock_day day, int *y, int *m, int *d) {
  int z = day + 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int yy = (int)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (mm <= 2);
  *m = (int)mm;
  *d = (int)dd;
}

clock_day clock_anniversary(clock_day d, int years) {
  int y, m, day;
  clock_day_to_ymd(d, &y, &m, &day);
  y += years;
  if (m == 2 && day == 29 && !clock_is_leap(y)) day = 28;
  return clock_day_from_ymd(y, m, day);
}

static int days_in_month(int y, int m) {
  static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && clock_is_leap(y) ? 29 : dim[m - 1];
}

int clock_day_parse(const char *s, clock_day *out) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return REG_EINVAL;
  for (int i = 0; i < 10; i++) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return REG_EINVAL;
  }
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return REG_EINVAL;
  *out = clock_day_from_ymd(y, m, d);
  return 0;
}

void clock_day_format(clock_day day, char out[11]) {
  int y, m, d;
  clock_day_to_ymd(day, &y, &m, &d);
  unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
  out[0] = (char)('0' + uy / 1000);
  out[1] = (char)('0' + uy / 100 % 10);
  out[2] = (char)('0' + uy / 10 % 10);
  out[3] = (char)('0' + uy % 10);
  out[4] = '-';
  out[5] = (char)('0' + um / 10);
  out[6] = (char)('0' + um % 10);
  out[7] = '-';
  out[8] = (char)('0' + ud / 10);
  out[9] = (char)('0' + ud % 10);
  out[10] = 0;
}
