/* tests services/core/items.c against a real PostgreSQL (label
 * integration): one item per VIN / IMEI / (brand, serial_no), also when two
 * connections register the same VIN at once; goods always new; odometer
 * readings and the rollback brand; ClearBrand; suspension and release of
 * listings for two reasons; the item history with the events of the same
 * changes; item event records (owner masked). Each run uses a fresh
 * database named after the process. Needs REG_TEST_PG (ops/test sets it). */
#include <pthread.h>
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
#include "registry/v1/log.pb-c.h"
#include "services/core/items.h"
#include "services/core/party.h"
#include "storage/pg/pg.h"
#include "tests/unit/services_core/pgtest.h"

#define EV(x) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##x
#define HK(x) REGISTRY__V1__HISTORY_KIND__HISTORY_KIND_##x
#define ROLLBACK REGISTRY__V1__BRAND__BRAND_ODOMETER_ROLLBACK_SUSPECTED

static char dbname[64];
static char conninfo[512];
static pg_conn *pg;
static pii_keyring *ring;

static int setup(void **st) {
  (void)st;
  if (sodium_init() < 0) return -1;
  pg = pgtest_open("reg_items_test", dbname, sizeof(dbname), conninfo, sizeof(conninfo));
  if (!pg) return -1;
  uint8_t master[32], wrapped[PII_WRAPPED_KEY_LEN];
  size_t wlen = 0;
  memset(master, 0x42, sizeof(master));
  if (pii_keyring_new(master, &ring) != 0 ||
      pii_data_key_create(ring, 1, wrapped, sizeof(wrapped), &wlen) != 0)
    return -1;
  items_init(ring);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  items_init(NULL);
  pii_keyring_free(ring);
  pgtest_close(pg, dbname);
  return 0;
}

/* ---- helpers ---- */

static void begin(void) { assert_int_equal(pg_tx_begin(pg, 0), 0); }
static void commit(void) { assert_int_equal(pg_tx_commit(pg), 0); }

/* One text value of a query with up to two text parameters. */
static PGresult *q2(const char *sql, const char *a, const char *b) {
  pg_params p;
  pg_params_init(&p);
  if (a) pg_params_text(&p, a);
  if (b) pg_params_text(&p, b);
  PGresult *r = NULL;
  assert_int_equal(pg_query(pg, sql, &p, &r), 0);
  return r;
}

static long long count2(const char *sql, const char *a, const char *b) {
  PGresult *r = q2(sql, a, b);
  assert_int_equal(PQntuples(r), 1);
  long long n = pg_int(r, 0, 0);
  PQclear(r);
  return n;
}

static int64_t events_of(const char *item_id, int type) {
  char t[16];
  snprintf(t, sizeof(t), "%d", type);
  return count2("SELECT count(*) FROM events WHERE item_id = $1 AND type = $2::int", item_id, t);
}

typedef struct vehicle_buf {
  char vin[18], make[64];
  Registry__V1__Vehicle v;
  Registry__V1__RegisterItemRequest req;
} vehicle_buf;

static Registry__V1__RegisterItemRequest *vehicle(vehicle_buf *b, const char *vin, const char *make,
                                                  int64_t mileage) {
  snprintf(b->vin, sizeof(b->vin), "%s", vin);
  snprintf(b->make, sizeof(b->make), "%s", make);
  registry__v1__vehicle__init(&b->v);
  b->v.vin = b->vin;
  b->v.make = b->make;
  b->v.model = (char *)"";
  b->v.vehicle_type = REGISTRY__V1__VEHICLE_TYPE__VEHICLE_TYPE_SMALL_PASSENGER;
  b->v.use_nature = REGISTRY__V1__USE_NATURE__USE_NATURE_NON_COMMERCIAL;
  b->v.first_registration_date = (char *)"2019-05-20";
  b->v.mileage_km = mileage;
  registry__v1__register_item_request__init(&b->req);
  b->req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE;
  b->req.vehicle = &b->v;
  return &b->req;
}

typedef struct electronic_buf {
  Registry__V1__Electronic e;
  Registry__V1__RegisterItemRequest req;
} electronic_buf;

static Registry__V1__RegisterItemRequest *electronic(electronic_buf *b, const char *imei,
                                                     const char *brand, const char *serial,
                                                     int64_t storage) {
  registry__v1__electronic__init(&b->e);
  b->e.category = REGISTRY__V1__ELECTRONIC_CATEGORY__ELECTRONIC_CATEGORY_PHONE;
  b->e.imei = (char *)imei;
  b->e.brand = (char *)brand;
  b->e.serial_no = (char *)serial;
  b->e.model = (char *)"";
  b->e.storage_bytes = storage;
  registry__v1__register_item_request__init(&b->req);
  b->req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC;
  b->req.electronic = &b->e;
  return &b->req;
}

