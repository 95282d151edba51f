/*
 * The domain rules of CreditService (SPEC §4.4, §6 "Credit"; DOMAIN §4,
 * §5): the polarity of a category, a record's derived status and the day
 * it stops counting, the grade rule and its configuration, dispute
 * deadlines, the dishonesty list's calendar, and the checks of
 * RegisterSubject, SubmitRecord (and a dispute's correction) and
 * PlaceOnDishonestyList requests naming the first bad field. Pure
 * functions, no I/O, no floating point: `today` comes from the caller
 * (tests pin it); every date is an Asia/Shanghai day, and every N-year
 * date is clock_anniversary's (29 February → 28 February).
 *
 * Strings are already valid UTF-8 (the transport checks every string
 * before a handler runs); a NULL string is taken as "". Normalization
 * happens in place, only after the whole request passed, keeps a
 * string's length and writes only a string that changes, so protobuf-c's
 * shared empty string (and a test's literal already in normal form) is
 * never written to.
 *
 * The request_id of a request is not checked here: the write driver
 * (services/core/reqid.c) checks it is a canonical UUID before a mutation
 * runs, as for every other service.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "services/core/ident.h"
#include "services/core/ids.h"
#include "services/core/party.h"
#include "services/core/text.h"
#include "services/credit/credit.h"

/* Short names for the enum values the rules use. */
#define RC(x) REGISTRY__V1__RECORD_CATEGORY__RECORD_CATEGORY_##x
#define PO(x) REGISTRY__V1__POLARITY__POLARITY_##x
#define RS(x) REGISTRY__V1__RECORD_STATUS__RECORD_STATUS_##x
#define GR(x) REGISTRY__V1__GRADE__GRADE_##x
#define SK(x) REGISTRY__V1__SUBJECT_KIND__SUBJECT_KIND_##x
#define N_CATEGORIES 13 /* RECORD_CATEGORY_UNSPECIFIED … NOTE */

/* Decision: a dishonesty-list decision reference (a document number such
 * as 晋市监失信〔2026〕12号) is one line of at most this many characters,
 * like a party's name. */
#define CREDIT_REF_MAX PARTY_NAME_MAX

#define SHA256_BYTES 32

static const char *str(const char *s) { return s ? s : ""; }

static int given(const char *s) { return s && *s; }

/* ---- categories, statuses, dates ---- */

int credit_polarity(int category) {
  if (category >= RC(TRADE_COMPLETED) && category <= RC(AWARD)) return PO(POSITIVE);
  if (category >= RC(COMPLAINT_UPHELD) && category <= RC(ADMINISTRATIVE_PENALTY))
    return PO(NEGATIVE);
  if (category == RC(NOTE)) return PO(NEUTRAL);
  return PO(UNSPECIFIED);
}

/* Decision: ended_on 0 means "no end" (the contract's convention), so a
 * conduct that ended on 1970-01-01 itself counts from its occurred_on —
 * a day decades outside any record's five years either way. */
clock_day credit_expires_on(clock_day occurred_on, clock_day ended_on) {
  return clock_anniversary(ended_on ? ended_on : occurred_on, CREDIT_NEGATIVE_YEARS);
}

int credit_record_status(const credit_record_facts *r, clock_day today) {
  if (r->superseded) return RS(SUPERSEDED);
  if (r->withdrawn) return RS(WITHDRAWN);
  if (credit_polarity(r->category) == PO(NEGATIVE) &&
      today >= credit_expires_on(r->occurred_on, r->ended_on))
    return RS(EXPIRED);
  if (r->open_dispute) return RS(DISPUTED);
  return RS(ACTIVE);
}

/* ACTIVE or DISPUTED: the statuses in which a record is in force. */
static int in_force(int status) { return status == RS(ACTIVE) || status == RS(DISPUTED); }

int credit_record_counts(const credit_record_facts *r, clock_day today) {
  return credit_polarity(r->category) == PO(NEGATIVE) && in_force(credit_record_status(r, today));
}

/* ---- the grade rule and its configuration ---- */

static const char *const category_names[N_CATEGORIES] = {
    NULL,
    "TRADE_COMPLETED",
    "CERTIFIED",
    "AWARD",
    "COMPLAINT_UPHELD",
    "MISREPRESENTATION",
    "COUNTERFEIT",
    "DATA_LEAK",
    "WIPE_FAILURE_CONCEALED",
    "ODOMETER_FRAUD",
    "CONTRACT_BREACH",
    "ADMINISTRATIVE_PENALTY",
    "NOTE",
};

