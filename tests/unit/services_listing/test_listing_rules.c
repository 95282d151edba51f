/* tests services/listing/listing_rules.c: the cases a registry officer
 * would list — identifiers (VIN, IMEI), vehicle type × use nature, the
 * scrapping-age table and its configuration, anniversaries and
 * anti-flipping, guided scrapping, every status transition for every
 * actor, and each request check naming its bad field. `today` is pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/listing/listing.h"
#include "tests/unit/rulestest.h"

#define TODAY "2026-03-15"

/* Enum values by their short names. */
#define VT(x) REGISTRY__V1__VEHICLE_TYPE__VEHICLE_TYPE_##x
#define UN(x) REGISTRY__V1__USE_NATURE__USE_NATURE_##x
#define LS(x) REGISTRY__V1__LISTING_STATUS__LISTING_STATUS_##x

/* Synthetic identifiers from tests/data/identifiers.json. */
#define VIN_OK "LSVW760SXNP803517"
#define IMEI_OK "352450624427978"
#define ID_OK "140302197003104975"
#define ID_X "14030219600403533X" /* check character X */
#define USCC_OK "911403223AKQ350B93"

static clock_day day(const char *s) {
  clock_day d = 0;
  if (clock_day_parse(s, &d) != 0) fail_msg("bad test date %s", s);
  return d;
}

