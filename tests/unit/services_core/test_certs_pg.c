/* tests services/core/certs.c against a real PostgreSQL (label
 * integration): the rule that says whether a wipe certificate vouches for
 * an item — it names the item, is not revoked, was issued after the
 * item's most recent recorded sale, and verifies under the CERTIFICATE key
 * it names, valid at issue — by id (certs_vouches) and the newest on file
 * (certs_on_file); a certificate as stored (certs_get: revocation, log
 * index); the CERTIFICATE keys (certs_keys). Rows are inserted directly,
 * bodies signed here with keys generated here. Each run uses a fresh
 * database named after the process. Needs REG_TEST_PG (ops/test sets it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "registry/v1/wipe.pb-c.h"
#include "services/core/certs.h"
#include "services/wipe/wipe.h"
#include "storage/pg/pg.h"
#include "tests/unit/services_core/pgtest.h"

#define HOUR_US (INT64_C(3600) * 1000000)
#define DAY_US (24 * HOUR_US)

static char dbname[64];
static pg_conn *pg;
static int64_t now_us;

/* The current CERTIFICATE key, valid since yesterday; and one that becomes
 * valid only tomorrow (retired the day after, so it is not "current"). */
static uint8_t pk_cur[32], sk_cur[64], pk_late[32], sk_late[64];
#define KEY_CUR "c0ffee01"
#define KEY_LATE "c0ffee02"

/* ---- helpers ---- */

static void exec_sql(const char *sql, const pg_params *p) {
  assert_int_equal(pg_query(pg, sql, p, NULL), 0);
}

static void insert_key(const char *key_id, const uint8_t pk[32], int64_t from_us,
                       int64_t until_us) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, key_id);
  pg_params_bytea(&p, pk, 32);
  pg_params_int(&p, from_us);
  if (until_us) pg_params_int(&p, until_us);
  else pg_params_null(&p);
  exec_sql("INSERT INTO signing_keys (purpose, key_id, name, public_key, wrapped_secret, "
           "valid_from, valid_until) VALUES (1, $1, 'test/certificate', $2, '\\x00'::bytea, "
           PG_TS(3) ", " PG_TS(4) ")",
           &p);
}

static void insert_item(const char *id) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  exec_sql("INSERT INTO items (id, kind, details) VALUES ($1, 2, '\\x'::bytea)", &p);
}

/* A packed WipeCertificateBody naming `id`, `item_id`, issued at `at_us`
 * (malloc'd, *len). */
static uint8_t *body_new(const char *id, const char *item_id, int64_t at_us, size_t *len) {
  Registry__V1__WipeCertificateBody b = REGISTRY__V1__WIPE_CERTIFICATE_BODY__INIT;
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = at_us / 1000000;
  ts.nanos = (int32_t)(at_us % 1000000) * 1000;
  b.certificate_id = (char *)id;
  b.registry_id = (char *)"test";
  b.issuer_organization_id = (char *)"org_wiper";
  b.issued_at = &ts;
  b.record_id = (char *)"wpr_x";
  b.item_id = (char *)item_id;
  *len = registry__v1__wipe_certificate_body__get_packed_size(&b);
  uint8_t *out = malloc(*len);
  assert_non_null(out);
  assert_int_equal(registry__v1__wipe_certificate_body__pack(&b, out), *len);
  return out;
}

/* A wipe_records row and a certificate `id` of item `item_id` issued at
 * `at_us`, signed by sk under `key_id`; `tamper` changes the body's last
 * byte (the last character of item_id) after signing. */