void credit_grade_rule_default(credit_grade_rule *r) {
  r->doubled = 1u << RC(COUNTERFEIT) | 1u << RC(DATA_LEAK) | 1u << RC(WIPE_FAILURE_CONCEALED) |
               1u << RC(ODOMETER_FRAUD);
  r->factor = 2;
  r->b_min = 1;
  r->c_min = 5;
  r->d_min = 10;
  r->score_base = 100;
  r->per_point = 5;
}

/* Decision: the configurable numbers have bounds that keep every sum and
 * product inside int64 (points saturate at INT_MAX): factor 1–100 (1: no
 * doubling at all), thresholds 1–1,000,000 with b ≤ c ≤ d (b ≥ 1 keeps
 * "A at 0 points"; b = c leaves no B), base and per_point 0–1,000,000.
 * Keys and category names are case-insensitive; a key given twice is
 * refused (which one was meant?); only NEGATIVE categories can be doubled
 * (no other category ever adds points). */
#define WEIGHT_MAX 1000000
#define FACTOR_MAX 100

enum { K_DOUBLE, K_FACTOR, K_B, K_C, K_D, K_BASE, K_PER_POINT, N_KEYS };
static const char *const key_names[N_KEYS] = {"double", "factor", "b", "c", "d", "base",
                                              "per_point"};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* s[0..*len) without surrounding whitespace: the new start, *len updated. */
static const char *trim(const char *s, size_t *len) {
  size_t n = *len;
  while (n && is_space(*s)) s++, n--;
  while (n && is_space(s[n - 1])) n--;
  *len = n;
  return s;
}

/* Decimal digits s[0..len) from lo to hi → *out; -1 otherwise. */
static int parse_int(const char *s, size_t len, int lo, int hi, int *out) {
  if (len < 1 || len > 7) return -1; /* hi ≤ 1,000,000 */
  int x = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    x = x * 10 + (s[i] - '0');
  }
  if (x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

/* `none` or CAT+CAT+… of s[0..len) → *mask. */
static int parse_doubled(const char *s, size_t len, uint32_t *mask, char *err, size_t err_cap) {
  if (len == 4 && strncasecmp(s, "none", 4) == 0) {
    *mask = 0;
    return 0;
  }
  uint32_t m = 0;
  const char *end = s + len;
  for (const char *p = s;;) {
    const char *plus = memchr(p, '+', (size_t)(end - p));
    const char *e = plus ? plus : end;
    size_t nl = (size_t)(e - p);
    const char *name = trim(p, &nl);
    int cat = -1;
    for (int i = 1; i < N_CATEGORIES && nl; i++)
      if (strlen(category_names[i]) == nl && strncasecmp(category_names[i], name, nl) == 0) cat = i;
    if (cat < 0) {
      snprintf(err, err_cap, "double: unknown category \"%.*s\" (names without RECORD_CATEGORY_, "
               "joined by '+', or none)", (int)nl, name);
      return REG_EINVAL;
    }
    if (credit_polarity(cat) != PO(NEGATIVE)) {
      snprintf(err, err_cap, "double: %s is not a negative category", category_names[cat]);
      return REG_EINVAL;
    }
    m |= 1u << cat;
    if (!plus) break;
    p = plus + 1;
  }
  *mask = m;
  return 0;
}

/* One entry `key=value` of s[0..len) into *g; `seen` the keys so far. */
static int parse_entry(const char *s, size_t len, credit_grade_rule *g, unsigned *seen, char *err,
                       size_t err_cap) {
  const char *eq = memchr(s, '=', len);
  if (!eq) {
    snprintf(err, err_cap, "entry \"%.*s\": expected key=value", (int)len, s);
    return REG_EINVAL;
  }
  size_t kl = (size_t)(eq - s), vl = len - kl - 1;
  const char *key = trim(s, &kl), *val = trim(eq + 1, &vl);
  int k = 0;
  while (k < N_KEYS && !(strlen(key_names[k]) == kl && strncasecmp(key_names[k], key, kl) == 0))
    k++;
  if (k == N_KEYS) {
    snprintf(err, err_cap,
             "unknown key \"%.*s\" (double, factor, b, c, d, base, per_point)", (int)kl, key);
    return REG_EINVAL;
  }
  if (*seen & 1u << k) {
    snprintf(err, err_cap, "%s given twice", key_names[k]);
    return REG_EINVAL;
  }
  *seen |= 1u << k;
  if (k == K_DOUBLE) return parse_doubled(val, vl, &g->doubled, err, err_cap);
  int lo = k == K_BASE || k == K_PER_POINT ? 0 : 1;
  int hi = k == K_FACTOR ? FACTOR_MAX : WEIGHT_MAX;
  int x;
  if (parse_int(val, vl, lo, hi, &x) != 0) {
    snprintf(err, err_cap, "%s: bad value \"%.*s\" (an integer from %d to %d)", key_names[k],
             (int)vl, val, lo, hi);
    return REG_EINVAL;
  }
  switch (k) {
  case K_FACTOR: g->factor = x; break;
  case K_B: g->b_min = x; break;
  case K_C: g->c_min = x; break;
  case K_D: g->d_min = x; break;
  case K_BASE: g->score_base = x; break;
  default: g->per_point = x; break;
  }
  return 0;
}

/* Decision: the overrides apply to the defaults, not to what *r held
 * before (the configuration states the rule, once); *r is written only on
 * success. */
int credit_grade_rule_parse(const char *spec, credit_grade_rule *r, char *err, size_t err_cap) {
  spec = str(spec);
  char dummy[8];
  if (!err || !err_cap) {
    err = dummy;
    err_cap = sizeof(dummy);
  }
  err[0] = 0;
  credit_grade_rule g;
  credit_grade_rule_default(&g);
  size_t all = strlen(spec);
  trim(spec, &all);
  unsigned seen = 0;
  char msg[200];
  /* Whitespace around an entry is ignored; an empty entry is an error. */
  for (const char *s = spec; all;) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    const char *b = trim(s, &len);
    if (!len) {
      snprintf(err, err_cap, "credit_grade: empty entry");
      return REG_EINVAL;
    }
    if (parse_entry(b, len, &g, &seen, msg, sizeof(msg)) != 0) {
      snprintf(err, err_cap, "credit_grade: %s", msg);
      return REG_EINVAL;
    }
    if (!comma) break;
    s = comma + 1;
  }
  if (g.b_min > g.c_min || g.c_min > g.d_min) {
    snprintf(err, err_cap, "credit_grade: thresholds must satisfy b <= c <= d (b=%d c=%d d=%d)",
             g.b_min, g.c_min, g.d_min);
    return REG_EINVAL;
  }
  *r = g;
  return 0;
}

