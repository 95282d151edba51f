/*
 * registryd: the secondhand-goods exchange and credit registry.
 *
 *   registryd [serve]                 serve gRPC (the default)
 *   registryd migrate                 apply migrations, create missing keys
 *   registryd admin bootstrap --name NAME [--uscc USCC]
 *   registryd admin issue-key --organization ORG_ID
 *   registryd keys rotate --purpose CERTIFICATE|INVOICE|LOG
 *   registryd audit                   recompute the log, compare with checkpoints
 *
 * main wires configuration, keys, storage and the transport together; a
 * probe thread watches PostgreSQL and Redis once a second for health and
 * metrics and purges expired request ids; the log's sequencer thread
 * (services/log/log_seq.c) gives committed events their log indices and
 * signs checkpoints.
 */
#include <event2/buffer.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "crypto/pii.h"
#include "crypto/sig.h"
#include "services/base/clock.h"
#include "services/base/config.h"
#include "services/base/log.h"
#include "services/core/app.h"
#include "services/core/auth.h"
#include "services/core/ident.h"
#include "services/core/items.h"
#include "services/core/keystore.h"
#include "services/core/reqid.h"
#include "services/credit/credit_rpc.h"
#include "services/invoice/invoice_rpc.h"
#include "services/listing/listing.h"
#include "services/log/log.h"
#include "services/log/log_audit.h"
#include "services/methods.h"
#include "services/org/org.h"
#include "services/rpc/rpc_server.h"
#include "storage/pg/pg.h"
#include "storage/redis/kv.h"

#define EXIT_ADMIN_EXISTS 2

static void usage(void) {
  fprintf(stderr,
          "usage: registryd [serve] [flags]\n"
          "       registryd migrate [flags]\n"
          "       registryd admin bootstrap --name NAME [--uscc USCC] [flags]\n"
          "       registryd admin issue-key --organization ORG_ID [flags]\n"
          "       registryd keys rotate --purpose CERTIFICATE|INVOICE|LOG [flags]\n"
          "       registryd audit [flags]\n"
          "flags (each also from the environment variable named):\n");
  config_usage(stderr);
}

/* ---- keys from the master key ---- */

static int app_keys(reg_app *app) {
  app->master_key = sodium_malloc(32);
  app->token_key = sodium_malloc(32);
  app->page_key = sodium_malloc(32);
  if (!app->master_key || !app->token_key || !app->page_key) return REG_ENOMEM;
  int rv = config_read_master_key(app->cfg.master_key_file, app->master_key);
  if (rv != 0) {
    log_error(NULL, "cannot read the master key file %s: %s (64 hex characters expected)",
              app->cfg.master_key_file, reg_strerror(rv));
    return rv;
  }
  if ((rv = keys_derive(app->master_key, 1, KEYS_CTX_TOKEN, app->token_key)) ||
      (rv = keys_derive(app->master_key, 1, KEYS_CTX_PAGE, app->page_key)))
    return rv;
  sodium_mprotect_readonly(app->master_key);
  sodium_mprotect_readonly(app->token_key);
  sodium_mprotect_readonly(app->page_key);
  return 0;
}

static void app_clear(reg_app *app) {
  sodium_free(app->master_key);
  sodium_free(app->token_key);
  sodium_free(app->page_key);
  pii_keyring_free(app->pii);
}

/* Connects, then applies migrations and creates missing keys, both under
 * the migration advisory lock (every command does this first). */
static int open_db(reg_app *app, pg_conn **out) {
  pg_conn *pg = pg_conn_new(app->cfg.pg);
  if (!pg) return REG_ENOMEM;
  int applied = 0, created = 0;
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, REG_MIGRATION_LOCK);
  int rv = pg_query(pg, "SELECT pg_advisory_lock($1::int8)", &p, NULL);
  if (rv != 0) {
    log_error(NULL, "cannot reach PostgreSQL: %s", reg_strerror(rv));
    pg_conn_free(pg);
    return rv;
  }
  rv = pg_migrate(pg, &applied);
  if (rv != 0) log_error(NULL, "migrations failed: %s", reg_strerror(rv));
  if (rv == 0) {
    rv = keystore_ensure(pg, app->master_key, app->cfg.registry_id, &created);
    if (rv != 0) log_error(NULL, "creating keys failed: %s", reg_strerror(rv));
  }
  if (pg_query(pg, "SELECT pg_advisory_unlock($1::int8)", &p, NULL) != 0)
    log_warn(NULL, "could not release the migration lock (released at disconnect)");
  if (rv != 0) {
    pg_conn_free(pg);
    return rv;
  }
  if (applied || created) log_info(NULL, "migrations applied: %d, keys created: %d", applied, created);
  *out = pg;
  return 0;
}

