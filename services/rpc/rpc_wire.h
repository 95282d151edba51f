/*
 * The bytes of gRPC over HTTP/2 that are not HTTP/2 itself: the 5-byte
 * length-prefixed message framing, the grpc-timeout header, the
 * percent-encoded grpc-message, and the UTF-8 check of decoded requests.
 * Used by the transport (session.c, stream.c) and by the unit tests; not a
 * service-facing API.
 */
#ifndef REG_RPC_RPC_WIRE_H
#define REG_RPC_RPC_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "services/base/err.h"
#include "services/rpc/rpc.h"

#define RPC_FRAME_HEADER 5

/* Bytes buffered for incomplete messages, shared by every stream of one
 * connection; NULL in a deframer means "no shared budget". */
typedef struct rpc_budget {
  size_t used;
  size_t max;
} rpc_budget;

/* One complete message: `data` is valid only during the call (it may point
 * into the caller's chunk). Return 0 to go on, or a negative REG_* error,
 * which rpc_deframer_feed returns as is. */
typedef int (*rpc_frame_msg_cb)(void *arg, const uint8_t *data, size_t len);

/* An incremental deframer for one direction of one stream. A message that
 * arrives whole inside one chunk is handed over without a copy; a split one
 * is assembled in a buffer allocated only after its length was checked. */
typedef struct rpc_deframer {
  size_t max;          /* message limit (bytes after the prefix) */
  rpc_budget *budget;  /* optional */
  uint8_t hdr[RPC_FRAME_HEADER];
  size_t hdr_len;      /* prefix bytes held (0..4 while incomplete) */
  uint8_t *buf;        /* body being assembled */
  size_t cap;          /* allocated size of buf (charged to the budget) */
  size_t len;          /* body bytes held */
  size_t want;         /* body length from the prefix */
  int in_body;         /* prefix complete, body incomplete */
} rpc_deframer;

void rpc_deframer_init(rpc_deframer *d, size_t max, rpc_budget *budget);
void rpc_deframer_clear(rpc_deframer *d); /* frees the buffer, refunds the budget */

/* Feeds n bytes; calls cb for every complete message, in order.
 *   0           all consumed;
 *   REG_ERANGE  a prefix announced more than `max` bytes (RESOURCE_EXHAUSTED);
 *   REG_EPERM   the compressed flag is set (UNIMPLEMENTED: no grpc-encoding);
 *   REG_EINVAL  a flag byte other than 0 or 1 (INVALID_ARGUMENT);
 *   REG_ENOMEM  out of memory or over the shared budget (RESOURCE_EXHAUSTED);
 *   or the callback's error. After an error the deframer must not be fed. */
int rpc_deframer_feed(rpc_deframer *d, const uint8_t *p, size_t n,
                      rpc_frame_msg_cb cb, void *arg) REG_MUST_CHECK;

/* 1 when no partial message is held (a stream may end here). */
int rpc_deframer_idle(const rpc_deframer *d);

/* The gRPC status code for a rpc_deframer_feed error. */
rpc_code rpc_frame_code(int err);

/* Writes the 5-byte prefix of an uncompressed message of len bytes. */
void rpc_frame_prefix(uint8_t out[RPC_FRAME_HEADER], uint32_t len);

/* grpc-timeout: 1–8 ASCII digits and a unit H M S m u n. 0 and the
 * timeout in microseconds (nanoseconds round up) in *out_us; REG_EINVAL for
 * anything else, *out_us untouched. */
int rpc_timeout_parse(const char *v, size_t len, int64_t *out_us) REG_MUST_CHECK;

/* Percent-encodes a grpc-message: bytes outside 0x20–0x7E and '%' become
 * %XX. Writes at most cap-1 characters and a NUL (never splits an escape);
 * returns the length written. */
size_t rpc_pct_encode(char *dst, size_t cap, const char *src);

/* The trailing status of a call as it goes on the wire: grpc-status, the
 * percent-encoded grpc-message and the unpadded base64 of the serialized
 * google.rpc.Status for grpc-status-details-bin. A bare OK has no block. */
typedef struct rpc_trailer {
  rpc_code code;
  char *block;    /* malloc'd: message, NUL, details, NUL; NULL: none */
  size_t msg_len; /* grpc-message length (0: omit the header) */
  size_t det_len; /* details length (0: omit the header) */
} rpc_trailer;

/* Builds the trailer of st (details whenever st has any or is an error).
 * 0, or REG_ENOMEM with *t untouched. Free with rpc_trailer_clear. */
int rpc_trailer_build(rpc_trailer *t, const rpc_status *st) REG_MUST_CHECK;
/* The same for a code and plain message (no violations or ErrorInfo); on
 * out of memory it still yields the code without message or details. */
void rpc_trailer_simple(rpc_trailer *t, rpc_code code, const char *msg);
void rpc_trailer_clear(rpc_trailer *t);
static inline const char *rpc_trailer_msg(const rpc_trailer *t) { return t->block; }
static inline const char *rpc_trailer_details(const rpc_trailer *t) {
  return t->block ? t->block + t->msg_len + 1 : NULL;
}

/* 1 when p[0..n) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF), else 0. */
int rpc_utf8_valid(const uint8_t *p, size_t n);

/* Walks every string field of m (repeated, nested, oneof, map) through the
 * descriptors. 0 when all are valid UTF-8; REG_EINVAL when one is not, with
 * its dotted path ("seller.person.name", "lines[2].description") written
 * into path (NUL-terminated, truncated to cap); REG_ERANGE when messages
 * nest deeper than 64 (path names where). */
int rpc_msg_check_utf8(const ProtobufCMessage *m, char *path, size_t cap) REG_MUST_CHECK;

#endif
