/*
 * The domain rules of WipeService (SPEC §4.3, §6 "Remaining details";
 * DOMAIN §3, §5): the check of a SubmitWipe request — every field, then
 * the consistency matrix whose meaningless combinations are refused and
 * never stored — and, for a stored submission, whether it earns a
 * certificate or why not. Pure functions, no I/O: the one input from
 * outside is `now_us`, which callers pass in (tests pin it).
 *
 * Strings are already valid UTF-8 (the transport checks every string
 * before a handler runs); a NULL string is taken as "". Normalization
 * happens in place and only ever shortens or keeps a string's length, so
 * protobuf-c's shared empty string is never written to.
 *
 * The request's request_id is not checked here: the write driver
 * (services/core/reqid.c) checks it is a canonical UUID before a
 * mutation runs, as for every other service.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "services/core/ident.h"
#include "services/core/text.h"
#include "services/wipe/wipe.h"

/* Short names for the enum values the rules use. */
#define MT(x) REGISTRY__V1__MEDIA_TYPE__MEDIA_TYPE_##x
#define WM(x) REGISTRY__V1__WIPE_METHOD__WIPE_METHOD_##x
#define WT(x) REGISTRY__V1__WIPE_TECHNIQUE__WIPE_TECHNIQUE_##x
#define VF(x) REGISTRY__V1__VERIFICATION__VERIFICATION_##x
#define DS(x) REGISTRY__V1__DESTINATION__DESTINATION_##x
#define WR(x) REGISTRY__V1__WIPE_RESULT__WIPE_RESULT_##x
#define EC(x) REGISTRY__V1__ELECTRONIC_CATEGORY__ELECTRONIC_CATEGORY_##x

#define PASSES_MAX 100 /* no tool writes more; 35 (Gutmann) is the famous maximum */

/* Decision: a time may lie this far after `now_us` before it counts as
 * "in the future" — a wipe station's clock a little ahead of the
 * registry's must not get a finished wipe refused. */
#define CLOCK_SKEW_US (5 * 60 * INT64_C(1000000))

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. */
#define TS_SECONDS_MIN INT64_C(-62135596800)
#define TS_SECONDS_MAX INT64_C(253402300799)

static const char *str(const char *s) { return s ? s : ""; }

static int given(const char *s) { return s && *s; }


/* ---- fields ---- */

/* Decision: every text of a wipe (tool name and version, operator name,
 * brand, model, serial numbers, item id) is one line of at most
 * WIPE_TEXT_MAX characters without control characters. "Required" means
 * not blank (spaces only count as missing). */
static int check_text(const char *s, const char *field, int required, wipe_violation *v) {
  return core_check_text(s, field, required, WIPE_TEXT_MAX, v);
}


