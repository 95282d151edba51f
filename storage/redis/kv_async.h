/*
 * Redis access for an event loop (hiredis 0.14 async API on libevent, one
 * client per loop thread): the live tail of WatchEvents (XREAD BLOCK) and
 * anything else a loop must not block on. Everything happens on the thread
 * that runs the client's event_base; nothing here is thread-safe.
 *
 * Every command has its own timeout (a libevent timer: hiredis 0.14 has
 * none). A command that times out also takes the connection down with it:
 * Redis answers in order, so the commands queued behind it are stuck too,
 * and a server that keeps TCP open without answering is only ever left this
 * way. Those other commands fail with REG_EUNAVAIL; the next command opens a
 * fresh connection. A blocking command (XREAD BLOCK ms, BLPOP) holds up every
 * command queued after it on the connection, and its timeout must be longer
 * than its BLOCK argument (BLOCK + 1 s, say) or it will be cut off as hung.
 *
 * Connections are opened lazily, by a command, with a connect timeout (also
 * a libevent timer); attempts start at least a second apart, so a dead
 * server costs a command one clock read (REG_EUNAVAIL at once) and is not
 * stormed. While connecting, commands queue and are sent once connected.
 * The host should be a numeric address (or in /etc/hosts): hiredis 0.14
 * resolves names with a blocking getaddrinfo. The process must ignore
 * SIGPIPE (hiredis writes with write(2)).
 */
#ifndef REG_STORAGE_KV_ASYNC_H
#define REG_STORAGE_KV_ASYNC_H

#include <stddef.h>

#include "services/base/err.h"

struct event_base;
struct redisReply;

typedef struct kv_async kv_async;

/* At most this many commands wait for their reply at once (per client). */
#define KV_ASYNC_MAX_PENDING 1024

/* A client bound to base, which must outlive it. addr "host:port" or
 * "[v6]:port"; "" or NULL (or a malformed address, logged once): Redis not
 * configured, the client never connects and every command returns
 * REG_EUNAVAIL at once. connect_timeout_ms <= 0: 500 ms. Does not connect
 * (the first command does). NULL when out of memory; free with
 * kv_async_free. */
kv_async *kv_async_new(struct event_base *base, const char *addr, int connect_timeout_ms);

/* Completion of one command, called exactly once, always from the event
 * loop (never from inside kv_async_command):
 *   status 0             reply is Redis' answer (any type but an error reply:
 *                        status, string, integer, array, nil);
 *   REG_EIO              Redis answered with an error reply (logged by its
 *                        error code only, never its text: Redis echoes the
 *                        arguments);
 *   REG_EUNAVAIL         the connection was lost or could not be opened
 *                        before the reply came, or Redis is not ready
 *                        (LOADING, BUSY, MASTERDOWN, TRYAGAIN, CLUSTERDOWN
 *                        replies), or kv_async_free was called;
 *   REG_ETIMEDOUT        no reply within the command's timeout_ms (the
 *                        connection was dropped; a late reply is never
 *                        delivered).
 * reply is NULL unless status is 0; it belongs to hiredis and is valid only
 * during the call (copy what you keep; never free it). The callback may call
 * kv_async_command (a new command, with its own callback later) and
 * kv_async_free on c. */
typedef void (*kv_async_cb)(kv_async *c, int status, struct redisReply *reply, void *arg);

/* Queues one command (binary-safe arguments, copied: argv may be freed on
 * return; lens NULL: strlen of each). timeout_ms > 0 bounds the wait for the
 * reply, from now (connecting included). Returns:
 *   0            queued: cb(c, ..., arg) runs exactly once, later;
 *   REG_EUNAVAIL Redis not configured, down (a connection attempt failed or
 *                started less than a second ago and is not usable), or the
 *                client is being freed;
 *   REG_ENOMEM   out of memory, or KV_ASYNC_MAX_PENDING commands already
 *                wait for their reply (back off: the server is slow);
 *   REG_EINVAL   c, cb or argv NULL, argc < 1, timeout_ms <= 0, or a
 *                command whose callback hiredis would call more than once
 *                ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, MONITOR).
 * On any error cb is never called. */
int kv_async_command(kv_async *c, int timeout_ms, kv_async_cb cb, void *arg, int argc,
                     const char **argv, const size_t *lens) REG_MUST_CHECK;

/* 1 while a connection is established (connected and not lost since), else
 * 0; for health and metrics. A connection the server closes is noticed by
 * the loop even while idle; one that vanished without a FIN or RST is
 * noticed only when a command times out. */
int kv_async_up(const kv_async *c);

/* Number of commands waiting for their reply. */
int kv_async_pending(const kv_async *c);

/* Closes the connection and frees c. Every pending command's callback runs
 * once, with REG_EUNAVAIL, before this returns. Safe from inside a callback
 * of c: then c stays allocated until that callback returns (kv_async_command
 * on it returns REG_EUNAVAIL, kv_async_free does nothing) and is freed by
 * the client on the way out. NULL is a no-op. Call it before
 * event_base_free(base). */
void kv_async_free(kv_async *c);

#endif
