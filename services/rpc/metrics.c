/*
 * Metrics: per-loop call counters and latency histograms, and the
 * Prometheus text exposition on GET /metrics.
 *
 * Every loop owns one row of counters per method (plus a row "unknown" for
 * paths not in the table). Only the loop thread writes its rows, so an
 * increment is a relaxed load and store — no lock and no locked
 * instruction on the hot path; the metrics thread reads all loops' rows
 * with relaxed loads and sums them (a scrape may see a call counted in
 * calls_total a moment before its histogram: fine for monitoring).
 *
 * The endpoint runs on its own thread and event_base with libevent's
 * evhttp, on its own listener (metrics_listen), so a slow scraper never
 * touches the gRPC loops. The text format is hand-written (there is no
 * Prometheus client library for C in Debian):
 *   registry_rpc_calls_total{method,code}        counter, for every pair seen
 *   registry_rpc_duration_seconds{method}        histogram, for every method seen
 *   registry_worker_queue_depth                  gauge
 * followed by whatever rpc_server_config.metrics_extra appends (it runs on
 * the metrics thread).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

static const int64_t bucket_us[RPC_HIST_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000,
};
static const char *const bucket_le[RPC_HIST_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

static inline void bump(_Atomic uint64_t *c, uint64_t by) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                        memory_order_relaxed);
}

static inline uint64_t get(_Atomic uint64_t *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

void rpc_metrics_record(rpc_loop *l, const rpc_route *r, rpc_code code, int64_t dur_us) {
  if (!l->counters) return;
  rpc_counters *c = &l->counters[r ? r->index : l->srv->n_routes];
  if ((unsigned)code > 16) code = RPC_UNKNOWN;
  if (dur_us < 0) dur_us = 0;
  bump(&c->calls[code], 1);
  for (int i = 0; i < RPC_HIST_BUCKETS; i++) {
    if (dur_us <= bucket_us[i]) {
      bump(&c->bucket[i], 1);
      break;
    }
  }
  bump(&c->sum_us, (uint64_t)dur_us);
  bump(&c->count, 1);
}

/* A label value: backslash, double quote and newline escaped. */
static void add_label(struct evbuffer *out, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      evbuffer_add_printf(out, "\\%c", *v);
    else if (*v == '\n')
      evbuffer_add(out, "\\n", 2);
    else
      evbuffer_add(out, v, 1);
  }
}

static void render(rpc_server *s, struct evbuffer *out) {
  size_t rows = s->n_routes + 1;
  rpc_counters *sum = calloc(rows, sizeof(*sum));
  if (!sum) return;
  for (int li = 0; li < s->n_loops; li++) {
    rpc_counters *lc = s->loops[li].counters;
    if (!lc) continue;
    for (size_t r = 0; r < rows; r++) {
      for (int k = 0; k < 17; k++) bump(&sum[r].calls[k], get(&lc[r].calls[k]));
      for (int k = 0; k < RPC_HIST_BUCKETS; k++) bump(&sum[r].bucket[k], get(&lc[r].bucket[k]));
      bump(&sum[r].sum_us, get(&lc[r].sum_us));
      bump(&sum[r].count, get(&lc[r].count));
    }
  }
  evbuffer_add_printf(out, "# HELP registry_rpc_calls_total RPCs completed, by method and status code.\n"
                           "# TYPE registry_rpc_calls_total counter\n");
  for (size_t r = 0; r < rows; r++) {
    const char *method = r < s->n_routes ? s->routes[r].path : "unknown";
    for (int k = 0; k < 17; k++) {
      uint64_t v = get(&sum[r].calls[k]);
      if (!v) continue;
      evbuffer_add_printf(out, "registry_rpc_calls_total{method=\"");
      add_label(out, method);
      evbuffer_add_printf(out, "\",code=\"%s\"} %llu\n", rpc_code_name((rpc_code)k),
                          (unsigned long long)v);
    }
  }
  evbuffer_add_printf(out, "# HELP registry_rpc_duration_seconds RPC latency from request headers to status.\n"
                           "# TYPE registry_rpc_duration_seconds histogram\n");
  for (size_t r = 0; r < rows; r++) {
    uint64_t count = get(&sum[r].count);
    if (!count) continue;
    const char *method = r < s->n_routes ? s->routes[r].path : "unknown";
    uint64_t cum = 0;
    for (int k = 0; k < RPC_HIST_BUCKETS; k++) {
      cum += get(&sum[r].bucket[k]);
      evbuffer_add_printf(out, "registry_rpc_duration_seconds_bucket{method=\"");
      add_label(out, method);
      evbuffer_add_printf(out, "\",le=\"%s\"} %llu\n", bucket_le[k], (unsigned long long)cum);
    }
    evbuffer_add_printf(out, "registry_rpc_duration_seconds_bucket{method=\"");
    add_label(out, method);
    evbuffer_add_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)count);
    evbuffer_add_printf(out, "registry_rpc_duration_seconds_sum{method=\"");
    add_label(out, method);
    evbuffer_add_printf(out, "\"} %.6f\n", (double)get(&sum[r].sum_us) / 1e6);
    evbuffer_add_printf(out, "registry_rpc_duration_seconds_count{method=\"");
    add_label(out, method);
    evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)count);
  }
  evbuffer_add_printf(out, "# HELP registry_worker_queue_depth Calls waiting for a worker.\n"
                           "# TYPE registry_worker_queue_depth gauge\n"
                           "registry_worker_queue_depth %zu\n",
                      rpc_pool_depth(s->pool));
  free(sum);
}

