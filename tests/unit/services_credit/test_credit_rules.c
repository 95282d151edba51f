/* tests services/credit/credit_rules.c: the cases a credit officer would
 * list — the grade of a dozen record sets (doubled categories, each
 * threshold, the score's floor, positives that do not offset, disputed
 * records still counting, withdrawn and superseded ones not, the
 * dishonesty list, expiry the day before and on the fifth anniversary,
 * 29 February), configured weights and their refusal, order-independence,
 * statuses in their documented order, dispute deadlines, the list's
 * calendar, and every field of RegisterSubject, SubmitRecord, a
 * correction and PlaceOnDishonestyList named when bad. `today` is
 * pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/credit/credit.h"
#include "tests/unit/rulestest.h"

#define RC(x) REGISTRY__V1__RECORD_CATEGORY__RECORD_CATEGORY_##x
#define PO(x) REGISTRY__V1__POLARITY__POLARITY_##x
#define RS(x) REGISTRY__V1__RECORD_STATUS__RECORD_STATUS_##x
#define GR(x) REGISTRY__V1__GRADE__GRADE_##x
#define SK(x) REGISTRY__V1__SUBJECT_KIND__SUBJECT_KIND_##x

/* Synthetic identifiers from tests/data/identifiers.json. */
#define ID_OK "140302197003104975"
#define ID_OK_X "14030219600403533X"
#define ID_BAD "140302197003100975"
#define ID_SHORT "1403021990010112"
#define USCC_OK "911403223AKQ350B93"
#define USCC_OK_LOWER "911403223akq350b93"
#define USCC_BAD "91140302UGXA6DD569"
#define USCC_SHORT "9114030"

#define TODAY "2026-03-15"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static clock_day day(const char *s) {
  clock_day d = 0;
  if (clock_day_parse(s, &d) != 0) fail_msg("bad test date %s", s);
  return d;
}

static const char *fmt(clock_day d, char out[11]) {
  clock_day_format(d, out);
  return out;
}

/* `n` copies of `unit` into a static buffer of its own slot. */
static char *rep(int slot, const char *unit, int n) {
  static char bufs[4][4096];
  char *b = bufs[slot];
  size_t len = 0, ul = strlen(unit);
  for (int i = 0; i < n && len + ul < sizeof(bufs[0]); i++, len += ul) memcpy(b + len, unit, ul);
  b[len] = 0;
  return b;
}

/* ---- records as a test writes them ---- */

enum { SUP = 1, WDR = 2, DSP = 4 }; /* superseded, withdrawn, open dispute */

typedef struct rec {
  int category, severity;
  const char *occurred, *ended; /* ended NULL: none */
  int flags;
} rec;

#define MAX_RECS 6

static credit_record_facts facts_of(const rec *r) {
  credit_record_facts f = {0};
  f.category = r->category;
  f.severity = r->severity;
  f.occurred_on = day(r->occurred);
  f.ended_on = r->ended ? day(r->ended) : 0;
  f.superseded = !!(r->flags & SUP);
  f.withdrawn = !!(r->flags & WDR);
  f.open_dispute = !!(r->flags & DSP);
  return f;
}

/* ---- polarity and expiry ---- */

static void test_polarity(void **st) {
  (void)st;
  static const struct {
    int category, polarity;
  } cases[] = {
      {RC(UNSPECIFIED), PO(UNSPECIFIED)},
      {RC(TRADE_COMPLETED), PO(POSITIVE)},
      {RC(CERTIFIED), PO(POSITIVE)},
      {RC(AWARD), PO(POSITIVE)},
      {RC(COMPLAINT_UPHELD), PO(NEGATIVE)},
      {RC(MISREPRESENTATION), PO(NEGATIVE)},
      {RC(COUNTERFEIT), PO(NEGATIVE)},
      {RC(DATA_LEAK), PO(NEGATIVE)},
      {RC(WIPE_FAILURE_CONCEALED), PO(NEGATIVE)},
      {RC(ODOMETER_FRAUD), PO(NEGATIVE)},
      {RC(CONTRACT_BREACH), PO(NEGATIVE)},
      {RC(ADMINISTRATIVE_PENALTY), PO(NEGATIVE)},
      {RC(NOTE), PO(NEUTRAL)},
      {13, PO(UNSPECIFIED)},
      {-1, PO(UNSPECIFIED)},
      {1000, PO(UNSPECIFIED)},
  };
  for (size_t i = 0; i < N(cases); i++)
    if (credit_polarity(cases[i].category) != cases[i].polarity)
      fail_msg("category %d: polarity %d, expected %d", cases[i].category,
               credit_polarity(cases[i].category), cases[i].polarity);
}

static void test_expires_on(void **st) {
  (void)st;
  static const struct {
    const char *occurred, *ended, *expires;
  } cases[] = {
      {"2021-03-16", NULL, "2026-03-16"},           /* no end: from occurred_on */
      {"2019-01-10", "2021-03-16", "2026-03-16"},   /* from the end of the conduct */
      {"2020-02-29", NULL, "2025-02-28"},           /* 29 February → 28 February */
      {"2019-06-01", "2020-02-29", "2025-02-28"},
      {"2023-02-28", "2024-02-29", "2029-02-28"},
      {"2023-12-31", NULL, "2028-12-31"},
      {"2024-02-28", "2024-03-01", "2029-03-01"},
  };
  char out[11];
  for (size_t i = 0; i < N(cases); i++) {
    clock_day e = credit_expires_on(day(cases[i].occurred), cases[i].ended ? day(cases[i].ended) : 0);
    if (e != day(cases[i].expires))
      fail_msg("%s..%s: expires %s, expected %s", cases[i].occurred,
               cases[i].ended ? cases[i].ended : "", fmt(e, out), cases[i].expires);
  }
}

/* ---- statuses ---- */

typedef struct status_case {
  const char *what;
  rec r;
  const char *today;
  int status, counts;
} status_case;

