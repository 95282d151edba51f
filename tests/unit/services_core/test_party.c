/* tests services/core/party.c: sealing and opening parties (clear, masked
 * per SPEC §3, bound to their row), the blind index, and party_check's
 * field paths. Pure: a keyring from a fixed master key, no database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/pii.h"
#include "services/core/party.h"

typedef struct fixture {
  pii_keyring *ring;
  arena *a;
} fixture;

static int setup(void **st) {
  if (sodium_init() < 0) return -1;
  uint8_t master[32];
  for (int i = 0; i < 32; i++) master[i] = (uint8_t)(i + 1);
  fixture *f = calloc(1, sizeof(*f));
  if (!f) return -1;
  uint8_t wrapped[PII_WRAPPED_KEY_LEN];
  size_t wlen = 0;
  if (pii_keyring_new(master, &f->ring) != 0 ||
      pii_data_key_create(f->ring, 1, wrapped, sizeof(wrapped), &wlen) != 0 ||
      !(f->a = arena_new(0))) {
    pii_keyring_free(f->ring);
    free(f);
    return -1;
  }
  *st = f;
  return 0;
}

static int teardown(void **st) {
  fixture *f = *st;
  arena_free(f->a);
  pii_keyring_free(f->ring);
  free(f);
  return 0;
}

/* A person with writable strings (party_check normalizes in place). */
typedef struct person_buf {
  char name[512], id[32], phone[64];
  Registry__V1__Person p;
  Registry__V1__Party party;
} person_buf;

static void person_make(person_buf *b, const char *name, const char *id, const char *phone) {
  snprintf(b->name, sizeof(b->name), "%s", name);
  snprintf(b->id, sizeof(b->id), "%s", id);
  snprintf(b->phone, sizeof(b->phone), "%s", phone);
  registry__v1__person__init(&b->p);
  b->p.name = b->name;
  b->p.id_number = b->id;
  b->p.phone = b->phone;
  registry__v1__party__init(&b->party);
  b->party.kind_case = REGISTRY__V1__PARTY__KIND_PERSON;
  b->party.person = &b->p;
}

typedef struct business_buf {
  char uscc[32], name[512];
  Registry__V1__Business b;
  Registry__V1__Party party;
} business_buf;

static void business_make(business_buf *b, const char *uscc, const char *name) {
  snprintf(b->uscc, sizeof(b->uscc), "%s", uscc);
  snprintf(b->name, sizeof(b->name), "%s", name);
  registry__v1__business__init(&b->b);
  b->b.uscc = b->uscc;
  b->b.name = b->name;
  registry__v1__party__init(&b->party);
  b->party.kind_case = REGISTRY__V1__PARTY__KIND_BUSINESS;
  b->party.business = &b->b;
}

