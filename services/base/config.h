/*
 * Configuration of registryd: defaults, then the INI file (--config or
 * REGISTRY_CONFIG), then REGISTRY_* environment, then command-line flags;
 * a later source overrides an earlier one. Secrets are never here: only the
 * path of the master key file.
 */
#ifndef REG_BASE_CONFIG_H
#define REG_BASE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct reg_config {
  char listen[256];          /* host:port of gRPC, default 127.0.0.1:50051 */
  char metrics_listen[256];  /* host:port of /metrics, default 127.0.0.1:9464; "" off */
  char pg[1024];             /* libpq conninfo */
  char redis[256];           /* host:port, default 127.0.0.1:6379; "" none */
  char config_file[1024];
  char registry_id[256];     /* log origin and key-name prefix */
  char master_key_file[1024];
  char lock_dir[1024];       /* where the per-port flock file lives */
  char log_level[16];
  int workers;               /* worker threads (each one PG + one Redis connection) */
  int loops;                 /* event-loop threads; 0: one per core */
  size_t max_message_bytes;  /* request message limit, default 4 MiB */
  int drain_seconds;         /* SIGTERM drain bound, default 10 */
  int redis_timeout_ms;      /* connect and command timeout, default 200 */
  double rate_limit_per_second; /* token refill per API key, default 100 */
  int rate_limit_burst;      /* bucket size, default 200 */
  int request_id_retention_days; /* default 30; never below 30 */
  int page_size_default;     /* 50 */
  int page_size_max;         /* 500 */
  int log_batch_size;        /* events the log sequences per transaction, default 256 */
  int log_batch_ms;          /* the sequencer's polling interval, default 100 */
  int checkpoint_seconds;    /* at most one signed checkpoint this often, default 1 */
  /* Mandatory scrapping ages over the built-in defaults (DOMAIN §2): a
   * comma-separated list of [YYYY-MM-DD:]USE_NATURE/VEHICLE_TYPE=YEARS|none
   * (services/listing/listing.h); "" the defaults only. */
  char scrapping_age[2048];
  int64_t guided_scrapping_km; /* guided-scrapping warning threshold, default 600000 */
  /* Reverse invoicing (DOMAIN §1; services/invoice/invoice.h): dated tables
   * over the built-in defaults, "" the defaults only. VAT:
   * [YYYY-MM-DD:]RATE_BP/MONTHLY_THRESHOLD_FEN,... ; income tax:
   * [YYYY-MM-DD:]RATE_BP,... (an entry with a date applies on and after it). */
  char invoice_vat[1024];
  char invoice_income_tax[1024];
  int invoice_channel;          /* the invoice number's channel digit, default 1 */
  int64_t invoice_seller_cap_fen; /* 12-month cap per seller, default 500,000,000 */
  /* Credit (services/credit/credit.h): grade weights over the defaults of
   * SPEC §6 ("" the defaults), the dispute resolution period in days. */
  char credit_grade[512];
  int credit_dispute_days;      /* default 20 */
} reg_config;

/* Fills *c with the defaults. */
void config_defaults(reg_config *c);

/* A command's own flag (e.g. `--name` of `admin bootstrap`): its value is
 * copied into dst (at most cap - 1 bytes). */
typedef struct config_extra {
  const char *flag; /* without the dashes: "name" */
  char *dst;
  size_t cap;
} config_extra;

/* Applies the INI file (--config or REGISTRY_CONFIG; section [registry],
 * keys named like the flags with '_' for '-'), then REGISTRY_* environment,
 * then the flags of argv[first..argc) ("--name value" or "--name=value"),
 * including the command's extra flags. Arguments that are not flags are left
 * for the caller: their indices go to rest[] (at most rest_cap), their count
 * to *n_rest. 0 on success; REG_EINVAL with a message on stderr for an
 * unknown flag, a bad value or an unreadable file. */
int config_load(reg_config *c, int argc, char **argv, int first,
                const config_extra *extra, size_t n_extra, int *rest,
                int rest_cap, int *n_rest);

/* The usage text of the common flags, for --help. */
void config_usage(FILE *out);

/* Reads the master key file: 64 hex characters (whitespace trimmed) → 32
 * bytes into out. REG_EINVAL / REG_EIO; out untouched on failure. */
int config_read_master_key(const char *path, unsigned char out[32]);

#endif
