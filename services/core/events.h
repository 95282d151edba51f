/*
 * Events: the input of the transparency log (SPEC §4.6). Every accepted
 * mutation appends, in its own transaction, one row per resource it
 * changed, holding the exact bytes of its public LogLeaf: ids, type, time,
 * the acting organization and the SHA-256 of the changed record's canonical
 * bytes — never personal data, prices or amounts. The log service assigns
 * indices later; nothing here waits for it.
 */
#ifndef REG_CORE_EVENTS_H
#define REG_CORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"
#include "storage/pg/pg.h"

/* What the event names besides the acting organization; NULL or "" = none. */
typedef struct event_refs {
  const char *item_id;
  const char *listing_id;
  const char *subject_id;
  const char *certificate_id;
  const char *invoice_id;
} event_refs;

/* Builds the LogLeaf (event_id fresh, at = now) over `record` (the changed
 * record's canonical bytes, e.g. the packed resource message) and inserts it.
 * event_id_out (≥ 48 bytes) may be NULL. */
int events_append(pg_conn *pg, int type, const char *org_id, const event_refs *refs,
                  const uint8_t *record, size_t record_len, char *event_id_out) REG_MUST_CHECK;

/* The leaf bytes of an event as events_append builds them, into buf (cap
 * bytes) → length, or REG_ERANGE. Exposed for tests and the log. */
int events_leaf_pack(const char *event_id, int type, int64_t at_us, const char *org_id,
                     const event_refs *refs, const uint8_t record_sha256[32],
                     uint8_t *buf, size_t cap, size_t *len) REG_MUST_CHECK;

#endif
