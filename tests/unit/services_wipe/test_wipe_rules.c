/* tests services/wipe/wipe_rules.c: the cases a sanitization auditor
 * would list — the whole consistency matrix of SPEC §4.3 (method ×
 * technique, DEGAUSS × media type, passes and random pass × technique,
 * verification × coverage, destination after destruction or degaussing),
 * DOMAIN §3 sufficiency per media type and technique, the refusal reasons
 * and their order, and each field check naming its bad field. `now` is
 * pinned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "services/wipe/wipe.h"
#include "tests/unit/rulestest.h"

/* 2026-03-15T10:00:00+08:00 */
#define NOW_US (INT64_C(1773540000) * 1000000)
#define HOUR_US (INT64_C(3600) * 1000000)
#define MIN_US (INT64_C(60) * 1000000)

/* Enum values by their short names. */
#define MT(x) REGISTRY__V1__MEDIA_TYPE__MEDIA_TYPE_##x
#define WM(x) REGISTRY__V1__WIPE_METHOD__WIPE_METHOD_##x
#define WT(x) REGISTRY__V1__WIPE_TECHNIQUE__WIPE_TECHNIQUE_##x
#define VF(x) REGISTRY__V1__VERIFICATION__VERIFICATION_##x
#define DS(x) REGISTRY__V1__DESTINATION__DESTINATION_##x
#define WR(x) REGISTRY__V1__WIPE_RESULT__WIPE_RESULT_##x
#define EC(x) REGISTRY__V1__ELECTRONIC_CATEGORY__ELECTRONIC_CATEGORY_##x

/* Synthetic identifiers from tests/data/identifiers.json. */
#define IMEI_OK "352450624427978"
#define IMEI_OK2 "351950751823049"

#define N_TECHNIQUES 8 /* OVERWRITE … OTHER */

/* `n` copies of `unit` into a static buffer of its own slot. */
static char *rep(int slot, const char *unit, int n) {
  static char bufs[6][1024];
  char *b = bufs[slot];
  size_t len = 0, ul = strlen(unit);
  for (int i = 0; i < n && len + ul < sizeof(bufs[0]); i++, len += ul) memcpy(b + len, unit, ul);
  b[len] = 0;
  return b;
}

/* Checks a refusal reason; want NULL: a certificate. */
static void expect_reason(const char *what, const char *got, const char *want) {
  if (!want && got) fail_msg("%s: refused %s, expected a certificate", what, got);
  if (want && (!got || strcmp(got, want) != 0))
    fail_msg("%s: got %s, expected %s", what, got ? got : "a certificate", want);
}

/* ---- a submission to vary ---- */

/* A laptop's HDD overwritten 3 times with a random pass, fully verified,
 * for resale: valid, and it earns a certificate. Strings the check may
 * normalize live in the fixture's own buffers. */
typedef struct sub {
  Registry__V1__SubmitWipeRequest req;
  Registry__V1__Device dev;
  Registry__V1__Medium m[WIPE_MEDIA_MAX + 1];
  Registry__V1__Medium *mp[WIPE_MEDIA_MAX + 1];
  Google__Protobuf__Timestamp started, finished, performed;
  char brand[64], imei[64], serial[64], item_id[64];
} sub;

static void ts_set(Google__Protobuf__Timestamp *t, int64_t us) {
  int64_t s = us / 1000000, r = us % 1000000;
  if (r < 0) {
    s--;
    r += 1000000;
  }
  t->seconds = s;
  t->nanos = (int32_t)(r * 1000);
}

/* types: 0-terminated list of media types. */
static void set_media(sub *s, const int *types) {
  size_t n = 0;
  for (; n <= WIPE_MEDIA_MAX && types[n]; n++) {
    s->m[n] = (Registry__V1__Medium)REGISTRY__V1__MEDIUM__INIT;
    s->m[n].type = types[n];
    s->m[n].serial_no = (char *)"WD-WX11A1234567";
    s->m[n].capacity_bytes = INT64_C(500107862016);
    s->mp[n] = &s->m[n];
  }
  s->req.n_media = n;
  s->req.media = s->mp;
}

