/*
 * google.protobuf.Timestamp ⇄ Unix microseconds, the one conversion every
 * service uses (times cross PostgreSQL as microseconds). Times before 1970
 * keep nanos in [0, 1e9), as the Timestamp contract requires.
 */
#ifndef REG_CORE_PBTIME_H
#define REG_CORE_PBTIME_H

#include <stdint.h>

#include "google/protobuf/timestamp.pb-c.h"
#include "services/base/arena.h"

/* Sets *t (already initialized) to us. */
void pbtime_set(Google__Protobuf__Timestamp *t, int64_t us);
/* A new Timestamp in the arena, or NULL when the arena is full. */
Google__Protobuf__Timestamp *pbtime_new(arena *a, int64_t us);
/* Microseconds of t; 0 for NULL. */
int64_t pbtime_us(const Google__Protobuf__Timestamp *t);

#endif
