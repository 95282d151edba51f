/*
 * Per-key rate limit: a token bucket kept in Redis and updated atomically by
 * one Lua script, so that every worker of every registryd process draws
 * from the same bucket.
 *
 * The bucket is a hash rl:{key} with the tokens left (a fraction) and the
 * time they were counted (Redis' own TIME, in microseconds, so that the
 * servers' clocks never matter). A call refills by elapsed × rate, capped at
 * burst, and takes one token if there is one; otherwise it answers how long
 * until there is. The key expires when the bucket would be full again, so
 * an idle key costs no memory (a missing key is a full bucket).
 *
 * Redis 5 and later replicate a script by its effects, which is what makes
 * TIME followed by writes allowed; Redis 7 does so always.
 */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "services/base/log.h"
#include "storage/redis/kv.h"

#define MAX_KEY 200
#define MIN_RATE 1e-3 /* one token in 1,000 s: keeps the TTL an integer */
#define MAX_RATE 1e9
#define MAX_BURST 1000000

/* KEYS[1] bucket; ARGV[1] rate (tokens per second), ARGV[2] burst.
 * Returns {allowed (0|1), retry_ms}. Numbers are written with
 * string.format: Lua's own number-to-string keeps only 14 digits, fewer
 * than a time in microseconds has. */
static const char bucket_script[] =
    "local rate = tonumber(ARGV[1])\n"
    "local burst = tonumber(ARGV[2])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens = tonumber(b[1])\n"
    "local ts = tonumber(b[2])\n"
    "if tokens == nil or ts == nil then\n"
    "  tokens = burst\n"
    "  ts = now\n"
    "end\n"
    "if now > ts then\n"
    "  tokens = tokens + (now - ts) * rate / 1000000\n"
    "  ts = now\n"
    "end\n"
    "if tokens > burst then tokens = burst end\n"
    "local allowed = 0\n"
    "local retry = 0\n"
    "if tokens >= 1 then\n"
    "  tokens = tokens - 1\n"
    "  allowed = 1\n"
    "else\n"
    "  retry = math.ceil((1 - tokens) * 1000 / rate)\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),\n"
    "           'ts', string.format('%.0f', ts))\n"
    "local ttl = math.max(1, math.ceil((burst - tokens) * 1000 / rate))\n"
    "redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))\n"
    "return {allowed, retry}\n";

int kv_ratelimit_take(kv_conn *c, const char *key, double rate, int burst,
                      int64_t *retry_ms) {
  if (!c || !key || !*key || strlen(key) > MAX_KEY || strpbrk(key, "{}") ||
      !(rate >= MIN_RATE && rate <= MAX_RATE) || burst < 1 || burst > MAX_BURST)
    return REG_EINVAL;
  char bucket[MAX_KEY + 8];
  char rate_s[32];
  char burst_s[16];
  snprintf(bucket, sizeof(bucket), "rl:{%s}", key); /* hash tag: Redis Cluster */
  snprintf(rate_s, sizeof(rate_s), "%.17g", rate);
  snprintf(burst_s, sizeof(burst_s), "%d", burst);
  const char *argv[] = {bucket, rate_s, burst_s};

  redisReply *r = NULL;
  int rc = kv_eval(c, bucket_script, 1, 3, argv, NULL, &r);
  if (rc) return rc;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
      r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER) {
    log_error(NULL, "redis: rate limit script: unexpected reply");
    freeReplyObject(r);
    return REG_EIO;
  }
  long long allowed = r->element[0]->integer;
  long long retry = r->element[1]->integer;
  freeReplyObject(r);
  if (allowed) return 0;
  if (retry_ms) *retry_ms = retry > 0 ? retry : 1;
  return REG_EPERM;
}