static void sub_init(sub *s) {
  memset(s, 0, sizeof(*s));
  s->req = (Registry__V1__SubmitWipeRequest)REGISTRY__V1__SUBMIT_WIPE_REQUEST__INIT;
  s->dev = (Registry__V1__Device)REGISTRY__V1__DEVICE__INIT;
  s->dev.category = EC(COMPUTER);
  snprintf(s->brand, sizeof(s->brand), "Lenovo");
  snprintf(s->serial, sizeof(s->serial), "PF1ABCDE");
  s->dev.brand = s->brand;
  s->dev.model = (char *)"ThinkPad T480";
  s->dev.imei = s->imei; /* "" */
  s->dev.serial_no = s->serial;
  s->dev.item_id = s->item_id; /* "" */
  s->req.request_id = (char *)"7d0b8f2e-3c1a-4b5e-9f6d-2a8c4e1b0f93";
  s->req.device = &s->dev;
  set_media(s, (const int[]){MT(HDD), 0});
  s->req.method = WM(CLEAR);
  s->req.technique = WT(OVERWRITE);
  s->req.passes = 3;
  s->req.random_pass = 1;
  s->req.verification = VF(FULL);
  s->req.verified_percent = 100;
  s->req.tool_name = (char *)"nwipe";
  s->req.tool_version = (char *)"0.34";
  s->req.operator_name = (char *)"张三";
  s->started = (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  s->finished = s->started;
  s->performed = s->started;
  ts_set(&s->started, NOW_US - 3 * HOUR_US);
  ts_set(&s->finished, NOW_US - HOUR_US);
  ts_set(&s->performed, NOW_US - HOUR_US);
  s->req.started_at = &s->started;
  s->req.finished_at = &s->finished;
  s->req.performed_at = &s->performed;
  s->req.destination = DS(RESALE);
  s->req.result = WR(SUCCESS);
}

static int check(sub *s, wipe_violation *v) {
  memset(v, 0, sizeof(*v));
  return wipe_rules_check_submit(&s->req, NOW_US, v);
}

/* The consistency fields of a case; media 0-terminated (empty: one HDD). */
typedef struct combo {
  int method, technique, passes, random_pass;
  int verification, percent, destination;
  int media[5];
} combo;

static void apply(sub *s, const combo *c) {
  s->req.method = c->method;
  s->req.technique = c->technique;
  s->req.passes = c->passes;
  s->req.random_pass = c->random_pass;
  s->req.verification = c->verification;
  s->req.verified_percent = c->percent;
  s->req.destination = c->destination;
  if (c->media[0]) set_media(s, c->media);
}

static const char *const technique_names[N_TECHNIQUES + 1] = {
    "UNSPECIFIED", "OVERWRITE", "BLOCK_ERASE", "CRYPTO_ERASE", "FACTORY_RESET_ENCRYPTED",
    "DEGAUSS",     "SHRED",     "DISINTEGRATE", "OTHER",
};

static void test_baseline(void **st) {
  (void)st;
  sub s;
  wipe_violation v;
  sub_init(&s);
  expect("baseline", check(&s, &v), &v, NULL);
  assert_null(wipe_rules_refusal(&s.req));
}

/* ---- method × technique: DESTROY ⇔ SHRED or DISINTEGRATE ---- */

typedef struct mt_case {
  int method, technique;
  const char *field;
} mt_case;

static void test_method_technique(void **st) {
  (void)st;
  /* Every method × every technique; passes as each technique needs, one
   * HDD (so DEGAUSS is possible), RECYCLE (so destruction is possible). */
  const mt_case cases[] = {
      {WM(CLEAR), WT(OVERWRITE), NULL},
      {WM(CLEAR), WT(BLOCK_ERASE), NULL},
      {WM(CLEAR), WT(CRYPTO_ERASE), NULL},
      {WM(CLEAR), WT(FACTORY_RESET_ENCRYPTED), NULL},
      {WM(CLEAR), WT(DEGAUSS), NULL},
      {WM(CLEAR), WT(SHRED), "technique"},
      {WM(CLEAR), WT(DISINTEGRATE), "technique"},
      {WM(CLEAR), WT(OTHER), NULL},
      {WM(PURGE), WT(OVERWRITE), NULL},
      {WM(PURGE), WT(BLOCK_ERASE), NULL},
      {WM(PURGE), WT(CRYPTO_ERASE), NULL},
      {WM(PURGE), WT(FACTORY_RESET_ENCRYPTED), NULL},
      {WM(PURGE), WT(DEGAUSS), NULL},
      {WM(PURGE), WT(SHRED), "technique"},
      {WM(PURGE), WT(DISINTEGRATE), "technique"},
      {WM(PURGE), WT(OTHER), NULL},
      {WM(DESTROY), WT(OVERWRITE), "technique"},
      {WM(DESTROY), WT(BLOCK_ERASE), "technique"},
      {WM(DESTROY), WT(CRYPTO_ERASE), "technique"},
      {WM(DESTROY), WT(FACTORY_RESET_ENCRYPTED), "technique"},
      {WM(DESTROY), WT(DEGAUSS), "technique"},
      {WM(DESTROY), WT(SHRED), NULL},
      {WM(DESTROY), WT(DISINTEGRATE), NULL},
      {WM(DESTROY), WT(OTHER), "technique"},
      /* unknown values */
      {0, WT(OVERWRITE), "method"},
      {4, WT(OVERWRITE), "method"},
      {-1, WT(OVERWRITE), "method"},
      {WM(CLEAR), 0, "technique"},
      {WM(CLEAR), 9, "technique"},
      {WM(DESTROY), 0, "technique"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const mt_case *c = &cases[i];
    sub s;
    wipe_violation v;
    char what[96];
    sub_init(&s);
    combo k = {c->method, c->technique, c->technique == WT(OVERWRITE) ? 1 : 0, 0,
               VF(FULL), 100, DS(RECYCLE), {0}};
    apply(&s, &k);
    snprintf(what, sizeof(what), "method %d × technique %s", c->method,
             c->technique >= 0 && c->technique <= N_TECHNIQUES ? technique_names[c->technique] : "?");
    expect(what, check(&s, &v), &v, c->field);
  }
}

/* ---- DEGAUSS × media type ---- */

typedef struct media_case {
  const char *what;
  int technique;
  int media[5];
  const char *field;
} media_case;

static void test_degauss_media(void **st) {
  (void)st;
  const media_case cases[] = {
      {"degauss HDD", WT(DEGAUSS), {MT(HDD)}, NULL},
      {"degauss SSD", WT(DEGAUSS), {MT(SSD)}, "media[0].type"},
      {"degauss NVME", WT(DEGAUSS), {MT(NVME)}, "media[0].type"},
      {"degauss EMMC", WT(DEGAUSS), {MT(EMMC)}, "media[0].type"},
      {"degauss FLASH", WT(DEGAUSS), {MT(FLASH)}, "media[0].type"},
      {"degauss OTHER", WT(DEGAUSS), {MT(OTHER)}, "media[0].type"},
      {"degauss HDD + HDD", WT(DEGAUSS), {MT(HDD), MT(HDD)}, NULL},
      {"degauss HDD + SSD", WT(DEGAUSS), {MT(HDD), MT(SSD)}, "media[1].type"},
      {"degauss SSD + HDD", WT(DEGAUSS), {MT(SSD), MT(HDD)}, "media[0].type"},
      {"degauss 3 HDD + NVME", WT(DEGAUSS), {MT(HDD), MT(HDD), MT(HDD), MT(NVME)}, "media[3].type"},
      /* other techniques go on any medium (sufficiency is another matter) */
      {"overwrite HDD + SSD", WT(OVERWRITE), {MT(HDD), MT(SSD)}, NULL},
      {"overwrite OTHER", WT(OVERWRITE), {MT(OTHER)}, NULL},
      {"crypto erase HDD", WT(CRYPTO_ERASE), {MT(HDD)}, NULL},
      {"factory reset EMMC + FLASH", WT(FACTORY_RESET_ENCRYPTED), {MT(EMMC), MT(FLASH)}, NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const media_case *c = &cases[i];
    sub s;
    wipe_violation v;
    sub_init(&s);
    int overwrite = c->technique == WT(OVERWRITE);
    combo k = {WM(PURGE), c->technique, overwrite ? 3 : 0, overwrite, VF(SAMPLE), 10, DS(RECYCLE), {0}};
    memcpy(k.media, c->media, sizeof(k.media));
    apply(&s, &k);
    expect(c->what, check(&s, &v), &v, c->field);
  }
}

/* ---- passes and random_pass × technique ---- */

typedef struct passes_case {
  int technique;
  const char *field[6]; /* for passes -1, 0, 1, 3, 100, 101 */
} passes_case;

static int method_for(int technique) {
  return technique == WT(SHRED) || technique == WT(DISINTEGRATE) ? WM(DESTROY) : WM(PURGE);
}

static void test_passes(void **st) {
  (void)st;
  static const int passes[6] = {-1, 0, 1, 3, 100, 101};
#define P "passes"
  const passes_case cases[] = {
      {WT(OVERWRITE), {P, P, NULL, NULL, NULL, P}},
      {WT(BLOCK_ERASE), {P, NULL, P, P, P, P}},
      {WT(CRYPTO_ERASE), {P, NULL, P, P, P, P}},
      {WT(FACTORY_RESET_ENCRYPTED), {P, NULL, NULL, NULL, NULL, P}},
      {WT(DEGAUSS), {P, NULL, NULL, NULL, NULL, P}},
      {WT(SHRED), {P, NULL, NULL, NULL, NULL, P}},
      {WT(DISINTEGRATE), {P, NULL, NULL, NULL, NULL, P}},
      {WT(OTHER), {P, NULL, NULL, NULL, NULL, P}},
  };
#undef P
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const passes_case *c = &cases[i];
    for (int j = 0; j < 6; j++) {
      sub s;
      wipe_violation v;
      char what[96];
      sub_init(&s);
      combo k = {method_for(c->technique), c->technique, passes[j], 0, VF(FULL), 100, DS(RECYCLE), {0}};
      apply(&s, &k);
      snprintf(what, sizeof(what), "%s with %d passes", technique_names[c->technique], passes[j]);
      expect(what, check(&s, &v), &v, c->field[j]);
    }
  }
}

typedef struct random_case {
  int technique, passes;
  const char *field;
} random_case;

static void test_random_pass(void **st) {
  (void)st;
  const random_case cases[] = {
      {WT(OVERWRITE), 1, NULL},
      {WT(OVERWRITE), 3, NULL},
      {WT(OVERWRITE), 0, "passes"}, /* passes is asked first */
      {WT(BLOCK_ERASE), 0, "random_pass"},
      {WT(CRYPTO_ERASE), 0, "random_pass"},
      {WT(FACTORY_RESET_ENCRYPTED), 0, "random_pass"},
      {WT(DEGAUSS), 0, "random_pass"},
      {WT(SHRED), 0, "random_pass"},
      {WT(DISINTEGRATE), 0, "random_pass"},
      {WT(OTHER), 3, "random_pass"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const random_case *c = &cases[i];
    sub s;
    wipe_violation v;
    char what[96];
    sub_init(&s);
    combo k = {method_for(c->technique), c->technique, c->passes, 1, VF(FULL), 100, DS(RECYCLE), {0}};
    apply(&s, &k);
    snprintf(what, sizeof(what), "%s, %d passes, random pass", technique_names[c->technique], c->passes);
    expect(what, check(&s, &v), &v, c->field);
    /* and without the random pass every technique but a 0-pass overwrite is fine */
    s.req.random_pass = 0;
    snprintf(what, sizeof(what), "%s, %d passes, no random pass", technique_names[c->technique], c->passes);
    expect(what, check(&s, &v), &v, c->passes == 0 && c->technique == WT(OVERWRITE) ? "passes" : NULL);
  }
}

/* ---- verification × verified_percent ---- */

typedef struct verif_case {
  int verification;
  const char *field[7]; /* for 0, 1, 50, 99, 100, 101, -1 */
} verif_case;

static void test_verification(void **st) {
  (void)st;
  static const int percents[7] = {0, 1, 50, 99, 100, 101, -1};
#define VP "verified_percent"
#define VE "verification"
  const verif_case cases[] = {
      {VF(NONE), {NULL, VP, VP, VP, VP, VP, VP}},
      {VF(SAMPLE), {VP, NULL, NULL, NULL, VP, VP, VP}},
      {VF(FULL), {VP, VP, VP, VP, NULL, VP, VP}},
      {VF(UNSPECIFIED), {VE, VE, VE, VE, VE, VE, VE}},
      {4, {VE, VE, VE, VE, VE, VE, VE}},
  };
#undef VP
#undef VE
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const verif_case *c = &cases[i];
    for (int j = 0; j < 7; j++) {
      sub s;
      wipe_violation v;
      char what[96];
      sub_init(&s);
      s.req.verification = c->verification;
      s.req.verified_percent = percents[j];
      snprintf(what, sizeof(what), "verification %d, %d%%", c->verification, percents[j]);
      expect(what, check(&s, &v), &v, c->field[j]);
    }
  }
}

/* ---- destination after destruction or degaussing ---- */

typedef struct dest_case {
  const char *what;
  int method, technique, passes;
  const char *field[6]; /* for REUSE, RESALE, RECYCLE, EXPORT, UNSPECIFIED, 5 */
} dest_case;

static void test_destination(void **st) {
  (void)st;
  static const int dests[6] = {DS(REUSE), DS(RESALE), DS(RECYCLE), DS(EXPORT), DS(UNSPECIFIED), 5};
#define D "destination"
  const dest_case cases[] = {
      {"DESTROY by SHRED", WM(DESTROY), WT(SHRED), 0, {D, D, NULL, NULL, D, D}},
      {"DESTROY by DISINTEGRATE", WM(DESTROY), WT(DISINTEGRATE), 0, {D, D, NULL, NULL, D, D}},
      {"PURGE by DEGAUSS", WM(PURGE), WT(DEGAUSS), 0, {D, D, NULL, NULL, D, D}},
      {"CLEAR by DEGAUSS", WM(CLEAR), WT(DEGAUSS), 0, {D, D, NULL, NULL, D, D}},
      {"CLEAR by OVERWRITE", WM(CLEAR), WT(OVERWRITE), 3, {NULL, NULL, NULL, NULL, D, D}},
      {"PURGE by CRYPTO_ERASE", WM(PURGE), WT(CRYPTO_ERASE), 0, {NULL, NULL, NULL, NULL, D, D}},
      {"PURGE by BLOCK_ERASE", WM(PURGE), WT(BLOCK_ERASE), 0, {NULL, NULL, NULL, NULL, D, D}},
      {"PURGE by FACTORY_RESET_ENCRYPTED", WM(PURGE), WT(FACTORY_RESET_ENCRYPTED), 0,
       {NULL, NULL, NULL, NULL, D, D}},
      {"CLEAR by OTHER", WM(CLEAR), WT(OTHER), 0, {NULL, NULL, NULL, NULL, D, D}},
  };
#undef D
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const dest_case *c = &cases[i];
    for (int j = 0; j < 6; j++) {
      sub s;
      wipe_violation v;
      char what[96];
      sub_init(&s);
      combo k = {c->method, c->technique, c->passes, 0, VF(FULL), 100, dests[j], {0}};
      apply(&s, &k);
      snprintf(what, sizeof(what), "%s to destination %d", c->what, dests[j]);
      expect(what, check(&s, &v), &v, c->field[j]);
    }
  }
}

/* ---- the device ---- */

typedef struct device_case {
  const char *what;
  const char *item_id;
  int category;      /* -1: UNSPECIFIED */
  const char *brand, *model, *imei, *serial;
  const char *field;
  const char *imei_out, *brand_out; /* accepted: NULL = as given */
} device_case;

static void test_device(void **st) {
  (void)st;
  const char *long_serial = rep(0, "9", WIPE_TEXT_MAX + 1);
  const char *cjk_model = rep(1, "机", WIPE_TEXT_MAX);
  const char *cjk_model_long = rep(2, "机", WIPE_TEXT_MAX + 1);
  const device_case cases[] = {
      {"phone by IMEI", "", EC(PHONE), "Apple", "iPhone 13", IMEI_OK, "", NULL, NULL, NULL},
      {"phone by IMEI and serial", "", EC(PHONE), "Huawei", "", IMEI_OK2, "HW123", NULL, NULL, NULL},
      {"laptop by serial only", "", EC(COMPUTER), "Lenovo", "", "", "PF1ABCDE", NULL, NULL, NULL},
      {"registered item", "itm_01HZX3", 0, "", "", "", "", NULL, NULL, NULL},
      {"brand trimmed", "", EC(PHONE), " \tXiaomi  ", "", IMEI_OK, "", NULL, NULL, "Xiaomi"},
      {"model of 200 CJK characters", "", EC(TABLET), "Apple", cjk_model, "", "SN1", NULL, NULL, NULL},
      {"bad Luhn digit", "", EC(PHONE), "Apple", "", "352450624427979", "", "device.imei", NULL, NULL},
      {"14-digit IMEI", "", EC(PHONE), "Apple", "", "35245062442797", "", "device.imei", NULL, NULL},
      {"16-digit IMEI", "", EC(PHONE), "Apple", "", "3524506244279780", "", "device.imei", NULL, NULL},
      {"IMEI with a letter", "", EC(PHONE), "Apple", "", "3512345678901A4", "", "device.imei", NULL, NULL},
      {"IMEI with dashes", "", EC(PHONE), "Apple", "", "35-245062-442797-8", "", "device.imei", NULL,
       NULL},
      {"bad IMEI beside a serial", "", EC(PHONE), "Apple", "", "352450624427979", "SN1", "device.imei",
       NULL, NULL},
      {"blank IMEI", "", EC(PHONE), "Apple", "", "   ", "", "device.imei", NULL, NULL},
      {"no identifiers at all", "", EC(PHONE), "Apple", "iPhone", "", "", "device", NULL, NULL},
      {"empty device", "", 0, "", "", "", "", "device", NULL, NULL},
      {"category unspecified", "", -1, "Apple", "", IMEI_OK, "", "device.category", NULL, NULL},
      {"category unknown", "", 8, "Apple", "", IMEI_OK, "", "device.category", NULL, NULL},
      {"no brand", "", EC(PHONE), "", "", IMEI_OK, "", "device.brand", NULL, NULL},
      {"blank brand", "", EC(PHONE), "   ", "", IMEI_OK, "", "device.brand", NULL, NULL},
      {"model of 201 characters", "", EC(PHONE), "Apple", cjk_model_long, IMEI_OK, "", "device.model",
       NULL, NULL},
      {"model on two lines", "", EC(PHONE), "Apple", "a\nb", IMEI_OK, "", "device.model", NULL, NULL},
      {"serial too long", "", EC(COMPUTER), "Dell", "", "", long_serial, "device.serial_no", NULL, NULL},
      {"serial with a tab", "", EC(COMPUTER), "Dell", "", "", "SN\t1", "device.serial_no", NULL, NULL},
      {"item id and IMEI", "itm_01HZX3", 0, "", "", IMEI_OK, "", "device.imei", NULL, NULL},
      {"item id and serial", "itm_01HZX3", 0, "", "", "", "SN1", "device.serial_no", NULL, NULL},
      {"item id and category", "itm_01HZX3", EC(PHONE), "", "", "", "", "device.category", NULL, NULL},
      {"item id and brand", "itm_01HZX3", 0, "Apple", "", "", "", "device.brand", NULL, NULL},
      {"item id and model", "itm_01HZX3", 0, "", "X1", "", "", "device.model", NULL, NULL},
      {"blank item id", "   ", 0, "", "", "", "", "device.item_id", NULL, NULL},
      {"item id too long", long_serial, 0, "", "", "", "", "device.item_id", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const device_case *c = &cases[i];
    sub s;
    wipe_violation v;
    sub_init(&s);
    snprintf(s.item_id, sizeof(s.item_id), "%s", c->item_id);
    s.dev.category = c->category < 0 ? 0 : c->category;
    snprintf(s.brand, sizeof(s.brand), "%s", c->brand);
    s.dev.model = (char *)c->model;
    snprintf(s.imei, sizeof(s.imei), "%s", c->imei);
    s.dev.serial_no = (char *)c->serial;
    if (c->item_id == long_serial) s.dev.item_id = (char *)long_serial;
    expect(c->what, check(&s, &v), &v, c->field);
    if (!c->field) {
      assert_string_equal(s.imei, c->imei_out ? c->imei_out : c->imei);
      assert_string_equal(s.brand, c->brand_out ? c->brand_out : c->brand);
    }
  }
  sub s;
  wipe_violation v;
  sub_init(&s);
  s.req.device = NULL;
  expect("no device", check(&s, &v), &v, "device");
  /* protobuf-c's NULL-free strings are not assumed: NULL reads as "" */
  sub_init(&s);
  s.dev.model = NULL;
  s.dev.imei = NULL;
  s.dev.item_id = NULL;
  expect("NULL strings", check(&s, &v), &v, NULL);
}

/* ---- media ---- */

static void test_media(void **st) {
  (void)st;
  sub s;
  wipe_violation v;

  sub_init(&s);
  s.req.n_media = 0;
  s.req.media = NULL;
  expect("no media", check(&s, &v), &v, "media");

  int many[WIPE_MEDIA_MAX + 2];
  for (int i = 0; i <= WIPE_MEDIA_MAX; i++) many[i] = MT(SSD);
  many[WIPE_MEDIA_MAX + 1] = 0;
  sub_init(&s);
  set_media(&s, many);
  assert_int_equal(s.req.n_media, WIPE_MEDIA_MAX + 1);
  expect("65 media", check(&s, &v), &v, "media");
  many[WIPE_MEDIA_MAX] = 0;
  sub_init(&s);
  set_media(&s, many);
  s.req.technique = WT(CRYPTO_ERASE);
  s.req.passes = 0;
  s.req.random_pass = 0;
  expect("64 media", check(&s, &v), &v, NULL);
  expect_reason("64 media", wipe_rules_refusal(&s.req), NULL);

  sub_init(&s);
  set_media(&s, (const int[]){MT(HDD), MT(HDD), 0});
  s.mp[1] = NULL;
  expect("NULL medium", check(&s, &v), &v, "media[1]");

  sub_init(&s);
  s.m[0].type = MT(UNSPECIFIED);
  expect("type unspecified", check(&s, &v), &v, "media[0].type");

  sub_init(&s);
  set_media(&s, (const int[]){MT(HDD), MT(SSD), 7, 0});
  expect("type unknown", check(&s, &v), &v, "media[2].type");

  sub_init(&s);
  s.m[0].capacity_bytes = -1;
  expect("negative capacity", check(&s, &v), &v, "media[0].capacity_bytes");

  sub_init(&s);
  s.m[0].capacity_bytes = 0;
  s.m[0].serial_no = (char *)"";
  expect("capacity and serial unknown", check(&s, &v), &v, NULL);

  sub_init(&s);
  set_media(&s, (const int[]){MT(HDD), MT(HDD), 0});
  s.m[1].serial_no = rep(0, "盘", WIPE_TEXT_MAX + 1);
  expect("serial of 201 characters", check(&s, &v), &v, "media[1].serial_no");
  s.m[1].serial_no = rep(0, "盘", WIPE_TEXT_MAX);
  expect("serial of 200 characters", check(&s, &v), &v, NULL);
  s.m[1].serial_no = (char *)"S\x7f";
  expect("serial with DEL", check(&s, &v), &v, "media[1].serial_no");
}

/* ---- texts, result ---- */

typedef struct text_case {
  const char *what;
  const char *tool, *version, *op;
  const char *field;
} text_case;

static void test_texts(void **st) {
  (void)st;
  const text_case cases[] = {
      {"all given", "Blancco Drive Eraser", "7.9.1", "王小明", NULL},
      {"no version (a shredder)", "HSM Powerline FA 500.3", "", "李四", NULL},
      {"200-character tool name", rep(0, "工", WIPE_TEXT_MAX), "", "李四", NULL},
      {"201-character tool name", rep(1, "工", WIPE_TEXT_MAX + 1), "", "李四", "tool_name"},
      {"no tool", "", "1.0", "李四", "tool_name"},
      {"blank tool", "  ", "1.0", "李四", "tool_name"},
      {"version too long", "nwipe", rep(2, "1", WIPE_TEXT_MAX + 1), "李四", "tool_version"},
      {"version on two lines", "nwipe", "0.34\n", "李四", "tool_version"},
      {"no operator", "nwipe", "0.34", "", "operator_name"},
      {"blank operator", "nwipe", "0.34", " ", "operator_name"},
      {"operator padded with spaces", "nwipe", "0.34", "  王小明 ", NULL},
      {"operator too long", "nwipe", "0.34", rep(3, "名", WIPE_TEXT_MAX + 1), "operator_name"},
      {"operator with a control character", "nwipe", "0.34", "张\x1b三", "operator_name"},
      {"one-character operator", "nwipe", "0.34", "张", NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const text_case *c = &cases[i];
    sub s;
    wipe_violation v;
    sub_init(&s);
    s.req.tool_name = (char *)c->tool;
    s.req.tool_version = (char *)c->version;
    /* the rules trim the operator's name in place: a writable copy */
    char op[4 * (WIPE_TEXT_MAX + 2)];
    snprintf(op, sizeof(op), "%s", c->op);
    s.req.operator_name = op;
    expect(c->what, check(&s, &v), &v, c->field);
  }
}

static void test_result(void **st) {
  (void)st;
  static const struct {
    int result;
    const char *field;
  } cases[] = {{WR(SUCCESS), NULL}, {WR(FAILED), NULL}, {WR(ABORTED), NULL},
               {WR(UNSPECIFIED), "result"}, {4, "result"}, {-1, "result"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sub s;
    wipe_violation v;
    char what[64];
    sub_init(&s);
    s.req.result = cases[i].result;
    snprintf(what, sizeof(what), "result %d", cases[i].result);
    expect(what, check(&s, &v), &v, cases[i].field);
  }
}

/* ---- times ---- */

typedef struct time_case {
  const char *what;
  int64_t started, finished, performed; /* µs relative to now */
  int which;      /* 0 none, 1 started, 2 finished, 3 performed: its nanos or seconds below */
  int32_t nanos;  /* set on `which` when `set_nanos` */
  int set_nanos;
  int64_t seconds; /* set on `which` when `set_seconds` */
  int set_seconds;
  int drop;       /* 1–3: that time NULL */
  const char *field;
} time_case;

static Google__Protobuf__Timestamp *pick(sub *s, int which) {
  return which == 1 ? &s->started : which == 2 ? &s->finished : &s->performed;
}

static void test_times(void **st) {
  (void)st;
  const int64_t H = HOUR_US, M = MIN_US;
  const time_case cases[] = {
      {"an hour's wipe", -3 * H, -H, -H, 0, 0, 0, 0, 0, 0, NULL},
      {"started = finished", -H, -H, -H, 0, 0, 0, 0, 0, 0, NULL},
      {"finished before started", -H, -2 * H, -H, 0, 0, 0, 0, 0, 0, "finished_at"},
      {"finished a microsecond before started", -H, -H - 1, -H, 0, 0, 0, 0, 0, 0, "finished_at"},
      {"finished now", -H, 0, 0, 0, 0, 0, 0, 0, 0, NULL},
      {"finished within the clock skew", -H, 5 * M, 0, 0, 0, 0, 0, 0, 0, NULL},
      {"finished beyond the clock skew", -H, 5 * M + 1, 0, 0, 0, 0, 0, 0, 0, "finished_at"},
      {"started and finished tomorrow", 24 * H, 25 * H, -H, 0, 0, 0, 0, 0, 0, "finished_at"},
      {"performed within the clock skew", -3 * H, -H, 5 * M, 0, 0, 0, 0, 0, 0, NULL},
      {"performed tomorrow", -3 * H, -H, 24 * H, 0, 0, 0, 0, 0, 0, "performed_at"},
      {"performed before started (not tied)", -3 * H, -H, -30 * 24 * H, 0, 0, 0, 0, 0, 0, NULL},
      {"no started_at", -3 * H, -H, -H, 0, 0, 0, 0, 0, 1, "started_at"},
      {"no finished_at", -3 * H, -H, -H, 0, 0, 0, 0, 0, 2, "finished_at"},
      {"no performed_at", -3 * H, -H, -H, 0, 0, 0, 0, 0, 3, "performed_at"},
      {"started nanos -1", -3 * H, -H, -H, 1, -1, 1, 0, 0, 0, "started_at"},
      {"finished nanos 1e9", -3 * H, -H, -H, 2, 1000000000, 1, 0, 0, 0, "finished_at"},
      {"performed nanos 999999999", -3 * H, -H, -H, 3, 999999999, 1, 0, 0, 0, NULL},
      {"performed nanos -5", -3 * H, -H, -H, 3, -5, 1, 0, 0, 0, "performed_at"},
      {"started in year 0", -3 * H, -H, -H, 1, 0, 0, INT64_C(-62135596801), 1, 0, "started_at"},
      {"started 0001-01-01", -3 * H, -H, -H, 1, 0, 0, INT64_C(-62135596800), 1, 0, NULL},
      {"started at INT64_MIN", -3 * H, -H, -H, 1, 0, 0, INT64_MIN, 1, 0, "started_at"},
      {"started after 9999", -3 * H, -H, -H, 1, 0, 0, INT64_C(253402300800), 1, 0, "started_at"},
      {"performed after 9999", -3 * H, -H, -H, 3, 0, 0, INT64_C(253402300800), 1, 0, "performed_at"},
      {"performed at INT64_MAX", -3 * H, -H, -H, 3, 0, 0, INT64_MAX, 1, 0, "performed_at"},
      {"finished 9999-12-31 (future)", -3 * H, -H, -H, 2, 0, 0, INT64_C(253402300799), 1, 0,
       "finished_at"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const time_case *c = &cases[i];
    sub s;
    wipe_violation v;
    sub_init(&s);
    ts_set(&s.started, NOW_US + c->started);
    ts_set(&s.finished, NOW_US + c->finished);
    ts_set(&s.performed, NOW_US + c->performed);
    if (c->which && c->set_nanos) pick(&s, c->which)->nanos = c->nanos;
    if (c->which && c->set_seconds) pick(&s, c->which)->seconds = c->seconds;
    if (c->drop == 1) s.req.started_at = NULL;
    if (c->drop == 2) s.req.finished_at = NULL;
    if (c->drop == 3) s.req.performed_at = NULL;
    expect(c->what, check(&s, &v), &v, c->field);
  }
  /* nanos decide between equal seconds */
  sub s;
  wipe_violation v;
  sub_init(&s);
  s.finished = s.started;
  s.started.nanos = 500;
  s.finished.nanos = 499;
  expect("finished 1 ns before started", check(&s, &v), &v, "finished_at");
  s.finished.nanos = 500;
  expect("finished the same ns", check(&s, &v), &v, NULL);
}

/* ---- DOMAIN §3 sufficiency ---- */

typedef struct suff_case {
  int media, technique, passes, random_pass;
  int sufficient;
} suff_case;

static void test_sufficient(void **st) {
  (void)st;
  const suff_case cases[] = {
      /* magnetic: ≥ 3 passes including a random pass, or degaussing */
      {MT(HDD), WT(OVERWRITE), 1, 0, 0},
      {MT(HDD), WT(OVERWRITE), 1, 1, 0},
      {MT(HDD), WT(OVERWRITE), 2, 0, 0},
      {MT(HDD), WT(OVERWRITE), 2, 1, 0},
      {MT(HDD), WT(OVERWRITE), 3, 0, 0},
      {MT(HDD), WT(OVERWRITE), 3, 1, 1},
      {MT(HDD), WT(OVERWRITE), 7, 1, 1},
      {MT(HDD), WT(OVERWRITE), 35, 0, 0},
      {MT(HDD), WT(OVERWRITE), 35, 1, 1},
      {MT(HDD), WT(DEGAUSS), 0, 0, 1},
      {MT(HDD), WT(BLOCK_ERASE), 0, 0, 0},
      {MT(HDD), WT(CRYPTO_ERASE), 0, 0, 0},
      {MT(HDD), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 0},
      {MT(HDD), WT(SHRED), 0, 0, 1},
      {MT(HDD), WT(DISINTEGRATE), 0, 0, 1},
      {MT(HDD), WT(OTHER), 3, 1, 0},
      /* flash: one overwrite pass, block erase, crypto erase, factory reset of an encrypted device */
      {MT(SSD), WT(OVERWRITE), 0, 0, 0},
      {MT(SSD), WT(OVERWRITE), 1, 0, 1},
      {MT(SSD), WT(OVERWRITE), 3, 1, 1},
      {MT(SSD), WT(BLOCK_ERASE), 0, 0, 1},
      {MT(SSD), WT(CRYPTO_ERASE), 0, 0, 1},
      {MT(SSD), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 1},
      {MT(SSD), WT(DEGAUSS), 0, 0, 0},
      {MT(SSD), WT(SHRED), 0, 0, 1},
      {MT(SSD), WT(OTHER), 1, 0, 0},
      {MT(NVME), WT(OVERWRITE), 1, 0, 1},
      {MT(NVME), WT(BLOCK_ERASE), 0, 0, 1},
      {MT(NVME), WT(CRYPTO_ERASE), 0, 0, 1},
      {MT(NVME), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 1},
      {MT(NVME), WT(DEGAUSS), 0, 0, 0},
      {MT(NVME), WT(DISINTEGRATE), 0, 0, 1},
      {MT(EMMC), WT(OVERWRITE), 1, 0, 1},
      {MT(EMMC), WT(BLOCK_ERASE), 0, 0, 1},
      {MT(EMMC), WT(CRYPTO_ERASE), 0, 0, 1},
      {MT(EMMC), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 1},
      {MT(EMMC), WT(OTHER), 0, 0, 0},
      {MT(FLASH), WT(OVERWRITE), 1, 0, 1},
      {MT(FLASH), WT(OVERWRITE), 0, 0, 0},
      {MT(FLASH), WT(BLOCK_ERASE), 0, 0, 1},
      {MT(FLASH), WT(CRYPTO_ERASE), 0, 0, 1},
      {MT(FLASH), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 1},
      {MT(FLASH), WT(DEGAUSS), 0, 0, 0},
      /* other media: destruction only */
      {MT(OTHER), WT(OVERWRITE), 35, 1, 0},
      {MT(OTHER), WT(BLOCK_ERASE), 0, 0, 0},
      {MT(OTHER), WT(CRYPTO_ERASE), 0, 0, 0},
      {MT(OTHER), WT(FACTORY_RESET_ENCRYPTED), 0, 0, 0},
      {MT(OTHER), WT(DEGAUSS), 0, 0, 0},
      {MT(OTHER), WT(SHRED), 0, 0, 1},
      {MT(OTHER), WT(DISINTEGRATE), 0, 0, 1},
      {MT(OTHER), WT(OTHER), 0, 0, 0},
      /* unknown media type or technique */
      {MT(UNSPECIFIED), WT(SHRED), 0, 0, 0},
      {7, WT(SHRED), 0, 0, 0},
      {MT(HDD), WT(UNSPECIFIED), 3, 1, 0},
      {MT(SSD), 9, 1, 0, 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const suff_case *c = &cases[i];
    int got = wipe_rules_sufficient(c->media, c->technique, c->passes, c->random_pass);
    if (got != c->sufficient)
      fail_msg("media %d, %s, %d passes, random %d: got %d, expected %d", c->media,
               c->technique >= 0 && c->technique <= N_TECHNIQUES ? technique_names[c->technique] : "?",
               c->passes, c->random_pass, got, c->sufficient);
  }
  /* whatever the passes: OTHER never; destruction always, on every known medium */
  for (int m = MT(HDD); m <= MT(OTHER); m++)
    for (int p = 0; p <= 100; p++)
      for (int r = 0; r <= 1; r++) {
        assert_int_equal(wipe_rules_sufficient(m, WT(OTHER), p, r), 0);
        assert_int_equal(wipe_rules_sufficient(m, WT(SHRED), p, r), 1);
        assert_int_equal(wipe_rules_sufficient(m, WT(DISINTEGRATE), p, r), 1);
      }
}

/* ---- refusal reasons ---- */

typedef struct refusal_case {
  const char *what;
  int result;
  combo k;
  const char *reason; /* NULL: certificate */
} refusal_case;

static void test_refusal(void **st) {
  (void)st;
  const char *F = "WIPE_FAILED", *N = "WIPE_NOT_VERIFIED", *I = "WIPE_METHOD_INSUFFICIENT";
  const refusal_case cases[] = {
      {"HDD 3 passes with random, FULL", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, NULL},
      {"HDD 3 passes with random, SAMPLE 10%", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(SAMPLE), 10, DS(REUSE), {MT(HDD)}}, NULL},
      {"HDD 3 passes without random", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 3, 0, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, I},
      {"HDD 2 passes with random", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 2, 1, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, I},
      {"HDD 1 pass", WR(SUCCESS), {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(FULL), 100, DS(RESALE), {MT(HDD)}},
       I},
      {"failed HDD 1 pass: failure first", WR(FAILED),
       {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, F},
      {"failed, unverified, insufficient", WR(FAILED),
       {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(NONE), 0, DS(RESALE), {MT(HDD)}}, F},
      {"aborted is failed", WR(ABORTED),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, F},
      {"aborted, unverified", WR(ABORTED),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(NONE), 0, DS(RESALE), {MT(HDD)}}, F},
      {"unverified before insufficient", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(NONE), 0, DS(RESALE), {MT(HDD)}}, N},
      {"unverified but sufficient", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(NONE), 0, DS(RESALE), {MT(HDD)}}, N},
      {"SSD 1 pass", WR(SUCCESS), {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(SAMPLE), 5, DS(RESALE), {MT(SSD)}},
       NULL},
      {"NVME block erase", WR(SUCCESS),
       {WM(PURGE), WT(BLOCK_ERASE), 0, 0, VF(FULL), 100, DS(RESALE), {MT(NVME)}}, NULL},
      {"EMMC crypto erase", WR(SUCCESS),
       {WM(PURGE), WT(CRYPTO_ERASE), 0, 0, VF(SAMPLE), 1, DS(REUSE), {MT(EMMC)}}, NULL},
      {"phone factory reset", WR(SUCCESS),
       {WM(PURGE), WT(FACTORY_RESET_ENCRYPTED), 0, 0, VF(SAMPLE), 99, DS(EXPORT), {MT(EMMC)}}, NULL},
      {"HDD crypto erase", WR(SUCCESS),
       {WM(PURGE), WT(CRYPTO_ERASE), 0, 0, VF(FULL), 100, DS(RESALE), {MT(HDD)}}, I},
      {"HDD + SSD, 3 passes with random", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 3, 1, VF(FULL), 100, DS(RESALE), {MT(HDD), MT(SSD)}}, NULL},
      {"SSD + HDD, 1 pass: the HDD falls short", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 1, 0, VF(FULL), 100, DS(RESALE), {MT(SSD), MT(HDD)}}, I},
      {"SSD + OTHER crypto erase", WR(SUCCESS),
       {WM(PURGE), WT(CRYPTO_ERASE), 0, 0, VF(FULL), 100, DS(RESALE), {MT(SSD), MT(OTHER)}}, I},
      {"degaussed HDD", WR(SUCCESS), {WM(PURGE), WT(DEGAUSS), 0, 0, VF(SAMPLE), 50, DS(RECYCLE), {MT(HDD)}},
       NULL},
      {"degaussed, unverified", WR(SUCCESS),
       {WM(PURGE), WT(DEGAUSS), 0, 0, VF(NONE), 0, DS(RECYCLE), {MT(HDD)}}, N},
      {"shredded HDD + OTHER", WR(SUCCESS),
       {WM(DESTROY), WT(SHRED), 0, 0, VF(FULL), 100, DS(RECYCLE), {MT(HDD), MT(OTHER)}}, NULL},
      {"disintegrated flash", WR(SUCCESS),
       {WM(DESTROY), WT(DISINTEGRATE), 0, 0, VF(SAMPLE), 20, DS(EXPORT), {MT(FLASH)}}, NULL},
      {"shredded, unverified", WR(SUCCESS),
       {WM(DESTROY), WT(SHRED), 0, 0, VF(NONE), 0, DS(RECYCLE), {MT(HDD)}}, N},
      {"shredding failed", WR(FAILED), {WM(DESTROY), WT(SHRED), 0, 0, VF(FULL), 100, DS(RECYCLE), {MT(SSD)}},
       F},
      {"technique OTHER", WR(SUCCESS), {WM(CLEAR), WT(OTHER), 5, 0, VF(FULL), 100, DS(RESALE), {MT(SSD)}},
       I},
      {"OTHER medium overwritten", WR(SUCCESS),
       {WM(CLEAR), WT(OVERWRITE), 35, 1, VF(FULL), 100, DS(RESALE), {MT(OTHER)}}, I},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const refusal_case *c = &cases[i];
    sub s;
    wipe_violation v;
    sub_init(&s);
    apply(&s, &c->k);
    s.req.result = c->result;
    /* every one of these is stored: the check passes */
    expect(c->what, check(&s, &v), &v, NULL);
    expect_reason(c->what, wipe_rules_refusal(&s.req), c->reason);
  }
  /* never a certificate for nothing, or for unknown values */
  sub s;
  sub_init(&s);
  s.req.n_media = 0;
  s.req.media = NULL;
  expect_reason("no media", wipe_rules_refusal(&s.req), I);
  sub_init(&s);
  s.req.result = WR(UNSPECIFIED);
  expect_reason("result unspecified", wipe_rules_refusal(&s.req), F);
  sub_init(&s);
  s.req.verification = VF(UNSPECIFIED);
  expect_reason("verification unspecified", wipe_rules_refusal(&s.req), N);
  sub_init(&s);
  set_media(&s, (const int[]){MT(HDD), MT(HDD), 0});
  s.mp[1] = NULL;
  expect_reason("NULL medium", wipe_rules_refusal(&s.req), I);
}

/* A refused submission names the first bad field in the message's order,
 * then the matrix's: a field error wins over a meaningless combination. */
static void test_order(void **st) {
  (void)st;
  sub s;
  wipe_violation v;
  sub_init(&s);
  s.req.method = WM(DESTROY); /* technique OVERWRITE: meaningless */
  s.req.result = 0;           /* and a field error */
  expect("field error first", check(&s, &v), &v, "result");
  sub_init(&s);
  combo k = {WM(DESTROY), WT(OVERWRITE), 0, 1, VF(NONE), 50, DS(REUSE), {MT(SSD)}};
  apply(&s, &k);
  expect("technique first in the matrix", check(&s, &v), &v, "technique");
  s.req.method = WM(PURGE);
  expect("then passes", check(&s, &v), &v, "passes");
  s.req.passes = 1;
  s.req.technique = WT(DEGAUSS);
  expect("DEGAUSS media before passes", check(&s, &v), &v, "media[0].type");
  s.req.technique = WT(CRYPTO_ERASE);
  expect("passes for CRYPTO_ERASE", check(&s, &v), &v, "passes");
  s.req.passes = 0;
  expect("then random_pass", check(&s, &v), &v, "random_pass");
  s.req.random_pass = 0;
  expect("then verified_percent", check(&s, &v), &v, "verified_percent");
  s.req.verified_percent = 0;
  expect("crypto erase to reuse is fine", check(&s, &v), &v, NULL);
  s.req.verification = VF(FULL);
  s.req.verified_percent = 100;
  s.req.method = WM(DESTROY);
  s.req.technique = WT(SHRED);
  expect("then destination", check(&s, &v), &v, "destination");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_baseline),
      cmocka_unit_test(test_method_technique),
      cmocka_unit_test(test_degauss_media),
      cmocka_unit_test(test_passes),
      cmocka_unit_test(test_random_pass),
      cmocka_unit_test(test_verification),
      cmocka_unit_test(test_destination),
      cmocka_unit_test(test_device),
      cmocka_unit_test(test_media),
      cmocka_unit_test(test_texts),
      cmocka_unit_test(test_result),
      cmocka_unit_test(test_times),
      cmocka_unit_test(test_sufficient),
      cmocka_unit_test(test_refusal),
      cmocka_unit_test(test_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