/* Decision: open_disputes counts every record with an open dispute (one
 * per record), whatever its status — the number a count of the unresolved
 * disputes about the subject gives; a NULL rule is the defaults. A
 * severity outside 1–5 (the request check refuses one) counts as given,
 * a negative one as 0; points saturate at INT_MAX. */
void credit_grade_compute(const credit_grade_rule *rule, const credit_record_facts *recs,
                          size_t n, int on_list, clock_day today, credit_grade *out) {
  credit_grade_rule def;
  if (!rule) {
    credit_grade_rule_default(&def);
    rule = &def;
  }
  credit_grade g = {0};
  int64_t points = 0;
  for (size_t i = 0; i < n; i++) {
    const credit_record_facts *r = &recs[i];
    if (r->open_dispute) g.open_disputes++;
    int polarity = credit_polarity(r->category);
    if (!in_force(credit_record_status(r, today))) continue;
    if (polarity == PO(POSITIVE)) g.positive_count++;
    if (polarity != PO(NEGATIVE)) continue;
    g.negative_count++;
    int64_t p = r->severity > 0 ? r->severity : 0;
    if (rule->doubled & 1u << r->category) p *= rule->factor;
    points += p;
    if (points > INT_MAX) points = INT_MAX;
  }
  g.points = (int)points;
  if (on_list || points >= rule->d_min) g.grade = GR(D);
  else if (points >= rule->c_min) g.grade = GR(C);
  else if (points >= rule->b_min) g.grade = GR(B);
  else g.grade = GR(A);
  int64_t score = (int64_t)rule->score_base - (int64_t)rule->per_point * points;
  g.score = score < 0 ? 0 : score > INT_MAX ? INT_MAX : (int)score;
  *out = g;
}

/* ---- disputes and the list ---- */

clock_day credit_dispute_due(clock_day filed_on, int days) { return filed_on + days; }