/* Registers in a transaction of its own. */
static void reg(const Registry__V1__RegisterItemRequest *req, items_row *row, int *created,
                int *rb) {
  begin();
  assert_int_equal(items_register(pg, "org_p1", req, row, created, rb), 0);
  commit();
}

/* The LogLeaf of an event. */
static Registry__V1__LogLeaf *leaf_of(const char *event_id) {
  PGresult *r = q2("SELECT leaf FROM events WHERE event_id = $1", event_id, NULL);
  assert_int_equal(PQntuples(r), 1);
  uint8_t buf[1024];
  long n = pg_bytea(r, 0, 0, buf, sizeof(buf));
  PQclear(r);
  assert_true(n > 0);
  Registry__V1__LogLeaf *l = registry__v1__log_leaf__unpack(NULL, (size_t)n, buf);
  assert_non_null(l);
  return l;
}

static void insert_listing(const char *id, const char *item_id, const char *platform, int status,
                           const char *cert) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_text(&p, item_id);
  pg_params_text(&p, platform);
  pg_params_int(&p, status);
  pg_params_text(&p, cert);
  assert_int_equal(
      pg_query(pg,
               "INSERT INTO listings (id, item_id, item_kind, platform_id, seller_kind, "
               "seller_ref, seller_enc, price_fen, status, wipe_certificate_id) "
               "SELECT $1, $2, kind, $3, 2, '\\x3931'::bytea, '\\x41'::bytea, 100000, $4, $5 "
               "FROM items WHERE id = $2",
               &p, NULL),
      0);
}

static void expect_listing(const char *id, int status, int suspended_for, const char *detail) {
  PGresult *r = q2("SELECT status, suspended_for, status_detail FROM listings WHERE id = $1", id,
                   NULL);
  assert_int_equal(PQntuples(r), 1);
  assert_int_equal(pg_int(r, 0, 0), status);
  assert_int_equal(pg_int(r, 0, 1), suspended_for);
  assert_string_equal(pg_val(r, 0, 2), detail);
  PQclear(r);
}

/* ---- tests ---- */

static void test_vin_same_item(void **st) {
  (void)st;
  vehicle_buf b;
  items_row a1, a2;
  int created = -1, rb = -1;
  reg(vehicle(&b, "LSVW760SXNP803517", "大众", 50000), &a1, &created, &rb);
  assert_int_equal(created, 1);
  assert_int_equal(rb, 0);
  assert_int_equal(a1.kind, REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE);
  assert_int_equal(a1.status, REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_ACTIVE);
  assert_int_equal(a1.highest_mileage_km, 50000);
  assert_int_equal(a1.vehicle_type, REGISTRY__V1__VEHICLE_TYPE__VEHICLE_TYPE_SMALL_PASSENGER);
  assert_int_equal(a1.use_nature, REGISTRY__V1__USE_NATURE__USE_NATURE_NON_COMMERCIAL);
  assert_string_equal(a1.first_registration_date, "2019-05-20");
  assert_int_equal(a1.owner_kind, 0);
  assert_memory_equal(a1.id, "itm_", 4);

  /* again, knowing less and a higher reading: the same item, details merged */
  reg(vehicle(&b, "LSVW760SXNP803517", "", 60000), &a2, &created, &rb);
  assert_int_equal(created, 0);
  assert_int_equal(rb, 0);
  assert_string_equal(a2.id, a1.id);
  assert_int_equal(a2.highest_mileage_km, 60000);
  char id[48];
  assert_int_equal(items_find(pg, "LSVW760SXNP803517", NULL, id), 0);
  assert_string_equal(id, a1.id);
  assert_int_equal(items_find(pg, "LSVCXHP24T7366695", NULL, id), REG_ENOTFOUND);

  arena *a = arena_new(0);
  Registry__V1__Item *it = NULL;
  assert_int_equal(items_get(pg, ring, a, a1.id, 0, &it), 0);
  assert_string_equal(it->id, a1.id);
  assert_int_equal(it->details_case, REGISTRY__V1__ITEM__DETAILS_VEHICLE);
  assert_string_equal(it->vehicle->vin, "LSVW760SXNP803517");
  assert_string_equal(it->vehicle->make, "大众");
  assert_int_equal(it->vehicle->mileage_km, 60000);
  assert_int_equal(it->highest_mileage_km, 60000);
  assert_int_equal(it->n_brands, 0);
  assert_null(it->owner);
  assert_non_null(it->created_at);
  assert_true(it->created_at->seconds > 1700000000);
  arena_free(a);

  /* the registration and the observation (its record changed) */
  assert_int_equal(events_of(a1.id, EV(ITEM_REGISTERED)), 2);
  assert_int_equal(events_of(a1.id, EV(ODOMETER_RECORDED)), 2);
  assert_int_equal(count2("SELECT count(*) FROM odometer_readings WHERE item_id = $1", a1.id, NULL),
                   2);
  /* the item row and its first ITEM_REGISTERED event carry the same time */
  assert_int_equal(count2("SELECT count(*) FROM items i JOIN events e ON e.item_id = i.id "
                          "AND e.type = 7 AND e.created_at = i.created_at WHERE i.id = $1",
                          a1.id, NULL),
                   1);
  /* the history, in order, each row with the event of its change */
  PGresult *r = q2("SELECT h.kind, e.type, h.detail, h.mileage_km, h.at = e.created_at "
                   "FROM item_history h LEFT JOIN events e ON e.event_id = h.event_id "
                   "WHERE h.item_id = $1 ORDER BY h.id",
                   a1.id, NULL);
  assert_int_equal(PQntuples(r), 4);
  static const int kinds[] = {HK(REGISTERED), HK(ODOMETER_READING), HK(REGISTERED),
                              HK(ODOMETER_READING)};
  static const char *types[] = {"7", "8", "7", "8"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pg_int(r, i, 0), kinds[i]);
    assert_string_equal(pg_val(r, i, 1), types[i]);
    assert_true(pg_bool(r, i, 4));
  }
  assert_string_equal(pg_val(r, 2, 2), "observed");
  assert_int_equal(pg_int(r, 3, 3), 60000);
  PQclear(r);

  /* the record of an item event is the packed Item a non-inspector reads */
  r = q2("SELECT event_id FROM events WHERE item_id = $1 ORDER BY id DESC LIMIT 1", a1.id, NULL);
  Registry__V1__LogLeaf *l = leaf_of(pg_val(r, 0, 0));
  PQclear(r);
  a = arena_new(0);
  assert_int_equal(items_get(pg, ring, a, a1.id, 0, &it), 0);
  uint8_t buf[4096], h[32];
  size_t n = registry__v1__item__pack(it, buf);
  crypto_hash_sha256(h, buf, n);
  assert_memory_equal(l->record_sha256.data, h, 32);
  assert_string_equal(l->item_id, a1.id);
  registry__v1__log_leaf__free_unpacked(l, NULL);
  arena_free(a);
}

