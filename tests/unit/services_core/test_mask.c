/*
 * Unit tests of services/core/mask.c: SPEC §3 masking of names (Chinese
 * and ASCII, 1 to 4+ characters), ID numbers and phone numbers, short
 * inputs, and an exhausted arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "services/core/mask.h"

static int setup(void **state) {
  arena *a = arena_new(0);
  *state = a;
  return a ? 0 : -1;
}

static int teardown(void **state) {
  arena_free(*state);
  return 0;
}

static void test_names(void **state) {
  arena *a = *state;
  static const struct {
    const char *in, *want;
  } cases[] = {
      {"张", "*"},
      {"张三", "张*"},
      {"张小三", "张*三"},
      {"欧阳小明", "欧*明"},
      {"爱新觉罗·溥仪", "爱*仪"},
      {"Li", "L*"},
      {"Bob", "B*b"},
      {"John Smith", "J*h"},
      {"A", "*"},
      {"", ""},
      {"Zoë", "Z*ë"},
      {"😀a", "😀*"},
  };

  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    assert_string_equal(mask_name(a, cases[i].in), cases[i].want);
  assert_null(mask_name(a, NULL));
}

static void test_id_numbers(void **state) {
  arena *a = *state;

  assert_string_equal(mask_id_number(a, "110105194912310021"), "1101**********0021");
  assert_string_equal(mask_id_number(a, "11010519491231002X"), "1101**********002X");
  assert_string_equal(mask_id_number(a, "110105491231002"), "1101**********1002"); /* 15 */
  assert_string_equal(mask_id_number(a, "123456789"), "1234**********6789");
  assert_string_equal(mask_id_number(a, "12345678"), "********");
  assert_string_equal(mask_id_number(a, "123"), "***");
  assert_string_equal(mask_id_number(a, ""), "");
  assert_null(mask_id_number(a, NULL));
}

static void test_phones(void **state) {
  arena *a = *state;

  assert_string_equal(mask_phone(a, "13812345678"), "138****5678");
  assert_string_equal(mask_phone(a, "+8613812345678"), "+86****5678");
  assert_string_equal(mask_phone(a, "010-12345678"), "010****5678");
  assert_string_equal(mask_phone(a, "12345678"), "123****5678");
  assert_string_equal(mask_phone(a, "1234567"), "*******");
  assert_string_equal(mask_phone(a, "110"), "***");
  assert_string_equal(mask_phone(a, ""), "");
  assert_null(mask_phone(a, NULL));
}

static void test_exhausted_arena(void **state) {
  arena *small = arena_new(16);
  (void)state;

  assert_non_null(small);
  assert_string_equal(mask_phone(small, "13812345678"), "138****5678"); /* 12 → 16 bytes */
  assert_null(mask_phone(small, "13812345678"));
  assert_null(mask_name(small, "张小三"));
  assert_null(mask_id_number(small, "110105194912310021"));
  arena_free(small);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_names, setup, teardown),
      cmocka_unit_test_setup_teardown(test_id_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_phones, setup, teardown),
      cmocka_unit_test(test_exhausted_arena),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
