/*
 * registry-verify: offline verification of what the registry signs, with no
 * server and no account (SPEC §4.3, §4.6):
 *
 *   registry-verify checkpoint NOTE_FILE --vkey VKEY
 *       the checkpoint's signature (a C2SP signed note from the LOG key);
 *   registry-verify receipt RECEIPT_FILE --vkey VKEY (--leaf LEAF_FILE | --leaf-hash HEX)
 *       a c2sp.org/tlog-proof@v1 receipt: its checkpoint's signature, and
 *       that the leaf (its exact bytes, or its RFC 9162 leaf hash) is at the
 *       receipt's index in that checkpoint's tree;
 *   registry-verify consistency --vkey VKEY --old NOTE_FILE --new NOTE_FILE --proof PROOF_FILE
 *       both checkpoints' signatures, and that the old tree is a prefix of
 *       the new one (PROOF_FILE: the consistency hashes, base64, one a line,
 *       as GetConsistencyProof returns them);
 *   registry-verify certificate CERT_FILE --vkey VKEY
 *       a wipe certificate (SPEC §4.3): the binary registry.v1.Certificate,
 *       or its proto3 canonical JSON form (a file whose first non-space
 *       byte is '{'), against the CERTIFICATE key (a vkey named
 *       ".../certificate"); every reason wipe_cert_verify gives is printed,
 *       one "invalid: <REASON>" line each. A file that is neither is
 *       "invalid: BODY_MALFORMED" (exit 1), like any malformed input;
 *   registry-verify invoice INVOICE_FILE --vkey VKEY
 *       a reverse or red invoice (SPEC §4.5): the binary registry.v1.Invoice
 *       or its proto3 canonical JSON form, against the INVOICE key (a vkey
 *       named ".../invoice"), the same way: every reason invoice_verify
 *       gives (services/invoice/invoice_sig.h), one line each.
 *
 * Prints "valid" and exits 0, or "invalid: <reason>" and exits 1; a usage
 * or I/O error exits 2. The vkey is the one LogService.ListSigningKeys
 * lists (name+keyid+base64 key); the checkpoint's origin must be the key's
 * name.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "crypto/sig.h"
#include "crypto/tlog_proof.h"
#include "services/invoice/invoice_sig.h"
#include "services/wipe/wipe.h"

#define MAX_FILE (1u << 20)

static int invalid(const char *why) {
  printf("invalid: %s\n", why);
  return 1;
}

static int usage(void) {
  fprintf(stderr,
          "usage: registry-verify checkpoint NOTE_FILE --vkey VKEY\n"
          "       registry-verify receipt RECEIPT_FILE --vkey VKEY (--leaf FILE | --leaf-hash HEX)\n"
          "       registry-verify consistency --vkey VKEY --old NOTE_FILE --new NOTE_FILE "
          "--proof PROOF_FILE\n"
          "       registry-verify certificate CERT_FILE --vkey VKEY\n"
          "       registry-verify invoice INVOICE_FILE --vkey VKEY\n");
  return 2;
}

/* The whole file, NUL-terminated (malloc'd; caller frees), or NULL. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "registry-verify: cannot open %s\n", path);
    return NULL;
  }
  char *buf = malloc(MAX_FILE + 1);
  size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
  int err = ferror(f);
  fclose(f);
  if (!buf || err || n > MAX_FILE) {
    fprintf(stderr, "registry-verify: cannot read %s (at most %u bytes)\n", path, MAX_FILE);
    free(buf);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

typedef struct checkpoint {
  uint64_t size;
  uint8_t root[32];
} checkpoint;

/* Verifies a signed checkpoint note against the vkey: 0, or 1 after
 * printing why not. */
static int check_note(const char *vkey, const char *note, size_t len, checkpoint *cp) {
  const char *text_end = NULL;
  int rv = note_verify(vkey, note, len, &text_end);
  if (rv == REG_ECRYPTO) return invalid("the checkpoint is not signed by this key");
  if (rv != 0) return invalid("malformed checkpoint note or vkey");
  char origin[256], name[256];
  uint8_t id[4], pk[32];
  if (tlog_checkpoint_parse(note, (size_t)(text_end - note), origin, sizeof(origin), &cp->size,
                            cp->root) != 0)
    return invalid("malformed checkpoint body");
  if (sig_vkey_parse(vkey, name, sizeof(name), id, pk) != 0) return invalid("malformed vkey");
  if (strcmp(origin, name) != 0) return invalid("the checkpoint's origin is not the key's name");
  return 0;
}