static void test_person_round_trip(void **st) {
  fixture *f = *st;
  person_buf b;
  person_make(&b, "张小三", "14030219600403533x", "13812345678");
  char field[64], msg[160];
  assert_int_equal(party_check(&b.party, "seller", 1, field, sizeof(field), msg, sizeof(msg)), 0);
  assert_string_equal(b.id, "14030219600403533X"); /* normalized in place */

  party_sealed s;
  assert_int_equal(party_seal(f->ring, f->a, &b.party, "listings", "seller", "lst_1", &s), 0);
  assert_int_equal(s.kind, PARTY_PERSON);
  assert_int_equal(s.ref_len, 32);
  assert_int_equal(s.enc_len, registry__v1__person__get_packed_size(&b.p) + PII_OVERHEAD);
  /* no plaintext in the ciphertext */
  assert_null(memmem(s.enc, s.enc_len, "13812345678", 11));

  /* the ref is the blind index searches use, whatever the case of "x" */
  uint8_t ref[32];
  assert_int_equal(party_person_ref(f->ring, "14030219600403533X", ref), 0);
  assert_memory_equal(ref, s.ref, 32);
  assert_int_equal(party_person_ref(f->ring, "14030219600403533x", ref), 0);
  assert_memory_equal(ref, s.ref, 32);
  assert_int_equal(party_person_ref(f->ring, "140302196004035330", ref), 0);
  assert_memory_not_equal(ref, s.ref, 32);

  Registry__V1__Party *out = NULL;
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "seller",
                              "lst_1", 1, &out),
                   0);
  assert_int_equal(out->kind_case, REGISTRY__V1__PARTY__KIND_PERSON);
  assert_string_equal(out->person->name, "张小三");
  assert_string_equal(out->person->id_number, "14030219600403533X");
  assert_string_equal(out->person->phone, "13812345678");

  /* masked (SPEC §3) */
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "seller",
                              "lst_1", 0, &out),
                   0);
  assert_string_equal(out->person->name, "张*三");
  assert_string_equal(out->person->id_number, "1403**********533X");
  assert_string_equal(out->person->phone, "138****5678");

  /* sealed under another row, column or table it does not open */
  out = NULL;
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "seller",
                              "lst_2", 1, &out),
                   REG_ECRYPTO);
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "buyer",
                              "lst_1", 0, &out),
                   REG_ECRYPTO);
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "sales", "seller",
                              "lst_1", 0, &out),
                   REG_ECRYPTO);
  s.enc[s.enc_len - 1] ^= 1; /* tampered */
  assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "seller",
                              "lst_1", 1, &out),
                   REG_ECRYPTO);
  assert_null(out);
}

