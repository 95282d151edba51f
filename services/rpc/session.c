/*
 * One HTTP/2 connection: the rpc_session.
 *
 * The shape is nghttp2's libevent server example: a bufferevent per
 * accepted socket; readable bytes go straight from the evbuffer chains into
 * nghttp2_session_mem_recv (no copy), nghttp2 calls back per header, DATA
 * chunk and frame, and every pass ends with nghttp2_session_send, whose
 * send callback appends frames to the bufferevent output. Each stream is an
 * rpc_stream (stream.c) hung on the session's list, so that teardown can
 * free them: nghttp2_session_del does not call on_stream_close.
 *
 * Back-pressure: the send callback refuses (NGHTTP2_ERR_WOULDBLOCK) once
 * the socket output holds RPC_OUT_HIGH_WATER bytes; the bufferevent's write
 * callback (output down to RPC_OUT_LOW_WATER) serializes again. Response
 * bodies are pulled by nghttp2 through data providers, so nothing is
 * produced while the socket or the peer's flow-control window is full.
 * Input is bounded by SETTINGS (256 concurrent streams, 1 MiB stream
 * window) and by the per-connection budget for incomplete messages.
 *
 * Teardown: rpc_session_free is the only way a session ends — peer EOF,
 * socket error, write timeout, protocol error from nghttp2, nothing left to
 * read or write after GOAWAY, or the drain's last resort. It releases every
 * stream (their handlers get on_close), deletes the nghttp2 session, frees
 * the bufferevent (closing the socket) and tells the loop, which may be
 * waiting for its last connection to finish a drain.
 *
 * Work that must reach the socket from outside nghttp2's callbacks (a
 * worker result, a timer, a health broadcast) calls rpc_session_kick,
 * which activates the session's embedded send event: one
 * nghttp2_session_send per loop iteration however many streams changed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

#define WRITE_TIMEOUT_S 60
#define PEEK_IOVECS 16

static int session_send(rpc_session *sess);

/* ------------------------------------------------------------ nghttp2 callbacks */

static ssize_t on_send(nghttp2_session *h2, const uint8_t *data, size_t length,
                       int flags, void *user_data) {
  (void)h2;
  (void)flags;
  rpc_session *sess = user_data;
  struct evbuffer *out = bufferevent_get_output(sess->bev);
  if (evbuffer_get_length(out) >= RPC_OUT_HIGH_WATER) return NGHTTP2_ERR_WOULDBLOCK;
  if (evbuffer_add(out, data, length) != 0) return NGHTTP2_ERR_CALLBACK_FAILURE;
  return (ssize_t)length;
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *frame,
                            void *user_data) {
  rpc_session *sess = user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  rpc_stream *s = rpc_stream_acquire(sess, frame->hd.stream_id);
  if (!s) {
    log_error(&sess->lctx, "out of memory for stream %d", frame->hd.stream_id);
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* RST_STREAM this one */
  }
  nghttp2_session_set_stream_user_data(h2, frame->hd.stream_id, s);
  return 0;
}

static int name_is(const uint8_t *name, size_t len, const char *lit, size_t lit_len) {
  return len == lit_len && memcmp(name, lit, len) == 0;
}
#define IS(lit) name_is(name, namelen, lit, sizeof(lit) - 1)

static int content_type_ok(const uint8_t *v, size_t len) {
  static const char ct[] = "application/grpc";
  size_t n = sizeof(ct) - 1;
  if (len < n || strncasecmp((const char *)v, ct, n) != 0) return 0;
  return len == n || v[n] == '+' || v[n] == ';';
}