static int parse_hex32(const char *hex, uint8_t out[32]) {
  size_t n = 0;
  return strlen(hex) == 64 && sodium_hex2bin(out, 32, hex, 64, NULL, &n, NULL) == 0 && n == 32
             ? 0
             : -1;
}

static int cmd_checkpoint(const char *file, const char *vkey) {
  size_t len = 0;
  char *note = slurp(file, &len);
  if (!note) return 2;
  checkpoint cp;
  int rc = check_note(vkey, note, len, &cp);
  free(note);
  if (rc) return rc;
  printf("valid\n");
  return 0;
}

static int cmd_receipt(const char *file, const char *vkey, const char *leaf_file,
                       const char *leaf_hash_hex) {
  uint8_t leaf_hash[32];
  if (leaf_file) {
    size_t llen = 0;
    char *leaf = slurp(leaf_file, &llen);
    if (!leaf) return 2;
    merkle_leaf_hash((const uint8_t *)leaf, llen, leaf_hash);
    free(leaf);
  } else if (parse_hex32(leaf_hash_hex, leaf_hash) != 0) {
    fprintf(stderr, "registry-verify: --leaf-hash wants 64 hex digits\n");
    return 2;
  }
  size_t len = 0;
  char *text = slurp(file, &len);
  if (!text) return 2;
  int rc = 1;
  uint64_t index = 0;
  size_t n = 0, note_len = 0;
  const char *note = NULL;
  uint8_t(*hashes)[32] = malloc(MERKLE_MAX_PROOF * 32);
  checkpoint cp;
  if (!hashes) {
    rc = 2;
  } else if (tlog_proof_parse(text, len, &index, hashes, MERKLE_MAX_PROOF, &n, &note, &note_len) != 0) {
    rc = invalid("malformed receipt (c2sp.org/tlog-proof@v1 expected)");
  } else if ((rc = check_note(vkey, note, note_len, &cp)) == 0) {
    int v = merkle_verify_inclusion(index, cp.size, leaf_hash, (const uint8_t(*)[32])hashes, n,
                                    cp.root);
    if (v != 0) rc = invalid("the inclusion proof does not lead to the checkpoint's root");
    else printf("valid\n");
  }
  free(hashes);
  free(text);
  return rc;
}

/* A proof file: base64 hashes, one a line (blank lines ignored). */
static int read_proof(const char *file, uint8_t (*out)[32], size_t cap, size_t *n) {
  size_t len = 0;
  char *text = slurp(file, &len);
  if (!text) return 2;
  size_t k = 0;
  int rc = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    size_t l = strlen(line);
    if (l && line[l - 1] == '\r') line[--l] = 0;
    if (!l) continue;
    size_t bin = 0;
    if (k == cap || sodium_base642bin(out[k], 32, line, l, NULL, &bin, NULL,
                                      sodium_base64_VARIANT_ORIGINAL) != 0 || bin != 32) {
      rc = invalid("malformed proof file (base64 hashes, one a line)");
      break;
    }
    k++;
  }
  free(text);
  if (rc == 0) *n = k;
  return rc;
}

static int cmd_consistency(const char *vkey, const char *old_file, const char *new_file,
                           const char *proof_file) {
  checkpoint a, b;
  size_t alen = 0, blen = 0, n = 0;
  char *an = slurp(old_file, &alen), *bn = an ? slurp(new_file, &blen) : NULL;
  uint8_t(*proof)[32] = malloc(MERKLE_MAX_PROOF * 32);
  int rc = 2;
  if (!an || !bn || !proof) goto out;
  if ((rc = check_note(vkey, an, alen, &a)) || (rc = check_note(vkey, bn, blen, &b)) ||
      (rc = read_proof(proof_file, proof, MERKLE_MAX_PROOF, &n)))
    goto out;
  if (a.size > b.size) {
    rc = invalid("the old checkpoint is larger than the new one");
  } else if (merkle_verify_consistency(a.size, b.size, a.root, b.root,
                                       (const uint8_t(*)[32])proof, n) != 0) {
    rc = invalid("the old tree is not a prefix of the new one");
  } else {
    printf("valid\n");
    rc = 0;
  }
out:
  free(an);
  free(bn);
  free(proof);
  return rc;
}

/* Proto3 JSON bytes: standard or URL-safe base64, padded or not. A
 * malloc'd buffer (caller frees; non-NULL even when empty), or NULL. */
