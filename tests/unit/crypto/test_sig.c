/*
 * Unit tests of crypto/sig.c: key ids and vkeys against the C2SP vector in
 * tests/data/signed_note.json, vkey parsing and its refusals, signing with
 * a context, purposes and key names; the shared half of document verdicts
 * (Timestamp → µs, the listed-key search).
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

#include "crypto/sig.h"

typedef struct fx {
  json_t *doc;
  const char *vkey;
  const char *key_id_hex;
} fx;

static int setup(void **state) {
  static fx f;
  char path[1024];
  const char *dir = getenv("REG_TEST_DATA");
  json_error_t err;

  snprintf(path, sizeof(path), "%s/signed_note.json", dir ? dir : "tests/data");
  f.doc = json_load_file(path, 0, &err);
  if (!f.doc) {
    fprintf(stderr, "%s: %s\n", path, err.text);
    return -1;
  }
  f.vkey = json_string_value(json_object_get(f.doc, "vkey"));
  f.key_id_hex = json_string_value(json_object_get(f.doc, "key_id_hex"));
  if (!f.vkey || !f.key_id_hex) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  json_decref(f->doc);
  return 0;
}

static void test_vector_key_id_and_vkey(void **state) {
  fx *f = *state;
  char name[64], hex[9], vkey[128];
  uint8_t id[4], id2[4], pk[32];

  assert_int_equal(sig_vkey_parse(f->vkey, name, sizeof(name), id, pk), 0);
  assert_string_equal(name, "example.com/foo");
  sig_key_id_hex(id, hex);
  assert_string_equal(hex, f->key_id_hex);
  /* recomputed from name and public key, not just read back */
  assert_int_equal(sig_key_id(name, pk, id2), 0);
  sig_key_id_hex(id2, hex);
  assert_string_equal(hex, f->key_id_hex);
  assert_int_equal(sig_vkey(name, pk, vkey, sizeof(vkey)), 0);
  assert_string_equal(vkey, f->vkey);
  assert_int_equal(strlen(vkey), strlen(name) + 54);
  assert_int_equal(sig_vkey(name, pk, vkey, strlen(name) + 54), REG_ERANGE);
  assert_int_equal(sig_vkey_parse(f->vkey, name, strlen("example.com/foo"), id, pk), REG_ERANGE);
}

static void test_vkey_refusals(void **state) {
  fx *f = *state;
  char name[64] = "untouched", buf[128];
  uint8_t id[4], pk[32];
  static const char *const bad[] = {
      "",
      "example.com/foo",
      "example.com/foo+530d903a",
      "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* wrong id */
      "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* other name */
      "example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", /* alg 2 */
      "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2",  /* short */
      "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=",
      "example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
      "example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
      "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
      "example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
  };

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    print_message("bad[%zu] = \"%s\"\n", i, bad[i]);
    assert_int_equal(sig_vkey_parse(bad[i], name, sizeof(name), id, pk), REG_EINVAL);
    assert_string_equal(name, "untouched");
  }
  /* upper-case hex is accepted, as by the reference implementation */
  snprintf(buf, sizeof(buf), "%s", f->vkey);
  for (char *p = strchr(buf, '+') + 1; *p != '+'; p++)
    if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 'a' + 'A');
  assert_int_equal(sig_vkey_parse(buf, name, sizeof(name), id, pk), 0);
}

static void test_sign_verify_context(void **state) {
  uint8_t pk[32], sk[64], sig[64], pk2[32], sk2[64];
  static const uint8_t msg[] = "crt_01 certificate body";
  (void)state;

  assert_int_equal(sig_keypair_new(pk, sk), 0);
  assert_memory_equal(sk + 32, pk, 32);
  assert_int_equal(sig_sign(sk, SIG_CONTEXT_WIPE_CERTIFICATE, msg, sizeof(msg), sig), 0);
  assert_int_equal(sig_verify(pk, SIG_CONTEXT_WIPE_CERTIFICATE, msg, sizeof(msg), sig), 0);
  assert_int_equal(sig_verify(pk, NULL, msg, sizeof(msg), sig), REG_ECRYPTO);
  assert_int_equal(sig_verify(pk, "registry.v1.Invoice\n", msg, sizeof(msg), sig), REG_ECRYPTO);
  assert_int_equal(sig_verify(pk, SIG_CONTEXT_WIPE_CERTIFICATE, msg, sizeof(msg) - 1, sig),
                   REG_ECRYPTO);
  sig[10] ^= 4;
  assert_int_equal(sig_verify(pk, SIG_CONTEXT_WIPE_CERTIFICATE, msg, sizeof(msg), sig),
                   REG_ECRYPTO);
  sig[10] ^= 4;
  assert_int_equal(sig_keypair_new(pk2, sk2), 0);
  assert_memory_not_equal(pk, pk2, 32);
  assert_int_equal(sig_verify(pk2, SIG_CONTEXT_WIPE_CERTIFICATE, msg, sizeof(msg), sig),
                   REG_ECRYPTO);

  /* context "" is the same as none: the message alone */
  assert_int_equal(sig_sign(sk, "", msg, sizeof(msg), sig), 0);
  assert_int_equal(sig_verify(pk, NULL, msg, sizeof(msg), sig), 0);
  /* context ‖ msg is what is signed */
  assert_int_equal(sig_sign(sk, "ab", (const uint8_t *)"cd", 2, sig), 0);
  assert_int_equal(sig_verify(pk, NULL, (const uint8_t *)"abcd", 4, sig), 0);
  assert_int_equal(sig_sign(sk, NULL, NULL, 0, sig), 0);
  assert_int_equal(sig_verify(pk, NULL, NULL, 0, sig), 0);
}

