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
 *       "invalid: BODY_MALFORMED" (exit 1), like any malformed input.
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
          "       registry-verify certificate CERT_FILE --vkey VKEY\n");
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

/* The field name matches a proto field, in its JSON (lowerCamel) or its
 * original name. */
static int field_is(const char *key, const char *json_name, const char *proto_name) {
  return !strcmp(key, json_name) || !strcmp(key, proto_name);
}

static void cert_json_free(Registry__V1__Certificate *c) {
  if (!c) return;
  free(c->id);
  free(c->body.data);
  free(c->signature.data);
  free(c->key_id);
  free(c->event_id);
  free(c->revoked_reason);
  free(c);
}

/* A Certificate from its proto3 canonical JSON (MessageToJson: lowerCamel
 * keys, bytes base64, int64 as a string; original field names and null
 * values accepted too; an unknown field is malformed). Free with
 * cert_json_free; NULL when malformed. */
static Registry__V1__Certificate *cert_from_json(const char *text, size_t len) {
  json_t *root = json_loadb(text, len, 0, NULL);
  Registry__V1__Certificate *c = calloc(1, sizeof(*c));
  int ok = root && json_is_object(root) && c;
  if (c) {
    registry__v1__certificate__init(c);
    /* init points unset strings at a shared static "": own them instead */
    c->id = c->key_id = c->event_id = c->revoked_reason = NULL;
  }
  const char *key;
  json_t *v;
  if (ok) {
    json_object_foreach(root, key, v) {
      if (json_is_null(v)) continue;
      char **str = NULL;
      ProtobufCBinaryData *bin = NULL;
      if (field_is(key, "id", "id")) str = &c->id;
      else if (field_is(key, "keyId", "key_id")) str = &c->key_id;
      else if (field_is(key, "eventId", "event_id")) str = &c->event_id;
      else if (field_is(key, "revokedReason", "revoked_reason")) str = &c->revoked_reason;
      else if (field_is(key, "body", "body")) bin = &c->body;
      else if (field_is(key, "signature", "signature")) bin = &c->signature;
      if (str) {
        ok = json_is_string(v) && *str == NULL && (*str = strdup(json_string_value(v))) != NULL;
      } else if (bin) {
        ok = json_is_string(v) && bin->data == NULL &&
             (bin->data = json_bytes(json_string_value(v), &bin->len)) != NULL;
      } else if (field_is(key, "logIndex", "log_index")) {
        ok = json_int64(v, &c->log_index) == 0;
      } else if (field_is(key, "sequenced", "sequenced")) {
        ok = json_is_boolean(v);
        c->sequenced = json_is_true(v);
      } else if (field_is(key, "revoked", "revoked")) {
        ok = json_is_boolean(v);
        c->revoked = json_is_true(v);
      } else {
        ok = 0;
      }
      if (!ok) break;
    }
  }
  json_decref(root);
  if (!ok) {
    cert_json_free(c);
    return NULL;
  }
  /* protobuf-c's "unset string" is the empty string, never NULL */
  char **strs[] = {&c->id, &c->key_id, &c->event_id, &c->revoked_reason};
  for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
    if (!*strs[i] && !(*strs[i] = strdup(""))) {
      cert_json_free(c);
      return NULL;
    }
  return c;
}

static int cmd_certificate(const char *file, const char *vkey) {
  size_t len = 0;
  char *text = slurp(file, &len);
  if (!text) return 2;
  char name[256];
  uint8_t id[SIG_KEY_ID_LEN];
  static const char suffix[] = "/certificate";
  wipe_cert_key key;
  memset(&key, 0, sizeof(key));
  if (sig_vkey_parse(vkey, name, sizeof(name), id, key.pk) != 0) {
    free(text);
    return invalid("malformed vkey");
  }
  size_t nl = strlen(name), sl = sizeof(suffix) - 1;
  if (nl <= sl || strcmp(name + nl - sl, suffix) != 0) {
    free(text);
    return invalid("the key is not a CERTIFICATE key");
  }
  sig_key_id_hex(id, key.key_id);

  size_t i = 0;
  while (i < len && isspace((unsigned char)text[i])) i++;
  int json = i < len && text[i] == '{';
  Registry__V1__Certificate *c =
      json ? cert_from_json(text, len)
           : registry__v1__certificate__unpack(NULL, len, (const uint8_t *)text);
  wipe_cert_verdict verdict;
  wipe_cert_verify(c, &key, 1, 0, &verdict);
  if (json) cert_json_free(c);
  else registry__v1__certificate__free_unpacked(c, NULL);
  free(text);
  if (verdict.valid) {
    printf("valid\n");
    return 0;
  }
  for (size_t k = 0; k < verdict.n_reasons; k++) printf("invalid: %s\n", verdict.reasons[k]);
  return 1;
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
  if (!strcmp(cmd, "certificate") && file && !leaf && !leaf_hash && !old_file && !new_file && !proof)
    return cmd_certificate(file, vkey);
  return usage();
}
