/*
 * The domain rules of ListingService (SPEC §4.2, §6; DOMAIN §2, §3, §5):
 * request validation naming the first bad field, vehicle type × use
 * nature, the mandatory scrapping ages as a dated table built from
 * configuration, anniversaries and anti-flipping, and who may move a
 * listing from one status to another. Pure functions, no I/O: the one
 * input from outside is `today`, which callers pass in (tests pin it).
 *
 * Strings are already valid UTF-8 (the transport checks every string
 * before a handler runs); a NULL string is taken as "". Normalization
 * happens in place and only ever shortens or keeps a string's length, so
 * protobuf-c's shared empty string is never written to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "services/core/ident.h"
#include "services/core/ids.h"
#include "services/core/text.h"
#include "services/listing/listing.h"

/* Short names for the enum values the rules use. */
#define VT(x) REGISTRY__V1__VEHICLE_TYPE__VEHICLE_TYPE_##x
#define UN(x) REGISTRY__V1__USE_NATURE__USE_NATURE_##x
#define LS(x) REGISTRY__V1__LISTING_STATUS__LISTING_STATUS_##x
#define N_TYPES 12 /* VEHICLE_TYPE_UNSPECIFIED … SPECIAL */
#define N_USES 5   /* USE_NATURE_UNSPECIFIED … COMMERCIAL_FREIGHT */

static const char *str(const char *s) { return s ? s : ""; }


/* ---- text ---- */

/* Decision: short texts (titles, makes, models, references, ids; at most
 * LISTING_TEXT_MAX characters) are one line and hold no control
 * characters at all; long texts (descriptions, addresses, reasons; at most
 * LISTING_LONG_TEXT_MAX) may also hold line breaks and tabs. "Required"
 * means not blank (spaces only count as missing). */
enum { SHORT = 0, LONG = 1 };

static int check_text(const char *s, const char *field, int required, int kind,
                      listing_violation *v) {
  return kind == LONG ? core_check_long_text(s, field, required, LISTING_LONG_TEXT_MAX, v)
                      : core_check_text(s, field, required, LISTING_TEXT_MAX, v);
}


static int check_not_negative(int64_t n, const char *field, listing_violation *v) {
  return n < 0 ? core_fail(v, field, "must not be negative") : 0;
}

/* An odometer reading: 0 (none) up to LISTING_MILEAGE_MAX km — far beyond
 * any vehicle, so a reading above it is an error, not a car. */
static int check_mileage(int64_t km, const char *field, listing_violation *v) {
  if (km < 0) return core_fail(v, field, "must not be negative");
  return km > LISTING_MILEAGE_MAX ? core_fail(v, field, "is beyond any odometer (at most 10,000,000 km)") : 0;
}

/* A YYYY-MM-DD date that must not lie after `today`; *out only on success. */
static int check_past_day(const char *s, const char *field, clock_day today, clock_day *out,
                          listing_violation *v) {
  clock_day d;
  if (clock_day_parse(str(s), &d) != 0) return core_fail(v, field, "must be a date YYYY-MM-DD");
  if (d > today) return core_fail(v, field, "must not be in the future");
  *out = d;
  return 0;
}

/* The identifiers are normalized in place: the upper-case form has the
 * same length as a valid input. */
