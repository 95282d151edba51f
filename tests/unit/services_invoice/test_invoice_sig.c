/* tests services/invoice/invoice_sig.c: a real packed ReverseInvoiceBody
 * signed and verified with fixed Ed25519 keys (from seeds); every bit of the
 * body flipped in turn and a one-byte change that still parses; a tampered
 * or short signature; a signature over the body in another context; an
 * unknown key and a listed key that did not sign; the key's validity window
 * at issue; an id mismatch; an empty or garbage body; and verification
 * across a key rotation. Key ids are the real C2SP ids of
 * "reg.test/invoice". Modelled on tests/unit/services_wipe/test_wipe_cert.c. */
#include "tests/unit/sigdoc_test.h"

#include "services/invoice/invoice.h"
#include "services/invoice/invoice_sig.h"

#define KEY_NAME "reg.test/invoice"
#define INV_ID "inv_01JQ3Z5V8R6W2X9Y4T7N0M1K2P"

#define KIND(x) REGISTRY__V1__INVOICE_KIND__INVOICE_KIND_##x
#define CAT(x) REGISTRY__V1__INVOICE_CATEGORY__INVOICE_CATEGORY_##x
#define UNIT(x) REGISTRY__V1__QUANTITY_UNIT__QUANTITY_UNIT_##x

/* A packed body naming `inv_id`, issued at `issued_s` (+ `nanos`), as
 * store_invoice (invoice_rpc.c) builds it; the caller frees *out. */
static size_t pack_body(const char *inv_id, int64_t issued_s, int32_t nanos, uint8_t **out) {
  Registry__V1__ReverseInvoiceBody b = REGISTRY__V1__REVERSE_INVOICE_BODY__INIT;
  Registry__V1__InvoiceLine l0 = REGISTRY__V1__INVOICE_LINE__INIT;
  Registry__V1__InvoiceLine l1 = REGISTRY__V1__INVOICE_LINE__INIT;
  Registry__V1__InvoiceLine *lines[2] = {&l0, &l1};
  Google__Protobuf__Timestamp issued = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  static uint8_t ref[32];

  for (size_t i = 0; i < sizeof(ref); i++) ref[i] = (uint8_t)(0xA0 + i);
  issued.seconds = issued_s;
  issued.nanos = nanos;
  l0.category = CAT(SCRAP_METAL);
  l0.description = "copper wire";
  l0.quantity_milli = 12500;
  l0.unit = UNIT(KG);
  l0.unit_price_fen = 5600;
  l0.amount_fen = 70000;
  l1.category = CAT(SCRAP_PAPER);
  l1.description = "cardboard";
  l1.quantity_milli = 300000;
  l1.unit = UNIT(KG);
  l1.unit_price_fen = 120;
  l1.amount_fen = 36000;

  b.invoice_id = (char *)inv_id;
  b.invoice_number = "26140000001000000042";
  b.registry_id = "reg.test";
  b.kind = KIND(BLUE);
  b.issuer_organization_id = "org_01JQ3Z5V8R6W2X9Y4T7N0M1K2R";
  b.seller_name_masked = "Z**";
  b.seller_id_number_masked = "110***********001X";
  b.seller_ref.data = ref;
  b.seller_ref.len = sizeof(ref);
  b.n_lines = 2;
  b.lines = lines;
  b.amount_fen = 106000;
  b.vat_rate_bp = 0;
  b.vat_fen = 0;
  b.income_tax_rate_bp = 50;
  b.income_tax_fen = 530;
  b.total_fen = 106000;
  b.issued_on = "2026-03-15";
  b.issued_at = &issued;

  return sigdoc_pack(&b.base, out);
}

/* An invoice over body[len] signed by `signer`, listing `key_id`. */
typedef struct tinv {
  Registry__V1__Invoice c;
  uint8_t *body;
  uint8_t sig[64];
} tinv;