/* Another connection registering the same VIN while the first has not
 * committed: it waits, then finds the first one's item. */
typedef struct racer {
  const char *vin;
  int rv, created;
  items_row row;
} racer;

static void *race(void *arg) {
  racer *x = arg;
  pg_conn *c = pg_conn_new(conninfo);
  vehicle_buf b;
  x->rv = -100;
  if (!c) return NULL;
  if (pg_tx_begin(c, 10000) == 0) {
    x->rv = items_register(c, "org_p2", vehicle(&b, x->vin, "Buick", 0), &x->row, &x->created,
                           NULL);
    if (x->rv == 0) x->rv = pg_tx_commit(c);
    else pg_tx_rollback(c);
  }
  pg_conn_free(c);
  return NULL;
}

static void test_vin_concurrent(void **st) {
  (void)st;
  vehicle_buf b;
  items_row first;
  int created = -1;
  begin();
  assert_int_equal(items_register(pg, "org_p1", vehicle(&b, "LSGBL8HL9KC878769", "别克", 0),
                                  &first, &created, NULL),
                   0);
  assert_int_equal(created, 1);
  racer x = {.vin = "LSGBL8HL9KC878769"};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, race, &x), 0);
  /* the other transaction waits on our uncommitted row (seen from a third
   * connection: pg_stat_activity is a per-transaction snapshot) */
  PGconn *watch = PQconnectdb(conninfo);
  assert_int_equal(PQstatus(watch), CONNECTION_OK);
  int waiting = 0;
  for (int i = 0; i < 100 && !waiting; i++) {
    PGresult *r = PQexec(watch, "SELECT count(*) FROM pg_stat_activity WHERE "
                                "datname = current_database() AND wait_event_type = 'Lock'");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    waiting = atoi(PQgetvalue(r, 0, 0)) > 0;
    PQclear(r);
    if (!waiting) usleep(20 * 1000);
  }
  PQfinish(watch);
  assert_true(waiting);
  commit();
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(x.rv, 0);
  assert_int_equal(x.created, 0);
  assert_string_equal(x.row.id, first.id);
  assert_int_equal(count2("SELECT count(*) FROM items WHERE vin = $1", x.vin, NULL), 1);
  /* one registration, one observation */
  assert_int_equal(events_of(first.id, EV(ITEM_REGISTERED)), 2);
}

