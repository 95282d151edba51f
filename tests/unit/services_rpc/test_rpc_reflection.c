/*
 * Unit tests for services/rpc/reflection.c's index: the registry's embedded
 * descriptor set (every file of the registry protos and their imports)
 * must parse, and a damaged set must be refused rather than half served.
 * The answers themselves are checked through a real client in
 * test_transport.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/base/err.h"
#include "services/rpc/rpc_internal.h"

extern const unsigned char registry_descriptor_set[];
extern const size_t registry_descriptor_set_len;

static void test_registry_set_parses(void **st) {
  (void)st;
  rpc_reflection *r = NULL;
  assert_int_equal(rpc_reflection_new(registry_descriptor_set, registry_descriptor_set_len, &r), 0);
  assert_non_null(r);
  rpc_reflection_free(r);
}

static void test_empty_set(void **st) {
  (void)st;
  rpc_reflection *r = NULL;
  assert_int_equal(rpc_reflection_new((const unsigned char *)"", 0, &r), 0);
  rpc_reflection_free(r);
}

static void test_damaged_sets_are_refused(void **st) {
  (void)st;
  rpc_reflection *r = NULL;
  /* a field other than `file` */
  const unsigned char wrong_field[] = {0x12, 0x00};
  assert_int_equal(rpc_reflection_new(wrong_field, sizeof(wrong_field), &r), REG_EINVAL);
  /* a length past the end */
  const unsigned char too_long[] = {0x0a, 0x10, 0x0a, 0x01};
  assert_int_equal(rpc_reflection_new(too_long, sizeof(too_long), &r), REG_EINVAL);
  /* a file without a name */
  const unsigned char no_name[] = {0x0a, 0x00};
  assert_int_equal(rpc_reflection_new(no_name, sizeof(no_name), &r), REG_EINVAL);
  /* the real set cut short */
  assert_int_equal(rpc_reflection_new(registry_descriptor_set, registry_descriptor_set_len - 3, &r),
                   REG_EINVAL);
  assert_null(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_set_parses),
      cmocka_unit_test(test_empty_set),
      cmocka_unit_test(test_damaged_sets_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
