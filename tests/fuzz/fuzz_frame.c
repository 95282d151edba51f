/*
 * Fuzz target: the gRPC message deframer (services/rpc/wire.c).
 *
 * Input layout:
 *   [0]     message limit: < 0xC0 → that many bytes; else (x-0xBF) KiB
 *   [1]     shared budget: 0xFF none, else (x & 0x7F) * 64 bytes
 *           (bit 7 set: the budget is already half used by "other streams")
 *   [2..9]  eight chunk sizes, used in turn (0 feeds an empty chunk); a
 *           last one >= 0xF0 also makes the callback refuse one message
 *   [10..]  the byte stream of one direction of one stream
 *
 * The stream goes through rpc_deframer_feed in those chunks. Properties:
 * no crash or out-of-bounds access (ASan); every message the callback gets
 * is within the limit and equals, in order, what a whole-buffer reference
 * parse of the same bytes yields; an error is one of the documented codes,
 * and (budget aside) the same error the reference meets at the same
 * message; rpc_deframer_idle says whether a partial message is held; the
 * budget is charged while a buffer is held and refunded by
 * rpc_deframer_clear. A callback error stops the feed and is returned.
 */
#include <string.h>

#include "services/base/err.h"
#include "services/rpc/rpc_wire.h"
#include "tests/fuzz/fuzz.h"

#define N_CHUNKS 8
#define HDR 10

typedef struct ref_msg {
  size_t off; /* body offset in the stream */
  size_t len;
} ref_msg;

/* Whole-buffer reference parse: messages up to the first error or the
 * first incomplete message. *err: the error at message *n (0 none);
 * *partial: bytes of an incomplete message at the end. */
static size_t ref_parse(const uint8_t *p, size_t n, size_t max, ref_msg *out, size_t cap,
                        int *err, int *partial) {
  size_t i = 0, k = 0;
  *err = 0;
  *partial = 0;
  while (i < n) {
    if (n - i < RPC_FRAME_HEADER) {
      *partial = 1;
      break;
    }
    if (p[i] == 1) {
      *err = REG_EPERM;
      break;
    }
    if (p[i] != 0) {
      *err = REG_EINVAL;
      break;
    }
    size_t len = ((size_t)p[i + 1] << 24) | ((size_t)p[i + 2] << 16) |
                 ((size_t)p[i + 3] << 8) | (size_t)p[i + 4];
    if (len > max) {
      *err = REG_ERANGE;
      break;
    }
    if (n - i - RPC_FRAME_HEADER < len) {
      *partial = 1;
      break;
    }
    if (k < cap) out[k] = (ref_msg){i + RPC_FRAME_HEADER, len};
    k++;
    i += RPC_FRAME_HEADER + len;
  }
  return k;
}

typedef struct sink {
  const uint8_t *stream;
  const ref_msg *ref;
  size_t n_ref;
  size_t got;
  size_t max;
  size_t fail_at; /* the callback refuses this message (SIZE_MAX: never) */
  unsigned sum;
} sink;

static int on_msg(void *arg, const uint8_t *data, size_t len) {
  sink *k = arg;
  FUZZ_CHECK(len <= k->max);
  FUZZ_CHECK(len == 0 || data != NULL);
  FUZZ_CHECK(k->got < k->n_ref);
  FUZZ_CHECK(k->ref[k->got].len == len);
  FUZZ_CHECK(len == 0 || memcmp(k->stream + k->ref[k->got].off, data, len) == 0);
  for (size_t i = 0; i < len; i++) k->sum += data[i]; /* touch every byte */
  if (k->got++ == k->fail_at) return REG_ECONFLICT;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < HDR) return 0;
  size_t max = data[0] < 0xC0 ? data[0] : (size_t)(data[0] - 0xBF) * 1024;
  rpc_budget budget = {0, 0};
  rpc_budget *bp = NULL;
  if (data[1] != 0xFF) {
    budget.max = (size_t)(data[1] & 0x7F) * 64;
    if (data[1] & 0x80) budget.used = budget.max / 2;
    bp = &budget;
  }
  const size_t used0 = budget.used;
  const uint8_t *chunks = data + 2;
  const uint8_t *stream = data + HDR;
  size_t n = size - HDR;

  /* Messages of a fuzz input are few: at most n / 5 + 1. */
  size_t cap = n / RPC_FRAME_HEADER + 1;
  ref_msg *ref = malloc(cap * sizeof(*ref));
  if (!ref) return 0;
  int ref_err = 0, ref_partial = 0;
  size_t n_ref = ref_parse(stream, n, max, ref, cap, &ref_err, &ref_partial);
  FUZZ_CHECK(n_ref <= cap);

  /* A last chunk-size byte ≥ 0xF0 also makes the callback refuse message
   * number (byte - 0xF0), to check that its error stops the feed. */
  sink k = {stream, ref, n_ref, 0, max, SIZE_MAX, 0};
  if (chunks[N_CHUNKS - 1] >= 0xF0) k.fail_at = chunks[N_CHUNKS - 1] - 0xF0;

  rpc_deframer d;
  rpc_deframer_init(&d, max, bp);
  FUZZ_CHECK(rpc_deframer_idle(&d));
  size_t off = 0, ci = 0;
  int rv = 0;
  while (off < n || ci == 0) {
    size_t c = chunks[ci++ % N_CHUNKS];
    if (c > n - off) c = n - off;
    rv = rpc_deframer_feed(&d, stream + off, c, on_msg, &k);
    if (rv != 0) break;
    off += c;
    if (bp) {
      FUZZ_CHECK(budget.used <= budget.max);
      FUZZ_CHECK(budget.used == used0 + d.cap);
    }
    if (ci > n + N_CHUNKS) break; /* only empty chunks: give up */
  }

  if (rv == 0) {
    if (off == n) {
      /* Everything fed: exactly the reference's messages. */
      FUZZ_CHECK(ref_err == 0);
      FUZZ_CHECK(k.got == n_ref);
      FUZZ_CHECK(rpc_deframer_idle(&d) == !ref_partial);
    }
  } else if (rv == REG_ECONFLICT) {
    FUZZ_CHECK(k.got == k.fail_at + 1); /* the callback's error, as is */
  } else if (rv == REG_ENOMEM) {
    FUZZ_CHECK(bp != NULL); /* tiny allocations do not fail otherwise */
    FUZZ_CHECK(k.got <= n_ref);
  } else {
    FUZZ_CHECK(rv == REG_ERANGE || rv == REG_EPERM || rv == REG_EINVAL);
    FUZZ_CHECK(rv == ref_err);
    FUZZ_CHECK(k.got == n_ref);
  }
  FUZZ_CHECK(rpc_frame_code(rv) != RPC_OK || rv == 0);

  rpc_deframer_clear(&d);
  FUZZ_CHECK(rpc_deframer_idle(&d));
  if (bp) FUZZ_CHECK(budget.used == used0);
  rpc_deframer_clear(&d); /* twice is harmless */
  rpc_deframer_clear(NULL);
  free(ref);
  (void)k.sum;
  return 0;
}
