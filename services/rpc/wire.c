/*
 * gRPC's own bytes on top of HTTP/2 DATA and HEADERS frames.
 *
 * Messages travel as a 5-byte prefix (a compressed flag and a big-endian
 * 32-bit length) followed by the protobuf body. DATA frames cut that stream
 * anywhere, so the deframer is incremental: it keeps at most the four bytes
 * of an incomplete prefix and, for a body split across chunks, one buffer
 * whose size is checked against the message limit (and the connection's
 * shared budget) *before* it is allocated. A message contained whole in a
 * chunk is handed to the callback in place: the hot path copies nothing.
 *
 * Also here: the grpc-timeout header (PROTOCOL-HTTP2.md: at most 8 digits
 * and a unit, so the largest value, 99999999 hours, fits in int64
 * microseconds) and the percent-encoding of grpc-message.
 */
#include "services/rpc/rpc_wire.h"

#include <stdlib.h>
#include <string.h>

void rpc_deframer_init(rpc_deframer *d, size_t max, rpc_budget *budget) {
  memset(d, 0, sizeof(*d));
  d->max = max;
  d->budget = budget;
}

static void release_buf(rpc_deframer *d) {
  if (d->buf) {
    free(d->buf);
    if (d->budget) d->budget->used -= d->cap;
  }
  d->buf = NULL;
  d->cap = 0;
}

void rpc_deframer_clear(rpc_deframer *d) {
  if (!d) return;
  release_buf(d);
  d->hdr_len = 0;
  d->len = 0;
  d->want = 0;
  d->in_body = 0;
}

int rpc_deframer_idle(const rpc_deframer *d) {
  return d->hdr_len == 0 && !d->in_body;
}

rpc_code rpc_frame_code(int err) {
  switch (err) {
  case 0: return RPC_OK;
  case REG_ERANGE: return RPC_RESOURCE_EXHAUSTED;
  case REG_EPERM: return RPC_UNIMPLEMENTED;
  case REG_EINVAL: return RPC_INVALID_ARGUMENT;
  case REG_ENOMEM: return RPC_RESOURCE_EXHAUSTED;
  default: return RPC_INTERNAL;
  }
}

void rpc_frame_prefix(uint8_t out[RPC_FRAME_HEADER], uint32_t len) {
  out[0] = 0;
  out[1] = (uint8_t)(len >> 24);
  out[2] = (uint8_t)(len >> 16);
  out[3] = (uint8_t)(len >> 8);
  out[4] = (uint8_t)len;
}

/* Checks a complete prefix; on success *len is the body length. */
static int check_prefix(const rpc_deframer *d, const uint8_t *h, size_t *len) {
  if (h[0] == 1) return REG_EPERM;
  if (h[0] != 0) return REG_EINVAL;
  uint32_t n = ((uint32_t)h[1] << 24) | ((uint32_t)h[2] << 16) |
               ((uint32_t)h[3] << 8) | (uint32_t)h[4];
  if ((size_t)n > d->max) return REG_ERANGE;
  *len = n;
  return 0;
}

/* Makes room for a body of d->want bytes, reusing the buffer when it is
 * big enough. The size was checked against d->max already. */
static int reserve_body(rpc_deframer *d) {
  if (d->buf && d->cap >= d->want) return 0;
  release_buf(d);
  size_t cap = d->want ? d->want : 1;
  if (d->budget && cap > d->budget->max - d->budget->used) return REG_ENOMEM;
  d->buf = malloc(cap);
  if (!d->buf) return REG_ENOMEM;
  d->cap = cap;
  if (d->budget) d->budget->used += cap;
  return 0;
}

int rpc_deframer_feed(rpc_deframer *d, const uint8_t *p, size_t n,
                      rpc_frame_msg_cb cb, void *arg) {
  int rv = 0;
  while (n > 0) {
    if (!d->in_body) {
      /* Fast path: a whole prefix and body in this chunk, nothing held. */
      if (d->hdr_len == 0 && n >= RPC_FRAME_HEADER) {
        size_t len = 0;
        rv = check_prefix(d, p, &len);
        if (rv != 0) goto out;
        if (n - RPC_FRAME_HEADER >= len) {
          rv = cb(arg, p + RPC_FRAME_HEADER, len);
          if (rv != 0) goto out;
          p += RPC_FRAME_HEADER + len;
          n -= RPC_FRAME_HEADER + len;
          continue;
        }
        d->want = len;
        d->len = 0;
        d->in_body = 1;
        p += RPC_FRAME_HEADER;
        n -= RPC_FRAME_HEADER;
        rv = reserve_body(d);
        if (rv != 0) goto out;
        continue;
      }
      /* Slow path: gather the prefix byte by byte. */
      size_t take = RPC_FRAME_HEADER - d->hdr_len;
      if (take > n) take = n;
      memcpy(d->hdr + d->hdr_len, p, take);
      d->hdr_len += take;
      p += take;
      n -= take;
      if (d->hdr_len < RPC_FRAME_HEADER) break;
      d->hdr_len = 0;
      size_t len = 0;
      rv = check_prefix(d, d->hdr, &len);
      if (rv != 0) goto out;
      d->want = len;
      d->len = 0;
      d->in_body = 1;
      rv = reserve_body(d);
      if (rv != 0) goto out;
    }
    size_t take = d->want - d->len;
    if (take > n) take = n;
    if (take) memcpy(d->buf + d->len, p, take);
    d->len += take;
    p += take;
    n -= take;
    if (d->len == d->want) {
      d->in_body = 0;
      rv = cb(arg, d->buf, d->len);
      if (rv != 0) goto out;
    }
  }
  /* Keep a small buffer for the next split message; drop a big one. */
  if (!d->in_body && d->cap > 16384) release_buf(d);
out:
  return rv;
}

int rpc_timeout_parse(const char *v, size_t len, int64_t *out_us) {
  if (!v || len < 2 || len > 9) return REG_EINVAL;
  int64_t n = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (v[i] < '0' || v[i] > '9') return REG_EINVAL;
    n = n * 10 + (v[i] - '0'); /* at most 8 digits: no overflow */
  }
  int64_t us;
  switch (v[len - 1]) {
  case 'H': us = n * 3600 * INT64_C(1000000); break;
  case 'M': us = n * 60 * INT64_C(1000000); break;
  case 'S': us = n * INT64_C(1000000); break;
  case 'm': us = n * 1000; break;
  case 'u': us = n; break;
  case 'n': us = (n + 999) / 1000; break;
  default: return REG_EINVAL;
  }
  *out_us = us;
  return 0;
}

size_t rpc_pct_encode(char *dst, size_t cap, const char *src) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  if (cap == 0) return 0;
  for (const unsigned char *c = (const unsigned char *)(src ? src : ""); *c; c++) {
    if (*c >= 0x20 && *c <= 0x7e && *c != '%') {
      if (o + 1 >= cap) break;
      dst[o++] = (char)*c;
    } else {
      if (o + 3 >= cap) break;
      dst[o++] = '%';
      dst[o++] = hex[*c >> 4];
      dst[o++] = hex[*c & 15];
    }
  }
  dst[o] = 0;
  return o;
}
