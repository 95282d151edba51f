/* tests services/invoice/invoice_rules.c: the cases a tax officer and an
 * auditor of a recycler would list — half-up rounding at exact halves of
 * a fen (away from zero on red amounts), products at the maxima without
 * overflow, the VAT threshold at and one fen above 100,000 CNY, the relief
 * ending on 2028-01-01, configured rate tables and their refusal, the
 * 12-month cap window across month and year ends and leap days, the
 * 20-digit number, the cap at exactly 5,000,000.00 CNY, and every field of
 * IssueReverseInvoice and IssueRedInvoice named when bad. `today` and
 * `now` are pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/invoice/invoice.h"
#include "tests/unit/rulestest.h"

/* 2026-03-15T10:00:00+08:00 */
#define NOW_US (INT64_C(1773540000) * 1000000)
#define MIN_US (INT64_C(60) * 1000000)
#define DAY_US (INT64_C(86400) * 1000000)

#define IC(x) REGISTRY__V1__INVOICE_CATEGORY__INVOICE_CATEGORY_##x
#define QU(x) REGISTRY__V1__QUANTITY_UNIT__QUANTITY_UNIT_##x
#define RR(x) REGISTRY__V1__RED_REASON__RED_REASON_##x

/* Synthetic identifiers from tests/data/identifiers.json. */
#define ID_OK "140302197003104975"
#define ID_OK_X "14030219600403533X"
#define ID_BAD "140302197003100975"
#define VIN_OK "LSVW760SXNP803517"
#define VIN_OK_LOWER "lsvw760sxnp803517"
#define VIN_OK2 "LFVEEZHX15P303311"
#define VIN_BAD "LSVW760SXNP8T3517"

#define E12 INT64_C(1000000000000)
#define I128_MAX ((__int128)(((unsigned __int128)1 << 127) - 1))
#define I128_MIN (-I128_MAX - 1)

#define N(a) (sizeof(a) / sizeof((a)[0]))

static clock_day ymd(int y, int m, int d) { return clock_day_from_ymd(y, m, d); }

static clock_day today(void) { return ymd(2026, 3, 15); }

/* `n` copies of `unit` into a static buffer of its own slot. */
static char *rep(int slot, const char *unit, int n) {
  static char bufs[4][2048];
  char *b = bufs[slot];
  size_t len = 0, ul = strlen(unit);
  for (int i = 0; i < n && len + ul < sizeof(bufs[0]); i++, len += ul) memcpy(b + len, unit, ul);
  b[len] = 0;
  return b;
}

/* ---- rounding ---- */

typedef struct div_case {
  __int128 n;
  int64_t d;
  int rv;
  int64_t want;
} div_case;