static char *lower(char *dst, size_t cap, const char *s) {
  snprintf(dst, cap, "%s", s);
  for (char *p = dst; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
  return dst;
}

/* `n` copies of `unit` into a static buffer of its own slot. */
static char *rep(int slot, const char *unit, int n) {
  static char bufs[8][8200];
  char *b = bufs[slot];
  b[0] = 0;
  size_t len = 0, ul = strlen(unit);
  for (int i = 0; i < n && len + ul < sizeof(bufs[0]); i++, len += ul) memcpy(b + len, unit, ul);
  b[len] = 0;
  return b;
}

/* ---- RegisterItem: vehicles ---- */

typedef struct vehicle_case {
  const char *what;
  const char *vin;
  int type, use;             /* 0: SMALL_PASSENGER / NON_COMMERCIAL */
  const char *first_reg;     /* NULL: "2018-05-20" */
  int emission;
  int64_t mileage;
  const char *make, *plate;  /* NULL: "" */
  const char *field;         /* NULL: accepted */
  const char *vin_out;       /* accepted: the normalized VIN; NULL: as given */
} vehicle_case;

static void test_register_vehicle(void **st) {
  (void)st;
  const char *long_make = rep(0, "a", LISTING_TEXT_MAX + 1);
  const char *cjk_make = rep(1, "车", LISTING_TEXT_MAX);
  const vehicle_case cases[] = {
      {"valid", VIN_OK, 0, 0, NULL, 6, 42000, "大众", "晋C12345", NULL, NULL},
      {"valid, another maker", "LHGD8FUEXR8549339", 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL},
      {"valid, check digit X", "LGWLY225X59861013", 0, 0, NULL, 0, 0, NULL, NULL, NULL, NULL},
      {"lower case normalized", "lsvw760sxnp803517", 0, 0, NULL, 0, 0, NULL, NULL, NULL, VIN_OK},
      {"mixed case normalized", "LsvCXHP24t7366695", 0, 0, NULL, 0, 0, NULL, NULL, NULL,
       "LSVCXHP24T7366695"},
      {"O written for 0", "LFV56P700NO496985", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"I written for 1", "LSVA5MEC8PI226644", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"Q written for 0", "LSGH9NYA2373Q0707", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"lower-case i", "lsva5mec8pi226644", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"bad check digit", "LSVW760S9NP803517", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"one character changed", "LSVW760SXNP8T3517", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"16 characters", "LSVW760SXNP80351", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"18 characters", "LSVW760SXNP8035170", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"leading space", " LSVW760SXNP803517", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"empty vin", "", 0, 0, NULL, 0, 0, NULL, NULL, "vehicle.vin", NULL},
      {"type unspecified", VIN_OK, -1, 0, NULL, 0, 0, NULL, NULL, "vehicle.vehicle_type", NULL},
      {"type unknown", VIN_OK, 12, 0, NULL, 0, 0, NULL, NULL, "vehicle.vehicle_type", NULL},
      {"use unspecified", VIN_OK, 0, -1, NULL, 0, 0, NULL, NULL, "vehicle.use_nature", NULL},
      {"use unknown", VIN_OK, 0, 5, NULL, 0, 0, NULL, NULL, "vehicle.use_nature", NULL},
      {"car carrying freight", VIN_OK, VT(SMALL_PASSENGER), UN(COMMERCIAL_FREIGHT), NULL, 0, 0, NULL,
       NULL, "vehicle.use_nature", NULL},
      {"truck as taxi", VIN_OK, VT(HEAVY_TRUCK), UN(TAXI), NULL, 0, 0, NULL, NULL,
       "vehicle.use_nature", NULL},
      {"no first registration date", VIN_OK, 0, 0, "", 0, 0, NULL, NULL, NULL, NULL},
      {"first registered today", VIN_OK, 0, 0, TODAY, 0, 0, NULL, NULL, NULL, NULL},
      {"first registered 29 February", VIN_OK, 0, 0, "2024-02-29", 0, 0, NULL, NULL, NULL, NULL},
      {"first registered tomorrow", VIN_OK, 0, 0, "2026-03-16", 0, 0, NULL, NULL,
       "vehicle.first_registration_date", NULL},
      {"29 February of a common year", VIN_OK, 0, 0, "2023-02-29", 0, 0, NULL, NULL,
       "vehicle.first_registration_date", NULL},
      {"slashes", VIN_OK, 0, 0, "2020/01/01", 0, 0, NULL, NULL, "vehicle.first_registration_date", NULL},
      {"before 1900", VIN_OK, 0, 0, "1899-12-31", 0, 0, NULL, NULL, "vehicle.first_registration_date", NULL},
      {"emission GUO1", VIN_OK, 0, 0, NULL, 1, 0, NULL, NULL, NULL, NULL},
      {"emission unknown", VIN_OK, 0, 0, NULL, 7, 0, NULL, NULL, "vehicle.emission_standard", NULL},
      {"emission negative", VIN_OK, 0, 0, NULL, -1, 0, NULL, NULL, "vehicle.emission_standard", NULL},
      {"negative mileage", VIN_OK, 0, 0, NULL, 0, -1, NULL, NULL, "vehicle.mileage_km", NULL},
      {"mileage at the bound", VIN_OK, 0, 0, NULL, 0, 10000000, NULL, NULL, NULL, NULL},
      {"mileage beyond any odometer", VIN_OK, 0, 0, NULL, 0, 10000001, NULL, NULL, "vehicle.mileage_km", NULL},
      {"make too long", VIN_OK, 0, 0, NULL, 0, 0, long_make, NULL, "vehicle.make", NULL},
      {"make of 200 CJK characters", VIN_OK, 0, 0, NULL, 0, 0, cjk_make, NULL, NULL, NULL},
      {"plate with a line break", VIN_OK, 0, 0, NULL, 0, 0, NULL, "晋C\n12345", "vehicle.plate_no", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const vehicle_case *c = &cases[i];
    char vin[64];
    snprintf(vin, sizeof(vin), "%s", c->vin);
    Registry__V1__Vehicle veh = REGISTRY__V1__VEHICLE__INIT;
    veh.vin = vin;
    veh.vehicle_type = c->type < 0 ? 0 : c->type ? c->type : VT(SMALL_PASSENGER);
    veh.use_nature = c->use < 0 ? 0 : c->use ? c->use : UN(NON_COMMERCIAL);
    veh.first_registration_date = (char *)(c->first_reg ? c->first_reg : "2018-05-20");
    veh.emission_standard = c->emission;
    veh.mileage_km = c->mileage;
    if (c->make) veh.make = (char *)c->make;
    if (c->plate) veh.plate_no = (char *)c->plate;
    Registry__V1__RegisterItemRequest req = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
    req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE;
    req.vehicle = &veh;
    listing_violation v = {{0}, {0}};
    expect(c->what, listing_rules_check_register(&req, day(TODAY), &v), &v, c->field);
    if (!c->field) assert_string_equal(vin, c->vin_out ? c->vin_out : c->vin);
  }
}

/* ---- RegisterItem: electronics ---- */

typedef struct electronic_case {
  const char *what;
  int category;             /* 0: PHONE; -1: UNSPECIFIED */
  const char *brand;        /* NULL: "Apple" */
  const char *imei;
  const char *serial, *model;
  int64_t storage;
  const char *field;
  const char *brand_out;    /* accepted: NULL = as given */
} electronic_case;

static void test_register_electronic(void **st) {
  (void)st;
  const char *long_serial = rep(0, "9", LISTING_TEXT_MAX + 1);
  const electronic_case cases[] = {
      {"valid phone", 0, NULL, IMEI_OK, "F2LX1234", "iPhone 13", 128LL << 30, NULL, NULL},
      {"another IMEI", 0, NULL, "351950751823049", "", "", 0, NULL, NULL},
      {"no IMEI (optional)", 3, NULL, "", "SN-1", "ThinkPad", 512LL << 30, NULL, NULL},
      {"no storage", 5, "HP", "", "CN12345", "", 0, NULL, NULL},
      {"brand trimmed", 0, "  Huawei\t ", IMEI_OK, "", "", 0, NULL, "Huawei"},
      {"bad Luhn digit", 0, NULL, "352450624427979", "", "", 0, "electronic.imei", NULL},
      {"one digit changed", 0, NULL, "351950951823049", "", "", 0, "electronic.imei", NULL},
      {"14 digits", 0, NULL, "35245062442797", "", "", 0, "electronic.imei", NULL},
      {"16 digits", 0, NULL, "3524506244279780", "", "", 0, "electronic.imei", NULL},
      {"a letter", 0, NULL, "3512345678901A4", "", "", 0, "electronic.imei", NULL},
      {"dashes", 0, NULL, "35-245062-442797-8", "", "", 0, "electronic.imei", NULL},
      {"blank IMEI", 0, NULL, "   ", "", "", 0, "electronic.imei", NULL},
      {"category unspecified", -1, NULL, IMEI_OK, "", "", 0, "electronic.category", NULL},
      {"category unknown", 8, NULL, IMEI_OK, "", "", 0, "electronic.category", NULL},
      {"no brand", 0, "", IMEI_OK, "", "", 0, "electronic.brand", NULL},
      {"blank brand", 0, "   ", IMEI_OK, "", "", 0, "electronic.brand", NULL},
      {"serial too long", 0, NULL, IMEI_OK, long_serial, "", 0, "electronic.serial_no", NULL},
      {"model with a control character", 0, NULL, IMEI_OK, "", "X\x01", 0, "electronic.model", NULL},
      {"negative storage", 0, NULL, IMEI_OK, "", "", -1, "electronic.storage_bytes", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const electronic_case *c = &cases[i];
    char brand[64], imei[64];
    snprintf(brand, sizeof(brand), "%s", c->brand ? c->brand : "Apple");
    snprintf(imei, sizeof(imei), "%s", c->imei);
    Registry__V1__Electronic e = REGISTRY__V1__ELECTRONIC__INIT;
    e.category = c->category < 0 ? 0 : c->category ? c->category : 1;
    e.brand = brand;
    e.imei = imei;
    e.serial_no = (char *)c->serial;
    e.model = (char *)c->model;
    e.storage_bytes = c->storage;
    Registry__V1__RegisterItemRequest req = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
    req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC;
    req.electronic = &e;
    listing_violation v = {{0}, {0}};
    expect(c->what, listing_rules_check_register(&req, day(TODAY), &v), &v, c->field);
    if (!c->field) {
      assert_string_equal(brand, c->brand_out ? c->brand_out : (c->brand ? c->brand : "Apple"));
      assert_string_equal(imei, c->imei);
    }
  }
}

/* ---- RegisterItem: goods, and no item at all ---- */

typedef struct goods_case {
  const char *what;
  int category;
  const char *title, *description;
  const char *field;
} goods_case;

static void test_register_goods(void **st) {
  (void)st;
  const goods_case cases[] = {
      {"valid", 2, "实木书桌", "九成新，自提", NULL},
      {"no description", 6, "Bicycle", "", NULL},
      {"200-character title", 3, rep(0, "书", LISTING_TEXT_MAX), "", NULL},
      {"201-character title", 3, rep(1, "书", LISTING_TEXT_MAX + 1), "", "goods.title"},
      {"description of 2000", 1, "Coat", rep(2, "衣", LISTING_LONG_TEXT_MAX), NULL},
      {"description of 2001", 1, "Coat", rep(3, "x", LISTING_LONG_TEXT_MAX + 1), "goods.description"},
      {"description on several lines", 1, "Coat", "size L\nworn twice\r\n\tno stains", NULL},
      {"description with a NUL-like control", 1, "Coat", "a\x07", "goods.description"},
      {"no title", 1, "", "", "goods.title"},
      {"blank title", 1, "  ", "", "goods.title"},
      {"title on two lines", 1, "a\nb", "", "goods.title"},
      {"category unspecified", 0, "Coat", "", "goods.category"},
      {"category unknown", 7, "Coat", "", "goods.category"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const goods_case *c = &cases[i];
    Registry__V1__Goods g = REGISTRY__V1__GOODS__INIT;
    g.category = c->category;
    g.title = (char *)c->title;
    g.description = (char *)c->description;
    Registry__V1__RegisterItemRequest req = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
    req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_GOODS;
    req.goods = &g;
    listing_violation v = {{0}, {0}};
    expect(c->what, listing_rules_check_register(&req, day(TODAY), &v), &v, c->field);
  }
  Registry__V1__RegisterItemRequest none = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
  listing_violation v = {{0}, {0}};
  expect("no item", listing_rules_check_register(&none, day(TODAY), &v), &v, "item");
  none.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE;
  expect("vehicle case, no vehicle", listing_rules_check_register(&none, day(TODAY), &v), &v,
         "vehicle");
}

/* ---- vehicle type × use nature ---- */

#define NC (1u << UN(NON_COMMERCIAL))
#define TX (1u << UN(TAXI))
#define CP (1u << UN(COMMERCIAL_PASSENGER))
#define CF (1u << UN(COMMERCIAL_FREIGHT))

static void test_type_use(void **st) {
  (void)st;
  /* the uses each type accepts (SPEC §6) */
  const struct {
    int type;
    const char *name;
    unsigned uses;
  } rows[] = {
      {0, "UNSPECIFIED", 0},
      {VT(SMALL_PASSENGER), "SMALL_PASSENGER", NC | TX | CP},
      {VT(MICRO_PASSENGER), "MICRO_PASSENGER", NC | TX | CP},
      {VT(MEDIUM_PASSENGER), "MEDIUM_PASSENGER", NC | TX | CP},
      {VT(LARGE_PASSENGER), "LARGE_PASSENGER", NC | TX | CP},
      {VT(MICRO_TRUCK), "MICRO_TRUCK", NC | CF},
      {VT(LIGHT_TRUCK), "LIGHT_TRUCK", NC | CF},
      {VT(MEDIUM_TRUCK), "MEDIUM_TRUCK", NC | CF},
      {VT(HEAVY_TRUCK), "HEAVY_TRUCK", NC | CF},
      {VT(HAZARDOUS_TRUCK), "HAZARDOUS_TRUCK", NC | CF},
      {VT(SCHOOL_BUS), "SCHOOL_BUS", NC | TX | CP},
      {VT(SPECIAL), "SPECIAL", NC | TX | CP | CF},
      {12, "out of range", 0},
      {-1, "negative", 0},
  };
  int checked = 0;
  for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
    for (int use = -1; use <= 5; use++) {
      int ok = use >= 0 && use <= 4 && (rows[r].uses >> use & 1u);
      int rv = listing_rules_type_use(rows[r].type, use);
      if (rv != (ok ? 0 : REG_EINVAL))
        fail_msg("%s × use %d: %d, expected %s", rows[r].name, use, rv, ok ? "accepted" : "refused");
      checked++;
      /* and through RegisterItem, naming vehicle.use_nature */
      if (rows[r].type < 1 || rows[r].type > 11 || use < 1 || use > 4) continue;
      char vin[18] = VIN_OK, what[96];
      Registry__V1__Vehicle veh = REGISTRY__V1__VEHICLE__INIT;
      veh.vin = vin;
      veh.vehicle_type = rows[r].type;
      veh.use_nature = use;
      Registry__V1__RegisterItemRequest req = REGISTRY__V1__REGISTER_ITEM_REQUEST__INIT;
      req.item_case = REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE;
      req.vehicle = &veh;
      listing_violation v = {{0}, {0}};
      snprintf(what, sizeof(what), "register %s × use %d", rows[r].name, use);
      expect(what, listing_rules_check_register(&req, day(TODAY), &v), &v,
             ok ? NULL : "vehicle.use_nature");
    }
  }
  assert_int_equal(checked, 14 * 7);
}

/* ---- scrapping ages ---- */

typedef struct years_row {
  int type, use, years;
} years_row;

/* DOMAIN §2, every valid combination. */
static const years_row default_rows[] = {
    {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 0},
    {VT(SMALL_PASSENGER), UN(TAXI), 8},
    {VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), 10},
    {VT(MICRO_PASSENGER), UN(NON_COMMERCIAL), 0},
    {VT(MICRO_PASSENGER), UN(TAXI), 8},
    {VT(MICRO_PASSENGER), UN(COMMERCIAL_PASSENGER), 10},
    {VT(MEDIUM_PASSENGER), UN(NON_COMMERCIAL), 20},
    {VT(MEDIUM_PASSENGER), UN(TAXI), 10},
    {VT(MEDIUM_PASSENGER), UN(COMMERCIAL_PASSENGER), 15},
    {VT(LARGE_PASSENGER), UN(NON_COMMERCIAL), 20},
    {VT(LARGE_PASSENGER), UN(TAXI), 12},
    {VT(LARGE_PASSENGER), UN(COMMERCIAL_PASSENGER), 15},
    {VT(SCHOOL_BUS), UN(NON_COMMERCIAL), 15},
    {VT(SCHOOL_BUS), UN(TAXI), 15},
    {VT(SCHOOL_BUS), UN(COMMERCIAL_PASSENGER), 15},
    {VT(MICRO_TRUCK), UN(NON_COMMERCIAL), 12},
    {VT(MICRO_TRUCK), UN(COMMERCIAL_FREIGHT), 12},
    {VT(LIGHT_TRUCK), UN(NON_COMMERCIAL), 15},
    {VT(LIGHT_TRUCK), UN(COMMERCIAL_FREIGHT), 15},
    {VT(MEDIUM_TRUCK), UN(NON_COMMERCIAL), 15},
    {VT(MEDIUM_TRUCK), UN(COMMERCIAL_FREIGHT), 15},
    {VT(HEAVY_TRUCK), UN(NON_COMMERCIAL), 15},
    {VT(HEAVY_TRUCK), UN(COMMERCIAL_FREIGHT), 15},
    {VT(HAZARDOUS_TRUCK), UN(NON_COMMERCIAL), 10},
    {VT(HAZARDOUS_TRUCK), UN(COMMERCIAL_FREIGHT), 10},
    {VT(SPECIAL), UN(NON_COMMERCIAL), 0},
    {VT(SPECIAL), UN(TAXI), 0},
    {VT(SPECIAL), UN(COMMERCIAL_PASSENGER), 0},
    {VT(SPECIAL), UN(COMMERCIAL_FREIGHT), 0},
};

static void test_scrap_defaults(void **st) {
  (void)st;
  listing_shutdown(); /* listing_scrap(): the built-in table */
  listing_scrap_table *empty = NULL;
  char err[128];
  assert_int_equal(listing_scrap_table_new("", &empty, err, sizeof(err)), 0);
  const listing_scrap_table *tables[] = {NULL, empty, listing_scrap()};
  const clock_day first = day("2010-06-15");
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < sizeof(default_rows) / sizeof(default_rows[0]); i++) {
      const years_row *r = &default_rows[i];
      int y = listing_scrap_years(tables[k], r->type, r->use, day(TODAY));
      if (y != r->years) fail_msg("type %d use %d: %d years, expected %d", r->type, r->use, y, r->years);
      if (r->years == 0) { /* no limit: never past, even after 60 years */
        assert_false(listing_rules_past_scrapping_age(tables[k], r->type, r->use, first,
                                                      day("2070-06-15")));
        continue;
      }
      clock_day limit = clock_anniversary(first, r->years);
      int y0, m0, d0;
      clock_day_to_ymd(limit, &y0, &m0, &d0);
      assert_int_equal(y0, 2010 + r->years);
      assert_int_equal(m0 * 100 + d0, 615);
      /* the limit is reached ON the anniversary */
      if (listing_rules_past_scrapping_age(tables[k], r->type, r->use, first, limit - 1))
        fail_msg("type %d use %d: past the day before the limit", r->type, r->use);
      if (!listing_rules_past_scrapping_age(tables[k], r->type, r->use, first, limit))
        fail_msg("type %d use %d: not past on the limit", r->type, r->use);
      if (!listing_rules_past_scrapping_age(tables[k], r->type, r->use, first, limit + 1))
        fail_msg("type %d use %d: not past after the limit", r->type, r->use);
    }
    /* unknown type or use: no limit */
    assert_int_equal(listing_scrap_years(tables[k], 0, UN(TAXI), day(TODAY)), 0);
    assert_int_equal(listing_scrap_years(tables[k], VT(SMALL_PASSENGER), 0, day(TODAY)), 0);
    assert_int_equal(listing_scrap_years(tables[k], 99, 99, day(TODAY)), 0);
  }
  listing_scrap_table_free(empty);
  listing_scrap_table_free(NULL);
}

