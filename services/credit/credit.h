/*
 * CreditService (SPEC §4.4, §6; DOMAIN §4): subjects, append-only credit
 * records, disputes, grades, the serious-dishonesty list, purpose-bound
 * access. This header is the service's contract. The rules
 * (credit_rules.c) are pure — dates, statuses, the grade — and tested in
 * tests/unit/services_credit/; the handlers (credit_rpc.c) follow.
 * Calendar: Asia/Shanghai days (clock_day); the N-year anniversary of
 * 29 February is 28 February (clock_anniversary).
 */
#ifndef REG_CREDIT_CREDIT_H
#define REG_CREDIT_CREDIT_H

#include <stddef.h>
#include <stdint.h>

#include "registry/v1/credit.pb-c.h"
#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/core/text.h"

typedef core_violation credit_violation; /* services/core/text.h */

#define CREDIT_TEXT_MAX 500       /* summary, reasons, notes: characters */
#define CREDIT_EVIDENCE_MAX 20    /* evidence hashes per record */
#define CREDIT_SEVERITY_MAX 5
#define CREDIT_NEGATIVE_YEARS 5   /* DOMAIN §4 */
#define CREDIT_LIST_YEARS 3       /* an entry ends by itself */
#define CREDIT_LIST_MIN_YEARS 1   /* removal before this → REMOVAL_TOO_EARLY */

/* ---- categories, statuses, dates ---- */

/* The polarity of a category (SPEC §4.4); UNSPECIFIED for an unknown one. */
int credit_polarity(int category);

/* The day a negative record stops counting: the fifth anniversary of
 * ended_on, or of occurred_on when there is no end (ended_on 0). */
clock_day credit_expires_on(clock_day occurred_on, clock_day ended_on);

/* What a record's status is derived from. */
typedef struct credit_record_facts {
  int category;
  int severity;
  clock_day occurred_on, ended_on;  /* ended_on 0: none */
  int superseded;                   /* a later record supersedes it */
  int withdrawn;                    /* a dispute's outcome WITHDRAWN */
  int open_dispute;
} credit_record_facts;

/* The status on `today`, in this order: SUPERSEDED, WITHDRAWN, EXPIRED (a
 * negative record on or after credit_expires_on), DISPUTED, ACTIVE. */
int credit_record_status(const credit_record_facts *r, clock_day today);
/* 1 when the record counts toward the grade: NEGATIVE and ACTIVE or
 * DISPUTED on `today`. */
int credit_record_counts(const credit_record_facts *r, clock_day today);

/* ---- the grade (SPEC §6) ---- */

/* The rule, with configurable weights: points = Σ severity of the counting
 * negative records, × `factor` for the doubled categories; grade A at 0
 * points, B from b_min, C from c_min, D from d_min or while on the
 * dishonesty list; score = max(0, score_base − per_point × points). */
typedef struct credit_grade_rule {
  uint32_t doubled;   /* bit (1u << category) */
  int factor;
  int b_min, c_min, d_min;
  int score_base, per_point;
} credit_grade_rule;

/* The defaults: COUNTERFEIT, DATA_LEAK, WIPE_FAILURE_CONCEALED and
 * ODOMETER_FRAUD doubled, factor 2, B 1, C 5, D 10, score 100 − 5 × points. */
void credit_grade_rule_default(credit_grade_rule *r);
/* Overrides from configuration (reg_config.credit_grade): a comma-separated
 * list of key=value — double=CAT+CAT+… (names without prefix; "none"),
 * factor=N, b=N, c=N, d=N, base=N, per_point=N; "" keeps the defaults.
 * REG_EINVAL with a message. */
int credit_grade_rule_parse(const char *spec, credit_grade_rule *r, char *err,
                            size_t err_cap) REG_MUST_CHECK;

typedef struct credit_grade {
  int grade;          /* registry.v1.Grade */
  int score;
  int points;
  int positive_count; /* positive records ACTIVE or DISPUTED */
  int negative_count; /* counting negative records */
  int open_disputes;
} credit_grade;

/* The grade of a subject on `today` from all its records. Deterministic:
 * the order of `recs` does not matter. */
void credit_grade_compute(const credit_grade_rule *rule, const credit_record_facts *recs,
                          size_t n, int on_list, clock_day today, credit_grade *out);

/* ---- disputes and the list ---- */

/* The day a dispute filed on `filed_on` is due: filed_on + days. Overdue
 * when open and today is after it. */
clock_day credit_dispute_due(clock_day filed_on, int days);
int credit_dispute_overdue(clock_day filed_on, int days, clock_day today);

/* The day a dishonesty-list entry ends by itself (third anniversary); the
 * first day it may be removed early (first anniversary). */
clock_day credit_list_ends_on(clock_day listed_on);
clock_day credit_list_removable_on(clock_day listed_on);
/* 1 when an entry listed on `listed_on` (removed_on 0: never) is in force
 * on `today`. */
int credit_list_active(clock_day listed_on, clock_day removed_on, clock_day today);

/* ---- request checks (field paths as the request names them) ---- */

/* RegisterSubject: kind known; a person kind (SELLER_PERSON,
 * APPRAISER_PERSON, PRACTITIONER) needs name and a valid id_number
 * (normalized in place) and no uscc; an organization kind needs name and a
 * valid uscc (normalized) and no id_number; organization_id ≤ 47 bytes. */
int credit_rules_check_subject(Registry__V1__RegisterSubjectRequest *req,
                               credit_violation *v) REG_MUST_CHECK;
/* 1 for the person kinds. */
int credit_kind_is_person(int kind);

/* SubmitRecord (and a correction, prefix "correction."): subject_id
 * required; category known; severity 1–5; occurred_on a date not after
 * today; ended_on "" or a date from occurred_on to today; summary required
 * (≤ 500 characters); at most 20 evidence hashes of 32 bytes;
 * supersedes_record_id ≤ 47 bytes. *occurred, *ended (0 when none). */
int credit_rules_check_record(const Registry__V1__SubmitRecordRequest *req, clock_day today,
                              clock_day *occurred, clock_day *ended,
                              credit_violation *v) REG_MUST_CHECK;
int credit_rules_check_correction(const Registry__V1__RecordCorrection *c, clock_day today,
                                  clock_day *occurred, clock_day *ended,
                                  credit_violation *v) REG_MUST_CHECK;

/* PlaceOnDishonestyList: subject_id, reason and decision_ref required;
 * listed_on "" (today) or a date not after today → *listed_on. */
int credit_rules_check_listing(const Registry__V1__PlaceOnDishonestyListRequest *req,
                               clock_day today, clock_day *listed_on,
                               credit_violation *v) REG_MUST_CHECK;

#endif
