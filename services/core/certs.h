/*
 * Wipe certificates as stored (storage/migrations/0400_wipe.sql) and the
 * one rule that says whether a certificate vouches for an item — the
 * listing gate WIPE_CERTIFICATE_REQUIRED (SPEC §4.2) and UpdateListing ask
 * it, the wipe service (services/wipe/) issues, lists and revokes. The
 * signature check itself is services/wipe/wipe.h (wipe_cert_verify, pure).
 *
 * A certificate vouches for item I now when all hold:
 *   - it names I (certificates.item_id);
 *   - it is not revoked;
 *   - it was issued after I's most recent recorded sale (issued_at later
 *     than the latest sales.created_at of I: the registry's record of the
 *     sale, not the sold_on day, so a wipe by the previous owner on the
 *     day of the sale never counts for the buyer);
 *   - its signature verifies over the stored body under the CERTIFICATE
 *     key it names, valid at issue (wipe_cert_verify with no reason).
 *
 * Every function runs inside the caller's transaction.
 */
#ifndef REG_CORE_CERTS_H
#define REG_CORE_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "registry/v1/wipe.pb-c.h"
#include "services/base/arena.h"
#include "services/base/err.h"
#include "services/wipe/wipe.h"
#include "storage/pg/pg.h"

/* A stored certificate as the API returns it, with what the rules need. */
typedef struct certs_rec {
  Registry__V1__Certificate *msg; /* id, body, signature, key_id, event_id,
                                     log_index + sequenced, revoked + revoked_reason */
  char item_id[48];
  char issuer_id[48];
  int64_t issued_at_us;
} certs_rec;

/* Loads certificate `id` into the arena. REG_ENOTFOUND. */
int certs_get(pg_conn *pg, arena *a, const char *id, certs_rec *out) REG_MUST_CHECK;

/* Filters of ListCertificates; NULL or "": any. after_id (with after_us):
 * the page starts after that (issued_at, id). */
typedef struct certs_filter {
  const char *item_id, *imei, *serial_no, *issuer_id;
  int64_t after_us;
  const char *after_id;
} certs_filter;
/* A page ordered by (issued_at, id): at most `limit` records in the arena,
 * *more when further ones exist. */
int certs_list(pg_conn *pg, arena *a, const certs_filter *f, int limit, certs_rec **out,
               size_t *n, int *more) REG_MUST_CHECK;

/* Every CERTIFICATE verification key (current and retired) for
 * wipe_cert_verify, in the arena. */
int certs_keys(pg_conn *pg, arena *a, wipe_cert_key **keys, size_t *n) REG_MUST_CHECK;

/* 0 when certificate `certificate_id` vouches for item `item_id` now (the
 * rule above); REG_ENOTFOUND when there is no such certificate; REG_EPERM
 * when it does not vouch, with *why set to a static English phrase for the
 * refusal message ("is revoked", "names another item", "was issued before
 * the item's most recent sale", "does not verify"); a REG_* storage
 * error. */
int certs_vouches(pg_conn *pg, const char *certificate_id, const char *item_id,
                  const char **why) REG_MUST_CHECK;

/* The newest certificate on file that vouches for item `item_id` (the same
 * rule) → id_out; REG_ENOTFOUND when none does. */
int certs_on_file(pg_conn *pg, const char *item_id, char id_out[48]) REG_MUST_CHECK;

#endif