static void test_electronics(void **st) {
  (void)st;
  electronic_buf b;
  items_row e1, e2, e3, e4;
  int created = -1;
  /* by IMEI */
  reg(electronic(&b, "352450624427978", "Apple", "F2LXK0ABCD12", 128LL << 30), &e1, &created,
      NULL);
  assert_int_equal(created, 1);
  assert_int_equal(e1.storage_bytes, 128LL << 30);
  reg(electronic(&b, "352450624427978", "", "", 0), &e2, &created, NULL);
  assert_int_equal(created, 0);
  assert_string_equal(e2.id, e1.id);
  assert_int_equal(e2.storage_bytes, 128LL << 30); /* kept: the observation gave none */
  char id[48];
  assert_int_equal(items_find(pg, NULL, "352450624427978", id), 0);
  assert_string_equal(id, e1.id);
  assert_int_equal(items_find(pg, NULL, NULL, id), REG_EINVAL);
  /* the same device by (brand, serial) without its IMEI */
  reg(electronic(&b, "", "APPLE", "F2LXK0ABCD12", 0), &e3, &created, NULL);
  assert_int_equal(created, 0);
  assert_string_equal(e3.id, e1.id);

  /* by (brand, serial_no), the brand compared case-insensitively and trimmed */
  reg(electronic(&b, "", "Huawei", "SN-0001", 256LL << 30), &e1, &created, NULL);
  assert_int_equal(created, 1);
  reg(electronic(&b, "", " HUAWEI ", "SN-0001", 0), &e2, &created, NULL);
  assert_int_equal(created, 0);
  assert_string_equal(e2.id, e1.id);
  reg(electronic(&b, "", "huawei", "SN-0001", 0), &e2, &created, NULL);
  assert_int_equal(created, 0);
  assert_string_equal(e2.id, e1.id);
  /* another brand with the same serial is another device */
  reg(electronic(&b, "", "Xiaomi", "SN-0001", 0), &e3, &created, NULL);
  assert_int_equal(created, 1);
  assert_string_not_equal(e3.id, e1.id);
  /* a device with no identifier is new every time */
  reg(electronic(&b, "", "Xiaomi", "", 0), &e3, &created, NULL);
  assert_int_equal(created, 1);
  reg(electronic(&b, "", "Xiaomi", "", 0), &e4, &created, NULL);
  assert_int_equal(created, 1);
  assert_string_not_equal(e3.id, e4.id);
}

static void test_goods_always_new(void **st) {
  (void)st;
  Registry__V1__Goods g = REGISTRY__V1__GOODS__INIT;
  g.category = REGISTRY__V1__GOODS_CATEGORY__GOODS_CATEGORY_FURNITURE;
  g.title = (char *)"实木书桌";
  g.description = (char *)"九成新";
  Registry__V1__RegisterItemRequest req = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
  req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_GOODS;
  req.goods = &g;
  items_row g1, g2;
  int created = -1;
  reg(&req, &g1, &created, NULL);
  assert_int_equal(created, 1);
  reg(&req, &g2, &created, NULL);
  assert_int_equal(created, 1);
  assert_string_not_equal(g1.id, g2.id);
  arena *a = arena_new(0);
  Registry__V1__Item *it = NULL;
  assert_int_equal(items_get(pg, ring, a, g2.id, 1, &it), 0);
  assert_int_equal(it->kind, REGISTRY__V1__ITEM_KIND__ITEM_KIND_GOODS);
  assert_int_equal(it->details_case, REGISTRY__V1__ITEM__DETAILS_GOODS);
  assert_string_equal(it->goods->title, "实木书桌");
  assert_int_equal(items_get(pg, ring, a, "itm_none", 1, &it), REG_ENOTFOUND);
  arena_free(a);
  /* odometer readings are for vehicles */
  begin();
  assert_int_equal(items_lock(pg, g1.id, &g2), 0);
  assert_int_equal(items_odometer(pg, &g2, "org_p1", 100, NULL, NULL), REG_EINVAL);
  pg_tx_rollback(pg);
}