/* ---- serve ---- */

typedef struct probe {
  reg_app *app;
  rpc_server *srv;
  pthread_t thread;
  atomic_int stop;
  atomic_int pg_up;
  atomic_int redis_up;
  _Atomic long long tree_size; /* leaves the log has sequenced */
} probe;

static void *probe_main(void *arg) {
  probe *p = arg;
  pg_conn *pg = pg_conn_new(p->app->cfg.pg);
  kv_conn *kv = kv_conn_new(p->app->cfg.redis, p->app->cfg.redis_timeout_ms);
  int last_pg = -1, last_redis = -1;
  int64_t next_purge = 0;
  while (!atomic_load(&p->stop)) {
    int pg_ok = 0;
    if (pg) {
      /* doubles as the log size: the state row of the sequenced tree */
      uint64_t size = 0;
      pg_ok = log_store_state(pg, &size, NULL) == 0;
      if (pg_ok) atomic_store(&p->tree_size, (long long)size);
    }
    int redis_ok = kv && kv_ping(kv) == 0;
    atomic_store(&p->pg_up, pg_ok);
    atomic_store(&p->redis_up, redis_ok);
    if (pg_ok != last_pg) {
      if (pg_ok) log_info(NULL, "postgresql reachable: serving");
      else log_error(NULL, "postgresql unreachable: health NOT_SERVING, calls get UNAVAILABLE");
      rpc_server_set_serving(p->srv, pg_ok);
      last_pg = pg_ok;
    }
    if (redis_ok != last_redis) {
      if (redis_ok) log_info(NULL, "redis reachable");
      else log_warn(NULL, "redis unreachable: no rate limits, no cache");
      last_redis = redis_ok;
    }
    int64_t now = clock_mono_us();
    if (pg_ok && now >= next_purge) {
      long n = 0;
      if (reqid_purge(pg, p->app->cfg.request_id_retention_days, &n) == 0 && n > 0)
        log_info(NULL, "purged %ld expired request ids", n);
      next_purge = now + 3600LL * 1000000;
    }
    for (int i = 0; i < 10 && !atomic_load(&p->stop); i++) {
      struct timespec ts = {0, 100 * 1000000};
      nanosleep(&ts, NULL);
    }
  }
  pg_conn_free(pg);
  kv_conn_free(kv);
  return NULL;
}

static probe *the_probe;

static void metrics_extra(void *app, struct evbuffer *out) {
  (void)app;
  probe *p = the_probe;
  evbuffer_add_printf(out,
                      "# HELP registry_pg_up 1 when PostgreSQL answered the last probe.\n"
                      "# TYPE registry_pg_up gauge\nregistry_pg_up %d\n"
                      "# HELP registry_redis_up 1 when Redis answered the last probe.\n"
                      "# TYPE registry_redis_up gauge\nregistry_redis_up %d\n"
                      "# HELP registry_redis_unavailable_total Calls that found Redis down.\n"
                      "# TYPE registry_redis_unavailable_total counter\n"
                      "registry_redis_unavailable_total %llu\n"
                      "# HELP registry_log_tree_size Leaves in the transparency log.\n"
                      "# TYPE registry_log_tree_size gauge\nregistry_log_tree_size %lld\n",
                      p ? atomic_load(&p->pg_up) : 0, p ? atomic_load(&p->redis_up) : 0,
                      (unsigned long long)kv_down_total(), p ? atomic_load(&p->tree_size) : 0LL);
}

static int worker_init(void *app_, int index, void **state) {
  (void)index;
  reg_app *app = app_;
  reg_worker *w = calloc(1, sizeof(*w));
  if (!w) return REG_ENOMEM;
  w->pg = pg_conn_new(app->cfg.pg);
  w->kv = kv_conn_new(app->cfg.redis, app->cfg.redis_timeout_ms);
  if (!w->pg || !w->kv) {
    pg_conn_free(w->pg);
    kv_conn_free(w->kv);
    free(w);
    return REG_ENOMEM;
  }
  *state = w;
  return 0;
}

static void worker_fini(void *app, void *state) {
  (void)app;
  reg_worker *w = state;
  if (!w) return;
  pg_conn_free(w->pg);
  kv_conn_free(w->kv);
  free(w);
}

static int serve_run(reg_app *app);