static void take_bearer(rpc_stream *s, const uint8_t *v, size_t len) {
  if (len < 7 || strncasecmp((const char *)v, "bearer ", 7) != 0) return;
  v += 7;
  len -= 7;
  while (len > 0 && *v == ' ') {
    v++;
    len--;
  }
  if (!s->arena) {
    s->arena = arena_new(4 * s->loop->srv->cfg.max_message_bytes + (1u << 20));
    if (!s->arena) return;
  }
  /* An overlong token is kept empty: authorize rejects it. */
  s->bearer = arena_strndup(s->arena, (const char *)v, len > RPC_MAX_BEARER ? 0 : len);
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *user_data) {
  (void)flags;
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
    return 0;
  rpc_stream *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
  if (!s) return 0;
  if (namelen == 0) return 0;
  if (name[0] == ':') {
    if (IS(":path")) {
      size_t n = valuelen < sizeof(s->path) - 1 ? valuelen : sizeof(s->path) - 1;
      memcpy(s->path, value, n);
      s->path[n] = 0;
      s->route = rpc_server_route(s->loop->srv, (const char *)value, valuelen);
    } else if (IS(":method")) {
      s->post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
    }
    return 0;
  }
  switch (name[0]) {
  case 'a':
    if (IS("authorization")) take_bearer(s, value, valuelen);
    break;
  case 'c':
    if (IS("content-type")) s->ct_ok = content_type_ok(value, valuelen);
    break;
  case 'g':
    if (IS("grpc-timeout")) {
      int64_t us = 0;
      if (rpc_timeout_parse((const char *)value, valuelen, &us) == 0) {
        s->timeout_us = us;
        s->timeout_set = 1;
      } else {
        s->timeout_bad = 1;
      }
    } else if (IS("grpc-encoding")) {
      s->enc_bad = !(valuelen == 8 && memcmp(value, "identity", 8) == 0);
    }
    break;
  default:
    break;
  }
  return 0;
}
#undef IS

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *user_data) {
  (void)user_data;
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  rpc_stream *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
  if (!s) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
    rpc_stream_on_headers(s);
  if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) rpc_stream_on_end(s);
  return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data) {
  (void)flags;
  (void)user_data;
  rpc_stream *s = nghttp2_session_get_stream_user_data(h2, stream_id);
  if (!s) return 0;
  (void)rpc_stream_on_data(s, data, len);
  return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code,
                           void *user_data) {
  rpc_session *sess = user_data;
  rpc_stream *s = nghttp2_session_get_stream_user_data(h2, stream_id);
  if (!s) return 0;
  if (error_code != NGHTTP2_NO_ERROR)
    log_debug(&s->lctx, "stream %d reset: %s", stream_id, nghttp2_http2_strerror(error_code));
  nghttp2_session_set_stream_user_data(h2, stream_id, NULL);
  rpc_stream_release(s, RPC_CANCELLED);
  (void)sess;
  return 0;
}

/* A complete response before the complete request: tell the client to stop
 * sending, without error (RFC 9113 §8.1). */
static int on_frame_send(nghttp2_session *h2, const nghttp2_frame *frame, void *user_data) {
  (void)user_data;
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
      !nghttp2_session_get_stream_remote_close(h2, frame->hd.stream_id))
    (void)nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
                                    NGHTTP2_NO_ERROR);
  return 0;
}

static int on_frame_not_send(nghttp2_session *h2, const nghttp2_frame *frame,
                             int lib_error_code, void *user_data) {
  (void)h2;
  rpc_session *sess = user_data;
  log_debug(&sess->lctx, "frame type %d on stream %d not sent: %s", frame->hd.type,
            frame->hd.stream_id, nghttp2_strerror(lib_error_code));
  return 0;
}

nghttp2_session_callbacks *rpc_session_callbacks(void) {
  nghttp2_session_callbacks *cbs = NULL;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return NULL;
  nghttp2_session_callbacks_set_send_callback(cbs, on_send);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, on_frame_not_send);
  return cbs;
}

/* ------------------------------------------------------------ libevent side */

void rpc_session_free(rpc_session *sess) {
  if (!sess) return;
  rpc_loop *l = sess->loop;
  log_debug(&sess->lctx, "connection closed (%zu open streams)", sess->n_streams);
  while (sess->streams) rpc_stream_release(sess->streams, RPC_CANCELLED);
  event_del(&sess->send_ev);
  if (sess->h2) nghttp2_session_del(sess->h2);
  if (sess->bev) bufferevent_free(sess->bev);
  if (sess->prev)
    sess->prev->next = sess->next;
  else
    l->sessions = sess->next;
  if (sess->next) sess->next->prev = sess->prev;
  l->n_sessions--;
  free(sess);
  rpc_loop_check_drained(l);
}

/* Nothing left to say on this connection: the peer or we sent GOAWAY and
 * no stream is open, or nghttp2 wants neither to read nor to write. */
static int finished(rpc_session *sess) {
  if (evbuffer_get_length(bufferevent_get_output(sess->bev)) > 0) return 0;
  if (nghttp2_session_want_write(sess->h2)) return 0;
  return !nghttp2_session_want_read(sess->h2) || (sess->goaway_sent && sess->n_streams == 0);
}

/* nghttp2_session_send, then close when the session has nothing left.
 * 0, or -1 when the session was freed. */
static int session_send(rpc_session *sess) {
  int rv = nghttp2_session_send(sess->h2);
  if (rv != 0) {
    log_warn(&sess->lctx, "nghttp2_session_send: %s", nghttp2_strerror(rv));
    rpc_session_free(sess);
    return -1;
  }
  if (finished(sess)) {
    rpc_session_free(sess);
    return -1;
  }
  return 0;
}

static void on_send_ev(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rpc_session *sess = arg;
  sess->send_armed = 0;
  (void)session_send(sess);
}

void rpc_session_kick(rpc_session *sess) {
  if (sess->send_armed) return;
  sess->send_armed = 1;
  event_active(&sess->send_ev, EV_WRITE, 0);
}

