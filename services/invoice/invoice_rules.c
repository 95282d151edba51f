/*
 * The domain rules of InvoiceService (SPEC §4.5, §6 "Invoices"; DOMAIN §1,
 * §5): exact half-up arithmetic for line amounts and taxes, the dated VAT
 * and income-tax table built from configuration, the calendar of the cap
 * window and the VAT month, the seller cap, the 20-digit invoice number,
 * and the checks of IssueReverseInvoice and IssueRedInvoice requests
 * naming the first bad field. Pure functions, no I/O: `today` and `now_us`
 * come from the caller (tests pin them).
 *
 * No floating point anywhere: amounts are int64 fen, rates int32 basis
 * points, and every product of two of them is formed in __int128, where it
 * cannot overflow (|a × b| < 2^126), before one rounding division.
 *
 * Strings are already valid UTF-8 (the transport checks every string
 * before a handler runs); a NULL string is taken as "". Normalization
 * happens in place, only ever keeps a string's length, and writes only a
 * string that changes, so protobuf-c's shared empty string (and a test's
 * literal already in normal form) is never written to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/core/ident.h"
#include "services/core/ids.h"
#include "services/core/party.h"
#include "services/core/text.h"
#include "services/invoice/invoice.h"

/* Short names for the enum values the rules use. */
#define IC(x) REGISTRY__V1__INVOICE_CATEGORY__INVOICE_CATEGORY_##x
#define QU(x) REGISTRY__V1__QUANTITY_UNIT__QUANTITY_UNIT_##x
#define RR(x) REGISTRY__V1__RED_REASON__RED_REASON_##x

/* Decision: a consent time may lie this far after `now_us` before it
 * counts as "in the future" (the contract's 5 minutes; the same skew the
 * wipe rules allow a station's clock). */
#define CLOCK_SKEW_US (5 * 60 * INT64_C(1000000))

/* google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999999999Z. */
#define TS_SECONDS_MIN INT64_C(-62135596800)
#define TS_SECONDS_MAX INT64_C(253402300799)

static const char *str(const char *s) { return s ? s : ""; }

static int given(const char *s) { return s && *s; }

/* ---- arithmetic ---- */

/* Decision: d ≤ 0 is a caller's error, REG_EINVAL (the contract asks
 * d > 0; every caller divides by 1,000 or 10,000). */
int invoice_div_half_up(__int128 n, int64_t d, int64_t *out) {
  if (d <= 0) return REG_EINVAL;
  /* C division truncates toward zero and the remainder takes n's sign,
   * so |r| < d and 2|r| fits easily; no negation of n (which could be
   * the most negative __int128) is needed. */
  __int128 q = n / d, r = n % d;
  __int128 twice = r < 0 ? -2 * r : 2 * r;
  if (twice >= d) q += n < 0 ? -1 : 1;
  if (q > INT64_MAX || q < INT64_MIN) return REG_ERANGE;
  *out = (int64_t)q;
  return 0;
}

/* Inputs outside 1 … 10^12 are not refused here (the request check does
 * that, by field): the product of any two int64 fits __int128. */
int invoice_line_amount(int64_t quantity_milli, int64_t unit_price_fen, int64_t *out) {
  return invoice_div_half_up((__int128)quantity_milli * unit_price_fen, 1000, out);
}

/* Decision: with a rate in 0 … 10,000 bp (all invoice_rates_new accepts)
 * the tax never exceeds the amount, so it fits; a rate outside that range
 * saturates at INT64_MAX / INT64_MIN rather than wrapping. */
int64_t invoice_tax(int64_t amount_fen, int32_t rate_bp) {
  __int128 n = (__int128)amount_fen * rate_bp;
  int64_t out;
  if (invoice_div_half_up(n, 10000, &out) != 0) return n < 0 ? INT64_MIN : INT64_MAX;
  return out;
}

/* ---- rates ---- */

/* The built-in defaults (DOMAIN §1). */
#define VAT_BP_RELIEF 100                       /* 财政部 税务总局公告2023年第19号 */
#define VAT_BP_AFTER_RELIEF 300                 /* the 3% collection rate */
#define VAT_THRESHOLD_FEN INT64_C(10000000)     /* 100,000 CNY a month */
#define INCOME_TAX_BP 50                        /* 0.5% */
#define RATE_BP_MAX 10000                       /* 100% */
#define THRESHOLD_DIGITS_MAX 18                 /* < 10^18 fits int64 */

