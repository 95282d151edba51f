/*
 * Call outcomes: the rpc_status a handler fills with rpc_fail*, and its
 * wire form.
 *
 * gRPC carries the outcome in trailers: `grpc-status` (the decimal code),
 * `grpc-message` (percent-encoded UTF-8) and `grpc-status-details-bin`, the
 * base64 (we send it unpadded; readers accept both) of a serialized
 * google.rpc.Status{code, message, details}. Each detail is a
 * google.protobuf.Any whose type_url is "type.googleapis.com/" plus the
 * full name of the packed message: google.rpc.BadRequest (one
 * field violation per bad field), google.rpc.ErrorInfo (an UPPER_SNAKE
 * reason, domain "registry.v1", metadata) and google.rpc.RetryInfo
 * (retry_delay as a Duration). Every error carries the details header, even
 * without details, so that clients that only read the rich status still see
 * the code and message; a bare OK carries neither.
 *
 * rpc_trailer_build runs on the worker that produced the status, so the
 * loop only copies finished strings into HEADERS frames.
 */
#include "services/rpc/rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/rpc/error_details.pb-c.h"
#include "google/rpc/status.pb-c.h"
#include "services/base/err.h"
#include "services/rpc/rpc_wire.h"

#define ERROR_DOMAIN "registry.v1"
#define TYPE_PREFIX "type.googleapis.com/"

static const char *const code_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *rpc_code_name(rpc_code code) {
  if ((unsigned)code >= sizeof(code_names) / sizeof(code_names[0]))
    return "UNKNOWN";
  return code_names[code];
}