static void on_read(struct bufferevent *bev, void *arg) {
  rpc_session *sess = arg;
  struct evbuffer *in = bufferevent_get_input(bev);
  while (evbuffer_get_length(in) > 0) {
    struct evbuffer_iovec v[PEEK_IOVECS];
    int n = evbuffer_peek(in, -1, NULL, v, PEEK_IOVECS);
    if (n > PEEK_IOVECS) n = PEEK_IOVECS;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
      ssize_t rv = nghttp2_session_mem_recv(sess->h2, v[i].iov_base, v[i].iov_len);
      if (rv < 0) {
        log_warn(&sess->lctx, "nghttp2_session_mem_recv: %s", nghttp2_strerror((int)rv));
        rpc_session_free(sess);
        return;
      }
      total += (size_t)rv;
    }
    evbuffer_drain(in, total);
    if (n <= 0) break;
  }
  (void)session_send(sess);
}

static void on_write(struct bufferevent *bev, void *arg) {
  (void)bev;
  rpc_session *sess = arg;
  (void)session_send(sess);
}

static void on_event(struct bufferevent *bev, short events, void *arg) {
  (void)bev;
  rpc_session *sess = arg;
  if (events & BEV_EVENT_EOF)
    log_debug(&sess->lctx, "peer closed the connection");
  else if (events & BEV_EVENT_ERROR)
    log_debug(&sess->lctx, "socket error: %s",
              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
  else if (events & BEV_EVENT_TIMEOUT)
    log_info(&sess->lctx, "write timeout: closing the connection");
  if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) rpc_session_free(sess);
}

static void format_peer(char *out, size_t cap, const struct sockaddr *addr, int addrlen) {
  char ip[INET6_ADDRSTRLEN] = "?";
  if (addr->sa_family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a4 = (const struct sockaddr_in *)addr;
    inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
    snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(a4->sin_port));
  } else if (addr->sa_family == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)addr;
    inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
    snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(a6->sin6_port));
  } else {
    snprintf(out, cap, "unknown");
  }
}

void rpc_session_accept(rpc_loop *l, int fd, const struct sockaddr *addr, int addrlen) {
  rpc_server *srv = l->srv;
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  rpc_session *sess = calloc(1, sizeof(*sess));
  if (!sess) {
    log_error(NULL, "out of memory accepting a connection");
    evutil_closesocket(fd);
    return;
  }
  sess->loop = l;
  format_peer(sess->peer, sizeof(sess->peer), addr, addrlen);
  sess->lctx.peer = sess->peer;
  sess->budget.max = 2 * srv->cfg.max_message_bytes + (4u << 20);
  event_assign(&sess->send_ev, l->base, -1, 0, on_send_ev, sess);
  sess->next = l->sessions;
  if (l->sessions) l->sessions->prev = sess;
  l->sessions = sess;
  l->n_sessions++;

  sess->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!sess->bev) {
    log_error(&sess->lctx, "bufferevent_socket_new failed");
    evutil_closesocket(fd);
    goto fail;
  }
  if (nghttp2_session_server_new2(&sess->h2, srv->h2_cbs, sess, srv->h2_opt) != 0) {
    log_error(&sess->lctx, "nghttp2_session_server_new2 failed");
    goto fail;
  }
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, RPC_MAX_CONCURRENT_STREAMS},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, RPC_STREAM_WINDOW},
  };
  if (nghttp2_submit_settings(sess->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
      nghttp2_session_set_local_window_size(sess->h2, NGHTTP2_FLAG_NONE, 0,
                                            RPC_CONN_WINDOW) != 0) {
    log_error(&sess->lctx, "cannot submit SETTINGS");
    goto fail;
  }
  struct timeval wt = {WRITE_TIMEOUT_S, 0};
  bufferevent_set_timeouts(sess->bev, NULL, &wt);
  bufferevent_setwatermark(sess->bev, EV_WRITE, RPC_OUT_LOW_WATER, 0);
  bufferevent_setcb(sess->bev, on_read, on_write, on_event, sess);
  if (bufferevent_enable(sess->bev, EV_READ | EV_WRITE) != 0) {
    log_error(&sess->lctx, "bufferevent_enable failed");
    goto fail;
  }
  log_debug(&sess->lctx, "connection accepted on loop %d", l->index);
  if (l->draining) rpc_session_final_goaway(sess);
  (void)session_send(sess);
  return;
fail:
  rpc_session_free(sess);
}

void rpc_session_shutdown_notice(rpc_session *sess) {
  if (sess->notice_sent || sess->goaway_sent) return;
  sess->notice_sent = 1;
  if (nghttp2_submit_shutdown_notice(sess->h2) != 0)
    log_warn(&sess->lctx, "nghttp2_submit_shutdown_notice failed");
  rpc_session_kick(sess);
}

void rpc_session_final_goaway(rpc_session *sess) {
  if (sess->goaway_sent) return;
  sess->goaway_sent = 1;
  int32_t last = nghttp2_session_get_last_proc_stream_id(sess->h2);
  if (nghttp2_submit_goaway(sess->h2, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, NULL, 0) != 0)
    log_warn(&sess->lctx, "nghttp2_submit_goaway failed");
  rpc_session_kick(sess);
}
