/*
 * InvoiceService (SPEC §4.5; DOMAIN §1): reverse invoices (反向开票), red
 * invoices, the seller cap across all recyclers, the monthly 代办 summary.
 * This header is the service's contract. The rules (invoice_rules.c) are
 * pure — no I/O, no floating point, every product of two amounts in
 * __int128 — and tested in tests/unit/services_invoice/. The handlers
 * (invoice_rpc.c) follow.
 */
#ifndef REG_INVOICE_INVOICE_H
#define REG_INVOICE_INVOICE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/v1/invoice.pb-c.h"
#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/core/text.h"

/* A rule's verdict on one field, named by its path ("lines[2].amount_fen",
 * "seller.id_number", "issued_on"). */
typedef core_violation invoice_violation; /* services/core/text.h */

#define INVOICE_LINES_MAX 100            /* lines of one invoice */
#define INVOICE_TEXT_MAX 200             /* description, channel, numbers: characters */
#define INVOICE_QTY_MAX INT64_C(1000000000000)    /* quantity_milli ≤ 10^12 */
#define INVOICE_PRICE_MAX INT64_C(1000000000000)  /* unit_price_fen ≤ 10^12 */
#define INVOICE_CONTEXT "registry.v1.ReverseInvoice\n" /* what the signature covers, ‖ body */

/* ---- arithmetic (exact, half-up) ---- */

/* n / d rounded half away from zero (half-up on magnitudes), d > 0: the
 * rounding of every amount and tax (SPEC §4.5; a red invoice's negative
 * amounts round as the mirror of the blue). REG_ERANGE when the result
 * does not fit int64; REG_EINVAL when d ≤ 0. *out only on success. */
int invoice_div_half_up(__int128 n, int64_t d, int64_t *out) REG_MUST_CHECK;

/* A line's amount: half-up(quantity_milli × unit_price_fen / 1000).
 * REG_ERANGE when it does not fit int64 (inputs within the maxima give at
 * most 10^21). */
int invoice_line_amount(int64_t quantity_milli, int64_t unit_price_fen,
                        int64_t *out) REG_MUST_CHECK;

/* A tax: half-up(amount_fen × rate_bp / 10,000); negative for a negative
 * amount. Exact for rates 0 … 10,000 bp; saturates outside int64. */
int64_t invoice_tax(int64_t amount_fen, int32_t rate_bp);

/* ---- rates: a dated table from configuration ---- */

/* The defaults (DOMAIN §1): VAT 100 bp (the 3% collection rate reduced to
 * 1%, 财政部 税务总局公告2023年第19号) on a seller's month above 10,000,000
 * fen, until 2027-12-31; 300 bp from 2028-01-01 (the relief ends); income
 * tax 50 bp. Configuration adds dated entries (reg_config.invoice_vat,
 * invoice_income_tax, formats in services/base/config.h); on a day the
 * latest entry dated on or before it applies; an undated entry replaces the
 * defaults from the beginning. A configured entry in force wins over the
 * defaults whatever their dates (a VAT entry dated 2027 still holds after
 * 2028-01-01 unless a later one is configured); among equal dates the later
 * in the list. Rates 0 … 10,000 bp; REG_EINVAL with a message naming the
 * setting in err; REG_ENOMEM. The caller frees *out (invoice_rates_free). */
typedef struct invoice_rates invoice_rates;
int invoice_rates_new(const char *vat_spec, const char *income_spec, invoice_rates **out,
                      char *err, size_t err_cap) REG_MUST_CHECK;
void invoice_rates_free(invoice_rates *r);

typedef struct invoice_rate {
  int32_t vat_bp;                 /* above the threshold */
  int64_t vat_threshold_fen;      /* the seller's all-issuer month total must exceed it */
  int32_t income_tax_bp;
} invoice_rate;
/* The rates in force on `day`; r NULL: the defaults. */
invoice_rate invoice_rates_on(const invoice_rates *r, clock_day day);

