/*
 * The handlers' shared checks and response pieces (rpcutil.h).
 */
#include "services/core/rpcutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "services/core/ids.h"

int core_check_id(rpc_call *call, const char *s, const char *field) {
  if (!core_given(s)) return rpc_fail_field(&call->status, field, "%s is required", field);
  if (strlen(s) >= IDS_MAX)
    return rpc_fail_field(&call->status, field, "%s is not a registry id (too long)", field);
  return 0;
}

int core_not_found(rpc_call *call, const char *what, const char *id) {
  return rpc_fail(&call->status, RPC_NOT_FOUND, "%s %s not found", what, id);
}

int core_refuse(rpc_call *call, const char *reason, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  return rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, reason, "%s", msg);
}

int core_parse_day(rpc_call *call, const char *s, const char *field, clock_day *out) {
  *out = 0;
  if (!core_given(s)) return 0;
  if (clock_day_parse(s, out) != 0)
    return rpc_fail_field(&call->status, field, "%s must be a date YYYY-MM-DD", field);
  return 0;
}

int core_page_begin(rpc_call *call, int32_t size, const char *token, const char *const *filters,
                    size_t n_filters, page_req *out) {
  int rv = page_begin(call_app(call)->page_key, size, token, filters, n_filters, out);
  if (rv == REG_ERANGE)
    return rpc_fail_field(&call->status, "page_size", "page_size must not be negative");
  if (rv == REG_EPERM)
    return rpc_fail_field(&call->status, "page_token", "page_token was issued for other filters");
  if (rv != 0) return core_bad_page_token(call);
  return 0;
}

int core_bad_page_token(rpc_call *call) {
  return rpc_fail_field(&call->status, "page_token", "invalid page_token");
}

int core_page_token(rpc_call *call, const page_req *p, const char *cursor, char **out) {
  char *tok = arena_alloc(call->arena, PAGE_TOKEN_MAX);
  if (!tok || !cursor) return REG_ENOMEM;
  int rv = page_next_token(call_app(call)->page_key, p, cursor, tok);
  if (rv != 0) return rv;
  *out = tok;
  return 0;
}

int core_next_page_token(rpc_call *call, const page_req *p, int64_t key, const char *id,
                         char **out) {
  return core_page_token(call, p, page_cursor(call->arena, key, id), out);
}

int core_respond(rpc_call *call, const ProtobufCMessageDescriptor *d, const char *field,
                 const void *value, ProtobufCMessage **resp) {
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, field);
  if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
    return REG_EINVAL;
  ProtobufCMessage *m = arena_alloc(call->arena, d->sizeof_message);
  if (!m) return REG_ENOMEM;
  protobuf_c_message_init(d, m);
  *(const void **)(void *)((char *)m + f->offset) = value;
  *resp = m;
  return 0;
}