static int norm_vin(char *s, const char *field, listing_violation *v) {
  char out[18];
  if (ident_vin_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid VIN (17 characters, no I/O/Q, check digit at position 9)");
  memcpy(s, out, sizeof(out));
  return 0;
}

static int norm_imei(char *s, const char *field, listing_violation *v) {
  char out[16];
  if (ident_imei_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid IMEI (15 digits with a Luhn check digit)");
  memcpy(s, out, sizeof(out));
  return 0;
}

static int norm_uscc(char *s, const char *field, listing_violation *v) {
  char out[19];
  if (ident_uscc_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid unified social credit code (GB 32100-2015)");
  memcpy(s, out, sizeof(out));
  return 0;
}

static int norm_id_number(char *s, const char *field, listing_violation *v) {
  char out[19];
  if (ident_resident_id_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid resident ID number (GB 11643-1999)");
  memcpy(s, out, sizeof(out));
  return 0;
}

static int given(const char *s) { return s && *s; }

/* ---- items ---- */

static int check_vehicle(Registry__V1__Vehicle *x, clock_day today, listing_violation *v) {
  if (norm_vin(x->vin, "vehicle.vin", v)) return REG_EINVAL;
  if (check_text(x->plate_no, "vehicle.plate_no", 0, SHORT, v)) return REG_EINVAL;
  if (check_text(x->make, "vehicle.make", 0, SHORT, v)) return REG_EINVAL;
  if (check_text(x->model, "vehicle.model", 0, SHORT, v)) return REG_EINVAL;
  if (core_check_enum((int)x->vehicle_type, VT(SMALL_PASSENGER), VT(SPECIAL), "vehicle.vehicle_type", v))
    return REG_EINVAL;
  if (core_check_enum((int)x->use_nature, UN(NON_COMMERCIAL), UN(COMMERCIAL_FREIGHT), "vehicle.use_nature", v))
    return REG_EINVAL;
  if (listing_rules_type_use((int)x->vehicle_type, (int)x->use_nature) != 0)
    return core_fail(v, "vehicle.use_nature",
                "does not fit the vehicle type (a passenger type cannot carry freight, a truck cannot carry passengers)");
  /* Decision: the first registration date is optional (an unregistered
   * or imported vehicle); without one no scrapping age is checked. */
  clock_day first;
  if (given(x->first_registration_date) &&
      check_past_day(x->first_registration_date, "vehicle.first_registration_date", today, &first, v))
    return REG_EINVAL;
  /* UNSPECIFIED: not given (older vehicles' papers may not say). */
  if (core_check_enum((int)x->emission_standard, 0, REGISTRY__V1__EMISSION_STANDARD__EMISSION_STANDARD_GUO6,
                 "vehicle.emission_standard", v))
    return REG_EINVAL;
  return check_mileage(x->mileage_km, "vehicle.mileage_km", v);
}

static int check_electronic(Registry__V1__Electronic *x, listing_violation *v) {
  if (core_check_enum((int)x->category, REGISTRY__V1__ELECTRONIC_CATEGORY__ELECTRONIC_CATEGORY_PHONE,
                 REGISTRY__V1__ELECTRONIC_CATEGORY__ELECTRONIC_CATEGORY_OTHER, "electronic.category", v))
    return REG_EINVAL;
  text_trim(x->brand); /* (brand, serial_no) identifies a device without IMEI */
  if (check_text(x->brand, "electronic.brand", 1, SHORT, v)) return REG_EINVAL;
  if (check_text(x->model, "electronic.model", 0, SHORT, v)) return REG_EINVAL;
  /* Decision: a device with neither IMEI nor serial number is accepted
   * (like goods, each registration is then a new item). */
  if (given(x->imei) && norm_imei(x->imei, "electronic.imei", v)) return REG_EINVAL;
  if (check_text(x->serial_no, "electronic.serial_no", 0, SHORT, v)) return REG_EINVAL;
  return check_not_negative(x->storage_bytes, "electronic.storage_bytes", v);
}

static int check_goods(const Registry__V1__Goods *x, listing_violation *v) {
  if (core_check_enum((int)x->category, REGISTRY__V1__GOODS_CATEGORY__GOODS_CATEGORY_CLOTHING,
                 REGISTRY__V1__GOODS_CATEGORY__GOODS_CATEGORY_OTHER, "goods.category", v))
    return REG_EINVAL;
  if (check_text(x->title, "goods.title", 1, SHORT, v)) return REG_EINVAL;
  return check_text(x->description, "goods.description", 0, LONG, v);
}

int listing_rules_check_register(Registry__V1__RegisterItemRequest *req, clock_day today,
                                 listing_violation *v) {
  switch (req->item_case) {
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_VEHICLE:
    if (!req->vehicle) return core_fail(v, "vehicle", "is required");
    return check_vehicle(req->vehicle, today, v);
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_ELECTRONIC:
    if (!req->electronic) return core_fail(v, "electronic", "is required");
    return check_electronic(req->electronic, v);
  case REGISTRY__V1__REGISTER_ITEM_REQUEST__ITEM_GOODS:
    if (!req->goods) return core_fail(v, "goods", "is required");
    return check_goods(req->goods, v);
  default:
    return core_fail(v, "item", "one of vehicle, electronic or goods is required");
  }
}

/* ---- listings, sales, appraisals ---- */

/* Ids are opaque and server-assigned: the store answers NOT_FOUND for an
 * unknown one, so here only presence and the short-text limits. */
/* A registry id (itm_…, lst_…): never longer than the registry makes
 * them (IDS_MAX), so a longer one is refused here, by name, rather than
 * cut to size and reported NOT_FOUND as another id. */
static int check_id(const char *s, const char *field, int required, listing_violation *v) {
  if (check_text(s, field, required, SHORT, v)) return REG_EINVAL;
  return s && strlen(s) >= IDS_MAX ? core_fail(v, field, "is not a registry id (too long)") : 0;
}

int listing_rules_check_create(Registry__V1__CreateListingRequest *req, listing_violation *v) {
  if (check_id(req->item_id, "item_id", 1, v)) return REG_EINVAL;
  if (party_check(req->seller, "seller", 1, v->field, sizeof v->field, v->message, sizeof v->message))
    return REG_EINVAL;
  if (check_not_negative(req->price_fen, "price_fen", v)) return REG_EINVAL; /* 0: free */
  if (check_text(req->platform_listing_ref, "platform_listing_ref", 0, SHORT, v)) return REG_EINVAL;
  if (check_id(req->market_id, "market_id", 0, v)) return REG_EINVAL;
  if (check_text(req->stall_no, "stall_no", 0, SHORT, v)) return REG_EINVAL;
  /* Decision: a stall is a stall of a market. */
  if (given(req->stall_no) && !given(req->market_id))
    return core_fail(v, "market_id", "is required with stall_no");
  if (check_text(req->condition_grade, "condition_grade", 0, SHORT, v)) return REG_EINVAL;
  if (check_id(req->appraisal_id, "appraisal_id", 0, v)) return REG_EINVAL;
  if (check_id(req->wipe_certificate_id, "wipe_certificate_id", 0, v)) return REG_EINVAL;
  return check_mileage(req->mileage_km, "mileage_km", v);
}

/* Decision: an update that changes nothing is accepted (it returns the
 * listing as it is). SOLD and TAKEN_DOWN are well-formed values here; the
 * transition rule refuses them (FAILED_PRECONDITION, not INVALID_ARGUMENT). */
int listing_rules_check_update(const Registry__V1__UpdateListingRequest *req, listing_violation *v) {
  if (check_id(req->listing_id, "listing_id", 1, v)) return REG_EINVAL;
  if (req->price_fen && check_not_negative(req->price_fen->value, "price_fen", v)) return REG_EINVAL;
  if (core_check_enum((int)req->status, 0, LS(TAKEN_DOWN), "status", v)) return REG_EINVAL;
  return check_id(req->wipe_certificate_id, "wipe_certificate_id", 0, v);
}

int listing_rules_check_sale(Registry__V1__RecordSaleRequest *req, clock_day today,
                             clock_day *sold_on, listing_violation *v) {
  if (check_id(req->listing_id, "listing_id", 1, v)) return REG_EINVAL;
  if (party_check(req->buyer, "buyer", 1, v->field, sizeof v->field, v->message, sizeof v->message))
    return REG_EINVAL;
  if (check_not_negative(req->price_fen, "price_fen", v)) return REG_EINVAL;
  return check_past_day(req->sold_on, "sold_on", today, sold_on, v);
}

/* Decision: condition grade and method are free text, both optional; the
 * report's SHA-256 is what makes an appraisal verifiable, so required. */
int listing_rules_check_appraisal(Registry__V1__AttachAppraisalRequest *req, listing_violation *v) {
  if (check_id(req->item_id, "item_id", 1, v)) return REG_EINVAL;
  if (check_id(req->listing_id, "listing_id", 0, v)) return REG_EINVAL;
  if (check_not_negative(req->appraised_value_fen, "appraised_value_fen", v)) return REG_EINVAL;
  if (check_text(req->condition_grade, "condition_grade", 0, SHORT, v)) return REG_EINVAL;
  if (check_text(req->method, "method", 0, SHORT, v)) return REG_EINVAL;
  if (req->report_sha256.len != 32 || !req->report_sha256.data)
    return core_fail(v, "report_sha256", "must be 32 bytes (the SHA-256 of the report)");
  if (!req->appraiser) return core_fail(v, "appraiser", "is required");
  if (party_check_person(req->appraiser, "appraiser", v->field, sizeof v->field, v->message,
                         sizeof v->message))
    return REG_EINVAL;
  return 0;
}

/* ---- stolen reports, brands, take-downs, markets ---- */

int listing_rules_check_item_key(const char *item_id, char *vin, char *imei, listing_violation *v) {
  int n = given(item_id) + given(vin) + given(imei);
  if (n == 0) return core_fail(v, "key", "one of item_id, vin or imei is required");
  if (n > 1) return core_fail(v, "key", "only one of item_id, vin or imei may be given");
  if (given(item_id)) return check_id(item_id, "item_id", 1, v);
  if (given(vin)) return norm_vin(vin, "vin", v);
  return norm_imei(imei, "imei", v);
}

/* The oneof `key` of ReportStolen / ClearStolen: its cases share one
 * union member, so pick by case. */
#define ITEM_KEY(req, P)                                                            \
  listing_rules_check_item_key((req)->key_case == P##_KEY_ITEM_ID ? (req)->item_id : NULL, \
                               (req)->key_case == P##_KEY_VIN ? (req)->vin : NULL,       \
                               (req)->key_case == P##_KEY_IMEI ? (req)->imei : NULL, v)

/* Decision: a stolen report needs its reference (the case number from
 * public security); the reporting authority is optional. */
int listing_rules_check_report_stolen(Registry__V1__ReportStolenRequest *req, listing_violation *v) {
  if (ITEM_KEY(req, REGISTRY__V1__REPORT_STOLEN_REQUEST_)) return REG_EINVAL;
  if (check_text(req->report_ref, "report_ref", 1, SHORT, v)) return REG_EINVAL;
  return check_text(req->reporter, "reporter", 0, SHORT, v);
}

/* Decision: clearing needs a reason; the report reference is optional
 * (an item has one stolen status at a time). */
int listing_rules_check_clear_stolen(Registry__V1__ClearStolenRequest *req, listing_violation *v) {
  if (ITEM_KEY(req, REGISTRY__V1__CLEAR_STOLEN_REQUEST_)) return REG_EINVAL;
  if (check_text(req->report_ref, "report_ref", 0, SHORT, v)) return REG_EINVAL;
  return check_text(req->reason, "reason", 1, LONG, v);
}

/* Decision: the reason is required, the decision reference optional. */
int listing_rules_check_clear_brand(const Registry__V1__ClearBrandRequest *req, listing_violation *v) {
  if (check_id(req->item_id, "item_id", 1, v)) return REG_EINVAL;
  if (core_check_enum((int)req->brand, REGISTRY__V1__BRAND__BRAND_ODOMETER_ROLLBACK_SUSPECTED,
                 REGISTRY__V1__BRAND__BRAND_ODOMETER_ROLLBACK_SUSPECTED, "brand", v))
    return REG_EINVAL;
  if (check_text(req->reason, "reason", 1, LONG, v)) return REG_EINVAL;
  return check_text(req->decision_ref, "decision_ref", 0, SHORT, v);
}

/* The reason becomes the listing's status_detail: required. */
int listing_rules_check_take_down(const Registry__V1__TakeDownListingRequest *req,
                                  listing_violation *v) {
  if (check_id(req->listing_id, "listing_id", 1, v)) return REG_EINVAL;
  return check_text(req->reason, "reason", 1, LONG, v);
}

/* Decision: a market has a name and an address; its operator's USCC is
 * optional (a community-run market may have none) but valid when given. */
int listing_rules_check_market(Registry__V1__RegisterMarketRequest *req, listing_violation *v) {
  if (check_text(req->name, "name", 1, SHORT, v)) return REG_EINVAL;
  if (check_text(req->address, "address", 1, LONG, v)) return REG_EINVAL;
  if (given(req->operator_uscc) && norm_uscc(req->operator_uscc, "operator_uscc", v))
    return REG_EINVAL;
  return 0;
}

/* ---- list filters ---- */

/* `purpose` of a search by a person's ID number (SPEC §3, access log). */
static int check_purpose(const char *purpose, int required, listing_violation *v) {
  if (check_text(purpose, "purpose", 0, SHORT, v)) return REG_EINVAL;
  if (required && check_text(purpose, "purpose", 1, SHORT, v))
    return core_fail(v, "purpose", "is required when searching by a person's ID number");
  return 0;
}

int listing_rules_check_list_listings(Registry__V1__ListListingsRequest *req, listing_violation *v) {
  if (core_check_enum((int)req->status, 0, LS(TAKEN_DOWN), "status", v)) return REG_EINVAL;
  if (core_check_enum((int)req->kind, 0, REGISTRY__V1__ITEM_KIND__ITEM_KIND_GOODS, "kind", v))
    return REG_EINVAL;
  if (given(req->seller_id_number) && given(req->seller_uscc))
    return core_fail(v, "seller_uscc", "only one of seller_id_number and seller_uscc may be given");
  if (given(req->seller_id_number)) {
    if (norm_id_number(req->seller_id_number, "seller_id_number", v)) return REG_EINVAL;
    if (check_purpose(req->purpose, 1, v)) return REG_EINVAL;
  } else if (check_purpose(req->purpose, 0, v)) {
    return REG_EINVAL;
  }
  if (given(req->seller_uscc) && norm_uscc(req->seller_uscc, "seller_uscc", v)) return REG_EINVAL;
  if (check_id(req->market_id, "market_id", 0, v)) return REG_EINVAL;
  if (check_id(req->platform_id, "platform_id", 0, v)) return REG_EINVAL;
  return check_id(req->item_id, "item_id", 0, v);
}

/* Decision: an empty from_on / to_on is an open end, written as the first
 * and last day clock_day_parse accepts (1900-01-01, 9999-12-31), so the
 * store binds two plain dates. */
int listing_rules_check_list_sales(Registry__V1__ListSalesRequest *req, clock_day *from,
                                   clock_day *to, listing_violation *v) {
  const char *keys[4] = {"item_id", "seller_id_number", "buyer_id_number", "platform_id"};
  const char *vals[4] = {req->item_id, req->seller_id_number, req->buyer_id_number, req->platform_id};
  int seen = 0;
  for (int i = 0; i < 4; i++) {
    if (!given(vals[i])) continue;
    if (seen++)
      return core_fail(v, keys[i],
                  "only one of item_id, seller_id_number, buyer_id_number and platform_id may be given");
  }
  if (check_id(req->item_id, "item_id", 0, v)) return REG_EINVAL;
  if (check_id(req->platform_id, "platform_id", 0, v)) return REG_EINVAL;
  int by_person = 0;
  if (given(req->seller_id_number)) {
    if (norm_id_number(req->seller_id_number, "seller_id_number", v)) return REG_EINVAL;
    by_person = 1;
  }
  if (given(req->buyer_id_number)) {
    if (norm_id_number(req->buyer_id_number, "buyer_id_number", v)) return REG_EINVAL;
    by_person = 1;
  }
  if (check_purpose(req->purpose, by_person, v)) return REG_EINVAL;
  clock_day f = clock_day_from_ymd(1900, 1, 1), t = clock_day_from_ymd(9999, 12, 31);
  if (given(req->from_on) && clock_day_parse(req->from_on, &f) != 0)
    return core_fail(v, "from_on", "must be a date YYYY-MM-DD");
  if (given(req->to_on) && clock_day_parse(req->to_on, &t) != 0)
    return core_fail(v, "to_on", "must be a date YYYY-MM-DD");
  if (t < f) return core_fail(v, "to_on", "must not be before from_on");
  *from = f;
  *to = t;
  return 0;
}

/* ---- status transitions ---- */

/* allowed[actor][from]: bit `to` set when the actor may move from → to
 * (SPEC §4.2 table and §6 "Remaining details"). Final statuses (SOLD,
 * WITHDRAWN, TAKEN_DOWN) have no row bits; UNSPECIFIED neither. */
#define B(s) (1u << LS(s))
static const unsigned allowed[5][7] = {
    [LISTING_BY_PLATFORM] =
        {
            [LS(ACTIVE)] = B(RESERVED) | B(WITHDRAWN),
            [LS(RESERVED)] = B(ACTIVE) | B(WITHDRAWN),
            /* the registry refuses ACTIVE while something still blocks */
            [LS(SUSPENDED)] = B(ACTIVE) | B(WITHDRAWN),
        },
    [LISTING_BY_SALE] =
        {
            [LS(ACTIVE)] = B(SOLD),
            [LS(RESERVED)] = B(SOLD),
        },
    [LISTING_BY_INSPECTOR] =
        {
            [LS(ACTIVE)] = B(TAKEN_DOWN),
            [LS(RESERVED)] = B(TAKEN_DOWN),
            [LS(SUSPENDED)] = B(TAKEN_DOWN),
        },
    [LISTING_BY_REGISTRY] =
        {
            /* suspension (stolen, revoked certificate), reactivation, and
             * WITHDRAWN with SOLD_ELSEWHERE when another listing sells */
            [LS(ACTIVE)] = B(SUSPENDED) | B(WITHDRAWN),
            [LS(RESERVED)] = B(SUSPENDED) | B(WITHDRAWN),
            [LS(SUSPENDED)] = B(ACTIVE) | B(WITHDRAWN),
        },
};
#undef B

int listing_rules_transition(int from, int to, listing_actor actor) {
  if ((int)actor < LISTING_BY_PLATFORM || (int)actor > LISTING_BY_REGISTRY) return REG_EPERM;
  if (from < 0 || from > LS(TAKEN_DOWN) || to < 0 || to > LS(TAKEN_DOWN)) return REG_EPERM;
  return (allowed[actor][from] >> to) & 1u ? 0 : REG_EPERM;
}

/* ---- vehicle type × use nature ---- */

static int is_passenger(int t) {
  return t == VT(SMALL_PASSENGER) || t == VT(MICRO_PASSENGER) || t == VT(MEDIUM_PASSENGER) ||
         t == VT(LARGE_PASSENGER) || t == VT(SCHOOL_BUS);
}

static int is_truck(int t) { return t >= VT(MICRO_TRUCK) && t <= VT(HAZARDOUS_TRUCK); }

int listing_rules_type_use(int vehicle_type, int use_nature) {
  if (vehicle_type < VT(SMALL_PASSENGER) || vehicle_type > VT(SPECIAL)) return REG_EINVAL;
  if (use_nature < UN(NON_COMMERCIAL) || use_nature > UN(COMMERCIAL_FREIGHT)) return REG_EINVAL;
  if (is_passenger(vehicle_type) && use_nature == UN(COMMERCIAL_FREIGHT)) return REG_EINVAL;
  if (is_truck(vehicle_type) && (use_nature == UN(TAXI) || use_nature == UN(COMMERCIAL_PASSENGER)))
    return REG_EINVAL;
  return 0;
}

/* ---- scrapping ages ---- */

/* The built-in defaults (DOMAIN §2, 机动车强制报废标准规定), years by
 * [vehicle_type][use_nature]; 0 = no limit. Combinations type_use refuses
 * never reach a listing and stay 0. */
static const unsigned char default_years[N_TYPES][N_USES] = {
    /*                        -  NON_COMM TAXI COMM_PASS COMM_FREIGHT */
    [VT(SMALL_PASSENGER)] = {0, 0, 8, 10, 0},
    [VT(MICRO_PASSENGER)] = {0, 0, 8, 10, 0},
    [VT(MEDIUM_PASSENGER)] = {0, 20, 10, 15, 0},
    [VT(LARGE_PASSENGER)] = {0, 20, 12, 15, 0},
    [VT(MICRO_TRUCK)] = {0, 12, 0, 0, 12},
    [VT(LIGHT_TRUCK)] = {0, 15, 0, 0, 15},
    [VT(MEDIUM_TRUCK)] = {0, 15, 0, 0, 15},
    [VT(HEAVY_TRUCK)] = {0, 15, 0, 0, 15},
    [VT(HAZARDOUS_TRUCK)] = {0, 10, 0, 0, 10},
    [VT(SCHOOL_BUS)] = {0, 15, 15, 15, 0},
    [VT(SPECIAL)] = {0, 0, 0, 0, 0},
};

typedef struct scrap_entry {
  int dated;       /* 0: in force from the start */
  clock_day from;  /* when dated: in force on and after this day */
  int use, type;   /* 0: any (`*`) */
  int years;       /* 0: none */
} scrap_entry;

struct listing_scrap_table {
  size_t n;
  scrap_entry e[];
};

static const char *const type_names[N_TYPES] = {
    NULL,           "SMALL_PASSENGER", "MICRO_PASSENGER", "MEDIUM_PASSENGER",
    "LARGE_PASSENGER", "MICRO_TRUCK",   "LIGHT_TRUCK",     "MEDIUM_TRUCK",
    "HEAVY_TRUCK",  "HAZARDOUS_TRUCK", "SCHOOL_BUS",      "SPECIAL",
};
static const char *const use_names[N_USES] = {
    NULL, "NON_COMMERCIAL", "TAXI", "COMMERCIAL_PASSENGER", "COMMERCIAL_FREIGHT",
};

/* A name of `names` (case-insensitive), or `*` → 0; -1 if unknown. */
static int lookup_name(const char *s, size_t len, const char *const *names, int n) {
  if (len == 1 && s[0] == '*') return 0;
  for (int i = 1; i < n; i++)
    if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0) return i;
  return -1;
}

/* Parses one entry `[YYYY-MM-DD:]USE/TYPE=YEARS|none` of s[0..len). */
static int parse_entry(const char *s, size_t len, scrap_entry *e, char *err, size_t err_cap) {
  const char *end = s + len;
  memset(e, 0, sizeof(*e));
  if (core_spec_date(s, len, &e->from, &e->dated, &s) != 0) goto bad_date;
  const char *slash = memchr(s, '/', (size_t)(end - s));
  const char *eq = memchr(s, '=', (size_t)(end - s));
  if (!slash || !eq || eq < slash) {
    snprintf(err, err_cap, "entry \"%.*s\": expected [YYYY-MM-DD:]USE_NATURE/VEHICLE_TYPE=YEARS|none",
             (int)len, end - len);
    return REG_EINVAL;
  }
  e->use = lookup_name(s, (size_t)(slash - s), use_names, N_USES);
  if (e->use < 0) {
    snprintf(err, err_cap, "unknown use nature \"%.*s\"", (int)(slash - s), s);
    return REG_EINVAL;
  }
  e->type = lookup_name(slash + 1, (size_t)(eq - slash - 1), type_names, N_TYPES);
  if (e->type < 0) {
    snprintf(err, err_cap, "unknown vehicle type \"%.*s\"", (int)(eq - slash - 1), slash + 1);
    return REG_EINVAL;
  }
  const char *y = eq + 1;
  size_t yl = (size_t)(end - y);
  if (yl == 4 && strncasecmp(y, "none", 4) == 0) {
    e->years = 0;
    return 0;
  }
  /* Decision: 1–99 years; "none" (not 0) says there is no limit. */
  int years = 0;
  if (yl < 1 || yl > 2) goto bad_years;
  for (size_t i = 0; i < yl; i++) {
    if (y[i] < '0' || y[i] > '9') goto bad_years;
    years = years * 10 + (y[i] - '0');
  }
  if (years < 1) goto bad_years;
  e->years = years;
  return 0;
bad_years:
  snprintf(err, err_cap, "bad years \"%.*s\" (1-99 or none)", (int)yl, y);
  return REG_EINVAL;
bad_date:
  snprintf(err, err_cap, "entry \"%.*s\": bad date (YYYY-MM-DD)", (int)len, end - len);
  return REG_EINVAL;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int listing_scrap_table_new(const char *spec, listing_scrap_table **out, char *err,
                            size_t err_cap) {
  spec = str(spec);
  if (err && err_cap) err[0] = 0;
  char dummy[8];
  if (!err || !err_cap) {
    err = dummy;
    err_cap = sizeof(dummy);
  }
  const char *p = spec;
  while (is_space(*p)) p++;
  int blank = *p == 0;
  size_t max = 1;
  for (const char *q = spec; *q; q++)
    if (*q == ',') max++;
  listing_scrap_table *t = calloc(1, sizeof(*t) + (blank ? 0 : max) * sizeof(scrap_entry));
  if (!t) {
    snprintf(err, err_cap, "out of memory");
    return REG_ENOMEM;
  }
  /* Whitespace around an entry is ignored; an empty entry is an error. */
  for (const char *s = spec; !blank;) {
    const char *comma = strchr(s, ',');
    const char *e = comma ? comma : s + strlen(s);
    const char *b = s;
    while (b < e && is_space(*b)) b++;
    while (e > b && is_space(e[-1])) e--;
    if (b == e) {
      snprintf(err, err_cap, "empty entry");
      free(t);
      return REG_EINVAL;
    }
    if (parse_entry(b, (size_t)(e - b), &t->e[t->n], err, err_cap) != 0) {
      free(t);
      return REG_EINVAL;
    }
    t->n++;
    if (!comma) break;
    s = comma + 1;
  }
  *out = t;
  return 0;
}

void listing_scrap_table_free(listing_scrap_table *t) { free(t); }

/* Built-in defaults first; then, of the configured entries that match and
 * are in force on `on`, the one with the latest date wins (undated ones
 * count as the earliest), and among equal dates the later in the list. */
int listing_scrap_years(const listing_scrap_table *t, int vehicle_type, int use_nature,
                        clock_day on) {
  if (vehicle_type < 1 || vehicle_type >= N_TYPES || use_nature < 1 || use_nature >= N_USES)
    return 0;
  int years = default_years[vehicle_type][use_nature];
  const scrap_entry *best = NULL;
  for (size_t i = 0; t && i < t->n; i++) {
    const scrap_entry *e = &t->e[i];
    if (e->dated && e->from > on) continue;
    if ((e->type && e->type != vehicle_type) || (e->use && e->use != use_nature)) continue;
    if (best && best->dated && (!e->dated || e->from < best->from)) continue;
    best = e;
  }
  return best ? best->years : years;
}

int listing_rules_past_scrapping_age(const listing_scrap_table *t, int vehicle_type,
                                     int use_nature, clock_day first_registered, clock_day today) {
  int years = listing_scrap_years(t, vehicle_type, use_nature, today);
  if (years <= 0) return 0;
  return today >= clock_anniversary(first_registered, years);
}

int listing_rules_guided_scrapping(int vehicle_type, int use_nature, int64_t mileage_km,
                                   int64_t threshold_km) {
  if (vehicle_type != VT(SMALL_PASSENGER) && vehicle_type != VT(MICRO_PASSENGER)) return 0;
  if (use_nature != UN(NON_COMMERCIAL)) return 0;
  return threshold_km > 0 && mileage_km >= threshold_km;
}

/* ---- anti-flipping ---- */

int listing_rules_is_flip(clock_day bought_on, clock_day sold_on) {
  return sold_on < clock_anniversary(bought_on, 1);
}

int listing_rules_flip_refused(int flips_this_year) { return flips_this_year >= LISTING_FLIP_LIMIT; }

/* ---- process-wide state ---- */

/* Built once by listing_init before the workers start, read-only after. */
static listing_scrap_table *g_scrap;
static const listing_scrap_table builtin_only; /* n = 0: the defaults */

int listing_init(const reg_config *cfg) {
  listing_scrap_table *t = NULL;
  char err[256];
  int rv = listing_scrap_table_new(cfg->scrapping_age, &t, err, sizeof(err));
  if (rv != 0) {
    fprintf(stderr, "registryd: scrapping_age: %s\n", err);
    return rv;
  }
  listing_scrap_table_free(g_scrap);
  g_scrap = t;
  return 0;
}

void listing_shutdown(void) {
  listing_scrap_table_free(g_scrap);
  g_scrap = NULL;
}

const listing_scrap_table *listing_scrap(void) { return g_scrap ? g_scrap : &builtin_only; }
