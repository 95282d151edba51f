/*
 * grpc.health.v1.Health, answered on the loop with no key.
 *
 * The services known to health are "" (the server as a whole) and every
 * service that has a method in the table, the built-in ones included
 * ("grpc.health.v1.Health", the reflection services). They all share one
 * state: SERVING while rpc_server_set_serving says so and no drain is
 * under way, else NOT_SERVING.
 *
 * Check answers that state, or NOT_FOUND for an unknown service (as the
 * reference implementations do). Watch sends the state at once and then
 * every change; for an unknown service it sends SERVICE_UNKNOWN and stays
 * open, since the service might appear (it will not here, but that is the
 * protocol's contract). Each loop keeps its own list of Watch streams;
 * rpc_server_set_serving and the drain wake every loop (serving_ev,
 * drain_ev), which calls rpc_health_broadcast on its own thread, so the
 * list needs no lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

#define SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
#define SERVICE_UNKNOWN GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN
#define MAX_SERVICE_NAME 256

struct rpc_health_watch {
  rpc_stream *s;
  rpc_loop *loop;
  int started; /* the request arrived */
  int known;
  int last;    /* status last sent; -1 none */
  rpc_health_watch *prev, *next;
};

static int current(const rpc_server *srv) {
  return rpc_server_serving(srv) ? SERVING : NOT_SERVING;
}

static int send_status(rpc_stream *s, int status) {
  Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  r.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
  return rpc_stream_send(s, &r.base);
}

/* ------------------------------------------------------------ Check */

static void check_on_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  (void)state;
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)msg;
  rpc_server *srv = s->loop->srv;
  if (!rpc_server_has_service(srv, req->service)) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_NOT_FOUND, "unknown service %.200s", req->service);
    rpc_stream_finish(s, &st);
    return;
  }
  if (send_status(s, current(srv)) != 0) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_RESOURCE_EXHAUSTED, "cannot queue the response");
    rpc_stream_finish(s, &st);
    return;
  }
  rpc_stream_finish(s, NULL);
}

static void check_on_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)state;
  (void)why;
}

const rpc_stream_ops rpc_health_check_ops = {
    .on_message = check_on_message,
    .on_close = check_on_close,
};

/* ------------------------------------------------------------ Watch */

static int watch_on_open(rpc_stream *s, void **state, rpc_status *st) {
  rpc_health_watch *w = calloc(1, sizeof(*w));
  if (!w) return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  w->s = s;
  w->loop = s->loop;
  w->last = -1;
  w->next = w->loop->watches;
  if (w->next) w->next->prev = w;
  w->loop->watches = w;
  *state = w;
  return 0;
}

static void watch_on_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  rpc_health_watch *w = state;
  const Grpc__Health__V1__HealthCheckRequest *req =
      (const Grpc__Health__V1__HealthCheckRequest *)msg;
  w->started = 1;
  w->known = rpc_server_has_service(s->loop->srv, req->service);
  int status = w->known ? current(s->loop->srv) : SERVICE_UNKNOWN;
  if (send_status(s, status) != 0) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_RESOURCE_EXHAUSTED, "cannot queue the response");
    rpc_stream_finish(s, &st);
    return;
  }
  w->last = status;
}

static void unlink_watch(rpc_health_watch *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    w->loop->watches = w->next;
  if (w->next) w->next->prev = w->prev;
}

static void watch_on_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)why;
  rpc_health_watch *w = state;
  if (!w) return;
  unlink_watch(w);
  free(w);
}

const rpc_stream_ops rpc_health_watch_ops = {
    .on_open = watch_on_open,
    .on_message = watch_on_message,
    .on_close = watch_on_close,
};

void rpc_health_broadcast(rpc_loop *l) {
  int status = current(l->srv);
  if (status == l->health_sent && !l->draining) return;
  l->health_sent = status;
  size_t n = 0;
  for (rpc_health_watch *w = l->watches; w; w = w->next) {
    if (!w->started || !w->known || w->last == status) continue;
    if (send_status(w->s, status) == 0) {
      w->last = status;
      n++;
    }
  }
  if (n) log_debug(NULL, "loop %d: health %s sent to %zu watchers", l->index,
                   status == SERVING ? "SERVING" : "NOT_SERVING", n);
}

void rpc_health_close_all(rpc_loop *l) {
  while (l->watches) {
    rpc_health_watch *w = l->watches;
    unlink_watch(w);
    free(w);
  }
}
