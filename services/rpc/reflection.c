/*
 * Server reflection (grpc.reflection.v1 and v1alpha ServerReflectionInfo),
 * answered on the loop with no key, so that `grpcurl list` and `describe`
 * work against the registry.
 *
 * Everything comes from one FileDescriptorSet, built by protoc with
 * --include_imports and embedded in the binary (registry_descriptor_set, or
 * the one in rpc_server_config). At start-up it is cut into its files —
 * each `file` entry is a length-delimited field 1 of the set, so a file's
 * serialized FileDescriptorProto is simply a slice of the embedded bytes
 * and is served without re-encoding — and each file is decoded once with
 * the protoc-c code for descriptor.proto to index:
 *   - file names, with their dependencies resolved to file indexes;
 *   - fully-qualified symbols → file: services, methods, messages (nested
 *     too), their fields, enums and enum values (scoped as protobuf scopes
 *     them: beside their enum);
 *   - the service list: every service of the set, plus the two reflection
 *     services themselves, whose files are not in the set.
 * The index is read-only after rpc_reflection_new and shared by all loops.
 *
 * Answers: list_services; file_by_filename and file_containing_symbol with
 * the file followed by its transitive dependencies (each once); extension
 * queries and unknown names get an error_response with NOT_FOUND. v1alpha
 * uses the v1 messages: the two packages declare identical fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

#define REQ(x) GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_##x
#define RESP(x) GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_##x
#define MAX_FILES 4096

typedef struct refl_file {
  const char *name;
  const uint8_t *data; /* slice of the set */
  size_t len;
  Google__Protobuf__FileDescriptorProto *fd;
  size_t *deps;
  size_t n_deps;
} refl_file;

typedef struct refl_sym {
  char *name; /* NULL: empty slot */
  size_t file;
} refl_sym;

struct rpc_reflection {
  refl_file *files;
  size_t n_files;
  refl_sym *syms;
  size_t sym_cap, n_syms;
  Grpc__Reflection__V1__ServiceResponse *services;
  Grpc__Reflection__V1__ServiceResponse **service_ptrs;
  size_t n_services;
};

static const char *const reflection_services[] = {
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
};

/* ------------------------------------------------------------ index */

static int sym_grow(rpc_reflection *r) {
  size_t cap = r->sym_cap ? r->sym_cap * 2 : 256;
  refl_sym *ns = calloc(cap, sizeof(*ns));
  if (!ns) return REG_ENOMEM;
  for (size_t i = 0; i < r->sym_cap; i++) {
    if (!r->syms[i].name) continue;
    size_t j = rpc_hash(r->syms[i].name, strlen(r->syms[i].name)) & (cap - 1);
    while (ns[j].name) j = (j + 1) & (cap - 1);
    ns[j] = r->syms[i];
  }
  free(r->syms);
  r->syms = ns;
  r->sym_cap = cap;
  return 0;
}

static long sym_find(const rpc_reflection *r, const char *name) {
  if (!r->sym_cap || !name) return -1;
  size_t mask = r->sym_cap - 1;
  for (size_t j = rpc_hash(name, strlen(name)) & mask; r->syms[j].name; j = (j + 1) & mask)
    if (strcmp(r->syms[j].name, name) == 0) return (long)r->syms[j].file;
  return -1;
}

/* Adds "<scope>.<name>" (or "<name>" with an empty scope); the name is
 * written into buf for nested scopes. First definition wins. */
static int sym_add(rpc_reflection *r, const char *scope, const char *name, size_t file,
                   char *buf, size_t cap) {
  if (!name) return 0;
  int n = snprintf(buf, cap, "%s%s%s", scope, scope[0] ? "." : "", name);
  if (n < 0 || (size_t)n >= cap) return REG_EINVAL;
  if (sym_find(r, buf) >= 0) return 0;
  if (2 * (r->n_syms + 1) > r->sym_cap && sym_grow(r) != 0) return REG_ENOMEM;
  char *copy = strdup(buf);
  if (!copy) return REG_ENOMEM;
  size_t mask = r->sym_cap - 1;
  size_t j = rpc_hash(copy, strlen(copy)) & mask;
  while (r->syms[j].name) j = (j + 1) & mask;
  r->syms[j].name = copy;
  r->syms[j].file = file;
  r->n_syms++;
  return 0;
}

