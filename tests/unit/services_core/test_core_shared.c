/* tests services/core: the request hash of reqid.c, the leaf bytes of
 * events.c, and page sizes and tokens of page.c (the parts without I/O; the
 * SQL paths are covered by the interop tests against PostgreSQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/core/events.h"
#include "services/core/page.h"
#include "services/core/reqid.h"

static const char *M = "/registry.v1.OrgService/CreateOrganization";

static void expected_hash(const Registry__V1__CreateOrganizationRequest *with_id, uint8_t out[32]) {
  Registry__V1__CreateOrganizationRequest copy = *with_id;
  copy.request_id = (char *)"";
  uint8_t buf[512];
  size_t n = registry__v1__create_organization_request__pack(&copy, buf);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, (const uint8_t *)M, strlen(M) + 1);
  crypto_hash_sha256_update(&st, buf, n);
  crypto_hash_sha256_final(&st, out);
}

static void test_request_hash(void **state) {
  (void)state;
  Registry__V1__CreateOrganizationRequest req = REGISTRY__V1__CREATE_ORGANIZATION_REQUEST__INIT;
  Registry__V1__Role roles[] = {REGISTRY__V1__ROLE__ROLE_PLATFORM};
  char rid[] = "3F2504E0-4F89-11D3-9A0C-0305E82C3301";
  req.request_id = rid;
  req.name = (char *)"Market";
  req.uscc = (char *)"91350100M000100Y43";
  req.roles = roles;
  req.n_roles = 1;
  reqid r;
  assert_int_equal(reqid_prepare(&r, "org_1", M, &req.base), 0);
  assert_string_equal(r.uuid, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"); /* canonical lower case */
  assert_ptr_equal(req.request_id, rid);                                 /* restored */
  uint8_t want[32];
  expected_hash(&req, want);
  assert_memory_equal(r.hash, want, 32);

  /* the id does not enter the hash; the body and the method do */
  reqid r2;
  char rid2[] = "00000000-0000-4000-8000-000000000000";
  req.request_id = rid2;
  assert_int_equal(reqid_prepare(&r2, "org_1", M, &req.base), 0);
  assert_memory_equal(r2.hash, r.hash, 32);
  req.name = (char *)"Market 2";
  assert_int_equal(reqid_prepare(&r2, "org_1", M, &req.base), 0);
  assert_memory_not_equal(r2.hash, r.hash, 32);
  req.name = (char *)"Market";
  assert_int_equal(reqid_prepare(&r2, "org_1", "/registry.v1.OrgService/Other", &req.base), 0);
  assert_memory_not_equal(r2.hash, r.hash, 32);

  static const char *const bad[] = {"", "not-a-uuid", "3f2504e0-4f89-11d3-9a0c-0305e82c330",
                                    "3f2504e04f8911d39a0c0305e82c3301",
                                    "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
                                    "3f2504e0-4f89-11d3-9a0c-0305e82c33g1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    req.request_id = (char *)bad[i];
    assert_int_equal(reqid_prepare(&r2, "org_1", M, &req.base), REG_EINVAL);
  }
  /* a message without request_id */
  Registry__V1__WhoAmIRequest who = REGISTRY__V1__WHO_AM_IREQUEST__INIT;
  assert_int_equal(reqid_prepare(&r2, "org_1", M, &who.base), REG_EINVAL);
}

static void test_leaf_bytes(void **state) {
  (void)state;
  uint8_t h[32];
  for (int i = 0; i < 32; i++) h[i] = (uint8_t)i;
  event_refs refs = {.item_id = "itm_1", .listing_id = ""};
  uint8_t buf[512];
  size_t len = 0;
  assert_int_equal(events_leaf_pack("evt_a", REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ITEM_REGISTERED,
                                    1764259199123456LL, "org_x", &refs, h, buf, sizeof(buf), &len),
                   0);
  Registry__V1__LogLeaf *leaf = registry__v1__log_leaf__unpack(NULL, len, buf);
  assert_non_null(leaf);
  assert_string_equal(leaf->event_id, "evt_a");
  assert_int_equal(leaf->type, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ITEM_REGISTERED);
  assert_int_equal(leaf->at->seconds, 1764259199);
  assert_int_equal(leaf->at->nanos, 123456000);
  assert_string_equal(leaf->organization_id, "org_x");
  assert_string_equal(leaf->item_id, "itm_1");
  assert_string_equal(leaf->listing_id, "");
  assert_int_equal(leaf->record_sha256.len, 32);
  assert_memory_equal(leaf->record_sha256.data, h, 32);
  /* canonical: repacking gives the same bytes */
  uint8_t again[512];
  assert_int_equal(registry__v1__log_leaf__pack(leaf, again), len);
  assert_memory_equal(again, buf, len);
  registry__v1__log_leaf__free_unpacked(leaf, NULL);
  /* field 1 (event_id) comes first: tag 0x0a */
  assert_int_equal(buf[0], 0x0a);
  assert_int_equal(events_leaf_pack("evt_a", 1, 0, "org", NULL, h, buf, 10, &len), REG_ERANGE);
}

static void test_pages(void **state) {
  (void)state;
  uint8_t key[32], other[32];
  memset(key, 1, 32);
  memset(other, 2, 32);
  const char *f1[] = {"/m", "1", "0"};
  const char *f2[] = {"/m", "2", "0"};
  page_req p;
  assert_int_equal(page_begin(key, 0, "", f1, 3, &p), 0);
  assert_int_equal(p.size, 50);
  assert_string_equal(p.cursor, "");
  assert_int_equal(page_begin(key, 501, NULL, f1, 3, &p), 0);
  assert_int_equal(p.size, 500);
  assert_int_equal(page_begin(key, 7, NULL, f1, 3, &p), 0);
  assert_int_equal(p.size, 7);
  assert_int_equal(page_begin(key, -1, NULL, f1, 3, &p), REG_ERANGE);

  char tok[PAGE_TOKEN_MAX];
  assert_int_equal(page_next_token(key, &p, "org_00ff", tok), 0);
  page_req q;
  assert_int_equal(page_begin(key, 7, tok, f1, 3, &q), 0);
  assert_string_equal(q.cursor, "org_00ff");
  assert_int_equal(page_begin(key, 7, tok, f2, 3, &q), REG_EPERM);    /* other filters */
  assert_int_equal(page_begin(other, 7, tok, f1, 3, &q), REG_EINVAL); /* other key */
  tok[5] = tok[5] == 'A' ? 'B' : 'A';
  assert_int_equal(page_begin(key, 7, tok, f1, 3, &q), REG_EINVAL);   /* tampered */
  assert_int_equal(page_begin(key, 7, "garbage!", f1, 3, &q), REG_EINVAL);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_hash),
      cmocka_unit_test(test_leaf_bytes),
      cmocka_unit_test(test_pages),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
