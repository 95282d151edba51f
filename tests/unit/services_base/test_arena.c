/* tests services/base/arena.c: alignment, the hard maximum, big blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/base/arena.h"

static void test_alloc_aligned_and_distinct(void **st) {
  (void)st;
  arena *a = arena_new(0);
  assert_non_null(a);
  char *prev = NULL;
  for (int i = 1; i < 2000; i++) {
    char *p = arena_alloc(a, (size_t)(i % 97) + 1);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    memset(p, 0xAB, (size_t)(i % 97) + 1); /* ASan catches overlap/overflow */
    assert_ptr_not_equal(p, prev);
    prev = p;
  }
  arena_free(a);
}

static void test_maximum(void **st) {
  (void)st;
  arena *a = arena_new(1000);
  assert_non_null(arena_alloc(a, 900));
  assert_null(arena_alloc(a, 200));          /* over the maximum */
  assert_non_null(arena_alloc(a, 64));       /* still room for this */
  assert_null(arena_alloc(a, SIZE_MAX - 4)); /* no overflow */
  assert_null(arena_calloc(a, SIZE_MAX / 2, 4));
  assert_true(arena_used(a) <= 1000);
  arena_free(a);
}

static void test_big_block_keeps_current(void **st) {
  (void)st;
  arena *a = arena_new(0);
  char *small1 = arena_alloc(a, 16);
  char *big = arena_alloc(a, 3u << 20);
  char *small2 = arena_alloc(a, 16);
  assert_non_null(small1);
  assert_non_null(big);
  assert_non_null(small2);
  memset(big, 1, 3u << 20);
  /* the small allocations share the first block */
  assert_true(small2 - small1 == 16);
  arena_free(a);
}

static void test_strings_and_protobuf_allocator(void **st) {
  (void)st;
  arena *a = arena_new(0);
  assert_string_equal(arena_strdup(a, "张小三"), "张小三");
  assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
  assert_string_equal(arena_printf(a, "%s-%d", "x", 42), "x-42");
  ProtobufCAllocator *pa = arena_allocator(a);
  void *p = pa->alloc(pa->allocator_data, 100);
  assert_non_null(p);
  pa->free(pa->allocator_data, p); /* a no-op, freed with the arena */
  arena_free(a);
  arena_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_aligned_and_distinct),
      cmocka_unit_test(test_maximum),
      cmocka_unit_test(test_big_block_keeps_current),
      cmocka_unit_test(test_strings_and_protobuf_allocator),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