static void test_odometer_and_brand(void **st) {
  (void)st;
  vehicle_buf b;
  items_row v;
  int created = -1, rb = -1;
  reg(vehicle(&b, "LHGD8FUEXR8549339", "本田", 100000), &v, &created, &rb);
  assert_int_equal(rb, 0);

  /* lower: branded once, the reading kept */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_odometer(pg, &v, "org_p2", 90000, "lst_x", &rb), 0);
  assert_int_equal(rb, 1);
  assert_int_equal(v.highest_mileage_km, 100000);
  assert_int_equal(v.brands, 1u << ROLLBACK);
  commit();
  /* lower again, and through a registration: warned, not branded twice */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_odometer(pg, &v, "org_p2", 80000, NULL, &rb), 0);
  assert_int_equal(rb, 1);
  commit();
  reg(vehicle(&b, "LHGD8FUEXR8549339", "", 95000), &v, &created, &rb);
  assert_int_equal(created, 0);
  assert_int_equal(rb, 1);
  /* equal and higher: no rollback */
  reg(vehicle(&b, "LHGD8FUEXR8549339", "", 100000), &v, &created, &rb);
  assert_int_equal(rb, 0);
  reg(vehicle(&b, "LHGD8FUEXR8549339", "", 120000), &v, &created, &rb);
  assert_int_equal(rb, 0);
  assert_int_equal(v.highest_mileage_km, 120000);
  assert_int_equal(v.brands, 1u << ROLLBACK);

  assert_int_equal(events_of(v.id, EV(ITEM_BRANDED)), 1);
  assert_int_equal(events_of(v.id, EV(ODOMETER_RECORDED)), 6);
  PGresult *r = q2("SELECT mileage_km, organization_id, coalesce(listing_id, '') "
                   "FROM odometer_readings WHERE item_id = $1 ORDER BY id",
                   v.id, NULL);
  static const int64_t readings[] = {100000, 90000, 80000, 95000, 100000, 120000};
  assert_int_equal(PQntuples(r), 6);
  for (int i = 0; i < 6; i++) assert_int_equal(pg_int(r, i, 0), readings[i]);
  assert_string_equal(pg_val(r, 1, 1), "org_p2");
  assert_string_equal(pg_val(r, 1, 2), "lst_x");
  PQclear(r);
  /* the brand event names the listing of the reading */
  assert_int_equal(count2("SELECT count(*) FROM events WHERE item_id = $1 AND type = 9 "
                          "AND listing_id = 'lst_x' AND organization_id = 'org_p2'",
                          v.id, NULL),
                   1);

  arena *a = arena_new(0);
  Registry__V1__Item *it = NULL;
  assert_int_equal(items_get(pg, ring, a, v.id, 0, &it), 0);
  assert_int_equal(it->n_brands, 1);
  assert_int_equal(it->brands[0], ROLLBACK);
  arena_free(a);

  /* ClearBrand: gone, both in the history; a second clear finds none */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_clear_brand(pg, &v, "org_insp", ROLLBACK, "typo at intake", "SJ-2024-7"),
                   0);
  assert_int_equal(v.brands, 0);
  assert_int_equal(items_clear_brand(pg, &v, "org_insp", ROLLBACK, "again", ""), REG_ENOTFOUND);
  assert_int_equal(items_clear_brand(pg, &v, "org_insp", 0, "x", ""), REG_EINVAL);
  commit();
  assert_int_equal(events_of(v.id, EV(BRAND_CLEARED)), 1);
  /* a new rollback after the correction brands it again */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_odometer(pg, &v, "org_p1", 110000, NULL, &rb), 0);
  assert_int_equal(rb, 1);
  assert_int_equal(v.brands, 1u << ROLLBACK);
  commit();
  assert_int_equal(events_of(v.id, EV(ITEM_BRANDED)), 2);

  /* the history, in order, each row with the event of its change */
  r = q2("SELECT h.kind, coalesce(e.type, 0), h.detail, h.mileage_km, h.organization_id "
         "FROM item_history h LEFT JOIN events e ON e.event_id = h.event_id "
         "WHERE h.item_id = $1 ORDER BY h.id",
         v.id, NULL);
  static const struct {
    int kind, type;
    int64_t mileage;
  } want[] = {
      {HK(REGISTERED), EV(ITEM_REGISTERED), 0},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 100000},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 90000},
      {HK(BRANDED), EV(ITEM_BRANDED), 90000},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 80000},
      {HK(REGISTERED), EV(ITEM_REGISTERED), 0},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 95000},
      {HK(REGISTERED), EV(ITEM_REGISTERED), 0},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 100000},
      {HK(REGISTERED), EV(ITEM_REGISTERED), 0},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 120000},
      {HK(BRAND_CLEARED), EV(BRAND_CLEARED), 0},
      {HK(ODOMETER_READING), EV(ODOMETER_RECORDED), 110000},
      {HK(BRANDED), EV(ITEM_BRANDED), 110000},
  };
  int rows = (int)(sizeof(want) / sizeof(want[0]));
  assert_int_equal(PQntuples(r), rows);
  for (int i = 0; i < rows; i++) {
    assert_int_equal(pg_int(r, i, 0), want[i].kind);
    assert_int_equal(pg_int(r, i, 1), want[i].type);
    assert_int_equal(pg_int(r, i, 3), want[i].mileage);
  }
  assert_string_equal(pg_val(r, 3, 2), "ODOMETER_ROLLBACK_SUSPECTED");
  assert_string_equal(pg_val(r, 11, 2),
                      "ODOMETER_ROLLBACK_SUSPECTED: typo at intake (decision SJ-2024-7)");
  assert_string_equal(pg_val(r, 11, 4), "org_insp");
  PQclear(r);
  /* append-only */
  assert_int_not_equal(pg_query(pg, "DELETE FROM odometer_readings", NULL, NULL), 0);
}

