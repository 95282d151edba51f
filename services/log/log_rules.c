/*
 * Range checks of LogService requests (log.h): which tree size a proof is
 * for, which indices exist, how many entries one call returns. Pure: the
 * handlers pass in the sizes they read.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "services/log/log.h"

static int violate(log_violation *v, int rv, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int violate(log_violation *v, int rv, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  snprintf(v->field, sizeof(v->field), "%s", field);
  vsnprintf(v->message, sizeof(v->message), fmt, ap);
  va_end(ap);
  return rv;
}

int log_rules_tree_size(int64_t requested, int64_t latest, const char *field, uint64_t *out,
                        log_violation *v) {
  if (requested < 0) return violate(v, REG_EINVAL, field, "%s must not be negative", field);
  if (latest < 0) latest = 0;
  if (requested == 0) {
    if (latest == 0) return violate(v, REG_ENOTFOUND, field, "the log has no checkpoint yet");
    *out = (uint64_t)latest;
    return 0;
  }
  if (requested > latest)
    return violate(v, REG_ERANGE, field,
                   "%s %" PRId64 " is beyond the latest checkpoint (size %" PRId64 ")", field,
                   requested, latest);
  *out = (uint64_t)requested;
  return 0;
}

int log_rules_leaf_index(int64_t leaf_index, uint64_t size, log_violation *v) {
  if (leaf_index < 0) return violate(v, REG_EINVAL, "leaf_index", "leaf_index must not be negative");
  if ((uint64_t)leaf_index >= size)
    return violate(v, REG_EINVAL, "leaf_index",
                   "leaf_index %" PRId64 " is not below the tree size %" PRIu64, leaf_index, size);
  return 0;
}

int log_rules_consistency(int64_t first, int64_t second, int64_t latest, uint64_t *first_out,
                          uint64_t *second_out, log_violation *v) {
  if (first <= 0) return violate(v, REG_EINVAL, "first_size", "first_size must be positive");
  uint64_t s = 0;
  int rv = log_rules_tree_size(second, latest, "second_size", &s, v);
  if (rv != 0) return rv;
  if ((uint64_t)first > s)
    return violate(v, REG_EINVAL, "first_size",
                   "first_size %" PRId64 " is beyond second_size %" PRIu64, first, s);
  *first_out = (uint64_t)first;
  *second_out = s;
  return 0;
}

int log_rules_entries(int64_t start, int64_t end, uint64_t tree_size, uint64_t *s, uint64_t *e,
                      log_violation *v) {
  if (start < 0) return violate(v, REG_EINVAL, "start", "start must not be negative");
  if (end <= start)
    return violate(v, REG_EINVAL, "end", "end %" PRId64 " must be greater than start %" PRId64,
                   end, start);
  if ((uint64_t)end > tree_size)
    return violate(v, REG_ERANGE, "end", "end %" PRId64 " is beyond the tree size %" PRIu64, end,
                   tree_size);
  *s = (uint64_t)start;
  *e = end - start > LOG_ENTRIES_MAX ? (uint64_t)start + LOG_ENTRIES_MAX : (uint64_t)end;
  return 0;
}
