/*
 * grpc_load: a lean gRPC unary load generator for the benchmarks.
 *
 * The listing benchmark (tests/bench/README.md) compares registryd's
 * CreateListing with pgbench running the same SQL on the same two cores;
 * the Python grpcio client cost more CPU per call than pgbench does, so it
 * took its share of the machine away from the server. This client does as
 * little as a gRPC client can: the request messages are serialized before
 * the run (FILE: each a 4-byte big-endian length and the message), and a
 * call is one HEADERS frame, one DATA frame made of the byte 0 and that
 * length and message (the length is already the gRPC prefix's), and the
 * reading of the response and its trailers.
 *
 *   grpc_load --addr HOST:PORT --path /pkg.Service/Method --bodies FILE
 *             --connections C --streams S --seconds T [--warmup W]
 *             [--keys KEYFILE] [--deadline D]
 *
 * Plain HTTP/2 with prior knowledge (h2c) on nghttp2's client API; one
 * thread, poll(), non-blocking sockets; per connection one nghttp2 session
 * whose output goes through nghttp2_session_mem_send into a bounded buffer.
 * Every connection keeps S calls in flight; each call takes the next body
 * (each is used once) and, with KEYFILE, connection i sends
 * `authorization: Bearer <key i mod n>`. With --deadline (default 30 s, 0:
 * none) every call carries grpc-timeout, as grpcio's timeout=30 did.
 *
 * Counting: a call counts when its trailers (or its failure) arrive inside
 * the measured window, which starts W seconds after the connections and
 * lasts T seconds; calls ending during the warm-up are counted apart and
 * calls still running at the end are let finish (10 s at most) but not
 * counted. OK means grpc-status 0 and exactly one uncompressed message;
 * anything else is an error keyed by its grpc-status number, "http_<code>"
 * (no grpc-status), "rst_<h2 error>" (the stream was reset),
 * "conn_lost" (its connection ended), "no_grpc_status" or
 * "malformed_response". Latency, submit to trailers, is of the OK calls.
 * When the bodies run out, no call is started any more; the run ends when
 * the last one finishes and says so. GOAWAY and connection failures are
 * reported on stderr and in "connection_errors"; the connection is not
 * reopened.
 *
 * stderr carries the lines "grpc_load: measuring" and "grpc_load: window
 * over" when the window opens and closes (listing_bench.py samples the
 * servers' CPU on them); stdout one JSON line at the end. Exit status: 0
 * when every counted call was OK and no connection failed, 1 otherwise, 2
 * on a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#define MAX_CONNECTIONS 1024
#define MAX_STREAMS 1024
#define MAX_MESSAGE (4u << 20)              /* one body: gRPC's default maximum */
#define MAX_FILE ((size_t)2 << 30)          /* the bodies file */
#define MAX_KEYS 65536
#define MAX_KEY_LEN 1024
#define MAX_ERROR_KINDS 64
#define MAX_CONN_ERROR_KINDS 16
#define OUT_FILL 32768                      /* serialize until this much is pending */
#define OUT_MAX (1u << 20)                  /* a connection's pending output, hard cap */
#define READ_CHUNK 65536
#define READS_PER_TURN 8
#define DRAIN_NS (10 * NS)                  /* calls running at the end: let finish */
#define NS 1000000000LL

typedef struct load load;
typedef struct conn conn;

/* One call: a slot of its connection, reused. */
typedef struct call {
  conn *c;
  int32_t stream_id; /* 0: the slot is free */
  size_t body;       /* index into load.offs */
  size_t sent;       /* bytes of the 5-byte-prefixed message handed to nghttp2 */
  int64_t t_submit;
  int64_t t_end; /* trailers (or failure) arrived; 0 until then */
  int http_status;
  int grpc_status; /* -1 until seen */
  uint8_t prefix[5];
  uint64_t resp_bytes;
} call;

struct conn {
  load *L;
  int id;
  int fd;
  nghttp2_session *h2;
  call *calls; /* S slots */
  int in_flight;
  int goaway;   /* GOAWAY received: no new calls */
  int failed;   /* set in a callback; closed by the main loop */
  int closed;
  const char *auth; /* "Bearer <key>" or NULL; owned by load */
  size_t auth_len;
  uint8_t *out; /* pending output, out_off..out_len not yet written */
  size_t out_len, out_off, out_cap;
};

