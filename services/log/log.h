/*
 * LogService (SPEC §4.6): the transparency log over the events table.
 * log_rules.c checks request ranges (pure, no I/O), log_store.c holds the
 * SQL and the tile reader behind the Merkle proofs, log_seq.c the
 * background sequencer and checkpointer, log_rpc.c the thin handlers.
 * Design note: services/log/README.md.
 *
 * (The prefix log_ is shared with services/base/log.h's logging macros;
 * nothing here is named log_write/log_error/... or log_level.)
 */
#ifndef REG_LOG_LOG_H
#define REG_LOG_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "registry/v1/log.pb-c.h"
#include "services/base/arena.h"
#include "services/base/err.h"
#include "storage/pg/pg.h"
#include "storage/redis/kv.h"

typedef struct reg_app reg_app;

/* ---- rules (log_rules.c) ---- */

#define LOG_ENTRIES_MAX 1000

/* A rule's verdict on a request: the field to name (INVALID_ARGUMENT) and
 * a message for any refusal. */
typedef struct log_violation {
  char field[32];
  char message[160];
} log_violation;

/* The tree size a proof is made for: `requested` (field `field`; 0 means
 * the latest checkpoint's) against the latest checkpoint's size (0: none
 * yet). 0 with *out; REG_EINVAL (negative); REG_ERANGE (beyond the latest
 * checkpoint); REG_ENOTFOUND (0 asked and no checkpoint yet). */
int log_rules_tree_size(int64_t requested, int64_t latest, const char *field, uint64_t *out,
                        log_violation *v) REG_MUST_CHECK;

/* leaf_index in [0, size): 0, or REG_EINVAL naming leaf_index. */
int log_rules_leaf_index(int64_t leaf_index, uint64_t size, log_violation *v) REG_MUST_CHECK;

/* A consistency proof between first and second (0: the latest checkpoint).
 * 0 with *first_out, *second_out; REG_EINVAL naming first_size (≤ 0, or
 * beyond second) or second_size (negative); REG_ERANGE (second beyond the
 * latest checkpoint); REG_ENOTFOUND (second 0 and no checkpoint). */
int log_rules_consistency(int64_t first, int64_t second, int64_t latest, uint64_t *first_out,
                          uint64_t *second_out, log_violation *v) REG_MUST_CHECK;

/* Entries [start, end) of a tree of tree_size leaves, at most
 * LOG_ENTRIES_MAX: 0 with [*s, *e) (end truncated); REG_EINVAL naming
 * start (negative) or end (start ≥ end); REG_ERANGE (end beyond the tree). */
int log_rules_entries(int64_t start, int64_t end, uint64_t tree_size, uint64_t *s, uint64_t *e,
                      log_violation *v) REG_MUST_CHECK;

/* ---- the tile reader (log_store.c) ---- */

#define LOG_TILE_CACHE 16

/* Reads stored hashes out of log_tiles through one connection, keeping the
 * last LOG_TILE_CACHE tiles it read (a proof reads each tile once). Embed it
 * (arena_alloc one per call) or declare it; log_tiles_init before use. */
typedef struct log_tiles {
  pg_conn *pg;
  int n, next;
  struct {
    int level, width;
    uint64_t index;
    uint8_t hashes[256 * 32];
  } cache[LOG_TILE_CACHE];
} log_tiles;

void log_tiles_init(log_tiles *t, pg_conn *pg);
/* merkle_hash_fn over the stored tiles (ctx: log_tiles *). REG_ENOTFOUND
 * when the tile is missing or too narrow (a hash the log never stored). */
int log_tiles_hash(void *ctx, int level, uint64_t index, uint8_t out[32]);
/* tile_get_fn / tile_put_fn for tile_append (ctx: log_tiles *): a missing
 * tile reads as width 0; a put upserts the row and refreshes the cache. */
int log_tiles_get(void *ctx, int tile_level, uint64_t tile_index, uint8_t *out, int *width);
int log_tiles_put(void *ctx, int tile_level, uint64_t tile_index, const uint8_t *hashes,
                  int width);

/* ---- store (log_store.c) ---- */

