/*
 * The gRPC server: h2c listeners on one event loop per core, a worker pool
 * for the handlers that touch PostgreSQL, built-in health and reflection,
 * /metrics, and a graceful drain on SIGTERM. See services/rpc/README.md.
 */
#ifndef REG_RPC_RPC_SERVER_H
#define REG_RPC_RPC_SERVER_H

#include <stddef.h>

#include "services/base/err.h"
#include "services/rpc/rpc.h"

struct evbuffer;

typedef struct rpc_server rpc_server;

typedef struct rpc_server_config {
  const char *listen;          /* "host:port" (IPv4, IPv6 in brackets); port 0: any */
  int loops;                   /* event-loop threads; 0: one per core */
  int workers;                 /* worker threads; 0: 4 */
  size_t max_message_bytes;    /* request message limit; 0: 4 MiB */
  int drain_seconds;           /* SIGTERM drain bound; 0: 10 */
  const char *lock_dir;        /* dir of the flock file "registryd-<port>.lock"; NULL: /tmp */
  const rpc_method *methods;   /* the one method table (health and reflection are added) */
  size_t n_methods;
  rpc_authorize_fn authorize;  /* runs on the worker before every worker handler,
                                  and before loop-owned handlers that need a key */
  int (*worker_init)(void *app, int index, void **state); /* on the worker thread */
  void (*worker_fini)(void *app, void *state);            /* on the worker thread */
  void *app;
  const char *metrics_listen;  /* "host:port" for GET /metrics; NULL/"": off */
  void (*metrics_extra)(void *app, struct evbuffer *out); /* runs on the metrics thread */
  /* Additions to the brief's interface: */
  size_t max_queue;            /* queued worker calls before UNAVAILABLE; 0: 1024 per worker */
  const unsigned char *descriptor_set; /* reflection's FileDescriptorSet; NULL: the */
  size_t descriptor_set_len;           /* embedded registry_descriptor_set */
} rpc_server_config;

/* Builds a server: parses cfg->listen, takes the exclusive non-blocking
 * flock on <lock_dir>/registryd-<port>.lock BEFORE binding, binds one
 * SO_REUSEPORT listener per loop, binds the metrics listener, parses the
 * descriptor set and starts the workers (worker_init runs on each).
 * The config is copied (strings too); the method table and app must outlive
 * the server. Ignores SIGPIPE for the process.
 * Returns 0 and *out, or:
 *   REG_EEXIST   another process holds the port's lock (exit 1);
 *   REG_EINVAL   a bad listen address, method table or descriptor set;
 *   REG_EIO      bind/listen/lock file failed (errno logged);
 *   REG_ENOMEM;
 *   or worker_init's own error.
 * *out is untouched on failure. */
int rpc_server_new(const rpc_server_config *cfg, rpc_server **out) REG_MUST_CHECK;

/* The bound gRPC port (useful with port 0). */
int rpc_server_port(const rpc_server *s);

/* Runs the loops (loop 0 on the calling thread, which also handles
 * SIGTERM and SIGINT) until a drain completes; 0, or REG_EIO when a loop
 * thread could not be started. Call once. */
int rpc_server_run(rpc_server *s) REG_MUST_CHECK;

/* Thread-safe and async-signal-unsafe: begins the drain as on SIGTERM. */
void rpc_server_stop(rpc_server *s);

/* Thread-safe: health Check and Watch report SERVING when serving != 0 (and
 * no drain is under way), else NOT_SERVING; Watch streams on every loop
 * get the change. A new server is serving. */
void rpc_server_set_serving(rpc_server *s, int serving);

/* Stops workers (worker_fini), closes listeners, releases the lock file.
 * Call after rpc_server_run returned, or instead of it. NULL is a no-op. */
void rpc_server_free(rpc_server *s);

#endif