static void test_purposes_and_names(void **state) {
  char out[64] = "keep";
  int p = 0;
  (void)state;

  assert_string_equal(sig_purpose_name(SIG_PURPOSE_CERTIFICATE), "CERTIFICATE");
  assert_string_equal(sig_purpose_name(SIG_PURPOSE_INVOICE), "INVOICE");
  assert_string_equal(sig_purpose_name(SIG_PURPOSE_LOG), "LOG");
  assert_null(sig_purpose_name(0));
  assert_null(sig_purpose_name(4));
  assert_int_equal(sig_purpose_parse("log", &p), 0);
  assert_int_equal(p, SIG_PURPOSE_LOG);
  assert_int_equal(sig_purpose_parse("Invoice", &p), 0);
  assert_int_equal(p, SIG_PURPOSE_INVOICE);
  assert_int_equal(sig_purpose_parse("CERTIFICATE", &p), 0);
  assert_int_equal(p, SIG_PURPOSE_CERTIFICATE);
  assert_int_equal(sig_purpose_parse("cert", &p), REG_EINVAL);
  assert_int_equal(p, SIG_PURPOSE_CERTIFICATE);

  assert_int_equal(sig_key_name("reg.example.cn", SIG_PURPOSE_CERTIFICATE, out, sizeof(out)), 0);
  assert_string_equal(out, "reg.example.cn/certificate");
  assert_int_equal(sig_key_name("reg.example.cn", SIG_PURPOSE_INVOICE, out, sizeof(out)), 0);
  assert_string_equal(out, "reg.example.cn/invoice");
  assert_int_equal(sig_key_name("reg.example.cn", SIG_PURPOSE_LOG, out, sizeof(out)), 0);
  assert_string_equal(out, "reg.example.cn");
  assert_int_equal(sig_key_name("reg.example.cn", 0, out, sizeof(out)), REG_EINVAL);
  assert_int_equal(sig_key_name("reg example", SIG_PURPOSE_LOG, out, sizeof(out)), REG_EINVAL);
  assert_int_equal(sig_key_name("reg+x", SIG_PURPOSE_LOG, out, sizeof(out)), REG_EINVAL);
  assert_int_equal(sig_key_name("", SIG_PURPOSE_LOG, out, sizeof(out)), REG_EINVAL);
  assert_int_equal(sig_key_name("reg.example.cn", SIG_PURPOSE_INVOICE, out, 22), REG_ERANGE);
  assert_string_equal(out, "reg.example.cn");
}

static void test_key_name_check(void **state) {
  static const char *const good[] = {"example.com/foo", "登记.example", "a"};
  static const char *const bad[] = {"", "a b", "a+b", "a\tb", "a\nb", "a\xC2\xA0" "b",
                                    "a\xE3\x80\x80" "b", "\xC0\xAF", "\xED\xA0\x80", "a\xE2\x80"};
  (void)state;

  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_int_equal(sig_key_name_check(good[i], strlen(good[i])), 0);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    print_message("bad[%zu]\n", i);
    assert_int_equal(sig_key_name_check(bad[i], strlen(bad[i])), REG_EINVAL);
  }
}

static void test_timestamp_us(void **state) {
  int64_t us = 7;
  (void)state;

  assert_int_equal(sig_timestamp_us(0, 0, &us), 0);
  assert_true(us == 0);
  assert_int_equal(sig_timestamp_us(1, 999999999, &us), 0);
  assert_true(us == INT64_C(1999999));
  assert_int_equal(sig_timestamp_us(INT64_C(-62135596800), 0, &us), 0);
  assert_true(us == INT64_C(-62135596800000000));
  assert_int_equal(sig_timestamp_us(INT64_C(253402300799), 999999999, &us), 0);
  assert_true(us == INT64_C(253402300799999999));
  us = 7;
  assert_int_equal(sig_timestamp_us(INT64_C(-62135596801), 0, &us), REG_ERANGE);
  assert_int_equal(sig_timestamp_us(INT64_C(253402300800), 0, &us), REG_ERANGE);
  assert_int_equal(sig_timestamp_us(INT64_MAX, 0, &us), REG_ERANGE);
  assert_int_equal(sig_timestamp_us(0, -1, &us), REG_ERANGE);
  assert_int_equal(sig_timestamp_us(0, 1000000000, &us), REG_ERANGE);
  assert_true(us == 7);
  assert_int_equal(sig_timestamp_us(0, 0, NULL), REG_EINVAL);
}

