/*
 * Unit tests of services/core/ident.c: every value of
 * tests/data/identifiers.json (valid ones accepted and normalized, *_bad
 * refused), lower-case input, the DOMAIN §5 examples, birth-date edges of
 * resident IDs, and UUIDs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "services/base/clock.h"
#include "services/core/ident.h"

typedef int (*check_fn)(const char *in, char *out);

static int vin(const char *in, char *out) { return ident_vin_check(in, out); }
static int imei(const char *in, char *out) { return ident_imei_check(in, out); }
static int rid(const char *in, char *out) { return ident_resident_id_check(in, out); }
static int uscc(const char *in, char *out) { return ident_uscc_check(in, out); }

static json_t *doc;

static int setup(void **state) {
  char path[1024];
  const char *dir = getenv("REG_TEST_DATA");
  json_error_t err;
  (void)state;

  snprintf(path, sizeof(path), "%s/identifiers.json", dir ? dir : "tests/data");
  doc = json_load_file(path, 0, &err);
  if (!doc) fprintf(stderr, "%s: %s\n", path, err.text);
  return doc ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  json_decref(doc);
  return 0;
}

static void lower(const char *in, char *out) {
  size_t i = 0;
  for (; in[i]; i++) out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
  out[i] = 0;
}

/* Every value of list `key`: accepted and written back unchanged (the file
 * holds normalized values), and again from its lower-case form. */
static void check_valid(const char *key, check_fn fn) {
  json_t *list = json_object_get(doc, key), *v;
  size_t i;

  assert_non_null(list);
  assert_true(json_array_size(list) > 0);
  json_array_foreach(list, i, v) {
    const char *s = json_string_value(v);
    char out[32], low[32];
    print_message("%s[%zu] = %s\n", key, i, s);
    memset(out, 0, sizeof(out));
    assert_int_equal(fn(s, out), 0);
    assert_string_equal(out, s);
    lower(s, low);
    memset(out, 0, sizeof(out));
    assert_int_equal(fn(low, out), 0);
    assert_string_equal(out, s);
  }
}

/* Every value of list `key` refused, with out left alone. */
static void check_bad(const char *key, check_fn fn) {
  json_t *list = json_object_get(doc, key), *v;
  size_t i;

  assert_non_null(list);
  assert_true(json_array_size(list) > 0);
  json_array_foreach(list, i, v) {
    const char *s = json_string_value(v);
    char out[32] = "untouched";
    print_message("%s[%zu] = %s\n", key, i, s);
    assert_int_equal(fn(s, out), REG_EINVAL);
    assert_string_equal(out, "untouched");
  }
}

static void test_vin(void **state) {
  char out[18];
  (void)state;
  check_valid("vin_valid", vin);
  check_bad("vin_bad", vin);
  assert_int_equal(ident_vin_check("1M8GDM9AXKP042788", out), 0); /* DOMAIN §5 */
  assert_string_equal(out, "1M8GDM9AXKP042788");
  assert_int_equal(ident_vin_check("1m8gdm9axkp042788", out), 0);
  assert_string_equal(out, "1M8GDM9AXKP042788");
  assert_int_equal(ident_vin_check("1M8GDM9A1KP042788", out), REG_EINVAL); /* check digit */
  assert_int_equal(ident_vin_check("1M8GDM9AXKP04278", out), REG_EINVAL);
  assert_int_equal(ident_vin_check("1M8GDM9AXKP0427888", out), REG_EINVAL);
  assert_int_equal(ident_vin_check(NULL, out), REG_EINVAL);
}

static void test_imei(void **state) {
  char out[16];
  (void)state;
  check_valid("imei_valid", imei);
  check_bad("imei_bad", imei);
  assert_int_equal(ident_imei_check("490154203237518", out), 0); /* DOMAIN §5 */
  assert_string_equal(out, "490154203237518");
  assert_int_equal(ident_imei_check("490154203237517", out), REG_EINVAL);
  assert_int_equal(ident_imei_check("4901542032375180", out), REG_EINVAL);
  assert_int_equal(ident_imei_check("", out), REG_EINVAL);
}

/* A resident ID with this birth date and a correct check character. */
static void make_id(const char *yyyymmdd, char out[19]) {
  static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  snprintf(out, 19, "140302%s123", yyyymmdd);
  for (int i = 0; i < 17; i++) sum += (out[i] - '0') * w[i];
  out[17] = "10X98765432"[sum % 11];
  out[18] = 0;
}