static void insert_cert(const char *id, const char *item_id, int64_t at_us, const uint8_t sk[64],
                        const char *key_id, int tamper) {
  size_t len = 0;
  uint8_t *body = body_new(id, item_id, at_us, &len);
  uint8_t sig[64], ref[32];
  assert_int_equal(wipe_cert_sign(sk, body, len, sig), 0);
  if (tamper) body[len - 1] ^= 0x01;
  memset(ref, 0x5a, sizeof(ref));
  char rec[64];
  snprintf(rec, sizeof(rec), "wpr_%s", id);

  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, rec);
  pg_params_text(&p, item_id);
  pg_params_bytea(&p, ref, sizeof(ref));
  pg_params_int(&p, at_us);
  exec_sql("INSERT INTO wipe_records (id, item_id, organization_id, facts, operator_ref, "
           "operator_enc, result, verification, created_at) VALUES ($1, $2, 'org_wiper', "
           "'\\x00'::bytea, $3, '\\x00'::bytea, 1, 3, " PG_TS(4) ")",
           &p);
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, rec);
  pg_params_text(&p, item_id);
  pg_params_bytea(&p, body, len);
  pg_params_bytea(&p, sig, sizeof(sig));
  pg_params_text(&p, key_id);
  pg_params_int(&p, at_us);
  char ev[64];
  snprintf(ev, sizeof(ev), "evt_%s", id);
  pg_params_text(&p, ev);
  exec_sql("INSERT INTO certificates (id, record_id, item_id, issuer_id, body, signature, key_id, "
           "event_id, issued_at) VALUES ($1, $2, $3, 'org_wiper', $4, $5, $6, $8, " PG_TS(7) ")",
           &p);
  free(body);
}

static void revoke(const char *id, const char *reason) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, reason);
  pg_params_int(&p, now_us);
  exec_sql("INSERT INTO certificate_revocations (certificate_id, revoked_by, reason, event_id, "
           "revoked_at) VALUES ($1, 'org_insp', $2, 'evt_revoked', " PG_TS(3) ")",
           &p);
}

/* A listing of the item and its sale, recorded at `at_us`. */
static void insert_sale(const char *item_id, const char *suffix, int64_t at_us) {
  char lid[64], sid[64];
  snprintf(lid, sizeof(lid), "lst_%s", suffix);
  snprintf(sid, sizeof(sid), "sal_%s", suffix);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, lid);
  pg_params_text(&p, item_id);
  pg_params_int(&p, at_us);
  exec_sql("INSERT INTO listings (id, item_id, item_kind, platform_id, seller_kind, seller_ref, "
           "seller_enc, price_fen, status, created_at, updated_at, closed_at) VALUES ($1, $2, 2, "
           "'org_p1', 2, '\\x01'::bytea, '\\x01'::bytea, 100, 3, " PG_TS(3) ", " PG_TS(3) ", "
           PG_TS(3) ")",
           &p);
  pg_params_init(&p);
  pg_params_text(&p, sid);
  pg_params_text(&p, lid);
  pg_params_text(&p, item_id);
  pg_params_int(&p, at_us);
  exec_sql("INSERT INTO sales (id, listing_id, item_id, item_kind, platform_id, seller_kind, "
           "seller_ref, seller_enc, buyer_kind, buyer_ref, buyer_enc, price_fen, sold_on, "
           "created_at) VALUES ($1, $2, $3, 2, 'org_p1', 2, '\\x01'::bytea, '\\x01'::bytea, 2, "
           "'\\x02'::bytea, '\\x02'::bytea, 100, "
           "(" PG_TS(4) " AT TIME ZONE 'Asia/Shanghai')::date, " PG_TS(4) ")",
           &p);
}

/* certs_vouches → its code; *why ("" when none). */
static int vouches(const char *cert, const char *item, const char **why) {
  *why = "";
  return certs_vouches(pg, cert, item, why);
}

/* ---- fixture ---- */

static int setup(void **st) {
  (void)st;
  if (sodium_init() < 0) return -1;
  pg = pgtest_open("reg_certs_test", dbname, sizeof(dbname), NULL, 0);
  if (!pg) return -1;
  now_us = (int64_t)time(NULL) * 1000000;
  crypto_sign_keypair(pk_cur, sk_cur);
  crypto_sign_keypair(pk_late, sk_late);
  insert_key(KEY_CUR, pk_cur, now_us - DAY_US, 0);
  insert_key(KEY_LATE, pk_late, now_us + DAY_US, now_us + 2 * DAY_US);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  sodium_memzero(sk_cur, sizeof(sk_cur));
  sodium_memzero(sk_late, sizeof(sk_late));
  pgtest_close(pg, dbname);
  return 0;
}

/* ---- tests ---- */