int credit_dispute_overdue(clock_day filed_on, int days, clock_day today) {
  return today > credit_dispute_due(filed_on, days);
}

clock_day credit_list_ends_on(clock_day listed_on) {
  return clock_anniversary(listed_on, CREDIT_LIST_YEARS);
}

clock_day credit_list_removable_on(clock_day listed_on) {
  return clock_anniversary(listed_on, CREDIT_LIST_MIN_YEARS);
}

/* Decision: an entry is in force from listed_on up to the day before it
 * ends (on its third anniversary it no longer is) and, when removed, up to
 * the day before removed_on (the removal takes effect the day it is
 * made). */
int credit_list_active(clock_day listed_on, clock_day removed_on, clock_day today) {
  if (today < listed_on || today >= credit_list_ends_on(listed_on)) return 0;
  return removed_on == 0 || today < removed_on;
}

/* ---- request checks ---- */

/* Decision: names, ids and references are one line without control
 * characters; summaries, reasons and notes (CREDIT_TEXT_MAX characters)
 * may also hold line breaks and tabs. "Required" means not blank (spaces
 * only count as missing). */
enum { LINE = 0, MULTI = 1 };

static int check_text(const char *s, const char *field, int required, int kind, size_t max,
                      credit_violation *v) {
  return kind == MULTI ? core_check_long_text(s, field, required, max, v)
                       : core_check_text(s, field, required, max, v);
}

/* A registry id (sub_…, rec_…, org_…): never longer than the registry
 * makes them (≤ IDS_MAX − 1 = 47 bytes), so a longer one is refused by
 * name rather than reported NOT_FOUND. */
static int check_id(const char *s, const char *field, int required, credit_violation *v) {
  if (check_text(s, field, required, LINE, IDS_MAX, v)) return REG_EINVAL;
  return strlen(str(s)) >= IDS_MAX ? core_fail(v, field, "is not a registry id (too long)") : 0;
}

/* Writes the normalized form back only when it differs (same length). */
static void put_back(char *s, const char *norm) {
  if (strcmp(s, norm) != 0) memcpy(s, norm, strlen(norm));
}

int credit_kind_is_person(int kind) {
  return kind == SK(SELLER_PERSON) || kind == SK(APPRAISER_PERSON) || kind == SK(PRACTITIONER);
}

/* Order: the fields in the order of the message (kind, name, uscc,
 * id_number, organization_id). Decision: a subject's name follows a
 * party's (one line, at most PARTY_NAME_MAX characters) so that one
 * person is held to one rule registry-wide. */
int credit_rules_check_subject(Registry__V1__RegisterSubjectRequest *req, credit_violation *v) {
  int kind = (int)req->kind;
  if (core_check_enum(kind, SK(PLATFORM), SK(PRACTITIONER), "kind", v)) return REG_EINVAL;
  if (check_text(req->name, "name", 1, LINE, PARTY_NAME_MAX, v)) return REG_EINVAL;
  int person = credit_kind_is_person(kind);
  char norm[19];
  if (person) {
    if (given(req->uscc))
      return core_fail(v, "uscc", "must be empty for a natural person (give id_number)");
    if (!given(req->id_number)) return core_fail(v, "id_number", "is required for a natural person");
    if (ident_resident_id_check(req->id_number, norm) != 0)
      return core_fail(v, "id_number", "is not a valid resident ID number (GB 11643)");
  } else {
    if (!given(req->uscc)) return core_fail(v, "uscc", "is required for an organization");
    if (ident_uscc_check(req->uscc, norm) != 0)
      return core_fail(v, "uscc", "is not a valid unified social credit code (GB 32100)");
    if (given(req->id_number))
      return core_fail(v, "id_number", "must be empty for an organization (give uscc)");
  }
  if (check_id(req->organization_id, "organization_id", 0, v)) return REG_EINVAL;
  put_back(person ? req->id_number : req->uscc, norm);
  return 0;
}

/* The fields a SubmitRecordRequest and a RecordCorrection share. */
typedef struct record_fields {
  int category;
  int severity;
  const char *occurred_on, *ended_on, *summary;
  size_t n_evidence;
  const ProtobufCBinaryData *evidence;
} record_fields;

/* "<prefix><name>" into f[cap]. */
static const char *path(char *f, size_t cap, const char *prefix, const char *name) {
  snprintf(f, cap, "%s%s", prefix, name);
  return f;
}

