/*
 * registryd audit (log_audit.c): recomputes the log from the event rows and
 * compares it with the stored tiles and every signed checkpoint.
 */
#ifndef REG_LOG_LOG_AUDIT_H
#define REG_LOG_LOG_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "storage/pg/pg.h"

/* 0 when everything agrees (*leaves, *checkpoints: what was checked);
 * 1 after printing, on stdout, the first difference ("audit: index N: …");
 * a negative REG_* error when the audit itself could not run. */
int log_audit(pg_conn *pg, const char *registry_id, uint64_t *leaves, size_t *checkpoints);

#endif
