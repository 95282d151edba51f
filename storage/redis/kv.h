/*
 * Redis access for workers (hiredis 0.14, synchronous, one connection per
 * worker). Every command has a timeout (connect and socket timeouts; hiredis
 * 0.14 has no per-command timeouts). Redis is optional: when it is down the
 * registry still serves every unary call, so callers treat REG_EUNAVAIL as
 * "no cache, no rate limit". Reconnection is attempted at most once a second.
 * Keys carry hash tags ({api key id}) so that Redis Cluster stays possible.
 */
#ifndef REG_STORAGE_KV_H
#define REG_STORAGE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/err.h"

typedef struct kv_conn kv_conn;

/* addr "host:port" ("" or NULL: Redis not configured, every call returns
 * REG_EUNAVAIL). NULL when out of memory. */
kv_conn *kv_conn_new(const char *addr, int timeout_ms);
void kv_conn_free(kv_conn *c);
int kv_up(const kv_conn *c); /* 1 if the last command reached Redis */
/* PING → 0 or REG_EUNAVAIL. */
int kv_ping(kv_conn *c) REG_MUST_CHECK;

/* Token bucket (ratelimit.c), atomically in one Lua script (EVALSHA, loaded
 * once per connection): bucket `key` of `burst` tokens refilled at `rate`
 * per second; takes one token. Returns 0 allowed, REG_EPERM limited
 * (*retry_ms: when one token will be there), REG_EUNAVAIL when Redis is down.
 * The time is Redis' own (TIME), so servers' clocks do not matter. */
int kv_ratelimit_take(kv_conn *c, const char *key, double rate, int burst,
                      int64_t *retry_ms) REG_MUST_CHECK;

/* Process-wide counter of calls that found Redis down (for metrics). */
uint64_t kv_down_total(void);

/* For the other files of storage/redis (rate limiter, cache, streams). */
struct redisReply;
/* One command (binary-safe arguments; lens NULL: strlen). On success *out
 * is the reply (free with freeReplyObject; never an error reply). Errors:
 * REG_EUNAVAIL (down or timed out: the connection is dropped and reopened
 * later; or a LOADING/BUSY/MASTERDOWN reply), REG_EIO (another error reply,
 * logged by its code only), REG_EINVAL. */
int kv_command(kv_conn *c, int argc, const char **argv, const size_t *lens,
               struct redisReply **out) REG_MUST_CHECK;
/* EVALSHA of script (a string constant: its address identifies it), with a
 * SCRIPT LOAD the first time on each connection and EVAL after NOSCRIPT
 * (beyond 8 distinct scripts, plain EVAL). argv holds the nkeys keys, then
 * the arguments (at most 32 in all). Errors as kv_command. */
int kv_eval(kv_conn *c, const char *script, int nkeys, int argc, const char **argv,
            const size_t *lens, struct redisReply **out) REG_MUST_CHECK;

#endif