static void test_verdict_add_cap(void **state) {
  sig_verdict v;
  (void)state;

  sig_verdict_init(&v, "0123456789");
  assert_string_equal(v.key_id, "01234567");
  assert_int_equal(v.n_reasons, 0);
  for (int i = 0; i < SIG_REASONS_MAX + 3; i++) sig_verdict_add(&v, SIG_R_REVOKED);
  assert_int_equal(v.n_reasons, SIG_REASONS_MAX);
  sig_verdict_init(&v, NULL);
  assert_string_equal(v.key_id, "");
}

static void test_verify_listed(void **state) {
  static const uint8_t body[] = "a signed body";
  sig_key k[2];
  uint8_t sk[2][64], sig[64], id[4];
  sig_verdict v;
  (void)state;

  memset(k, 0, sizeof(k));
  for (int i = 0; i < 2; i++) {
    assert_int_equal(sig_keypair_new(k[i].pk, sk[i]), 0);
    assert_int_equal(sig_key_id("reg.example.cn/invoice", k[i].pk, id), 0);
    sig_key_id_hex(id, k[i].key_id);
  }
  /* a collision: both listed keys have the id; the second one signed */
  memcpy(k[0].key_id, k[1].key_id, sizeof(k[0].key_id));
  k[1].valid_from_us = 100;
  k[1].valid_until_us = 200;
  assert_int_equal(sig_sign(sk[1], "ctx\n", body, sizeof(body), sig), 0);

  sig_verdict_init(&v, k[1].key_id);
  assert_ptr_equal(sig_verify_listed(k, 2, k[1].key_id, "ctx\n", body, sizeof(body), sig,
                                     sizeof(sig), 1, 150, &v),
                   &k[1]);
  assert_int_equal(v.n_reasons, 0);
  /* at_us outside [100, 200): asked of the signer */
  sig_verdict_init(&v, k[1].key_id);
  assert_non_null(sig_verify_listed(k, 2, k[1].key_id, "ctx\n", body, sizeof(body), sig,
                                    sizeof(sig), 1, 200, &v));
  assert_int_equal(v.n_reasons, 1);
  assert_string_equal(v.reasons[0], SIG_R_KEY_NOT_VALID_AT_ISSUE);
  /* no issue time: no window asked */
  sig_verdict_init(&v, k[1].key_id);
  assert_non_null(sig_verify_listed(k, 2, k[1].key_id, "ctx\n", body, sizeof(body), sig,
                                    sizeof(sig), 0, 50, &v));
  assert_int_equal(v.n_reasons, 0);
  /* another context, a short signature, only the other key: BAD_SIGNATURE */
  sig_verdict_init(&v, k[1].key_id);
  assert_null(sig_verify_listed(k, 2, k[1].key_id, "other\n", body, sizeof(body), sig,
                                sizeof(sig), 1, 150, &v));
  sig_verify_listed(k, 2, k[1].key_id, "ctx\n", body, sizeof(body), sig, 63, 1, 150, &v);
  sig_verify_listed(k, 1, k[1].key_id, "ctx\n", body, sizeof(body), sig, sizeof(sig), 1, 150,
                    &v);
  assert_int_equal(v.n_reasons, 3);
  for (size_t i = 0; i < 3; i++) assert_string_equal(v.reasons[i], SIG_R_BAD_SIGNATURE);
  /* unknown id (also a longer one with the same prefix), no keys at all */
  sig_verdict_init(&v, "deadbeef");
  assert_null(sig_verify_listed(k, 2, "deadbeef", "ctx\n", body, sizeof(body), sig, sizeof(sig),
                                1, 150, &v));
  char longer[16];
  snprintf(longer, sizeof(longer), "%s0", k[1].key_id);
  assert_null(sig_verify_listed(k, 2, longer, "ctx\n", body, sizeof(body), sig, sizeof(sig), 1,
                                150, &v));
  assert_null(sig_verify_listed(NULL, 0, NULL, "ctx\n", body, sizeof(body), sig, sizeof(sig), 1,
                                150, &v));
  assert_int_equal(v.n_reasons, 3);
  for (size_t i = 0; i < 3; i++) assert_string_equal(v.reasons[i], SIG_R_UNKNOWN_KEY);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_key_id_and_vkey),
      cmocka_unit_test(test_vkey_refusals),
      cmocka_unit_test(test_sign_verify_context),
      cmocka_unit_test(test_purposes_and_names),
      cmocka_unit_test(test_key_name_check),
      cmocka_unit_test(test_timestamp_us),
      cmocka_unit_test(test_verdict_add_cap),
      cmocka_unit_test(test_verify_listed),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