static void test_status_order(void **st) {
  (void)st;
  /* An old COUNTERFEIT (expired on 2026-01-10) and a recent one. */
  const status_case cases[] = {
      {"everything: superseded first", {RC(COUNTERFEIT), 3, "2021-01-10", NULL, SUP | WDR | DSP}, TODAY, RS(SUPERSEDED), 0},
      {"superseded, recent", {RC(COUNTERFEIT), 3, "2025-01-10", NULL, SUP}, TODAY, RS(SUPERSEDED), 0},
      {"withdrawn before expired", {RC(COUNTERFEIT), 3, "2021-01-10", NULL, WDR | DSP}, TODAY, RS(WITHDRAWN), 0},
      {"withdrawn, recent", {RC(COUNTERFEIT), 3, "2025-01-10", NULL, WDR}, TODAY, RS(WITHDRAWN), 0},
      {"expired before disputed", {RC(COUNTERFEIT), 3, "2021-01-10", NULL, DSP}, TODAY, RS(EXPIRED), 0},
      {"expired", {RC(COUNTERFEIT), 3, "2021-01-10", NULL, 0}, TODAY, RS(EXPIRED), 0},
      {"disputed", {RC(COUNTERFEIT), 3, "2025-01-10", NULL, DSP}, TODAY, RS(DISPUTED), 1},
      {"active", {RC(COUNTERFEIT), 3, "2025-01-10", NULL, 0}, TODAY, RS(ACTIVE), 1},
      {"day before the fifth anniversary", {RC(DATA_LEAK), 2, "2021-03-16", NULL, 0}, TODAY, RS(ACTIVE), 1},
      {"on the fifth anniversary", {RC(DATA_LEAK), 2, "2021-03-15", NULL, 0}, TODAY, RS(EXPIRED), 0},
      {"ended recently, occurred long ago", {RC(DATA_LEAK), 2, "2015-01-01", "2022-01-01", 0}, TODAY, RS(ACTIVE), 1},
      /* only negative records expire */
      {"old positive", {RC(AWARD), 5, "2001-05-01", NULL, 0}, TODAY, RS(ACTIVE), 0},
      {"old positive disputed", {RC(TRADE_COMPLETED), 1, "2001-05-01", NULL, DSP}, TODAY, RS(DISPUTED), 0},
      {"old note", {RC(NOTE), 1, "2001-05-01", NULL, 0}, TODAY, RS(ACTIVE), 0},
      {"positive withdrawn", {RC(CERTIFIED), 1, "2025-05-01", NULL, WDR}, TODAY, RS(WITHDRAWN), 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    credit_record_facts f = facts_of(&cases[i].r);
    int s = credit_record_status(&f, day(cases[i].today));
    int c = credit_record_counts(&f, day(cases[i].today));
    if (s != cases[i].status) fail_msg("%s: status %d, expected %d", cases[i].what, s, cases[i].status);
    if (c != cases[i].counts) fail_msg("%s: counts %d, expected %d", cases[i].what, c, cases[i].counts);
  }
}

/* ---- the grade ---- */

typedef struct grade_case {
  const char *what;
  rec r[MAX_RECS];
  size_t n;
  int on_list;
  const char *today;
  int grade, score, points;
  int positive, negative, disputes;
} grade_case;

static void check_grade(const char *what, const credit_grade *g, int grade, int score, int points,
                        int positive, int negative, int disputes) {
  if (g->grade != grade || g->score != score || g->points != points)
    fail_msg("%s: grade %d score %d points %d, expected %d %d %d", what, g->grade, g->score,
             g->points, grade, score, points);
  if (g->positive_count != positive || g->negative_count != negative ||
      g->open_disputes != disputes)
    fail_msg("%s: positive %d negative %d disputes %d, expected %d %d %d", what,
             g->positive_count, g->negative_count, g->open_disputes, positive, negative, disputes);
}

static void run_grade(const credit_grade_rule *rule, const grade_case *c) {
  credit_record_facts f[MAX_RECS];
  for (size_t j = 0; j < c->n; j++) f[j] = facts_of(&c->r[j]);
  credit_grade g;
  memset(&g, 0x5a, sizeof(g));
  credit_grade_compute(rule, f, c->n, c->on_list, day(c->today), &g);
  check_grade(c->what, &g, c->grade, c->score, c->points, c->positive, c->negative, c->disputes);
}

#define R(cat, sev, occ) {RC(cat), sev, occ, NULL, 0}
#define RE(cat, sev, occ, end) {RC(cat), sev, occ, end, 0}
#define RF(cat, sev, occ, flags) {RC(cat), sev, occ, NULL, flags}

static void test_grade_default(void **st) {
  (void)st;
  const grade_case cases[] = {
      {"no records", {{0}}, 0, 0, TODAY, GR(A), 100, 0, 0, 0, 0},
      {"one COUNTERFEIT of severity 3: doubled", {R(COUNTERFEIT, 3, "2025-06-01")}, 1, 0, TODAY, GR(C), 70, 6, 0, 1, 0},
      {"MISREPRESENTATION 3: not doubled", {R(MISREPRESENTATION, 3, "2025-06-01")}, 1, 0, TODAY, GR(B), 85, 3, 0, 1, 0},
      {"each doubled category", {R(COUNTERFEIT, 1, "2025-06-01"), R(DATA_LEAK, 1, "2025-06-01"),
                                 R(WIPE_FAILURE_CONCEALED, 1, "2025-06-01"), R(ODOMETER_FRAUD, 1, "2025-06-01")},
       4, 0, TODAY, GR(C), 60, 8, 0, 4, 0},
      {"each plain category", {R(COMPLAINT_UPHELD, 1, "2025-06-01"), R(MISREPRESENTATION, 1, "2025-06-01"),
                               R(CONTRACT_BREACH, 1, "2025-06-01"), R(ADMINISTRATIVE_PENALTY, 1, "2025-06-01")},
       4, 0, TODAY, GR(B), 80, 4, 0, 4, 0},
      {"1 point: B", {R(CONTRACT_BREACH, 1, "2025-06-01")}, 1, 0, TODAY, GR(B), 95, 1, 0, 1, 0},
      {"4 points: still B", {R(COMPLAINT_UPHELD, 4, "2025-06-01")}, 1, 0, TODAY, GR(B), 80, 4, 0, 1, 0},
      {"exactly 5: C", {R(COMPLAINT_UPHELD, 5, "2025-06-01")}, 1, 0, TODAY, GR(C), 75, 5, 0, 1, 0},
      {"9: still C", {R(CONTRACT_BREACH, 4, "2025-06-01"), R(ADMINISTRATIVE_PENALTY, 5, "2024-01-01")},
       2, 0, TODAY, GR(C), 55, 9, 0, 2, 0},
      {"10: D", {R(DATA_LEAK, 5, "2025-06-01")}, 1, 0, TODAY, GR(D), 50, 10, 0, 1, 0},
      {"20: D, score 0", {R(ODOMETER_FRAUD, 5, "2025-06-01"), R(WIPE_FAILURE_CONCEALED, 5, "2025-06-02")},
       2, 0, TODAY, GR(D), 0, 20, 0, 2, 0},
      {"25: score stays 0", {R(COUNTERFEIT, 5, "2025-06-01"), R(DATA_LEAK, 5, "2025-06-01"),
                             R(MISREPRESENTATION, 5, "2025-06-01")},
       3, 0, TODAY, GR(D), 0, 25, 0, 3, 0},
      {"positives do not offset", {R(MISREPRESENTATION, 3, "2025-06-01"), R(TRADE_COMPLETED, 5, "2025-07-01"),
                                   R(AWARD, 5, "2025-08-01"), R(CERTIFIED, 5, "2025-09-01")},
       4, 0, TODAY, GR(B), 85, 3, 3, 1, 0},
      {"positives alone: A", {R(TRADE_COMPLETED, 5, "2025-07-01"), R(AWARD, 5, "2025-08-01")},
       2, 0, TODAY, GR(A), 100, 0, 2, 0, 0},
      {"disputed still counts", {RF(COUNTERFEIT, 3, "2025-06-01", DSP)}, 1, 0, TODAY, GR(C), 70, 6, 0, 1, 1},
      {"withdrawn does not count", {RF(COUNTERFEIT, 5, "2025-06-01", WDR), R(CONTRACT_BREACH, 1, "2025-06-01")},
       2, 0, TODAY, GR(B), 95, 1, 0, 1, 0},
      {"superseded does not count; its correction does",
       {RF(COUNTERFEIT, 5, "2025-06-01", SUP), R(MISREPRESENTATION, 2, "2025-06-01")},
       2, 0, TODAY, GR(B), 90, 2, 0, 1, 0},
      {"withdrawn positive not counted", {RF(AWARD, 5, "2025-06-01", WDR)}, 1, 0, TODAY, GR(A), 100, 0, 0, 0, 0},
      {"disputed positive counted", {RF(AWARD, 5, "2025-06-01", DSP)}, 1, 0, TODAY, GR(A), 100, 0, 1, 0, 1},
      {"on the list with no records: D", {{0}}, 0, 1, TODAY, GR(D), 100, 0, 0, 0, 0},
      {"on the list: D, score unchanged", {R(MISREPRESENTATION, 3, "2025-06-01")}, 1, 1, TODAY, GR(D), 85, 3, 0, 1, 0},
      {"on the list with positives", {R(AWARD, 5, "2025-06-01")}, 1, 1, TODAY, GR(D), 100, 0, 1, 0, 0},
      {"ended_on: the day before the fifth anniversary",
       {RE(COUNTERFEIT, 5, "2019-01-10", "2021-03-16")}, 1, 0, "2026-03-15", GR(D), 50, 10, 0, 1, 0},
      {"ended_on: on the fifth anniversary",
       {RE(COUNTERFEIT, 5, "2019-01-10", "2021-03-16")}, 1, 0, "2026-03-16", GR(A), 100, 0, 0, 0, 0},
      {"occurred_on without an end: the day before",
       {R(MISREPRESENTATION, 2, "2021-03-16")}, 1, 0, "2026-03-15", GR(B), 90, 2, 0, 1, 0},
      {"occurred_on without an end: on the anniversary",
       {R(MISREPRESENTATION, 2, "2021-03-16")}, 1, 0, "2026-03-16", GR(A), 100, 0, 0, 0, 0},
      {"ended 2020-02-29: counts on 2025-02-27",
       {RE(DATA_LEAK, 3, "2019-05-01", "2020-02-29")}, 1, 0, "2025-02-27", GR(C), 70, 6, 0, 1, 0},
      {"ended 2020-02-29: expires on 2025-02-28",
       {RE(DATA_LEAK, 3, "2019-05-01", "2020-02-29")}, 1, 0, "2025-02-28", GR(A), 100, 0, 0, 0, 0},
      {"expired and disputed: not counting, dispute open",
       {RF(COUNTERFEIT, 5, "2020-01-01", DSP)}, 1, 0, TODAY, GR(A), 100, 0, 0, 0, 1},
      {"NOTE never counts", {R(NOTE, 5, "2025-06-01"), R(NOTE, 5, "2025-06-02"), RF(NOTE, 5, "2025-06-03", DSP)},
       3, 0, TODAY, GR(A), 100, 0, 0, 0, 1},
      {"a mix", {R(COUNTERFEIT, 2, "2024-01-01"), RF(CONTRACT_BREACH, 1, "2025-01-01", DSP),
                 RF(DATA_LEAK, 5, "2025-02-01", WDR), RE(ODOMETER_FRAUD, 5, "2018-01-01", "2020-12-31"),
                 R(AWARD, 3, "2025-03-01"), R(NOTE, 1, "2025-04-01")},
       6, 0, TODAY, GR(C), 75, 5, 1, 2, 1},
  };
  for (size_t i = 0; i < N(cases); i++) {
    credit_grade_rule rule;
    credit_grade_rule_default(&rule);
    run_grade(&rule, &cases[i]);
    run_grade(NULL, &cases[i]); /* NULL: the defaults */
  }
}

/* ---- configured weights ---- */

typedef struct rule_case {
  const char *spec;
  uint32_t doubled;
  int factor, b, c, d, base, per_point;
} rule_case;

#define DEF_DOUBLED \
  (1u << RC(COUNTERFEIT) | 1u << RC(DATA_LEAK) | 1u << RC(WIPE_FAILURE_CONCEALED) | 1u << RC(ODOMETER_FRAUD))

static void test_rule_parse(void **st) {
  (void)st;
  const rule_case cases[] = {
      {"", DEF_DOUBLED, 2, 1, 5, 10, 100, 5},
      {"   ", DEF_DOUBLED, 2, 1, 5, 10, 100, 5},
      {NULL, DEF_DOUBLED, 2, 1, 5, 10, 100, 5},
      {"factor=3", DEF_DOUBLED, 3, 1, 5, 10, 100, 5},
      {"double=COUNTERFEIT+DATA_LEAK,factor=3,d=12",
       1u << RC(COUNTERFEIT) | 1u << RC(DATA_LEAK), 3, 1, 5, 12, 100, 5},
      {"double=none", 0, 2, 1, 5, 10, 100, 5},
      {"double=NONE", 0, 2, 1, 5, 10, 100, 5},
      {"double=misrepresentation", 1u << RC(MISREPRESENTATION), 2, 1, 5, 10, 100, 5},
      {" b = 2 , c = 6 , d = 15 ", DEF_DOUBLED, 2, 2, 6, 15, 100, 5},
      {"base=1000,per_point=7", DEF_DOUBLED, 2, 1, 5, 10, 1000, 7},
      {"per_point=0", DEF_DOUBLED, 2, 1, 5, 10, 100, 0},
      {"b=5", DEF_DOUBLED, 2, 5, 5, 10, 100, 5}, /* b = c: no B */
      {"factor=1", DEF_DOUBLED, 1, 1, 5, 10, 100, 5},
      {"double=COMPLAINT_UPHELD+MISREPRESENTATION+COUNTERFEIT+DATA_LEAK+WIPE_FAILURE_CONCEALED+"
       "ODOMETER_FRAUD+CONTRACT_BREACH+ADMINISTRATIVE_PENALTY",
       0xff0u, 2, 1, 5, 10, 100, 5},
      {"FACTOR=4,Per_Point=2", DEF_DOUBLED, 4, 1, 5, 10, 100, 2},
  };
  for (size_t i = 0; i < N(cases); i++) {
    const rule_case *c = &cases[i];
    credit_grade_rule r;
    memset(&r, 0x5a, sizeof(r)); /* the parse starts from the defaults */
    char err[256] = "x";
    int rv = credit_grade_rule_parse(c->spec, &r, err, sizeof(err));
    if (rv != 0) fail_msg("\"%s\": refused: %s", c->spec ? c->spec : "(null)", err);
    if (r.doubled != c->doubled || r.factor != c->factor || r.b_min != c->b ||
        r.c_min != c->c || r.d_min != c->d || r.score_base != c->base ||
        r.per_point != c->per_point)
      fail_msg("\"%s\": doubled %#x factor %d b %d c %d d %d base %d per_point %d",
               c->spec ? c->spec : "(null)",
               r.doubled, r.factor, r.b_min, r.c_min, r.d_min, r.score_base, r.per_point);
  }
}

static void test_rule_bad(void **st) {
  (void)st;
  static const char *const bad[] = {
      "factor",               /* no value */
      "factor=",              /* empty value */
      "factor=0",             /* below 1 */
      "factor=101",           /* above 100 */
      "factor=-2",
      "factor=2x",
      "factor=2,factor=3",    /* twice */
      "colour=blue",          /* unknown key */
      "=3",
      "b=0",                  /* A at 0 points must stay */
      "b=6",                  /* above c */
      "c=11",                 /* above d */
      "d=4",                  /* below c */
      "d=1000001",
      "base=-1",
      "per_point=1000001",
      "per_point=99999999",
      "double=",              /* empty */
      "double=FRAUD",         /* unknown */
      "double=COUNTERFEIT+",  /* empty name */
      "double=+COUNTERFEIT",
      "double=RECORD_CATEGORY_COUNTERFEIT", /* names without the prefix */
      "double=AWARD",         /* not negative */
      "double=NOTE",
      "double=COUNTERFEIT+none",
      "factor=3,,d=12",       /* empty entry */
      "factor=3,",
      ",factor=3",
      "factor=3;d=12",
  };
  for (size_t i = 0; i < N(bad); i++) {
    credit_grade_rule r;
    memset(&r, 0x5a, sizeof(r));
    credit_grade_rule before = r;
    char err[256] = "";
    int rv = credit_grade_rule_parse(bad[i], &r, err, sizeof(err));
    if (rv != REG_EINVAL) fail_msg("\"%s\": accepted (%d)", bad[i], rv);
    if (!err[0]) fail_msg("\"%s\": no message", bad[i]);
    if (memcmp(&r, &before, sizeof(r)) != 0) fail_msg("\"%s\": rule written on failure", bad[i]);
  }
  /* no error buffer at all */
  credit_grade_rule r;
  assert_int_equal(credit_grade_rule_parse("factor=0", &r, NULL, 0), REG_EINVAL);
}

static void test_grade_configured(void **st) {
  (void)st;
  static const struct {
    const char *spec;
    grade_case c;
  } cases[] = {
      {"factor=3", {"factor 3: COUNTERFEIT 3 → 9", {R(COUNTERFEIT, 3, "2025-06-01")}, 1, 0, TODAY, GR(C), 55, 9, 0, 1, 0}},
      {"factor=3", {"factor 3: plain unchanged", {R(MISREPRESENTATION, 3, "2025-06-01")}, 1, 0, TODAY, GR(B), 85, 3, 0, 1, 0}},
      {"double=none", {"no doubling", {R(COUNTERFEIT, 3, "2025-06-01")}, 1, 0, TODAY, GR(B), 85, 3, 0, 1, 0}},
      {"double=MISREPRESENTATION", {"MISREPRESENTATION doubled", {R(MISREPRESENTATION, 3, "2025-06-01"), R(COUNTERFEIT, 3, "2025-06-01")},
                                    2, 0, TODAY, GR(C), 55, 9, 0, 2, 0}},
      {"d=12", {"d 12: 10 points is C", {R(DATA_LEAK, 5, "2025-06-01")}, 1, 0, TODAY, GR(C), 50, 10, 0, 1, 0}},
      {"d=12", {"d 12: 12 points is D", {R(DATA_LEAK, 5, "2025-06-01"), R(CONTRACT_BREACH, 2, "2025-06-01")},
                2, 0, TODAY, GR(D), 40, 12, 0, 2, 0}},
      {"b=3,c=8", {"b 3: 2 points is A", {R(CONTRACT_BREACH, 2, "2025-06-01")}, 1, 0, TODAY, GR(A), 90, 2, 0, 1, 0}},
      {"b=3,c=8", {"c 8: 7 points is B", {R(CONTRACT_BREACH, 5, "2025-06-01"), R(CONTRACT_BREACH, 2, "2025-06-01")},
                   2, 0, TODAY, GR(B), 65, 7, 0, 2, 0}},
      {"base=1000,per_point=30", {"base 1000", {R(COUNTERFEIT, 3, "2025-06-01")}, 1, 0, TODAY, GR(C), 820, 6, 0, 1, 0}},
      {"base=50,per_point=100", {"score floor 0", {R(CONTRACT_BREACH, 1, "2025-06-01")}, 1, 0, TODAY, GR(B), 0, 1, 0, 1, 0}},
      {"b=5", {"b = c: 4 points is A", {R(COMPLAINT_UPHELD, 4, "2025-06-01")}, 1, 0, TODAY, GR(A), 80, 4, 0, 1, 0}},
      {"factor=3,d=12", {"list still D", {{0}}, 0, 1, TODAY, GR(D), 100, 0, 0, 0, 0}},
  };
  for (size_t i = 0; i < N(cases); i++) {
    credit_grade_rule rule;
    char err[256];
    if (credit_grade_rule_parse(cases[i].spec, &rule, err, sizeof(err)) != 0)
      fail_msg("%s: %s", cases[i].spec, err);
    run_grade(&rule, &cases[i].c);
  }
}

/* Every ordering of six records gives the same grade. */
static void test_grade_order_independent(void **st) {
  (void)st;
  const rec recs[6] = {
      R(COUNTERFEIT, 2, "2024-01-01"),     RF(CONTRACT_BREACH, 1, "2025-01-01", DSP),
      RF(DATA_LEAK, 5, "2025-02-01", WDR), RE(ODOMETER_FRAUD, 5, "2018-01-01", "2020-12-31"),
      R(AWARD, 3, "2025-03-01"),           RF(MISREPRESENTATION, 4, "2025-01-01", SUP),
  };
  credit_record_facts base[6], f[6];
  for (size_t i = 0; i < 6; i++) base[i] = facts_of(&recs[i]);
  credit_grade want;
  credit_grade_compute(NULL, base, 6, 0, day(TODAY), &want);
  check_grade("base order", &want, GR(C), 75, 5, 1, 2, 1);
  /* Heap's algorithm over the indexes: all 720 permutations. */
  size_t idx[6] = {0, 1, 2, 3, 4, 5}, c[6] = {0};
  int perms = 1;
  for (size_t i = 1; i < 6;) {
    if (c[i] < i) {
      size_t j = i % 2 ? c[i] : 0, t = idx[j];
      idx[j] = idx[i];
      idx[i] = t;
      for (size_t k = 0; k < 6; k++) f[k] = base[idx[k]];
      credit_grade g;
      credit_grade_compute(NULL, f, 6, 0, day(TODAY), &g);
      if (memcmp(&g, &want, sizeof(g)) != 0)
        fail_msg("permutation %d: grade %d score %d points %d", perms, g.grade, g.score, g.points);
      perms++;
      c[i]++;
      i = 1;
    } else {
      c[i] = 0;
      i++;
    }
  }
  assert_int_equal(perms, 720);
}

/* ---- disputes ---- */

static void test_dispute_deadline(void **st) {
  (void)st;
  static const struct {
    const char *filed;
    int days;
    const char *due;
  } dues[] = {
      {"2026-01-31", 20, "2026-02-20"},
      {"2025-12-20", 20, "2026-01-09"}, /* over the year's end */
      {"2025-12-31", 1, "2026-01-01"},
      {"2024-02-20", 20, "2024-03-11"}, /* through 29 February */
      {"2026-02-20", 20, "2026-03-12"},
      {"2026-03-15", 30, "2026-04-14"},
      {"2026-03-15", 3650, "2036-03-12"},
  };
  char out[11];
  for (size_t i = 0; i < N(dues); i++) {
    clock_day d = credit_dispute_due(day(dues[i].filed), dues[i].days);
    if (d != day(dues[i].due))
      fail_msg("%s + %d: due %s, expected %s", dues[i].filed, dues[i].days, fmt(d, out), dues[i].due);
  }
  static const struct {
    const char *filed;
    int days;
    const char *today;
    int overdue;
  } cases[] = {
      {"2026-01-31", 20, "2026-01-31", 0},
      {"2026-01-31", 20, "2026-02-19", 0},
      {"2026-01-31", 20, "2026-02-20", 0}, /* due today: not yet overdue */
      {"2026-01-31", 20, "2026-02-21", 1},
      {"2026-01-31", 20, "2027-01-01", 1},
      {"2025-12-20", 20, "2026-01-09", 0},
      {"2025-12-20", 20, "2026-01-10", 1},
      {"2026-01-31", 30, "2026-02-21", 0}, /* configured 30 days */
      {"2026-01-31", 30, "2026-03-03", 1},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int o = credit_dispute_overdue(day(cases[i].filed), cases[i].days, day(cases[i].today));
    if (o != cases[i].overdue)
      fail_msg("filed %s + %d, today %s: overdue %d, expected %d", cases[i].filed,
               cases[i].days, cases[i].today, o, cases[i].overdue);
  }
}

/* ---- the dishonesty list ---- */

static void test_list_calendar(void **st) {
  (void)st;
  static const struct {
    const char *listed, *ends, *removable;
  } dates[] = {
      {"2024-02-29", "2027-02-28", "2025-02-28"},
      {"2023-02-28", "2026-02-28", "2024-02-28"},
      {"2026-03-15", "2029-03-15", "2027-03-15"},
      {"2025-12-31", "2028-12-31", "2026-12-31"},
      {"2024-03-01", "2027-03-01", "2025-03-01"},
  };
  char a[11], b[11];
  for (size_t i = 0; i < N(dates); i++) {
    clock_day l = day(dates[i].listed);
    if (credit_list_ends_on(l) != day(dates[i].ends))
      fail_msg("%s: ends %s, expected %s", dates[i].listed, fmt(credit_list_ends_on(l), a), dates[i].ends);
    if (credit_list_removable_on(l) != day(dates[i].removable))
      fail_msg("%s: removable %s, expected %s", dates[i].listed,
               fmt(credit_list_removable_on(l), b), dates[i].removable);
  }
  static const struct {
    const char *what, *listed, *removed, *today;
    int active;
  } cases[] = {
      {"the day before listing", "2024-03-10", NULL, "2024-03-09", 0},
      {"the day of listing", "2024-03-10", NULL, "2024-03-10", 1},
      {"in between", "2024-03-10", NULL, "2026-01-01", 1},
      {"the day before the end", "2024-03-10", NULL, "2027-03-09", 1},
      {"on the end", "2024-03-10", NULL, "2027-03-10", 0},
      {"after the end", "2024-03-10", NULL, "2030-01-01", 0},
      {"29 February: the day before the end", "2024-02-29", NULL, "2027-02-27", 1},
      {"29 February: ends 28 February", "2024-02-29", NULL, "2027-02-28", 0},
      {"removed: the day before", "2024-03-10", "2025-06-01", "2025-05-31", 1},
      {"removed: on the day", "2024-03-10", "2025-06-01", "2025-06-01", 0},
      {"removed: after", "2024-03-10", "2025-06-01", "2026-01-01", 0},
      {"removed: before the end anyway", "2024-03-10", "2025-06-01", "2027-03-09", 0},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int act = credit_list_active(day(cases[i].listed), cases[i].removed ? day(cases[i].removed) : 0,
                                 day(cases[i].today));
    if (act != cases[i].active)
      fail_msg("%s: active %d, expected %d", cases[i].what, act, cases[i].active);
  }
}

/* ---- RegisterSubject ---- */

static void test_kind_is_person(void **st) {
  (void)st;
  static const int person[] = {0, 0, 1, 0, 0, 1, 0, 1, 0}; /* UNSPECIFIED … PRACTITIONER, 8 */
  for (int k = 0; k < (int)N(person); k++)
    if (credit_kind_is_person(k) != person[k]) fail_msg("kind %d: person %d", k, !person[k]);
}

typedef struct subject {
  Registry__V1__RegisterSubjectRequest req;
  char id_number[32], uscc[32];
} subject;

/* A person: a SELLER_PERSON with a valid resident ID. */
static void person_init(subject *s) {
  memset(s, 0, sizeof(*s));
  s->req = (Registry__V1__RegisterSubjectRequest)REGISTRY__V1__REGISTER_SUBJECT_REQUEST__INIT;
  s->req.request_id = (char *)"7d0b8f2e-3c1a-4b5e-9f6d-2a8c4e1b0f93";
  s->req.kind = SK(SELLER_PERSON);
  s->req.name = (char *)"张三";
  snprintf(s->id_number, sizeof(s->id_number), "%s", ID_OK);
  s->req.id_number = s->id_number;
  s->req.uscc = s->uscc; /* "" */
}

/* An organization: a SELLER_BUSINESS with a valid USCC. */
static void org_init(subject *s) {
  person_init(s);
  s->req.kind = SK(SELLER_BUSINESS);
  s->req.name = (char *)"太原市旧货交易有限公司";
  s->id_number[0] = 0;
  snprintf(s->uscc, sizeof(s->uscc), "%s", USCC_OK);
}

typedef void (*subject_fn)(subject *s);

typedef struct subject_case {
  const char *what;
  subject_fn init, mutate;
  const char *field; /* NULL: accepted */
} subject_case;

#define SMUT(name, body) \
  static void name(subject *s) { body; }

SMUT(s_none, (void)s)
SMUT(s_kind_0, s->req.kind = 0)
SMUT(s_kind_8, s->req.kind = 8)
SMUT(s_kind_neg, s->req.kind = -1)
SMUT(s_name_empty, s->req.name = (char *)"")
SMUT(s_name_null, s->req.name = NULL)
SMUT(s_name_blank, s->req.name = (char *)"   ")
SMUT(s_name_ctl, s->req.name = (char *)"张\n三")
SMUT(s_name_100, s->req.name = rep(0, "张", 100))
SMUT(s_name_101, s->req.name = rep(0, "张", 101))
SMUT(s_id_empty, s->id_number[0] = 0)
SMUT(s_id_null, s->req.id_number = NULL)
SMUT(s_id_bad, snprintf(s->id_number, sizeof(s->id_number), "%s", ID_BAD))
SMUT(s_id_short, snprintf(s->id_number, sizeof(s->id_number), "%s", ID_SHORT))
SMUT(s_id_x, snprintf(s->id_number, sizeof(s->id_number), "%s", ID_OK_X))
SMUT(s_uscc_on_person, snprintf(s->uscc, sizeof(s->uscc), "%s", USCC_OK))
SMUT(s_uscc_empty, s->uscc[0] = 0)
SMUT(s_uscc_null, s->req.uscc = NULL)
SMUT(s_uscc_bad, snprintf(s->uscc, sizeof(s->uscc), "%s", USCC_BAD))
SMUT(s_uscc_short, snprintf(s->uscc, sizeof(s->uscc), "%s", USCC_SHORT))
SMUT(s_id_on_org, snprintf(s->id_number, sizeof(s->id_number), "%s", ID_OK))
SMUT(s_org_id_47, s->req.organization_id = rep(1, "o", 47))
SMUT(s_org_id_48, s->req.organization_id = rep(1, "o", 48))
SMUT(s_org_id_ctl, s->req.organization_id = (char *)"org_\x01")
SMUT(s_appraiser_person, s->req.kind = SK(APPRAISER_PERSON))
SMUT(s_practitioner, s->req.kind = SK(PRACTITIONER))
SMUT(s_platform, s->req.kind = SK(PLATFORM); s->req.organization_id = (char *)"org_01HZX5")
SMUT(s_appraiser_org, s->req.kind = SK(APPRAISER_ORG))
SMUT(s_recycler, s->req.kind = SK(RECYCLER))
SMUT(s_person_as_org, s->req.kind = SK(RECYCLER)) /* a person's ID on an organization kind */
SMUT(s_org_as_person, s->req.kind = SK(PRACTITIONER))
SMUT(s_name_and_id_bad, s->req.name = (char *)""; s->id_number[0] = 0)
SMUT(s_both_ids, snprintf(s->uscc, sizeof(s->uscc), "%s", USCC_OK))

static void test_subject(void **st) {
  (void)st;
  const subject_case cases[] = {
      {"person", person_init, s_none, NULL},
      {"organization", org_init, s_none, NULL},
      {"appraiser person", person_init, s_appraiser_person, NULL},
      {"practitioner", person_init, s_practitioner, NULL},
      {"platform", org_init, s_platform, NULL},
      {"appraiser organization", org_init, s_appraiser_org, NULL},
      {"recycler", org_init, s_recycler, NULL},
      {"ID ending in X", person_init, s_id_x, NULL},
      {"id_number NULL on an organization", org_init, s_id_null, NULL},
      {"uscc NULL on a person", person_init, s_uscc_null, NULL},
      {"kind unspecified", person_init, s_kind_0, "kind"},
      {"kind 8", person_init, s_kind_8, "kind"},
      {"kind -1", person_init, s_kind_neg, "kind"},
      {"name empty", person_init, s_name_empty, "name"},
      {"name NULL", org_init, s_name_null, "name"},
      {"name blank", person_init, s_name_blank, "name"},
      {"name with a line break", person_init, s_name_ctl, "name"},
      {"name 100 characters", org_init, s_name_100, NULL},
      {"name 101 characters", org_init, s_name_101, "name"},
      {"person without id_number", person_init, s_id_empty, "id_number"},
      {"person id_number NULL", person_init, s_id_null, "id_number"},
      {"id_number invalid (check)", person_init, s_id_bad, "id_number"},
      {"id_number invalid (short)", person_init, s_id_short, "id_number"},
      {"uscc on a person", person_init, s_uscc_on_person, "uscc"},
      {"organization without uscc", org_init, s_uscc_empty, "uscc"},
      {"organization uscc NULL", org_init, s_uscc_null, "uscc"},
      {"uscc invalid (check)", org_init, s_uscc_bad, "uscc"},
      {"uscc invalid (short)", org_init, s_uscc_short, "uscc"},
      {"id_number on an organization", org_init, s_id_on_org, "id_number"},
      {"a person's ID under an organization kind", person_init, s_person_as_org, "uscc"},
      {"a USCC under a person kind", org_init, s_org_as_person, "uscc"},
      {"both identifiers, person", person_init, s_both_ids, "uscc"},
      {"organization_id 47 bytes", org_init, s_org_id_47, NULL},
      {"organization_id 48 bytes", org_init, s_org_id_48, "organization_id"},
      {"organization_id control", org_init, s_org_id_ctl, "organization_id"},
      {"name before id_number", person_init, s_name_and_id_bad, "name"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    subject s;
    credit_violation v;
    memset(&v, 0, sizeof(v));
    cases[i].init(&s);
    cases[i].mutate(&s);
    expect(cases[i].what, credit_rules_check_subject(&s.req, &v), &v, cases[i].field);
  }
}

static void test_subject_normalized(void **st) {
  (void)st;
  subject s;
  credit_violation v;
  person_init(&s);
  snprintf(s.id_number, sizeof(s.id_number), "14030219600403533x");
  expect("lower-case x", credit_rules_check_subject(&s.req, &v), &v, NULL);
  assert_string_equal(s.id_number, ID_OK_X);
  org_init(&s);
  snprintf(s.uscc, sizeof(s.uscc), "%s", USCC_OK_LOWER);
  expect("lower-case USCC", credit_rules_check_subject(&s.req, &v), &v, NULL);
  assert_string_equal(s.uscc, USCC_OK);
  /* not normalized when a later field fails */
  org_init(&s);
  snprintf(s.uscc, sizeof(s.uscc), "%s", USCC_OK_LOWER);
  s.req.organization_id = rep(1, "o", 48);
  expect("later field bad", credit_rules_check_subject(&s.req, &v), &v, "organization_id");
  assert_string_equal(s.uscc, USCC_OK_LOWER);
  /* an already normal literal is never written to */
  person_init(&s);
  s.req.id_number = (char *)ID_OK;
  expect("literal", credit_rules_check_subject(&s.req, &v), &v, NULL);
}

/* ---- SubmitRecord and a correction ---- */

#define MAX_EVIDENCE (CREDIT_EVIDENCE_MAX + 2)

typedef struct record {
  Registry__V1__SubmitRecordRequest req;
  Registry__V1__RecordCorrection corr;
  ProtobufCBinaryData ev[MAX_EVIDENCE];
  uint8_t hash[MAX_EVIDENCE][33];
  int no_correction; /* pass NULL for the correction */
} record;

/* A good request: a COUNTERFEIT of severity 3 that occurred 2025-11-02,
 * ended 2025-12-01, two evidence hashes; the correction the same. */
static void record_init(record *s) {
  memset(s, 0, sizeof(*s));
  for (size_t i = 0; i < MAX_EVIDENCE; i++) {
    memset(s->hash[i], (int)(0xa0 + i), sizeof(s->hash[i]));
    s->ev[i].data = s->hash[i];
    s->ev[i].len = 32;
  }
  s->req = (Registry__V1__SubmitRecordRequest)REGISTRY__V1__SUBMIT_RECORD_REQUEST__INIT;
  s->req.request_id = (char *)"7d0b8f2e-3c1a-4b5e-9f6d-2a8c4e1b0f93";
  s->req.subject_id = (char *)"sub_01HZX5K3Q8V7";
  s->req.category = RC(COUNTERFEIT);
  s->req.severity = 3;
  s->req.occurred_on = (char *)"2025-11-02";
  s->req.ended_on = (char *)"2025-12-01";
  s->req.summary = (char *)"出售假冒品牌手机两部。\n已由市场监管部门认定。";
  s->req.n_evidence_sha256 = 2;
  s->req.evidence_sha256 = s->ev;
  s->corr = (Registry__V1__RecordCorrection)REGISTRY__V1__RECORD_CORRECTION__INIT;
  s->corr.category = RC(MISREPRESENTATION);
  s->corr.severity = 2;
  s->corr.occurred_on = (char *)"2025-11-02";
  s->corr.ended_on = (char *)"";
  s->corr.summary = (char *)"更正：描述与实物不符，非假冒。";
  s->corr.n_evidence_sha256 = 1;
  s->corr.evidence_sha256 = s->ev;
}

typedef void (*record_fn)(record *s);

typedef struct record_case {
  const char *what;
  record_fn mutate;
  const char *field; /* NULL: accepted */
} record_case;

#define RMUT(name, body) \
  static void name(record *s) { body; }

RMUT(r_none, (void)s)
RMUT(r_subject_empty, s->req.subject_id = (char *)"")
RMUT(r_subject_null, s->req.subject_id = NULL)
RMUT(r_subject_48, s->req.subject_id = rep(0, "s", 48))
RMUT(r_cat_0, s->req.category = 0)
RMUT(r_cat_13, s->req.category = 13)
RMUT(r_cat_neg, s->req.category = -4)
RMUT(r_cat_note, s->req.category = RC(NOTE))
RMUT(r_cat_award, s->req.category = RC(AWARD))
RMUT(r_sev_0, s->req.severity = 0)
RMUT(r_sev_6, s->req.severity = 6)
RMUT(r_sev_neg, s->req.severity = -1)
RMUT(r_sev_1, s->req.severity = 1)
RMUT(r_sev_5, s->req.severity = 5)
RMUT(r_occ_empty, s->req.occurred_on = (char *)"")
RMUT(r_occ_null, s->req.occurred_on = NULL)
RMUT(r_occ_bad, s->req.occurred_on = (char *)"2025-11-31")
RMUT(r_occ_format, s->req.occurred_on = (char *)"2025/11/02")
RMUT(r_occ_today, s->req.occurred_on = (char *)TODAY; s->req.ended_on = (char *)"")
RMUT(r_occ_future, s->req.occurred_on = (char *)"2026-03-16"; s->req.ended_on = (char *)"")
RMUT(r_end_empty, s->req.ended_on = (char *)"")
RMUT(r_end_null, s->req.ended_on = NULL)
RMUT(r_end_same, s->req.ended_on = (char *)"2025-11-02")
RMUT(r_end_before, s->req.ended_on = (char *)"2025-11-01")
RMUT(r_end_today, s->req.ended_on = (char *)TODAY)
RMUT(r_end_future, s->req.ended_on = (char *)"2026-03-16")
RMUT(r_end_bad, s->req.ended_on = (char *)"2025-02-29")
RMUT(r_summary_empty, s->req.summary = (char *)"")
RMUT(r_summary_null, s->req.summary = NULL)
RMUT(r_summary_blank, s->req.summary = (char *)" \n\t ")
RMUT(r_summary_ctl, s->req.summary = (char *)"假冒\x01手机")
RMUT(r_summary_500, s->req.summary = rep(0, "假", 500))
RMUT(r_summary_501, s->req.summary = rep(0, "假", 501))
RMUT(r_ev_none, s->req.n_evidence_sha256 = 0; s->req.evidence_sha256 = NULL)
RMUT(r_ev_20, s->req.n_evidence_sha256 = 20)
RMUT(r_ev_21, s->req.n_evidence_sha256 = 21)
RMUT(r_ev_31, s->ev[1].len = 31)
RMUT(r_ev_33, s->ev[0].len = 33)
RMUT(r_ev_0, s->ev[1].len = 0)
RMUT(r_sup_47, s->req.supersedes_record_id = rep(1, "r", 47))
RMUT(r_sup_48, s->req.supersedes_record_id = rep(1, "r", 48))
RMUT(r_sup_ok, s->req.supersedes_record_id = (char *)"rec_01HZX5K3Q8V7")
RMUT(r_first_bad, s->req.severity = 0; s->req.summary = (char *)"")
RMUT(r_last_bad, s->req.summary = (char *)""; s->req.supersedes_record_id = rep(1, "r", 48))

static void test_record(void **st) {
  (void)st;
  const record_case cases[] = {
      {"good", r_none, NULL},
      {"subject_id empty", r_subject_empty, "subject_id"},
      {"subject_id NULL", r_subject_null, "subject_id"},
      {"subject_id 48 bytes", r_subject_48, "subject_id"},
      {"category unspecified", r_cat_0, "category"},
      {"category 13", r_cat_13, "category"},
      {"category negative", r_cat_neg, "category"},
      {"a NOTE", r_cat_note, NULL},
      {"a positive record", r_cat_award, NULL},
      {"severity 0", r_sev_0, "severity"},
      {"severity 6", r_sev_6, "severity"},
      {"severity -1", r_sev_neg, "severity"},
      {"severity 1", r_sev_1, NULL},
      {"severity 5", r_sev_5, NULL},
      {"occurred_on empty", r_occ_empty, "occurred_on"},
      {"occurred_on NULL", r_occ_null, "occurred_on"},
      {"occurred_on not a date", r_occ_bad, "occurred_on"},
      {"occurred_on format", r_occ_format, "occurred_on"},
      {"occurred today", r_occ_today, NULL},
      {"occurred tomorrow", r_occ_future, "occurred_on"},
      {"no end", r_end_empty, NULL},
      {"ended_on NULL", r_end_null, NULL},
      {"ended the day it occurred", r_end_same, NULL},
      {"ended before it occurred", r_end_before, "ended_on"},
      {"ended today", r_end_today, NULL},
      {"ended tomorrow", r_end_future, "ended_on"},
      {"ended_on not a date", r_end_bad, "ended_on"},
      {"summary empty", r_summary_empty, "summary"},
      {"summary NULL", r_summary_null, "summary"},
      {"summary blank", r_summary_blank, "summary"},
      {"summary control", r_summary_ctl, "summary"},
      {"summary 500 characters", r_summary_500, NULL},
      {"summary 501 characters", r_summary_501, "summary"},
      {"no evidence", r_ev_none, NULL},
      {"20 hashes", r_ev_20, NULL},
      {"21 hashes", r_ev_21, "evidence_sha256"},
      {"hash of 31 bytes", r_ev_31, "evidence_sha256[1]"},
      {"hash of 33 bytes", r_ev_33, "evidence_sha256[0]"},
      {"empty hash", r_ev_0, "evidence_sha256[1]"},
      {"supersedes 47 bytes", r_sup_47, NULL},
      {"supersedes 48 bytes", r_sup_48, "supersedes_record_id"},
      {"supersedes an id", r_sup_ok, NULL},
      {"first bad field", r_first_bad, "severity"},
      {"summary before supersedes", r_last_bad, "summary"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    record s;
    credit_violation v;
    memset(&v, 0, sizeof(v));
    record_init(&s);
    cases[i].mutate(&s);
    clock_day occ = -7, end = -7;
    int rv = credit_rules_check_record(&s.req, day(TODAY), &occ, &end, &v);
    expect(cases[i].what, rv, &v, cases[i].field);
    if (cases[i].field && (occ != -7 || end != -7))
      fail_msg("%s: out-parameters written on failure", cases[i].what);
    if (!cases[i].field && occ != day(s.req.occurred_on))
      fail_msg("%s: occurred_on not returned", cases[i].what);
    if (!cases[i].field && end != (s.req.ended_on && *s.req.ended_on ? day(s.req.ended_on) : 0))
      fail_msg("%s: ended_on not returned", cases[i].what);
  }
}

RMUT(c_none, (void)s)
RMUT(c_null, s->no_correction = 1)
RMUT(c_cat_0, s->corr.category = 0)
RMUT(c_sev_0, s->corr.severity = 0)
RMUT(c_sev_6, s->corr.severity = 6)
RMUT(c_occ_empty, s->corr.occurred_on = (char *)"")
RMUT(c_occ_future, s->corr.occurred_on = (char *)"2026-03-16")
RMUT(c_end_before, s->corr.ended_on = (char *)"2025-11-01")
RMUT(c_end_future, s->corr.ended_on = (char *)"2026-03-16")
RMUT(c_summary_empty, s->corr.summary = (char *)"")
RMUT(c_summary_501, s->corr.summary = rep(0, "更", 501))
RMUT(c_ev_21, s->corr.n_evidence_sha256 = 21)
RMUT(c_ev_31, s->ev[0].len = 31)
RMUT(c_ended, s->corr.ended_on = (char *)"2025-12-01")

static void test_correction(void **st) {
  (void)st;
  const record_case cases[] = {
      {"good", c_none, NULL},
      {"with an end", c_ended, NULL},
      {"missing", c_null, "correction"},
      {"category", c_cat_0, "correction.category"},
      {"severity 0", c_sev_0, "correction.severity"},
      {"severity 6", c_sev_6, "correction.severity"},
      {"occurred_on empty", c_occ_empty, "correction.occurred_on"},
      {"occurred_on future", c_occ_future, "correction.occurred_on"},
      {"ended before occurred", c_end_before, "correction.ended_on"},
      {"ended tomorrow", c_end_future, "correction.ended_on"},
      {"summary empty", c_summary_empty, "correction.summary"},
      {"summary 501 characters", c_summary_501, "correction.summary"},
      {"21 hashes", c_ev_21, "correction.evidence_sha256"},
      {"hash of 31 bytes", c_ev_31, "correction.evidence_sha256[0]"},
  };
  for (size_t i = 0; i < N(cases); i++) {
    record s;
    credit_violation v;
    memset(&v, 0, sizeof(v));
    record_init(&s);
    cases[i].mutate(&s);
    const Registry__V1__RecordCorrection *c = s.no_correction ? NULL : &s.corr;
    clock_day occ = -7, end = -7;
    int rv = credit_rules_check_correction(c, day(TODAY), &occ, &end, &v);
    expect(cases[i].what, rv, &v, cases[i].field);
    if (cases[i].field && (occ != -7 || end != -7))
      fail_msg("%s: out-parameters written on failure", cases[i].what);
    if (!cases[i].field && (occ != day("2025-11-02") ||
                            end != (*s.corr.ended_on ? day(s.corr.ended_on) : 0)))
      fail_msg("%s: dates not returned", cases[i].what);
  }
}

/* ---- PlaceOnDishonestyList ---- */

typedef void (*listing_fn)(Registry__V1__PlaceOnDishonestyListRequest *r);

typedef struct listing_case {
  const char *what;
  listing_fn mutate;
  const char *field; /* NULL: accepted */
  const char *listed_on; /* expected when accepted */
} listing_case;

static void listing_init(Registry__V1__PlaceOnDishonestyListRequest *r) {
  *r = (Registry__V1__PlaceOnDishonestyListRequest)REGISTRY__V1__PLACE_ON_DISHONESTY_LIST_REQUEST__INIT;
  r->request_id = (char *)"7d0b8f2e-3c1a-4b5e-9f6d-2a8c4e1b0f93";
  r->subject_id = (char *)"sub_01HZX5K3Q8V7";
  r->reason = (char *)"多次销售假冒商品，情节严重。";
  r->decision_ref = (char *)"晋市监失信〔2026〕12号";
  r->listed_on = (char *)"";
}

#define LMUT(name, body) \
  static void name(Registry__V1__PlaceOnDishonestyListRequest *r) { body; }

LMUT(l_none, (void)r)
LMUT(l_subject_empty, r->subject_id = (char *)"")
LMUT(l_subject_48, r->subject_id = rep(0, "s", 48))
LMUT(l_reason_empty, r->reason = (char *)"")
LMUT(l_reason_null, r->reason = NULL)
LMUT(l_reason_multi, r->reason = (char *)"第一条。\n第二条。")
LMUT(l_reason_501, r->reason = rep(0, "失", 501))
LMUT(l_ref_empty, r->decision_ref = (char *)"")
LMUT(l_ref_blank, r->decision_ref = (char *)"  ")
LMUT(l_ref_line, r->decision_ref = (char *)"晋市监\n失信")
LMUT(l_ref_101, r->decision_ref = rep(0, "号", 101))
LMUT(l_listed_null, r->listed_on = NULL)
LMUT(l_listed_today, r->listed_on = (char *)TODAY)
LMUT(l_listed_past, r->listed_on = (char *)"2025-12-01")
LMUT(l_listed_future, r->listed_on = (char *)"2026-03-16")
LMUT(l_listed_bad, r->listed_on = (char *)"2026-02-30")
LMUT(l_listed_format, r->listed_on = (char *)"20260315")

static void test_listing(void **st) {
  (void)st;
  const listing_case cases[] = {
      {"good, listed today", l_none, NULL, TODAY},
      {"listed_on NULL", l_listed_null, NULL, TODAY},
      {"listed_on today", l_listed_today, NULL, TODAY},
      {"listed_on in the past", l_listed_past, NULL, "2025-12-01"},
      {"reason of two lines", l_reason_multi, NULL, TODAY},
      {"subject_id empty", l_subject_empty, "subject_id", NULL},
      {"subject_id 48 bytes", l_subject_48, "subject_id", NULL},
      {"reason empty", l_reason_empty, "reason", NULL},
      {"reason NULL", l_reason_null, "reason", NULL},
      {"reason 501 characters", l_reason_501, "reason", NULL},
      {"decision_ref empty", l_ref_empty, "decision_ref", NULL},
      {"decision_ref blank", l_ref_blank, "decision_ref", NULL},
      {"decision_ref of two lines", l_ref_line, "decision_ref", NULL},
      {"decision_ref 101 characters", l_ref_101, "decision_ref", NULL},
      {"listed_on tomorrow", l_listed_future, "listed_on", NULL},
      {"listed_on not a date", l_listed_bad, "listed_on", NULL},
      {"listed_on format", l_listed_format, "listed_on", NULL},
  };
  for (size_t i = 0; i < N(cases); i++) {
    Registry__V1__PlaceOnDishonestyListRequest r;
    credit_violation v;
    memset(&v, 0, sizeof(v));
    listing_init(&r);
    cases[i].mutate(&r);
    clock_day listed = -7;
    int rv = credit_rules_check_listing(&r, day(TODAY), &listed, &v);
    expect(cases[i].what, rv, &v, cases[i].field);
    if (cases[i].field && listed != -7) fail_msg("%s: listed_on written on failure", cases[i].what);
    if (!cases[i].field && listed != day(cases[i].listed_on))
      fail_msg("%s: listed_on %d, expected %s", cases[i].what, listed, cases[i].listed_on);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_polarity),
      cmocka_unit_test(test_expires_on),
      cmocka_unit_test(test_status_order),
      cmocka_unit_test(test_grade_default),
      cmocka_unit_test(test_rule_parse),
      cmocka_unit_test(test_rule_bad),
      cmocka_unit_test(test_grade_configured),
      cmocka_unit_test(test_grade_order_independent),
      cmocka_unit_test(test_dispute_deadline),
      cmocka_unit_test(test_list_calendar),
      cmocka_unit_test(test_kind_is_person),
      cmocka_unit_test(test_subject),
      cmocka_unit_test(test_subject_normalized),
      cmocka_unit_test(test_record),
      cmocka_unit_test(test_correction),
      cmocka_unit_test(test_listing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
