/*
 * Unit tests for services/rpc/wire.c: the gRPC message deframer (whole and
 * split messages, the size limit checked from the prefix, truncation, the
 * compressed flag, the shared budget), grpc-timeout parsing and the
 * percent-encoding of grpc-message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/base/err.h"
#include "services/rpc/rpc_wire.h"

typedef struct seen {
  int n;
  size_t lens[16];
  uint8_t data[16][64];
  const uint8_t *ptrs[16];
  int fail_at; /* 1-based message index whose callback fails; 0 never */
} seen;

static int on_msg(void *arg, const uint8_t *data, size_t len) {
  seen *s = arg;
  if (s->n >= 16) return REG_ERANGE;
  s->lens[s->n] = len;
  s->ptrs[s->n] = data;
  memcpy(s->data[s->n], data, len < 64 ? len : 64);
  s->n++;
  if (s->fail_at && s->n == s->fail_at) return REG_ECONFLICT;
  return 0;
}

/* Builds prefix + body into out; returns the total length. */
static size_t frame(uint8_t *out, uint8_t flag, const char *body, size_t len) {
  rpc_frame_prefix(out, (uint32_t)len);
  out[0] = flag;
  memcpy(out + 5, body, len);
  return 5 + len;
}

static void test_whole_messages_in_one_chunk(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 0, "hello", 5);
  n += frame(buf + n, 0, "", 0);
  n += frame(buf + n, 0, "xy", 2);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  assert_int_equal(rpc_deframer_feed(&d, buf, n, on_msg, &s), 0);
  assert_int_equal(s.n, 3);
  assert_int_equal(s.lens[0], 5);
  assert_memory_equal(s.data[0], "hello", 5);
  assert_ptr_equal(s.ptrs[0], buf + 5); /* handed over in place, no copy */
  assert_int_equal(s.lens[1], 0);
  assert_int_equal(s.lens[2], 2);
  assert_memory_equal(s.data[2], "xy", 2);
  assert_true(rpc_deframer_idle(&d));
  assert_null(d.buf);
  rpc_deframer_clear(&d);
}

static void test_split_across_every_byte(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 0, "abcdefgh", 8);
  n += frame(buf + n, 0, "ij", 2);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(rpc_deframer_feed(&d, buf + i, 1, on_msg, &s), 0);
    if (i < 12) assert_int_equal(s.n, 0);
  }
  assert_int_equal(s.n, 2);
  assert_memory_equal(s.data[0], "abcdefgh", 8);
  assert_memory_equal(s.data[1], "ij", 2);
  assert_true(rpc_deframer_idle(&d));
  rpc_deframer_clear(&d);
}

static void test_split_prefix_and_body(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 0, "0123456789", 10);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  assert_int_equal(rpc_deframer_feed(&d, buf, 3, on_msg, &s), 0);   /* part of the prefix */
  assert_false(rpc_deframer_idle(&d));
  assert_int_equal(rpc_deframer_feed(&d, buf + 3, 6, on_msg, &s), 0); /* rest + 4 body */
  assert_int_equal(s.n, 0);
  assert_int_equal(rpc_deframer_feed(&d, buf + 9, n - 9, on_msg, &s), 0);
  assert_int_equal(s.n, 1);
  assert_memory_equal(s.data[0], "0123456789", 10);
  rpc_deframer_clear(&d);
}

static void test_exact_limit_passes(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 0, "0123456789", 10);
  rpc_deframer d;
  rpc_deframer_init(&d, 10, NULL);
  seen s = {0};
  /* split too, so the body buffer of exactly the limit is allocated */
  assert_int_equal(rpc_deframer_feed(&d, buf, 7, on_msg, &s), 0);
  assert_int_equal(rpc_deframer_feed(&d, buf + 7, n - 7, on_msg, &s), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.lens[0], 10);
  rpc_deframer_clear(&d);
}

static void test_over_limit_from_the_prefix_alone(void **st) {
  (void)st;
  uint8_t pfx[5];
  rpc_frame_prefix(pfx, 11);
  rpc_deframer d;
  rpc_deframer_init(&d, 10, NULL);
  seen s = {0};
  /* only the prefix: refused before any body byte arrives or is buffered */
  assert_int_equal(rpc_deframer_feed(&d, pfx, 5, on_msg, &s), REG_ERANGE);
  assert_null(d.buf);
  assert_int_equal(rpc_frame_code(REG_ERANGE), RPC_RESOURCE_EXHAUSTED);
  rpc_deframer_clear(&d);
  /* a 4 GiB announcement, prefix split in two */
  uint8_t big[5] = {0, 0xff, 0xff, 0xff, 0xff};
  rpc_deframer_init(&d, 4u << 20, NULL);
  assert_int_equal(rpc_deframer_feed(&d, big, 2, on_msg, &s), 0);
  assert_int_equal(rpc_deframer_feed(&d, big + 2, 3, on_msg, &s), REG_ERANGE);
  assert_null(d.buf);
  rpc_deframer_clear(&d);
}