static int index_enum(rpc_reflection *r, const char *scope,
                      const Google__Protobuf__EnumDescriptorProto *e, size_t file) {
  char full[512];
  int rv = sym_add(r, scope, e->name, file, full, sizeof(full));
  for (size_t i = 0; rv == 0 && i < e->n_value; i++) {
    char v[512];
    rv = sym_add(r, scope, e->value[i]->name, file, v, sizeof(v));
  }
  return rv;
}

static int index_message(rpc_reflection *r, const char *scope,
                         const Google__Protobuf__DescriptorProto *m, size_t file, int depth) {
  char full[512];
  if (depth > 32) return REG_EINVAL;
  int rv = sym_add(r, scope, m->name, file, full, sizeof(full));
  for (size_t i = 0; rv == 0 && i < m->n_field; i++) {
    char f[512];
    rv = sym_add(r, full, m->field[i]->name, file, f, sizeof(f));
  }
  for (size_t i = 0; rv == 0 && i < m->n_nested_type; i++)
    rv = index_message(r, full, m->nested_type[i], file, depth + 1);
  for (size_t i = 0; rv == 0 && i < m->n_enum_type; i++)
    rv = index_enum(r, full, m->enum_type[i], file);
  return rv;
}

static int index_file(rpc_reflection *r, size_t fi) {
  const Google__Protobuf__FileDescriptorProto *fd = r->files[fi].fd;
  const char *pkg = fd->package ? fd->package : "";
  int rv = 0;
  for (size_t i = 0; rv == 0 && i < fd->n_message_type; i++)
    rv = index_message(r, pkg, fd->message_type[i], fi, 0);
  for (size_t i = 0; rv == 0 && i < fd->n_enum_type; i++)
    rv = index_enum(r, pkg, fd->enum_type[i], fi);
  for (size_t i = 0; rv == 0 && i < fd->n_service; i++) {
    const Google__Protobuf__ServiceDescriptorProto *sv = fd->service[i];
    char full[512];
    rv = sym_add(r, pkg, sv->name, fi, full, sizeof(full));
    for (size_t k = 0; rv == 0 && k < sv->n_method; k++) {
      char mm[512];
      rv = sym_add(r, full, sv->method[k]->name, fi, mm, sizeof(mm));
    }
  }
  for (size_t i = 0; rv == 0 && i < fd->n_extension; i++) {
    char ext[512];
    rv = sym_add(r, pkg, fd->extension[i]->name, fi, ext, sizeof(ext));
  }
  return rv;
}

static long file_find(const rpc_reflection *r, const char *name) {
  if (!name) return -1;
  for (size_t i = 0; i < r->n_files; i++)
    if (strcmp(r->files[i].name, name) == 0) return (long)i;
  return -1;
}

/* Reads a varint; 0 on success. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return REG_EINVAL;
}

/* Cuts the set into its `file` entries (field 1, length-delimited). */
static int split_set(rpc_reflection *r, const uint8_t *p, size_t len) {
  const uint8_t *end = p + len;
  size_t cap = 0;
  while (p < end) {
    uint64_t key, n;
    if (read_varint(&p, end, &key) != 0 || key != ((1u << 3) | 2)) return REG_EINVAL;
    if (read_varint(&p, end, &n) != 0 || n > (uint64_t)(end - p)) return REG_EINVAL;
    if (r->n_files == cap) {
      if (cap >= MAX_FILES) return REG_EINVAL;
      cap = cap ? cap * 2 : 32;
      refl_file *nf = realloc(r->files, cap * sizeof(*nf));
      if (!nf) return REG_ENOMEM;
      r->files = nf;
    }
    refl_file *f = &r->files[r->n_files];
    memset(f, 0, sizeof(*f));
    f->data = p;
    f->len = (size_t)n;
    f->fd = google__protobuf__file_descriptor_proto__unpack(NULL, f->len, f->data);
    if (!f->fd || !f->fd->name) {
      if (f->fd) google__protobuf__file_descriptor_proto__free_unpacked(f->fd, NULL);
      return REG_EINVAL;
    }
    f->name = f->fd->name;
    r->n_files++;
    p += n;
  }
  return 0;
}

