/*
 * WatchEvents (log_watch.h): per-stream state machine on the loop, page
 * fetches on workers, and one Redis tail ("hub") per loop.
 *
 * A stream is in one of three states: FETCHING (a worker job is reading the
 * next window of indices), SENDING (rows of the last page wait for flow
 * control), or WAITING (caught up: the next wake-up from the hub, or the
 * poll timer when Redis is down, starts a fetch). Memory per stream is one
 * page (≤ 256 rows) at most.
 */
#include "services/log/log_watch.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/v1/log.pb-c.h"
#include "services/base/arena.h"
#include "services/base/log.h"
#include "services/core/app.h"
#include "services/core/pbtime.h"
#include "storage/redis/kv_async.h"

#define PAGE_WINDOW 256        /* log indices scanned by one fetch */
#define BLOCK_MS 5000          /* XREAD BLOCK; an idle timeout also wakes everyone */
#define POLL_MS 1000           /* Redis down: poll PostgreSQL this often */
#define MAX_LOOPS 256
#define ROLE_INSPECTOR 5

typedef struct hub hub;

typedef struct watch {
  rpc_stream *s;
  hub *hub;
  struct watch *prev, *next; /* in the hub's list */
  int started;
  int fetching;              /* a worker job is out */
  int64_t next_index;        /* the next log index to scan */
  uint64_t types;            /* bit t: type t wanted; 0: all */
  int inspector;
  char org_id[48];
  arena *page;               /* the rows being sent */
  Registry__V1__Event **rows;
  size_t n_rows, sent;
  int more;                  /* the last fetch stopped short of the tree's end */
} watch;

/* ---- the per-loop Redis tail ---- */

struct hub {
  int loop;
  int refs;
  int in_callback;
  int dying;
  kv_async *redis;
  struct event *poll;        /* Redis down: wake everyone every POLL_MS */
  char last_id[64];          /* the stream position read so far */
  watch *watches;
};

static hub *hubs[MAX_LOOPS]; /* slot i is touched only by loop i's thread */

static void fetch(watch *w);

static void wake_all(hub *h) {
  for (watch *w = h->watches; w; w = w->next)
    if (w->started && !w->fetching && w->sent == w->n_rows) fetch(w);
}

static void hub_read(hub *h);

static void hub_free(hub *h) {
  hubs[h->loop] = NULL;
  h->dying = 1;
  kv_async_free(h->redis); /* its pending callback runs now, sees dying */
  if (h->poll) event_free(h->poll);
  free(h);
}

static void on_poll(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  hub *h = arg;
  wake_all(h);
  hub_read(h); /* try Redis again */
}

static void arm_poll(hub *h) {
  struct timeval tv = {POLL_MS / 1000, (POLL_MS % 1000) * 1000};
  if (h->poll) event_add(h->poll, &tv);
}

/* The reply of XREAD BLOCK: an array [[key, [[id, fields], …]]], or nil on
 * timeout. Remember the last id, wake the watchers, read again. */
static void on_xread(kv_async *c, int status, struct redisReply *reply, void *arg) {
  (void)c;
  hub *h = arg;
  if (h->dying) return;
  h->in_callback = 1;
  if (status != 0) {
    /* Redis down or slow: poll PostgreSQL until it is back */
    wake_all(h);
    arm_poll(h);
  } else {
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
      redisReply *stream = reply->element[0];
      if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2) {
        redisReply *entries = stream->element[1];
        if (entries->type == REDIS_REPLY_ARRAY && entries->elements > 0) {
          redisReply *last = entries->element[entries->elements - 1];
          if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1 &&
              last->element[0]->type == REDIS_REPLY_STRING &&
              last->element[0]->len < sizeof(h->last_id)) {
            memcpy(h->last_id, last->element[0]->str, last->element[0]->len);
            h->last_id[last->element[0]->len] = 0;
          }
        }
      }
    }
    /* new entries, or BLOCK_MS of quiet (a safety net): look */
    wake_all(h);
    hub_read(h);
  }
  h->in_callback = 0;
  if (h->refs == 0) hub_free(h);
}

