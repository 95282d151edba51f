/*
 * UTF-8 validation of decoded requests.
 *
 * protobuf-c 1.4.1 accepts any bytes in a `string` field, and a stock gRPC
 * client then fails with INTERNAL when such a string comes back to it. So
 * before any handler sees a request, the transport walks every string the
 * message holds — singular, repeated, inside nested messages, oneofs and
 * map entries — using only the descriptors protoc-c generated, and names
 * the first bad field with a dotted path for the BadRequest violation:
 * "seller.person.name", "lines[2].description", "labels[0].value".
 *
 * The validator follows RFC 3629 (Table 3-7 of the Unicode standard):
 * overlong forms, UTF-16 surrogates (U+D800–U+DFFF) and anything above
 * U+10FFFF are rejected, as is a sequence cut short.
 */
#include "services/rpc/rpc_wire.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64

int rpc_utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c == 0xE0) {
      need = 2;
      lo = 0xA0; /* no overlongs below U+0800 */
    } else if (c >= 0xE1 && c <= 0xEC) {
      need = 2;
    } else if (c == 0xED) {
      need = 2;
      hi = 0x9F; /* no surrogates */
    } else if (c >= 0xEE && c <= 0xEF) {
      need = 2;
    } else if (c == 0xF0) {
      need = 3;
      lo = 0x90; /* no overlongs below U+10000 */
    } else if (c >= 0xF1 && c <= 0xF3) {
      need = 3;
    } else if (c == 0xF4) {
      need = 3;
      hi = 0x8F; /* nothing above U+10FFFF */
    } else {
      return 0; /* 0x80–0xC1 (continuation or overlong lead), 0xF5–0xFF */
    }
    if (n - i - 1 < need) return 0; /* truncated */
    if (p[i + 1] < lo || p[i + 1] > hi) return 0;
    for (size_t k = 2; k <= need; k++)
      if ((p[i + k] & 0xC0) != 0x80) return 0;
    i += need + 1;
  }
  return 1;
}

/* The path being built: a fixed buffer, truncated (never overflowed) when a
 * path is longer than the caller's capacity. */
typedef struct path_buf {
  char *s;
  size_t cap;
  size_t len;
} path_buf;

static size_t path_push(path_buf *pb, const char *name, long index) {
  size_t mark = pb->len;
  if (pb->cap == 0) return mark;
  int n;
  if (index < 0)
    n = snprintf(pb->s + pb->len, pb->cap - pb->len, "%s%s",
                 pb->len ? "." : "", name);
  else
    n = snprintf(pb->s + pb->len, pb->cap - pb->len, "%s%s[%ld]",
                 pb->len ? "." : "", name, index);
  if (n > 0) {
    pb->len += (size_t)n;
    if (pb->len >= pb->cap) pb->len = pb->cap - 1;
  }
  return mark;
}

static void path_pop(path_buf *pb, size_t mark) {
  pb->len = mark;
  if (pb->cap) pb->s[mark] = 0;
}

static int check_string(const char *str) {
  if (!str) return 1;
  return rpc_utf8_valid((const uint8_t *)str, strlen(str));
}

static int check_message(const ProtobufCMessage *m, path_buf *pb, int depth);

/* One field of m: 0 when it is absent or valid, else the error with the
 * path left pointing at the offending element. */
static int check_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                       path_buf *pb, int depth) {
  const char *base = (const char *)m;
  if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
    return 0;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
    uint32_t which;
    memcpy(&which, base + f->quantifier_offset, sizeof(which));
    if (which != f->id) return 0;
  }
  if (f->label == PROTOBUF_C_LABEL_REPEATED) {
    size_t count;
    memcpy(&count, base + f->quantifier_offset, sizeof(count));
    void *arr;
    memcpy(&arr, base + f->offset, sizeof(arr));
    if (count == 0 || !arr) return 0;
    for (size_t i = 0; i < count; i++) {
      size_t mark = path_push(pb, f->name, (long)i);
      int rv = 0;
      if (f->type == PROTOBUF_C_TYPE_STRING) {
        if (!check_string(((char *const *)arr)[i])) rv = REG_EINVAL;
      } else {
        rv = check_message(((ProtobufCMessage *const *)arr)[i], pb, depth + 1);
      }
      if (rv != 0) return rv;
      path_pop(pb, mark);
    }
    return 0;
  }
  void *ptr;
  memcpy(&ptr, base + f->offset, sizeof(ptr));
  if (!ptr) return 0;
  size_t mark = path_push(pb, f->name, -1);
  int rv = 0;
  if (f->type == PROTOBUF_C_TYPE_STRING) {
    if (!check_string(ptr)) rv = REG_EINVAL;
  } else {
    rv = check_message(ptr, pb, depth + 1);
  }
  if (rv != 0) return rv;
  path_pop(pb, mark);
  return 0;
}

static int check_message(const ProtobufCMessage *m, path_buf *pb, int depth) {
  if (!m || !m->descriptor) return 0;
  if (depth > MAX_DEPTH) return REG_ERANGE;
  const ProtobufCMessageDescriptor *d = m->descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    int rv = check_field(m, &d->fields[i], pb, depth);
    if (rv != 0) return rv;
  }
  return 0;
}

int rpc_msg_check_utf8(const ProtobufCMessage *m, char *path, size_t cap) {
  path_buf pb = {path, cap, 0};
  if (cap) path[0] = 0;
  return check_message(m, &pb, 0);
}
