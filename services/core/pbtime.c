/*
 * Timestamp conversions (pbtime.h).
 */
#include "services/core/pbtime.h"

void pbtime_set(Google__Protobuf__Timestamp *t, int64_t us) {
  int64_t s = us / 1000000, rem = us % 1000000;
  if (rem < 0) {
    s--;
    rem += 1000000;
  }
  t->seconds = s;
  t->nanos = (int32_t)rem * 1000;
}

Google__Protobuf__Timestamp *pbtime_new(arena *a, int64_t us) {
  Google__Protobuf__Timestamp *t = arena_alloc(a, sizeof(*t));
  if (!t) return NULL;
  google__protobuf__timestamp__init(t);
  pbtime_set(t, us);
  return t;
}

int64_t pbtime_us(const Google__Protobuf__Timestamp *t) {
  return t ? t->seconds * 1000000 + t->nanos / 1000 : 0;
}