static void test_div_half_up(void **st) {
  (void)st;
  const div_case cases[] = {
      {0, 1000, 0, 0},
      {0, 1, 0, 0},
      {500, 1000, 0, 1},       /* exactly half: up */
      {-500, 1000, 0, -1},     /* exactly half, negative: away from zero */
      {499, 1000, 0, 0},
      {-499, 1000, 0, 0},
      {501, 1000, 0, 1},
      {1500, 1000, 0, 2},
      {-1500, 1000, 0, -2},
      {2500, 1000, 0, 3},      /* not banker's rounding */
      {-2500, 1000, 0, -3},
      {1499, 1000, 0, 1},
      {-1499, 1000, 0, -1},
      {999, 1000, 0, 1},
      {7, 2, 0, 4},
      {-7, 2, 0, -4},
      {5000, 10000, 0, 1},
      {4999, 10000, 0, 0},
      {-5000, 10000, 0, -1},
      {12345, 1, 0, 12345},
      {INT64_MAX, 1, 0, INT64_MAX},
      {INT64_MIN, 1, 0, INT64_MIN},
      {(__int128)INT64_MAX + 1, 1, REG_ERANGE, 0},
      {(__int128)INT64_MIN - 1, 1, REG_ERANGE, 0},
      {(__int128)INT64_MAX * 2, 2, 0, INT64_MAX},
      {(__int128)INT64_MAX * 2 + 1, 2, REG_ERANGE, 0}, /* INT64_MAX + ½ rounds out */
      {(__int128)INT64_MAX * 1000 + 499, 1000, 0, INT64_MAX},
      {(__int128)INT64_MAX * 1000 + 500, 1000, REG_ERANGE, 0},
      {(__int128)INT64_MIN * 1000 - 499, 1000, 0, INT64_MIN},
      {(__int128)INT64_MIN * 1000 - 500, 1000, REG_ERANGE, 0},
      {I128_MAX, 1, REG_ERANGE, 0},
      {I128_MIN, 1, REG_ERANGE, 0},
      {I128_MIN, 3, REG_ERANGE, 0},
      {I128_MAX, INT64_MAX, REG_ERANGE, 0},
      {(__int128)INT64_MAX * INT64_MAX, INT64_MAX, 0, INT64_MAX},
      {1, INT64_MAX, 0, 0},
      {(__int128)INT64_MAX / 2 + 1, INT64_MAX, 0, 1}, /* exactly half of d */
      {100, 0, REG_EINVAL, 0},
      {100, -1000, REG_EINVAL, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int64_t out = 77;
    int rv = invoice_div_half_up(cases[i].n, cases[i].d, &out);
    if (rv != cases[i].rv) fail_msg("case %zu: rv %d, expected %d", i, rv, cases[i].rv);
    if (rv == 0 && out != cases[i].want)
      fail_msg("case %zu: %lld, expected %lld", i, (long long)out, (long long)cases[i].want);
    if (rv != 0 && out != 77) fail_msg("case %zu: out written on failure", i);
  }
}

typedef struct line_case {
  int64_t qty, price;
  int rv;
  int64_t want;
} line_case;

static void test_line_amount(void **st) {
  (void)st;
  const line_case cases[] = {
      {1, 500, 0, 1},            /* 0.5 fen → 1 */
      {1, 499, 0, 0},            /* 0.499 → 0 */
      {3, 333, 0, 1},            /* 0.999 → 1 */
      {1500, 1, 0, 2},           /* 1.5 → 2 */
      {1499, 1, 0, 1},           /* 1.499 → 1 */
      {2500, 1, 0, 3},           /* 2.5 → 3 */
      {1, 1, 0, 0},
      {1000, 12345, 0, 12345},   /* 1 unit */
      {1234500, 250, 0, 308625}, /* 1,234.5 kg at 2.50 CNY */
      {2000, 3333, 0, 6666},
      {333, 3, 0, 1},            /* 0.999 */
      {E12, 1, 0, INT64_C(1000000000)},
      {1, E12, 0, INT64_C(1000000000)},
      {999999999999, 999999, 0, INT64_C(999998999999000)},  /* …000.001 */
      {E12, INT64_C(9223372036), 0, INT64_C(9223372036000000000)}, /* within int64 */
      {E12, INT64_C(9223372037), REG_ERANGE, 0},
      {E12, E12, REG_ERANGE, 0},                            /* 10^21 */
      {INT64_MAX, 1000, 0, INT64_MAX},
      {INT64_MAX, 1001, REG_ERANGE, 0},
      {INT64_MAX, INT64_MAX, REG_ERANGE, 0},
      {INT64_MIN, INT64_MIN, REG_ERANGE, 0},
      /* a red line mirrors the blue */
      {-1, 500, 0, -1},
      {-1500, 1, 0, -2},
      {-1499, 1, 0, -1},
      {-3, 333, 0, -1},
      {0, 500, 0, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int64_t out = 77;
    int rv = invoice_line_amount(cases[i].qty, cases[i].price, &out);
    if (rv != cases[i].rv)
      fail_msg("%lld × %lld: rv %d, expected %d", (long long)cases[i].qty,
               (long long)cases[i].price, rv, cases[i].rv);
    if (rv == 0 && out != cases[i].want)
      fail_msg("%lld × %lld: %lld, expected %lld", (long long)cases[i].qty,
               (long long)cases[i].price, (long long)out, (long long)cases[i].want);
    if (rv != 0 && out != 77) fail_msg("case %zu: out written on failure", i);
  }
}

typedef struct tax_case {
  int64_t amount;
  int32_t bp;
  int64_t want;
} tax_case;

static void test_tax(void **st) {
  (void)st;
  const tax_case cases[] = {
      {10000, 100, 100},
      {50, 100, 1},      /* 0.5 → 1 */
      {49, 100, 0},      /* 0.49 → 0 */
      {-50, 100, -1},    /* red: −0.5 → −1 */
      {-49, 100, 0},
      {100, 50, 1},      /* 0.5 → 1 */
      {99, 50, 0},       /* 0.495 → 0 */
      {150, 50, 1},      /* 0.75 → 1 */
      {-100, 50, -1},
      {-150, 50, -1},
      {0, 100, 0},
      {123456, 0, 0},
      {465292, 50, 2326},           /* 2,326.46 */
      {465292, 100, 4653},          /* 4,652.92 */
      {12345678, 300, 370370},      /* 370,370.34 */
      {12345850, 300, 370376},      /* 370,375.5 */
      {-12345850, 300, -370376},
      {500000000, 50, 2500000},
      {INT64_MAX, 10000, INT64_MAX},
      {INT64_MIN, 10000, INT64_MIN},
      {INT64_MAX, 100, INT64_C(92233720368547758)},   /* …758.07 */
      {INT64_MIN, 50, INT64_C(-46116860184273879)},   /* …879.04 */
      {INT64_MAX, 20000, INT64_MAX}, /* outside any configured rate: saturates */
      {INT64_MIN, 20000, INT64_MIN},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int64_t got = invoice_tax(cases[i].amount, cases[i].bp);
    if (got != cases[i].want)
      fail_msg("%lld × %d bp: %lld, expected %lld", (long long)cases[i].amount, cases[i].bp,
               (long long)got, (long long)cases[i].want);
  }
}

/* ---- rates ---- */

typedef struct threshold_case {
  int64_t month_total;
  int32_t want_bp;
} threshold_case;

static void test_vat_threshold(void **st) {
  (void)st;
  invoice_rates *r = NULL;
  char err[256];
  assert_int_equal(invoice_rates_new("", "", &r, err, sizeof(err)), 0);
  invoice_rate rate = invoice_rates_on(r, today());
  assert_int_equal(rate.vat_bp, 100);
  assert_int_equal(rate.vat_threshold_fen, INT64_C(10000000));
  assert_int_equal(rate.income_tax_bp, 50);
  const threshold_case cases[] = {
      {INT64_C(10000000), 0},   /* at the threshold: exempt */
      {INT64_C(10000001), 100}, /* one fen above */
      {INT64_C(9999999), 0},
      {0, 0},
      {-5000, 0},               /* a month of reds */
      {INT64_MAX, 100},
      {INT64_MIN, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int32_t got = invoice_vat_rate_bp(&rate, cases[i].month_total);
    if (got != cases[i].want_bp)
      fail_msg("month total %lld: %d bp, expected %d", (long long)cases[i].month_total, got,
               cases[i].want_bp);
  }
  /* after the relief: 300 bp above the same threshold */
  rate = invoice_rates_on(r, ymd(2028, 1, 1));
  assert_int_equal(invoice_vat_rate_bp(&rate, INT64_C(10000000)), 0);
  assert_int_equal(invoice_vat_rate_bp(&rate, INT64_C(10000001)), 300);
  invoice_rates_free(r);
}

typedef struct rate_case {
  const char *vat, *income;
  int y, m, d;
  int32_t vat_bp;
  int64_t threshold;
  int32_t income_bp;
} rate_case;

static void test_rates_by_date(void **st) {
  (void)st;
  const int64_t T = INT64_C(10000000);
  const rate_case cases[] = {
      /* the defaults */
      {"", "", 2027, 12, 31, 100, T, 50},
      {"", "", 2028, 1, 1, 300, T, 50},
      {"", "", 2024, 4, 29, 100, T, 50},
      {"", "", 1990, 1, 1, 100, T, 50},
      {"", "", 2099, 12, 31, 300, T, 50},
      {"  ", " \t", 2028, 1, 1, 300, T, 50},
      /* an undated entry replaces the defaults on every day */
      {"150/20000000", "", 2026, 1, 1, 150, 20000000, 50},
      {"150/20000000", "", 2030, 6, 1, 150, 20000000, 50},
      /* a dated entry from its date on; before it the defaults */
      {"2027-01-01:200/10000000", "", 2026, 12, 31, 100, T, 50},
      {"2027-01-01:200/10000000", "", 2027, 1, 1, 200, T, 50},
      {"2027-01-01:200/10000000", "", 2028, 6, 1, 200, T, 50},
      /* the relief extended */
      {"2028-01-01:100/10000000", "", 2027, 12, 31, 100, T, 50},
      {"2028-01-01:100/10000000", "", 2028, 1, 1, 100, T, 50},
      /* undated then dated, in either order */
      {"120/5000000, 2027-07-01:80/5000000", "", 2027, 6, 30, 120, 5000000, 50},
      {"120/5000000, 2027-07-01:80/5000000", "", 2027, 7, 1, 80, 5000000, 50},
      {"2027-07-01:80/5000000,120/5000000", "", 2027, 6, 30, 120, 5000000, 50},
      {"2027-07-01:80/5000000,120/5000000", "", 2030, 1, 1, 80, 5000000, 50},
      /* several dated: the latest in force; equal dates: the later listed */
      {"2027-01-01:200/1,2026-01-01:150/2", "", 2026, 6, 1, 150, 2, 50},
      {"2027-01-01:200/1,2026-01-01:150/2", "", 2027, 6, 1, 200, 1, 50},
      {"2027-01-01:200/1,2027-01-01:250/2", "", 2027, 1, 1, 250, 2, 50},
      {"0/0", "0", 2026, 1, 1, 0, 0, 0},
      {"10000/999999999999999999", "10000", 2026, 1, 1, 10000, INT64_C(999999999999999999), 10000},
      /* income tax: the reported 2026 change, were it confirmed */
      {"", "2026-07-01:25", 2026, 6, 30, 100, T, 50},
      {"", "2026-07-01:25", 2026, 7, 1, 100, T, 25},
      {"", "2026-07-01:25", 2028, 7, 1, 300, T, 25},
      /* the two tables are independent */
      {"2027-01-01:200/1", "", 2027, 1, 1, 200, 1, 50},
      {"", "30", 2028, 1, 1, 300, T, 30},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const rate_case *c = &cases[i];
    invoice_rates *r = NULL;
    char err[256] = "";
    int rv = invoice_rates_new(c->vat, c->income, &r, err, sizeof(err));
    if (rv != 0) fail_msg("\"%s\" / \"%s\": refused: %s", c->vat, c->income, err);
    invoice_rate got = invoice_rates_on(r, ymd(c->y, c->m, c->d));
    if (got.vat_bp != c->vat_bp || got.vat_threshold_fen != c->threshold ||
        got.income_tax_bp != c->income_bp)
      fail_msg("\"%s\" / \"%s\" on %04d-%02d-%02d: %d bp > %lld, income %d bp; expected %d bp > "
               "%lld, income %d bp",
               c->vat, c->income, c->y, c->m, c->d, got.vat_bp, (long long)got.vat_threshold_fen,
               got.income_tax_bp, c->vat_bp, (long long)c->threshold, c->income_bp);
    invoice_rates_free(r);
  }
  /* whitespace around entries; a NULL table and NULL specs are the defaults */
  invoice_rates *r = NULL;
  assert_int_equal(invoice_rates_new(" 40/7 ", " 40 ", &r, NULL, 0), 0);
  invoice_rate got = invoice_rates_on(r, ymd(2030, 1, 1));
  assert_int_equal(got.vat_bp, 40);
  assert_int_equal(got.vat_threshold_fen, 7);
  assert_int_equal(got.income_tax_bp, 40);
  invoice_rates_free(r);
  r = NULL;
  assert_int_equal(invoice_rates_new(NULL, NULL, &r, NULL, 0), 0);
  got = invoice_rates_on(r, ymd(2028, 1, 1));
  assert_int_equal(got.vat_bp, 300);
  invoice_rates_free(r);
  got = invoice_rates_on(NULL, ymd(2027, 12, 31));
  assert_int_equal(got.vat_bp, 100);
  assert_int_equal(got.income_tax_bp, 50);
  invoice_rates_free(NULL);
}

typedef struct bad_spec {
  const char *vat, *income;
} bad_spec;

static void test_rates_bad(void **st) {
  (void)st;
  const bad_spec cases[] = {
      {"100", ""},                    /* no threshold */
      {"100/", ""},
      {"/100", ""},
      {"abc/1", ""},
      {"10001/1", ""},                /* above 100% */
      {"-1/100", ""},
      {"100/-5", ""},
      {"100/1e7", ""},
      {"1.5/100", ""},
      {"100/1/2", ""},
      {"100/99999999999999999999", ""}, /* beyond int64 */
      {"100/ 5", ""},
      {"2026-13-01:100/1", ""},
      {"2026-02-30:100/1", ""},
      {"26-01-01:100/1", ""},
      {":100/1", ""},
      {"2026-07-01", ""},
      {"100/10000000,", ""},          /* empty entry */
      {",100/1", ""},
      {"100/1,,200/2", ""},
      {"100/1, ,200/2", ""},
      {"", "50/100"},
      {"", "x"},
      {"", "10001"},
      {"", "-5"},
      {"", "2026-07-01:"},
      {"", "2026-07-01"},
      {"", ":50"},
      {"", "50,"},
      {"", "2026-07-01:25,2026-13-01:20"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    invoice_rates *r = (invoice_rates *)&cases[i]; /* sentinel: must stay */
    invoice_rates *sentinel = r;
    char err[256] = "";
    int rv = invoice_rates_new(cases[i].vat, cases[i].income, &r, err, sizeof(err));
    if (rv != REG_EINVAL)
      fail_msg("\"%s\" / \"%s\": accepted (%d)", cases[i].vat, cases[i].income, rv);
    if (!err[0]) fail_msg("\"%s\" / \"%s\": no message", cases[i].vat, cases[i].income);
    if (r != sentinel) fail_msg("\"%s\" / \"%s\": *out written", cases[i].vat, cases[i].income);
    /* the message names the setting */
    const char *name = cases[i].vat[0] ? "invoice_vat" : "invoice_income_tax";
    if (!strstr(err, name)) fail_msg("\"%s\": message \"%s\" does not name %s", cases[i].vat, err, name);
    /* and without a buffer */
    assert_int_equal(invoice_rates_new(cases[i].vat, cases[i].income, &r, NULL, 0), REG_EINVAL);
  }
}

/* ---- calendar ---- */

typedef struct day_case {
  int y, m, d;
  int wy, wm, wd;
} day_case;

static void test_window_start(void **st) {
  (void)st;
  const day_case cases[] = {
      {2026, 1, 31, 2025, 2, 1},
      {2026, 12, 1, 2026, 1, 1},
      {2026, 12, 31, 2026, 1, 1},
      {2024, 2, 29, 2023, 3, 1},
      {2026, 3, 15, 2025, 4, 1},
      {2026, 11, 30, 2025, 12, 1},
      {2025, 12, 31, 2025, 1, 1},
      {2026, 1, 1, 2025, 2, 1},
      {2000, 1, 1, 1999, 2, 1},
      {1970, 1, 1, 1969, 2, 1},
      {1900, 11, 30, 1899, 12, 1},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const day_case *c = &cases[i];
    clock_day got = invoice_window_start(ymd(c->y, c->m, c->d)), want = ymd(c->wy, c->wm, c->wd);
    if (got != want) {
      char g[11], w[11];
      clock_day_format(got, g);
      clock_day_format(want, w);
      fail_msg("window of %04d-%02d-%02d: %s, expected %s", c->y, c->m, c->d, g, w);
    }
  }
}

static void test_month_start(void **st) {
  (void)st;
  const day_case cases[] = {
      {2026, 1, 31, 2026, 1, 1}, {2024, 2, 29, 2024, 2, 1},  {2026, 12, 1, 2026, 12, 1},
      {1970, 1, 1, 1970, 1, 1},  {2026, 12, 31, 2026, 12, 1}, {1969, 12, 31, 1969, 12, 1},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const day_case *c = &cases[i];
    clock_day got = invoice_month_start(ymd(c->y, c->m, c->d));
    if (got != ymd(c->wy, c->wm, c->wd))
      fail_msg("month of %04d-%02d-%02d: day %d, expected %04d-%02d-01", c->y, c->m, c->d, got,
               c->wy, c->wm);
  }
}

typedef struct month_case {
  const char *s;
  int y, m; /* 0: refused */
} month_case;

static void test_month_parse(void **st) {
  (void)st;
  const month_case cases[] = {
      {"2026-01", 2026, 1}, {"2026-12", 2026, 12}, {"2024-02", 2024, 2}, {"9999-12", 9999, 12},
      {"1900-01", 1900, 1}, {"2026-13", 0, 0},     {"2026-00", 0, 0},    {"2026-1", 0, 0},
      {"2026-001", 0, 0},   {"", 0, 0},            {"2026/01", 0, 0},    {"1899-12", 0, 0},
      {" 2026-01", 0, 0},   {"2026-01 ", 0, 0},    {"2026-01-01", 0, 0}, {"2026-0a", 0, 0},
      {"-026-01", 0, 0},    {"202601", 0, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    clock_day out = -12345;
    int rv = invoice_month_parse(cases[i].s, &out);
    if (cases[i].y) {
      if (rv != 0) fail_msg("\"%s\": refused (%d)", cases[i].s, rv);
      if (out != ymd(cases[i].y, cases[i].m, 1)) fail_msg("\"%s\": day %d", cases[i].s, out);
    } else {
      if (rv != REG_EINVAL) fail_msg("\"%s\": accepted (%d)", cases[i].s, rv);
      if (out != -12345) fail_msg("\"%s\": out written on failure", cases[i].s);
    }
  }
  clock_day out = 0;
  assert_int_equal(invoice_month_parse(NULL, &out), REG_EINVAL);
}

/* ---- the cap ---- */

typedef struct cap_case {
  int64_t window, amount, cap;
  int want;
} cap_case;

static void test_cap(void **st) {
  (void)st;
  const int64_t CAP = INT64_C(500000000);
  const cap_case cases[] = {
      {CAP - 1, 1, CAP, 1},          /* exactly the cap */
      {CAP, 1, CAP, 0},              /* one fen over */
      {0, CAP, CAP, 1},
      {0, CAP + 1, CAP, 0},
      {CAP, 0, CAP, 1},
      {CAP + 1, 0, CAP, 0},          /* already over (a lowered cap) */
      {-100, CAP + 100, CAP, 1},     /* reds in the window */
      {-100, CAP + 101, CAP, 0},
      {CAP - 1, -1, CAP, 1},
      {INT64_MAX, INT64_MAX, INT64_MAX, 0}, /* no overflow */
      {INT64_MAX, 0, INT64_MAX, 1},
      {INT64_MAX, 1, INT64_MAX, 0},
      {INT64_MAX, INT64_MAX, CAP, 0},
      {INT64_MIN, INT64_MIN, 0, 1},
      {INT64_MIN, INT64_MAX, -1, 1},
      {INT64_MIN, INT64_MAX, -2, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const cap_case *c = &cases[i];
    int got = invoice_cap_allows(c->window, c->amount, c->cap);
    if (got != c->want)
      fail_msg("%lld + %lld ≤ %lld: %d, expected %d", (long long)c->window, (long long)c->amount,
               (long long)c->cap, got, c->want);
  }
}

/* ---- numbers ---- */

typedef struct number_case {
  int y, m, d, channel;
  int32_t issuer;
  int64_t seq;
  const char *want; /* NULL: REG_ERANGE */
} number_case;

static void test_number_format(void **st) {
  (void)st;
  const number_case cases[] = {
      {2026, 5, 1, 1, 42, 7, "26141000042000000007"},
      {2026, 12, 31, 0, 1, 1, "26140000001000000001"},
      {2000, 1, 1, 9, 999999, INT64_C(999999999), "00149999999999999999"},
      {2099, 12, 31, 1, 123456, INT64_C(123456789), "99141123456123456789"},
      {2100, 1, 1, 1, 1, 1, "00141000001000000001"},
      {1999, 12, 31, 2, 10, 100, "99142000010000000100"},
      {2027, 1, 1, 1, 100000, INT64_C(100000000), "27141100000100000000"},
      {2026, 5, 1, -1, 42, 7, NULL},
      {2026, 5, 1, 10, 42, 7, NULL},
      {2026, 5, 1, 1, 0, 7, NULL},
      {2026, 5, 1, 1, -1, 7, NULL},
      {2026, 5, 1, 1, 1000000, 7, NULL},
      {2026, 5, 1, 1, INT32_MAX, 7, NULL},
      {2026, 5, 1, 1, 42, 0, NULL},
      {2026, 5, 1, 1, 42, -1, NULL},
      {2026, 5, 1, 1, 42, INT64_C(1000000000), NULL},
      {2026, 5, 1, 1, 42, INT64_MAX, NULL},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const number_case *c = &cases[i];
    char out[21];
    memset(out, 'x', sizeof(out));
    int rv = invoice_number_format(ymd(c->y, c->m, c->d), c->channel, c->issuer, c->seq, out);
    if (!c->want) {
      if (rv != REG_ERANGE) fail_msg("case %zu: rv %d, expected REG_ERANGE", i, rv);
      for (size_t k = 0; k < sizeof(out); k++)
        if (out[k] != 'x') fail_msg("case %zu: out written on failure", i);
      continue;
    }
    if (rv != 0) fail_msg("case %zu: refused (%d)", i, rv);
    assert_int_equal(strlen(out), 20);
    assert_string_equal(out, c->want);
  }
}

/* ---- IssueReverseInvoice ---- */

#define MAX_LINES (INVOICE_LINES_MAX + 2)

/* A good request to vary: a seller with consent given yesterday, four
 * lines — 1,234.5 kg of steel at 2.50 CNY/kg, a scrap car (VIN in lower
 * case, to be normalized), two laptops with a wipe certificate, and 3
 * milli-kg of paper at 3.33 CNY that rounds up to 1 fen. Strings the check
 * may normalize live in the fixture's own buffers. */
typedef struct issue {
  Registry__V1__IssueReverseInvoiceRequest req;
  Registry__V1__Person seller;
  Registry__V1__SellerConsent consent;
  Google__Protobuf__Timestamp consented_at;
  Registry__V1__InvoiceLine l[MAX_LINES];
  Registry__V1__InvoiceLine *lp[MAX_LINES];
  char id_number[32], vin[MAX_LINES][32], issued_on[32];
} issue;

#define GOOD_SUM (308625 + 150000 + 6666 + 1)

static void line_set(Registry__V1__InvoiceLine *l, int cat, const char *desc, int64_t qty, int unit,
                     int64_t price, int64_t amount) {
  *l = (Registry__V1__InvoiceLine)REGISTRY__V1__INVOICE_LINE__INIT;
  l->category = cat;
  l->description = (char *)desc;
  l->quantity_milli = qty;
  l->unit = unit;
  l->unit_price_fen = price;
  l->amount_fen = amount;
}

static void issue_init(issue *s) {
  memset(s, 0, sizeof(*s));
  s->req = (Registry__V1__IssueReverseInvoiceRequest)REGISTRY__V1__ISSUE_REVERSE_INVOICE_REQUEST__INIT;
  s->seller = (Registry__V1__Person)REGISTRY__V1__PERSON__INIT;
  snprintf(s->id_number, sizeof(s->id_number), "%s", ID_OK);
  s->seller.name = (char *)"张三";
  s->seller.id_number = s->id_number;
  s->seller.phone = (char *)"13800000000";
  s->consent = (Registry__V1__SellerConsent)REGISTRY__V1__SELLER_CONSENT__INIT;
  s->consented_at = (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  s->consented_at.seconds = (NOW_US - DAY_US) / 1000000;
  s->consent.consented_at = &s->consented_at;
  s->consent.channel = (char *)"counter";
  for (size_t i = 0; i < MAX_LINES; i++) {
    line_set(&s->l[i], IC(SCRAP_METAL), "废钢", 1234500, QU(KG), 250, 308625);
    s->l[i].vin = s->vin[i]; /* "" */
    s->lp[i] = &s->l[i];
  }
  line_set(&s->l[1], IC(SCRAP_VEHICLE), "报废小型轿车", 1000, QU(VEHICLE), 150000, 150000);
  snprintf(s->vin[1], sizeof(s->vin[1]), "%s", VIN_OK_LOWER);
  s->l[1].vin = s->vin[1];
  s->l[1].scrap_certificate_no = (char *)"BF1403002026000123";
  line_set(&s->l[2], IC(SCRAP_ELECTRONICS), "旧笔记本电脑", 2000, QU(PIECE), 3333, 6666);
  s->l[2].vin = s->vin[2];
  s->l[2].wipe_certificate_id = (char *)"crt_0123456789abcdef01234567";
  line_set(&s->l[3], IC(SCRAP_PAPER), "废纸", 3, QU(KG), 333, 1);
  s->l[3].vin = s->vin[3];
  s->req.request_id = (char *)"7d0b8f2e-3c1a-4b5e-9f6d-2a8c4e1b0f93";
  s->req.seller = &s->seller;
  s->req.seller_consent = &s->consent;
  s->req.lines = s->lp;
  s->req.n_lines = 4;
  s->req.issued_on = s->issued_on; /* "" */
}

static int issue_check(issue *s, invoice_violation *v, clock_day *day, int64_t *amount) {
  memset(v, 0, sizeof(*v));
  return invoice_rules_check_issue(&s->req, today(), NOW_US, day, amount, v);
}

static void test_issue_good(void **st) {
  (void)st;
  issue s;
  invoice_violation v;
  clock_day day = 0;
  int64_t amount = 0;
  issue_init(&s);
  expect("good", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(day, today());
  assert_int_equal(amount, GOOD_SUM);
  assert_string_equal(s.vin[1], VIN_OK); /* normalized in place */
  /* issued_on given as today; an ID with a lower-case x normalized */
  issue_init(&s);
  snprintf(s.issued_on, sizeof(s.issued_on), "2026-03-15");
  snprintf(s.id_number, sizeof(s.id_number), "14030219600403533x");
  expect("issued_on today", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(day, today());
  assert_string_equal(s.id_number, ID_OK_X);
  /* no consent given (later invoices to the same seller) */
  issue_init(&s);
  s.req.seller_consent = NULL;
  expect("no consent", issue_check(&s, &v, &day, &amount), &v, NULL);
  /* a single line at the largest amount a line can have */
  issue_init(&s);
  line_set(&s.l[0], IC(SCRAP_METAL), "废钢", E12, QU(KG), INT64_C(9223372036), INT64_C(9223372036000000000));
  s.req.n_lines = 1;
  expect("largest line", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(amount, INT64_C(9223372036000000000));
  /* INVOICE_LINES_MAX lines */
  issue_init(&s);
  s.req.n_lines = INVOICE_LINES_MAX;
  for (size_t i = 0; i < INVOICE_LINES_MAX; i++) s.lp[i] = &s.l[0];
  expect("100 lines", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(amount, 308625 * INVOICE_LINES_MAX);
}

typedef void (*mutate_fn)(issue *s);

typedef struct issue_case {
  const char *what;
  mutate_fn mutate;
  const char *field; /* NULL: accepted */
} issue_case;

#define MUT(name, body) \
  static void name(issue *s) { body; }

MUT(m_seller_null, s->req.seller = NULL)
MUT(m_seller_name_empty, s->seller.name = (char *)"")
MUT(m_seller_name_blank, s->seller.name = (char *)"   ")
MUT(m_seller_name_long, s->seller.name = rep(0, "张", 101))
MUT(m_seller_id_empty, s->id_number[0] = 0)
MUT(m_seller_id_bad, snprintf(s->id_number, sizeof(s->id_number), "%s", ID_BAD))
MUT(m_seller_id_short, snprintf(s->id_number, sizeof(s->id_number), "1403021990010112"))
MUT(m_seller_phone_bad, s->seller.phone = (char *)"call me")
MUT(m_consent_no_time, s->consent.consented_at = NULL)
MUT(m_consent_future, s->consented_at.seconds = (NOW_US + 6 * MIN_US) / 1000000)
MUT(m_consent_skew, s->consented_at.seconds = (NOW_US + 4 * MIN_US) / 1000000)
MUT(m_consent_now, s->consented_at.seconds = NOW_US / 1000000)
MUT(m_consent_nanos, s->consented_at.nanos = -1)
MUT(m_consent_far, s->consented_at.seconds = INT64_MAX)
MUT(m_channel_empty, s->consent.channel = (char *)"")
MUT(m_channel_null, s->consent.channel = NULL)
MUT(m_channel_blank, s->consent.channel = (char *)"   ")
MUT(m_channel_ctl, s->consent.channel = (char *)"coun\nter")
MUT(m_channel_200, s->consent.channel = rep(0, "柜", 200))
MUT(m_channel_201, s->consent.channel = rep(0, "a", 201))
MUT(m_no_lines, s->req.n_lines = 0)
MUT(m_lines_null, s->req.lines = NULL)
MUT(m_101_lines, s->req.n_lines = INVOICE_LINES_MAX + 1)
MUT(m_line_null, s->lp[1] = NULL)
MUT(m_cat_0, s->l[0].category = 0)
MUT(m_cat_10, s->l[0].category = 10)
MUT(m_cat_neg, s->l[0].category = -1)
MUT(m_desc_empty, s->l[0].description = (char *)"")
MUT(m_desc_null, s->l[0].description = NULL)
MUT(m_desc_blank, s->l[0].description = (char *)"  ")
MUT(m_desc_ctl, s->l[0].description = (char *)"废\t钢")
MUT(m_desc_200, s->l[0].description = rep(1, "钢", 200))
MUT(m_desc_201, s->l[0].description = rep(1, "钢", 201))
MUT(m_qty_0, s->l[0].quantity_milli = 0)
MUT(m_qty_neg, s->l[0].quantity_milli = -1234500)
MUT(m_qty_big, s->l[0].quantity_milli = E12 + 1)
MUT(m_unit_0, s->l[0].unit = 0)
MUT(m_unit_5, s->l[0].unit = 5)
MUT(m_price_0, s->l[0].unit_price_fen = 0)
MUT(m_price_neg, s->l[0].unit_price_fen = -250)
MUT(m_price_big, s->l[0].unit_price_fen = E12 + 1)
MUT(m_amount_plus1, s->l[0].amount_fen = 308626)
MUT(m_amount_minus1, s->l[0].amount_fen = 308624)
MUT(m_amount_0, s->l[0].amount_fen = 0)
MUT(m_amount_neg, s->l[0].amount_fen = -308625)
MUT(m_amount_trunc, s->l[3].amount_fen = 0)                   /* 0.999 truncated */
MUT(m_amount_half_down, line_set(&s->l[3], IC(SCRAP_PAPER), "废纸", 1, QU(KG), 500, 0))
MUT(m_amount_half_up, line_set(&s->l[3], IC(SCRAP_PAPER), "废纸", 1, QU(KG), 500, 1))
MUT(m_amount_rounds_0, line_set(&s->l[3], IC(SCRAP_PAPER), "废纸", 1, QU(KG), 1, 1))
MUT(m_amount_huge, line_set(&s->l[0], IC(SCRAP_METAL), "废钢", E12, QU(KG), E12, INT64_MAX))
MUT(m_sum_overflow, /* two lines each within int64, together beyond */
    line_set(&s->l[0], IC(SCRAP_METAL), "废钢", E12, QU(KG), INT64_C(9223372036),
             INT64_C(9223372036000000000));
    s->lp[3] = &s->l[0])
MUT(m_sum_at_limit, /* the largest line plus 854,775,807 fen: exactly INT64_MAX */
    line_set(&s->l[0], IC(SCRAP_METAL), "废钢", E12, QU(KG), INT64_C(9223372036),
             INT64_C(9223372036000000000));
    line_set(&s->l[1], IC(SCRAP_METAL), "废钢", 1000, QU(KG), INT64_C(854775807), INT64_C(854775807));
    s->l[1].vin = s->vin[0]; s->req.n_lines = 2)
MUT(m_sum_over_limit, m_sum_at_limit(s); line_set(&s->l[2], IC(SCRAP_METAL), "废钢", 1000, QU(KG), 1, 1);
    s->req.n_lines = 3)
MUT(m_vin_missing, s->vin[1][0] = 0)
MUT(m_vin_bad, snprintf(s->vin[1], sizeof(s->vin[1]), "%s", VIN_BAD))
MUT(m_vin_short, snprintf(s->vin[1], sizeof(s->vin[1]), "LSV12345"))
MUT(m_vin_on_metal, snprintf(s->vin[0], sizeof(s->vin[0]), "%s", VIN_OK2))
MUT(m_vin_on_electronics, snprintf(s->vin[2], sizeof(s->vin[2]), "%s", VIN_OK2))
MUT(m_scrap_no_missing, s->l[1].scrap_certificate_no = (char *)"")
MUT(m_scrap_no_blank, s->l[1].scrap_certificate_no = (char *)" ")
MUT(m_scrap_no_long, s->l[1].scrap_certificate_no = rep(2, "9", 201))
MUT(m_scrap_no_on_metal, s->l[0].scrap_certificate_no = (char *)"BF1403002026000123")
MUT(m_wipe_on_metal, s->l[0].wipe_certificate_id = (char *)"crt_0123456789abcdef01234567")
MUT(m_wipe_on_vehicle, s->l[1].wipe_certificate_id = (char *)"crt_0123456789abcdef01234567")
MUT(m_wipe_on_appliance, s->l[0].category = IC(SCRAP_APPLIANCE);
    s->l[0].wipe_certificate_id = (char *)"crt_0123456789abcdef01234567")
MUT(m_wipe_47, s->l[2].wipe_certificate_id = rep(2, "c", 47))
MUT(m_wipe_48, s->l[2].wipe_certificate_id = rep(2, "c", 48))
MUT(m_wipe_ctl, s->l[2].wipe_certificate_id = (char *)"crt_\x01")
MUT(m_vehicle_by_weight, s->l[1].unit = QU(TONNE))
MUT(m_second_vehicle, line_set(&s->l[4], IC(SCRAP_VEHICLE), "报废货车", 1000, QU(VEHICLE), 90000, 90000);
    snprintf(s->vin[4], sizeof(s->vin[4]), "%s", VIN_OK2); s->l[4].vin = s->vin[4];
    s->l[4].scrap_certificate_no = (char *)"BF1403002026000124"; s->req.n_lines = 5)
MUT(m_same_vin_twice, m_second_vehicle(s); snprintf(s->vin[4], sizeof(s->vin[4]), "%s", VIN_OK))
MUT(m_issued_yesterday, snprintf(s->issued_on, sizeof(s->issued_on), "2026-03-14"))
MUT(m_issued_tomorrow, snprintf(s->issued_on, sizeof(s->issued_on), "2026-03-16"))
MUT(m_issued_bad_format, snprintf(s->issued_on, sizeof(s->issued_on), "2026-3-15"))
MUT(m_issued_garbage, snprintf(s->issued_on, sizeof(s->issued_on), "today"))
MUT(m_issued_null, s->req.issued_on = NULL)
MUT(m_seller_and_line_bad, s->seller.name = (char *)""; s->l[0].amount_fen = 1)
MUT(m_line_and_issued_bad, s->l[2].unit = 0; snprintf(s->issued_on, sizeof(s->issued_on), "x"))
MUT(m_two_bad_lines, s->l[3].description = (char *)""; s->l[1].unit_price_fen = 0)

static void test_issue_fields(void **st) {
  (void)st;
  const issue_case cases[] = {
      {"seller missing", m_seller_null, "seller"},
      {"seller name empty", m_seller_name_empty, "seller.name"},
      {"seller name blank", m_seller_name_blank, "seller.name"},
      {"seller name 101 characters", m_seller_name_long, "seller.name"},
      {"seller id empty", m_seller_id_empty, "seller.id_number"},
      {"seller id bad check", m_seller_id_bad, "seller.id_number"},
      {"seller id short", m_seller_id_short, "seller.id_number"},
      {"seller phone", m_seller_phone_bad, "seller.phone"},
      {"consent without time", m_consent_no_time, "seller_consent.consented_at"},
      {"consent 6 min ahead", m_consent_future, "seller_consent.consented_at"},
      {"consent 4 min ahead", m_consent_skew, NULL},
      {"consent now", m_consent_now, NULL},
      {"consent nanos", m_consent_nanos, "seller_consent.consented_at"},
      {"consent beyond 9999", m_consent_far, "seller_consent.consented_at"},
      {"channel empty", m_channel_empty, "seller_consent.channel"},
      {"channel NULL", m_channel_null, "seller_consent.channel"},
      {"channel blank", m_channel_blank, "seller_consent.channel"},
      {"channel control", m_channel_ctl, "seller_consent.channel"},
      {"channel 200 characters", m_channel_200, NULL},
      {"channel 201 characters", m_channel_201, "seller_consent.channel"},
      {"no lines", m_no_lines, "lines"},
      {"lines NULL", m_lines_null, "lines"},
      {"101 lines", m_101_lines, "lines"},
      {"line NULL", m_line_null, "lines[1]"},
      {"category unspecified", m_cat_0, "lines[0].category"},
      {"category 10", m_cat_10, "lines[0].category"},
      {"category -1", m_cat_neg, "lines[0].category"},
      {"description empty", m_desc_empty, "lines[0].description"},
      {"description NULL", m_desc_null, "lines[0].description"},
      {"description blank", m_desc_blank, "lines[0].description"},
      {"description control", m_desc_ctl, "lines[0].description"},
      {"description 200 characters", m_desc_200, NULL},
      {"description 201 characters", m_desc_201, "lines[0].description"},
      {"quantity 0", m_qty_0, "lines[0].quantity_milli"},
      {"quantity negative", m_qty_neg, "lines[0].quantity_milli"},
      {"quantity 10^12 + 1", m_qty_big, "lines[0].quantity_milli"},
      {"unit unspecified", m_unit_0, "lines[0].unit"},
      {"unit 5", m_unit_5, "lines[0].unit"},
      {"price 0", m_price_0, "lines[0].unit_price_fen"},
      {"price negative", m_price_neg, "lines[0].unit_price_fen"},
      {"price 10^12 + 1", m_price_big, "lines[0].unit_price_fen"},
      {"amount one fen over", m_amount_plus1, "lines[0].amount_fen"},
      {"amount one fen under", m_amount_minus1, "lines[0].amount_fen"},
      {"amount 0", m_amount_0, "lines[0].amount_fen"},
      {"amount negative", m_amount_neg, "lines[0].amount_fen"},
      {"amount truncated, not rounded", m_amount_trunc, "lines[3].amount_fen"},
      {"half a fen rounded down", m_amount_half_down, "lines[3].amount_fen"},
      {"half a fen rounded up", m_amount_half_up, NULL},
      {"line worth 0.001 fen", m_amount_rounds_0, "lines[3].amount_fen"},
      {"10^12 × 10^12", m_amount_huge, "lines[0].amount_fen"},
      {"sum beyond int64", m_sum_overflow, "lines"},
      {"sum exactly INT64_MAX", m_sum_at_limit, NULL},
      {"sum INT64_MAX + 1", m_sum_over_limit, "lines"},
      {"vehicle without VIN", m_vin_missing, "lines[1].vin"},
      {"vehicle with a bad VIN", m_vin_bad, "lines[1].vin"},
      {"vehicle with a short VIN", m_vin_short, "lines[1].vin"},
      {"VIN on metal", m_vin_on_metal, "lines[0].vin"},
      {"VIN on electronics", m_vin_on_electronics, "lines[2].vin"},
      {"vehicle without scrap certificate", m_scrap_no_missing, "lines[1].scrap_certificate_no"},
      {"vehicle with blank scrap certificate", m_scrap_no_blank, "lines[1].scrap_certificate_no"},
      {"scrap certificate 201 characters", m_scrap_no_long, "lines[1].scrap_certificate_no"},
      {"scrap certificate on metal", m_scrap_no_on_metal, "lines[0].scrap_certificate_no"},
      {"wipe certificate on metal", m_wipe_on_metal, "lines[0].wipe_certificate_id"},
      {"wipe certificate on a vehicle", m_wipe_on_vehicle, "lines[1].wipe_certificate_id"},
      {"wipe certificate on an appliance", m_wipe_on_appliance, "lines[0].wipe_certificate_id"},
      {"wipe certificate 47 bytes", m_wipe_47, NULL},
      {"wipe certificate 48 bytes", m_wipe_48, "lines[2].wipe_certificate_id"},
      {"wipe certificate control", m_wipe_ctl, "lines[2].wipe_certificate_id"},
      {"vehicle by the tonne", m_vehicle_by_weight, NULL},
      {"a second vehicle", m_second_vehicle, NULL},
      {"the same VIN twice", m_same_vin_twice, "lines[4].vin"},
      {"issued yesterday", m_issued_yesterday, "issued_on"},
      {"issued tomorrow", m_issued_tomorrow, "issued_on"},
      {"issued_on not YYYY-MM-DD", m_issued_bad_format, "issued_on"},
      {"issued_on garbage", m_issued_garbage, "issued_on"},
      {"issued_on NULL", m_issued_null, NULL},
      {"seller first", m_seller_and_line_bad, "seller.name"},
      {"lines before issued_on", m_line_and_issued_bad, "lines[2].unit"},
      {"first bad line", m_two_bad_lines, "lines[1].unit_price_fen"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    issue s;
    invoice_violation v;
    clock_day day = -7;
    int64_t amount = -7;
    issue_init(&s);
    cases[i].mutate(&s);
    int rv = issue_check(&s, &v, &day, &amount);
    expect(cases[i].what, rv, &v, cases[i].field);
    if (cases[i].field && (day != -7 || amount != -7))
      fail_msg("%s: out-parameters written on failure", cases[i].what);
    if (!cases[i].field && day != today()) fail_msg("%s: issued_on not today", cases[i].what);
  }
}

static void test_issue_amounts(void **st) {
  (void)st;
  issue s;
  invoice_violation v;
  clock_day day;
  int64_t amount;
  issue_init(&s);
  m_amount_half_up(&s);
  expect("half up", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(amount, 308625 + 150000 + 6666 + 1);
  issue_init(&s);
  m_second_vehicle(&s);
  expect("two vehicles", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(amount, GOOD_SUM + 90000);
  /* the sum may reach INT64_MAX exactly */
  issue_init(&s);
  m_sum_at_limit(&s);
  expect("sum at INT64_MAX", issue_check(&s, &v, &day, &amount), &v, NULL);
  assert_int_equal(amount, INT64_MAX);
  /* the message says what the amount must be */
  issue_init(&s);
  m_amount_plus1(&s);
  assert_int_equal(issue_check(&s, &v, &day, &amount), REG_EINVAL);
  assert_non_null(strstr(v.message, "308625"));
  /* a same VIN in another case is the same vehicle */
  issue_init(&s);
  m_second_vehicle(&s);
  snprintf(s.vin[4], sizeof(s.vin[4]), "%s", VIN_OK_LOWER);
  expect("same VIN, other case", issue_check(&s, &v, &day, &amount), &v, "lines[4].vin");
}

/* ---- IssueRedInvoice ---- */

typedef struct red {
  Registry__V1__IssueRedInvoiceRequest req;
  Registry__V1__InvoiceLine l[MAX_LINES];
  Registry__V1__InvoiceLine *lp[MAX_LINES];
} red;

/* A full red for an error; partial lines, when used, reverse 100 fen of
 * line 0 and nothing of line 1. */
static void red_init(red *s) {
  memset(s, 0, sizeof(*s));
  s->req = (Registry__V1__IssueRedInvoiceRequest)REGISTRY__V1__ISSUE_RED_INVOICE_REQUEST__INIT;
  s->req.request_id = (char *)"0b1e7c55-2d44-4f0e-8a51-6c3e9b2d7f10";
  s->req.original_invoice_id = (char *)"inv_0123456789abcdef01234567";
  s->req.full = 1;
  s->req.reason = RR(ERROR);
  for (size_t i = 0; i < MAX_LINES; i++) {
    s->l[i] = (Registry__V1__InvoiceLine)REGISTRY__V1__INVOICE_LINE__INIT;
    s->lp[i] = &s->l[i];
  }
  s->l[0].amount_fen = 100;
  s->req.lines = s->lp;
  s->req.n_lines = 0;
}

static void partial(red *s) {
  s->req.full = 0;
  s->req.n_lines = 2;
}

typedef void (*red_fn)(red *s);
typedef struct red_case {
  const char *what;
  red_fn mutate;
  const char *field;
} red_case;

#define RMUT(name, body) \
  static void name(red *s) { body; }

RMUT(r_full, (void)s)
RMUT(r_full_and_lines, s->req.n_lines = 1)
RMUT(r_neither, s->req.full = 0)
RMUT(r_reason_0, s->req.reason = 0)
RMUT(r_reason_5, s->req.reason = 5)
RMUT(r_reason_neg, s->req.reason = -1)
RMUT(r_reason_2, s->req.reason = RR(GOODS_RETURNED))
RMUT(r_reason_3, s->req.reason = RR(SERVICE_STOPPED))
RMUT(r_reason_4, s->req.reason = RR(ALLOWANCE))
RMUT(r_original_empty, s->req.original_invoice_id = (char *)"")
RMUT(r_original_null, s->req.original_invoice_id = NULL)
RMUT(r_original_long, s->req.original_invoice_id = rep(3, "i", 48))
RMUT(r_original_47, s->req.original_invoice_id = rep(3, "i", 47))
RMUT(r_partial, partial(s))
RMUT(r_partial_qty, partial(s); s->l[0].quantity_milli = 500)
RMUT(r_partial_one_line, partial(s); s->req.n_lines = 1)
RMUT(r_partial_all_zero, partial(s); s->l[0].amount_fen = 0)
RMUT(r_partial_negative, partial(s); s->l[0].amount_fen = -100)
RMUT(r_partial_negative_2nd, partial(s); s->l[1].amount_fen = -1)
RMUT(r_partial_qty_negative, partial(s); s->l[0].quantity_milli = -1)
RMUT(r_partial_qty_big, partial(s); s->l[0].quantity_milli = E12 + 1)
RMUT(r_partial_qty_without_amount, partial(s); s->l[1].quantity_milli = 5)
RMUT(r_partial_category, partial(s); s->l[0].category = IC(SCRAP_METAL))
RMUT(r_partial_description, partial(s); s->l[1].description = (char *)"废钢")
RMUT(r_partial_unit, partial(s); s->l[0].unit = QU(KG))
RMUT(r_partial_price, partial(s); s->l[0].unit_price_fen = 250)
RMUT(r_partial_vin, partial(s); s->l[0].vin = (char *)VIN_OK)
RMUT(r_partial_scrap_no, partial(s); s->l[0].scrap_certificate_no = (char *)"BF1")
RMUT(r_partial_wipe, partial(s); s->l[0].wipe_certificate_id = (char *)"crt_1")
RMUT(r_partial_line_null, partial(s); s->lp[0] = NULL)
RMUT(r_partial_100, partial(s); s->req.n_lines = INVOICE_LINES_MAX)
RMUT(r_partial_101, partial(s); s->req.n_lines = INVOICE_LINES_MAX + 1)
RMUT(r_partial_bad_reason, partial(s); s->l[0].amount_fen = -1; s->req.reason = 0)

static void test_red_fields(void **st) {
  (void)st;
  const red_case cases[] = {
      {"full", r_full, NULL},
      {"full and lines", r_full_and_lines, "lines"},
      {"neither full nor lines", r_neither, "lines"},
      {"reason unspecified", r_reason_0, "reason"},
      {"reason 5", r_reason_5, "reason"},
      {"reason -1", r_reason_neg, "reason"},
      {"goods returned", r_reason_2, NULL},
      {"service stopped", r_reason_3, NULL},
      {"allowance", r_reason_4, NULL},
      {"original missing", r_original_empty, "original_invoice_id"},
      {"original NULL", r_original_null, "original_invoice_id"},
      {"original 48 bytes", r_original_long, "original_invoice_id"},
      {"original 47 bytes", r_original_47, NULL},
      {"partial", r_partial, NULL},
      {"partial with quantity", r_partial_qty, NULL},
      {"partial, one line", r_partial_one_line, NULL},
      {"partial reversing nothing", r_partial_all_zero, "lines"},
      {"partial negative amount", r_partial_negative, "lines[0].amount_fen"},
      {"partial negative amount, line 1", r_partial_negative_2nd, "lines[1].amount_fen"},
      {"partial negative quantity", r_partial_qty_negative, "lines[0].quantity_milli"},
      {"partial quantity above 10^12", r_partial_qty_big, "lines[0].quantity_milli"},
      {"quantity on a line not reversed", r_partial_qty_without_amount, "lines[1].quantity_milli"},
      {"partial with category", r_partial_category, "lines[0].category"},
      {"partial with description", r_partial_description, "lines[1].description"},
      {"partial with unit", r_partial_unit, "lines[0].unit"},
      {"partial with unit price", r_partial_price, "lines[0].unit_price_fen"},
      {"partial with VIN", r_partial_vin, "lines[0].vin"},
      {"partial with scrap certificate", r_partial_scrap_no, "lines[0].scrap_certificate_no"},
      {"partial with wipe certificate", r_partial_wipe, "lines[0].wipe_certificate_id"},
      {"partial line NULL", r_partial_line_null, "lines[0]"},
      {"partial, 100 lines", r_partial_100, NULL},
      {"partial, 101 lines", r_partial_101, "lines"},
      {"lines before reason", r_partial_bad_reason, "lines[0].amount_fen"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    red s;
    invoice_violation v;
    red_init(&s);
    cases[i].mutate(&s);
    memset(&v, 0, sizeof(v));
    expect(cases[i].what, invoice_rules_check_red(&s.req, &v), &v, cases[i].field);
  }
}

typedef struct red_check_case {
  const char *what;
  int64_t remaining[4];
  size_t n_lines;
  int64_t asked[4];
  size_t n_asked;
  int rv;
  size_t bad_line;
} red_check_case;

static void test_red_check(void **st) {
  (void)st;
  const red_check_case cases[] = {
      {"all that remains", {100, 200}, 2, {100, 200}, 2, 0, 0},
      {"part of line 0", {100, 200}, 2, {50, 0}, 2, 0, 0},
      {"only the first asked", {100, 200}, 2, {50}, 1, 0, 0},
      {"line 0 one fen over", {100, 200}, 2, {101, 0}, 2, REG_ERANGE, 0},
      {"line 1 one fen over", {100, 200}, 2, {0, 201}, 2, REG_ERANGE, 1},
      {"first exceeding line", {100, 200, 5}, 3, {10, 300, 6}, 3, REG_ERANGE, 1},
      {"a line already reversed", {0, 50}, 2, {1, 0}, 2, REG_ERANGE, 0},
      {"beyond the original's lines", {100, 200}, 2, {100, 200, 1}, 3, REG_ERANGE, 2},
      {"zero beyond the original's lines", {100, 200}, 2, {100, 200, 0}, 3, 0, 0},
      {"nothing asked", {100, 200}, 2, {0, 0}, 2, REG_EINVAL, 0},
      {"no lines asked", {100, 200}, 2, {0}, 0, REG_EINVAL, 0},
      {"negative ask", {100, 200}, 2, {-1, 5}, 2, REG_EINVAL, 0},
      {"largest amounts", {INT64_MAX}, 1, {INT64_MAX}, 1, 0, 0},
      {"one fen of the largest", {INT64_MAX - 1}, 1, {INT64_MAX}, 1, REG_ERANGE, 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const red_check_case *c = &cases[i];
    size_t bad = 999;
    int rv = invoice_red_check(c->remaining, c->n_lines, c->asked, c->n_asked, &bad);
    if (rv != c->rv) fail_msg("%s: rv %d, expected %d", c->what, rv, c->rv);
    if (rv == REG_ERANGE && bad != c->bad_line)
      fail_msg("%s: line %zu, expected %zu", c->what, bad, c->bad_line);
    if (rv != REG_ERANGE && bad != 999) fail_msg("%s: bad_line written", c->what);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_div_half_up),   cmocka_unit_test(test_line_amount),
      cmocka_unit_test(test_tax),           cmocka_unit_test(test_vat_threshold),
      cmocka_unit_test(test_rates_by_date), cmocka_unit_test(test_rates_bad),
      cmocka_unit_test(test_window_start),  cmocka_unit_test(test_month_start),
      cmocka_unit_test(test_month_parse),   cmocka_unit_test(test_cap),
      cmocka_unit_test(test_number_format), cmocka_unit_test(test_issue_good),
      cmocka_unit_test(test_issue_fields),  cmocka_unit_test(test_issue_amounts),
      cmocka_unit_test(test_red_fields),    cmocka_unit_test(test_red_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
