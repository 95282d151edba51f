/*
 * Parties at rest (SPEC §3): sellers, buyers, owners and appraisers. A
 * natural person is sealed whole (the packed registry.v1.Person, encrypted
 * with crypto/pii.h under associated data "<table>/<column>/<row id>") and
 * found by the keyed blind index of the resident ID number; a business is
 * kept in clear (USCC and name are not personal data). Storage is three
 * columns, <p>_kind / <p>_ref / <p>_enc (storage/migrations/0300_listing.sql).
 *
 * Validation comes first (party_check) and names the field under the
 * caller's prefix ("seller.person.id_number").
 */
#ifndef REG_CORE_PARTY_H
#define REG_CORE_PARTY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/pii.h"
#include "registry/v1/common.pb-c.h"
#include "services/base/arena.h"
#include "services/base/err.h"

#define PARTY_PERSON 1
#define PARTY_BUSINESS 2
#define PARTY_NAME_MAX 100    /* characters */
#define PARTY_PHONE_MAX 20    /* characters */

/* Blind-index domain of resident ID numbers (shared with credit subjects
 * and invoice sellers, so one person has one index registry-wide). */
#define PARTY_ID_DOMAIN "resident_id"

typedef struct party_sealed {
  int kind;           /* PARTY_PERSON or PARTY_BUSINESS */
  uint8_t ref[32];    /* person: blind index; business: the USCC's 18 bytes */
  size_t ref_len;     /* 32 or 18 */
  uint8_t *enc;       /* person: ciphertext; business: name (UTF-8); arena memory */
  size_t enc_len;
} party_sealed;

/* Checks a Party: exactly one kind; a person needs a name (≤ 100
 * characters), a valid resident ID (normalized to upper case in place) and
 * an optional phone (digits, '+', '-', ≤ 20); a business a valid USCC
 * (normalized in place) and a name. On failure writes the field path under
 * `prefix` (e.g. "seller") to field[cap] and a message to msg[cap]:
 * REG_EINVAL. `required` 0 accepts NULL (returns 0 with nothing to do). */
int party_check(Registry__V1__Party *p, const char *prefix, int required, char *field,
                size_t field_cap, char *msg, size_t msg_cap) REG_MUST_CHECK;
/* The same for a bare Person (appraisers): field paths "<prefix>.name" … */
int party_check_person(Registry__V1__Person *p, const char *prefix, char *field, size_t field_cap,
                       char *msg, size_t msg_cap) REG_MUST_CHECK;

/* Seals a checked party for row `row_id` of `table`/`column`. */
int party_seal(const pii_keyring *ring, arena *a, const Registry__V1__Party *p, const char *table,
               const char *column, const char *row_id, party_sealed *out) REG_MUST_CHECK;
int party_seal_person(const pii_keyring *ring, arena *a, const Registry__V1__Person *p,
                      const char *table, const char *column, const char *row_id,
                      party_sealed *out) REG_MUST_CHECK;

/* Opens stored columns into a Party in the arena: clear when `unmasked`,
 * masked per SPEC §3 otherwise (the business stays clear either way).
 * REG_ECRYPTO when the ciphertext does not open under that row. */
int party_open(const pii_keyring *ring, arena *a, int kind, const uint8_t *enc, size_t enc_len,
               const char *table, const char *column, const char *row_id, int unmasked,
               Registry__V1__Party **out) REG_MUST_CHECK;
int party_open_person(const pii_keyring *ring, arena *a, const uint8_t *enc, size_t enc_len,
                      const char *table, const char *column, const char *row_id, int unmasked,
                      Registry__V1__Person **out) REG_MUST_CHECK;
/* party_open with the stored ref as well: a business's USCC is its ref
 * (party_open, which has no ref, leaves business.uscc ""). ref may be NULL
 * for a person; for a business it is NULL or the 18 USCC bytes. */
int party_open_ref(const pii_keyring *ring, arena *a, int kind, const uint8_t *ref,
                   size_t ref_len, const uint8_t *enc, size_t enc_len, const char *table,
                   const char *column, const char *row_id, int unmasked,
                   Registry__V1__Party **out) REG_MUST_CHECK;

/* The ref a search by a person's ID number matches (normalize it first):
 * its blind index. */
int party_person_ref(const pii_keyring *ring, const char *id_number,
                     uint8_t out[32]) REG_MUST_CHECK;

/* 1 when the two sealed refs name the same party (kind and ref). */
int party_same(int kind_a, const uint8_t *ref_a, size_t len_a, int kind_b, const uint8_t *ref_b,
               size_t len_b);

#endif
