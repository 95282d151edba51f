/* tests services/core against a real PostgreSQL (label integration):
 * keystore (signing keys, key ids, rotation, personal-data keys), request_id
 * replay and reuse, events rows, the access log. Each run uses a fresh
 * database named after the process. Needs REG_TEST_PG and
 * REG_TEST_MASTER_KEY_FILE (ops/test sets them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "crypto/pii.h"
#include "crypto/sig.h"
#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "services/core/access_log.h"
#include "services/core/events.h"
#include "services/core/keystore.h"
#include "services/core/reqid.h"
#include "storage/pg/pg.h"
#include "tests/unit/services_core/pgtest.h"

static char dbname[64];
static char conninfo[512];
static uint8_t master[32];
static pg_conn *pg;

static int setup(void **st) {
  (void)st;
  if (sodium_init() < 0) return -1;
  randombytes_buf(master, sizeof(master));
  pg = pgtest_open("reg_core_test", dbname, sizeof(dbname), conninfo, sizeof(conninfo));
  if (!pg) return -1;
  return 0;
}

static int teardown(void **st) {
  (void)st;
  pgtest_close(pg, dbname);
  return 0;
}

static PGresult *q(const char *sql) {
  PGresult *r = NULL;
  assert_int_equal(pg_query(pg, sql, NULL, &r), 0);
  return r;
}

static int sign_ctx(const uint8_t sk[64], const uint8_t *m, size_t len, uint8_t sig[64]) {
  return sig_sign(sk, "ctx\n", m, len, sig);
}

static void test_keystore(void **st) {
  (void)st;
  int created = -1;
  assert_int_equal(keystore_ensure(pg, master, "registry.test", &created), 0);
  assert_int_equal(created, 4); /* three signing keys and one personal-data key */
  assert_int_equal(keystore_ensure(pg, master, "registry.test", &created), 0);
  assert_int_equal(created, 0);

  static const char *const names[] = {"", "registry.test/certificate", "registry.test/invoice",
                                      "registry.test"};
  for (int purpose = 1; purpose <= 3; purpose++) {
    uint8_t *sk = sodium_malloc(64);
    uint8_t pk[32], id[4], sig[64];
    char kid[9], want[9];
    assert_int_equal(keystore_signing_key(pg, master, purpose, sk, pk, kid), 0);
    assert_int_equal(sig_key_id(names[purpose], pk, id), 0);
    sig_key_id_hex(id, want);
    assert_string_equal(kid, want);
    /* the unwrapped secret key belongs to the stored public key */
    assert_int_equal(sig_sign(sk, "ctx\n", (const uint8_t *)"m", 1, sig), 0);
    assert_int_equal(sig_verify(pk, "ctx\n", (const uint8_t *)"m", 1, sig), 0);
    sodium_free(sk);
  }
  /* another master key cannot unwrap them */
  uint8_t other[32];
  randombytes_buf(other, 32);
  uint8_t *sk = sodium_malloc(64);
  uint8_t pk[32];
  char kid[9];
  assert_int_equal(keystore_signing_key(pg, other, 3, sk, pk, kid), REG_ECRYPTO);

  char old[9], fresh[9];
  assert_int_equal(keystore_signing_key(pg, master, 3, sk, pk, old), 0);
  assert_int_equal(keystore_rotate(pg, master, "registry.test", 3, fresh), 0);
  assert_string_not_equal(old, fresh);
  assert_int_equal(keystore_signing_key(pg, master, 3, sk, pk, kid), 0);
  assert_string_equal(kid, fresh);
  sodium_free(sk);
  PGresult *r = q("SELECT count(*), count(*) FILTER (WHERE valid_until IS NULL) "
                  "FROM signing_keys WHERE purpose = 3");
  assert_string_equal(pg_val(r, 0, 0), "2"); /* the old key stays listed */
  assert_string_equal(pg_val(r, 0, 1), "1");
  PQclear(r);
  r = q("SELECT leaf FROM events WHERE type = 33");
  assert_int_equal(PQntuples(r), 1);
  uint8_t leaf[512];
  long n = pg_bytea(r, 0, 0, leaf, sizeof(leaf));
  PQclear(r);
  Registry__V1__LogLeaf *l = registry__v1__log_leaf__unpack(NULL, (size_t)n, leaf);
  assert_non_null(l);
  assert_int_equal(l->type, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_SIGNING_KEY_ROTATED);
  assert_int_equal(l->record_sha256.len, 32);
  registry__v1__log_leaf__free_unpacked(l, NULL);
  assert_int_equal(keystore_rotate(pg, master, "registry.test", 4, fresh), REG_EINVAL);

  /* keystore_sign: the current key, through the document's own signer */
  uint8_t sig[64], cur_pk[32];
  uint8_t *cur = sodium_malloc(64);
  assert_int_equal(keystore_signing_key(pg, master, 3, cur, cur_pk, old), 0);
  sodium_free(cur);
  for (int i = 0; i < 2; i++) { /* twice: the thread's buffer is reused */
    memset(kid, 0, sizeof(kid));
    assert_int_equal(keystore_sign(pg, master, 3, sign_ctx, (const uint8_t *)"doc", 3, sig, kid), 0);
    assert_string_equal(kid, old);
    assert_int_equal(sig_verify(cur_pk, "ctx\n", (const uint8_t *)"doc", 3, sig), 0);
  }
  assert_int_equal(keystore_sign(pg, other, 3, sign_ctx, (const uint8_t *)"doc", 3, sig, kid),
                   REG_ECRYPTO);
  assert_int_equal(keystore_sign(pg, master, 3, NULL, (const uint8_t *)"doc", 3, sig, kid),
                   REG_EINVAL);

  pii_keyring *ring = NULL;
  assert_int_equal(pii_keyring_new(master, &ring), 0);
  assert_int_equal(keystore_load_pii(pg, ring), 0);
  assert_int_equal(pii_keyring_active(ring), 1);
  uint8_t ct[128], pt[128];
  size_t clen = 0, plen = 0;
  assert_int_equal(pii_encrypt(ring, "t/c/1", (const uint8_t *)"张小三", 9, ct, sizeof(ct), &clen), 0);
  assert_int_equal(pii_decrypt(ring, "t/c/1", ct, clen, pt, sizeof(pt), &plen), 0);
  assert_int_equal(plen, 9);
  assert_memory_equal(pt, "张小三", 9);
  pii_keyring_free(ring);
}