typedef struct {
  char key[40];
  uint64_t n;
} error_kind;

struct load {
  /* options */
  const char *addr, *path, *bodies_file, *keys_file;
  char host[256], port[16];
  int connections, streams;
  double seconds, warmup, deadline;
  char timeout_hdr[24];
  /* input */
  uint8_t *file;
  size_t file_len;
  size_t *offs; /* offset of each body's 4-byte length in file */
  size_t nbodies, next_body;
  char **auth;
  size_t nkeys;
  /* state */
  conn *conns;
  int64_t t_start, t_measure, t_stop, t_window_end, t_drain_end;
  int measuring, window_over, stopping, ran_out, ran_out_reported;
  /* results */
  uint64_t calls, ok, warmup_calls, warmup_errors, late_calls, unfinished;
  error_kind errors[MAX_ERROR_KINDS];
  int nerrors;
  error_kind conn_errors[MAX_CONN_ERROR_KINDS];
  int nconn_errors;
  uint64_t *lat_ns; /* one per OK call in the window; at most nbodies */
  size_t nlat;
  double cpu0, cpu_s;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static double cpu_self_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("grpc_load: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  fflush(stderr);
  va_end(ap);
}

/* kinds[0..*n) of at most max; once max - 1 are taken, the last is "other". */
static void count_kind(error_kind *kinds, int *n, int max, const char *key) {
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < *n; i++)
      if (strcmp(kinds[i].key, key) == 0) {
        kinds[i].n++;
        return;
      }
    if (*n < max - 1) break;
    key = "other";
  }
  snprintf(kinds[*n].key, sizeof(kinds[*n].key), "%s", key);
  kinds[*n].n = 1;
  (*n)++;
}

static void conn_error(conn *c, const char *kind, const char *detail) {
  say("connection %d: %s%s%s", c->id, kind, detail ? ": " : "", detail ? detail : "");
  count_kind(c->L->conn_errors, &c->L->nconn_errors, MAX_CONN_ERROR_KINDS, kind);
}

/* conn_error, and the connection is done for: -1. */
static int conn_fail(conn *c, const char *kind, const char *detail) {
  conn_error(c, kind, detail);
  c->failed = 1;
  return -1;
}

/* ------------------------------------------------------------ calls */

/* The call is over: its outcome (error key or NULL for OK) is counted in
 * the window it ended in, and its slot freed. */
static void call_finish(call *k, const char *err_key) {
  conn *c = k->c;
  load *L = c->L;
  int64_t t = k->t_end ? k->t_end : now_ns();
  char key[40];
  if (!err_key) {
    if (k->grpc_status > 0) {
      snprintf(key, sizeof(key), "%d", k->grpc_status);
      err_key = key;
    } else if (k->grpc_status == 0) {
      uint32_t len = (uint32_t)k->prefix[1] << 24 | (uint32_t)k->prefix[2] << 16 |
                     (uint32_t)k->prefix[3] << 8 | k->prefix[4];
      if (k->resp_bytes < 5 || k->prefix[0] != 0 || k->resp_bytes != 5 + (uint64_t)len)
        err_key = "malformed_response";
    } else if (k->http_status != 200 && k->http_status != 0) {
      snprintf(key, sizeof(key), "http_%d", k->http_status);
      err_key = key;
    } else {
      err_key = "no_grpc_status";
    }
  }
  if (t < L->t_measure) {
    L->warmup_calls++;
    if (err_key) L->warmup_errors++;
  } else if (t >= (L->window_over ? L->t_window_end : L->t_stop)) {
    L->late_calls++;
  } else {
    L->calls++;
    if (err_key) {
      count_kind(L->errors, &L->nerrors, MAX_ERROR_KINDS, err_key);
    } else {
      L->ok++;
      if (L->nlat < L->nbodies) L->lat_ns[L->nlat++] = (uint64_t)(t - k->t_submit);
    }
  }
  k->stream_id = 0;
  c->in_flight--;
}