static void test_truncated_message_is_not_idle(void **st) {
  (void)st;
  uint8_t buf[64];
  frame(buf, 0, "abcdef", 6);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  assert_int_equal(rpc_deframer_feed(&d, buf, 8, on_msg, &s), 0);
  assert_int_equal(s.n, 0);
  assert_false(rpc_deframer_idle(&d));
  rpc_deframer_clear(&d); /* frees the partial body */
  assert_null(d.buf);
  assert_true(rpc_deframer_idle(&d));
}

static void test_compressed_and_bad_flags(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 1, "zz", 2);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  assert_int_equal(rpc_deframer_feed(&d, buf, n, on_msg, &s), REG_EPERM);
  assert_int_equal(rpc_frame_code(REG_EPERM), RPC_UNIMPLEMENTED);
  assert_int_equal(s.n, 0);
  rpc_deframer_clear(&d);
  n = frame(buf, 7, "zz", 2);
  rpc_deframer_init(&d, 100, NULL);
  assert_int_equal(rpc_deframer_feed(&d, buf, n, on_msg, &s), REG_EINVAL);
  assert_int_equal(rpc_frame_code(REG_EINVAL), RPC_INVALID_ARGUMENT);
  rpc_deframer_clear(&d);
}

static void test_callback_error_stops(void **st) {
  (void)st;
  uint8_t buf[64];
  size_t n = frame(buf, 0, "a", 1);
  n += frame(buf + n, 0, "b", 1);
  rpc_deframer d;
  rpc_deframer_init(&d, 100, NULL);
  seen s = {0};
  s.fail_at = 1;
  assert_int_equal(rpc_deframer_feed(&d, buf, n, on_msg, &s), REG_ECONFLICT);
  assert_int_equal(s.n, 1);
  rpc_deframer_clear(&d);
}

static void test_shared_budget(void **st) {
  (void)st;
  rpc_budget b = {0, 100};
  uint8_t pfx[5];
  rpc_frame_prefix(pfx, 60);
  rpc_deframer d1, d2;
  rpc_deframer_init(&d1, 1000, &b);
  rpc_deframer_init(&d2, 1000, &b);
  seen s = {0};
  assert_int_equal(rpc_deframer_feed(&d1, pfx, 5, on_msg, &s), 0);
  assert_int_equal(b.used, 60);
  assert_int_equal(rpc_deframer_feed(&d2, pfx, 5, on_msg, &s), REG_ENOMEM);
  assert_int_equal(b.used, 60);
  rpc_deframer_clear(&d1);
  assert_int_equal(b.used, 0);
  rpc_deframer_clear(&d2);
  assert_int_equal(b.used, 0);
}

static void test_timeout_units(void **st) {
  (void)st;
  static const struct {
    const char *v;
    int64_t us;
  } ok[] = {
      {"1H", INT64_C(3600000000)}, {"2M", INT64_C(120000000)}, {"3S", 3000000},
      {"100m", 100000},            {"7u", 7},                  {"1500n", 2},
      {"1n", 1},                   {"0m", 0},                  {"00000001S", 1000000},
      {"99999999H", INT64_C(99999999) * 3600 * 1000000},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
    int64_t us = -5;
    assert_int_equal(rpc_timeout_parse(ok[i].v, strlen(ok[i].v), &us), 0);
    assert_int_equal(us, ok[i].us);
  }
}

static void test_timeout_bad_input(void **st) {
  (void)st;
  static const char *const bad[] = {
      "", "S", "1", "12", "1x", "1s", "1h", "-1S", " 1S", "1 S", "1.5S",
      "123456789S", /* 9 digits: over the protocol's 8 */
      "99999999999999999999H", "1SS", "S1",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int64_t us = -5;
    assert_int_equal(rpc_timeout_parse(bad[i], strlen(bad[i]), &us), REG_EINVAL);
    assert_int_equal(us, -5); /* untouched */
  }
  int64_t us = -5;
  assert_int_equal(rpc_timeout_parse(NULL, 0, &us), REG_EINVAL);
}

static void test_pct_encode(void **st) {
  (void)st;
  char out[64];
  assert_int_equal(rpc_pct_encode(out, sizeof(out), "plain text"), 10);
  assert_string_equal(out, "plain text");
  rpc_pct_encode(out, sizeof(out), "100% sure\n");
  assert_string_equal(out, "100%25 sure%0A");
  rpc_pct_encode(out, sizeof(out), "\xc3\xbc");
  assert_string_equal(out, "%C3%BC");
  /* never split an escape: room for "ab" and not for a whole %XX */
  char small[5];
  rpc_pct_encode(small, sizeof(small), "ab%");
  assert_string_equal(small, "ab");
  rpc_pct_encode(out, sizeof(out), NULL);
  assert_string_equal(out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_messages_in_one_chunk),
      cmocka_unit_test(test_split_across_every_byte),
      cmocka_unit_test(test_split_prefix_and_body),
      cmocka_unit_test(test_exact_limit_passes),
      cmocka_unit_test(test_over_limit_from_the_prefix_alone),
      cmocka_unit_test(test_truncated_message_is_not_idle),
      cmocka_unit_test(test_compressed_and_bad_flags),
      cmocka_unit_test(test_callback_error_stops),
      cmocka_unit_test(test_shared_budget),
      cmocka_unit_test(test_timeout_units),
      cmocka_unit_test(test_timeout_bad_input),
      cmocka_unit_test(test_pct_encode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