static uint8_t *json_bytes(const char *b64, size_t *len) {
  static const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
                                 sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                 sodium_base64_VARIANT_URLSAFE,
                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING};
  size_t l = strlen(b64), cap = l / 4 * 3 + 3;
  uint8_t *out = malloc(cap);
  if (!out) return NULL;
  for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
    size_t n = 0;
    const char *end = NULL;
    if (sodium_base642bin(out, cap, b64, l, NULL, &n, &end, variants[i]) == 0 && end == b64 + l) {
      *len = n;
      return out;
    }
  }
  free(out);
  return NULL;
}

/* Proto3 JSON int64: a JSON integer or a decimal string. 0 or -1. */
static int json_int64(const json_t *v, int64_t *out) {
  if (json_is_integer(v)) {
    *out = (int64_t)json_integer_value(v);
    return 0;
  }
  if (!json_is_string(v)) return -1;
  const char *s = json_string_value(v);
  char *end = NULL;
  if (!*s || isspace((unsigned char)*s)) return -1;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  if (*end || errno) return -1;
  *out = x;
  return 0;
}

/* Proto3 JSON uint64: a non-negative JSON integer or a string of decimal
 * digits. 0 or -1. */
static int json_uint64(const json_t *v, uint64_t *out) {
  if (json_is_integer(v)) {
    if (json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
  }
  if (!json_is_string(v)) return -1;
  const char *s = json_string_value(v);
  char *end = NULL;
  if (!isdigit((unsigned char)*s)) return -1;
  errno = 0;
  unsigned long long x = strtoull(s, &end, 10);
  if (*end || errno) return -1;
  *out = x;
  return 0;
}

/* The JSON key names the field: its JSON name (lowerCamel, as protoc
 * derives it: an underscore dropped and the next letter upper-cased) or its
 * original name. */
static int json_key_is(const char *key, const char *name) {
  if (!strcmp(key, name)) return 1;
  int up = 0;
  for (; *name; name++) {
    if (*name == '_') {
      up = 1;
      continue;
    }
    char c = up ? (char)toupper((unsigned char)*name) : *name;
    up = 0;
    if (*key++ != c) return 0;
  }
  return *key == 0;
}

#define JSON_DEPTH_MAX 32

/* The size of one element of a field of type t in its C structure (0: a
 * type this decoder does not take). */
static size_t pb_elem_size(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
  case PROTOBUF_C_TYPE_ENUM:
    return sizeof(int32_t);
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
    return sizeof(uint32_t);
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
    return sizeof(int64_t);
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return sizeof(uint64_t);
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_STRING:
    return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(ProtobufCMessage *);
  default: /* float, double: in no document registry-verify reads */
    return 0;
  }
}

static int pb_json_message(const ProtobufCMessageDescriptor *d, const json_t *obj,
                           ProtobufCMessage *m, int depth);

/* One value of field f from v into slot (the field's storage, or one
 * element of its array). 0 or -1. What it allocates hangs off the message
 * at once, so that freeing the message frees it on any failure. */
static int pb_json_value(const ProtobufCFieldDescriptor *f, const json_t *v, void *slot,
                         int depth) {
  int64_t i = 0;
  uint64_t u = 0;
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32:
    if (json_int64(v, &i) != 0 || i < INT32_MIN || i > INT32_MAX) return -1;
    *(int32_t *)slot = (int32_t)i;
    return 0;
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32:
    if (json_uint64(v, &u) != 0 || u > UINT32_MAX) return -1;
    *(uint32_t *)slot = (uint32_t)u;
    return 0;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
    return json_int64(v, (int64_t *)slot);
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return json_uint64(v, (uint64_t *)slot);
  case PROTOBUF_C_TYPE_BOOL:
    if (!json_is_boolean(v)) return -1;
    *(protobuf_c_boolean *)slot = json_is_true(v);
    return 0;
  case PROTOBUF_C_TYPE_ENUM: {
    /* its value's name, or its number (proto3 enums are open) */
    if (json_is_string(v)) {
      const ProtobufCEnumValue *ev =
          protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v));
      if (!ev) return -1;
      *(int32_t *)slot = ev->value;
      return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
        json_integer_value(v) > INT32_MAX)
      return -1;
    *(int32_t *)slot = (int32_t)json_integer_value(v);
    return 0;
  }
  case PROTOBUF_C_TYPE_STRING: {
    char *str = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    if (!str) return -1;
    *(char **)slot = str;
    return 0;
  }
  case PROTOBUF_C_TYPE_BYTES: {
    ProtobufCBinaryData *b = slot;
    size_t n = 0;
    uint8_t *data = json_is_string(v) ? json_bytes(json_string_value(v), &n) : NULL;
    if (!data) return -1;
    b->data = data;
    b->len = n;
    return 0;
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessageDescriptor *md = f->descriptor;
    /* The well-known types have JSON forms of their own (a Timestamp is an
     * RFC 3339 string); none is in a document read here, so they are
     * refused rather than misread. */
    if (!json_is_object(v) || depth >= JSON_DEPTH_MAX ||
        !strncmp(md->name, "google.protobuf.", 16))
      return -1;
    ProtobufCMessage *sub = calloc(1, md->sizeof_message);
    if (!sub) return -1;
    protobuf_c_message_init(md, sub);
    *(ProtobufCMessage **)slot = sub;
    return pb_json_message(md, v, sub, depth + 1);
  }
  default:
    return -1;
  }
}