static ssize_t on_body_read(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
  (void)h2;
  (void)stream_id;
  load *L = ((conn *)user_data)->L;
  call *k = source->ptr;
  const uint8_t *lenp = L->file + L->offs[k->body]; /* 4-byte length, then the message */
  size_t msg = (size_t)lenp[0] << 24 | (size_t)lenp[1] << 16 | (size_t)lenp[2] << 8 | lenp[3];
  size_t total = 5 + msg, n = 0;
  if (length == 0) return 0;
  if (k->sent == 0) { /* the compressed-flag byte */
    buf[n++] = 0;
    k->sent = 1;
  }
  size_t take = total - k->sent;
  if (take > length - n) take = length - n;
  memcpy(buf + n, lenp + (k->sent - 1), take);
  k->sent += take;
  n += take;
  if (k->sent == total) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

#define NV(n, v, vl)                                                                       \
  ((nghttp2_nv){(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl),                       \
                NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE})

/* Starts a call on a free slot of c with the next body. 0, or -1 when c
 * failed (nghttp2 refused the request). */
static int call_start(conn *c, call *k) {
  load *L = c->L;
  nghttp2_nv hdrs[9];
  size_t n = 0;
  hdrs[n++] = NV(":method", "POST", 4);
  hdrs[n++] = NV(":scheme", "http", 4);
  hdrs[n++] = NV(":path", L->path, strlen(L->path));
  hdrs[n++] = NV(":authority", L->addr, strlen(L->addr));
  hdrs[n++] = NV("content-type", "application/grpc", 16);
  hdrs[n++] = NV("te", "trailers", 8);
  hdrs[n++] = NV("user-agent", "grpc_load/1", 11);
  if (L->timeout_hdr[0]) hdrs[n++] = NV("grpc-timeout", L->timeout_hdr, strlen(L->timeout_hdr));
  if (c->auth) hdrs[n++] = NV("authorization", c->auth, c->auth_len);

  memset(k, 0, sizeof(*k));
  k->c = c;
  k->body = L->next_body;
  k->grpc_status = -1;
  nghttp2_data_provider dp = {.source = {.ptr = k}, .read_callback = on_body_read};
  int32_t id = nghttp2_submit_request(c->h2, NULL, hdrs, n, &dp, k);
  if (id < 0) {
    return conn_fail(c, "submit_failed", nghttp2_strerror(id));
  }
  L->next_body++;
  k->stream_id = id;
  k->t_submit = now_ns();
  c->in_flight++;
  return 0;
}

/* ------------------------------------------------------------ nghttp2 callbacks */
/* The session's user data is the connection, a stream's its call. */

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data) {
  (void)flags;
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  call *k = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
  if (!k) return 0;
  char v[16];
  if (valuelen >= sizeof(v)) valuelen = sizeof(v) - 1;
  if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
    memcpy(v, value, valuelen);
    v[valuelen] = 0;
    k->http_status = atoi(v);
  } else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
    memcpy(v, value, valuelen);
    v[valuelen] = 0;
    char *end = NULL;
    long st = strtol(v, &end, 10);
    k->grpc_status = (end != v && *end == 0 && st >= 0 && st < 1000) ? (int)st : 999;
  }
  return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data) {
  (void)flags;
  (void)user_data;
  call *k = nghttp2_session_get_stream_user_data(h2, stream_id);
  if (!k) return 0;
  for (size_t i = 0; i < len && k->resp_bytes + i < 5; i++) k->prefix[k->resp_bytes + i] = data[i];
  k->resp_bytes += len;
  return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *user_data) {
  conn *c = user_data;
  switch (frame->hd.type) {
  case NGHTTP2_HEADERS: /* trailers, or Trailers-Only */
  case NGHTTP2_DATA:    /* no trailers: counted as no_grpc_status */
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
      call *k = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
      if (k) k->t_end = now_ns();
    }
    break;
  case NGHTTP2_GOAWAY:
    if (!c->goaway) {
      char d[96];
      snprintf(d, sizeof(d), "error %s, last stream %d",
               nghttp2_http2_strerror(frame->goaway.error_code), frame->goaway.last_stream_id);
      conn_error(c, "goaway", d);
    }
    c->goaway = 1;
    break;
  default:
    break;
  }
  return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code,
                           void *user_data) {
  (void)user_data;
  call *k = nghttp2_session_get_stream_user_data(h2, stream_id);
  if (!k || k->stream_id != stream_id) return 0;
  char key[40];
  const char *err = NULL;
  if (error_code != NGHTTP2_NO_ERROR && k->grpc_status < 0) {
    snprintf(key, sizeof(key), "rst_%s", nghttp2_http2_strerror(error_code));
    err = key;
  }
  call_finish(k, err);
  return 0;
}

