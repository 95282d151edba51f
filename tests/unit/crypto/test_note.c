/*
 * Unit tests of crypto/note.c: the C2SP signed-note vector of
 * tests/data/signed_note.json (verify only: it has no private key),
 * malformed notes, and sign → verify with a fresh key, including a
 * checkpoint-shaped text and a cosigned note.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "crypto/note.h"
#include "crypto/sig.h"

#define EM_DASH "\xE2\x80\x94"
/* snprintf into an array, failing the test on truncation */
#define FMT(buf, ...) assert_true((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf))

typedef struct fx {
  json_t *doc;
  const char *vkey;
  const char *text;
  const char *sig_line;
  char note[512]; /* text "\n" signature line "\n" */
} fx;

static int setup(void **state) {
  static fx f;
  char path[1024];
  const char *dir = getenv("REG_TEST_DATA");
  json_error_t err;

  snprintf(path, sizeof(path), "%s/signed_note.json", dir ? dir : "tests/data");
  f.doc = json_load_file(path, 0, &err);
  if (!f.doc) {
    fprintf(stderr, "%s: %s\n", path, err.text);
    return -1;
  }
  f.vkey = json_string_value(json_object_get(f.doc, "vkey"));
  f.text = json_string_value(json_object_get(f.doc, "note_text"));
  f.sig_line = json_string_value(json_object_get(f.doc, "signature_line"));
  if (!f.vkey || !f.text || !f.sig_line) return -1;
  /* the vector's signature_line has no newline of its own; a signed note
   * ends every signature line with one */
  if ((size_t)snprintf(f.note, sizeof(f.note), "%s\n%s\n", f.text, f.sig_line) >= sizeof(f.note))
    return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  json_decref(f->doc);
  return 0;
}

static void test_vector_verifies(void **state) {
  fx *f = *state;
  const char *end = NULL;

  assert_memory_equal(f->sig_line, EM_DASH " example.com/foo ", 20);
  assert_int_equal(note_verify(f->vkey, f->note, strlen(f->note), &end), 0);
  assert_ptr_equal(end, f->note + strlen(f->text));
  assert_int_equal(note_verify(f->vkey, f->note, strlen(f->note), NULL), 0);
}

static void test_vector_modified_fails(void **state) {
  fx *f = *state;
  char note[512];
  const char *end = (const char *)1;

  FMT(note, "%s", f->note);
  note[5] = 'I'; /* "This is" → "This Is": still a well-formed note */
  assert_int_equal(note_verify(f->vkey, note, strlen(note), &end), REG_ECRYPTO);
  assert_ptr_equal(end, (const char *)1);

  /* the signature's last bytes */
  FMT(note, "%s", f->note);
  char *p = note + strlen(note) - 6;
  *p = *p == 'Q' ? 'R' : 'Q';
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_ECRYPTO);

  /* a different key of the same name: not signed by it */
  uint8_t pk[32], sk[64];
  char vkey[128];
  assert_int_equal(sig_keypair_new(pk, sk), 0);
  assert_int_equal(sig_vkey("example.com/foo", pk, vkey, sizeof(vkey)), 0);
  assert_int_equal(note_verify(vkey, f->note, strlen(f->note), NULL), REG_ECRYPTO);
  sodium_memzero(sk, sizeof(sk));
}

static void test_malformed(void **state) {
  fx *f = *state;
  char note[512];
  size_t n = strlen(f->note);

  /* the vector as given, without the final newline */
  FMT(note, "%s\n%s", f->text, f->sig_line);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_EINVAL);
  /* no blank line before the signatures */
  FMT(note, "%s%s\n", f->text, f->sig_line);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_EINVAL);
  /* a hyphen for the em dash */
  FMT(note, "%s\n- %s\n", f->text, f->sig_line + 4);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_EINVAL);
  /* no signatures at all */
  FMT(note, "%s\n", f->text);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_EINVAL);
  /* a control character in the text */
  FMT(note, "%s", f->note);
  note[4] = '\t';
  assert_int_equal(note_verify(f->vkey, note, n, NULL), REG_EINVAL);
  /* invalid UTF-8 */
  note[4] = (char)0xFF;
  assert_int_equal(note_verify(f->vkey, note, n, NULL), REG_EINVAL);
  /* a broken line after a good one */
  FMT(note, "%s" EM_DASH " other.example/x !!!!!!!!\n", f->note);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), REG_EINVAL);
  /* a bad vkey */
  assert_int_equal(note_verify("example.com/foo+00000000+AAAA", f->note, n, NULL), REG_EINVAL);
  /* length given short of the real note */
  assert_int_equal(note_verify(f->vkey, f->note, n - 1, NULL), REG_EINVAL);
}