typedef struct leap_case {
  const char *what;
  int type, use;
  const char *first, *today;
  int past;
} leap_case;

static void test_scrap_29_february(void **st) {
  (void)st;
  const leap_case cases[] = {
      /* 10 years from 2016-02-29: 2026 is common, the limit is 28 February */
      {"10 y, day before", VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), "2016-02-29", "2026-02-27", 0},
      {"10 y, 28 February", VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), "2016-02-29", "2026-02-28", 1},
      {"10 y, 1 March", VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), "2016-02-29", "2026-03-01", 1},
      /* 8 years: 2024 is a leap year, the limit is 29 February */
      {"8 y, 28 February", VT(SMALL_PASSENGER), UN(TAXI), "2016-02-29", "2024-02-28", 0},
      {"8 y, 29 February", VT(SMALL_PASSENGER), UN(TAXI), "2016-02-29", "2024-02-29", 1},
      /* a 1 March registration is not moved */
      {"15 y from 1 March, 28 February", VT(HEAVY_TRUCK), UN(COMMERCIAL_FREIGHT), "2011-03-01", "2026-02-28", 0},
      {"15 y from 1 March, 1 March", VT(HEAVY_TRUCK), UN(COMMERCIAL_FREIGHT), "2011-03-01", "2026-03-01", 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const leap_case *c = &cases[i];
    int past = listing_rules_past_scrapping_age(NULL, c->type, c->use, day(c->first), day(c->today));
    if (past != c->past) fail_msg("%s: past %d, expected %d", c->what, past, c->past);
  }
}

/* ---- scrapping ages from configuration ---- */

typedef struct spec_case {
  const char *spec;
  int type, use;
  const char *on;
  int years;
} spec_case;