static void test_resident_id(void **state) {
  char out[19], id[19], date[11], ymd[9];
  int y, m, d;
  (void)state;

  check_valid("id_number_valid", rid);
  check_bad("id_number_bad", rid);
  assert_int_equal(ident_resident_id_check("11010519491231002X", out), 0); /* DOMAIN §5 */
  assert_string_equal(out, "11010519491231002X");
  assert_int_equal(ident_resident_id_check("11010519491231002x", out), 0);
  assert_string_equal(out, "11010519491231002X");
  assert_int_equal(ident_resident_id_check("110105194912310021", out), REG_EINVAL);

  make_id("19000101", id);
  assert_int_equal(ident_resident_id_check(id, out), 0);
  assert_string_equal(out, id);
  make_id("18991231", id);
  assert_int_equal(ident_resident_id_check(id, out), REG_EINVAL);
  make_id("20240229", id);
  assert_int_equal(ident_resident_id_check(id, out), 0);
  make_id("20230229", id);
  assert_int_equal(ident_resident_id_check(id, out), REG_EINVAL);
  make_id("19901301", id);
  assert_int_equal(ident_resident_id_check(id, out), REG_EINVAL);
  make_id("19900100", id);
  assert_int_equal(ident_resident_id_check(id, out), REG_EINVAL);

  /* today (Asia/Shanghai) is a possible birth date, tomorrow is not */
  clock_day_format(clock_today_cst(), date);
  snprintf(ymd, sizeof(ymd), "%.4s%.2s%.2s", date, date + 5, date + 8);
  make_id(ymd, id);
  assert_int_equal(ident_resident_id_check(id, out), 0);
  clock_day_to_ymd(clock_today_cst() + 1, &y, &m, &d);
  snprintf(ymd, sizeof(ymd), "%04d%02d%02d", y, m, d);
  make_id(ymd, id);
  assert_int_equal(ident_resident_id_check(id, out), REG_EINVAL);
}

static void test_uscc(void **state) {
  char out[19];
  (void)state;
  check_valid("uscc_valid", uscc);
  check_bad("uscc_bad", uscc);
  assert_int_equal(ident_uscc_check("91350100M000100Y43", out), 0); /* DOMAIN §5 */
  assert_string_equal(out, "91350100M000100Y43");
  assert_int_equal(ident_uscc_check("91350100m000100y43", out), 0);
  assert_string_equal(out, "91350100M000100Y43");
  /* I, O, S, V, Z are not in the alphabet */
  assert_int_equal(ident_uscc_check("91350100M000100Y4I", out), REG_EINVAL);
  assert_int_equal(ident_uscc_check("91350100M000100Y4O", out), REG_EINVAL);
  assert_int_equal(ident_uscc_check("91350100M000100Y4", out), REG_EINVAL);
}

/* A code whose GB 32100 check is right but whose embedded GB 11714 check
 * is wrong: refused for the embedded check alone. */
static void test_uscc_embedded_org_check(void **state) {
  static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
  char code[19] = "91350100M000100Y3", out[19]; /* org check 4 → 3 */
  int sum = 0;
  (void)state;

  for (int i = 0; i < 17; i++) sum += (int)(strchr(alphabet, code[i]) - alphabet) * w[i];
  code[17] = alphabet[(31 - sum % 31) % 31];
  code[18] = 0;
  assert_int_equal(ident_uscc_check(code, out), REG_EINVAL);
}

static void test_uuid(void **state) {
  static const char *const good[] = {
      "123e4567-e89b-12d3-a456-426614174000",
      "123E4567-E89B-12D3-A456-426614174000",
      "00000000-0000-0000-0000-000000000000",
  };
  static const char *const bad[] = {
      "",
      "123e4567e89b12d3a456426614174000",
      "{123e4567-e89b-12d3-a456-426614174000}",
      "123e4567-e89b-12d3-a456-42661417400",
      "123e4567-e89b-12d3-a456-4266141740000",
      "123e4567-e89b-12d3-a456_426614174000",
      "123e4567-e89b-12d3-a456-42661417400g",
      "123e456-7e89b-12d3-a456-426614174000",
  };
  (void)state;

  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_int_equal(ident_uuid_check(good[i]), 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    print_message("bad[%zu] = %s\n", i, bad[i]);
    assert_int_equal(ident_uuid_check(bad[i]), REG_EINVAL);
  }
  assert_int_equal(ident_uuid_check(NULL), REG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vin),  cmocka_unit_test(test_imei),
      cmocka_unit_test(test_resident_id), cmocka_unit_test(test_uscc),
      cmocka_unit_test(test_uscc_embedded_org_check), cmocka_unit_test(test_uuid),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
