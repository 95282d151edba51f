/*
 * registryd's configuration: one table of options, each settable from the
 * INI file, from a REGISTRY_* variable and from a --flag, applied in that
 * order so that the most specific source wins.
 */
#include "services/base/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "services/base/err.h"

typedef enum { T_STR, T_INT, T_SIZE, T_DOUBLE, T_I64 } opt_type;

typedef struct opt {
  const char *flag; /* --flag and INI key (dashes → underscores) */
  const char *env;
  opt_type type;
  size_t off;
  size_t cap; /* T_STR: buffer size */
  long min, max;
  const char *help;
} opt;

#define S(f, e, field, h) {f, e, T_STR, offsetof(reg_config, field), sizeof(((reg_config *)0)->field), 0, 0, h}
#define I(f, e, field, lo, hi, h) {f, e, T_INT, offsetof(reg_config, field), 0, lo, hi, h}

static const opt opts[] = {
    S("listen", "REGISTRY_LISTEN", listen, "gRPC listen address host:port"),
    S("metrics-listen", "REGISTRY_METRICS_LISTEN", metrics_listen, "metrics address host:port (empty: off)"),
    S("pg", "REGISTRY_PG", pg, "PostgreSQL conninfo"),
    S("redis", "REGISTRY_REDIS", redis, "Redis host:port (empty: none)"),
    S("config", "REGISTRY_CONFIG", config_file, "INI configuration file"),
    S("registry-id", "REGISTRY_ID", registry_id, "registry id: log origin, key names"),
    S("master-key-file", "REGISTRY_MASTER_KEY_FILE", master_key_file, "file with the 64-hex-digit master key"),
    S("lock-dir", "REGISTRY_LOCK_DIR", lock_dir, "directory of the per-port lock file"),
    S("log-level", "REGISTRY_LOG_LEVEL", log_level, "error, warn, info or debug"),
    I("workers", "REGISTRY_WORKERS", workers, 1, 1024, "worker threads"),
    I("loops", "REGISTRY_LOOPS", loops, 0, 256, "event-loop threads (0: one per core)"),
    {"max-message-bytes", "REGISTRY_MAX_MESSAGE_BYTES", T_SIZE, offsetof(reg_config, max_message_bytes), 0, 1024, 1L << 30, "request message size limit"},
    I("drain-seconds", "REGISTRY_DRAIN_SECONDS", drain_seconds, 0, 3600, "SIGTERM drain bound"),
    I("redis-timeout-ms", "REGISTRY_REDIS_TIMEOUT_MS", redis_timeout_ms, 1, 60000, "Redis connect/command timeout"),
    {"rate-limit-per-second", "REGISTRY_RATE_LIMIT_PER_SECOND", T_DOUBLE, offsetof(reg_config, rate_limit_per_second), 0, 0, 1000000, "token refill per API key and second (0: no limit)"},
    I("rate-limit-burst", "REGISTRY_RATE_LIMIT_BURST", rate_limit_burst, 1, 1000000, "token bucket size"),
    I("request-id-retention-days", "REGISTRY_REQUEST_ID_RETENTION_DAYS", request_id_retention_days, 30, 36500, "days a request_id is remembered"),
    I("log-batch-size", "REGISTRY_LOG_BATCH_SIZE", log_batch_size, 1, 10000, "events the log sequences per transaction"),
    I("log-batch-ms", "REGISTRY_LOG_BATCH_MS", log_batch_ms, 1, 60000, "log sequencer polling interval (ms)"),
    I("checkpoint-seconds", "REGISTRY_CHECKPOINT_SECONDS", checkpoint_seconds, 1, 86400, "at most one signed checkpoint this often"),
    S("scrapping-age", "REGISTRY_SCRAPPING_AGE", scrapping_age, "scrapping ages over the defaults: [YYYY-MM-DD:]USE/TYPE=YEARS|none,..."),
    {"guided-scrapping-km", "REGISTRY_GUIDED_SCRAPPING_KM", T_I64, offsetof(reg_config, guided_scrapping_km), 0, 1, 100000000, "guided-scrapping warning at this mileage (km)"},
    S("invoice-vat", "REGISTRY_INVOICE_VAT", invoice_vat, "VAT on reverse invoices over the defaults: [YYYY-MM-DD:]RATE_BP/THRESHOLD_FEN,..."),
    S("invoice-income-tax", "REGISTRY_INVOICE_INCOME_TAX", invoice_income_tax, "income tax on reverse invoices over the defaults: [YYYY-MM-DD:]RATE_BP,..."),
    I("invoice-channel", "REGISTRY_INVOICE_CHANNEL", invoice_channel, 0, 9, "channel digit of invoice numbers"),
    S("credit-grade", "REGISTRY_CREDIT_GRADE", credit_grade, "grade weights over the defaults: double=CAT+CAT,factor=N,b=N,c=N,d=N,base=N,per_point=N"),
    I("credit-dispute-days", "REGISTRY_CREDIT_DISPUTE_DAYS", credit_dispute_days, 1, 3650, "days to resolve a credit dispute"),
    {"invoice-seller-cap-fen", "REGISTRY_INVOICE_SELLER_CAP_FEN", T_I64, offsetof(reg_config, invoice_seller_cap_fen), 0, 1, INT64_C(1000000000000000), "a seller's 12-month reverse-invoice cap (fen)"},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void config_defaults(reg_config *c) {
  memset(c, 0, sizeof(*c));
  snprintf(c->listen, sizeof(c->listen), "127.0.0.1:50051");
  snprintf(c->metrics_listen, sizeof(c->metrics_listen), "127.0.0.1:9464");
  snprintf(c->pg, sizeof(c->pg), "host=127.0.0.1 port=5432 dbname=registry");
  snprintf(c->redis, sizeof(c->redis), "127.0.0.1:6379");
  snprintf(c->registry_id, sizeof(c->registry_id), "registry.example");
  snprintf(c->master_key_file, sizeof(c->master_key_file), "master.key");
  snprintf(c->lock_dir, sizeof(c->lock_dir), "/tmp");
  snprintf(c->log_level, sizeof(c->log_level), "info");
  c->workers = 8;
  c->loops = 0;
  c->max_message_bytes = 4u << 20;
  c->drain_seconds = 10;
  c->redis_timeout_ms = 200;
  c->rate_limit_per_second = 100;
  c->rate_limit_burst = 200;
  c->request_id_retention_days = 30;
  c->page_size_default = 50;
  c->page_size_max = 500;
  c->log_batch_size = 256;
  c->log_batch_ms = 100;
  c->checkpoint_seconds = 1;
  c->scrapping_age[0] = 0; /* the built-in defaults only */
  c->guided_scrapping_km = 600000;
  c->invoice_vat[0] = 0;        /* the built-in defaults only */
  c->invoice_income_tax[0] = 0;
  c->invoice_channel = 1;
  c->invoice_seller_cap_fen = INT64_C(500000000);
  c->credit_grade[0] = 0;
  c->credit_dispute_days = 20;
}

static const opt *find_opt(const char *name, size_t len) {
  for (size_t i = 0; i < N_OPTS; i++) {
    const char *f = opts[i].flag;
    if (strlen(f) != len) continue;
    size_t j = 0;
    for (; j < len; j++) {
      char a = name[j] == '_' ? '-' : name[j];
      if (a != f[j]) break;
    }
    if (j == len) return &opts[i];
  }
  return NULL;
}

static int set_opt(reg_config *c, const opt *o, const char *v, const char *src) {
  char *dst = (char *)c + o->off;
  char *end = NULL;
  errno = 0;
  switch (o->type) {
  case T_STR:
    if (strlen(v) >= o->cap) {
      fprintf(stderr, "registryd: %s: value of %s too long\n", src, o->flag);
      return REG_EINVAL;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
  case T_INT: {
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < o->min || n > o->max) break;
    *(int *)(void *)dst = (int)n;
    return 0;
  }
  case T_SIZE: {
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < o->min || n > o->max) break;
    *(size_t *)(void *)dst = (size_t)n;
    return 0;
  }
  case T_I64: {
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < o->min || n > o->max) break;
    *(int64_t *)(void *)dst = (int64_t)n;
    return 0;
  }
  case T_DOUBLE: {
    double d = strtod(v, &end);
    if (errno || end == v || *end || d < (double)o->min || d > (double)o->max) break;
    *(double *)(void *)dst = d;
    return 0;
  }
  }
  fprintf(stderr, "registryd: %s: bad value for %s (%ld..%ld)\n", src, o->flag, o->min, o->max);
  return REG_EINVAL;
}

