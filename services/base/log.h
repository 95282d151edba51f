/*
 * Structured logging: one JSON object per line on stderr, carrying level,
 * time, message and, when known, the method, request id and peer of the
 * call. Never pass keys, tokens, personal data or query parameters.
 * log_debug costs one branch when debug is off.
 */
#ifndef REG_BASE_LOG_H
#define REG_BASE_LOG_H

typedef enum log_level {
  LOG_LEVEL_ERROR = 0,
  LOG_LEVEL_WARN = 1,
  LOG_LEVEL_INFO = 2,
  LOG_LEVEL_DEBUG = 3,
} log_level;

/* The call a line is about; any field may be NULL. */
typedef struct log_ctx {
  const char *method;
  const char *request_id;
  const char *peer;
} log_ctx;

extern log_level log_threshold;

/* "error", "warn", "info", "debug" → 0 and *out; else REG_EINVAL. */
int log_level_parse(const char *s, log_level *out);
void log_set_threshold(log_level lvl);

void log_write(log_level lvl, const log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(ctx, ...) log_write(LOG_LEVEL_ERROR, (ctx), __VA_ARGS__)
#define log_warn(ctx, ...)                                                     \
  do {                                                                         \
    if (log_threshold >= LOG_LEVEL_WARN) log_write(LOG_LEVEL_WARN, (ctx), __VA_ARGS__); \
  } while (0)
#define log_info(ctx, ...)                                                     \
  do {                                                                         \
    if (log_threshold >= LOG_LEVEL_INFO) log_write(LOG_LEVEL_INFO, (ctx), __VA_ARGS__); \
  } while (0)
#define log_debug(ctx, ...)                                                    \
  do {                                                                         \
    if (log_threshold >= LOG_LEVEL_DEBUG) log_write(LOG_LEVEL_DEBUG, (ctx), __VA_ARGS__); \
  } while (0)

#endif
