/*
 * The command-line paths into OrgService (registryd admin …): the first
 * ADMIN organization, and a new key for a locked-out organization. They
 * write the same rows and events as the RPCs, acting as the organization
 * itself, and never go through the network.
 */
#include <sodium.h>
#include <string.h>

#include "registry/v1/log.pb-c.h"
#include "services/core/events.h"
#include "services/core/ids.h"
#include "services/org/org.h"

static int event_for(pg_conn *pg, arena *a, int type, const char *org_id,
                     const ProtobufCMessage *record) {
  size_t len = 0;
  uint8_t *buf = org_pack(a, record, &len);
  if (!buf) return REG_ENOMEM;
  return events_append(pg, type, org_id, NULL, buf, len, NULL);
}

/* The common end of both commands, inside their transaction: a new key for
 * org_id and its event, then commit (or rollback on any failure). The clear
 * key goes to key_out only once committed; the stack copy is wiped. */
static int finish_with_key(pg_conn *pg, arena *a, const uint8_t token_key[32], const char *org_id,
                           int rv, char *key_out) {
  char key[64], key_id[IDS_MAX];
  Registry__V1__ApiKey *meta = NULL;
  if (rv == 0) rv = org_store_key_create(pg, token_key, org_id, 0, key, key_id, a, &meta);
  if (rv == 0)
    rv = event_for(pg, a, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_API_KEY_ISSUED, org_id, &meta->base);
  if (rv == 0) rv = pg_tx_commit(pg);
  if (rv != 0) pg_tx_rollback(pg);
  else memcpy(key_out, key, strlen(key) + 1);
  sodium_memzero(key, sizeof(key));
  return rv;
}

int org_admin_bootstrap(pg_conn *pg, const uint8_t token_key[32], const char *name,
                        const char *uscc, char *key_out) {
  arena *a = arena_new(0);
  if (!a) return REG_ENOMEM;
  char id[IDS_MAX];
  Registry__V1__Organization *org = NULL;
  int rv = pg_tx_begin(pg, 0);
  if (rv != 0) goto out;
  /* one bootstrap at a time; an existing ADMIN refuses it */
  rv = pg_query(pg, "LOCK TABLE organizations IN EXCLUSIVE MODE", NULL, NULL);
  PGresult *r = NULL;
  if (rv == 0) rv = pg_query(pg, "SELECT 1 FROM organizations WHERE 6 = ANY (roles)", NULL, &r);
  if (rv == 0) {
    if (PQntuples(r) > 0) rv = REG_EEXIST;
    PQclear(r);
  }
  ids_new("org", id, sizeof(id));
  if (rv == 0) rv = org_store_insert(pg, id, name, uscc, 1u << REGISTRY__V1__ROLE__ROLE_ADMIN, "");
  if (rv == 0) rv = org_store_get(pg, a, id, -1, &org);
  if (rv == 0)
    rv = event_for(pg, a, REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_ORGANIZATION_CREATED, id, &org->base);
  rv = finish_with_key(pg, a, token_key, id, rv, key_out);
out:
  arena_free(a);
  return rv;
}

int org_admin_issue_key(pg_conn *pg, const uint8_t token_key[32], const char *org_id,
                        char *key_out) {
  arena *a = arena_new(0);
  if (!a) return REG_ENOMEM;
  Registry__V1__Organization *org = NULL;
  int rv = pg_tx_begin(pg, 0);
  if (rv == 0) rv = finish_with_key(pg, a, token_key, org_id,
                                    org_store_get(pg, a, org_id, -1, &org), key_out);
  arena_free(a);
  return rv;
}