/* ------------------------------------------------------------ connections */

/* Every path that ends a connection ends here: calls still open fail with
 * conn_lost (or, with abandon, were already counted as unfinished), the
 * session and socket go. Never called from an nghttp2 callback. */
static void conn_close(conn *c, int abandon) {
  if (c->closed) return;
  for (int i = 0; c->calls && i < c->L->streams; i++) {
    if (!c->calls[i].stream_id) continue;
    if (abandon) {
      c->calls[i].stream_id = 0;
      c->in_flight--;
    } else {
      call_finish(&c->calls[i], "conn_lost");
    }
  }
  nghttp2_session_del(c->h2);
  c->h2 = NULL;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = c->out_cap = 0;
  c->closed = 1;
}

static int tcp_connect(load *L, conn *c) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  int rv = getaddrinfo(L->host, L->port, &hints, &res);
  if (rv != 0) {
    say("%s: %s", L->addr, gai_strerror(rv));
    return -1;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    say("connection %d: connect %s: %s", c->id, L->addr, strerror(err));
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    say("connection %d: fcntl: %s", c->id, strerror(errno));
    close(fd);
    return -1;
  }
  c->fd = fd;
  return 0;
}

static int conn_open(load *L, conn *c, int id) {
  nghttp2_session_callbacks *cbs = NULL;
  int rc = -1;
  c->L = L;
  c->id = id;
  c->fd = -1;
  c->calls = calloc((size_t)L->streams, sizeof(call));
  if (!c->calls) goto out;
  if (L->nkeys) {
    c->auth = L->auth[(size_t)id % L->nkeys];
    c->auth_len = strlen(c->auth);
  }
  if (tcp_connect(L, c) != 0) goto out;
  if (nghttp2_session_callbacks_new(&cbs) != 0) goto out;
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  if (nghttp2_session_client_new(&c->h2, cbs, c) != 0) {
    c->h2 = NULL;
    goto out;
  }
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                 {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
    goto out;
  /* a connection window to match, so that 8 responses never wait on it */
  if (nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16 << 20) != 0) goto out;
  rc = 0;
out:
  nghttp2_session_callbacks_del(cbs);
  if (rc != 0 && !c->calls) say("out of memory");
  return rc;
}

/* Serializes what nghttp2 has to send and writes it. 0, or -1 when the
 * connection failed (c->failed set). */
static int conn_flush(conn *c) {
  for (;;) {
    while (c->out_off < c->out_len) {
      ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return conn_fail(c, "io_error", strerror(errno));
      }
      c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    while (c->out_len < OUT_FILL) {
      const uint8_t *data = NULL;
      ssize_t n = nghttp2_session_mem_send(c->h2, &data);
      if (n < 0) {
        return conn_fail(c, "h2_error", nghttp2_strerror((int)n));
      }
      if (n == 0) break;
      if (c->out_len + (size_t)n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 65536;
        while (cap < c->out_len + (size_t)n) cap *= 2;
        if (cap > OUT_MAX) {
          return conn_fail(c, "output_overflow", NULL);
        }
        uint8_t *p = realloc(c->out, cap);
        if (!p) {
          return conn_fail(c, "out_of_memory", NULL);
        }
        c->out = p;
        c->out_cap = cap;
      }
      memcpy(c->out + c->out_len, data, (size_t)n);
      c->out_len += (size_t)n;
    }
    if (c->out_len == 0) return 0;
  }
}

/* Reads what the socket has and feeds nghttp2. 0, or -1 when the
 * connection ended (c->failed set unless the end was expected). */