/* The VAT rate an invoice records: r->vat_bp when the seller's month-to-
 * date total across all issuers (blue minus red, VAT excluded, this
 * invoice included) exceeds the threshold, else 0. */
int32_t invoice_vat_rate_bp(const invoice_rate *r, int64_t month_total_fen);

/* ---- calendar ---- */

/* The first day of d's month. */
clock_day invoice_month_start(clock_day d);
/* The first day of the cap window of an invoice issued on d: the natural
 * month of d and the 11 before it (2026-03-15 → 2025-04-01). */
clock_day invoice_window_start(clock_day d);
/* "YYYY-MM" → the first day of that month; REG_EINVAL. */
int invoice_month_parse(const char *s, clock_day *out) REG_MUST_CHECK;

/* ---- the cap ---- */

/* 1 when window_total_fen + amount_fen ≤ cap_fen (exact, no overflow). */
int invoice_cap_allows(int64_t window_total_fen, int64_t amount_fen, int64_t cap_fen);

/* ---- numbers ---- */

/* The 20-digit number (SPEC §4.5): 2-digit year of issued_on, "14", the
 * channel digit, the 6-digit issuer number, the 9-digit sequence, into
 * out[21]. REG_ERANGE: channel not 0–9, issuer_no not 1–999,999, seq not
 * 1–999,999,999. */
int invoice_number_format(clock_day issued_on, int channel, int32_t issuer_no, int64_t seq,
                          char out[21]) REG_MUST_CHECK;

/* ---- request checks ---- */

/* IssueReverseInvoice: the seller (a Person: party_check_person under
 * "seller", normalized in place), seller_consent when given (consented_at
 * set and not after now_us + 5 min; channel required, ≤ 200 characters),
 * issued_on "" or `today` (→ *issued_on), 1 … INVOICE_LINES_MAX lines, each
 * (field "lines[i].<field>"): category and unit known; description required
 * (≤ 200 characters); quantity_milli 1 … 10^12; unit_price_fen 1 … 10^12;
 * amount_fen equal to invoice_line_amount ("lines[i].amount_fen": a
 * mismatch, zero or negative); SCRAP_VEHICLE: vin valid (normalized in
 * place) and scrap_certificate_no required; other categories: no vin, no
 * scrap_certificate_no; wipe_certificate_id only on SCRAP_ELECTRONICS (≤ 47
 * bytes); the sum of the amounts fits int64 ("lines"). *amount_fen: that
 * sum. REG_EINVAL with *v. */
int invoice_rules_check_issue(Registry__V1__IssueReverseInvoiceRequest *req, clock_day today,
                              int64_t now_us, clock_day *issued_on, int64_t *amount_fen,
                              invoice_violation *v) REG_MUST_CHECK;

/* IssueRedInvoice: original_invoice_id required (≤ 47 bytes), reason 1–4,
 * `full` and `lines` not both, one of them; a partial red's lines name only
 * what to reverse from the original's line at the same position:
 * amount_fen ≥ 0 (0: that line is not reversed, at least one > 0),
 * quantity_milli ≥ 0, every other field empty ("lines[i].<field>"). */
int invoice_rules_check_red(const Registry__V1__IssueRedInvoiceRequest *req,
                            invoice_violation *v) REG_MUST_CHECK;

/* What remains of an original line to reverse: its amount minus what
 * earlier reds took (positive numbers). A partial red asks `asked` (> 0
 * somewhere); REG_ERANGE at the first line i where asked[i] > remaining[i]
 * (*bad_line = i) — RED_EXCEEDS_ORIGINAL. n_asked ≤ n_lines (lines beyond
 * n_asked are not reversed; an ask beyond n_lines has 0 remaining).
 * REG_EINVAL: a negative ask, or none > 0. */
int invoice_red_check(const int64_t *remaining, size_t n_lines, const int64_t *asked,
                      size_t n_asked, size_t *bad_line) REG_MUST_CHECK;

#endif