static void test_person_masks(void **st) {
  fixture *f = *st;
  static const struct {
    const char *name, *phone, *masked_name, *masked_phone;
  } cases[] = {
      {"张", "", "*", ""},
      {"张三", "+86-138-1234-5678", "张*", "+86****5678"},
      {"欧阳小明", "010-12345678", "欧*明", "010****5678"},
      {"Li Lei", "13812345678", "L*i", "138****5678"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    person_buf b;
    person_make(&b, cases[i].name, "140302197003104975", cases[i].phone);
    char field[64] = "", msg[160];
    assert_int_equal(party_check(&b.party, "buyer", 1, field, sizeof(field), msg, sizeof(msg)), 0);
    Registry__V1__Person *p = NULL;
    party_sealed s;
    assert_int_equal(party_seal_person(f->ring, f->a, &b.p, "appraisals", "appraiser", "apr_1", &s),
                     0);
    assert_int_equal(party_open_person(f->ring, f->a, s.enc, s.enc_len, "appraisals", "appraiser",
                                       "apr_1", 0, &p),
                     0);
    assert_string_equal(p->name, cases[i].masked_name);
    assert_string_equal(p->id_number, "1403**********4975");
    assert_string_equal(p->phone, cases[i].masked_phone);
    assert_int_equal(party_open_person(f->ring, f->a, s.enc, s.enc_len, "appraisals", "appraiser",
                                       "apr_1", 1, &p),
                     0);
    assert_string_equal(p->name, cases[i].name);
    assert_string_equal(p->phone, cases[i].phone);
  }
}

static void test_business_clear(void **st) {
  fixture *f = *st;
  business_buf b;
  business_make(&b, "911403223akq350b93", "太原市某某二手车经纪有限公司");
  char field[64], msg[160];
  assert_int_equal(party_check(&b.party, "seller", 1, field, sizeof(field), msg, sizeof(msg)), 0);
  assert_string_equal(b.uscc, "911403223AKQ350B93");
  party_sealed s;
  assert_int_equal(party_seal(f->ring, f->a, &b.party, "listings", "seller", "lst_1", &s), 0);
  assert_int_equal(s.kind, PARTY_BUSINESS);
  assert_int_equal(s.ref_len, 18);
  assert_memory_equal(s.ref, "911403223AKQ350B93", 18);
  assert_int_equal(s.enc_len, strlen(b.name));
  assert_memory_equal(s.enc, b.name, s.enc_len);

  for (int unmasked = 0; unmasked <= 1; unmasked++) {
    Registry__V1__Party *out = NULL;
    assert_int_equal(party_open_ref(f->ring, f->a, s.kind, s.ref, s.ref_len, s.enc, s.enc_len,
                                    "listings", "seller", "lst_9", unmasked, &out),
                     0);
    assert_int_equal(out->kind_case, REGISTRY__V1__PARTY__KIND_BUSINESS);
    assert_string_equal(out->business->uscc, "911403223AKQ350B93");
    assert_string_equal(out->business->name, "太原市某某二手车经纪有限公司");
    /* without the ref: the name only */
    assert_int_equal(party_open(f->ring, f->a, s.kind, s.enc, s.enc_len, "listings", "seller",
                                "lst_9", unmasked, &out),
                     0);
    assert_string_equal(out->business->name, "太原市某某二手车经纪有限公司");
    assert_string_equal(out->business->uscc, "");
  }

  /* party_same: kind and ref */
  person_buf pb;
  person_make(&pb, "张三", "140302197003104975", "");
  party_sealed s1, s2;
  assert_int_equal(party_seal(f->ring, f->a, &pb.party, "sales", "buyer", "sal_1", &s1), 0);
  assert_int_equal(party_seal(f->ring, f->a, &pb.party, "listings", "seller", "lst_7", &s2), 0);
  assert_memory_not_equal(s1.enc, s2.enc, 16); /* fresh nonce each time */
  assert_int_equal(party_same(s1.kind, s1.ref, s1.ref_len, s2.kind, s2.ref, s2.ref_len), 1);
  assert_int_equal(party_same(s1.kind, s1.ref, s1.ref_len, s.kind, s.ref, s.ref_len), 0);
  assert_int_equal(party_same(PARTY_BUSINESS, s1.ref, 18, PARTY_PERSON, s1.ref, 18), 0);
  person_make(&pb, "张三", "140322199105188158", "");
  assert_int_equal(party_seal(f->ring, f->a, &pb.party, "listings", "seller", "lst_7", &s2), 0);
  assert_int_equal(party_same(s1.kind, s1.ref, s1.ref_len, s2.kind, s2.ref, s2.ref_len), 0);
}

static void expect_field(Registry__V1__Party *p, const char *want) {
  char field[64] = "", msg[160] = "";
  assert_int_equal(party_check(p, "seller", 1, field, sizeof(field), msg, sizeof(msg)), REG_EINVAL);
  assert_string_equal(field, want);
  assert_true(msg[0] != 0);
}

static void test_check_fields(void **st) {
  (void)st;
  char field[64] = "", msg[160] = "";
  /* presence and kind */
  assert_int_equal(party_check(NULL, "buyer", 0, field, sizeof(field), msg, sizeof(msg)), 0);
  assert_int_equal(party_check(NULL, "buyer", 1, field, sizeof(field), msg, sizeof(msg)),
                   REG_EINVAL);
  assert_string_equal(field, "buyer");
  Registry__V1__Party empty = REGISTRY__V1__PARTY__INIT;
  expect_field(&empty, "seller");

  /* person fields, in the order a form is read */
  static const struct {
    const char *name, *id, *phone, *field;
  } bad[] = {
      {"", "140302197003104975", "", "seller.person.name"},
      {"   ", "140302197003104975", "", "seller.person.name"},
      {"\xe3\x80\x80", "140302197003104975", "", "seller.person.name"}, /* U+3000 only */
      {"\xff\xfe", "140302197003104975", "", "seller.person.name"},     /* not UTF-8 */
      {"a\nb", "140302197003104975", "", "seller.person.name"},
      {"张三", "", "", "seller.person.id_number"},
      {"张三", "140302197003100975", "", "seller.person.id_number"}, /* check digit */
      {"张三", "1403021990010112", "", "seller.person.id_number"},   /* length */
      {"张三", "140302197003104975", "138-abc", "seller.person.phone"},
      {"张三", "140302197003104975", "-13812345678", "seller.person.phone"},
      {"张三", "140302197003104975", "138--12345678", "seller.person.phone"},
      {"张三", "140302197003104975", "13812345678-", "seller.person.phone"},
      {"张三", "140302197003104975", "++8613812345678", "seller.person.phone"},
      {"张三", "140302197003104975", "+86-138-1234-5678-999", "seller.person.phone"}, /* 21 */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    person_buf b;
    person_make(&b, bad[i].name, bad[i].id, bad[i].phone);
    expect_field(&b.party, bad[i].field);
  }
  /* a person message missing entirely */
  Registry__V1__Party np = REGISTRY__V1__PARTY__INIT;
  np.kind_case = REGISTRY__V1__PARTY__KIND_PERSON;
  expect_field(&np, "seller.person");

  /* names: 100 characters pass, 101 do not (characters, not bytes) */
  person_buf b;
  char name[512] = "";
  for (int i = 0; i < 100; i++) strcat(name, "张");
  person_make(&b, name, "140302197003104975", "+86-138-1234-5678");
  assert_int_equal(party_check(&b.party, "seller", 1, field, sizeof(field), msg, sizeof(msg)), 0);
  strcat(name, "三");
  person_make(&b, name, "140302197003104975", "");
  expect_field(&b.party, "seller.person.name");

  /* business fields */
  business_buf bb;
  business_make(&bb, "91140302UGXA6DD569", "某公司");
  expect_field(&bb.party, "seller.business.uscc");
  business_make(&bb, "", "某公司");
  expect_field(&bb.party, "seller.business.uscc");
  business_make(&bb, "91140302GGXA6DD569", " ");
  expect_field(&bb.party, "seller.business.name");
  business_make(&bb, "91140302ggxa6dd569", "某公司");
  assert_int_equal(party_check(&bb.party, "seller", 1, field, sizeof(field), msg, sizeof(msg)), 0);
  assert_string_equal(bb.uscc, "91140302GGXA6DD569");

  /* a bare Person (appraisers) names fields under its own prefix */
  person_make(&b, "王五", "140302197003104975", "12a");
  assert_int_equal(
      party_check_person(&b.p, "appraiser", field, sizeof(field), msg, sizeof(msg)), REG_EINVAL);
  assert_string_equal(field, "appraiser.phone");
  assert_int_equal(party_check_person(NULL, "appraiser", field, sizeof(field), msg, sizeof(msg)),
                   REG_EINVAL);
  assert_string_equal(field, "appraiser");

  /* a failed check leaves the input as it was */
  person_make(&b, "王五", "14030219600403533x", "12a");
  assert_int_equal(party_check(&b.party, "seller", 1, field, sizeof(field), msg, sizeof(msg)),
                   REG_EINVAL);
  assert_string_equal(b.id, "14030219600403533x");
}

static void test_seal_refuses_unchecked(void **st) {
  fixture *f = *st;
  person_buf b;
  person_make(&b, "张三", "140302197003100975", "");
  party_sealed s;
  memset(&s, 0x5A, sizeof(s));
  assert_int_equal(party_seal(f->ring, f->a, &b.party, "listings", "seller", "lst_1", &s),
                   REG_EINVAL);
  assert_int_equal(s.kind, 0x5A5A5A5A); /* untouched */
  Registry__V1__Party empty = REGISTRY__V1__PARTY__INIT;
  assert_int_equal(party_seal(f->ring, f->a, &empty, "listings", "seller", "lst_1", &s),
                   REG_EINVAL);
  /* a ciphertext shorter than the overhead, or an unknown kind */
  Registry__V1__Party *out = NULL;
  uint8_t junk[8] = {0};
  assert_int_equal(party_open(f->ring, f->a, PARTY_PERSON, junk, sizeof(junk), "t", "c", "r", 1,
                              &out),
                   REG_ECRYPTO);
  assert_int_equal(party_open(f->ring, f->a, 7, junk, sizeof(junk), "t", "c", "r", 1, &out),
                   REG_EINVAL);
  assert_null(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_person_round_trip),
      cmocka_unit_test(test_person_masks),
      cmocka_unit_test(test_business_clear),
      cmocka_unit_test(test_check_fields),
      cmocka_unit_test(test_seal_refuses_unchecked),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