static void test_reqid(void **st) {
  (void)st;
  Registry__V1__IssueApiKeyRequest req = REGISTRY__V1__ISSUE_API_KEY_REQUEST__INIT;
  req.request_id = (char *)"6b1f0f5e-3b7a-4c1e-9f3a-2d9e8c7b6a50";
  req.organization_id = (char *)"org_a";
  reqid r;
  assert_int_equal(reqid_prepare(&r, "org_caller", "/x/IssueApiKey", &req.base), 0);

  arena *a = arena_new(0);
  ProtobufCMessage *out = NULL;
  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r, &registry__v1__issue_api_key_response__descriptor, a, &out),
                   REG_ENOTFOUND);
  pg_tx_rollback(pg); /* a refused call leaves the id unused */

  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r, &registry__v1__issue_api_key_response__descriptor, a, &out),
                   REG_ENOTFOUND);
  Registry__V1__IssueApiKeyResponse resp = REGISTRY__V1__ISSUE_API_KEY_RESPONSE__INIT;
  resp.key_id = (char *)"key_1";
  assert_int_equal(reqid_record(pg, &r, &resp.base), 0);
  assert_int_equal(pg_tx_commit(pg), 0);

  /* the same request: the stored response */
  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r, &registry__v1__issue_api_key_response__descriptor, a, &out), 0);
  pg_tx_rollback(pg);
  assert_string_equal(((Registry__V1__IssueApiKeyResponse *)out)->key_id, "key_1");

  /* the same id with another body, and with another method */
  reqid r2;
  req.organization_id = (char *)"org_b";
  assert_int_equal(reqid_prepare(&r2, "org_caller", "/x/IssueApiKey", &req.base), 0);
  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r2, &registry__v1__issue_api_key_response__descriptor, a, &out),
                   REG_EEXIST);
  pg_tx_rollback(pg);
  req.organization_id = (char *)"org_a";
  assert_int_equal(reqid_prepare(&r2, "org_caller", "/x/Other", &req.base), 0);
  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r2, &registry__v1__issue_api_key_response__descriptor, a, &out),
                   REG_EEXIST);
  pg_tx_rollback(pg);
  /* another organization may use the same id */
  assert_int_equal(reqid_prepare(&r2, "org_other", "/x/IssueApiKey", &req.base), 0);
  assert_int_equal(pg_tx_begin(pg, 0), 0);
  assert_int_equal(reqid_begin(pg, &r2, &registry__v1__issue_api_key_response__descriptor, a, &out),
                   REG_ENOTFOUND);
  pg_tx_rollback(pg);

  /* retention: ≥ 30 days kept, older purged */
  long deleted = -1;
  assert_int_equal(reqid_purge(pg, 1, &deleted), 0); /* 1 is raised to 30 */
  assert_int_equal(deleted, 0);
  PQclear(q("UPDATE request_ids SET created_at = now() - interval '31 days'"));
  assert_int_equal(reqid_purge(pg, 30, &deleted), 0);
  assert_int_equal(deleted, 1);
  arena_free(a);
}