static void hub_read(hub *h) {
  if (h->dying) return;
  char block[16];
  snprintf(block, sizeof(block), "%d", BLOCK_MS);
  const char *argv[] = {"XREAD", "BLOCK", block, "STREAMS", LOG_WATCH_STREAM_KEY, h->last_id};
  if (kv_async_command(h->redis, BLOCK_MS + 2000, on_xread, h, 6, argv, NULL) != 0) arm_poll(h);
}

static hub *hub_get(rpc_stream *s) {
  int loop = rpc_stream_loop_index(s);
  if (loop < 0 || loop >= MAX_LOOPS) return NULL;
  if (hubs[loop]) {
    hubs[loop]->refs++;
    return hubs[loop];
  }
  reg_app *app = rpc_stream_app(s);
  hub *h = calloc(1, sizeof(*h));
  if (!h) return NULL;
  h->loop = loop;
  h->refs = 1;
  snprintf(h->last_id, sizeof(h->last_id), "$");
  h->redis = kv_async_new(rpc_stream_base(s), app->cfg.redis, app->cfg.redis_timeout_ms);
  h->poll = evtimer_new(rpc_stream_base(s), on_poll, h);
  if (!h->redis || !h->poll) {
    kv_async_free(h->redis);
    if (h->poll) event_free(h->poll);
    free(h);
    return NULL;
  }
  hubs[loop] = h;
  hub_read(h);
  return h;
}

static void hub_put(hub *h) {
  if (--h->refs == 0 && !h->in_callback) hub_free(h);
}

/* ---- page fetches on a worker ---- */

typedef struct page_job {
  int64_t from;
  uint64_t types;
  int inspector;
  char org_id[48];
  int err;
  int64_t scanned_to; /* the window read: [from, scanned_to) */
  int more;           /* the tree goes on past scanned_to */
  arena *a;
  Registry__V1__Event **rows;
  size_t n;
} page_job;

static char *dupv(arena *a, const PGresult *r, int row, int col) {
  const char *v = pg_val(r, row, col);
  return arena_strdup(a, v ? v : "");
}