typedef struct rate_entry {
  int dated;        /* 0: in force from the start */
  clock_day from;   /* when dated: in force on and after this day */
  int32_t bp;
  int64_t threshold_fen; /* VAT only */
} rate_entry;

struct invoice_rates {
  size_t n_vat, n_income;
  rate_entry *vat, *income; /* into e[] */
  rate_entry e[];
};

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Decimal digits s[0..len) → *out ≤ max; -1 when empty, not digits,
 * longer than max_digits or above max. */
static int parse_uint(const char *s, size_t len, size_t max_digits, int64_t max, int64_t *out) {
  if (len < 1 || len > max_digits) return -1;
  int64_t x = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    x = x * 10 + (s[i] - '0');
  }
  if (x > max) return -1;
  *out = x;
  return 0;
}

/* One entry of s[0..len): `[YYYY-MM-DD:]RATE_BP/MONTHLY_THRESHOLD_FEN`
 * (vat) or `[YYYY-MM-DD:]RATE_BP`. */
static int parse_entry(const char *s, size_t len, int vat, rate_entry *e, char *err,
                       size_t err_cap) {
  const char *end = s + len, *entry = s;
  memset(e, 0, sizeof(*e));
  if (core_spec_date(s, len, &e->from, &e->dated, &s) != 0) goto bad_date;
  const char *slash = memchr(s, '/', (size_t)(end - s));
  if (vat != (slash != NULL)) {
    snprintf(err, err_cap, "entry \"%.*s\": expected %s", (int)len, entry,
             vat ? "[YYYY-MM-DD:]RATE_BP/MONTHLY_THRESHOLD_FEN" : "[YYYY-MM-DD:]RATE_BP");
    return REG_EINVAL;
  }
  const char *rate_end = vat ? slash : end;
  int64_t bp;
  if (parse_uint(s, (size_t)(rate_end - s), 5, RATE_BP_MAX, &bp) != 0) {
    snprintf(err, err_cap, "entry \"%.*s\": bad rate \"%.*s\" (basis points, 0-10000)", (int)len,
             entry, (int)(rate_end - s), s);
    return REG_EINVAL;
  }
  e->bp = (int32_t)bp;
  if (vat &&
      parse_uint(slash + 1, (size_t)(end - slash - 1), THRESHOLD_DIGITS_MAX, INT64_MAX,
                 &e->threshold_fen) != 0) {
    snprintf(err, err_cap, "entry \"%.*s\": bad monthly threshold \"%.*s\" (fen, digits)",
             (int)len, entry, (int)(end - slash - 1), slash + 1);
    return REG_EINVAL;
  }
  return 0;
bad_date:
  snprintf(err, err_cap, "entry \"%.*s\": bad date (YYYY-MM-DD)", (int)len, entry);
  return REG_EINVAL;
}

/* Entries of `spec` (comma-separated, whitespace around each ignored, an
 * empty entry an error; blank: none) into e[]; *n their count. */
static int parse_spec(const char *spec, int vat, rate_entry *e, size_t *n, char *err,
                      size_t err_cap) {
  const char *name = vat ? "invoice_vat" : "invoice_income_tax";
  const char *p = spec;
  while (is_space(*p)) p++;
  *n = 0;
  if (!*p) return 0;
  for (const char *s = spec;;) {
    const char *comma = strchr(s, ',');
    const char *en = comma ? comma : s + strlen(s);
    const char *b = s;
    while (b < en && is_space(*b)) b++;
    while (en > b && is_space(en[-1])) en--;
    if (b == en) {
      snprintf(err, err_cap, "%s: empty entry", name);
      return REG_EINVAL;
    }
    char msg[200];
    if (parse_entry(b, (size_t)(en - b), vat, &e[*n], msg, sizeof(msg)) != 0) {
      snprintf(err, err_cap, "%s: %s", name, msg);
      return REG_EINVAL;
    }
    (*n)++;
    if (!comma) break;
    s = comma + 1;
  }
  return 0;
}

static size_t max_entries(const char *s) {
  size_t n = 1;
  for (; *s; s++)
    if (*s == ',') n++;
  return n;
}