static void test_status_and_lock(void **st) {
  (void)st;
  vehicle_buf b;
  items_row v;
  int created = -1;
  reg(vehicle(&b, "LFV56P700N0496985", "一汽", 0), &v, &created, NULL);
  assert_int_equal(v.highest_mileage_km, 0);
  assert_int_equal(events_of(v.id, EV(ODOMETER_RECORDED)), 0); /* 0 is no reading */
  begin();
  assert_int_equal(items_set_status(pg, &v, REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_STOLEN), 0);
  assert_int_equal(v.status, REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_STOLEN);
  assert_int_equal(items_set_status(pg, &v, 9), REG_EINVAL);
  commit();
  items_row again;
  begin();
  assert_int_equal(items_lock(pg, v.id, &again), 0);
  assert_int_equal(again.status, REGISTRY__V1__ITEM_STATUS__ITEM_STATUS_STOLEN);
  assert_int_equal(items_lock(pg, "itm_missing", &again), REG_ENOTFOUND);
  pg_tx_rollback(pg);
  assert_int_equal(events_of(v.id, EV(ITEM_REGISTERED)), 1); /* set_status appends nothing */
  assert_int_equal(count2("SELECT count(*) FROM events WHERE item_id = $1", v.id, NULL), 1);
}

static void expect_ids(char **ids, size_t n, const char *a, const char *b) {
  size_t want = (a != NULL) + (b != NULL);
  assert_int_equal(n, want);
  if (a) assert_string_equal(ids[0], a);
  if (b) assert_string_equal(ids[1], b);
}