static int on_ini(void *user, const char *section, const char *name, const char *value) {
  reg_config *c = user;
  if (strcmp(section, "registry") != 0) {
    fprintf(stderr, "registryd: config: unknown section [%s]\n", section);
    return 0;
  }
  const opt *o = find_opt(name, strlen(name));
  if (!o || strcmp(o->flag, "config") == 0) {
    fprintf(stderr, "registryd: config: unknown key %s\n", name);
    return 0;
  }
  return set_opt(c, o, value, "config") == 0;
}

/* Finds "--flag value" / "--flag=value" at argv[*i]; advances *i past it. */
static int split_flag(int argc, char **argv, int *i, const char **name, size_t *len,
                      const char **value) {
  const char *a = argv[*i] + 2;
  const char *eq = strchr(a, '=');
  *name = a;
  if (eq) {
    *len = (size_t)(eq - a);
    *value = eq + 1;
    return 0;
  }
  *len = strlen(a);
  if (*i + 1 >= argc) {
    fprintf(stderr, "registryd: --%s needs a value\n", a);
    return REG_EINVAL;
  }
  *value = argv[++*i];
  return 0;
}

int config_load(reg_config *c, int argc, char **argv, int first,
                const config_extra *extra, size_t n_extra, int *rest,
                int rest_cap, int *n_rest) {
  /* 1. the config file named by the flag or the environment */
  const char *cf = getenv("REGISTRY_CONFIG");
  for (int i = first; i < argc; i++) {
    if (strncmp(argv[i], "--config=", 9) == 0) cf = argv[i] + 9;
    else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) cf = argv[i + 1];
  }
  if (cf && *cf) {
    if (strlen(cf) >= sizeof(c->config_file)) return REG_EINVAL;
    snprintf(c->config_file, sizeof(c->config_file), "%s", cf);
    int rv = ini_parse(c->config_file, on_ini, c);
    if (rv != 0) {
      if (rv < 0) fprintf(stderr, "registryd: cannot read %s\n", c->config_file);
      else fprintf(stderr, "registryd: %s: error on line %d\n", c->config_file, rv);
      return REG_EINVAL;
    }
  }
  /* 2. environment */
  for (size_t k = 0; k < N_OPTS; k++) {
    const char *v = getenv(opts[k].env);
    if (v && set_opt(c, &opts[k], v, opts[k].env) != 0) return REG_EINVAL;
  }
  /* 3. flags */
  int nr = 0;
  for (int i = first; i < argc; i++) {
    if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == 0) {
      if (nr >= rest_cap) {
        fprintf(stderr, "registryd: unexpected argument %s\n", argv[i]);
        return REG_EINVAL;
      }
      rest[nr++] = i;
      continue;
    }
    const char *name, *value;
    size_t len;
    if (split_flag(argc, argv, &i, &name, &len, &value) != 0) return REG_EINVAL;
    const config_extra *x = NULL;
    for (size_t k = 0; k < n_extra; k++)
      if (strlen(extra[k].flag) == len && memcmp(extra[k].flag, name, len) == 0) x = &extra[k];
    if (x) {
      if (strlen(value) >= x->cap) {
        fprintf(stderr, "registryd: value of --%s too long\n", x->flag);
        return REG_EINVAL;
      }
      memcpy(x->dst, value, strlen(value) + 1);
      continue;
    }
    const opt *o = find_opt(name, len);
    if (!o) {
      fprintf(stderr, "registryd: unknown flag --%.*s\n", (int)len, name);
      return REG_EINVAL;
    }
    if (set_opt(c, o, value, "flag") != 0) return REG_EINVAL;
  }
  if (n_rest) *n_rest = nr;
  return 0;
}