/* The fields of JSON object obj into m (initialized, of type d). An unknown
 * field, a field given twice (by both its names), two members of one oneof,
 * or a value of the wrong type is -1; null is the field's default. */
static int pb_json_message(const ProtobufCMessageDescriptor *d, const json_t *obj,
                           ProtobufCMessage *m, int depth) {
  uint8_t *base = (uint8_t *)m, *seen = calloc(d->n_fields ? d->n_fields : 1, 1);
  const char *key;
  json_t *v;
  int rc = seen ? 0 : -1;
  if (rc == 0) {
    json_object_foreach((json_t *)obj, key, v) {
      const ProtobufCFieldDescriptor *f = NULL;
      for (unsigned k = 0; k < d->n_fields && !f; k++)
        if (json_key_is(key, d->fields[k].name)) f = &d->fields[k];
      if (!f || seen[f - d->fields]) {
        rc = -1;
        break;
      }
      seen[f - d->fields] = 1;
      if (json_is_null(v)) continue;
      size_t size = pb_elem_size(f->type);
      if (!size) {
        rc = -1;
        break;
      }
      if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = json_array_size(v);
        if (!json_is_array(v)) {
          rc = -1;
          break;
        }
        if (!n) continue;
        uint8_t *arr = calloc(n, size);
        if (!arr) {
          rc = -1;
          break;
        }
        *(void **)(base + f->offset) = arr;
        *(size_t *)(base + f->quantifier_offset) = n;
        for (size_t i = 0; i < n && rc == 0; i++) {
          json_t *e = json_array_get(v, i);
          if (json_is_null(e) || pb_json_value(f, e, arr + i * size, depth) != 0) rc = -1;
        }
        if (rc) break;
        continue;
      }
      if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
        if (*which != 0) {
          rc = -1;
          break;
        }
        *which = f->id;
      } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                 f->type != PROTOBUF_C_TYPE_MESSAGE) {
        *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
      }
      if (pb_json_value(f, v, base + f->offset, depth) != 0) {
        rc = -1;
        break;
      }
    }
  }
  free(seen);
  return rc;
}

/* A message of type d from its proto3 canonical JSON (MessageToJson:
 * lowerCamel keys, bytes base64, 64-bit integers as strings, enums by
 * name; original field names, enum numbers and null values accepted too).
 * Free with protobuf_c_message_free_unpacked; NULL when malformed. */
static ProtobufCMessage *pb_from_json(const ProtobufCMessageDescriptor *d, const char *text,
                                      size_t len) {
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  ProtobufCMessage *m = NULL;
  if (root && json_is_object(root) && (m = calloc(1, d->sizeof_message)) != NULL) {
    protobuf_c_message_init(d, m);
    if (pb_json_message(d, root, m, 0) != 0 || !protobuf_c_message_check(m)) {
      protobuf_c_message_free_unpacked(m, NULL);
      m = NULL;
    }
  }
  json_decref(root);
  return m;
}

/* A document: the binary message of type d, or its proto3 canonical JSON
 * form (a file whose first non-space byte is '{'). 0 with *out, NULL when
 * the file is neither (the caller's verdict says malformed); 2 when the
 * file cannot be read. Free *out with protobuf_c_message_free_unpacked. */
static int read_document(const char *file, const ProtobufCMessageDescriptor *d,
                         ProtobufCMessage **out) {
  size_t len = 0, i = 0;
  char *text = slurp(file, &len);
  if (!text) return 2;
  while (i < len && isspace((unsigned char)text[i])) i++;
  *out = i < len && text[i] == '{' ? pb_from_json(d, text, len)
                                   : protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)text);
  free(text);
  return 0;
}