static void inv_make(tinv *t, const tkey *signer, const char *key_id, uint8_t *body, size_t len) {
  Registry__V1__Invoice init = REGISTRY__V1__INVOICE__INIT;
  t->c = init;
  t->body = body;
  sigdoc_sign(invoice_sign, signer, key_id, body, len, t->sig, &t->c.body, &t->c.signature,
              &t->c.key_id);
  t->c.id = INV_ID;
  t->c.invoice_number = "26140000001000000042";
  t->c.kind = KIND(BLUE);
}

static void inv_std(tinv *t, const tkey *signer, int64_t issued_s) {
  uint8_t *body = NULL;
  size_t len = pack_body(INV_ID, issued_s, 0, &body);
  inv_make(t, signer, signer->k.key_id, body, len);
}

/* The invoice of a tinv, verified (sigdoc_verify_fn). */
static void verify_doc(const void *doc, const invoice_sig_key *keys, size_t n,
                       invoice_sig_verdict *v) {
  invoice_verify(&((const tinv *)doc)->c, keys, n, v);
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
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);

  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT_VALID("round trip", &v);
  assert_string_equal(v.key_id, key_a.k.key_id);
  assert_int_equal(strlen(v.key_id), 8);

  /* The signature is exactly Ed25519 over the context ‖ body. */
  assert_string_equal(INVOICE_CONTEXT, "registry.v1.ReverseInvoice\n");
  sigdoc_signed_in_context(t.sig, INVOICE_CONTEXT, t.body, t.c.body.len, key_a.pk);

  /* The body unpacks to what was packed. */
  Registry__V1__ReverseInvoiceBody *b =
      registry__v1__reverse_invoice_body__unpack(NULL, t.c.body.len, t.body);
  assert_non_null(b);
  assert_string_equal(b->invoice_id, INV_ID);
  assert_string_equal(b->seller_name_masked, "Z**");
  assert_int_equal(b->seller_ref.len, 32);
  assert_int_equal(b->n_lines, 2);
  assert_int_equal(b->amount_fen, 106000);
  registry__v1__reverse_invoice_body__free_unpacked(b, NULL);

  /* Deterministic: the same body signs to the same signature. */
  uint8_t sig2[64];
  assert_int_equal(invoice_sign(key_a.sk, t.body, t.c.body.len, sig2), 0);
  assert_memory_equal(sig2, t.sig, 64);
  free(t.body);
}

/* invoice_sign has the shape keystore_sign expects (services/core/
 * keystore.h: keystore_sign_fn), so the handlers can hand it over. */
typedef int (*sign_fn)(const uint8_t sk[64], const uint8_t *msg, size_t len, uint8_t sig[64]);

static void test_sign_args(void **state) {
  (void)state;
  sign_fn f = invoice_sign;
  sigdoc_sign_args(f, key_a.sk);
}

/* Every bit of the body flipped in turn: never valid, always
 * BAD_SIGNATURE, and otherwise only what a changed body can cause. */
static void test_body_bit_flips(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);
  size_t flips = sigdoc_body_bit_flips(t.body, t.c.body.len, verify_doc, &t, &key_a.k, 1);
  assert_true(flips >= 8 * 150);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT_VALID("restored", &v);
  free(t.body);
}

/* One byte of the body changed, the body still a well-formed
 * ReverseInvoiceBody saying something else: BAD_SIGNATURE only. */