void config_usage(FILE *out) {
  for (size_t k = 0; k < N_OPTS; k++)
    fprintf(out, "  --%-26s %s (%s)\n", opts[k].flag, opts[k].help, opts[k].env);
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

int config_read_master_key(const char *path, unsigned char out[32]) {
  FILE *f = fopen(path, "r");
  if (!f) return REG_EIO;
  char buf[256];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  size_t s = 0, e = n;
  while (s < e && (buf[s] == ' ' || buf[s] == '\n' || buf[s] == '\r' || buf[s] == '\t')) s++;
  while (e > s && (buf[e - 1] == ' ' || buf[e - 1] == '\n' || buf[e - 1] == '\r' || buf[e - 1] == '\t')) e--;
  int rv = REG_EINVAL;
  unsigned char key[32];
  if (e - s != 64) goto out;
  for (size_t i = 0; i < 32; i++) {
    int hi = hexval(buf[s + 2 * i]), lo = hexval(buf[s + 2 * i + 1]);
    if (hi < 0 || lo < 0) goto out;
    key[i] = (unsigned char)(hi << 4 | lo);
  }
  memcpy(out, key, 32);
  rv = 0;
out:
  /* the buffers held the secret: wipe them (volatile so the stores stay) */
  for (volatile unsigned char *p = (volatile unsigned char *)buf; p < (volatile unsigned char *)buf + sizeof(buf); p++) *p = 0;
  for (volatile unsigned char *p = key; p < key + 32; p++) *p = 0;
  return rv;
}