static void page_work(void *worker, void *app_, void *arg) {
  (void)app_;
  page_job *j = arg;
  pg_conn *pg = ((reg_worker *)worker)->pg;
  PGresult *r = NULL;
  int rv = pg_set_statement_timeout(pg, 10000);
  if (rv == 0) rv = pg_query(pg, "SELECT tree_size FROM log_state", NULL, &r);
  if (rv != 0) {
    j->err = rv;
    return;
  }
  int64_t size = pg_int(r, 0, 0);
  PQclear(r);
  int64_t end = j->from + PAGE_WINDOW < size ? j->from + PAGE_WINDOW : size;
  j->scanned_to = end > j->from ? end : j->from;
  j->more = end < size;
  if (end <= j->from) return;

  char types[PG_BITS_ARRAY_MAX];
  pg_bits_array(j->types, types);
  pg_params p;
  pg_params_init(&p);
  pg_params_int(&p, j->from);
  pg_params_int(&p, end);
  pg_params_bool(&p, j->inspector);
  pg_params_text(&p, j->org_id);
  pg_params_text(&p, j->types ? types : NULL);
  rv = pg_query(pg,
                "SELECT l.log_index, e.event_id, e.type, "
                PG_US("e.created_at") ", e.organization_id, e.item_id, "
                "e.listing_id, e.subject_id, e.certificate_id, e.invoice_id, e.leaf "
                "FROM log_entries l JOIN events e ON e.id = l.event_row "
                "WHERE l.log_index >= $1 AND l.log_index < $2 "
                "AND ($5::int[] IS NULL OR e.type = ANY ($5::int[])) "
                /* visibility (SPEC §4.6): the acting organization; the
                 * platform of the listing the event names; a platform that
                 * had an open listing of the item the event names when it
                 * was appended (a listing is open from created_at to
                 * closed_at, both written with the transaction time events
                 * use) */
                "AND ($3::bool OR e.organization_id = $4 "
                "  OR (e.listing_id IS NOT NULL AND EXISTS (SELECT 1 FROM listings x "
                "      WHERE x.id = e.listing_id AND x.platform_id = $4)) "
                "  OR (e.item_id IS NOT NULL AND EXISTS (SELECT 1 FROM listings x "
                "      WHERE x.item_id = e.item_id AND x.platform_id = $4 "
                "      AND x.created_at <= e.created_at "
                "      AND (x.closed_at IS NULL OR x.closed_at >= e.created_at)))) "
                "ORDER BY l.log_index",
                &p, &r);
  if (rv != 0) {
    j->err = rv;
    return;
  }
  int rows = PQntuples(r);
  j->a = arena_new(0);
  j->rows = j->a ? arena_calloc(j->a, (size_t)rows + 1, sizeof(*j->rows)) : NULL;
  for (int i = 0; j->rows && i < rows; i++) {
    Registry__V1__Event *e = arena_alloc(j->a, sizeof(*e));
    Google__Protobuf__Timestamp *at = arena_alloc(j->a, sizeof(*at));
    uint8_t *leaf = arena_alloc(j->a, (size_t)PQgetlength(r, i, 10) + 1);
    if (!e || !at || !leaf) {
      j->rows = NULL;
      break;
    }
    registry__v1__event__init(e);
    google__protobuf__timestamp__init(at);
    pbtime_set(at, pg_int(r, i, 3));
    e->log_index = pg_int(r, i, 0);
    e->event_id = dupv(j->a, r, i, 1);
    e->type = (Registry__V1__EventType)pg_int(r, i, 2);
    e->at = at;
    e->organization_id = dupv(j->a, r, i, 4);
    e->item_id = dupv(j->a, r, i, 5);
    e->listing_id = dupv(j->a, r, i, 6);
    e->subject_id = dupv(j->a, r, i, 7);
    e->certificate_id = dupv(j->a, r, i, 8);
    e->invoice_id = dupv(j->a, r, i, 9);
    long n = pg_bytea(r, i, 10, leaf, (size_t)PQgetlength(r, i, 10) + 1);
    if (n < 0 || !e->event_id || !e->organization_id || !e->invoice_id) {
      j->rows = NULL;
      break;
    }
    e->leaf.data = leaf;
    e->leaf.len = (size_t)n;
    j->rows[i] = e;
  }
  PQclear(r);
  if (!j->rows) {
    j->err = REG_ENOMEM;
    return;
  }
  j->n = (size_t)rows;
}

static void end_with(rpc_stream *s, rpc_code code, const char *msg) {
  rpc_status st;
  rpc_status_init(&st);
  (void)rpc_fail(&st, code, "%s", msg);
  rpc_stream_finish(s, &st);
}

static void send_rows(watch *w);

static void page_done(rpc_stream *s, void *state, void *arg) {
  page_job *j = arg;
  watch *w = state;
  if (!s || !w) { /* the call ended meanwhile */
    arena_free(j->a);
    free(j);
    return;
  }
  w->fetching = 0;
  int err = j->err;
  if (err) {
    arena_free(j->a);
    free(j);
    if (err == REG_EUNAVAIL || err == REG_ETIMEDOUT) {
      /* PostgreSQL down: stay, the hub's poll or next wake-up retries */
      arm_poll(w->hub);
      return;
    }
    end_with(s, RPC_INTERNAL, "internal error reading the log");
    return;
  }
  arena_free(w->page);
  w->page = j->a;
  w->rows = j->rows;
  w->n_rows = j->n;
  w->sent = 0;
  w->more = j->more;
  w->next_index = j->scanned_to;
  free(j);
  send_rows(w);
}