static void test_unknown_signers_ignored(void **state) {
  fx *f = *state;
  char note[512];

  /* another signer before and after ours: only ours is checked */
  FMT(note,
      "%s\n" EM_DASH " witness.example/w AAAAAAAAAAAAAAAAAAAAAAAA\n%s\n" EM_DASH
      " example.com/foo AAAAAAAA\n",
      f->text, f->sig_line);
  assert_int_equal(note_verify(f->vkey, note, strlen(note), NULL), 0);
}

static void test_sign_verify_round_trip(void **state) {
  static const char text[] = "reg.example.cn\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
  static const char name[] = "reg.example.cn";
  uint8_t pk[32], sk[64], sig[64], other_pk[32], other_sk[64], blob[68];
  char vkey[128], out[512], hex[9], prefix[64];
  const char *end = NULL, *b64;
  size_t got = 0;
  uint8_t id[4];
  (void)state;

  assert_int_equal(sig_keypair_new(pk, sk), 0);
  assert_int_equal(sig_vkey(name, pk, vkey, sizeof(vkey)), 0);
  assert_int_equal(note_sign(name, sk, pk, text, out, sizeof(out), sig), 0);

  /* exact shape: text, blank line, "— name base64(id ‖ sig)\n" */
  assert_int_equal(strlen(out), strlen(text) + NOTE_SIGN_OVERHEAD(strlen(name)) - 1);
  assert_memory_equal(out, text, strlen(text));
  FMT(prefix, "\n" EM_DASH " %s ", name);
  assert_memory_equal(out + strlen(text), prefix, strlen(prefix));
  b64 = out + strlen(text) + strlen(prefix);
  assert_int_equal(strlen(b64), 93);
  assert_int_equal(b64[92], '\n');
  assert_int_equal(sodium_base642bin(blob, sizeof(blob), b64, 92, NULL, &got, NULL,
                                     sodium_base64_VARIANT_ORIGINAL),
                   0);
  assert_int_equal(got, 68);
  assert_int_equal(sig_key_id(name, pk, id), 0);
  assert_memory_equal(blob, id, 4);
  assert_memory_equal(blob + 4, sig, 64);
  sig_key_id_hex(id, hex);
  assert_non_null(strstr(vkey, hex));
  /* the signature covers the text alone */
  assert_int_equal(sig_verify(pk, NULL, (const uint8_t *)text, strlen(text), sig), 0);

  assert_int_equal(note_verify(vkey, out, strlen(out), &end), 0);
  assert_ptr_equal(end, out + strlen(text));

  /* tamper with the tree size */
  out[15] = '3';
  assert_int_equal(note_verify(vkey, out, strlen(out), NULL), REG_ECRYPTO);
  out[15] = '4';

  /* another key's vkey does not verify it */
  assert_int_equal(sig_keypair_new(other_pk, other_sk), 0);
  assert_int_equal(sig_vkey(name, other_pk, vkey, sizeof(vkey)), 0);
  assert_int_equal(note_verify(vkey, out, strlen(out), NULL), REG_ECRYPTO);
  sodium_memzero(sk, sizeof(sk));
  sodium_memzero(other_sk, sizeof(other_sk));
}

static void test_sign_refusals(void **state) {
  uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[64];
  char out[256] = "keep", small[128];
  (void)state;

  assert_int_equal(sig_keypair_new(pk, sk), 0);
  assert_int_equal(sig_keypair_new(pk2, sk2), 0);
  assert_int_equal(note_sign("n", sk, pk, "no newline", out, sizeof(out), sig), REG_EINVAL);
  assert_int_equal(note_sign("n", sk, pk, "", out, sizeof(out), sig), REG_EINVAL);
  assert_int_equal(note_sign("n", sk, pk, "tab\there\n", out, sizeof(out), sig), REG_EINVAL);
  assert_int_equal(note_sign("a b", sk, pk, "text\n", out, sizeof(out), sig), REG_EINVAL);
  assert_int_equal(note_sign("n", sk, pk2, "text\n", out, sizeof(out), sig), REG_EINVAL);
  assert_string_equal(out, "keep");
  assert_int_equal(note_sign("n", sk, pk, "text\n", small, 5 + NOTE_SIGN_OVERHEAD(1) - 1, sig),
                   REG_ERANGE);
  assert_int_equal(note_sign("n", sk, pk, "text\n", small, 5 + NOTE_SIGN_OVERHEAD(1), NULL), 0);
  sodium_memzero(sk, sizeof(sk));
  sodium_memzero(sk2, sizeof(sk2));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_verifies),
      cmocka_unit_test(test_vector_modified_fails),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_unknown_signers_ignored),
      cmocka_unit_test(test_sign_verify_round_trip),
      cmocka_unit_test(test_sign_refusals),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
