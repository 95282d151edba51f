/* tests services/wipe/wipe_cert.c: a real packed WipeCertificateBody signed
 * and verified with fixed Ed25519 keys (from seeds); every bit of the body
 * flipped in turn; a tampered or short signature; an unknown key and a
 * listed key that did not sign; the key's validity window at issue; revoked;
 * an empty or garbage body; and verification across a key rotation. Key
 * ids are the real C2SP ids of "reg.test/certificate". */
#include "tests/unit/sigdoc_test.h"

#include "services/wipe/wipe.h"

#define KEY_NAME "reg.test/certificate"
#define CERT_ID "crt_01JQ3Z5V8R6W2X9Y4T7N0M1K2P"

#define WM(x) REGISTRY__V1__WIPE_METHOD__WIPE_METHOD_##x
#define WT(x) REGISTRY__V1__WIPE_TECHNIQUE__WIPE_TECHNIQUE_##x
#define VF(x) REGISTRY__V1__VERIFICATION__VERIFICATION_##x
#define DS(x) REGISTRY__V1__DESTINATION__DESTINATION_##x
#define WR(x) REGISTRY__V1__WIPE_RESULT__WIPE_RESULT_##x
#define MT(x) REGISTRY__V1__MEDIA_TYPE__MEDIA_TYPE_##x

/* A packed body naming `cert_id`, issued at `issued_s` (+ `nanos`); the
 * caller frees *out. */
static size_t pack_body(const char *cert_id, int64_t issued_s, int32_t nanos, uint8_t **out) {
  Registry__V1__WipeCertificateBody b = REGISTRY__V1__WIPE_CERTIFICATE_BODY__INIT;
  Registry__V1__Device dev = REGISTRY__V1__DEVICE__INIT;
  Registry__V1__Medium m0 = REGISTRY__V1__MEDIUM__INIT, m1 = REGISTRY__V1__MEDIUM__INIT;
  Registry__V1__Medium *media[2] = {&m0, &m1};
  Google__Protobuf__Timestamp issued = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  Google__Protobuf__Timestamp finished = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  static uint8_t ref[32];

  for (size_t i = 0; i < sizeof(ref); i++) ref[i] = (uint8_t)(0xA0 + i);
  issued.seconds = issued_s;
  issued.nanos = nanos;
  started.seconds = issued_s - 7200;
  finished.seconds = issued_s - 3600;
  dev.item_id = "itm_01JQ3Z5V8R6W2X9Y4T7N0M1K2Q";
  dev.brand = "Lenovo";
  dev.model = "ThinkPad T14";
  dev.serial_no = "PF3XK2QZ";
  m0.type = MT(NVME);
  m0.serial_no = "S4EWNX0R123456";
  m0.capacity_bytes = INT64_C(512110190592);
  m1.type = MT(HDD);
  m1.serial_no = "WD-WCC4E1234567";
  m1.capacity_bytes = INT64_C(1000204886016);

  b.certificate_id = (char *)cert_id;
  b.registry_id = "reg.test";
  b.issuer_organization_id = "org_01JQ3Z5V8R6W2X9Y4T7N0M1K2R";
  b.issued_at = &issued;
  b.record_id = "wpr_01JQ3Z5V8R6W2X9Y4T7N0M1K2S";
  b.item_id = dev.item_id;
  b.device = &dev;
  b.n_media = 2;
  b.media = media;
  b.method = WM(PURGE);
  b.technique = WT(OVERWRITE);
  b.passes = 3;
  b.random_pass = 1;
  b.verification = VF(FULL);
  b.verified_percent = 100;
  b.tool_name = "nwipe";
  b.tool_version = "0.34";
  b.operator_name_masked = "Z** W**";
  b.operator_ref.data = ref;
  b.operator_ref.len = sizeof(ref);
  b.started_at = &started;
  b.finished_at = &finished;
  b.performed_at = &finished;
  b.destination = DS(RESALE);
  b.result = WR(SUCCESS);

  return sigdoc_pack(&b.base, out);
}

/* A certificate over body[len] signed by `signer`, listing `key_id`. */
typedef struct tcert {
  Registry__V1__Certificate c;
  uint8_t *body;
  uint8_t sig[64];
} tcert;