static void test_vouches_and_not(void **st) {
  (void)st;
  const char *why;
  insert_item("itm_a");
  insert_item("itm_b");
  insert_cert("crt_ok", "itm_a", now_us - HOUR_US, sk_cur, KEY_CUR, 0);
  assert_int_equal(vouches("crt_ok", "itm_a", &why), 0);
  assert_string_equal(why, "");

  /* unknown: nothing to say why */
  assert_int_equal(vouches("crt_nosuch", "itm_a", &why), REG_ENOTFOUND);
  assert_string_equal(why, "");
  /* another item's certificate */
  assert_int_equal(vouches("crt_ok", "itm_b", &why), REG_EPERM);
  assert_string_equal(why, "names another item");

  /* revoked */
  insert_cert("crt_rev", "itm_a", now_us - HOUR_US, sk_cur, KEY_CUR, 0);
  assert_int_equal(vouches("crt_rev", "itm_a", &why), 0);
  revoke("crt_rev", "operator not qualified");
  assert_int_equal(vouches("crt_rev", "itm_a", &why), REG_EPERM);
  assert_string_equal(why, "is revoked");

  /* a body with one byte changed after signing */
  insert_cert("crt_tamp", "itm_a", now_us - HOUR_US, sk_cur, KEY_CUR, 1);
  assert_int_equal(vouches("crt_tamp", "itm_a", &why), REG_EPERM);
  assert_string_equal(why, "does not verify");

  /* signed by the right key but named as another / an unknown key */
  insert_cert("crt_wrongkey", "itm_a", now_us - HOUR_US, sk_cur, KEY_LATE, 0);
  assert_int_equal(vouches("crt_wrongkey", "itm_a", &why), REG_EPERM);
  assert_string_equal(why, "does not verify");
  insert_cert("crt_unknownkey", "itm_a", now_us - HOUR_US, sk_cur, "deadbeef", 0);
  assert_int_equal(vouches("crt_unknownkey", "itm_a", &why), REG_EPERM);
  assert_string_equal(why, "does not verify");

  /* a key whose validity starts after the certificate's issue */
  insert_cert("crt_early", "itm_a", now_us - HOUR_US, sk_late, KEY_LATE, 0);
  assert_int_equal(vouches("crt_early", "itm_a", &why), REG_EPERM);
  assert_string_equal(why, "does not verify");

  /* on file: the one that vouches, the newer failures skipped */
  char id[48];
  assert_int_equal(certs_on_file(pg, "itm_a", id), 0);
  assert_string_equal(id, "crt_ok");
  assert_int_equal(certs_on_file(pg, "itm_b", id), REG_ENOTFOUND);
}

static void test_sale_resets(void **st) {
  (void)st;
  const char *why;
  char id[48];
  insert_item("itm_s");
  insert_cert("crt_before", "itm_s", now_us - 3 * HOUR_US, sk_cur, KEY_CUR, 0);
  assert_int_equal(certs_on_file(pg, "itm_s", id), 0);
  assert_string_equal(id, "crt_before");

  /* the item is sold: the previous owner's wipe no longer counts */
  insert_sale("itm_s", "s1", now_us - 2 * HOUR_US);
  assert_int_equal(vouches("crt_before", "itm_s", &why), REG_EPERM);
  assert_string_equal(why, "was issued before the item's most recent sale");
  strcpy(id, "unchanged");
  assert_int_equal(certs_on_file(pg, "itm_s", id), REG_ENOTFOUND);
  assert_string_equal(id, "unchanged");

  /* a wipe after the sale vouches and is what is on file, even with newer
   * certificates that are revoked or do not verify */
  insert_cert("crt_after", "itm_s", now_us - HOUR_US, sk_cur, KEY_CUR, 0);
  insert_cert("crt_after_rev", "itm_s", now_us - HOUR_US / 2, sk_cur, KEY_CUR, 0);
  revoke("crt_after_rev", "wrong device");
  insert_cert("crt_after_bad", "itm_s", now_us - HOUR_US / 4, sk_cur, KEY_CUR, 1);
  assert_int_equal(vouches("crt_after", "itm_s", &why), 0);
  assert_int_equal(certs_on_file(pg, "itm_s", id), 0);
  assert_string_equal(id, "crt_after");

  /* the newest of two that vouch */
  insert_cert("crt_newest", "itm_s", now_us - HOUR_US / 8, sk_cur, KEY_CUR, 0);
  assert_int_equal(certs_on_file(pg, "itm_s", id), 0);
  assert_string_equal(id, "crt_newest");

  /* a second sale after all of them */
  insert_sale("itm_s", "s2", now_us - HOUR_US / 16);
  assert_int_equal(certs_on_file(pg, "itm_s", id), REG_ENOTFOUND);
  assert_int_equal(vouches("crt_newest", "itm_s", &why), REG_EPERM);
  assert_string_equal(why, "was issued before the item's most recent sale");
}