static int build_services(rpc_reflection *r) {
  size_t n = sizeof(reflection_services) / sizeof(reflection_services[0]);
  for (size_t i = 0; i < r->n_files; i++) n += r->files[i].fd->n_service;
  r->services = calloc(n, sizeof(*r->services));
  r->service_ptrs = calloc(n, sizeof(*r->service_ptrs));
  if (!r->services || !r->service_ptrs) return REG_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < r->n_files; i++) {
    const Google__Protobuf__FileDescriptorProto *fd = r->files[i].fd;
    for (size_t j = 0; j < fd->n_service; j++) {
      char full[512];
      snprintf(full, sizeof(full), "%s%s%s", fd->package ? fd->package : "",
               fd->package && fd->package[0] ? "." : "", fd->service[j]->name);
      grpc__reflection__v1__service_response__init(&r->services[k]);
      r->services[k].name = strdup(full);
      if (!r->services[k].name) return REG_ENOMEM;
      r->service_ptrs[k] = &r->services[k];
      k++;
    }
  }
  for (size_t i = 0; i < sizeof(reflection_services) / sizeof(reflection_services[0]); i++) {
    int listed = 0; /* the set may carry the reflection protos themselves */
    for (size_t j = 0; j < k; j++)
      if (strcmp(r->services[j].name, reflection_services[i]) == 0) listed = 1;
    if (listed) continue;
    grpc__reflection__v1__service_response__init(&r->services[k]);
    r->services[k].name = strdup(reflection_services[i]);
    if (!r->services[k].name) return REG_ENOMEM;
    r->service_ptrs[k] = &r->services[k];
    k++;
  }
  r->n_services = k;
  return 0;
}

int rpc_reflection_new(const unsigned char *set, size_t len, rpc_reflection **out) {
  int rv = REG_ENOMEM;
  rpc_reflection *r = calloc(1, sizeof(*r));
  if (!r) goto out;
  if ((rv = split_set(r, set, len)) != 0) goto fail;
  for (size_t i = 0; i < r->n_files; i++) {
    refl_file *f = &r->files[i];
    f->deps = calloc(f->fd->n_dependency ? f->fd->n_dependency : 1, sizeof(size_t));
    if (!f->deps) {
      rv = REG_ENOMEM;
      goto fail;
    }
    for (size_t d = 0; d < f->fd->n_dependency; d++) {
      long di = file_find(r, f->fd->dependency[d]);
      if (di < 0) {
        log_warn(NULL, "reflection: %s imports %s, which the set lacks", f->name,
                 f->fd->dependency[d]);
        continue;
      }
      f->deps[f->n_deps++] = (size_t)di;
    }
    if ((rv = index_file(r, i)) != 0) goto fail;
  }
  if ((rv = build_services(r)) != 0) goto fail;
  *out = r;
  return 0;
fail:
  rpc_reflection_free(r);
out:
  return rv;
}

void rpc_reflection_free(rpc_reflection *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n_files; i++) {
    free(r->files[i].deps);
    google__protobuf__file_descriptor_proto__free_unpacked(r->files[i].fd, NULL);
  }
  free(r->files);
  for (size_t i = 0; i < r->sym_cap; i++) free(r->syms[i].name);
  free(r->syms);
  for (size_t i = 0; r->services && i < r->n_services; i++) free(r->services[i].name);
  free(r->services);
  free(r->service_ptrs);
  free(r);
}

/* ------------------------------------------------------------ the stream */

/* The file and its transitive dependencies, each once, into out[]. */
static size_t closure(const rpc_reflection *r, size_t fi, char *seen, size_t *out, size_t n) {
  if (seen[fi]) return n;
  seen[fi] = 1;
  out[n++] = fi;
  for (size_t d = 0; d < r->files[fi].n_deps; d++) n = closure(r, r->files[fi].deps[d], seen, out, n);
  return n;
}

static int send_error(rpc_stream *s, Grpc__Reflection__V1__ServerReflectionResponse *resp,
                      rpc_code code, const char *fmt, const char *what) {
  char msg[300];
  snprintf(msg, sizeof(msg), fmt, what ? what : "");
  Grpc__Reflection__V1__ErrorResponse er = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
  er.error_code = (int32_t)code;
  er.error_message = msg;
  resp->message_response_case = RESP(ERROR_RESPONSE);
  resp->error_response = &er;
  return rpc_stream_send(s, &resp->base);
}