/* The IMEI is normalized in place: the checked form has the same length. */
static int norm_imei(char *s, const char *field, wipe_violation *v) {
  char out[16];
  if (ident_imei_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid IMEI (15 digits with a Luhn check digit)");
  memcpy(s, out, sizeof(out));
  return 0;
}

/* ---- the device ---- */

/* Decision: the device is either a registered item (item_id alone) or
 * its identifiers — never both, so that a certificate can never name one
 * item and describe another; with item_id the item's own identifiers go
 * on the certificate. Identifiers follow the listing service's rule for
 * registering an electronic item (an unknown device is registered by it,
 * and "nothing stored" means that registration must not fail after this
 * check passed): category and brand required, brand trimmed (it is half
 * the (brand, serial_no) key), model optional, IMEI valid when given, and
 * at least one of imei / serial_no so that the item can be found again. */
static int check_device(Registry__V1__Device *d, wipe_violation *v) {
  if (!d) return core_fail(v, "device", "is required");
  if (given(d->item_id)) {
    if (check_text(d->item_id, "device.item_id", 1, v)) return REG_EINVAL;
    static const char *const with_item =
        "must not be given with device.item_id (the registered item's identifiers are used)";
    if (d->category != 0) return core_fail(v, "device.category", with_item);
    if (given(d->brand)) return core_fail(v, "device.brand", with_item);
    if (given(d->model)) return core_fail(v, "device.model", with_item);
    if (given(d->imei)) return core_fail(v, "device.imei", with_item);
    if (given(d->serial_no)) return core_fail(v, "device.serial_no", with_item);
    return 0;
  }
  if (!given(d->imei) && !given(d->serial_no))
    return core_fail(v, "device", "needs item_id, or its identifiers with an imei or a serial_no");
  if (core_check_enum((int)d->category, EC(PHONE), EC(OTHER), "device.category", v)) return REG_EINVAL;
  text_trim(d->brand);
  if (check_text(d->brand, "device.brand", 1, v)) return REG_EINVAL;
  if (check_text(d->model, "device.model", 0, v)) return REG_EINVAL;
  if (given(d->imei) && norm_imei(d->imei, "device.imei", v)) return REG_EINVAL;
  return check_text(d->serial_no, "device.serial_no", 0, v);
}

/* ---- media ---- */

/* Decision: a medium's serial number is optional (a phone's soldered
 * eMMC has none the operator can read) and capacity 0 means unknown. */
static int check_medium(const Registry__V1__Medium *m, size_t i, wipe_violation *v) {
  char field[64];
  if (!m) {
    snprintf(field, sizeof(field), "media[%zu]", i);
    return core_fail(v, field, "is required");
  }
  snprintf(field, sizeof(field), "media[%zu].type", i);
  if (core_check_enum((int)m->type, MT(HDD), MT(OTHER), field, v)) return REG_EINVAL;
  snprintf(field, sizeof(field), "media[%zu].serial_no", i);
  if (check_text(m->serial_no, field, 0, v)) return REG_EINVAL;
  snprintf(field, sizeof(field), "media[%zu].capacity_bytes", i);
  if (m->capacity_bytes < 0) return core_fail(v, field, "must not be negative");
  return 0;
}

static int check_media(const Registry__V1__SubmitWipeRequest *req, wipe_violation *v) {
  if (req->n_media == 0 || !req->media) return core_fail(v, "media", "at least one medium is required");
  if (req->n_media > WIPE_MEDIA_MAX) {
    char m[64];
    snprintf(m, sizeof(m), "must hold at most %d media", WIPE_MEDIA_MAX);
    return core_fail(v, "media", m);
  }
  for (size_t i = 0; i < req->n_media; i++)
    if (check_medium(req->media[i], i, v)) return REG_EINVAL;
  return 0;
}

/* ---- times ---- */

/* Decision: started_at, finished_at and performed_at are all required
 * (a certificate states start and end; performed_at is the record's date
 * of the wipe and is not otherwise tied to the other two). */
static int check_time(const Google__Protobuf__Timestamp *t, const char *field, wipe_violation *v) {
  if (!t) return core_fail(v, field, "is required");
  if (t->nanos < 0 || t->nanos > 999999999)
    return core_fail(v, field, "nanos must be from 0 to 999,999,999");
  if (t->seconds < TS_SECONDS_MIN || t->seconds > TS_SECONDS_MAX)
    return core_fail(v, field, "must lie between 0001-01-01 and 9999-12-31");
  return 0;
}

/* Microseconds of a checked Timestamp (cannot overflow in its range). */
static int64_t ts_us(const Google__Protobuf__Timestamp *t) {
  return t->seconds * INT64_C(1000000) + t->nanos / 1000;
}

static int ts_before(const Google__Protobuf__Timestamp *a, const Google__Protobuf__Timestamp *b) {
  return a->seconds < b->seconds || (a->seconds == b->seconds && a->nanos < b->nanos);
}

/* Decision: finished_at may not lie in the future either (SPEC §3: a
 * date in the future where the past is meant); with started_at ≤
 * finished_at that covers all three times. */
static int check_times(const Registry__V1__SubmitWipeRequest *req, int64_t now_us,
                       wipe_violation *v) {
  if (check_time(req->started_at, "started_at", v)) return REG_EINVAL;
  if (check_time(req->finished_at, "finished_at", v)) return REG_EINVAL;
  if (check_time(req->performed_at, "performed_at", v)) return REG_EINVAL;
  if (ts_before(req->finished_at, req->started_at))
    return core_fail(v, "finished_at", "must not be before started_at");
  if (ts_us(req->finished_at) > now_us + CLOCK_SKEW_US)
    return core_fail(v, "finished_at", "must not be in the future");
  if (ts_us(req->performed_at) > now_us + CLOCK_SKEW_US)
    return core_fail(v, "performed_at", "must not be in the future");
  return 0;
}

/* ---- the consistency matrix (SPEC §4.3) ---- */

static int is_destruction(int technique) {
  return technique == WT(SHRED) || technique == WT(DISINTEGRATE);
}

/* Decision: only the combinations SPEC §4.3 names are refused ("every
 * other submission is stored"): CLEAR or PURGE with any non-destructive
 * technique is accepted even where NIST would class it differently
 * (e.g. CLEAR with CRYPTO_ERASE), and passes are free (0–100) for
 * FACTORY_RESET_ENCRYPTED, DEGAUSS, SHRED, DISINTEGRATE and OTHER. */
static int check_matrix(const Registry__V1__SubmitWipeRequest *req, wipe_violation *v) {
  int method = (int)req->method, technique = (int)req->technique;
  if (method == WM(DESTROY) && !is_destruction(technique))
    return core_fail(v, "technique", "method DESTROY needs technique SHRED or DISINTEGRATE");
  if (method != WM(DESTROY) && is_destruction(technique))
    return core_fail(v, "technique", "SHRED and DISINTEGRATE are method DESTROY");
  if (technique == WT(DEGAUSS))
    for (size_t i = 0; i < req->n_media; i++)
      if (req->media[i]->type != MT(HDD)) {
        char field[64];
        snprintf(field, sizeof(field), "media[%zu].type", i);
        return core_fail(v, field, "DEGAUSS applies to magnetic media (HDD) only");
      }
  if ((technique == WT(CRYPTO_ERASE) || technique == WT(BLOCK_ERASE)) && req->passes != 0)
    return core_fail(v, "passes", "must be 0 for CRYPTO_ERASE and BLOCK_ERASE");
  if (technique == WT(OVERWRITE) && req->passes < 1)
    return core_fail(v, "passes", "must be at least 1 for OVERWRITE");
  if (req->random_pass && technique != WT(OVERWRITE))
    return core_fail(v, "random_pass", "applies to OVERWRITE only");
  int pct = req->verified_percent;
  switch ((int)req->verification) {
  case VF(NONE):
    if (pct != 0) return core_fail(v, "verified_percent", "must be 0 with verification NONE");
    break;
  case VF(SAMPLE):
    if (pct < 1 || pct > 99)
      return core_fail(v, "verified_percent", "must be 1 to 99 with verification SAMPLE");
    break;
  default: /* FULL */
    if (pct != 100) return core_fail(v, "verified_percent", "must be 100 with verification FULL");
    break;
  }
  int dest = (int)req->destination;
  if ((method == WM(DESTROY) || technique == WT(DEGAUSS)) && (dest == DS(REUSE) || dest == DS(RESALE)))
    return core_fail(v, "destination",
                "a destroyed or degaussed medium cannot be reused or resold (RECYCLE or EXPORT)");
  return 0;
}

/* Order: the fields in the order of the message, then the matrix in the
 * order of SPEC §4.3, so each violation names the first bad field. */
int wipe_rules_check_submit(Registry__V1__SubmitWipeRequest *req, int64_t now_us,
                            wipe_violation *v) {
  if (check_device(req->device, v)) return REG_EINVAL;
  if (check_media(req, v)) return REG_EINVAL;
  if (core_check_enum((int)req->method, WM(CLEAR), WM(DESTROY), "method", v)) return REG_EINVAL;
  if (core_check_enum((int)req->technique, WT(OVERWRITE), WT(OTHER), "technique", v)) return REG_EINVAL;
  if (req->passes < 0) return core_fail(v, "passes", "must not be negative");
  if (req->passes > PASSES_MAX) return core_fail(v, "passes", "must be at most 100");
  if (core_check_enum((int)req->verification, VF(NONE), VF(FULL), "verification", v)) return REG_EINVAL;
  if (req->verified_percent < 0 || req->verified_percent > 100)
    return core_fail(v, "verified_percent", "must be a percentage from 0 to 100");
  /* Decision: the tool's name is required (a certificate says what wiped
   * the device: software, or the shredder's make and model); its version
   * is optional (a shredder has none). The operator is a natural person
   * and always named. */
  if (check_text(req->tool_name, "tool_name", 1, v)) return REG_EINVAL;
  if (check_text(req->tool_version, "tool_version", 0, v)) return REG_EINVAL;
  text_trim(req->operator_name); /* one name, one operator_ref */
  if (check_text(req->operator_name, "operator_name", 1, v)) return REG_EINVAL;
  if (check_times(req, now_us, v)) return REG_EINVAL;
  if (core_check_enum((int)req->destination, DS(REUSE), DS(EXPORT), "destination", v)) return REG_EINVAL;
  if (core_check_enum((int)req->result, WR(SUCCESS), WR(ABORTED), "result", v)) return REG_EINVAL;
  return check_matrix(req, v);
}

/* ---- certificates ---- */

static int is_flash(int media_type) {
  return media_type == MT(SSD) || media_type == MT(NVME) || media_type == MT(EMMC) ||
         media_type == MT(FLASH);
}

/* Decision: an unknown media type (UNSPECIFIED, out of range) is
 * sufficiently wiped by nothing — not even shredding: the registry
 * certifies only what it can name. A checked submission never has one. */
int wipe_rules_sufficient(int media_type, int technique, int passes, int random_pass) {
  if (media_type < MT(HDD) || media_type > MT(OTHER)) return 0;
  if (is_destruction(technique)) return 1;
  if (media_type == MT(HDD))
    return technique == WT(DEGAUSS) || (technique == WT(OVERWRITE) && passes >= 3 && random_pass);
  if (is_flash(media_type))
    return (technique == WT(OVERWRITE) && passes >= 1) || technique == WT(BLOCK_ERASE) ||
           technique == WT(CRYPTO_ERASE) || technique == WT(FACTORY_RESET_ENCRYPTED);
  return 0; /* MEDIA_TYPE_OTHER: destruction only */
}

/* Decision: a result or verification outside the known values (never in
 * a checked submission) refuses like FAILED / NONE, and a submission
 * without media is insufficient rather than vacuously sufficient. */
const char *wipe_rules_refusal(const Registry__V1__SubmitWipeRequest *req) {
  if (req->result != WR(SUCCESS)) return "WIPE_FAILED";
  if (req->verification != VF(SAMPLE) && req->verification != VF(FULL)) return "WIPE_NOT_VERIFIED";
  if (req->n_media == 0 || !req->media) return "WIPE_METHOD_INSUFFICIENT";
  for (size_t i = 0; i < req->n_media; i++) {
    const Registry__V1__Medium *m = req->media[i];
    if (!m || !wipe_rules_sufficient((int)m->type, (int)req->technique, req->passes,
                                     req->random_pass))
      return "WIPE_METHOD_INSUFFICIENT";
  }
  return NULL;
}