static int cmd_serve(reg_app *app) {
  pg_conn *pg = NULL;
  int rv = open_db(app, &pg);
  if (rv != 0) return 1;
  rv = pii_keyring_new(app->master_key, &app->pii);
  if (rv == 0) rv = keystore_load_pii(pg, app->pii);
  pg_conn_free(pg);
  if (rv != 0) {
    log_error(NULL, "cannot load personal-data keys: %s", reg_strerror(rv));
    return 1;
  }
  /* registry-wide item and listing state (the keyring item events open
   * owners with; the scrapping-age table from the configuration),
   * read-only once the workers run */
  items_init(app->pii);
  if (listing_init(&app->cfg) != 0) {
    log_error(NULL, "cannot start the listing service: bad scrapping_age configuration");
    return 1;
  }
  if (invoice_init(&app->cfg) != 0) { /* the dated VAT and income-tax table */
    listing_shutdown();
    return 1;
  }
  if (credit_init(&app->cfg) != 0) { /* the grade rule */
    invoice_shutdown();
    listing_shutdown();
    return 1;
  }
  int rc = serve_run(app);
  invoice_shutdown();
  listing_shutdown();
  return rc;
}

/* The transport, the probe and the log sequencer, until SIGTERM. */
static int serve_run(reg_app *app) {
  int rv;
  rpc_server_config sc = {0};
  sc.listen = app->cfg.listen;
  sc.loops = app->cfg.loops;
  sc.workers = app->cfg.workers;
  sc.max_message_bytes = app->cfg.max_message_bytes;
  sc.drain_seconds = app->cfg.drain_seconds;
  sc.lock_dir = app->cfg.lock_dir;
  sc.methods = registry_methods;
  sc.n_methods = registry_methods_n;
  sc.authorize = auth_authorize;
  sc.worker_init = worker_init;
  sc.worker_fini = worker_fini;
  sc.app = app;
  sc.metrics_listen = app->cfg.metrics_listen;
  sc.metrics_extra = metrics_extra;
  rpc_server *srv = NULL;
  rv = rpc_server_new(&sc, &srv);
  if (rv == REG_EEXIST) {
    log_error(NULL, "another registryd holds %s/registryd-<port>.lock: exiting", app->cfg.lock_dir);
    return 1;
  }
  if (rv != 0) {
    log_error(NULL, "cannot start the server on %s: %s", app->cfg.listen, reg_strerror(rv));
    return 1;
  }
  probe p = {.app = app, .srv = srv};
  the_probe = &p;
  if (pthread_create(&p.thread, NULL, probe_main, &p) != 0) {
    rpc_server_free(srv);
    return 1;
  }
  log_seq *seq = NULL;
  if (log_seq_start(app, &seq) != 0) {
    atomic_store(&p.stop, 1);
    pthread_join(p.thread, NULL);
    the_probe = NULL;
    rpc_server_free(srv);
    return 1;
  }
  log_info(NULL, "registryd serving gRPC on %s (registry id %s)", app->cfg.listen,
           app->cfg.registry_id);
  rv = rpc_server_run(srv);
  log_seq_stop(seq);
  atomic_store(&p.stop, 1);
  pthread_join(p.thread, NULL);
  the_probe = NULL;
  rpc_server_free(srv);
  log_info(NULL, "registryd stopped");
  return rv == 0 ? 0 : 1;
}

/* ---- the other commands ---- */

static int cmd_migrate(reg_app *app) {
  pg_conn *pg = NULL;
  if (open_db(app, &pg) != 0) return 1;
  pg_conn_free(pg);
  return 0;
}

static int cmd_bootstrap(reg_app *app, const char *name, const char *uscc_in) {
  if (!*name) {
    fprintf(stderr, "registryd: admin bootstrap needs --name NAME\n");
    return 1;
  }
  char uscc[19];
  if (*uscc_in && ident_uscc_check(uscc_in, uscc) != 0) {
    fprintf(stderr, "registryd: --uscc is not a valid unified social credit code\n");
    return 1;
  }
  pg_conn *pg = NULL;
  if (open_db(app, &pg) != 0) return 1;
  char key[64];
  int rv = org_admin_bootstrap(pg, app->token_key, name, *uscc_in ? uscc : NULL, key);
  pg_conn_free(pg);
  if (rv == REG_EEXIST) {
    fprintf(stderr, "registryd: an ADMIN organization exists already; use admin issue-key\n");
    return EXIT_ADMIN_EXISTS;
  }
  if (rv != 0) {
    fprintf(stderr, "registryd: bootstrap failed: %s\n", reg_strerror(rv));
    return 1;
  }
  printf("%s\n", key);
  sodium_memzero(key, sizeof(key));
  return 0;
}