static void test_scrap_spec(void **st) {
  (void)st;
  const spec_case cases[] = {
      {"", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 8},
      {"   ", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 8},
      {"TAXI/SMALL_PASSENGER=6", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 6},
      {"TAXI/SMALL_PASSENGER=6", VT(MICRO_PASSENGER), UN(TAXI), TODAY, 8}, /* others kept */
      {"TAXI/SMALL_PASSENGER=6", VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), TODAY, 10},
      {"taxi/small_passenger=6", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 6},
      {" TAXI/SMALL_PASSENGER=6 , TAXI/MICRO_PASSENGER=7 ", VT(MICRO_PASSENGER), UN(TAXI), TODAY, 7},
      {"*/SPECIAL=30", VT(SPECIAL), UN(NON_COMMERCIAL), TODAY, 30},
      {"*/SPECIAL=30", VT(SPECIAL), UN(COMMERCIAL_FREIGHT), TODAY, 30},
      {"NON_COMMERCIAL/*=none", VT(LARGE_PASSENGER), UN(NON_COMMERCIAL), TODAY, 0},
      {"NON_COMMERCIAL/*=none", VT(MICRO_TRUCK), UN(NON_COMMERCIAL), TODAY, 0},
      {"NON_COMMERCIAL/*=none", VT(MICRO_TRUCK), UN(COMMERCIAL_FREIGHT), TODAY, 12},
      {"*/*=NONE", VT(HAZARDOUS_TRUCK), UN(COMMERCIAL_FREIGHT), TODAY, 0},
      {"NON_COMMERCIAL/SMALL_PASSENGER=15", VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), TODAY, 15},
      /* same date: the later entry wins */
      {"TAXI/*=9,TAXI/SMALL_PASSENGER=7", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 7},
      {"TAXI/*=9,TAXI/SMALL_PASSENGER=7", VT(MEDIUM_PASSENGER), UN(TAXI), TODAY, 9},
      {"TAXI/SMALL_PASSENGER=7,TAXI/*=9", VT(SMALL_PASSENGER), UN(TAXI), TODAY, 9},
      /* a dated entry: in force on and after its day */
      {"2030-01-01:TAXI/SMALL_PASSENGER=6", VT(SMALL_PASSENGER), UN(TAXI), "2029-12-31", 8},
      {"2030-01-01:TAXI/SMALL_PASSENGER=6", VT(SMALL_PASSENGER), UN(TAXI), "2030-01-01", 6},
      {"2030-01-01:TAXI/SMALL_PASSENGER=6", VT(SMALL_PASSENGER), UN(TAXI), "2031-07-01", 6},
      {"2030-01-01:TAXI/*=6,2035-01-01:TAXI/*=5", VT(MEDIUM_PASSENGER), UN(TAXI), "2029-12-31", 10},
      {"2030-01-01:TAXI/*=6,2035-01-01:TAXI/*=5", VT(MEDIUM_PASSENGER), UN(TAXI), "2034-12-31", 6},
      {"2030-01-01:TAXI/*=6,2035-01-01:TAXI/*=5", VT(MEDIUM_PASSENGER), UN(TAXI), "2035-01-01", 5},
      /* the newer date wins over an undated entry later in the list */
      {"2030-01-01:TAXI/*=6,TAXI/SMALL_PASSENGER=9", VT(SMALL_PASSENGER), UN(TAXI), "2029-12-31", 9},
      {"2030-01-01:TAXI/*=6,TAXI/SMALL_PASSENGER=9", VT(SMALL_PASSENGER), UN(TAXI), "2030-01-01", 6},
      {"2030-01-01:*/HAZARDOUS_TRUCK=none", VT(HAZARDOUS_TRUCK), UN(NON_COMMERCIAL), "2029-12-31", 10},
      {"2030-01-01:*/HAZARDOUS_TRUCK=none", VT(HAZARDOUS_TRUCK), UN(NON_COMMERCIAL), "2030-01-01", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const spec_case *c = &cases[i];
    listing_scrap_table *t = NULL;
    char err[256] = "";
    int rv = listing_scrap_table_new(c->spec, &t, err, sizeof(err));
    if (rv != 0) fail_msg("\"%s\": refused: %s", c->spec, err);
    int y = listing_scrap_years(t, c->type, c->use, day(c->on));
    listing_scrap_table_free(t);
    if (y != c->years)
      fail_msg("\"%s\" type %d use %d on %s: %d years, expected %d", c->spec, c->type, c->use, c->on,
               y, c->years);
  }

  /* the age against a dated change: the limit in force on the day counts */
  listing_scrap_table *t = NULL;
  assert_int_equal(listing_scrap_table_new("2030-01-01:TAXI/SMALL_PASSENGER=6", &t, NULL, 0), 0);
  const clock_day first = day("2024-03-01");
  const struct {
    const char *today;
    int past;
  } ages[] = {{"2029-12-31", 0}, {"2030-01-01", 0}, {"2030-02-28", 0}, {"2030-03-01", 1}};
  for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++)
    if (listing_rules_past_scrapping_age(t, VT(SMALL_PASSENGER), UN(TAXI), first, day(ages[i].today)) !=
        ages[i].past)
      fail_msg("dated table on %s: expected past %d", ages[i].today, ages[i].past);
  listing_scrap_table_free(t);
}

static void test_scrap_spec_bad(void **st) {
  (void)st;
  const char *bad[] = {
      "FOO/SMALL_PASSENGER=6",       "TAXI/FOO=6",
      "UNSPECIFIED/SMALL_PASSENGER=6", "TAXI/UNSPECIFIED=6",
      "TAXI/SMALL_PASSENGER",        "TAXI=6",
      "TAXI/SMALL_PASSENGER=",       "TAXI/SMALL_PASSENGER=abc",
      "TAXI/SMALL_PASSENGER=0",      "TAXI/SMALL_PASSENGER=100",
      "TAXI/SMALL_PASSENGER=-1",     "TAXI/SMALL_PASSENGER=6x",
      "TAXI/SMALL_PASSENGER=6,",     ",",
      "TAXI/SMALL_PASSENGER=6,,TAXI/MICRO_PASSENGER=7",
      "2030-02-30:TAXI/*=6",         "2030-01-01TAXI/*=6",
      "20300101:TAXI/*=6",           ":TAXI/*=6",
      "TAXI/SMALL_PASSENGER=6;TAXI/MICRO_PASSENGER=7",
      "=6",                          "TAXI/*=none,TAXI/*=nope",
      "TAXI/SMALL_PASSENGER=6 years",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    listing_scrap_table *sentinel = (listing_scrap_table *)&sentinel, *t = sentinel;
    char err[256] = "";
    int rv = listing_scrap_table_new(bad[i], &t, err, sizeof(err));
    if (rv != REG_EINVAL) fail_msg("\"%s\": accepted (%d)", bad[i], rv);
    if (t != sentinel) fail_msg("\"%s\": *out written on failure", bad[i]);
    if (!err[0]) fail_msg("\"%s\": no message", bad[i]);
  }
}

static void test_init(void **st) {
  (void)st;
  reg_config cfg;
  config_defaults(&cfg);
  assert_string_equal(cfg.scrapping_age, "");
  assert_true(cfg.guided_scrapping_km == 600000);
  assert_int_equal(listing_init(&cfg), 0);
  assert_int_equal(listing_scrap_years(listing_scrap(), VT(SMALL_PASSENGER), UN(TAXI), day(TODAY)), 8);
  snprintf(cfg.scrapping_age, sizeof(cfg.scrapping_age), "TAXI/SMALL_PASSENGER=6");
  assert_int_equal(listing_init(&cfg), 0);
  assert_int_equal(listing_scrap_years(listing_scrap(), VT(SMALL_PASSENGER), UN(TAXI), day(TODAY)), 6);
  /* a bad spec: REG_EINVAL (message on stderr), the table in force stays */
  snprintf(cfg.scrapping_age, sizeof(cfg.scrapping_age), "TAXI/SMALL_PASSENGER=soon");
  assert_int_equal(listing_init(&cfg), REG_EINVAL);
  assert_int_equal(listing_scrap_years(listing_scrap(), VT(SMALL_PASSENGER), UN(TAXI), day(TODAY)), 6);
  listing_shutdown();
  assert_non_null(listing_scrap());
  assert_int_equal(listing_scrap_years(listing_scrap(), VT(SMALL_PASSENGER), UN(TAXI), day(TODAY)), 8);
  listing_shutdown(); /* twice: harmless */
}

/* ---- guided scrapping ---- */

