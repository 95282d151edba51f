/*
 * LogService.WatchEvents (SPEC §4.6, §5): a server-streaming call owned by
 * the event loop. The stream catches up from PostgreSQL in pages fetched by
 * worker jobs (a window of at most 256 log indices each, filtered by the
 * visibility rule and the requested types), sends as HTTP/2 flow control
 * allows, and once caught up waits for the live tail: one async hiredis
 * connection per loop reads the log's Redis stream (XREAD BLOCK) and wakes
 * the loop's watchers, which read the new rows from PostgreSQL. With Redis
 * down, the watchers poll PostgreSQL every second. Rows always come from
 * PostgreSQL, so order, gaps and visibility are decided in one place; the
 * Redis stream only says "there is more".
 */
#ifndef REG_LOG_LOG_WATCH_H
#define REG_LOG_LOG_WATCH_H

#include "services/log/log.h"
#include "services/rpc/rpc_stream.h"

/* The Redis stream the sequencer appends to (one entry per sequenced batch
 * or event; the watchers only use it as a wake-up). */
#define LOG_WATCH_STREAM_KEY LOG_STREAM_KEY

extern const rpc_stream_ops log_watch_ops;

#endif