static int conn_read(conn *c) {
  uint8_t buf[READ_CHUNK];
  for (int i = 0; i < READS_PER_TURN; i++) {
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return conn_fail(c, "io_error", strerror(errno));
    }
    if (n == 0) {
      if (c->in_flight > 0 || !c->L->stopping) {
        conn_error(c, "closed_by_peer", NULL);
        c->failed = 1;
      } else {
        c->goaway = 1; /* nothing lost: close quietly */
      }
      return -1;
    }
    ssize_t used = nghttp2_session_mem_recv(c->h2, buf, (size_t)n);
    if (used < 0) {
      return conn_fail(c, "h2_error", nghttp2_strerror((int)used));
    }
    if ((size_t)n < sizeof(buf)) return 0;
  }
  return 0;
}

/* Keeps S calls in flight while calls may start. */
static void conn_top_up(conn *c) {
  load *L = c->L;
  if (c->closed || c->failed || c->goaway || L->stopping) return;
  for (int i = 0; i < L->streams && c->in_flight < L->streams; i++) {
    if (c->calls[i].stream_id) continue;
    if (L->next_body >= L->nbodies) {
      L->ran_out = 1;
      return;
    }
    if (call_start(c, &c->calls[i]) != 0) return;
  }
}

/* ------------------------------------------------------------ input */

static int read_file(const char *path, uint8_t **data, size_t *len, size_t max) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    say("%s: %s", path, strerror(errno));
    return -1;
  }
  int rc = -1;
  uint8_t *buf = NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    say("%s: %s", path, strerror(errno));
    goto out;
  }
  if ((uint64_t)st.st_size > max) {
    say("%s: larger than %zu bytes", path, max);
    goto out;
  }
  size_t size = (size_t)st.st_size, got = 0;
  buf = malloc(size ? size : 1);
  if (!buf) {
    say("%s: out of memory", path);
    goto out;
  }
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      say("%s: %s", path, n < 0 ? strerror(errno) : "shorter than its size");
      goto out;
    }
    got += (size_t)n;
  }
  *data = buf;
  *len = size;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  close(fd);
  return rc;
}

static int load_bodies(load *L) {
  if (read_file(L->bodies_file, &L->file, &L->file_len, MAX_FILE) != 0) return -1;
  for (int pass = 0; pass < 2; pass++) {
    size_t pos = 0, n = 0;
    while (pos < L->file_len) {
      if (L->file_len - pos < 4) {
        say("%s: truncated length at byte %zu", L->bodies_file, pos);
        return -1;
      }
      const uint8_t *p = L->file + pos;
      size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
      if (len > MAX_MESSAGE) {
        say("%s: body %zu is %zu bytes (limit %u)", L->bodies_file, n, len, MAX_MESSAGE);
        return -1;
      }
      if (L->file_len - pos - 4 < len) {
        say("%s: body %zu truncated", L->bodies_file, n);
        return -1;
      }
      if (pass == 1) L->offs[n] = pos;
      n++;
      pos += 4 + len;
    }
    if (pass == 0) {
      if (n == 0) {
        say("%s: no bodies", L->bodies_file);
        return -1;
      }
      L->nbodies = n;
      L->offs = calloc(n, sizeof(size_t));
      L->lat_ns = calloc(n, sizeof(uint64_t));
      if (!L->offs || !L->lat_ns) {
        say("out of memory for %zu bodies", n);
        return -1;
      }
    }
  }
  return 0;
}

static int load_keys(load *L) {
  uint8_t *data = NULL;
  size_t len = 0;
  if (read_file(L->keys_file, &data, &len, (size_t)MAX_KEYS * (MAX_KEY_LEN + 2)) != 0) return -1;
  int rc = -1;
  L->auth = calloc(MAX_KEYS, sizeof(char *));
  if (!L->auth) {
    say("out of memory");
    goto out;
  }
  for (size_t pos = 0; pos < len;) {
    size_t end = pos;
    while (end < len && data[end] != '\n') end++;
    size_t b = pos, e = end;
    while (b < e && (data[b] == ' ' || data[b] == '\t')) b++;
    while (e > b && (data[e - 1] == '\r' || data[e - 1] == ' ' || data[e - 1] == '\t')) e--;
    if (e > b) {
      if (e - b > MAX_KEY_LEN || L->nkeys == MAX_KEYS) {
        say("%s: key %zu too long, or more than %d keys", L->keys_file, L->nkeys + 1, MAX_KEYS);
        goto out;
      }
      char *v = malloc(7 + (e - b) + 1);
      if (!v) {
        say("out of memory");
        goto out;
      }
      memcpy(v, "Bearer ", 7);
      memcpy(v + 7, data + b, e - b);
      v[7 + (e - b)] = 0;
      L->auth[L->nkeys++] = v;
    }
    pos = end + 1;
  }
  if (L->nkeys == 0) {
    say("%s: no keys", L->keys_file);
    goto out;
  }
  rc = 0;
out:
  explicit_bzero(data, len);
  free(data);
  return rc;
}