static int cmd_issue_key(reg_app *app, const char *org) {
  if (!*org) {
    fprintf(stderr, "registryd: admin issue-key needs --organization ORG_ID\n");
    return 1;
  }
  pg_conn *pg = NULL;
  if (open_db(app, &pg) != 0) return 1;
  char key[64];
  int rv = org_admin_issue_key(pg, app->token_key, org, key);
  pg_conn_free(pg);
  if (rv != 0) {
    fprintf(stderr, "registryd: issue-key failed: %s\n",
            rv == REG_ENOTFOUND ? "no such organization" : reg_strerror(rv));
    return 1;
  }
  printf("%s\n", key);
  sodium_memzero(key, sizeof(key));
  return 0;
}

/* Exit 0 when the log agrees with the event rows, 1 naming the first
 * difference, 2 when the audit could not run. */
static int cmd_audit(reg_app *app) {
  pg_conn *pg = NULL;
  if (open_db(app, &pg) != 0) return 2;
  uint64_t leaves = 0;
  size_t checkpoints = 0;
  int rv = log_audit(pg, app->cfg.registry_id, &leaves, &checkpoints);
  pg_conn_free(pg);
  if (rv < 0) {
    fprintf(stderr, "registryd: audit failed: %s\n", reg_strerror(rv));
    return 2;
  }
  if (rv > 0) return 1;
  printf("audit: ok: %llu leaves, %zu checkpoints verified\n", (unsigned long long)leaves,
         checkpoints);
  return 0;
}

static int cmd_rotate(reg_app *app, const char *purpose_name) {
  int purpose = 0;
  if (!strcasecmp(purpose_name, "CERTIFICATE")) purpose = KEYSTORE_PURPOSE_CERTIFICATE;
  else if (!strcasecmp(purpose_name, "INVOICE")) purpose = KEYSTORE_PURPOSE_INVOICE;
  else if (!strcasecmp(purpose_name, "LOG")) purpose = KEYSTORE_PURPOSE_LOG;
  if (!purpose) {
    fprintf(stderr, "registryd: keys rotate needs --purpose CERTIFICATE|INVOICE|LOG\n");
    return 1;
  }
  pg_conn *pg = NULL;
  if (open_db(app, &pg) != 0) return 1;
  char kid[9];
  int rv = keystore_rotate(pg, app->master_key, app->cfg.registry_id, purpose, kid);
  pg_conn_free(pg);
  if (rv != 0) {
    fprintf(stderr, "registryd: rotate failed: %s\n", reg_strerror(rv));
    return 1;
  }
  printf("%s\n", kid);
  return 0;
}

int main(int argc, char **argv) {
  if (sodium_init() < 0) {
    fprintf(stderr, "registryd: libsodium failed to initialize\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  int first = 1;
  const char *cmd = "serve", *sub = "";
  if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
    cmd = argv[1];
    first = 2;
    if ((!strcmp(cmd, "admin") || !strcmp(cmd, "keys")) && argc > 2) {
      sub = argv[2];
      first = 3;
    }
  }
  if (!strcmp(cmd, "help") || (argc > 1 && !strcmp(argv[1], "--help"))) {
    usage();
    return 0;
  }
  static reg_app app;
  config_defaults(&app.cfg);
  char name[256] = "", uscc[64] = "", org[64] = "", purpose[32] = "";
  config_extra extra[] = {
      {"name", name, sizeof(name)},
      {"uscc", uscc, sizeof(uscc)},
      {"organization", org, sizeof(org)},
      {"purpose", purpose, sizeof(purpose)},
  };
  int rest[4], n_rest = 0;
  if (config_load(&app.cfg, argc, argv, first, extra, 4, rest, 4, &n_rest) != 0 || n_rest) {
    usage();
    return 1;
  }
  log_level lvl;
  if (log_level_parse(app.cfg.log_level, &lvl) != 0) {
    fprintf(stderr, "registryd: bad log level %s\n", app.cfg.log_level);
    return 1;
  }
  log_set_threshold(lvl);
  if (app_keys(&app) != 0) {
    app_clear(&app);
    return 1;
  }
  int rc;
  if (!strcmp(cmd, "serve")) rc = cmd_serve(&app);
  else if (!strcmp(cmd, "migrate")) rc = cmd_migrate(&app);
  else if (!strcmp(cmd, "admin") && !strcmp(sub, "bootstrap")) rc = cmd_bootstrap(&app, name, uscc);
  else if (!strcmp(cmd, "admin") && !strcmp(sub, "issue-key")) rc = cmd_issue_key(&app, org);
  else if (!strcmp(cmd, "keys") && !strcmp(sub, "rotate")) rc = cmd_rotate(&app, purpose);
  else if (!strcmp(cmd, "audit")) rc = cmd_audit(&app);
  else {
    usage();
    rc = 1;
  }
  app_clear(&app);
  return rc;
}