static void test_one_byte_change(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);
  uint8_t *p = memmem(t.body, t.c.body.len, "copper", 6);
  assert_non_null(p);
  p[0] = 'C';
  Registry__V1__ReverseInvoiceBody *b =
      registry__v1__reverse_invoice_body__unpack(NULL, t.c.body.len, t.body);
  assert_non_null(b);
  assert_string_equal(b->lines[0]->description, "Copper wire");
  registry__v1__reverse_invoice_body__free_unpacked(b, NULL);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("description changed", &v, "BAD_SIGNATURE");
  p[0] = 'c';

  /* An amount changed: 106000 fen becomes 106001 in the varint. */
  Registry__V1__ReverseInvoiceBody *orig =
      registry__v1__reverse_invoice_body__unpack(NULL, t.c.body.len, t.body);
  assert_non_null(orig);
  size_t changed = 0;
  for (size_t i = 0; i < t.c.body.len && !changed; i++) {
    t.body[i] ^= 1;
    Registry__V1__ReverseInvoiceBody *x =
        registry__v1__reverse_invoice_body__unpack(NULL, t.c.body.len, t.body);
    if (x && x->total_fen == orig->total_fen + 1 && x->amount_fen == orig->amount_fen) {
      invoice_verify(&t.c, &key_a.k, 1, &v);
      EXPECT("total changed", &v, "BAD_SIGNATURE");
      changed = 1;
    }
    registry__v1__reverse_invoice_body__free_unpacked(x, NULL);
    t.body[i] ^= 1;
  }
  assert_true(changed);
  registry__v1__reverse_invoice_body__free_unpacked(orig, NULL);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT_VALID("restored", &v);
  free(t.body);
}

static void test_signature_tampered(void **state) {
  (void)state;
  tinv t;
  inv_std(&t, &key_a, NOW_S);
  sigdoc_signature_flips(t.sig, verify_doc, &t, &key_a.k, 1);
  free(t.body);
}

static void test_signature_length(void **state) {
  (void)state;
  tinv t;
  inv_std(&t, &key_a, NOW_S);
  sigdoc_signature_lengths(&t.c.signature, verify_doc, &t, &key_a.k, 1);
  free(t.body);
}

/* The same body signed in another document's context (a wipe
 * certificate's) or with no context does not verify as an invoice. */
static void test_other_context(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);
  assert_int_equal(sig_sign(key_a.sk, SIG_CONTEXT_WIPE_CERTIFICATE, t.body, t.c.body.len, t.sig),
                   0);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("certificate context", &v, "BAD_SIGNATURE");
  assert_int_equal(sig_sign(key_a.sk, NULL, t.body, t.c.body.len, t.sig), 0);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("no context", &v, "BAD_SIGNATURE");
  assert_int_equal(sig_sign(key_a.sk, INVOICE_CONTEXT, t.body, t.c.body.len, t.sig), 0);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT_VALID("invoice context", &v);
  free(t.body);
}