static void test_suspend_release(void **st) {
  (void)st;
  vehicle_buf b;
  items_row v;
  int created = -1;
  reg(vehicle(&b, "LVSJNYN9025568379", "福特", 0), &v, &created, NULL);
  begin();
  insert_listing("lst_s1", v.id, "org_p1", 1, "crt_1");
  insert_listing("lst_s2", v.id, "org_p2", 2, "crt_2");
  insert_listing("lst_s3", v.id, "org_p3", 4, "crt_1");
  commit();

  arena *a = arena_new(0);
  char **ids = NULL;
  size_t n = 99;
  /* stolen: both open listings */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_suspend_listings(pg, a, &v, "org_insp", ITEMS_SUSPENDED_STOLEN, NULL,
                                          &ids, &n),
                   0);
  commit();
  expect_ids(ids, n, "lst_s1", "lst_s2");
  expect_listing("lst_s1", 5, 1, "ITEM_STOLEN");
  expect_listing("lst_s2", 5, 1, "ITEM_STOLEN");
  expect_listing("lst_s3", 4, 0, ""); /* withdrawn: not open */

  /* the certificate of lst_s1 revoked too: it gains the reason */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_suspend_listings(pg, a, &v, "org_wiper", ITEMS_SUSPENDED_CERTIFICATE,
                                          "crt_1", &ids, &n),
                   0);
  assert_int_equal(items_suspend_listings(pg, a, &v, "org_wiper", 4, NULL, &ids, &n),
                   REG_EINVAL);
  commit();
  expect_ids(ids, n, NULL, NULL);
  expect_listing("lst_s1", 5, 3, "ITEM_STOLEN");
  expect_listing("lst_s2", 5, 1, "ITEM_STOLEN");
  /* suspending again for a reason it has changes nothing */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_suspend_listings(pg, a, &v, "org_insp", ITEMS_SUSPENDED_STOLEN, NULL,
                                          &ids, &n),
                   0);
  commit();
  expect_ids(ids, n, NULL, NULL);
  assert_int_equal(events_of(v.id, EV(LISTING_SUSPENDED)), 3);

  /* stolen cleared: lst_s2 returns, lst_s1 still waits for a certificate */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_release_listings(pg, a, &v, "org_insp", ITEMS_SUSPENDED_STOLEN, &ids, &n),
                   0);
  commit();
  expect_ids(ids, n, "lst_s2", NULL);
  expect_listing("lst_s1", 5, 2, "CERTIFICATE_REVOKED");
  expect_listing("lst_s2", 1, 0, "");
  /* a new certificate: lst_s1 returns too */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(
      items_release_listings(pg, a, &v, "org_p1", ITEMS_SUSPENDED_CERTIFICATE, &ids, &n), 0);
  commit();
  expect_ids(ids, n, "lst_s1", NULL);
  expect_listing("lst_s1", 1, 0, "");
  /* nothing left to release */
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_release_listings(pg, a, &v, "org_insp", ITEMS_SUSPENDED_STOLEN, &ids, &n),
                   0);
  commit();
  expect_ids(ids, n, NULL, NULL);

  assert_int_equal(events_of(v.id, EV(LISTING_REACTIVATED)), 2);
  /* LISTING_SUSPENDED: s1, s2, s1 gaining a reason, s1 losing one */
  assert_int_equal(events_of(v.id, EV(LISTING_SUSPENDED)), 4);
  assert_int_equal(count2("SELECT count(*) FROM events WHERE listing_id = 'lst_s3'", NULL, NULL),
                   0);

  /* the record: "registry.v1.ListingSuspension\n<id>\n<status>\n<suspended_for>\n" */
  PGresult *r = q2("SELECT event_id FROM events WHERE listing_id = 'lst_s1' ORDER BY id", NULL,
                   NULL);
  assert_int_equal(PQntuples(r), 4);
  static const char *recs[] = {
      "registry.v1.ListingSuspension\nlst_s1\n5\n1\n",
      "registry.v1.ListingSuspension\nlst_s1\n5\n3\n",
      "registry.v1.ListingSuspension\nlst_s1\n5\n2\n",
      "registry.v1.ListingSuspension\nlst_s1\n1\n0\n",
  };
  for (int i = 0; i < 4; i++) {
    Registry__V1__LogLeaf *l = leaf_of(pg_val(r, i, 0));
    uint8_t h[32];
    crypto_hash_sha256(h, (const uint8_t *)recs[i], strlen(recs[i]));
    assert_memory_equal(l->record_sha256.data, h, 32);
    assert_string_equal(l->item_id, v.id);
    assert_string_equal(l->listing_id, "lst_s1");
    registry__v1__log_leaf__free_unpacked(l, NULL);
  }
  PQclear(r);
  /* each listing's updated_at is the time of its last event */
  assert_int_equal(count2("SELECT count(*) FROM listings l WHERE l.item_id = $1 AND l.updated_at = "
                          "(SELECT max(created_at) FROM events e WHERE e.listing_id = l.id)",
                          v.id, NULL),
                   2);
  /* history: one LISTING_STATUS_CHANGED per status change, with its event */
  r = q2("SELECT h.listing_id, h.detail, e.type FROM item_history h "
         "JOIN events e ON e.event_id = h.event_id WHERE h.item_id = $1 AND h.kind = $2::int "
         "ORDER BY h.id",
         v.id, "7");
  assert_int_equal(PQntuples(r), 4);
  assert_string_equal(pg_val(r, 0, 0), "lst_s1");
  assert_string_equal(pg_val(r, 0, 1), "ACTIVE -> SUSPENDED (ITEM_STOLEN)");
  assert_string_equal(pg_val(r, 1, 0), "lst_s2");
  assert_string_equal(pg_val(r, 1, 1), "RESERVED -> SUSPENDED (ITEM_STOLEN)");
  assert_string_equal(pg_val(r, 2, 0), "lst_s2");
  assert_string_equal(pg_val(r, 2, 1), "SUSPENDED -> ACTIVE");
  assert_int_equal(pg_int(r, 2, 2), EV(LISTING_REACTIVATED));
  assert_string_equal(pg_val(r, 3, 0), "lst_s1");
  PQclear(r);
  arena_free(a);
}

