/*
 * Unit tests for services/rpc/rpc_status.c: status code names, the
 * rpc_fail* helpers, rpc_status_encode (decoded back with the generated
 * google.rpc.Status, Any, BadRequest, ErrorInfo and RetryInfo code) and
 * the trailer as it goes on the wire (percent-encoded message, unpadded
 * base64 details).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "services/base/err.h"
#include "services/rpc/rpc.h"
#include "services/rpc/rpc_wire.h"

static Google__Rpc__Status *encode_decode(const rpc_status *st) {
  uint8_t *bin = NULL;
  size_t len = 0;
  assert_int_equal(rpc_status_encode(st, &bin, &len), 0);
  Google__Rpc__Status *s = google__rpc__status__unpack(NULL, len, bin);
  free(bin);
  assert_non_null(s);
  return s;
}

static void test_code_names(void **state) {
  (void)state;
  assert_string_equal(rpc_code_name(RPC_OK), "OK");
  assert_string_equal(rpc_code_name(RPC_CANCELLED), "CANCELLED");
  assert_string_equal(rpc_code_name(RPC_INVALID_ARGUMENT), "INVALID_ARGUMENT");
  assert_string_equal(rpc_code_name(RPC_DEADLINE_EXCEEDED), "DEADLINE_EXCEEDED");
  assert_string_equal(rpc_code_name(RPC_NOT_FOUND), "NOT_FOUND");
  assert_string_equal(rpc_code_name(RPC_ALREADY_EXISTS), "ALREADY_EXISTS");
  assert_string_equal(rpc_code_name(RPC_PERMISSION_DENIED), "PERMISSION_DENIED");
  assert_string_equal(rpc_code_name(RPC_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
  assert_string_equal(rpc_code_name(RPC_FAILED_PRECONDITION), "FAILED_PRECONDITION");
  assert_string_equal(rpc_code_name(RPC_ABORTED), "ABORTED");
  assert_string_equal(rpc_code_name(RPC_OUT_OF_RANGE), "OUT_OF_RANGE");
  assert_string_equal(rpc_code_name(RPC_UNIMPLEMENTED), "UNIMPLEMENTED");
  assert_string_equal(rpc_code_name(RPC_INTERNAL), "INTERNAL");
  assert_string_equal(rpc_code_name(RPC_UNAVAILABLE), "UNAVAILABLE");
  assert_string_equal(rpc_code_name(RPC_DATA_LOSS), "DATA_LOSS");
  assert_string_equal(rpc_code_name(RPC_UNAUTHENTICATED), "UNAUTHENTICATED");
  assert_string_equal(rpc_code_name((rpc_code)17), "UNKNOWN");
  assert_string_equal(rpc_code_name((rpc_code)-1), "UNKNOWN");
}

static void test_plain_error(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  assert_int_equal(rpc_fail(&st, RPC_NOT_FOUND, "no item %s", "itm_1"), -1);
  Google__Rpc__Status *s = encode_decode(&st);
  assert_int_equal(s->code, RPC_NOT_FOUND);
  assert_string_equal(s->message, "no item itm_1");
  assert_int_equal(s->n_details, 0);
  google__rpc__status__free_unpacked(s, NULL);
}

static void test_bad_request(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  assert_int_equal(rpc_fail_field(&st, "vehicle.vin", "must be 17 characters, got %d", 5), -1);
  assert_int_equal(rpc_fail_field(&st, "lines[2].description", "not valid UTF-8"), -1);
  assert_int_equal(st.code, RPC_INVALID_ARGUMENT);
  assert_string_equal(st.message, "vehicle.vin: must be 17 characters, got 5");
  Google__Rpc__Status *s = encode_decode(&st);
  assert_int_equal(s->code, RPC_INVALID_ARGUMENT);
  assert_int_equal(s->n_details, 1);
  assert_string_equal(s->details[0]->type_url, "type.googleapis.com/google.rpc.BadRequest");
  Google__Rpc__BadRequest *br = google__rpc__bad_request__unpack(
      NULL, s->details[0]->value.len, s->details[0]->value.data);
  assert_non_null(br);
  assert_int_equal(br->n_field_violations, 2);
  assert_string_equal(br->field_violations[0]->field, "vehicle.vin");
  assert_string_equal(br->field_violations[0]->description, "must be 17 characters, got 5");
  assert_string_equal(br->field_violations[1]->field, "lines[2].description");
  google__rpc__bad_request__free_unpacked(br, NULL);
  google__rpc__status__free_unpacked(s, NULL);
}

static void test_violations_are_capped(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  for (int i = 0; i < RPC_MAX_VIOLATIONS + 5; i++) (void)rpc_fail_field(&st, "f", "bad %d", i);
  assert_int_equal(st.n_violations, RPC_MAX_VIOLATIONS);
}

static void test_error_info(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  assert_int_equal(rpc_fail_reason(&st, RPC_FAILED_PRECONDITION, "SELLER_CAP_EXCEEDED",
                                   "cap of %d fen exceeded", 100),
                   -1);
  rpc_status_add_meta(&st, "cap_fen", "10000000");
  rpc_status_add_meta(&st, "current_total_fen", "9999999");
  Google__Rpc__Status *s = encode_decode(&st);
  assert_int_equal(s->code, RPC_FAILED_PRECONDITION);
  assert_string_equal(s->message, "cap of 100 fen exceeded");
  assert_int_equal(s->n_details, 1);
  assert_string_equal(s->details[0]->type_url, "type.googleapis.com/google.rpc.ErrorInfo");
  Google__Rpc__ErrorInfo *ei = google__rpc__error_info__unpack(NULL, s->details[0]->value.len,
                                                               s->details[0]->value.data);
  assert_non_null(ei);
  assert_string_equal(ei->reason, "SELLER_CAP_EXCEEDED");
  assert_string_equal(ei->domain, "registry.v1");
  assert_int_equal(ei->n_metadata, 2);
  assert_string_equal(ei->metadata[0]->key, "cap_fen");
  assert_string_equal(ei->metadata[0]->value, "10000000");
  assert_string_equal(ei->metadata[1]->key, "current_total_fen");
  assert_string_equal(ei->metadata[1]->value, "9999999");
  google__rpc__error_info__free_unpacked(ei, NULL);
  google__rpc__status__free_unpacked(s, NULL);
}

static void test_retry_info_with_error_info(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  (void)rpc_fail_reason(&st, RPC_RESOURCE_EXHAUSTED, "RATE_LIMITED", "slow down");
  rpc_status_set_retry(&st, 1500);
  Google__Rpc__Status *s = encode_decode(&st);
  assert_int_equal(s->n_details, 2);
  assert_string_equal(s->details[0]->type_url, "type.googleapis.com/google.rpc.ErrorInfo");
  assert_string_equal(s->details[1]->type_url, "type.googleapis.com/google.rpc.RetryInfo");
  Google__Rpc__RetryInfo *ri = google__rpc__retry_info__unpack(NULL, s->details[1]->value.len,
                                                               s->details[1]->value.data);
  assert_non_null(ri);
  assert_non_null(ri->retry_delay);
  assert_int_equal(ri->retry_delay->seconds, 1);
  assert_int_equal(ri->retry_delay->nanos, 500000000);
  google__rpc__retry_info__free_unpacked(ri, NULL);
  google__rpc__status__free_unpacked(s, NULL);
}

static void test_meta_capped_and_truncated(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  char longv[400];
  memset(longv, 'v', sizeof(longv) - 1);
  longv[sizeof(longv) - 1] = 0;
  for (int i = 0; i < RPC_MAX_META + 3; i++) rpc_status_add_meta(&st, "k", longv);
  assert_int_equal(st.n_meta, RPC_MAX_META);
  assert_int_equal(strlen(st.meta[0].value), sizeof(st.meta[0].value) - 1);
}

static void test_trailer_ok_is_bare(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  rpc_trailer t;
  assert_int_equal(rpc_trailer_build(&t, &st), 0);
  assert_int_equal(t.code, RPC_OK);
  assert_null(t.block);
  assert_int_equal(t.msg_len, 0);
  assert_int_equal(t.det_len, 0);
  rpc_trailer_clear(&t);
}

static void test_trailer_error(void **state) {
  (void)state;
  rpc_status st;
  rpc_status_init(&st);
  (void)rpc_fail_field(&st, "seller.person.name", "not valid UTF-8: 100%%");
  rpc_trailer t;
  assert_int_equal(rpc_trailer_build(&t, &st), 0);
  assert_int_equal(t.code, RPC_INVALID_ARGUMENT);
  assert_string_equal(rpc_trailer_msg(&t), "seller.person.name: not valid UTF-8: 100%25");
  assert_int_equal(t.msg_len, strlen(rpc_trailer_msg(&t)));
  const char *b64 = rpc_trailer_details(&t);
  assert_int_equal(t.det_len, strlen(b64));
  assert_null(strchr(b64, '=')); /* unpadded */
  uint8_t bin[4096];
  size_t bin_len = 0;
  assert_int_equal(sodium_base642bin(bin, sizeof(bin), b64, t.det_len, NULL, &bin_len, NULL,
                                     sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                   0);
  Google__Rpc__Status *s = google__rpc__status__unpack(NULL, bin_len, bin);
  assert_non_null(s);
  assert_int_equal(s->code, RPC_INVALID_ARGUMENT);
  assert_string_equal(s->message, "seller.person.name: not valid UTF-8: 100%");
  assert_int_equal(s->n_details, 1);
  google__rpc__status__free_unpacked(s, NULL);
  rpc_trailer_clear(&t);
  assert_null(t.block);
}

static void test_trailer_simple(void **state) {
  (void)state;
  rpc_trailer t;
  rpc_trailer_simple(&t, RPC_UNIMPLEMENTED, "unknown method /x.Y/Z");
  assert_int_equal(t.code, RPC_UNIMPLEMENTED);
  assert_string_equal(rpc_trailer_msg(&t), "unknown method /x.Y/Z");
  assert_true(t.det_len > 0); /* every error carries the details header */
  rpc_trailer_clear(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_code_names),
      cmocka_unit_test(test_plain_error),
      cmocka_unit_test(test_bad_request),
      cmocka_unit_test(test_violations_are_capped),
      cmocka_unit_test(test_error_info),
      cmocka_unit_test(test_retry_info_with_error_info),
      cmocka_unit_test(test_meta_capped_and_truncated),
      cmocka_unit_test(test_trailer_ok_is_bare),
      cmocka_unit_test(test_trailer_error),
      cmocka_unit_test(test_trailer_simple),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