static void on_metrics(struct evhttp_request *req, void *arg) {
  rpc_server *s = arg;
  enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
  if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
    evhttp_send_error(req, 405, "Method Not Allowed");
    return;
  }
  struct evbuffer *out = evbuffer_new();
  if (!out) {
    evhttp_send_error(req, 500, "Internal Server Error");
    return;
  }
  render(s, out);
  if (s->cfg.metrics_extra) s->cfg.metrics_extra(s->cfg.app, out);
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                    "text/plain; version=0.0.4; charset=utf-8");
  evhttp_send_reply(req, 200, "OK", out);
  evbuffer_free(out);
}

static void on_other(struct evhttp_request *req, void *arg) {
  (void)arg;
  evhttp_send_error(req, 404, "Not Found");
}

static void on_mstop(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  event_base_loopbreak(arg);
}

int rpc_metrics_start(rpc_server *s) {
  char host[256];
  const char *spec = s->metrics_str;
  const char *colon = strrchr(spec, ':');
  if (!colon || colon == spec) goto bad;
  size_t hl = (size_t)(colon - spec);
  if (spec[0] == '[') {
    if (hl < 2 || spec[hl - 1] != ']') goto bad;
    spec++;
    hl -= 2;
  }
  if (hl >= sizeof(host)) goto bad;
  memcpy(host, spec, hl);
  host[hl] = 0;
  char *end = NULL;
  long port = strtol(colon + 1, &end, 10);
  if (!end || *end || port < 0 || port > 65535) goto bad;

  s->m_base = event_base_new();
  if (!s->m_base) return REG_ENOMEM;
  s->m_http = evhttp_new(s->m_base);
  s->m_stop = event_new(s->m_base, -1, 0, on_mstop, s->m_base);
  if (!s->m_http || !s->m_stop) return REG_ENOMEM;
  evhttp_set_allowed_methods(s->m_http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
  evhttp_set_cb(s->m_http, "/metrics", on_metrics, s);
  evhttp_set_gencb(s->m_http, on_other, s);
  if (!evhttp_bind_socket_with_handle(s->m_http, host, (ev_uint16_t)port)) {
    log_error(NULL, "cannot listen for metrics on %s", s->metrics_str);
    return REG_EIO;
  }
  return 0;
bad:
  log_error(NULL, "bad metrics address %s", s->metrics_str);
  return REG_EINVAL;
}

static void *metrics_main(void *arg) {
  rpc_server *s = arg;
  event_base_loop(s->m_base, EVLOOP_NO_EXIT_ON_EMPTY);
  return NULL;
}

int rpc_metrics_run(rpc_server *s) {
  if (!s->m_base) return 0;
  if (pthread_create(&s->m_thread, NULL, metrics_main, s) != 0) {
    log_error(NULL, "cannot start the metrics thread");
    return REG_EIO;
  }
  s->m_started = 1;
  return 0;
}

void rpc_metrics_stop(rpc_server *s) {
  if (!s->m_started) return;
  event_active(s->m_stop, EV_TIMEOUT, 0);
  pthread_join(s->m_thread, NULL);
  s->m_started = 0;
}

void rpc_metrics_free(rpc_server *s) {
  rpc_metrics_stop(s);
  if (s->m_http) evhttp_free(s->m_http);
  if (s->m_stop) event_free(s->m_stop);
  if (s->m_base) event_base_free(s->m_base);
  s->m_http = NULL;
  s->m_stop = NULL;
  s->m_base = NULL;
}
