/*
 * Structured log lines: one JSON object per line on stderr, written with a
 * single write(2) so that lines from different threads never interleave.
 * jansson does the escaping; the caller's message is formatted first into a
 * bounded stack buffer (longer messages are truncated, never allocated
 * without bound).
 */
#include "services/base/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/base/err.h"

log_level log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s, log_level *out) {
  for (int i = 0; i < 4; i++) {
    if (s && strcmp(s, level_names[i]) == 0) {
      *out = (log_level)i;
      return 0;
    }
  }
  return REG_EINVAL;
}

void log_set_threshold(log_level lvl) { log_threshold = lvl; }

void log_write(log_level lvl, const log_ctx *ctx, const char *fmt, ...) {
  if (lvl > log_threshold) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);

  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[96];
  snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, ts.tv_nsec / 1000);

  json_t *o = json_object();
  if (!o) return;
  json_object_set_new(o, "ts", json_string(when));
  json_object_set_new(o, "level", json_string(level_names[lvl]));
  /* json_stringn_nocheck would pass invalid UTF-8 through; check it. */
  json_t *m = json_string(msg);
  json_object_set_new(o, "msg", m ? m : json_string("(message not UTF-8)"));
  if (ctx) {
    if (ctx->method) json_object_set_new(o, "method", json_string(ctx->method));
    if (ctx->request_id) json_object_set_new(o, "request_id", json_string(ctx->request_id));
    if (ctx->peer) json_object_set_new(o, "peer", json_string(ctx->peer));
  }
  char line[2048];
  size_t n = json_dumpb(o, line, sizeof(line) - 1, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (n == 0 || n > sizeof(line) - 1) return;
  line[n] = '\n';
  ssize_t w = write(STDERR_FILENO, line, n + 1);
  (void)w;
}