int invoice_rates_new(const char *vat_spec, const char *income_spec, invoice_rates **out,
                      char *err, size_t err_cap) {
  vat_spec = str(vat_spec);
  income_spec = str(income_spec);
  char dummy[8];
  if (!err || !err_cap) {
    err = dummy;
    err_cap = sizeof(dummy);
  }
  err[0] = 0;
  size_t max_vat = max_entries(vat_spec), max_income = max_entries(income_spec);
  invoice_rates *r = calloc(1, sizeof(*r) + (max_vat + max_income) * sizeof(rate_entry));
  if (!r) {
    snprintf(err, err_cap, "out of memory");
    return REG_ENOMEM;
  }
  r->vat = r->e;
  r->income = r->e + max_vat;
  if (parse_spec(vat_spec, 1, r->vat, &r->n_vat, err, err_cap) != 0 ||
      parse_spec(income_spec, 0, r->income, &r->n_income, err, err_cap) != 0) {
    free(r);
    return REG_EINVAL;
  }
  *out = r;
  return 0;
}

void invoice_rates_free(invoice_rates *r) { free(r); }

/* Of the entries in force on `day`, the one with the latest date (undated
 * ones count as the earliest; among equal dates the later in the list);
 * NULL when none is in force. */
static const rate_entry *in_force(const rate_entry *e, size_t n, clock_day day) {
  const rate_entry *best = NULL;
  for (size_t i = 0; i < n; i++) {
    if (e[i].dated && e[i].from > day) continue;
    if (best && best->dated && (!e[i].dated || e[i].from < best->from)) continue;
    best = &e[i];
  }
  return best;
}

/* Decision: the defaults are one dated table (VAT 100 bp until 2027-12-31,
 * 300 bp from 2028-01-01; income tax 50 bp) that applies on a day when no
 * configured entry is in force; a configured entry in force wins over the
 * defaults, whatever their dates (as the scrapping-age table does,
 * services/listing). So an undated entry replaces the defaults for every
 * day, and a dated one from its date on — a configured VAT entry dated
 * before 2028 therefore also holds after 2028-01-01 unless the
 * configuration gives a later one. VAT and income tax are looked up
 * independently. A NULL table is the defaults only. */
invoice_rate invoice_rates_on(const invoice_rates *r, clock_day day) {
  invoice_rate out;
  out.vat_bp = day < clock_day_from_ymd(2028, 1, 1) ? VAT_BP_RELIEF : VAT_BP_AFTER_RELIEF;
  out.vat_threshold_fen = VAT_THRESHOLD_FEN;
  out.income_tax_bp = INCOME_TAX_BP;
  if (!r) return out;
  const rate_entry *vat = in_force(r->vat, r->n_vat, day);
  if (vat) {
    out.vat_bp = vat->bp;
    out.vat_threshold_fen = vat->threshold_fen;
  }
  const rate_entry *income = in_force(r->income, r->n_income, day);
  if (income) out.income_tax_bp = income->bp;
  return out;
}

int32_t invoice_vat_rate_bp(const invoice_rate *r, int64_t month_total_fen) {
  return month_total_fen > r->vat_threshold_fen ? r->vat_bp : 0;
}

/* ---- calendar ---- */

clock_day invoice_month_start(clock_day d) {
  int y, m, day;
  clock_day_to_ymd(d, &y, &m, &day);
  return clock_day_from_ymd(y, m, 1);
}

clock_day invoice_window_start(clock_day d) {
  int y, m, day;
  clock_day_to_ymd(d, &y, &m, &day);
  int months = y * 12 + (m - 1) - 11; /* months since January of year 0 */
  int wy = months >= 0 ? months / 12 : -((11 - months) / 12); /* floor */
  return clock_day_from_ymd(wy, months - wy * 12 + 1, 1);
}

int invoice_month_parse(const char *s, clock_day *out) {
  char day[11];
  if (!s || strlen(s) != 7 || s[4] != '-') return REG_EINVAL;
  memcpy(day, s, 7);
  memcpy(day + 7, "-01", 4);
  return clock_day_parse(day, out) == 0 ? 0 : REG_EINVAL;
}

/* ---- the cap ---- */

int invoice_cap_allows(int64_t window_total_fen, int64_t amount_fen, int64_t cap_fen) {
  return (__int128)window_total_fen + amount_fen <= cap_fen;
}

/* ---- numbers ---- */