static void test_get_and_keys(void **st) {
  (void)st;
  insert_item("itm_g");
  insert_cert("crt_g1", "itm_g", now_us - HOUR_US, sk_cur, KEY_CUR, 0);
  insert_cert("crt_g2", "itm_g", now_us - HOUR_US + 1, sk_cur, KEY_CUR, 0);
  revoke("crt_g2", "records falsified");
  /* crt_g1's event, sequenced at log index 7 */
  exec_sql("INSERT INTO events (event_id, type, organization_id, item_id, certificate_id, leaf, "
           "created_at) VALUES ('evt_crt_g1', 1, 'org_wiper', 'itm_g', 'crt_g1', '\\x00'::bytea, "
           "now())",
           NULL);
  exec_sql("INSERT INTO log_entries (log_index, event_row, leaf_hash) SELECT 7, id, "
           "decode(repeat('ab', 32), 'hex') FROM events WHERE event_id = 'evt_crt_g1'",
           NULL);

  arena *a = arena_new(0);
  assert_non_null(a);
  certs_rec rec;
  assert_int_equal(certs_get(pg, a, "crt_g1", &rec), 0);
  assert_string_equal(rec.msg->id, "crt_g1");
  assert_string_equal(rec.msg->key_id, KEY_CUR);
  assert_string_equal(rec.msg->event_id, "evt_crt_g1");
  assert_true(rec.msg->sequenced);
  assert_int_equal(rec.msg->log_index, 7);
  assert_false(rec.msg->revoked);
  assert_string_equal(rec.msg->revoked_reason, "");
  assert_string_equal(rec.item_id, "itm_g");
  assert_string_equal(rec.issuer_id, "org_wiper");
  assert_int_equal(rec.issued_at_us, now_us - HOUR_US);
  assert_int_equal(rec.msg->signature.len, 64);
  /* the stored bytes verify as they are */
  wipe_cert_key *keys = NULL;
  size_t n = 0;
  assert_int_equal(certs_keys(pg, a, &keys, &n), 0);
  wipe_cert_verdict v;
  wipe_cert_verify(rec.msg, keys, n, rec.msg->revoked, &v);
  assert_true(v.valid);

  assert_int_equal(certs_get(pg, a, "crt_g2", &rec), 0);
  assert_true(rec.msg->revoked);
  assert_string_equal(rec.msg->revoked_reason, "records falsified");
  assert_false(rec.msg->sequenced);
  assert_int_equal(rec.msg->log_index, 0);
  assert_int_equal(rec.issued_at_us, now_us - HOUR_US + 1);
  wipe_cert_verify(rec.msg, keys, n, rec.msg->revoked, &v);
  assert_false(v.valid);
  assert_int_equal(v.n_reasons, 1);
  assert_string_equal(v.reasons[0], "REVOKED");

  memset(&rec, 0x7e, sizeof(rec));
  assert_int_equal(certs_get(pg, a, "crt_none", &rec), REG_ENOTFOUND);
  assert_int_equal(rec.item_id[0], 0x7e); /* untouched */

  /* the keys, oldest first: µs bounds, 0 for a current key's end */
  assert_int_equal(n, 2);
  assert_string_equal(keys[0].key_id, KEY_CUR);
  assert_memory_equal(keys[0].pk, pk_cur, 32);
  assert_int_equal(keys[0].valid_from_us, now_us - DAY_US);
  assert_int_equal(keys[0].valid_until_us, 0);
  assert_string_equal(keys[1].key_id, KEY_LATE);
  assert_memory_equal(keys[1].pk, pk_late, 32);
  assert_int_equal(keys[1].valid_from_us, now_us + DAY_US);
  assert_int_equal(keys[1].valid_until_us, now_us + 2 * DAY_US);
  arena_free(a);
}

int main(void) {
  if (!getenv("REG_TEST_PG")) {
    fprintf(stderr, "REG_TEST_PG not set: run through ops/test\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vouches_and_not),
      cmocka_unit_test(test_sale_resets),
      cmocka_unit_test(test_get_and_keys),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
