/*
 * The access log (SPEC §3): every response carrying unmasked personal data
 * and every read of a natural person's credit data is recorded, in the
 * same transaction as the read, with the caller, the method, the subject
 * (blind index and/or subject id) and the stated purpose. Handlers call
 * access_log_write; where SPEC makes `purpose` mandatory they check it first
 * (access_log_purpose_check) so the call is refused before any read.
 */
#ifndef REG_CORE_ACCESS_LOG_H
#define REG_CORE_ACCESS_LOG_H

#include <stdint.h>

#include "services/base/err.h"
#include "storage/pg/pg.h"

#define ACCESS_LOG_PURPOSE_MAX 500

/* 0 when purpose is present (non-blank) and at most ACCESS_LOG_PURPOSE_MAX
 * bytes; REG_EINVAL otherwise. */
int access_log_purpose_check(const char *purpose) REG_MUST_CHECK;

/* Appends one row. subject_bi: 32-byte blind index or NULL; subject_id,
 * purpose: may be NULL/"" (purpose where SPEC does not require one). */
int access_log_write(pg_conn *pg, const char *org_id, const char *method,
                     const uint8_t *subject_bi, const char *subject_id,
                     const char *purpose) REG_MUST_CHECK;

#endif