int invoice_number_format(clock_day issued_on, int channel, int32_t issuer_no, int64_t seq,
                          char out[21]) {
  if (channel < 0 || channel > 9) return REG_ERANGE;
  if (issuer_no < 1 || issuer_no > 999999) return REG_ERANGE;
  if (seq < 1 || seq > INT64_C(999999999)) return REG_ERANGE;
  int y, m, d;
  clock_day_to_ymd(issued_on, &y, &m, &d);
  int yy = (y % 100 + 100) % 100;
  char buf[64];
  int n = snprintf(buf, sizeof(buf), "%02d14%d%06d%09lld", yy, channel, (int)issuer_no,
                   (long long)seq);
  if (n != 20) return REG_ERANGE; /* cannot happen with the checks above */
  memcpy(out, buf, 21);
  return 0;
}

/* ---- request checks ---- */

/* Decision: every text of an invoice (line descriptions, the consent
 * channel, certificate numbers) is one line of at most INVOICE_TEXT_MAX
 * characters without control characters — it is printed on one line of
 * the 代办 report. "Required" means not blank (spaces only count as
 * missing). */
static int check_text(const char *s, const char *field, int required, invoice_violation *v) {
  return core_check_text(s, field, required, INVOICE_TEXT_MAX, v);
}

/* A registry id (inv_…, crt_…): never longer than the registry makes them
 * (≤ IDS_MAX − 1 = 47 bytes), so a longer one is refused by name rather
 * than reported NOT_FOUND. */
static int check_id(const char *s, const char *field, int required, invoice_violation *v) {
  if (check_text(s, field, required, v)) return REG_EINVAL;
  return strlen(str(s)) >= IDS_MAX ? core_fail(v, field, "is not a registry id (too long)") : 0;
}

/* The VIN is normalized in place (same length, upper case). */
static int norm_vin(char *s, const char *field, invoice_violation *v) {
  char out[18];
  if (ident_vin_check(str(s), out) != 0)
    return core_fail(v, field, "is not a valid VIN (17 characters, no I/O/Q, check digit at position 9)");
  if (strcmp(s, out) != 0) memcpy(s, out, sizeof(out));
  return 0;
}

static int check_consent(const Registry__V1__SellerConsent *c, int64_t now_us,
                         invoice_violation *v) {
  if (!c) return 0; /* optional here; the store requires it on a first invoice */
  const Google__Protobuf__Timestamp *t = c->consented_at;
  if (!t) return core_fail(v, "seller_consent.consented_at", "is required");
  if (t->nanos < 0 || t->nanos > 999999999)
    return core_fail(v, "seller_consent.consented_at", "nanos must be from 0 to 999,999,999");
  if (t->seconds < TS_SECONDS_MIN || t->seconds > TS_SECONDS_MAX)
    return core_fail(v, "seller_consent.consented_at", "must lie between 0001-01-01 and 9999-12-31");
  if (t->seconds * INT64_C(1000000) + t->nanos / 1000 > now_us + CLOCK_SKEW_US)
    return core_fail(v, "seller_consent.consented_at", "must not be in the future");
  return check_text(c->channel, "seller_consent.channel", 1, v);
}

/* "lines[i].<name>" into f[64]. */
static const char *line_field(char *f, size_t cap, size_t i, const char *name) {
  snprintf(f, cap, "lines[%zu].%s", i, name);
  return f;
}