/* The latest signed checkpoint, with its key's vkey; strings in the arena. */
typedef struct log_checkpoint {
  int64_t tree_size;
  uint8_t root[32];
  uint8_t signature[64];
  char key_id[9];
  int64_t created_us;
  char *note;
  char *vkey; /* "" when the key row is gone */
} log_checkpoint;

/* The sequenced tree: size and root from the state row. */
int log_store_state(pg_conn *pg, uint64_t *size, uint8_t root[32]) REG_MUST_CHECK;
/* The latest checkpoint's tree size, 0 before the first. */
int log_store_checkpoint_size(pg_conn *pg, int64_t *size) REG_MUST_CHECK;
/* REG_ENOTFOUND before the first checkpoint. */
int log_store_checkpoint_latest(pg_conn *pg, arena *a, log_checkpoint *out) REG_MUST_CHECK;
/* Every signing key (every purpose, retired ones too), oldest first per
 * purpose, in the arena. */
int log_store_keys(pg_conn *pg, arena *a, Registry__V1__SigningKey ***out,
                   size_t *n) REG_MUST_CHECK;
/* The log index of a leaf hash (REG_ENOTFOUND). */
int log_store_index_by_hash(pg_conn *pg, const uint8_t leaf_hash[32],
                            uint64_t *index) REG_MUST_CHECK;
/* The log index of an event: *index -1 while unsequenced; REG_ENOTFOUND. */
int log_store_index_by_event(pg_conn *pg, const char *event_id, int64_t *index) REG_MUST_CHECK;
/* Entries [start, end) (the caller checked the range), in the arena. */
int log_store_entries(pg_conn *pg, arena *a, uint64_t start, uint64_t end,
                      Registry__V1__LogEntry ***out, size_t *n) REG_MUST_CHECK;
/* Proofs from the stored tiles, as arrays of 32-byte hashes in the arena
 * (the hashes themselves contiguous in one buffer, from (*out)[0].data). */
int log_store_inclusion(pg_conn *pg, arena *a, uint64_t index, uint64_t size,
                        ProtobufCBinaryData **out, size_t *n) REG_MUST_CHECK;
int log_store_consistency(pg_conn *pg, arena *a, uint64_t first, uint64_t second,
                          ProtobufCBinaryData **out, size_t *n) REG_MUST_CHECK;

/* ---- sequencer and checkpointer (log_seq.c) ---- */

/* The Redis stream every sequenced event is published to (for WatchEvents):
 * entry id "<log_index>-1", fields log_index, event_id, leaf; capped with
 * MAXLEN ~ LOG_STREAM_MAXLEN. */
#define LOG_STREAM_KEY "{log}:events"
#define LOG_STREAM_MAXLEN "1000000"
/* The transaction-scoped advisory lock that serializes sequencers and
 * checkpointers of every process on one database. */
#define LOG_SEQ_LOCK 7319004202LL

/* One batch: assigns the next indices to at most `batch` unsequenced events
 * (lowest id first), appends their hashes to the tiles and moves the state
 * row, in one transaction; then publishes them to Redis when kv is not
 * NULL (Redis down: skipped). *n: how many were sequenced. */
int log_seq_batch(pg_conn *pg, kv_conn *kv, int batch, int *n) REG_MUST_CHECK;

/* Signs a checkpoint of the state row (origin and key name registry_id,
 * the current LOG key) when the tree grew since the latest one and that one
 * is at least min_seconds old. *made: 1 if one was written; *wait_ms: when
 * the tree grew but the latest is too recent, the milliseconds until one
 * is allowed (else 0). */
int log_seq_checkpoint(pg_conn *pg, const uint8_t master[32], const char *registry_id,
                       int min_seconds, int *made, int64_t *wait_ms) REG_MUST_CHECK;

/* The background thread of `registryd serve`: its own PostgreSQL and Redis
 * connections; sequences every log_batch_ms (at once again while batches
 * come back full) and checkpoints at most every checkpoint_seconds. */
typedef struct log_seq log_seq;
int log_seq_start(const reg_app *app, log_seq **out) REG_MUST_CHECK;
/* Stops and joins the thread; NULL is a no-op. */
void log_seq_stop(log_seq *s);

#endif