/* A date field: YYYY-MM-DD, not after today → *out. */
static int check_date(const char *s, const char *field, clock_day today, clock_day *out,
                      credit_violation *v) {
  if (!given(s)) return core_fail(v, field, "is required");
  if (clock_day_parse(s, out) != 0) return core_fail(v, field, "must be a date YYYY-MM-DD");
  if (*out > today) return core_fail(v, field, "must not be in the future (Asia/Shanghai)");
  return 0;
}

static int check_fields(const record_fields *r, const char *prefix, clock_day today,
                        clock_day *occurred, clock_day *ended, credit_violation *v) {
  char f[64];
  if (core_check_enum(r->category, RC(TRADE_COMPLETED), RC(NOTE), path(f, sizeof f, prefix, "category"),
                 v))
    return REG_EINVAL;
  if (r->severity < 1 || r->severity > CREDIT_SEVERITY_MAX)
    return core_fail(v, path(f, sizeof f, prefix, "severity"), "must be from 1 to 5");
  clock_day occ, end = 0;
  if (check_date(r->occurred_on, path(f, sizeof f, prefix, "occurred_on"), today, &occ, v))
    return REG_EINVAL;
  if (given(r->ended_on)) {
    path(f, sizeof f, prefix, "ended_on");
    if (check_date(r->ended_on, f, today, &end, v)) return REG_EINVAL;
    if (end < occ) return core_fail(v, f, "must not be before occurred_on");
  }
  if (check_text(r->summary, path(f, sizeof f, prefix, "summary"), 1, MULTI, CREDIT_TEXT_MAX, v))
    return REG_EINVAL;
  if (r->n_evidence > CREDIT_EVIDENCE_MAX) {
    char m[64];
    snprintf(m, sizeof(m), "must hold at most %d hashes", CREDIT_EVIDENCE_MAX);
    return core_fail(v, path(f, sizeof f, prefix, "evidence_sha256"), m);
  }
  for (size_t i = 0; i < r->n_evidence; i++)
    if (!r->evidence || r->evidence[i].len != SHA256_BYTES) {
      snprintf(f, sizeof(f), "%sevidence_sha256[%zu]", prefix, i);
      return core_fail(v, f, "must be a SHA-256 hash (32 bytes)");
    }
  *occurred = occ;
  *ended = end;
  return 0;
}

/* Order: the fields in the order of the message. */
int credit_rules_check_record(const Registry__V1__SubmitRecordRequest *req, clock_day today,
                              clock_day *occurred, clock_day *ended, credit_violation *v) {
  if (check_id(req->subject_id, "subject_id", 1, v)) return REG_EINVAL;
  record_fields r = {(int)req->category, req->severity,         req->occurred_on, req->ended_on,
                     req->summary,       req->n_evidence_sha256, req->evidence_sha256};
  clock_day occ, end;
  if (check_fields(&r, "", today, &occ, &end, v)) return REG_EINVAL;
  if (check_id(req->supersedes_record_id, "supersedes_record_id", 0, v)) return REG_EINVAL;
  *occurred = occ;
  *ended = end;
  return 0;
}

int credit_rules_check_correction(const Registry__V1__RecordCorrection *c, clock_day today,
                                  clock_day *occurred, clock_day *ended, credit_violation *v) {
  if (!c) return core_fail(v, "correction", "is required");
  record_fields r = {(int)c->category, c->severity,         c->occurred_on, c->ended_on,
                     c->summary,       c->n_evidence_sha256, c->evidence_sha256};
  return check_fields(&r, "correction.", today, occurred, ended, v);
}

/* Order: the fields in the order of the message. */
int credit_rules_check_listing(const Registry__V1__PlaceOnDishonestyListRequest *req,
                               clock_day today, clock_day *listed_on, credit_violation *v) {
  if (check_id(req->subject_id, "subject_id", 1, v)) return REG_EINVAL;
  if (check_text(req->reason, "reason", 1, MULTI, CREDIT_TEXT_MAX, v)) return REG_EINVAL;
  if (check_text(req->decision_ref, "decision_ref", 1, LINE, CREDIT_REF_MAX, v)) return REG_EINVAL;
  clock_day day = today;
  if (given(req->listed_on) && check_date(req->listed_on, "listed_on", today, &day, v))
    return REG_EINVAL;
  *listed_on = day;
  return 0;
}