static void test_guided_scrapping(void **st) {
  (void)st;
  const struct {
    int type, use;
    int64_t km, threshold;
    int warn;
  } cases[] = {
      {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 600000, 600000, 1},
      {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 599999, 600000, 0},
      {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 1200000, 600000, 1},
      {VT(MICRO_PASSENGER), UN(NON_COMMERCIAL), 600000, 600000, 1},
      {VT(MICRO_PASSENGER), UN(NON_COMMERCIAL), 0, 600000, 0},
      {VT(SMALL_PASSENGER), UN(TAXI), 900000, 600000, 0},
      {VT(SMALL_PASSENGER), UN(COMMERCIAL_PASSENGER), 900000, 600000, 0},
      {VT(MEDIUM_PASSENGER), UN(NON_COMMERCIAL), 900000, 600000, 0},
      {VT(LARGE_PASSENGER), UN(NON_COMMERCIAL), 900000, 600000, 0},
      {VT(SCHOOL_BUS), UN(NON_COMMERCIAL), 900000, 600000, 0},
      {VT(LIGHT_TRUCK), UN(NON_COMMERCIAL), 900000, 600000, 0},
      {VT(SPECIAL), UN(NON_COMMERCIAL), 900000, 600000, 0},
      {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 300000, 300000, 1}, /* configured lower */
      {VT(SMALL_PASSENGER), UN(NON_COMMERCIAL), 0, 0, 0},           /* no threshold */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int w = listing_rules_guided_scrapping(cases[i].type, cases[i].use, cases[i].km, cases[i].threshold);
    if (w != cases[i].warn)
      fail_msg("case %zu (type %d use %d %lld km): %d, expected %d", i, cases[i].type, cases[i].use,
               (long long)cases[i].km, w, cases[i].warn);
  }
}

/* ---- anti-flipping ---- */