/* One line of a blue invoice; *amount its checked amount (> 0). */
static int check_line(Registry__V1__InvoiceLine *l, size_t i, int64_t *amount,
                      invoice_violation *v) {
  char f[64];
  if (!l) {
    snprintf(f, sizeof(f), "lines[%zu]", i);
    return core_fail(v, f, "is required");
  }
  int cat = (int)l->category;
  if (core_check_enum(cat, IC(SCRAP_APPLIANCE), IC(OTHER), line_field(f, sizeof f, i, "category"), v))
    return REG_EINVAL;
  if (check_text(l->description, line_field(f, sizeof f, i, "description"), 1, v))
    return REG_EINVAL;
  if (l->quantity_milli < 1 || l->quantity_milli > INVOICE_QTY_MAX)
    return core_fail(v, line_field(f, sizeof f, i, "quantity_milli"),
                "must be from 1 to 10^12 (thousandths of the unit)");
  /* Decision: the unit is not tied to the category (scrap vehicles are
   * bought by the vehicle or by weight alike); the contract asks only a
   * known unit. */
  if (core_check_enum((int)l->unit, QU(KG), QU(VEHICLE), line_field(f, sizeof f, i, "unit"), v))
    return REG_EINVAL;
  if (l->unit_price_fen < 1 || l->unit_price_fen > INVOICE_PRICE_MAX)
    return core_fail(v, line_field(f, sizeof f, i, "unit_price_fen"), "must be from 1 to 10^12 fen");
  line_field(f, sizeof f, i, "amount_fen");
  if (l->amount_fen <= 0) return core_fail(v, f, "must be positive");
  int64_t want;
  if (invoice_line_amount(l->quantity_milli, l->unit_price_fen, &want) != 0)
    return core_fail(v, f, "quantity_milli × unit_price_fen / 1000 exceeds the largest amount");
  if (want == 0)
    return core_fail(v, f,
                "quantity_milli × unit_price_fen / 1000 rounds to 0 fen: a line must be worth at "
                "least 1 fen");
  if (l->amount_fen != want) {
    char m[160];
    snprintf(m, sizeof(m),
             "must equal half-up(quantity_milli × unit_price_fen / 1000) = %lld fen",
             (long long)want);
    return core_fail(v, f, m);
  }
  if (cat == IC(SCRAP_VEHICLE)) {
    line_field(f, sizeof f, i, "vin");
    if (!given(l->vin)) return core_fail(v, f, "is required on a SCRAP_VEHICLE line");
    if (norm_vin(l->vin, f, v)) return REG_EINVAL;
    line_field(f, sizeof f, i, "scrap_certificate_no");
    if (!given(l->scrap_certificate_no))
      return core_fail(v, f, "is required on a SCRAP_VEHICLE line (报废机动车回收证明)");
    if (check_text(l->scrap_certificate_no, f, 1, v)) return REG_EINVAL;
  } else {
    if (given(l->vin))
      return core_fail(v, line_field(f, sizeof f, i, "vin"), "is only given on a SCRAP_VEHICLE line");
    if (given(l->scrap_certificate_no))
      return core_fail(v, line_field(f, sizeof f, i, "scrap_certificate_no"),
                  "is only given on a SCRAP_VEHICLE line");
  }
  line_field(f, sizeof f, i, "wipe_certificate_id");
  if (given(l->wipe_certificate_id)) {
    if (cat != IC(SCRAP_ELECTRONICS)) return core_fail(v, f, "is only given on a SCRAP_ELECTRONICS line");
    if (check_id(l->wipe_certificate_id, f, 1, v)) return REG_EINVAL;
  }
  *amount = l->amount_fen;
  return 0;
}

/* Order: the fields in the order of the message (seller, seller_consent,
 * lines, issued_on), so each violation names the first bad field. The
 * request_id is checked by the write driver (services/core/reqid.c). */
int invoice_rules_check_issue(Registry__V1__IssueReverseInvoiceRequest *req, clock_day today,
                              int64_t now_us, clock_day *issued_on, int64_t *amount_fen,
                              invoice_violation *v) {
  if (party_check_person(req->seller, "seller", v->field, sizeof v->field, v->message,
                         sizeof v->message))
    return REG_EINVAL;
  if (check_consent(req->seller_consent, now_us, v)) return REG_EINVAL;
  if (req->n_lines == 0 || !req->lines) return core_fail(v, "lines", "at least one line is required");
  if (req->n_lines > INVOICE_LINES_MAX) {
    char m[64];
    snprintf(m, sizeof(m), "must hold at most %d lines", INVOICE_LINES_MAX);
    return core_fail(v, "lines", m);
  }
  __int128 sum = 0;
  for (size_t i = 0; i < req->n_lines; i++) {
    int64_t a;
    if (check_line(req->lines[i], i, &a, v)) return REG_EINVAL;
    sum += a;
    /* Decision: one invoice scraps a vehicle once — two SCRAP_VEHICLE
     * lines naming the same VIN are refused on the second (the handler
     * marks the vehicle SCRAPPED per line). Compared after
     * normalization. */
    if (req->lines[i]->category == IC(SCRAP_VEHICLE))
      for (size_t j = 0; j < i; j++)
        if (req->lines[j]->category == IC(SCRAP_VEHICLE) &&
            strcmp(req->lines[j]->vin, req->lines[i]->vin) == 0) {
          char f[64], m[96];
          snprintf(m, sizeof(m), "names the same vehicle as lines[%zu].vin", j);
          return core_fail(v, line_field(f, sizeof f, i, "vin"), m);
        }
  }
  if (sum > INT64_MAX) return core_fail(v, "lines", "the sum of the line amounts exceeds the largest amount");
  clock_day day = today;
  if (given(req->issued_on)) {
    if (clock_day_parse(req->issued_on, &day) != 0)
      return core_fail(v, "issued_on", "must be a date YYYY-MM-DD (or empty for today)");
    if (day != today) return core_fail(v, "issued_on", "must be today (Asia/Shanghai) or empty");
  }
  *issued_on = day;
  *amount_fen = (int64_t)sum;
  return 0;
}

