/*
 * Fuzz target: HTTP/2 input into one server connection of the real
 * transport (services/rpc/session.c, stream.c, health.c, reflection.c,
 * wire.c, utf8.c, rpc_status.c).
 *
 * White-box: there is no public way to hand the transport a connection
 * without a listener, so this target includes the private
 * services/rpc/rpc_internal.h. Once, it builds an rpc_server (one loop,
 * one worker, listening on an ephemeral loopback port that nobody connects
 * to) with a tiny method table; per input it makes a socketpair, gives one
 * end to rpc_session_accept on loop 0 and drives that loop's event_base
 * itself with EVLOOP_NONBLOCK passes (rpc_server_run is never called),
 * writing the input to the other end and reading and discarding what the
 * server answers.
 *
 * Input: [0] the write size (0: everything in one write), [1..] what the
 * client sends after its connection preface (which the target sends
 * first: nghttp2 is not instrumented, so the fuzzer would never find it).
 * Then the client end is closed and the loop runs until the session is
 * gone. Properties: no crash, no sanitizer report, no leak (every stream
 * and session is torn down), and the session always ends.
 *
 * Methods: a unary worker method that needs a key (bearer "good" passes),
 * one that does not and validates its request, and a loop-owned bidi echo;
 * plus the built-in health and reflection.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "registry/v1/org.pb-c.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"
#include "tests/fuzz/fuzz.h"

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define MAX_PASSES 4000

static rpc_server *server;
static char lock_dir[64];

/* ------------------------------------------------------------ methods */

static int authorize(rpc_call *c) {
  if (c->bearer && strcmp(c->bearer, "good") == 0) {
    c->authenticated = 1;
    snprintf(c->caller.org_id, sizeof(c->caller.org_id), "org-1");
  }
  if (c->method->needs_key && !c->authenticated)
    return rpc_fail(&c->status, RPC_UNAUTHENTICATED, "bad key");
  return 0;
}

static int who_am_i(rpc_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req;
  Registry__V1__WhoAmIResponse *r = arena_alloc(c->arena, sizeof(*r));
  if (!r) return rpc_fail(&c->status, RPC_RESOURCE_EXHAUSTED, "arena");
  registry__v1__who_am_iresponse__init(r);
  *resp = &r->base;
  return 0;
}

static int create_org(rpc_call *c, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Registry__V1__CreateOrganizationRequest *q = (const void *)req;
  int rv = -1;
  if (!q->name[0]) {
    rpc_fail_field(&c->status, "name", "required");
  } else if (q->n_roles == 0) {
    rpc_fail_reason(&c->status, RPC_FAILED_PRECONDITION, "NO_ROLES", "no roles for %s",
                    q->name);
    rpc_status_add_meta(&c->status, "name", q->name);
  } else if (q->n_roles > 3) {
    rpc_fail(&c->status, RPC_RESOURCE_EXHAUSTED, "too many roles");
    rpc_status_set_retry(&c->status, 1500);
  } else {
    Registry__V1__CreateOrganizationResponse *r = arena_alloc(c->arena, sizeof(*r));
    if (r) {
      registry__v1__create_organization_response__init(r);
      r->api_key = arena_strdup(c->arena, q->name);
      if (r->api_key) {
        *resp = &r->base;
        rv = 0;
      }
    }
    if (rv != 0) rpc_fail(&c->status, RPC_RESOURCE_EXHAUSTED, "arena");
  }
  return rv;
}

/* A loop-owned bidi echo: every message goes back; half-close ends OK,
 * unless a message named "fail" asked for an error. */
static void echo_on_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  (void)state;
  const Registry__V1__CreateOrganizationRequest *q = (const void *)msg;
  if (strcmp(q->name, "fail") == 0) {
    rpc_status st;
    rpc_status_init(&st);
    rpc_fail_field(&st, "name", "asked to fail");
    rpc_stream_finish(s, &st);
    return;
  }
  if (rpc_stream_send(s, msg) != 0) rpc_stream_finish(s, NULL);
}

static void echo_on_half_close(rpc_stream *s, void *state) {
  (void)state;
  rpc_stream_finish(s, NULL);
}

static void echo_on_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)state;
  (void)why;
}

static const rpc_stream_ops echo_ops = {
    .on_message = echo_on_message,
    .on_half_close = echo_on_half_close,
    .on_close = echo_on_close,
};

static const rpc_method methods[] = {
    {.path = "/registry.v1.OrgService/WhoAmI",
     .input = &registry__v1__who_am_irequest__descriptor,
     .output = &registry__v1__who_am_iresponse__descriptor,
     .kind = RPC_KIND_UNARY, .unary = who_am_i, .needs_key = 1},
    {.path = "/registry.v1.OrgService/CreateOrganization",
     .input = &registry__v1__create_organization_request__descriptor,
     .output = &registry__v1__create_organization_response__descriptor,
     .kind = RPC_KIND_UNARY, .unary = create_org},
    {.path = "/fuzz.v1.Echo/Chat",
     .input = &registry__v1__create_organization_request__descriptor,
     .output = &registry__v1__create_organization_request__descriptor,
     .kind = RPC_KIND_BIDI, .stream = &echo_ops},
};

