/*
 * Appending events (events.h). The leaf is packed by protobuf-c, which
 * writes fields in number order and has no unknown fields to carry, so the
 * bytes are canonical. created_at is the leaf's own `at`, to the
 * microsecond.
 */
#include "services/core/events.h"

#include <sodium.h>
#include <string.h>

#include "registry/v1/log.pb-c.h"
#include "services/base/clock.h"
#include "services/core/ids.h"
#include "services/core/pbtime.h"

static char *nz(const char *s) { return (char *)(s ? s : ""); }

int events_leaf_pack(const char *event_id, int type, int64_t at_us, const char *org_id,
                     const event_refs *refs, const uint8_t record_sha256[32],
                     uint8_t *buf, size_t cap, size_t *len) {
  static const event_refs none = {0};
  if (!refs) refs = &none;
  Registry__V1__LogLeaf leaf = REGISTRY__V1__LOG_LEAF__INIT;
  Google__Protobuf__Timestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  pbtime_set(&at, at_us);
  leaf.event_id = nz(event_id);
  leaf.type = (Registry__V1__EventType)type;
  leaf.at = &at;
  leaf.organization_id = nz(org_id);
  leaf.item_id = nz(refs->item_id);
  leaf.listing_id = nz(refs->listing_id);
  leaf.subject_id = nz(refs->subject_id);
  leaf.certificate_id = nz(refs->certificate_id);
  leaf.invoice_id = nz(refs->invoice_id);
  leaf.record_sha256.data = (uint8_t *)record_sha256;
  leaf.record_sha256.len = 32;
  size_t n = registry__v1__log_leaf__get_packed_size(&leaf);
  if (n > cap) return REG_ERANGE;
  *len = registry__v1__log_leaf__pack(&leaf, buf);
  return 0;
}

static const char *nul_if_empty(const char *s) { return s && *s ? s : NULL; }

int events_append(pg_conn *pg, int type, const char *org_id, const event_refs *refs,
                  const uint8_t *record, size_t record_len, char *event_id_out) {
  static const event_refs none = {0};
  if (!refs) refs = &none;
  char id[IDS_MAX];
  ids_new("evt", id, sizeof(id));
  uint8_t h[32];
  crypto_hash_sha256(h, record, record_len);
  int64_t at = pg_tx_time_us(pg);
  uint8_t leaf[1024];
  size_t len = 0;
  int rv = events_leaf_pack(id, type, at, org_id, refs, h, leaf, sizeof(leaf), &len);
  if (rv != 0) return rv;

  pg_params p;
  pg_params_init(&p);
  pg_params_text(&p, id);
  pg_params_int(&p, type);
  pg_params_text(&p, org_id ? org_id : "");
  pg_params_text(&p, nul_if_empty(refs->item_id));
  pg_params_text(&p, nul_if_empty(refs->listing_id));
  pg_params_text(&p, nul_if_empty(refs->subject_id));
  pg_params_text(&p, nul_if_empty(refs->certificate_id));
  pg_params_text(&p, nul_if_empty(refs->invoice_id));
  pg_params_bytea(&p, leaf, len);
  pg_params_int(&p, at);
  rv = pg_query(pg,
                "INSERT INTO events (event_id, type, organization_id, item_id, listing_id, "
                "subject_id, certificate_id, invoice_id, leaf, created_at) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, " PG_TS(10) ")",
                &p, NULL);
  if (rv == 0 && event_id_out) memcpy(event_id_out, id, strlen(id) + 1);
  return rv;
}
