/*
 * log_rules.c: which tree size a proof is for, which leaf indices exist,
 * consistency ranges and GetEntries windows (SPEC §4.6), table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "services/log/log.h"

static void test_tree_size(void **state) {
  (void)state;
  static const struct {
    int64_t requested, latest;
    int rv;
    uint64_t out;
  } cases[] = {
      {0, 10, 0, 10},              /* 0: the latest checkpoint */
      {7, 10, 0, 7},               /* an older size */
      {10, 10, 0, 10},             /* exactly the latest */
      {11, 10, REG_ERANGE, 0},     /* beyond the latest checkpoint */
      {-1, 10, REG_EINVAL, 0},     /* negative */
      {0, 0, REG_ENOTFOUND, 0},    /* no checkpoint yet */
      {1, 0, REG_ERANGE, 0},       /* any size before the first checkpoint */
      {INT64_MAX, 5, REG_ERANGE, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t out = 12345;
    log_violation v = {{0}, {0}};
    int rv = log_rules_tree_size(cases[i].requested, cases[i].latest, "tree_size", &out, &v);
    assert_int_equal(rv, cases[i].rv);
    if (rv == 0) assert_int_equal(out, cases[i].out);
    else {
      assert_int_equal(out, 12345); /* untouched on failure */
      assert_string_equal(v.field, "tree_size");
      assert_true(strlen(v.message) > 0);
    }
  }
}

static void test_leaf_index(void **state) {
  (void)state;
  static const struct {
    int64_t index;
    uint64_t size;
    int rv;
  } cases[] = {
      {0, 1, 0}, {4, 5, 0}, {5, 5, REG_EINVAL}, {6, 5, REG_EINVAL}, {-1, 5, REG_EINVAL},
      {0, 0, REG_EINVAL}, {INT64_MAX, UINT64_MAX, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    log_violation v = {{0}, {0}};
    int rv = log_rules_leaf_index(cases[i].index, cases[i].size, &v);
    assert_int_equal(rv, cases[i].rv);
    if (rv) assert_string_equal(v.field, "leaf_index");
  }
}

static void test_consistency(void **state) {
  (void)state;
  static const struct {
    int64_t first, second, latest;
    int rv;
    const char *field;
    uint64_t f, s;
  } cases[] = {
      {1, 0, 8, 0, "", 1, 8},                       /* second 0: the latest */
      {3, 5, 8, 0, "", 3, 5},
      {5, 5, 8, 0, "", 5, 5},                       /* equal sizes: an empty proof */
      {0, 5, 8, REG_EINVAL, "first_size", 0, 0},    /* from size 0 */
      {-2, 5, 8, REG_EINVAL, "first_size", 0, 0},
      {6, 5, 8, REG_EINVAL, "first_size", 0, 0},    /* first beyond second */
      {9, 0, 8, REG_EINVAL, "first_size", 0, 0},    /* first beyond the latest */
      {1, 9, 8, REG_ERANGE, "second_size", 0, 0},   /* beyond the latest checkpoint */
      {1, -1, 8, REG_EINVAL, "second_size", 0, 0},
      {1, 0, 0, REG_ENOTFOUND, "second_size", 0, 0}, /* no checkpoint */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t f = 0, s = 0;
    log_violation v = {{0}, {0}};
    int rv = log_rules_consistency(cases[i].first, cases[i].second, cases[i].latest, &f, &s, &v);
    assert_int_equal(rv, cases[i].rv);
    if (rv == 0) {
      assert_int_equal(f, cases[i].f);
      assert_int_equal(s, cases[i].s);
    } else {
      assert_string_equal(v.field, cases[i].field);
    }
  }
}

static void test_entries(void **state) {
  (void)state;
  static const struct {
    int64_t start, end;
    uint64_t size;
    int rv;
    const char *field;
    uint64_t s, e;
  } cases[] = {
      {0, 1, 1, 0, "", 0, 1},
      {0, 10, 10, 0, "", 0, 10},
      {3, 7, 10, 0, "", 3, 7},
      {0, 1001, 2000, 0, "", 0, 1000},              /* truncated to 1,000 */
      {500, 2000, 2000, 0, "", 500, 1500},
      {0, 1000, 1000, 0, "", 0, 1000},              /* exactly 1,000 */
      {0, 11, 10, REG_ERANGE, "end", 0, 0},         /* beyond the tree */
      {10, 11, 10, REG_ERANGE, "end", 0, 0},
      {0, 5000, 10, REG_ERANGE, "end", 0, 0},
      {5, 5, 10, REG_EINVAL, "end", 0, 0},          /* start ≥ end */
      {6, 5, 10, REG_EINVAL, "end", 0, 0},
      {-1, 5, 10, REG_EINVAL, "start", 0, 0},
      {0, 1, 0, REG_ERANGE, "end", 0, 0},           /* empty tree */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint64_t s = 99, e = 99;
    log_violation v = {{0}, {0}};
    int rv = log_rules_entries(cases[i].start, cases[i].end, cases[i].size, &s, &e, &v);
    assert_int_equal(rv, cases[i].rv);
    if (rv == 0) {
      assert_int_equal(s, cases[i].s);
      assert_int_equal(e, cases[i].e);
    } else {
      assert_string_equal(v.field, cases[i].field);
      assert_int_equal(s, 99);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tree_size),
      cmocka_unit_test(test_leaf_index),
      cmocka_unit_test(test_consistency),
      cmocka_unit_test(test_entries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