/* ------------------------------------------------------------ setup */

static void cleanup(void) {
  rpc_server_free(server);
  server = NULL;
  DIR *d = opendir(lock_dir);
  if (d) {
    struct dirent *e;
    char p[sizeof(lock_dir) + 300];
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      snprintf(p, sizeof(p), "%s/%s", lock_dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(lock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  log_set_threshold(getenv("FUZZ_H2_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
  snprintf(lock_dir, sizeof(lock_dir), "/tmp/fuzz_h2.XXXXXX");
  FUZZ_CHECK(mkdtemp(lock_dir) != NULL);
  rpc_server_config cfg = {
      .listen = "127.0.0.1:0",
      .loops = 1,
      .workers = 1,
      .max_message_bytes = 64 * 1024, /* small, to reach RESOURCE_EXHAUSTED */
      .lock_dir = lock_dir,
      .methods = methods,
      .n_methods = sizeof(methods) / sizeof(methods[0]),
      .authorize = authorize,
  };
  int rv = rpc_server_new(&cfg, &server);
  if (rv != 0) {
    fprintf(stderr, "fuzz_h2: rpc_server_new: %d\n", rv);
    rmdir(lock_dir);
    abort();
  }
  atexit(cleanup);
  return 0;
}

/* ------------------------------------------------------------ one input */

/* Reads and drops what the server wrote; the number of bytes read. */
static size_t drain_client(int fd) {
  uint8_t buf[16384];
  size_t total = 0;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    total += (size_t)n;
  }
  return total;
}

/* One loop pass and a read of the answer; 1 when something happened. */
static int pass(rpc_loop *l, int cfd) {
  event_base_loop(l->base, EVLOOP_NONBLOCK);
  return cfd >= 0 && drain_client(cfd) > 0;
}

/* 1 while a stream of the loop waits for a worker (its call or its
 * authorize): its result will come back through the loop's queue. */
static int worker_pending(rpc_loop *l) {
  if (rpc_pool_depth(server->pool) > 0) return 1;
  for (rpc_session *sess = l->sessions; sess; sess = sess->next)
    for (rpc_stream *s = sess->streams; s; s = s->next)
      if (s->phase == PHASE_WORKER || s->phase == PHASE_AUTH) return 1;
  return 0;
}

/* Passes until the loop is quiet and no stream waits for a worker. */
static void settle(rpc_loop *l, int cfd) {
  int quiet = 0;
  for (int i = 0; i < MAX_PASSES && quiet < 3; i++) {
    int active = pass(l, cfd);
    if (worker_pending(l)) {
      sched_yield();
      quiet = 0;
    } else {
      quiet = active ? 0 : quiet + 1;
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  rpc_loop *l = &server->loops[0];
  int sv[2];
  FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  int cfd = sv[0];
  struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons(40000),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  size_t before = l->n_sessions;
  rpc_session_accept(l, sv[1], (const struct sockaddr *)&peer, (int)sizeof(peer));
  FUZZ_CHECK(l->n_sessions == before + 1);

  /* The preface, then the input, in writes of data[0] bytes. */
  size_t step = data[0] ? data[0] : SIZE_MAX;
  const uint8_t *parts[2] = {(const uint8_t *)PREFACE, data + 1};
  size_t lens[2] = {sizeof(PREFACE) - 1, size - 1};
  int peer_gone = 0;
  for (int k = 0; k < 2 && !peer_gone; k++) {
    size_t off = 0;
    int stuck = 0;
    while (off < lens[k]) {
      size_t n = lens[k] - off;
      if (k == 1 && n > step) n = step;
      ssize_t w = write(cfd, parts[k] + off, n);
      if (w > 0) {
        off += (size_t)w;
        stuck = 0;
      } else if (w < 0 && errno == EAGAIN && ++stuck < MAX_PASSES) {
        (void)pass(l, cfd); /* let the server read */
        continue;
      } else {
        peer_gone = 1; /* the server closed the connection (or never reads) */
        break;
      }
      if (k == 1) (void)pass(l, cfd);
    }
  }
  settle(l, cfd);

  /* The client goes away: the session must end. */
  close(cfd);
  for (int i = 0; i < MAX_PASSES && l->n_sessions > before; i++) {
    (void)pass(l, -1);
    if (worker_pending(l)) sched_yield();
  }
  FUZZ_CHECK(l->n_sessions == before);
  return 0;
}
