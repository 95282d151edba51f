/*
 * The registry-wide state every handler reads (configuration, keys derived
 * from the master key, the personal-data keyring) and a worker's own state
 * (its PostgreSQL and Redis connections). Filled at start-up by registryd,
 * read-only afterwards, so any number of workers share it without locks.
 */
#ifndef REG_CORE_APP_H
#define REG_CORE_APP_H

#include <stdint.h>

#include "services/base/config.h"
#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"
#include "storage/redis/kv.h"

typedef struct pii_keyring pii_keyring;

typedef struct reg_app {
  reg_config cfg;
  uint8_t *master_key;   /* 32 bytes, sodium_malloc'd */
  uint8_t *token_key;    /* API-key hashing key, 32 bytes, sodium_malloc'd */
  uint8_t *page_key;     /* page-token MAC key, 32 bytes, sodium_malloc'd */
  pii_keyring *pii;      /* personal-data keys */
} reg_app;

typedef struct reg_worker {
  pg_conn *pg;
  kv_conn *kv;
} reg_worker;

static inline reg_app *call_app(const rpc_call *call) { return (reg_app *)call->app; }
static inline pg_conn *call_pg(const rpc_call *call) { return ((reg_worker *)call->worker)->pg; }
static inline kv_conn *call_kv(const rpc_call *call) { return ((reg_worker *)call->worker)->kv; }

#endif