static void test_flipping(void **st) {
  (void)st;
  const struct {
    const char *bought, *sold;
    int flip;
  } cases[] = {
      {"2025-03-01", "2026-02-28", 1},
      {"2025-03-01", "2026-03-01", 0}, /* a full year: not a flip */
      {"2025-03-01", "2025-03-01", 1},
      {"2024-02-29", "2025-02-27", 1},
      {"2024-02-29", "2025-02-28", 0}, /* anniversary of 29 February: 28 February */
      {"2024-02-28", "2025-02-27", 1},
      {"2025-12-31", "2026-01-01", 1}, /* across the year boundary */
      {"2024-12-15", "2025-12-14", 1},
      {"2024-12-15", "2025-12-15", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int f = listing_rules_is_flip(day(cases[i].bought), day(cases[i].sold));
    if (f != cases[i].flip)
      fail_msg("bought %s sold %s: flip %d, expected %d", cases[i].bought, cases[i].sold, f, cases[i].flip);
  }
  assert_false(listing_rules_flip_refused(0));
  assert_false(listing_rules_flip_refused(1));
  assert_true(listing_rules_flip_refused(2));
  assert_true(listing_rules_flip_refused(3));
  assert_int_equal(LISTING_FLIP_LIMIT, 2);

  /* One seller's history: the counting sales of sold_on's calendar year
   * decide. Two flips in late 2025 do not refuse a flip in January 2026;
   * a third in December 2025 is refused. */
  const struct {
    const char *bought, *sold;
  } history[] = {{"2025-02-01", "2025-11-01"}, {"2025-06-01", "2025-12-20"},
                 {"2024-01-01", "2025-12-21"}}; /* held ~2 years: does not count */
  const struct {
    const char *bought, *sold;
    int refused;
  } next[] = {
      {"2025-09-01", "2025-12-30", 1},
      {"2025-09-01", "2026-01-02", 0},
      {"2024-09-01", "2025-12-30", 0}, /* not a flip: never refused */
  };
  for (size_t k = 0; k < sizeof(next) / sizeof(next[0]); k++) {
    int y, m, d, flips = 0;
    clock_day_to_ymd(day(next[k].sold), &y, &m, &d);
    for (size_t i = 0; i < sizeof(history) / sizeof(history[0]); i++) {
      int hy;
      clock_day_to_ymd(day(history[i].sold), &hy, &m, &d);
      if (hy == y && listing_rules_is_flip(day(history[i].bought), day(history[i].sold))) flips++;
    }
    int refused = listing_rules_is_flip(day(next[k].bought), day(next[k].sold)) &&
                  listing_rules_flip_refused(flips);
    if (refused != next[k].refused)
      fail_msg("sale on %s (%d earlier flips that year): refused %d, expected %d", next[k].sold, flips,
               refused, next[k].refused);
  }
}

/* ---- status transitions: the full matrix for every actor ---- */

static void test_transitions(void **st) {
  (void)st;
  /* rows: from; columns: to; in the order ACTIVE RESERVED SOLD WITHDRAWN
   * SUSPENDED TAKEN_DOWN (values 1..6); 'x' allowed, '.' refused */
  const struct {
    listing_actor actor;
    const char *name;
    const char *grid[6];
  } actors[] = {
      {LISTING_BY_PLATFORM, "platform",
       {/* ACTIVE     */ ".x.x..",
        /* RESERVED   */ "x..x..",
        /* SOLD       */ "......",
        /* WITHDRAWN  */ "......",
        /* SUSPENDED  */ "x..x..",
        /* TAKEN_DOWN */ "......"}},
      {LISTING_BY_SALE, "sale",
       {/* ACTIVE     */ "..x...",
        /* RESERVED   */ "..x...",
        /* SOLD       */ "......",
        /* WITHDRAWN  */ "......",
        /* SUSPENDED  */ "......",
        /* TAKEN_DOWN */ "......"}},
      {LISTING_BY_INSPECTOR, "inspector",
       {/* ACTIVE     */ ".....x",
        /* RESERVED   */ ".....x",
        /* SOLD       */ "......",
        /* WITHDRAWN  */ "......",
        /* SUSPENDED  */ ".....x",
        /* TAKEN_DOWN */ "......"}},
      {LISTING_BY_REGISTRY, "registry",
       {/* ACTIVE     */ "...xx.",
        /* RESERVED   */ "...xx.",
        /* SOLD       */ "......",
        /* WITHDRAWN  */ "......",
        /* SUSPENDED  */ "x..x..",
        /* TAKEN_DOWN */ "......"}},
  };
  static const char *const names[] = {"UNSPECIFIED", "ACTIVE",    "RESERVED",  "SOLD",
                                      "WITHDRAWN",   "SUSPENDED", "TAKEN_DOWN"};
  int allowed = 0, refused = 0;
  for (size_t a = 0; a < 4; a++) {
    for (int from = 0; from <= 7; from++) {
      for (int to = 0; to <= 7; to++) {
        int ok = from >= 1 && from <= 6 && to >= 1 && to <= 6 &&
                 actors[a].grid[from - 1][to - 1] == 'x';
        int rv = listing_rules_transition(from, to, actors[a].actor);
        if (rv != (ok ? 0 : REG_EPERM))
          fail_msg("%s: %s -> %s: %d, expected %s", actors[a].name, from <= 6 ? names[from] : "7",
                   to <= 6 ? names[to] : "7", rv, ok ? "allowed" : "refused");
        if (ok) allowed++;
        else refused++;
      }
    }
  }
  assert_int_equal(allowed, 6 + 2 + 3 + 6);
  assert_int_equal(refused, 4 * 8 * 8 - allowed);
  /* an unknown actor may do nothing */
  assert_int_equal(listing_rules_transition(LS(ACTIVE), LS(RESERVED), (listing_actor)0), REG_EPERM);
  assert_int_equal(listing_rules_transition(LS(ACTIVE), LS(RESERVED), (listing_actor)5), REG_EPERM);
  assert_int_equal(listing_rules_transition(-1, LS(RESERVED), LISTING_BY_PLATFORM), REG_EPERM);
}

/* ---- CreateListing ---- */

enum party_kind { P_PERSON = 0, P_NONE, P_BUSINESS, P_EMPTY, P_BAD_ID, P_LOWER_X, P_BAD_USCC };

typedef struct parties {
  Registry__V1__Party party;
  Registry__V1__Person person;
  Registry__V1__Business business;
  char id[32], uscc[32];
} parties;

/* A Party of `kind` in *p; NULL for P_NONE. */
static Registry__V1__Party *make_party(parties *p, enum party_kind kind) {
  Registry__V1__Party party = REGISTRY__V1__PARTY__INIT;
  Registry__V1__Person person = REGISTRY__V1__PERSON__INIT;
  Registry__V1__Business business = REGISTRY__V1__BUSINESS__INIT;
  p->party = party;
  p->person = person;
  p->business = business;
  snprintf(p->id, sizeof(p->id), "%s", kind == P_BAD_ID ? "140302197003100975"
                                       : kind == P_LOWER_X ? "14030219600403533x"
                                                           : ID_OK);
  snprintf(p->uscc, sizeof(p->uscc), "%s", kind == P_BAD_USCC ? "91140302UGXA6DD569" : USCC_OK);
  p->person.name = "张三";
  p->person.id_number = p->id;
  p->person.phone = "13800000000";
  p->business.uscc = p->uscc;
  p->business.name = "阳泉二手车市场有限公司";
  switch (kind) {
  case P_NONE:
    return NULL;
  case P_EMPTY:
    break;
  case P_BUSINESS:
  case P_BAD_USCC:
    p->party.kind_case = REGISTRY__V1__PARTY__KIND_BUSINESS;
    p->party.business = &p->business;
    break;
  default:
    p->party.kind_case = REGISTRY__V1__PARTY__KIND_PERSON;
    p->party.person = &p->person;
    break;
  }
  return &p->party;
}

typedef struct create_case {
  const char *what;
  const char *item_id; /* NULL: "itm_1" */
  enum party_kind seller;
  int64_t price_fen, mileage_km;
  const char *ref, *market_id, *stall_no, *grade;
  const char *field;
} create_case;

static void test_create(void **st) {
  (void)st;
  const char *long_ref = rep(0, "r", LISTING_TEXT_MAX + 1);
  const create_case cases[] = {
      {.what = "valid, a person"},
      {.what = "valid, a business", .seller = P_BUSINESS},
      {.what = "free item", .price_fen = 0},
      {.what = "a price", .price_fen = 12345600, .mileage_km = 88000, .ref = "JD-123", .grade = "A"},
      {.what = "a market stall", .market_id = "mkt_1", .stall_no = "B-17"},
      {.what = "a market without stall", .market_id = "mkt_1"},
      {.what = "lower-case x normalized", .seller = P_LOWER_X},
      {.what = "no item", .item_id = "", .field = "item_id"},
      {.what = "item id longer than any registry id",
       .item_id = "itm_0123456789012345678901234567890123456789abcd", .field = "item_id"},
      {.what = "item id of the longest registry length",
       .item_id = "itm_0123456789012345678901234567890123456789abc"},
      {.what = "seller missing", .seller = P_NONE, .field = "seller"},
      {.what = "seller of no kind", .seller = P_EMPTY, .field = "seller*"},
      {.what = "seller bad ID", .seller = P_BAD_ID, .field = "seller.person.id_number"},
      {.what = "seller bad USCC", .seller = P_BAD_USCC, .field = "seller.business.uscc"},
      {.what = "negative price", .price_fen = -1, .field = "price_fen"},
      {.what = "reference too long", .ref = long_ref, .field = "platform_listing_ref"},
      {.what = "stall without market", .stall_no = "B-17", .field = "market_id"},
      {.what = "negative mileage", .mileage_km = -5, .field = "mileage_km"},
      {.what = "mileage beyond any odometer", .mileage_km = 900000000000LL, .field = "mileage_km"},
      {.what = "grade on two lines", .grade = "A\nB", .field = "condition_grade"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const create_case *c = &cases[i];
    parties p;
    Registry__V1__CreateListingRequest req = REGISTRY__V1__CREATE_LISTING_REQUEST__INIT;
    req.item_id = (char *)(c->item_id ? c->item_id : "itm_1");
    req.seller = make_party(&p, c->seller);
    req.price_fen = c->price_fen;
    req.mileage_km = c->mileage_km;
    if (c->ref) req.platform_listing_ref = (char *)c->ref;
    if (c->market_id) req.market_id = (char *)c->market_id;
    if (c->stall_no) req.stall_no = (char *)c->stall_no;
    if (c->grade) req.condition_grade = (char *)c->grade;
    listing_violation v = {{0}, {0}};
    expect(c->what, listing_rules_check_create(&req, &v), &v, c->field);
    if (c->seller == P_LOWER_X) assert_string_equal(p.id, ID_X);
  }
}

/* ---- UpdateListing ---- */

static void test_update(void **st) {
  (void)st;
  const struct {
    const char *what;
    const char *listing_id;
    int has_price;
    int64_t price;
    int status;
    const char *field;
  } cases[] = {
      {"nothing to change", "lst_1", 0, 0, 0, NULL},
      {"new price", "lst_1", 1, 990000, 0, NULL},
      {"price 0: free", "lst_1", 1, 0, 0, NULL},
      {"reserve", "lst_1", 0, 0, LS(RESERVED), NULL},
      /* well-formed; the transition rule refuses it (FAILED_PRECONDITION) */
      {"SOLD is a transition question", "lst_1", 0, 0, LS(SOLD), NULL},
      {"TAKEN_DOWN likewise", "lst_1", 0, 0, LS(TAKEN_DOWN), NULL},
      {"no listing", "", 0, 0, 0, "listing_id"},
      {"negative price", "lst_1", 1, -1, 0, "price_fen"},
      {"unknown status", "lst_1", 0, 0, 7, "status"},
      {"negative status", "lst_1", 0, 0, -1, "status"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    Google__Protobuf__Int64Value price = GOOGLE__PROTOBUF__INT64_VALUE__INIT;
    price.value = cases[i].price;
    Registry__V1__UpdateListingRequest req = REGISTRY__V1__UPDATE_LISTING_REQUEST__INIT;
    req.listing_id = (char *)cases[i].listing_id;
    req.price_fen = cases[i].has_price ? &price : NULL;
    req.status = cases[i].status;
    listing_violation v = {{0}, {0}};
    expect(cases[i].what, listing_rules_check_update(&req, &v), &v, cases[i].field);
  }
  Registry__V1__UpdateListingRequest req = REGISTRY__V1__UPDATE_LISTING_REQUEST__INIT;
  req.listing_id = "lst_1";
  req.wipe_certificate_id = rep(0, "c", LISTING_TEXT_MAX + 1);
  listing_violation v = {{0}, {0}};
  expect("certificate id too long", listing_rules_check_update(&req, &v), &v, "wipe_certificate_id");
}

/* ---- RecordSale ---- */

static void test_sale(void **st) {
  (void)st;
  const struct {
    const char *what;
    const char *listing_id;
    enum party_kind buyer;
    int64_t price;
    const char *sold_on;
    const char *field;
  } cases[] = {
      {"valid", "lst_1", P_PERSON, 8800000, "2026-03-01", NULL},
      {"sold today", "lst_1", P_BUSINESS, 0, TODAY, NULL},
      {"sold last year", "lst_1", P_PERSON, 1, "2025-12-31", NULL},
      {"no listing", "", P_PERSON, 1, TODAY, "listing_id"},
      {"buyer missing", "lst_1", P_NONE, 1, TODAY, "buyer"},
      {"buyer bad ID", "lst_1", P_BAD_ID, 1, TODAY, "buyer.person.id_number"},
      {"negative price", "lst_1", P_PERSON, -100, TODAY, "price_fen"},
      {"no date", "lst_1", P_PERSON, 1, "", "sold_on"},
      {"tomorrow", "lst_1", P_PERSON, 1, "2026-03-16", "sold_on"},
      {"next year", "lst_1", P_PERSON, 1, "2027-01-01", "sold_on"},
      {"not a date", "lst_1", P_PERSON, 1, "2026-02-30", "sold_on"},
      {"a timestamp", "lst_1", P_PERSON, 1, "2026-03-01T10:00:00Z", "sold_on"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    parties p;
    Registry__V1__RecordSaleRequest req = REGISTRY__V1__RECORD_SALE_REQUEST__INIT;
    req.listing_id = (char *)cases[i].listing_id;
    req.buyer = make_party(&p, cases[i].buyer);
    req.price_fen = cases[i].price;
    req.sold_on = (char *)cases[i].sold_on;
    listing_violation v = {{0}, {0}};
    clock_day sold = -12345;
    expect(cases[i].what, listing_rules_check_sale(&req, day(TODAY), &sold, &v), &v, cases[i].field);
    if (!cases[i].field) assert_int_equal(sold, day(cases[i].sold_on));
    else assert_int_equal(sold, -12345); /* untouched on failure */
  }
}

/* ---- AttachAppraisal ---- */

static void test_appraisal(void **st) {
  (void)st;
  uint8_t hash[33] = {0};
  const struct {
    const char *what;
    const char *item_id;
    int64_t value;
    size_t hash_len;
    int appraiser; /* 0 valid, 1 missing, 2 bad ID, 3 no name */
    const char *method;
    const char *field;
  } cases[] = {
      {"valid", "itm_1", 8500000, 32, 0, "GB/T 30323-2013", NULL},
      {"no method", "itm_1", 0, 32, 0, "", NULL},
      {"no item", "", 1, 32, 0, "", "item_id"},
      {"negative value", "itm_1", -1, 32, 0, "", "appraised_value_fen"},
      {"no report hash", "itm_1", 1, 0, 0, "", "report_sha256"},
      {"31-byte hash", "itm_1", 1, 31, 0, "", "report_sha256"},
      {"33-byte hash", "itm_1", 1, 33, 0, "", "report_sha256"},
      {"no appraiser", "itm_1", 1, 32, 1, "", "appraiser"},
      {"appraiser bad ID", "itm_1", 1, 32, 2, "", "appraiser.id_number"},
      {"appraiser without name", "itm_1", 1, 32, 3, "", "appraiser.name"},
      {"method too long", "itm_1", 1, 32, 0, rep(0, "m", LISTING_TEXT_MAX + 1), "method"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char id[32];
    snprintf(id, sizeof(id), "%s", cases[i].appraiser == 2 ? "140302197003100975" : ID_OK);
    Registry__V1__Person person = REGISTRY__V1__PERSON__INIT;
    person.name = cases[i].appraiser == 3 ? "" : "李四";
    person.id_number = id;
    Registry__V1__AttachAppraisalRequest req = REGISTRY__V1__ATTACH_APPRAISAL_REQUEST__INIT;
    req.item_id = (char *)cases[i].item_id;
    req.appraised_value_fen = cases[i].value;
    req.method = (char *)cases[i].method;
    req.report_sha256.len = cases[i].hash_len;
    req.report_sha256.data = cases[i].hash_len ? hash : NULL;
    req.appraiser = cases[i].appraiser == 1 ? NULL : &person;
    listing_violation v = {{0}, {0}};
    expect(cases[i].what, listing_rules_check_appraisal(&req, &v), &v, cases[i].field);
  }
}

/* ---- ReportStolen, ClearStolen, item keys ---- */

enum { K_NONE, K_ITEM, K_VIN, K_IMEI };

static void test_stolen(void **st) {
  (void)st;
  const struct {
    const char *what;
    int key;
    const char *value, *normalized;
    const char *ref, *reporter, *reason;
    const char *field;
  } cases[] = {
      {"by item id", K_ITEM, "itm_1", NULL, "阳公刑(2026)17号", "阳泉市公安局", "找回", NULL},
      {"by VIN, normalized", K_VIN, "lsvw760sxnp803517", VIN_OK, "R-1", "", "returned", NULL},
      {"by IMEI", K_IMEI, IMEI_OK, NULL, "R-1", "", "returned", NULL},
      {"no key", K_NONE, "", NULL, "R-1", "", "returned", "key"},
      {"empty item id", K_ITEM, "", NULL, "R-1", "", "returned", "key"},
      {"bad VIN", K_VIN, "LSVW760S9NP803517", NULL, "R-1", "", "returned", "vin"},
      {"bad IMEI", K_IMEI, "352450624427979", NULL, "R-1", "", "returned", "imei"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char key[64], what[96];
    /* ReportStolen */
    snprintf(key, sizeof(key), "%s", cases[i].value);
    Registry__V1__ReportStolenRequest rs = REGISTRY__V1__REPORT_STOLEN_REQUEST__INIT;
    rs.key_case = cases[i].key == K_ITEM   ? REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_ITEM_ID
                  : cases[i].key == K_VIN  ? REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_VIN
                  : cases[i].key == K_IMEI ? REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_IMEI
                                           : REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY__NOT_SET;
    rs.item_id = key; /* the union's one pointer */
    rs.report_ref = (char *)cases[i].ref;
    rs.reporter = (char *)cases[i].reporter;
    listing_violation v = {{0}, {0}};
    snprintf(what, sizeof(what), "report: %s", cases[i].what);
    expect(what, listing_rules_check_report_stolen(&rs, &v), &v, cases[i].field);
    if (!cases[i].field)
      assert_string_equal(key, cases[i].normalized ? cases[i].normalized : cases[i].value);
    /* ClearStolen, the same key */
    snprintf(key, sizeof(key), "%s", cases[i].value);
    Registry__V1__ClearStolenRequest cs = REGISTRY__V1__CLEAR_STOLEN_REQUEST__INIT;
    cs.key_case = (Registry__V1__ClearStolenRequest__KeyCase)rs.key_case;
    cs.item_id = key;
    cs.reason = (char *)cases[i].reason;
    snprintf(what, sizeof(what), "clear: %s", cases[i].what);
    expect(what, listing_rules_check_clear_stolen(&cs, &v), &v, cases[i].field);
  }
  listing_violation v = {{0}, {0}};
  char vin[18] = VIN_OK;
  Registry__V1__ReportStolenRequest rs = REGISTRY__V1__REPORT_STOLEN_REQUEST__INIT;
  rs.key_case = REGISTRY__V1__REPORT_STOLEN_REQUEST__KEY_VIN;
  rs.vin = vin;
  expect("report without reference", listing_rules_check_report_stolen(&rs, &v), &v, "report_ref");
  rs.report_ref = "R-1";
  rs.reporter = rep(0, "p", LISTING_TEXT_MAX + 1);
  expect("reporter too long", listing_rules_check_report_stolen(&rs, &v), &v, "reporter");
  Registry__V1__ClearStolenRequest cs = REGISTRY__V1__CLEAR_STOLEN_REQUEST__INIT;
  cs.key_case = REGISTRY__V1__CLEAR_STOLEN_REQUEST__KEY_VIN;
  cs.vin = vin;
  expect("clear without reason", listing_rules_check_clear_stolen(&cs, &v), &v, "reason");
  cs.reason = rep(1, "r", LISTING_LONG_TEXT_MAX + 1);
  expect("clear reason too long", listing_rules_check_clear_stolen(&cs, &v), &v, "reason");

  /* GetItemHistory's keys, straight */
  char imei[16] = IMEI_OK, lvin[18];
  lower(lvin, sizeof(lvin), VIN_OK);
  expect("key: none", listing_rules_check_item_key(NULL, NULL, NULL, &v), &v, "key");
  expect("key: all empty", listing_rules_check_item_key("", lvin + 17, imei + 15, &v), &v, "key");
  expect("key: two", listing_rules_check_item_key("itm_1", NULL, imei, &v), &v, "key");
  expect("key: item", listing_rules_check_item_key("itm_1", NULL, NULL, &v), &v, NULL);
  expect("key: vin", listing_rules_check_item_key(NULL, lvin, NULL, &v), &v, NULL);
  assert_string_equal(lvin, VIN_OK);
  expect("key: imei", listing_rules_check_item_key(NULL, NULL, imei, &v), &v, NULL);
  char bad[20] = "LSVW760SXNP80351";
  expect("key: short vin", listing_rules_check_item_key(NULL, bad, NULL, &v), &v, "vin");
}

/* ---- ClearBrand, TakeDownListing, RegisterMarket ---- */

static void test_inspector_requests(void **st) {
  (void)st;
  const struct {
    const char *what;
    const char *item_id;
    int brand;
    const char *reason;
    const char *field;
  } brands[] = {
      {"valid", "itm_1", 1, "odometer typo, decision 2026-07", NULL},
      {"no item", "", 1, "typo", "item_id"},
      {"brand unspecified", "itm_1", 0, "typo", "brand"},
      {"brand unknown", "itm_1", 2, "typo", "brand"},
      {"no reason", "itm_1", 1, "", "reason"},
  };
  for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++) {
    Registry__V1__ClearBrandRequest req = REGISTRY__V1__CLEAR_BRAND_REQUEST__INIT;
    req.item_id = (char *)brands[i].item_id;
    req.brand = brands[i].brand;
    req.reason = (char *)brands[i].reason;
    listing_violation v = {{0}, {0}};
    expect(brands[i].what, listing_rules_check_clear_brand(&req, &v), &v, brands[i].field);
  }
  const struct {
    const char *what;
    const char *listing_id, *reason;
    const char *field;
  } downs[] = {
      {"valid", "lst_1", "虚假信息", NULL},
      {"reason on several lines", "lst_1", "fake photos\nsee case 17", NULL},
      {"no listing", "", "fake", "listing_id"},
      {"no reason", "lst_1", "", "reason"},
      {"blank reason", "lst_1", " \n ", "reason"},
      {"reason of 2001", "lst_1", rep(0, "因", LISTING_LONG_TEXT_MAX + 1), "reason"},
  };
  for (size_t i = 0; i < sizeof(downs) / sizeof(downs[0]); i++) {
    Registry__V1__TakeDownListingRequest req = REGISTRY__V1__TAKE_DOWN_LISTING_REQUEST__INIT;
    req.listing_id = (char *)downs[i].listing_id;
    req.reason = (char *)downs[i].reason;
    listing_violation v = {{0}, {0}};
    expect(downs[i].what, listing_rules_check_take_down(&req, &v), &v, downs[i].field);
  }
  const struct {
    const char *what;
    const char *name, *address, *uscc, *uscc_out;
    const char *field;
  } markets[] = {
      {"valid", "桃河跳蚤市场", "阳泉市城区桃河公园东门", USCC_OK, USCC_OK, NULL},
      {"lower-case USCC normalized", "Market", "Somewhere 1", "911403223akq350b93", USCC_OK, NULL},
      {"no operator", "Market", "Somewhere 1", "", "", NULL},
      {"no name", "", "Somewhere 1", "", "", "name"},
      {"no address", "Market", "", "", "", "address"},
      {"bad USCC", "Market", "Somewhere 1", "91140302UGXA6DD569", "", "operator_uscc"},
  };
  for (size_t i = 0; i < sizeof(markets) / sizeof(markets[0]); i++) {
    char uscc[32];
    snprintf(uscc, sizeof(uscc), "%s", markets[i].uscc);
    Registry__V1__RegisterMarketRequest req = REGISTRY__V1__REGISTER_MARKET_REQUEST__INIT;
    req.name = (char *)markets[i].name;
    req.address = (char *)markets[i].address;
    req.operator_uscc = uscc;
    listing_violation v = {{0}, {0}};
    expect(markets[i].what, listing_rules_check_market(&req, &v), &v, markets[i].field);
    if (!markets[i].field) assert_string_equal(uscc, markets[i].uscc_out);
  }
}

/* ---- ListListings, ListSales ---- */

static void test_list_listings(void **st) {
  (void)st;
  const struct {
    const char *what;
    int status, kind;
    const char *id_number, *uscc, *purpose;
    int32_t page_size;
    const char *field;
  } cases[] = {
      {"no filter", 0, 0, "", "", "", 0, NULL},
      {"status and kind", LS(SUSPENDED), REGISTRY__V1__ITEM_KIND__ITEM_KIND_VEHICLE, "", "", "", 0, NULL},
      {"by person with purpose", 0, 0, "14030219600403533x", "", "complaint 17", 0, NULL},
      {"by business", 0, 0, "", "911403223akq350b93", "", 0, NULL},
      {"page_size is not ours", 0, 0, "", "", "", -1, NULL},
      {"status unknown", 7, 0, "", "", "", 0, "status"},
      {"kind unknown", 0, 4, "", "", "", 0, "kind"},
      {"both seller keys", 0, 0, ID_OK, USCC_OK, "x", 0, "seller_uscc"},
      {"by person, no purpose", 0, 0, ID_OK, "", "", 0, "purpose"},
      {"by person, blank purpose", 0, 0, ID_OK, "", "  ", 0, "purpose"},
      {"bad ID number", 0, 0, "140302197003100975", "", "x", 0, "seller_id_number"},
      {"bad USCC", 0, 0, "", "91140302UGXA6DD569", "", 0, "seller_uscc"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char id[32], uscc[32];
    snprintf(id, sizeof(id), "%s", cases[i].id_number);
    snprintf(uscc, sizeof(uscc), "%s", cases[i].uscc);
    Registry__V1__ListListingsRequest req = REGISTRY__V1__LIST_LISTINGS_REQUEST__INIT;
    req.status = cases[i].status;
    req.kind = cases[i].kind;
    req.seller_id_number = id;
    req.seller_uscc = uscc;
    req.purpose = (char *)cases[i].purpose;
    req.page_size = cases[i].page_size;
    listing_violation v = {{0}, {0}};
    expect(cases[i].what, listing_rules_check_list_listings(&req, &v), &v, cases[i].field);
    if (!cases[i].field && id[0]) assert_string_equal(id, ID_X);
    if (!cases[i].field && uscc[0]) assert_string_equal(uscc, USCC_OK);
  }
}

static void test_list_sales(void **st) {
  (void)st;
  const struct {
    const char *what;
    const char *item_id, *seller, *buyer, *platform, *purpose, *from, *to;
    const char *field;
    const char *from_out, *to_out;
  } cases[] = {
      {"no filter, open range", "", "", "", "", "", "", "", NULL, "1900-01-01", "9999-12-31"},
      {"by item, one year", "itm_1", "", "", "", "", "2025-01-01", "2025-12-31", NULL, "2025-01-01",
       "2025-12-31"},
      {"one day", "", "", "", "plt_1", "", TODAY, TODAY, NULL, TODAY, TODAY},
      {"by seller with purpose", "", ID_OK, "", "", "audit", "2025-01-01", "", NULL, "2025-01-01",
       "9999-12-31"},
      {"by buyer with purpose", "", "", ID_OK, "", "audit", "", "2030-01-01", NULL, "1900-01-01",
       "2030-01-01"},
      {"item and seller", "itm_1", ID_OK, "", "", "audit", "", "", "seller_id_number", NULL, NULL},
      {"seller and buyer", "", ID_OK, ID_OK, "", "audit", "", "", "buyer_id_number", NULL, NULL},
      {"item and platform", "itm_1", "", "", "plt_1", "", "", "", "platform_id", NULL, NULL},
      {"seller, no purpose", "", ID_OK, "", "", "", "", "", "purpose", NULL, NULL},
      {"buyer, no purpose", "", "", ID_OK, "", "", "", "", "purpose", NULL, NULL},
      {"bad buyer ID", "", "", "140302197003100975", "", "audit", "", "", "buyer_id_number", NULL, NULL},
      {"bad from", "", "", "", "", "", "2025-13-01", "", "from_on", NULL, NULL},
      {"bad to", "", "", "", "", "", "", "2025/12/31", "to_on", NULL, NULL},
      {"to before from", "", "", "", "", "", "2025-06-02", "2025-06-01", "to_on", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char seller[32], buyer[32];
    snprintf(seller, sizeof(seller), "%s", cases[i].seller);
    snprintf(buyer, sizeof(buyer), "%s", cases[i].buyer);
    Registry__V1__ListSalesRequest req = REGISTRY__V1__LIST_SALES_REQUEST__INIT;
    req.item_id = (char *)cases[i].item_id;
    req.seller_id_number = seller;
    req.buyer_id_number = buyer;
    req.platform_id = (char *)cases[i].platform;
    req.purpose = (char *)cases[i].purpose;
    req.from_on = (char *)cases[i].from;
    req.to_on = (char *)cases[i].to;
    req.page_size = -1; /* not ours: paging is in core */
    clock_day from = -7, to = -7;
    listing_violation v = {{0}, {0}};
    expect(cases[i].what, listing_rules_check_list_sales(&req, &from, &to, &v), &v, cases[i].field);
    if (!cases[i].field) {
      assert_int_equal(from, day(cases[i].from_out));
      assert_int_equal(to, day(cases[i].to_out));
    } else {
      assert_int_equal(from, -7);
      assert_int_equal(to, -7);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_vehicle),
      cmocka_unit_test(test_register_electronic),
      cmocka_unit_test(test_register_goods),
      cmocka_unit_test(test_type_use),
      cmocka_unit_test(test_scrap_defaults),
      cmocka_unit_test(test_scrap_29_february),
      cmocka_unit_test(test_scrap_spec),
      cmocka_unit_test(test_scrap_spec_bad),
      cmocka_unit_test(test_init),
      cmocka_unit_test(test_guided_scrapping),
      cmocka_unit_test(test_flipping),
      cmocka_unit_test(test_transitions),
      cmocka_unit_test(test_create),
      cmocka_unit_test(test_update),
      cmocka_unit_test(test_sale),
      cmocka_unit_test(test_appraisal),
      cmocka_unit_test(test_stolen),
      cmocka_unit_test(test_inspector_requests),
      cmocka_unit_test(test_list_listings),
      cmocka_unit_test(test_list_sales),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
