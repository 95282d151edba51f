/*
 * Writing the access log (access_log.h).
 */
#include "services/core/access_log.h"

#include <string.h>

int access_log_purpose_check(const char *purpose) {
  if (!purpose) return REG_EINVAL;
  size_t n = strlen(purpose);
  if (n > ACCESS_LOG_PURPOSE_MAX) return REG_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (purpose[i] != ' ' && purpose[i] != '\t' && purpose[i] != '\n' && purpose[i] != '\r') return 0;
  return REG_EINVAL;
}

int access_log_write(pg_conn *pg, const char *org_id, const char *method,
                     const uint8_t *subject_bi, const char *subject_id,
                     const char *purpose) {
  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, org_id);
  pg_params_text(&p, method);
  if (subject_bi) pg_params_bytea(&p, subject_bi, 32);
  else pg_params_null(&p);
  pg_params_text(&p, subject_id && *subject_id ? subject_id : NULL);
  pg_params_text(&p, purpose ? purpose : "");
  return pg_query(pg,
                  "INSERT INTO access_log (organization_id, method, subject_blind_index, "
                  "subject_id, purpose) VALUES ($1, $2, $3, $4, $5)",
                  &p, NULL);
}