/* ------------------------------------------------------------ options */

static void usage(void) {
  fputs("usage: grpc_load --addr HOST:PORT --path /pkg.Service/Method --bodies FILE\n"
        "         --connections C --streams S --seconds T [--warmup W] [--keys KEYFILE]\n"
        "         [--deadline SECONDS]\n"
        "FILE: request messages, each a 4-byte big-endian length and the bytes;\n"
        "KEYFILE: one API key per line (connection i: key i mod n);\n"
        "--deadline: grpc-timeout of every call (default 30, 0: none)\n",
        stderr);
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

static int parse_secs(const char *s, double lo, double hi, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

static int parse_args(load *L, int argc, char **argv) {
  L->connections = L->streams = 0;
  L->seconds = -1;
  L->warmup = 0;
  L->deadline = 30;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) return 1;
    if (i + 1 >= argc) {
      say("%s needs a value", o);
      return -1;
    }
    const char *v = argv[++i];
    int bad = 0;
    if (strcmp(o, "--addr") == 0) L->addr = v;
    else if (strcmp(o, "--path") == 0) L->path = v;
    else if (strcmp(o, "--bodies") == 0) L->bodies_file = v;
    else if (strcmp(o, "--keys") == 0) L->keys_file = v;
    else if (strcmp(o, "--connections") == 0) bad = parse_int(v, 1, MAX_CONNECTIONS, &L->connections);
    else if (strcmp(o, "--streams") == 0) bad = parse_int(v, 1, MAX_STREAMS, &L->streams);
    else if (strcmp(o, "--seconds") == 0) bad = parse_secs(v, 0.001, 86400, &L->seconds);
    else if (strcmp(o, "--warmup") == 0) bad = parse_secs(v, 0, 86400, &L->warmup);
    else if (strcmp(o, "--deadline") == 0) bad = parse_secs(v, 0, 86400, &L->deadline);
    else {
      say("unknown option %s", o);
      return -1;
    }
    if (bad) {
      say("bad value for %s: %s", o, v);
      return -1;
    }
  }
  if (!L->addr || !L->path || !L->bodies_file || !L->connections || !L->streams ||
      L->seconds < 0) {
    say("--addr, --path, --bodies, --connections, --streams and --seconds are required");
    return -1;
  }
  if (L->path[0] != '/') {
    say("--path must start with /");
    return -1;
  }
  /* HOST:PORT, HOST may be [v6] */
  const char *colon = strrchr(L->addr, ':');
  if (!colon || colon == L->addr || !colon[1]) {
    say("--addr must be HOST:PORT");
    return -1;
  }
  const char *h = L->addr;
  size_t hl = (size_t)(colon - L->addr);
  if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
    h++;
    hl -= 2;
  }
  if (hl >= sizeof(L->host) || strlen(colon + 1) >= sizeof(L->port)) {
    say("--addr too long");
    return -1;
  }
  memcpy(L->host, h, hl);
  L->host[hl] = 0;
  snprintf(L->port, sizeof(L->port), "%s", colon + 1);
  if (L->deadline > 0) {
    /* milliseconds: at most 86400000, within grpc-timeout's 8 digits */
    int ms = (int)(L->deadline * 1000 + 0.5);
    if (ms < 1) ms = 1;
    if (ms > 99999999) ms = 99999999;
    snprintf(L->timeout_hdr, sizeof(L->timeout_hdr), "%dm", ms);
  }
  return 0;
}

/* ------------------------------------------------------------ the run */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* nearest rank, as listing_bench.py's pct() */
static double pct_ms(const uint64_t *sorted, size_t n, int p) {
  size_t k = ((size_t)p * n + 99) / 100;
  if (k < 1) k = 1;
  if (k > n) k = n;
  return (double)sorted[k - 1] / 1e6;
}