static void test_events_and_access_log(void **st) {
  (void)st;
  const uint8_t rec[] = "canonical record bytes";
  char id[48];
  event_refs refs = {.item_id = "itm_9", .listing_id = "lst_9"};
  assert_int_equal(events_append(pg, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_LISTING_CREATED, "org_p",
                                 &refs, rec, sizeof(rec) - 1, id),
                   0);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  PGresult *r = NULL;
  assert_int_equal(pg_query(pg,
                            "SELECT type, organization_id, item_id, listing_id, subject_id, leaf, "
                            "(extract(epoch FROM created_at) * 1000000)::int8, log_index "
                            "FROM event_log WHERE event_id = $1",
                            &p, &r),
                   0);
  assert_int_equal(PQntuples(r), 1);
  assert_string_equal(pg_val(r, 0, 0), "11");
  assert_string_equal(pg_val(r, 0, 1), "org_p");
  assert_string_equal(pg_val(r, 0, 2), "itm_9");
  assert_string_equal(pg_val(r, 0, 3), "lst_9");
  assert_null(pg_val(r, 0, 4));
  assert_null(pg_val(r, 0, 7)); /* not yet sequenced */
  uint8_t leaf[512];
  long n = pg_bytea(r, 0, 5, leaf, sizeof(leaf));
  int64_t created = pg_int(r, 0, 6);
  PQclear(r);
  Registry__V1__LogLeaf *l = registry__v1__log_leaf__unpack(NULL, (size_t)n, leaf);
  assert_non_null(l);
  assert_string_equal(l->event_id, id);
  assert_string_equal(l->item_id, "itm_9");
  assert_int_equal(l->at->seconds * 1000000 + l->at->nanos / 1000, created);
  uint8_t h[32];
  crypto_hash_sha256(h, rec, sizeof(rec) - 1);
  assert_memory_equal(l->record_sha256.data, h, 32);
  registry__v1__log_leaf__free_unpacked(l, NULL);

  /* append-only: the row cannot be changed or deleted */
  assert_int_not_equal(pg_query(pg, "UPDATE events SET organization_id = 'x'", NULL, NULL), 0);
  assert_int_not_equal(pg_query(pg, "DELETE FROM events", NULL, NULL), 0);

  assert_int_equal(access_log_purpose_check(""), REG_EINVAL);
  assert_int_equal(access_log_purpose_check("  "), REG_EINVAL);
  assert_int_equal(access_log_purpose_check(NULL), REG_EINVAL);
  assert_int_equal(access_log_purpose_check("onboarding check"), 0);
  uint8_t bi[32];
  memset(bi, 0xAB, sizeof(bi));
  assert_int_equal(access_log_write(pg, "org_i", "/registry.v1.CreditService/GetCreditProfile", bi,
                                    "sub_1", "dispute review"),
                   0);
  r = q("SELECT organization_id, method, subject_blind_index, subject_id, purpose FROM access_log");
  assert_int_equal(PQntuples(r), 1);
  assert_string_equal(pg_val(r, 0, 0), "org_i");
  assert_string_equal(pg_val(r, 0, 3), "sub_1");
  assert_string_equal(pg_val(r, 0, 4), "dispute review");
  uint8_t got[32];
  assert_int_equal(pg_bytea(r, 0, 2, got, sizeof(got)), 32);
  assert_memory_equal(got, bi, 32);
  PQclear(r);
}

int main(void) {
  if (!getenv("REG_TEST_PG")) {
    fprintf(stderr, "REG_TEST_PG not set: run through ops/test\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keystore),
      cmocka_unit_test(test_reqid),
      cmocka_unit_test(test_events_and_access_log),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