static void cert_make(tcert *t, const tkey *signer, const char *key_id, uint8_t *body, size_t len) {
  Registry__V1__Certificate init = REGISTRY__V1__CERTIFICATE__INIT;
  t->c = init;
  t->body = body;
  sigdoc_sign(wipe_cert_sign, signer, key_id, body, len, t->sig, &t->c.body, &t->c.signature,
              &t->c.key_id);
  t->c.id = CERT_ID;
}

static void cert_std(tcert *t, const tkey *signer, int64_t issued_s) {
  uint8_t *body = NULL;
  size_t len = pack_body(CERT_ID, issued_s, 0, &body);
  cert_make(t, signer, signer->k.key_id, body, len);
}

/* The certificate of a tcert, not revoked, verified (sigdoc_verify_fn). */
static void verify_doc(const void *doc, const wipe_cert_key *keys, size_t n, wipe_cert_verdict *v) {
  wipe_cert_verify(&((const tcert *)doc)->c, keys, n, 0, v);
}

static tkey key_a, key_b;

static int setup(void **state) {
  (void)state;
  if (sodium_init() < 0) return -1;
  key_from_seed(&key_a, KEY_NAME, 0x11);
  key_from_seed(&key_b, KEY_NAME, 0x22);
  return 0;
}

static void test_round_trip(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);

  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT_VALID("round trip", &v);
  assert_string_equal(v.key_id, key_a.k.key_id);
  assert_int_equal(strlen(v.key_id), 8);

  /* The signature is exactly Ed25519 over the context ‖ body. */
  sigdoc_signed_in_context(t.sig, WIPE_CERT_CONTEXT, t.body, t.c.body.len, key_a.pk);

  /* The body unpacks to what was packed. */
  Registry__V1__WipeCertificateBody *b =
      registry__v1__wipe_certificate_body__unpack(NULL, t.c.body.len, t.body);
  assert_non_null(b);
  assert_string_equal(b->certificate_id, CERT_ID);
  assert_string_equal(b->operator_name_masked, "Z** W**");
  assert_int_equal(b->operator_ref.len, 32);
  assert_int_equal(b->n_media, 2);
  registry__v1__wipe_certificate_body__free_unpacked(b, NULL);

  /* Deterministic: the same body signs to the same signature. */
  uint8_t sig2[64];
  assert_int_equal(wipe_cert_sign(key_a.sk, t.body, t.c.body.len, sig2), 0);
  assert_memory_equal(sig2, t.sig, 64);
  free(t.body);
}

static void test_sign_args(void **state) {
  (void)state;
  sigdoc_sign_args(wipe_cert_sign, key_a.sk);
}

/* Every bit of the body flipped in turn: never valid, always
 * BAD_SIGNATURE, and otherwise only what a changed body can cause. */
static void test_body_bit_flips(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);
  size_t flips = sigdoc_body_bit_flips(t.body, t.c.body.len, verify_doc, &t, &key_a.k, 1);
  assert_true(flips >= 8 * 200);
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT_VALID("restored", &v);
  free(t.body);
}

/* A tampered body that still parses: BAD_SIGNATURE only. */
static void test_tampered_parses(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);
  uint8_t *p = memmem(t.body, t.c.body.len, "nwipe", 5);
  assert_non_null(p);
  p[0] = 'N';
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("tool name changed", &v, "BAD_SIGNATURE");
  free(t.body);
}

static void test_signature_tampered(void **state) {
  (void)state;
  tcert t;
  cert_std(&t, &key_a, NOW_S);
  sigdoc_signature_flips(t.sig, verify_doc, &t, &key_a.k, 1);
  free(t.body);
}

static void test_signature_length(void **state) {
  (void)state;
  tcert t;
  cert_std(&t, &key_a, NOW_S);
  sigdoc_signature_lengths(&t.c.signature, verify_doc, &t, &key_a.k, 1);
  free(t.body);
}