/* Decision: on a partial red, a line with amount_fen 0 (not reversed)
 * must have quantity_milli 0 too, and quantity_milli is at most 10^12 like
 * a blue line's; the quantity is not otherwise checked here (the handler
 * compares it with the original line's). */
int invoice_rules_check_red(const Registry__V1__IssueRedInvoiceRequest *req,
                            invoice_violation *v) {
  if (check_id(req->original_invoice_id, "original_invoice_id", 1, v)) return REG_EINVAL;
  if (req->full && req->n_lines > 0)
    return core_fail(v, "lines", "must be empty when full is set (full reverses all that remains)");
  if (!req->full && req->n_lines == 0)
    return core_fail(v, "lines", "give full, or the lines to reverse");
  if (req->n_lines > INVOICE_LINES_MAX) {
    char m[64];
    snprintf(m, sizeof(m), "must hold at most %d lines", INVOICE_LINES_MAX);
    return core_fail(v, "lines", m);
  }
  int any = 0;
  static const char *const empty_msg =
      "must be empty on a partial red (the original line's is used)";
  for (size_t i = 0; i < req->n_lines; i++) {
    const Registry__V1__InvoiceLine *l = req->lines ? req->lines[i] : NULL;
    char f[64];
    if (!l) {
      snprintf(f, sizeof(f), "lines[%zu]", i);
      return core_fail(v, f, "is required");
    }
    if (l->category != 0) return core_fail(v, line_field(f, sizeof f, i, "category"), empty_msg);
    if (given(l->description)) return core_fail(v, line_field(f, sizeof f, i, "description"), empty_msg);
    if (l->quantity_milli < 0)
      return core_fail(v, line_field(f, sizeof f, i, "quantity_milli"), "must not be negative");
    if (l->quantity_milli > INVOICE_QTY_MAX)
      return core_fail(v, line_field(f, sizeof f, i, "quantity_milli"), "must be at most 10^12");
    if (l->unit != 0) return core_fail(v, line_field(f, sizeof f, i, "unit"), empty_msg);
    if (l->unit_price_fen != 0) return core_fail(v, line_field(f, sizeof f, i, "unit_price_fen"), empty_msg);
    if (l->amount_fen < 0)
      return core_fail(v, line_field(f, sizeof f, i, "amount_fen"),
                  "must not be negative (the amount to reverse, 0: not reversed)");
    if (l->amount_fen == 0 && l->quantity_milli != 0)
      return core_fail(v, line_field(f, sizeof f, i, "quantity_milli"),
                  "must be 0 on a line that is not reversed (amount_fen 0)");
    if (given(l->vin)) return core_fail(v, line_field(f, sizeof f, i, "vin"), empty_msg);
    if (given(l->scrap_certificate_no))
      return core_fail(v, line_field(f, sizeof f, i, "scrap_certificate_no"), empty_msg);
    if (given(l->wipe_certificate_id))
      return core_fail(v, line_field(f, sizeof f, i, "wipe_certificate_id"), empty_msg);
    if (l->amount_fen > 0) any = 1;
  }
  if (!req->full && !any) return core_fail(v, "lines", "at least one line must reverse a positive amount");
  return core_check_enum((int)req->reason, RR(ERROR), RR(ALLOWANCE), "reason", v);
}

/* Decision: lines the original does not have (i ≥ n_lines) have nothing
 * remaining, so asking a positive amount there is RED_EXCEEDS_ORIGINAL at
 * that line rather than a caller's error; a negative ask, or none
 * positive at all, is REG_EINVAL (invoice_rules_check_red refuses both
 * first). */
int invoice_red_check(const int64_t *remaining, size_t n_lines, const int64_t *asked,
                      size_t n_asked, size_t *bad_line) {
  int any = 0;
  for (size_t i = 0; i < n_asked; i++) {
    if (asked[i] < 0) return REG_EINVAL;
    int64_t rem = i < n_lines ? remaining[i] : 0;
    if (asked[i] > rem) {
      *bad_line = i;
      return REG_ERANGE;
    }
    if (asked[i] > 0) any = 1;
  }
  return any ? 0 : REG_EINVAL;
}
