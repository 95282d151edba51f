/*
 * Time: wall clock, monotonic clock, and calendar dates in China Standard
 * Time (Asia/Shanghai, UTC+8 all year, no DST since 1991), where the
 * registry does all calendar arithmetic (SPEC §3).
 */
#ifndef REG_BASE_CLOCK_H
#define REG_BASE_CLOCK_H

#include <stdint.h>

int64_t clock_now_us(void);  /* Unix time in microseconds */
int64_t clock_mono_us(void); /* CLOCK_MONOTONIC in microseconds */

/* A calendar date as days since 1970-01-01. */
typedef int32_t clock_day;

/* Today in Asia/Shanghai. */
clock_day clock_today_cst(void);
/* The Asia/Shanghai date of a Unix time in microseconds. */
clock_day clock_day_of_us(int64_t unix_us);

/* Parses exactly "YYYY-MM-DD" of a real date (years 1900–9999) → 0 and *out;
 * else REG_EINVAL, *out untouched. */
int clock_day_parse(const char *s, clock_day *out);
/* Writes "YYYY-MM-DD" and a NUL into out[11]. */
void clock_day_format(clock_day d, char out[11]);
/* Days from civil and back (proleptic Gregorian). */
clock_day clock_day_from_ymd(int y, int m, int d);
void clock_day_to_ymd(clock_day day, int *y, int *m, int *d);
int clock_is_leap(int y);
/* The `years`-year anniversary of a day: the same month and day `years`
 * later, except that the anniversary of 29 February in a common year is
 * 28 February. */
clock_day clock_anniversary(clock_day d, int years);

#endif