static void test_unknown_key(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);

  t.c.key_id = "deadbeef";
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("other key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "deadbeef");

  t.c.key_id = key_a.k.key_id;
  wipe_cert_verify(&t.c, &key_b.k, 1, 0, &v);
  EXPECT("signer not listed", &v, "UNKNOWN_KEY");
  wipe_cert_verify(&t.c, NULL, 0, 0, &v);
  EXPECT("no keys", &v, "UNKNOWN_KEY");

  /* A garbled signature is not checked without a key. */
  t.c.key_id = "deadbeef";
  t.sig[0] ^= 0xFF;
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("unknown key, bad signature", &v, "UNKNOWN_KEY");

  /* An over-long or missing key id: unknown, reported truncated. */
  t.c.key_id = "0123456789abcdef0123";
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("long key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "01234567");
  t.c.key_id = NULL;
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("no key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "");
  free(t.body);
}

/* The certificate names key B (listed) but A signed: BAD_SIGNATURE. */
static void test_listed_key_did_not_sign(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  wipe_cert_key keys[2] = {key_a.k, key_b.k};
  uint8_t *body = NULL;
  size_t len = pack_body(CERT_ID, NOW_S, 0, &body);
  cert_make(&t, &key_a, key_b.k.key_id, body, len);
  wipe_cert_verify(&t.c, keys, 2, 0, &v);
  EXPECT("key B named, A signed", &v, "BAD_SIGNATURE");
  wipe_cert_verify(&t.c, &key_b.k, 1, 0, &v);
  EXPECT("only B listed", &v, "BAD_SIGNATURE");

  /* Two listed keys sharing an id (a 4-byte collision): the one that
   * verifies is found whichever comes first. */
  wipe_cert_key same[2] = {key_b.k, key_a.k};
  memcpy(same[1].key_id, key_b.k.key_id, sizeof(same[1].key_id));
  wipe_cert_verify(&t.c, same, 2, 0, &v);
  EXPECT_VALID("colliding ids", &v);
  free(body);
}

static void test_validity_window(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  wipe_cert_key k = key_a.k;
  uint8_t *body = NULL;
  k.valid_from_us = NOW_S * S_US;
  k.valid_until_us = (NOW_S + DAY_S) * S_US;

  cert_std(&t, &key_a, NOW_S - 1);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT("before valid_from", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);

  /* 1 µs before valid_from. */
  size_t len = pack_body(CERT_ID, NOW_S - 1, 999999000, &body);
  cert_make(&t, &key_a, key_a.k.key_id, body, len);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT("1 us before valid_from", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(body);

  cert_std(&t, &key_a, NOW_S);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT_VALID("at valid_from", &v);
  free(t.body);

  cert_std(&t, &key_a, NOW_S + DAY_S / 2);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT_VALID("inside", &v);
  free(t.body);

  len = pack_body(CERT_ID, NOW_S + DAY_S - 1, 999999000, &body);
  cert_make(&t, &key_a, key_a.k.key_id, body, len);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT_VALID("last microsecond", &v);
  free(body);

  cert_std(&t, &key_a, NOW_S + DAY_S);
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT("at valid_until", &v, "KEY_NOT_VALID_AT_ISSUE");
  /* Open bounds: 0 means unknown / still current. */
  k.valid_until_us = 0;
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT_VALID("no valid_until", &v);
  free(t.body);

  cert_std(&t, &key_a, INT64_C(-62135596800));
  k.valid_from_us = 0;
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT_VALID("year 1, no bounds", &v);
  k.valid_from_us = 1;
  wipe_cert_verify(&t.c, &k, 1, 0, &v);
  EXPECT("year 1, valid_from set", &v, "KEY_NOT_VALID_AT_ISSUE");
  /* And with every other reason at once. */
  t.c.id = "crt_other";
  wipe_cert_verify(&t.c, &k, 1, 1, &v);
  EXPECT("all at once", &v, "ID_MISMATCH", "KEY_NOT_VALID_AT_ISSUE", "REVOKED");
  free(t.body);
}

static void test_revoked(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);
  wipe_cert_verify(&t.c, &key_a.k, 1, 1, &v);
  EXPECT("revoked", &v, "REVOKED");
  assert_int_equal(v.valid, 0);
  t.sig[5] ^= 0x40;
  wipe_cert_verify(&t.c, &key_a.k, 1, 1, &v);
  EXPECT("revoked and tampered", &v, "BAD_SIGNATURE", "REVOKED");
  free(t.body);
}

static void test_id_mismatch(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  cert_std(&t, &key_a, NOW_S);
  t.c.id = "crt_01JQ3Z5V8R6W2X9Y4T7N0M1K2Z";
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("other id", &v, "ID_MISMATCH");
  t.c.id = NULL;
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("no id", &v, "ID_MISMATCH");
  free(t.body);
}

static void test_malformed_body(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;

  /* Empty body, even when signed: nothing to certify. */
  cert_make(&t, &key_a, key_a.k.key_id, NULL, 0);
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("empty body, signed", &v, "BODY_MALFORMED");
  t.sig[0] ^= 1;
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("empty body, bad signature", &v, "BODY_MALFORMED", "BAD_SIGNATURE");

  /* Bytes that are no protobuf message (a truncated length-delimited
   * field), signed: malformed, signature fine. */
  uint8_t junk[] = {0x0a, 0x7f, 'c', 'r', 't'};
  cert_make(&t, &key_a, key_a.k.key_id, junk, sizeof(junk));
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("junk", &v, "BODY_MALFORMED");
  wipe_cert_verify(&t.c, &key_b.k, 1, 1, &v);
  EXPECT("junk, unknown key, revoked", &v, "BODY_MALFORMED", "UNKNOWN_KEY", "REVOKED");

  /* A body without issued_at, or with one outside Timestamp's range. */
  Registry__V1__WipeCertificateBody b = REGISTRY__V1__WIPE_CERTIFICATE_BODY__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  uint8_t buf[128];
  b.certificate_id = CERT_ID;
  size_t len = registry__v1__wipe_certificate_body__pack(&b, buf);
  cert_make(&t, &key_a, key_a.k.key_id, buf, len);
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("no issued_at", &v, "BODY_MALFORMED");
  b.issued_at = &ts;
  ts.seconds = NOW_S;
  ts.nanos = 1000000000;
  len = registry__v1__wipe_certificate_body__pack(&b, buf);
  cert_make(&t, &key_a, key_a.k.key_id, buf, len);
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("nanos out of range", &v, "BODY_MALFORMED");
  ts.seconds = INT64_MAX;
  ts.nanos = 0;
  len = registry__v1__wipe_certificate_body__pack(&b, buf);
  cert_make(&t, &key_a, key_a.k.key_id, buf, len);
  wipe_cert_verify(&t.c, &key_a.k, 1, 0, &v);
  EXPECT("seconds out of range", &v, "BODY_MALFORMED");

  /* No certificate at all. */
  wipe_cert_verify(NULL, &key_a.k, 1, 0, &v);
  EXPECT("NULL certificate", &v, "BODY_MALFORMED");
}

/* After a rotation both keys are listed, the old one closed: a certificate
 * the old key signed inside its window still verifies; one it signed
 * after rotation does not; the new key signs new ones. */
static void test_rotation(void **state) {
  (void)state;
  tcert t;
  wipe_cert_verdict v;
  const int64_t rotated_s = NOW_S;
  wipe_cert_key keys[2] = {key_b.k, key_a.k}; /* new first, as listed */
  keys[1].valid_from_us = (rotated_s - 365 * DAY_S) * S_US;
  keys[1].valid_until_us = rotated_s * S_US;
  keys[0].valid_from_us = rotated_s * S_US;

  cert_std(&t, &key_a, rotated_s - 30 * DAY_S);
  wipe_cert_verify(&t.c, keys, 2, 0, &v);
  EXPECT_VALID("old certificate, old key", &v);
  assert_string_equal(v.key_id, key_a.k.key_id);
  free(t.body);

  cert_std(&t, &key_a, rotated_s + 60);
  wipe_cert_verify(&t.c, keys, 2, 0, &v);
  EXPECT("old key after rotation", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);

  cert_std(&t, &key_b, rotated_s + 60);
  wipe_cert_verify(&t.c, keys, 2, 0, &v);
  EXPECT_VALID("new key", &v);
  free(t.body);

  cert_std(&t, &key_b, rotated_s - 60);
  wipe_cert_verify(&t.c, keys, 2, 0, &v);
  EXPECT("new key before it existed", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_sign_args),
      cmocka_unit_test(test_body_bit_flips),
      cmocka_unit_test(test_tampered_parses),
      cmocka_unit_test(test_signature_tampered),
      cmocka_unit_test(test_signature_length),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_listed_key_did_not_sign),
      cmocka_unit_test(test_validity_window),
      cmocka_unit_test(test_revoked),
      cmocka_unit_test(test_id_mismatch),
      cmocka_unit_test(test_malformed_body),
      cmocka_unit_test(test_rotation),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
