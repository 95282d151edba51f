/*
 * OrgService (SPEC §4.1): organizations, their roles and qualifications,
 * and API keys. org_rules.c validates requests (pure, no I/O), org_store.c
 * holds the SQL, org_rpc.c the thin handlers.
 */
#ifndef REG_ORG_ORG_H
#define REG_ORG_ORG_H

#include <stdint.h>

#include "registry/v1/org.pb-c.h"
#include "services/base/arena.h"
#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"

/* ---- rules (org_rules.c) ---- */

/* A rule's verdict on one field: field "" means the request is fine. */
typedef struct org_violation {
  char field[64];
  char message[200];
} org_violation;

#define ORG_NAME_MAX 200     /* characters */
#define ORG_TEXT_MAX 500     /* reasons, certificate numbers: characters */

/* Each returns 0, or REG_EINVAL with *v naming the first bad field. */
int org_rules_check_create(const Registry__V1__CreateOrganizationRequest *req,
                           char uscc_out[19], uint32_t *roles_out, org_violation *v);
int org_rules_check_qualification(const Registry__V1__SetQualificationRequest *req,
                                  clock_day *from, clock_day *until, org_violation *v);
int org_rules_check_kind(int kind, const char *field, org_violation *v);
int org_rules_check_text(const char *s, const char *field, int required, size_t max_chars,
                         org_violation *v);
int org_rules_check_role(int role, const char *field, org_violation *v);
/* 1 if the roles bitmask holds `role`. */
static inline int org_has_role(uint32_t roles, int role) { return (roles >> role) & 1u; }

/* ---- store (org_store.c) ---- */

/* Inserts the organization; REG_EEXIST when the USCC is taken. */
int org_store_insert(pg_conn *pg, const char *id, const char *name, const char *uscc,
                     uint32_t roles, const char *region_code) REG_MUST_CHECK;
/* Loads one organization with every qualification (valid_on < 0) or only
 * those valid on that day (and not revoked). REG_ENOTFOUND. */
int org_store_get(pg_conn *pg, arena *a, const char *id, clock_day valid_on,
                  Registry__V1__Organization **out) REG_MUST_CHECK;
int org_store_set_suspended(pg_conn *pg, const char *id, int suspended,
                            const char *reason) REG_MUST_CHECK; /* REG_ENOTFOUND */
int org_store_set_qualification(pg_conn *pg, const char *org_id, int kind, const char *cert_no,
                                clock_day from, clock_day until) REG_MUST_CHECK;
int org_store_revoke_qualification(pg_conn *pg, const char *org_id, int kind,
                                   const char *reason) REG_MUST_CHECK; /* REG_ENOTFOUND */
/* A page of the directory: organizations after `cursor` (an id) ordered by
 * id, at most `limit`; *more set when there are further rows. */
int org_store_list(pg_conn *pg, arena *a, int role, int kind, clock_day valid_on,
                   const char *cursor, int limit, Registry__V1__Organization ***out,
                   size_t *n, int *more) REG_MUST_CHECK;

/* API keys. A new key: the clear key is written to key_out (shown once),
 * only its keyed hash is stored. valid_until_us 0: no expiry. */
int org_store_key_create(pg_conn *pg, const uint8_t token_key[32], const char *org_id,
                         int64_t valid_until_us, char *key_out, char *key_id_out,
                         arena *a, Registry__V1__ApiKey **meta_out) REG_MUST_CHECK;
int org_store_key_get(pg_conn *pg, arena *a, const char *key_id,
                      Registry__V1__ApiKey **out) REG_MUST_CHECK; /* REG_ENOTFOUND */
int org_store_key_revoke(pg_conn *pg, const char *key_id) REG_MUST_CHECK;
int org_store_key_list(pg_conn *pg, arena *a, const char *org_id, const char *cursor, int limit,
                       Registry__V1__ApiKey ***out, size_t *n, int *more) REG_MUST_CHECK;
/* The cursor of a key in a listing (created_at, id). */
char *org_store_key_cursor(arena *a, const Registry__V1__ApiKey *k);

/* Packs a message into the arena (for event record hashes). */
uint8_t *org_pack(arena *a, const ProtobufCMessage *m, size_t *len);

/* ---- bootstrap (org_admin.c): command-line paths of registryd ---- */
/* Creates the first ADMIN organization and prints nothing; the key goes to
 * key_out. REG_EEXIST when an ADMIN organization exists. */
int org_admin_bootstrap(pg_conn *pg, const uint8_t token_key[32], const char *name,
                        const char *uscc /* normalized, or NULL */, char *key_out) REG_MUST_CHECK;
/* A new key for an existing organization (REG_ENOTFOUND). */
int org_admin_issue_key(pg_conn *pg, const uint8_t token_key[32], const char *org_id,
                        char *key_out) REG_MUST_CHECK;

#endif