static void report(load *L) {
  double secs = L->window_over ? (double)(L->t_window_end - L->t_measure) / 1e9 : 0;
  if (secs < 0) secs = 0;
  qsort(L->lat_ns, L->nlat, sizeof(uint64_t), cmp_u64);
  printf("{\"calls\": %" PRIu64 ", \"ok\": %" PRIu64 ", \"errors\": {", L->calls, L->ok);
  for (int i = 0; i < L->nerrors; i++)
    printf("%s\"%s\": %" PRIu64, i ? ", " : "", L->errors[i].key, L->errors[i].n);
  printf("}, \"seconds\": %.3f, \"calls_per_s\": %.1f", secs, secs > 0 ? (double)L->ok / secs : 0.0);
  if (L->nlat)
    printf(", \"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f", pct_ms(L->lat_ns, L->nlat, 50),
           pct_ms(L->lat_ns, L->nlat, 99), (double)L->lat_ns[L->nlat - 1] / 1e6);
  else
    printf(", \"p50_ms\": null, \"p99_ms\": null, \"max_ms\": null");
  printf(", \"bodies_left\": %zu, \"bodies_ran_out\": %s", L->nbodies - L->next_body,
         L->ran_out ? "true" : "false");
  printf(", \"warmup_calls\": %" PRIu64 ", \"warmup_errors\": %" PRIu64 ", \"late_calls\": %" PRIu64
         ", \"unfinished\": %" PRIu64,
         L->warmup_calls, L->warmup_errors, L->late_calls, L->unfinished);
  printf(", \"connection_errors\": {");
  for (int i = 0; i < L->nconn_errors; i++)
    printf("%s\"%s\": %" PRIu64, i ? ", " : "", L->conn_errors[i].key, L->conn_errors[i].n);
  printf("}, \"connections\": %d, \"streams\": %d, \"cpu_s\": %.3f}\n", L->connections, L->streams,
         L->cpu_s);
  fflush(stdout);
}

static void window_close(load *L, int64_t t, const char *why) {
  if (L->window_over) return;
  L->window_over = 1;
  L->t_window_end = t;
  L->cpu_s = cpu_self_s() - L->cpu0;
  say("window over%s%s", why ? ": " : "", why ? why : "");
}