static void test_unknown_key(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);

  t.c.key_id = "deadbeef";
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("other key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "deadbeef");

  t.c.key_id = key_a.k.key_id;
  invoice_verify(&t.c, &key_b.k, 1, &v);
  EXPECT("signer not listed", &v, "UNKNOWN_KEY");
  invoice_verify(&t.c, NULL, 0, &v);
  EXPECT("no keys", &v, "UNKNOWN_KEY");

  /* A garbled signature is not checked without a key. */
  t.c.key_id = "deadbeef";
  t.sig[0] ^= 0xFF;
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("unknown key, bad signature", &v, "UNKNOWN_KEY");

  /* An over-long or missing key id: unknown, reported truncated. */
  t.c.key_id = "0123456789abcdef0123";
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("long key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "01234567");
  t.c.key_id = NULL;
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("no key id", &v, "UNKNOWN_KEY");
  assert_string_equal(v.key_id, "");
  free(t.body);
}

/* The invoice names key B (listed) but A signed: BAD_SIGNATURE. */
static void test_listed_key_did_not_sign(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  invoice_sig_key keys[2] = {key_a.k, key_b.k};
  uint8_t *body = NULL;
  size_t len = pack_body(INV_ID, NOW_S, 0, &body);
  inv_make(&t, &key_a, key_b.k.key_id, body, len);
  invoice_verify(&t.c, keys, 2, &v);
  EXPECT("key B named, A signed", &v, "BAD_SIGNATURE");
  invoice_verify(&t.c, &key_b.k, 1, &v);
  EXPECT("only B listed", &v, "BAD_SIGNATURE");

  /* Two listed keys sharing an id (a 4-byte collision): the one that
   * verifies is found whichever comes first. */
  invoice_sig_key same[2] = {key_b.k, key_a.k};
  memcpy(same[1].key_id, key_b.k.key_id, sizeof(same[1].key_id));
  invoice_verify(&t.c, same, 2, &v);
  EXPECT_VALID("colliding ids", &v);
  free(body);
}

static void test_validity_window(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  invoice_sig_key k = key_a.k;
  uint8_t *body = NULL;
  k.valid_from_us = NOW_S * S_US;
  k.valid_until_us = (NOW_S + DAY_S) * S_US;

  inv_std(&t, &key_a, NOW_S - 1);
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT("before valid_from", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);

  /* 1 µs before valid_from. */
  size_t len = pack_body(INV_ID, NOW_S - 1, 999999000, &body);
  inv_make(&t, &key_a, key_a.k.key_id, body, len);
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT("1 us before valid_from", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(body);

  inv_std(&t, &key_a, NOW_S);
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT_VALID("at valid_from", &v);
  free(t.body);

  len = pack_body(INV_ID, NOW_S + DAY_S - 1, 999999000, &body);
  inv_make(&t, &key_a, key_a.k.key_id, body, len);
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT_VALID("last microsecond", &v);
  free(body);

  inv_std(&t, &key_a, NOW_S + DAY_S);
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT("at valid_until", &v, "KEY_NOT_VALID_AT_ISSUE");
  /* Open bounds: 0 means unknown / still current. */
  k.valid_until_us = 0;
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT_VALID("no valid_until", &v);
  /* With an id mismatch too: both reasons. */
  k.valid_until_us = (NOW_S + DAY_S) * S_US;
  t.c.id = "inv_other";
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT("id and window", &v, "ID_MISMATCH", "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);

  /* A tampered body's issue time is not asked. */
  inv_std(&t, &key_a, NOW_S - DAY_S);
  t.sig[0] ^= 1;
  invoice_verify(&t.c, &k, 1, &v);
  EXPECT("unauthenticated issue time", &v, "BAD_SIGNATURE");
  free(t.body);
}

static void test_id_mismatch(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  inv_std(&t, &key_a, NOW_S);
  t.c.id = "inv_01JQ3Z5V8R6W2X9Y4T7N0M1K2Z";
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("other id", &v, "ID_MISMATCH");
  t.c.id = NULL;
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("no id", &v, "ID_MISMATCH");
  t.c.id = "";
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("empty id", &v, "ID_MISMATCH");
  free(t.body);

  /* A body naming another invoice, genuinely signed. */
  uint8_t *body = NULL;
  size_t len = pack_body("inv_someone_else", NOW_S, 0, &body);
  inv_make(&t, &key_a, key_a.k.key_id, body, len);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("signed body of another invoice", &v, "ID_MISMATCH");
  free(body);
}

static void test_malformed_body(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;

  /* Empty body, even when signed: nothing to vouch for. */
  inv_make(&t, &key_a, key_a.k.key_id, NULL, 0);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("empty body, signed", &v, "BODY_MALFORMED");
  t.sig[0] ^= 1;
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("empty body, bad signature", &v, "BODY_MALFORMED", "BAD_SIGNATURE");

  /* Bytes that are no protobuf message (a truncated length-delimited
   * field), signed: malformed, signature fine. */
  uint8_t junk[] = {0x0a, 0x7f, 'i', 'n', 'v'};
  inv_make(&t, &key_a, key_a.k.key_id, junk, sizeof(junk));
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("junk", &v, "BODY_MALFORMED");
  invoice_verify(&t.c, &key_b.k, 1, &v);
  EXPECT("junk, unknown key", &v, "BODY_MALFORMED", "UNKNOWN_KEY");

  /* A body without issued_at, or with one outside Timestamp's range. */
  Registry__V1__ReverseInvoiceBody b = REGISTRY__V1__REVERSE_INVOICE_BODY__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  uint8_t buf[128];
  b.invoice_id = INV_ID;
  size_t len = registry__v1__reverse_invoice_body__pack(&b, buf);
  inv_make(&t, &key_a, key_a.k.key_id, buf, len);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("no issued_at", &v, "BODY_MALFORMED");
  b.issued_at = &ts;
  ts.seconds = NOW_S;
  ts.nanos = 1000000000;
  len = registry__v1__reverse_invoice_body__pack(&b, buf);
  inv_make(&t, &key_a, key_a.k.key_id, buf, len);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("nanos out of range", &v, "BODY_MALFORMED");
  ts.seconds = INT64_MAX;
  ts.nanos = 0;
  len = registry__v1__reverse_invoice_body__pack(&b, buf);
  inv_make(&t, &key_a, key_a.k.key_id, buf, len);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("seconds out of range", &v, "BODY_MALFORMED");
  /* ... and naming another invoice as well. */
  b.invoice_id = "inv_other";
  len = registry__v1__reverse_invoice_body__pack(&b, buf);
  inv_make(&t, &key_a, key_a.k.key_id, buf, len);
  invoice_verify(&t.c, &key_a.k, 1, &v);
  EXPECT("malformed and other id", &v, "BODY_MALFORMED", "ID_MISMATCH");

  /* No invoice at all; no verdict to write. */
  invoice_verify(NULL, &key_a.k, 1, &v);
  EXPECT("NULL invoice", &v, "BODY_MALFORMED");
  invoice_verify(&t.c, &key_a.k, 1, NULL);
}

/* After a rotation both keys are listed, the old one closed: an invoice
 * the old key signed inside its window still verifies; one it signed after
 * rotation does not; the new key signs new ones. */
static void test_rotation(void **state) {
  (void)state;
  tinv t;
  invoice_sig_verdict v;
  const int64_t rotated_s = NOW_S;
  invoice_sig_key keys[2] = {key_b.k, key_a.k}; /* new first, as listed */
  keys[1].valid_from_us = (rotated_s - 365 * DAY_S) * S_US;
  keys[1].valid_until_us = rotated_s * S_US;
  keys[0].valid_from_us = rotated_s * S_US;

  inv_std(&t, &key_a, rotated_s - 30 * DAY_S);
  invoice_verify(&t.c, keys, 2, &v);
  EXPECT_VALID("old invoice, old key", &v);
  assert_string_equal(v.key_id, key_a.k.key_id);
  free(t.body);

  inv_std(&t, &key_a, rotated_s + 60);
  invoice_verify(&t.c, keys, 2, &v);
  EXPECT("old key after rotation", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);

  inv_std(&t, &key_b, rotated_s + 60);
  invoice_verify(&t.c, keys, 2, &v);
  EXPECT_VALID("new key", &v);
  free(t.body);

  inv_std(&t, &key_b, rotated_s - 60);
  invoice_verify(&t.c, keys, 2, &v);
  EXPECT("new key before it existed", &v, "KEY_NOT_VALID_AT_ISSUE");
  free(t.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_sign_args),
      cmocka_unit_test(test_body_bit_flips),
      cmocka_unit_test(test_one_byte_change),
      cmocka_unit_test(test_signature_tampered),
      cmocka_unit_test(test_signature_length),
      cmocka_unit_test(test_other_context),
      cmocka_unit_test(test_unknown_key),
      cmocka_unit_test(test_listed_key_did_not_sign),
      cmocka_unit_test(test_validity_window),
      cmocka_unit_test(test_id_mismatch),
      cmocka_unit_test(test_malformed_body),
      cmocka_unit_test(test_rotation),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