static int send_files(rpc_stream *s, const rpc_reflection *r,
                      Grpc__Reflection__V1__ServerReflectionResponse *resp, size_t fi) {
  int rv = REG_ENOMEM;
  char *seen = calloc(r->n_files, 1);
  size_t *idx = calloc(r->n_files, sizeof(size_t));
  ProtobufCBinaryData *bins = calloc(r->n_files, sizeof(*bins));
  if (!seen || !idx || !bins) goto out;
  size_t n = closure(r, fi, seen, idx, 0);
  for (size_t i = 0; i < n; i++) {
    bins[i].data = (uint8_t *)r->files[idx[i]].data;
    bins[i].len = r->files[idx[i]].len;
  }
  Grpc__Reflection__V1__FileDescriptorResponse fr = GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
  fr.n_file_descriptor_proto = n;
  fr.file_descriptor_proto = bins;
  resp->message_response_case = RESP(FILE_DESCRIPTOR_RESPONSE);
  resp->file_descriptor_response = &fr;
  rv = rpc_stream_send(s, &resp->base);
out:
  free(seen);
  free(idx);
  free(bins);
  return rv;
}

static void refl_on_message(rpc_stream *s, void *state, const ProtobufCMessage *msg) {
  (void)state;
  const rpc_reflection *r = s->loop->srv->refl;
  Grpc__Reflection__V1__ServerReflectionRequest *req =
      (Grpc__Reflection__V1__ServerReflectionRequest *)msg;
  Grpc__Reflection__V1__ServerReflectionResponse resp =
      GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
  resp.valid_host = req->host;
  resp.original_request = req;
  int rv;
  long fi;
  switch (req->message_request_case) {
  case REQ(LIST_SERVICES): {
    Grpc__Reflection__V1__ListServiceResponse ls = GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
    ls.n_service = r->n_services;
    ls.service = r->service_ptrs;
    resp.message_response_case = RESP(LIST_SERVICES_RESPONSE);
    resp.list_services_response = &ls;
    rv = rpc_stream_send(s, &resp.base);
    break;
  }
  case REQ(FILE_BY_FILENAME):
    fi = file_find(r, req->file_by_filename);
    rv = fi < 0 ? send_error(s, &resp, RPC_NOT_FOUND, "file not found: %.200s", req->file_by_filename)
                : send_files(s, r, &resp, (size_t)fi);
    break;
  case REQ(FILE_CONTAINING_SYMBOL):
    fi = sym_find(r, req->file_containing_symbol);
    rv = fi < 0 ? send_error(s, &resp, RPC_NOT_FOUND, "symbol not found: %.200s",
                             req->file_containing_symbol)
                : send_files(s, r, &resp, (size_t)fi);
    break;
  case REQ(FILE_CONTAINING_EXTENSION):
    rv = send_error(s, &resp, RPC_NOT_FOUND, "extension not found%s", NULL);
    break;
  case REQ(ALL_EXTENSION_NUMBERS_OF_TYPE):
    rv = send_error(s, &resp, RPC_NOT_FOUND, "no extensions of %.200s",
                    req->all_extension_numbers_of_type);
    break;
  default:
    rv = send_error(s, &resp, RPC_INVALID_ARGUMENT, "empty reflection request%s", NULL);
    break;
  }
  if (rv != 0) {
    rpc_status st;
    rpc_status_init(&st);
    (void)rpc_fail(&st, RPC_RESOURCE_EXHAUSTED, "reflection responses not being read");
    rpc_stream_finish(s, &st);
  }
}

static void refl_on_half_close(rpc_stream *s, void *state) {
  (void)state;
  rpc_stream_finish(s, NULL);
}

static void refl_on_close(rpc_stream *s, void *state, rpc_code why) {
  (void)s;
  (void)state;
  (void)why;
}

const rpc_stream_ops rpc_reflection_ops = {
    .on_message = refl_on_message,
    .on_half_close = refl_on_half_close,
    .on_close = refl_on_close,
};