static int run(load *L) {
  L->conns = calloc((size_t)L->connections, sizeof(conn));
  if (!L->conns) {
    say("out of memory");
    return -1;
  }
  for (int i = 0; i < L->connections; i++) {
    L->conns[i].fd = -1;
    L->conns[i].closed = 1; /* until opened */
  }
  for (int i = 0; i < L->connections; i++) {
    L->conns[i].closed = 0;
    if (conn_open(L, &L->conns[i], i) != 0) {
      conn_close(&L->conns[i], 1);
      return -1;
    }
  }
  struct pollfd *pfd = calloc((size_t)L->connections, sizeof(struct pollfd));
  if (!pfd) {
    say("out of memory");
    return -1;
  }
  L->t_start = now_ns();
  L->t_measure = L->t_start + (int64_t)(L->warmup * 1e9);
  L->t_stop = L->t_measure + (int64_t)(L->seconds * 1e9);
  if (L->warmup <= 0) {
    L->measuring = 1;
    L->cpu0 = cpu_self_s();
    say("measuring");
  }
  for (;;) {
    int64_t t = now_ns();
    if (!L->measuring && t >= L->t_measure) {
      L->measuring = 1;
      L->cpu0 = cpu_self_s();
      say("measuring");
    }
    if (!L->stopping && (t >= L->t_stop || interrupted)) {
      L->stopping = 1;
      L->t_drain_end = t + DRAIN_NS;
      if (L->measuring) window_close(L, interrupted ? t : L->t_stop, interrupted ? "interrupted" : NULL);
    }
    if (L->stopping && t >= L->t_drain_end) {
      for (int i = 0; i < L->connections; i++)
        if (!L->conns[i].closed) L->unfinished += (uint64_t)L->conns[i].in_flight;
      if (L->unfinished) say("%" PRIu64 " calls still running %d s after the end: abandoned",
                             L->unfinished, (int)(DRAIN_NS / NS));
      break;
    }
    int live = 0, busy = 0;
    for (int i = 0; i < L->connections; i++) {
      conn *c = &L->conns[i];
      if (c->closed) continue;
      conn_top_up(c);
      if (!c->failed) conn_flush(c);
      if (c->failed || (c->goaway && c->in_flight == 0) ||
          (L->stopping && c->in_flight == 0)) {
        if (L->stopping && !c->failed && !c->goaway && c->in_flight == 0) {
          /* a polite end: GOAWAY, best effort */
          nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
          conn_flush(c);
        }
        conn_close(c, 0);
        continue;
      }
      live++;
      busy += c->in_flight;
    }
    if (L->ran_out && !L->ran_out_reported) {
      L->ran_out_reported = 1;
      say("the %zu bodies ran out after %.1f s: no more calls", L->nbodies,
          (double)(now_ns() - L->t_start) / 1e9);
    }
    if (live == 0 || (busy == 0 && (L->ran_out || L->stopping))) {
      if (!L->stopping && L->measuring)
        window_close(L, now_ns(), live ? "the bodies ran out" : "no connection left");
      if (!live && !L->stopping && !L->measuring) say("no connection left");
      /* close what is left politely */
      for (int i = 0; i < L->connections; i++) {
        conn *c = &L->conns[i];
        if (c->closed) continue;
        nghttp2_session_terminate_session(c->h2, NGHTTP2_NO_ERROR);
        conn_flush(c);
        conn_close(c, 0);
      }
      break;
    }
    int n = 0;
    for (int i = 0; i < L->connections; i++) {
      conn *c = &L->conns[i];
      if (c->closed) continue;
      pfd[n].fd = c->fd;
      pfd[n].events = POLLIN | (c->out_off < c->out_len ? POLLOUT : 0);
      pfd[n].revents = 0;
      n++;
    }
    int64_t next = L->stopping ? L->t_drain_end : (L->measuring ? L->t_stop : L->t_measure);
    int64_t wait_ms = (next - now_ns()) / 1000000 + 1;
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > 1000) wait_ms = 1000;
    int pr = poll(pfd, (nfds_t)n, (int)wait_ms);
    if (pr < 0) {
      if (errno == EINTR) continue;
      say("poll: %s", strerror(errno));
      break;
    }
    n = 0;
    for (int i = 0; i < L->connections; i++) {
      conn *c = &L->conns[i];
      if (c->closed) continue;
      short re = pfd[n++].revents;
      if (re & (POLLIN | POLLERR | POLLHUP)) {
        if (conn_read(c) != 0) {
          if (!c->failed && c->goaway) conn_close(c, 0);
          else c->failed = 1;
          continue;
        }
      }
      if (re & POLLOUT) conn_flush(c);
      if (!c->failed && !nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2) &&
          c->out_off >= c->out_len) {
        if (c->in_flight) conn_error(c, "session_ended", NULL);
        conn_close(c, 0);
      }
    }
  }
  if (L->measuring && !L->window_over) window_close(L, now_ns(), "stopped");
  free(pfd);
  return 0;
}

static void load_clear(load *L) {
  if (L->conns)
    for (int i = 0; i < L->connections; i++) {
      if (!L->conns[i].closed) conn_close(&L->conns[i], 1);
      free(L->conns[i].calls);
    }
  free(L->conns);
  for (size_t i = 0; i < L->nkeys; i++) {
    explicit_bzero(L->auth[i], strlen(L->auth[i]));
    free(L->auth[i]);
  }
  free(L->auth);
  free(L->file);
  free(L->offs);
  free(L->lat_ns);
}

int main(int argc, char **argv) {
  load L;
  memset(&L, 0, sizeof(L));
  int rc = 2;
  int pa = parse_args(&L, argc, argv);
  if (pa != 0) {
    usage();
    return pa > 0 ? 0 : 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (load_bodies(&L) != 0) goto out;
  if (L.keys_file && load_keys(&L) != 0) goto out;
  if (run(&L) != 0) goto out;
  report(&L);
  rc = (L.calls > 0 && L.ok == L.calls && L.nconn_errors == 0 && !L.unfinished) ? 0 : 1;
out:
  load_clear(&L);
  return rc;
}