void rpc_status_init(rpc_status *st) {
  st->code = RPC_OK;
  st->message[0] = 0;
  st->n_violations = 0;
  st->reason[0] = 0;
  st->n_meta = 0;
  st->retry_delay_ms = -1;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

int rpc_fail(rpc_status *st, rpc_code code, const char *fmt, ...) {
  va_list ap;
  st->code = code;
  va_start(ap, fmt);
  vsnprintf(st->message, sizeof(st->message), fmt, ap);
  va_end(ap);
  return -1;
}

int rpc_fail_field(rpc_status *st, const char *field, const char *fmt, ...) {
  char desc[sizeof(st->violations[0].description)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(desc, sizeof(desc), fmt, ap);
  va_end(ap);
  if (st->code != RPC_INVALID_ARGUMENT || st->n_violations == 0) {
    st->code = RPC_INVALID_ARGUMENT;
    /* "name is required" reads on its own; otherwise prefix the field */
    size_t fl = strlen(field);
    if (strncmp(desc, field, fl) == 0 && (desc[fl] == ' ' || desc[fl] == ':'))
      snprintf(st->message, sizeof(st->message), "%s", desc);
    else
      snprintf(st->message, sizeof(st->message), "%s: %s", field, desc);
  }
  if (st->n_violations < RPC_MAX_VIOLATIONS) {
    copy_str(st->violations[st->n_violations].field,
             sizeof(st->violations[0].field), field);
    copy_str(st->violations[st->n_violations].description,
             sizeof(st->violations[0].description), desc);
    st->n_violations++;
  }
  return -1;
}

int rpc_fail_reason(rpc_status *st, rpc_code code, const char *reason,
                    const char *fmt, ...) {
  va_list ap;
  st->code = code;
  copy_str(st->reason, sizeof(st->reason), reason ? reason : "");
  va_start(ap, fmt);
  vsnprintf(st->message, sizeof(st->message), fmt, ap);
  va_end(ap);
  return -1;
}

void rpc_status_add_meta(rpc_status *st, const char *key, const char *value) {
  if (st->n_meta >= RPC_MAX_META || !key) return;
  copy_str(st->meta[st->n_meta].key, sizeof(st->meta[0].key), key);
  copy_str(st->meta[st->n_meta].value, sizeof(st->meta[0].value), value ? value : "");
  st->n_meta++;
}

void rpc_status_set_retry(rpc_status *st, int64_t delay_ms) {
  st->retry_delay_ms = delay_ms < 0 ? -1 : delay_ms;
}

/* Packs `m` into an Any allocated in `a`. */
static Google__Protobuf__Any *pack_any(arena *a, const ProtobufCMessage *m) {
  Google__Protobuf__Any *any = arena_alloc(a, sizeof(*any));
  if (!any) return NULL;
  google__protobuf__any__init(any);
  any->type_url = arena_printf(a, TYPE_PREFIX "%s", m->descriptor->name);
  size_t len = protobuf_c_message_get_packed_size(m);
  any->value.data = arena_alloc(a, len ? len : 1);
  if (!any->type_url || !any->value.data) return NULL;
  any->value.len = protobuf_c_message_pack(m, any->value.data);
  return any;
}

static Google__Protobuf__Any *bad_request_any(arena *a, const rpc_status *st) {
  Google__Rpc__BadRequest br = GOOGLE__RPC__BAD_REQUEST__INIT;
  Google__Rpc__BadRequest__FieldViolation *v = arena_calloc(a, st->n_violations, sizeof(*v));
  Google__Rpc__BadRequest__FieldViolation **pv = arena_calloc(a, st->n_violations, sizeof(*pv));
  if (!v || !pv) return NULL;
  for (size_t i = 0; i < st->n_violations; i++) {
    google__rpc__bad_request__field_violation__init(&v[i]);
    v[i].field = (char *)st->violations[i].field;
    v[i].description = (char *)st->violations[i].description;
    pv[i] = &v[i];
  }
  br.n_field_violations = st->n_violations;
  br.field_violations = pv;
  return pack_any(a, &br.base);
}

static Google__Protobuf__Any *error_info_any(arena *a, const rpc_status *st) {
  Google__Rpc__ErrorInfo ei = GOOGLE__RPC__ERROR_INFO__INIT;
  ei.reason = (char *)st->reason;
  ei.domain = (char *)ERROR_DOMAIN;
  if (st->n_meta) {
    Google__Rpc__ErrorInfo__MetadataEntry *e = arena_calloc(a, st->n_meta, sizeof(*e));
    Google__Rpc__ErrorInfo__MetadataEntry **pe = arena_calloc(a, st->n_meta, sizeof(*pe));
    if (!e || !pe) return NULL;
    for (size_t i = 0; i < st->n_meta; i++) {
      google__rpc__error_info__metadata_entry__init(&e[i]);
      e[i].key = (char *)st->meta[i].key;
      e[i].value = (char *)st->meta[i].value;
      pe[i] = &e[i];
    }
    ei.n_metadata = st->n_meta;
    ei.metadata = pe;
  }
  return pack_any(a, &ei.base);
}

static Google__Protobuf__Any *retry_info_any(arena *a, const rpc_status *st) {
  Google__Rpc__RetryInfo ri = GOOGLE__RPC__RETRY_INFO__INIT;
  Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
  d.seconds = st->retry_delay_ms / 1000;
  d.nanos = (int32_t)(st->retry_delay_ms % 1000) * 1000000;
  ri.retry_delay = &d;
  return pack_any(a, &ri.base);
}

int rpc_status_encode(const rpc_status *st, uint8_t **out, size_t *out_len) {
  int rv = REG_ENOMEM;
  arena *a = arena_new(0);
  Google__Protobuf__Any *details[3];
  size_t n = 0;
  if (!a) goto out;
  if (st->n_violations > 0 && !(details[n++] = bad_request_any(a, st))) goto out;
  if (st->reason[0] && !(details[n++] = error_info_any(a, st))) goto out;
  if (st->retry_delay_ms >= 0 && !(details[n++] = retry_info_any(a, st))) goto out;

  Google__Rpc__Status s = GOOGLE__RPC__STATUS__INIT;
  s.code = (int32_t)st->code;
  s.message = (char *)st->message;
  s.n_details = n;
  s.details = n ? details : NULL;
  size_t len = google__rpc__status__get_packed_size(&s);
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf) goto out;
  *out_len = google__rpc__status__pack(&s, buf);
  *out = buf;
  rv = 0;
out:
  arena_free(a);
  return rv;
}

static int has_details(const rpc_status *st) {
  return st->n_violations > 0 || st->reason[0] || st->retry_delay_ms >= 0;
}

int rpc_trailer_build(rpc_trailer *t, const rpc_status *st) {
  int rv = REG_ENOMEM;
  uint8_t *bin = NULL;
  size_t bin_len = 0;
  char *block = NULL;
  if (st->code == RPC_OK && !has_details(st) && !st->message[0]) {
    t->code = RPC_OK;
    t->block = NULL;
    t->msg_len = t->det_len = 0;
    return 0;
  }
  if (st->code != RPC_OK || has_details(st)) {
    rv = rpc_status_encode(st, &bin, &bin_len);
    if (rv != 0) goto out;
    rv = REG_ENOMEM;
  }
  size_t msg_cap = 3 * strlen(st->message) + 1;
  size_t det_cap = bin ? sodium_base64_encoded_len(bin_len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) : 1;
  block = malloc(msg_cap + det_cap);
  if (!block) goto out;
  size_t msg_len = rpc_pct_encode(block, msg_cap, st->message);
  char *det = block + msg_len + 1;
  size_t det_len = 0;
  if (bin) {
    sodium_bin2base64(det, det_cap, bin, bin_len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    det_len = strlen(det);
  } else {
    det[0] = 0;
  }
  t->code = st->code;
  t->block = block;
  t->msg_len = msg_len;
  t->det_len = det_len;
  block = NULL;
  rv = 0;
out:
  free(bin);
  free(block);
  return rv;
}

void rpc_trailer_simple(rpc_trailer *t, rpc_code code, const char *msg) {
  rpc_status st;
  rpc_status_init(&st);
  st.code = code;
  copy_str(st.message, sizeof(st.message), msg ? msg : "");
  if (rpc_trailer_build(t, &st) != 0) {
    t->code = code;
    t->block = NULL;
    t->msg_len = t->det_len = 0;
  }
}

void rpc_trailer_clear(rpc_trailer *t) {
  if (!t) return;
  free(t->block);
  t->block = NULL;
  t->msg_len = t->det_len = 0;
}