/* The signing key of one purpose from its vkey, whose name must end in
 * suffix ("/certificate", "/invoice"): 0 with pk and key_id, or 1 after
 * printing why not (`not_it`: the refusal of a key of another purpose). */
static int purpose_key(const char *vkey, const char *suffix, const char *not_it,
                       uint8_t pk[SIG_PK_LEN], char key_id[9]) {
  char name[256];
  uint8_t id[SIG_KEY_ID_LEN];
  if (sig_vkey_parse(vkey, name, sizeof(name), id, pk) != 0) return invalid("malformed vkey");
  size_t nl = strlen(name), sl = strlen(suffix);
  if (nl <= sl || strcmp(name + nl - sl, suffix) != 0) return invalid(not_it);
  sig_key_id_hex(id, key_id);
  return 0;
}

/* "valid" (0), or one "invalid: <REASON>" line per reason (1). */
static int print_verdict(int valid, const char *const *reasons, size_t n) {
  if (valid) {
    printf("valid\n");
    return 0;
  }
  for (size_t k = 0; k < n; k++) printf("invalid: %s\n", reasons[k]);
  return 1;
}

static int cmd_certificate(const char *file, const char *vkey) {
  ProtobufCMessage *m = NULL;
  int rc = read_document(file, &registry__v1__certificate__descriptor, &m);
  if (rc) return rc;
  wipe_cert_key key;
  memset(&key, 0, sizeof(key));
  if ((rc = purpose_key(vkey, "/certificate", "the key is not a CERTIFICATE key", key.pk,
                        key.key_id)) == 0) {
    wipe_cert_verdict v;
    wipe_cert_verify((const Registry__V1__Certificate *)m, &key, 1, 0, &v);
    rc = print_verdict(v.valid, v.reasons, v.n_reasons);
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return rc;
}

static int cmd_invoice(const char *file, const char *vkey) {
  ProtobufCMessage *m = NULL;
  int rc = read_document(file, &registry__v1__invoice__descriptor, &m);
  if (rc) return rc;
  invoice_sig_key key;
  memset(&key, 0, sizeof(key));
  if ((rc = purpose_key(vkey, "/invoice", "the key is not an INVOICE key", key.pk,
                        key.key_id)) == 0) {
    invoice_sig_verdict v;
    invoice_verify((const Registry__V1__Invoice *)m, &key, 1, &v);
    rc = print_verdict(v.valid, v.reasons, v.n_reasons);
  }
  protobuf_c_message_free_unpacked(m, NULL);
  return rc;
}

int main(int argc, char **argv) {
  if (sodium_init() < 0) return 2;
  if (argc < 2) return usage();
  const char *cmd = argv[1], *file = NULL, *vkey = NULL, *leaf = NULL, *leaf_hash = NULL;
  const char *old_file = NULL, *new_file = NULL, *proof = NULL;
  for (int i = 2; i < argc; i++) {
    const char **dst = NULL;
    if (!strcmp(argv[i], "--vkey")) dst = &vkey;
    else if (!strcmp(argv[i], "--leaf")) dst = &leaf;
    else if (!strcmp(argv[i], "--leaf-hash")) dst = &leaf_hash;
    else if (!strcmp(argv[i], "--old")) dst = &old_file;
    else if (!strcmp(argv[i], "--new")) dst = &new_file;
    else if (!strcmp(argv[i], "--proof")) dst = &proof;
    if (dst) {
      if (i + 1 >= argc) return usage();
      *dst = argv[++i];
    } else if (!file && argv[i][0] != '-') {
      file = argv[i];
    } else {
      return usage();
    }
  }
  if (!vkey) return usage();
  if (!strcmp(cmd, "checkpoint") && file) return cmd_checkpoint(file, vkey);
  if (!strcmp(cmd, "receipt") && file && (!leaf != !leaf_hash))
    return cmd_receipt(file, vkey, leaf, leaf_hash);
  if (!strcmp(cmd, "consistency") && !file && old_file && new_file && proof)
    return cmd_consistency(vkey, old_file, new_file, proof);
  int doc_only = file && !leaf && !leaf_hash && !old_file && !new_file && !proof;
  if (!strcmp(cmd, "certificate") && doc_only) return cmd_certificate(file, vkey);
  if (!strcmp(cmd, "invoice") && doc_only) return cmd_invoice(file, vkey);
  return usage();
}