static void fetch(watch *w) {
  page_job *j = calloc(1, sizeof(*j));
  if (!j) {
    end_with(w->s, RPC_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  j->from = w->next_index;
  j->types = w->types;
  j->inspector = w->inspector;
  memcpy(j->org_id, w->org_id, sizeof(j->org_id));
  if (rpc_stream_run_on_worker(w->s, page_work, page_done, j) != 0) {
    free(j); /* queue full or draining: the next wake-up tries again */
    arm_poll(w->hub);
    return;
  }
  w->fetching = 1;
}

/* Sends what flow control allows; fetches the next window when the page is
 * out and the tree goes on. */
static void send_rows(watch *w) {
  while (w->sent < w->n_rows && rpc_stream_room(w->s) > 0) {
    Registry__V1__WatchEventsResponse r = REGISTRY__V1__WATCH_EVENTS_RESPONSE__INIT;
    r.event = w->rows[w->sent];
    if (rpc_stream_send(w->s, &r.base) != 0) break;
    w->sent++;
  }
  if (w->sent < w->n_rows) {
    rpc_stream_resume(w->s); /* on_writable continues */
    return;
  }
  arena_free(w->page);
  w->page = NULL;
  w->rows = NULL;
  w->n_rows = w->sent = 0;
  if (w->more && !w->fetching) fetch(w);
  /* else caught up: the hub wakes us */
}

/* ---- the stream callbacks ---- */

static int on_open(rpc_stream *s, void **state, rpc_status *st) {
  rpc_call *call = rpc_stream_call(s);
  if (!call || !call->authenticated) return rpc_fail(st, RPC_UNAUTHENTICATED, "missing API key");
  watch *w = calloc(1, sizeof(*w));
  if (!w) return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  w->s = s;
  w->inspector = (call->caller.roles >> ROLE_INSPECTOR) & 1u;
  snprintf(w->org_id, sizeof(w->org_id), "%s", call->caller.org_id);
  w->hub = hub_get(s);
  if (!w->hub) {
    free(w);
    return rpc_fail(st, RPC_RESOURCE_EXHAUSTED, "out of memory");
  }
  w->next = w->hub->watches;
  if (w->next) w->next->prev = w;
  w->hub->watches = w;
  *state = w;
  return 0;
}

static void on_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  watch *w = state;
  const Registry__V1__WatchEventsRequest *req = (const void *)msg;
  if (w->started) return; /* server streaming: one request */
  rpc_status st;
  rpc_status_init(&st);
  if (req->from_index < 0) {
    (void)rpc_fail_field(&st, "from_index", "from_index must not be negative");
    rpc_stream_finish(s, &st);
    return;
  }
  for (size_t i = 0; i < req->n_types; i++) {
    int t = (int)req->types[i];
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&registry__v1__event_type__descriptor, t);
    if (t <= 0 || t >= 64 || !v) {
      (void)rpc_fail_field(&st, "types", "types must be known event types");
      rpc_stream_finish(s, &st);
      return;
    }
    w->types |= 1ull << t;
  }
  w->next_index = req->from_index;
  w->started = 1;
  rpc_stream_resume(s); /* the response headers go out now */
  fetch(w);
}

static void on_writable(rpc_stream *s, void *state) {
  (void)s;
  watch *w = state;
  if (w && w->started && w->sent < w->n_rows) send_rows(w);
}

static void on_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)why;
  watch *w = state;
  if (!w) return;
  hub *h = w->hub;
  if (w->prev) w->prev->next = w->next;
  else h->watches = w->next;
  if (w->next) w->next->prev = w->prev;
  arena_free(w->page);
  free(w);
  hub_put(h);
}

const rpc_stream_ops log_watch_ops = {
    .on_open = on_open,
    .on_message = on_message,
    .on_writable = on_writable,
    .on_close = on_close,
};