static void test_owner_masked_in_events(void **st) {
  (void)st;
  vehicle_buf b;
  items_row v;
  int created = -1;
  reg(vehicle(&b, "LSG6HDV5XFN073441", "雪佛兰", 30000), &v, &created, NULL);

  /* record an owner as a sale would */
  arena *a = arena_new(0);
  Registry__V1__Person person = REGISTRY__V1__PERSON__INIT;
  person.name = (char *)"张小三";
  person.id_number = (char *)"140302197003104975";
  person.phone = (char *)"13812345678";
  Registry__V1__Party party = REGISTRY__V1__PARTY__INIT;
  party.kind_case = REGISTRY__V1__PARTY__KIND_PERSON;
  party.person = &person;
  party_sealed s;
  assert_int_equal(party_seal(ring, a, &party, "items", "owner", v.id, &s), 0);
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, v.id);
  pg_params_int(&p, s.kind);
  pg_params_bytea(&p, s.ref, s.ref_len);
  pg_params_bytea(&p, s.enc, s.enc_len);
  assert_int_equal(pg_query(pg,
                            "UPDATE items SET owner_kind = $2, owner_ref = $3, owner_enc = $4, "
                            "transfer_count = 1 WHERE id = $1",
                            &p, NULL),
                   0);

  Registry__V1__Item *it = NULL;
  assert_int_equal(items_get(pg, ring, a, v.id, 1, &it), 0);
  assert_string_equal(it->owner->person->name, "张小三");
  assert_string_equal(it->owner->person->id_number, "140302197003104975");
  assert_int_equal(it->transfer_count, 1);
  assert_int_equal(items_get(pg, ring, a, v.id, 0, &it), 0);
  assert_string_equal(it->owner->person->name, "张*三");
  assert_string_equal(it->owner->person->id_number, "1403**********4975");
  assert_string_equal(it->owner->person->phone, "138****5678");

  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(v.owner_kind, PARTY_PERSON);
  assert_int_equal(v.owner_ref_len, 32);
  assert_memory_equal(v.owner_ref, s.ref, 32);
  assert_int_equal(v.transfer_count, 1);
  char eid[48];
  assert_int_equal(items_odometer(pg, &v, "org_p1", 35000, NULL, NULL), 0);
  assert_int_equal(items_event(pg, ring, a, EV(ITEM_SCRAPPED), "org_r", v.id, eid), 0);
  commit();
  Registry__V1__LogLeaf *l = leaf_of(eid);
  assert_int_equal(l->type, EV(ITEM_SCRAPPED));
  assert_string_equal(l->organization_id, "org_r");
  assert_int_equal(items_get(pg, ring, a, v.id, 0, &it), 0); /* masked */
  uint8_t buf[4096], h[32];
  size_t n = registry__v1__item__pack(it, buf);
  crypto_hash_sha256(h, buf, n);
  assert_memory_equal(l->record_sha256.data, h, 32);
  assert_null(memmem(buf, n, "张小三", strlen("张小三")));
  registry__v1__log_leaf__free_unpacked(l, NULL);

  /* a business owner reads back with its USCC */
  Registry__V1__Business biz = REGISTRY__V1__BUSINESS__INIT;
  biz.uscc = (char *)"91140302GGXA6DD569";
  biz.name = (char *)"某某车行";
  party.kind_case = REGISTRY__V1__PARTY__KIND_BUSINESS;
  party.business = &biz;
  assert_int_equal(party_seal(ring, a, &party, "items", "owner", v.id, &s), 0);
  pg_params_init(&p);
  pg_params_text(&p, v.id);
  pg_params_int(&p, s.kind);
  pg_params_bytea(&p, s.ref, s.ref_len);
  pg_params_bytea(&p, s.enc, s.enc_len);
  assert_int_equal(pg_query(pg,
                            "UPDATE items SET owner_kind = $2, owner_ref = $3, owner_enc = $4 "
                            "WHERE id = $1",
                            &p, NULL),
                   0);
  assert_int_equal(items_get(pg, ring, a, v.id, 0, &it), 0);
  assert_string_equal(it->owner->business->uscc, "91140302GGXA6DD569");
  assert_string_equal(it->owner->business->name, "某某车行");

  /* a person owner and no keyring: refused, nothing half-written */
  pg_params_init(&p);
  pg_params_text(&p, v.id);
  assert_int_equal(pg_query(pg,
                            "UPDATE items i SET owner_kind = 1, owner_ref = x.ref, owner_enc = x.enc "
                            "FROM (SELECT '\\x00'::bytea AS ref, '\\x00'::bytea AS enc) x "
                            "WHERE i.id = $1",
                            &p, NULL),
                   0);
  items_init(NULL);
  begin();
  assert_int_equal(items_lock(pg, v.id, &v), 0);
  assert_int_equal(items_odometer(pg, &v, "org_p1", 36000, NULL, NULL), REG_EIO);
  pg_tx_rollback(pg);
  items_init(ring);
  assert_int_equal(items_get(pg, ring, a, v.id, 0, &it), REG_ECRYPTO); /* not this row's */
  arena_free(a);
}

int main(void) {
  if (!getenv("REG_TEST_PG")) {
    fprintf(stderr, "REG_TEST_PG not set: run through ops/test\n");
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vin_same_item),
      cmocka_unit_test(test_vin_concurrent),
      cmocka_unit_test(test_electronics),
      cmocka_unit_test(test_goods_always_new),
      cmocka_unit_test(test_odometer_and_brand),
      cmocka_unit_test(test_status_and_lock),
      cmocka_unit_test(test_suspend_release),
      cmocka_unit_test(test_owner_masked_in_events),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
