/*
 * Unit tests of crypto/tlog_proof.c: checkpoint bodies (the C2SP example,
 * extension lines, every malformed size and root), and receipts in the
 * c2sp.org/tlog-proof@v1 text: a real inclusion proof under a freshly
 * signed checkpoint written, read back, verified; extra data; and the
 * malformed texts a parser must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/merkle.h"
#include "crypto/note.h"
#include "crypto/sig.h"
#include "crypto/tlog_proof.h"

#define ORIGIN "registry.example/log"
#define HDR "c2sp.org/tlog-proof@v1\n"
/* snprintf into an array, failing the test on truncation */
#define FMT(buf, ...) assert_true((size_t)snprintf((buf), sizeof(buf), __VA_ARGS__) < sizeof(buf))

typedef struct fx {
  uint8_t leaves[8][32];
  uint8_t root[32];
  char vkey[128];
  char note[512];       /* a signed checkpoint of the 8 leaves */
  char body[256];       /* its text */
  uint8_t proof[3][32]; /* inclusion proof of leaf 5 */
  char b64[3][45];
} fx;

/* The tree of eight leaves, kept flat: the proof is made by hand. */
static int setup(void **state) {
  static fx f;
  uint8_t pk[32], sk[64], l[4][32], m[2][32];
  int rc;

  for (int i = 0; i < 8; i++) {
    uint8_t b = (uint8_t)i;
    merkle_leaf_hash(&b, 1, f.leaves[i]);
  }
  for (int i = 0; i < 4; i++) merkle_node_hash(f.leaves[2 * i], f.leaves[2 * i + 1], l[i]);
  for (int i = 0; i < 2; i++) merkle_node_hash(l[2 * i], l[2 * i + 1], m[i]);
  merkle_node_hash(m[0], m[1], f.root);
  memcpy(f.proof[0], f.leaves[4], 32); /* leaf 5: sibling 4, then l[3], then m[0] */
  memcpy(f.proof[1], l[3], 32);
  memcpy(f.proof[2], m[0], 32);
  for (int i = 0; i < 3; i++)
    sodium_bin2base64(f.b64[i], sizeof(f.b64[i]), f.proof[i], 32, sodium_base64_VARIANT_ORIGINAL);
  if (sig_keypair_new(pk, sk) != 0) return -1;
  rc = tlog_checkpoint_body(ORIGIN, 8, f.root, f.body, sizeof(f.body));
  if (rc == 0) rc = note_sign(ORIGIN, sk, pk, f.body, f.note, sizeof(f.note), NULL);
  if (rc == 0) rc = sig_vkey(ORIGIN, pk, f.vkey, sizeof(f.vkey));
  sodium_memzero(sk, sizeof(sk));
  if (rc != 0) return -1;
  *state = &f;
  return 0;
}

static void test_checkpoint_round_trip(void **state) {
  static const uint64_t sizes[] = {0, 1, 9, 10, 109482, 20852163, UINT64_MAX};
  fx *f = *state;
  char body[256], origin[64], want[256], b64[45];
  uint8_t root[32];
  uint64_t size;

  sodium_bin2base64(b64, sizeof(b64), f->root, 32, sodium_base64_VARIANT_ORIGINAL);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    assert_int_equal(tlog_checkpoint_body(ORIGIN, sizes[i], f->root, body, sizeof(body)), 0);
    FMT(want, "%s\n%llu\n%s\n", ORIGIN, (unsigned long long)sizes[i], b64);
    assert_string_equal(body, want);
    assert_int_equal(tlog_checkpoint_parse(body, strlen(body), origin, sizeof(origin), &size, root),
                     0);
    assert_string_equal(origin, ORIGIN);
    assert_int_equal(size, sizes[i]);
    assert_memory_equal(root, f->root, 32);
  }
  /* exactly enough room, one byte less */
  assert_int_equal(tlog_checkpoint_body(ORIGIN, 8, f->root, body, strlen(f->body) + 1), 0);
  assert_int_equal(tlog_checkpoint_body(ORIGIN, 8, f->root, body, strlen(f->body)), REG_ERANGE);
  assert_int_equal(tlog_checkpoint_body("", 8, f->root, body, sizeof(body)), REG_EINVAL);
  assert_int_equal(tlog_checkpoint_body("two\nlines", 8, f->root, body, sizeof(body)), REG_EINVAL);
}

static void test_checkpoint_c2sp_example(void **state) {
  /* c2sp.org/tlog-checkpoint's example, and with extension lines */
  static const char ex[] =
      "example.com/behind-the-sofa\n20852163\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  static const char ext[] =
      "example.com/behind-the-sofa\n20852163\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension one\n2\n";
  char origin[64] = "keep", small[27];
  uint8_t root[32], want[32];
  uint64_t size = 7;
  size_t n;
  (void)state;

  assert_int_equal(sodium_base642bin(want, 32, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44,
                                     NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
                   0);
  assert_int_equal(tlog_checkpoint_parse(ex, strlen(ex), origin, sizeof(origin), &size, root), 0);
  assert_string_equal(origin, "example.com/behind-the-sofa");
  assert_int_equal(size, 20852163);
  assert_memory_equal(root, want, 32);
  size = 7;
  assert_int_equal(tlog_checkpoint_parse(ext, strlen(ext), origin, sizeof(origin), &size, root), 0);
  assert_int_equal(size, 20852163);
  /* origin buffer too small by one, exactly enough */
  size = 7;
  assert_int_equal(tlog_checkpoint_parse(ex, strlen(ex), small, sizeof(small), &size, root),
                   REG_ERANGE);
  assert_int_equal(size, 7);
  assert_int_equal(tlog_checkpoint_parse(ex, strlen(ex), origin, 28, &size, root), 0);
}

static void test_checkpoint_malformed(void **state) {
  static const char *const bad[] = {
      "",
      "example.com/log\n",
      "example.com/log\n5\n",
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",    /* no newline */
      "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",                 /* no origin */
      "example.com/log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", /* leading zero */
      "example.com/log\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n 1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n0x10\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  /* no padding */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", /* stray bits */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", /* URL alphabet */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= \n",
      "example.com/log\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",    /* 31 bytes */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",    /* 33 bytes */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",  /* empty ext. */
      "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next", /* unended */
      "example.com/log\r\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
      "example.com/\tlog\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
  };
  char origin[64] = "keep";
  uint8_t root[32] = {9};
  uint64_t size = 7;
  (void)state;

  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc = tlog_checkpoint_parse(bad[i], strlen(bad[i]), origin, sizeof(origin), &size, root);
    if (rc != REG_EINVAL) fail_msg("case %zu accepted (%d): %s", i, rc, bad[i]);
  }
  assert_string_equal(origin, "keep");
  assert_int_equal(size, 7);
  assert_int_equal(root[0], 9);
  /* the largest size is fine */
  assert_int_equal(tlog_checkpoint_parse("o\n18446744073709551615\n"
                                         "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
                                         68, origin, sizeof(origin), &size, root),
                   0);
  assert_int_equal(size, UINT64_MAX);
}

static void test_proof_round_trip(void **state) {
  fx *f = *state;
  char out[1024], want[1024], small[1024];
  uint8_t hashes[TLOG_PROOF_MAX_HASHES][32], root[32];
  const char *note = NULL, *text_end = NULL;
  size_t len = 0, n = 0, note_len = 0;
  uint64_t index = 0, size = 0;
  char origin[64];

  assert_int_equal(
      tlog_proof_format(5, (const uint8_t(*)[32])f->proof, 3, f->note, out, sizeof(out), &len), 0);
  FMT(want, HDR "index 5\n%s\n%s\n%s\n\n%s", f->b64[0], f->b64[1], f->b64[2], f->note);
  assert_string_equal(out, want);
  assert_int_equal(len, strlen(want));

  assert_int_equal(
      tlog_proof_parse(out, len, &index, hashes, TLOG_PROOF_MAX_HASHES, &n, &note, &note_len), 0);
  assert_int_equal(index, 5);
  assert_int_equal(n, 3);
  assert_memory_equal(hashes, f->proof, sizeof(f->proof));
  assert_ptr_equal(note, out + len - strlen(f->note));
  assert_int_equal(note_len, strlen(f->note));
  /* what a verifier does next: the note's signature, the checkpoint, the
   * inclusion of the leaf under its root */
  assert_int_equal(note_verify(f->vkey, note, note_len, &text_end), 0);
  assert_int_equal(
      tlog_checkpoint_parse(note, (size_t)(text_end - note), origin, sizeof(origin), &size, root),
      0);
  assert_string_equal(origin, ORIGIN);
  assert_int_equal(
      merkle_verify_inclusion(index, size, f->leaves[5], (const uint8_t(*)[32])hashes, n, root), 0);

  /* index 0 with no hashes (a tree of one), the largest index */
  assert_int_equal(tlog_proof_format(0, NULL, 0, f->note, out, sizeof(out), &len), 0);
  FMT(want, HDR "index 0\n\n%s", f->note);
  assert_string_equal(out, want);
  assert_int_equal(tlog_proof_parse(out, len, &index, NULL, 0, &n, &note, &note_len), 0);
  assert_int_equal(n, 0);
  assert_int_equal(index, 0);
  assert_int_equal(tlog_proof_format(UINT64_MAX, (const uint8_t(*)[32])f->proof, 1, f->note, out,
                                     sizeof(out), &len),
                   0);
  assert_int_equal(tlog_proof_parse(out, len, &index, hashes, 1, &n, &note, &note_len), 0);
  assert_int_equal(index, UINT64_MAX);

  /* cap exactly enough, one byte short */
  assert_int_equal(
      tlog_proof_format(5, (const uint8_t(*)[32])f->proof, 3, f->note, out, sizeof(out), &len), 0);
  memset(small, 'x', sizeof(small));
  assert_int_equal(tlog_proof_format(5, (const uint8_t(*)[32])f->proof, 3, f->note, small, len, &n),
                   REG_ERANGE);
  assert_int_equal(small[0], 'x');
  assert_int_equal(
      tlog_proof_format(5, (const uint8_t(*)[32])f->proof, 3, f->note, small, len + 1, &n), 0);
  assert_int_equal(n, len);
  /* hashes capacity too small */
  n = 99;
  assert_int_equal(tlog_proof_parse(out, len, &index, hashes, 2, &n, &note, &note_len), REG_ERANGE);
  assert_int_equal(n, 99);
}

static void test_proof_extra(void **state) {
  fx *f = *state;
  static const uint8_t extra[] = "age-v1.2.1-darwin-arm64.tar.gz";
  char out[1024], want[1024], b64[64];
  uint8_t hashes[4][32], got[64];
  const char *note;
  size_t len, n, note_len, xlen = 99;
  uint64_t index;
  int has = -1;

  assert_int_equal(
      tlog_proof_format_extra(5, extra, sizeof(extra) - 1, (const uint8_t(*)[32])f->proof, 3,
                              f->note, out, sizeof(out), &len),
      0);
  sodium_bin2base64(b64, sizeof(b64), extra, sizeof(extra) - 1, sodium_base64_VARIANT_ORIGINAL);
  FMT(want, HDR "extra %s\nindex 5\n%s\n%s\n%s\n\n%s", b64, f->b64[0], f->b64[1], f->b64[2],
      f->note);
  assert_string_equal(out, want);
  assert_int_equal(tlog_proof_parse_extra(out, len, &index, hashes, 4, &n, &note, &note_len, got,
                                          sizeof(got), &xlen, &has),
                   0);
  assert_int_equal(has, 1);
  assert_int_equal(xlen, sizeof(extra) - 1);
  assert_memory_equal(got, extra, xlen);
  assert_int_equal(n, 3);
  /* the plain parser skips it */
  assert_int_equal(tlog_proof_parse(out, len, &index, hashes, 4, &n, &note, &note_len), 0);
  assert_int_equal(index, 5);
  /* too small a buffer for it */
  xlen = 99;
  assert_int_equal(tlog_proof_parse_extra(out, len, &index, hashes, 4, &n, &note, &note_len, got,
                                          sizeof(extra) - 2, &xlen, &has),
                   REG_ERANGE);
  assert_int_equal(xlen, 99);
  /* empty extra data, and none */
  assert_int_equal(
      tlog_proof_format_extra(1, (const uint8_t *)"", 0, NULL, 0, f->note, out, sizeof(out), &len),
      0);
  FMT(want, HDR "extra \nindex 1\n\n%s", f->note);
  assert_string_equal(out, want);
  assert_int_equal(tlog_proof_parse_extra(out, len, &index, hashes, 4, &n, &note, &note_len, NULL,
                                          0, &xlen, &has),
                   0);
  assert_int_equal(has, 1);
  assert_int_equal(xlen, 0);
  assert_int_equal(tlog_proof_format(1, NULL, 0, f->note, out, sizeof(out), &len), 0);
  assert_int_equal(tlog_proof_parse_extra(out, len, &index, hashes, 4, &n, &note, &note_len, got,
                                          sizeof(got), &xlen, &has),
                   0);
  assert_int_equal(has, 0);
  assert_int_equal(xlen, 0);
  /* extra data longer than base64 chunks, of each length mod 3 */
  for (size_t k = 100; k < 103; k++) {
    uint8_t big[128], back[128];
    for (size_t i = 0; i < k; i++) big[i] = (uint8_t)(i * 37);
    assert_int_equal(tlog_proof_format_extra(2, big, k, NULL, 0, f->note, out, sizeof(out), &len),
                     0);
    assert_int_equal(tlog_proof_parse_extra(out, len, &index, hashes, 4, &n, &note, &note_len, back,
                                            sizeof(back), &xlen, &has),
                     0);
    assert_int_equal(xlen, k);
    assert_memory_equal(back, big, k);
    assert_int_equal(tlog_proof_parse(out, len, &index, hashes, 4, &n, &note, &note_len), 0);
  }
}

/* The proof with one line changed: f's proof of leaf 5 with `head` in
 * place of the header and index lines, `hash` in place of the hashes, and
 * `tail` after the note. */
static void build(const fx *f, char *out, size_t cap, const char *head, const char *hashes,
                  const char *tail) {
  char def[200];
  assert_true((size_t)snprintf(def, sizeof(def), "%s\n%s\n%s\n", f->b64[0], f->b64[1], f->b64[2]) <
              sizeof(def));
  assert_true((size_t)snprintf(out, cap, "%s%s\n%s%s", head ? head : HDR "index 5\n",
                               hashes ? hashes : def, f->note, tail ? tail : "") < cap);
}

static void test_proof_malformed(void **state) {
  fx *f = *state;
  static const struct {
    const char *head, *hashes, *tail;
  } bad[] = {
      {"", NULL, NULL},                                  /* no header */
      {"index 5\n", NULL, NULL},                         /* no header */
      {"c2sp.org/tlog-proof@v2\nindex 5\n", NULL, NULL}, /* other version */
      {"c2sp.org/tlog-proof@v1 \nindex 5\n", NULL, NULL},
      {"C2SP.org/tlog-proof@v1\nindex 5\n", NULL, NULL},
      {"c2sp.org/tlog-proof@v1\r\nindex 5\n", NULL, NULL},
      {HDR, NULL, NULL}, /* no index */
      {HDR "index\n", NULL, NULL},
      {HDR "index \n", NULL, NULL},
      {HDR "index 05\n", NULL, NULL}, /* leading zero */
      {HDR "index 00\n", NULL, NULL},
      {HDR "index -5\n", NULL, NULL},
      {HDR "index +5\n", NULL, NULL},
      {HDR "index  5\n", NULL, NULL},
      {HDR "index 5 \n", NULL, NULL},
      {HDR "index 5x\n", NULL, NULL},
      {HDR "index 18446744073709551616\n", NULL, NULL},
      {HDR "Index 5\n", NULL, NULL},
      {HDR "index 5\nindex 5\n", NULL, NULL},
      {HDR "extra !!notbase64!!\nindex 5\n", NULL, NULL}, /* bad extra */
      {HDR "extra YWJj\nextra YWJj\nindex 5\n", NULL, NULL},
      {HDR "extra YWI\nindex 5\n", NULL, NULL},
      {HDR "extra YR==\nindex 5\n", NULL, NULL}, /* stray bits */
      {HDR "extra YQ==YQ==\nindex 5\n", NULL, NULL},
      {HDR "index 5\nextra YWJj\n", NULL, NULL},                      /* extra after index */
      {NULL, "!!notbase64!!\n", NULL},                                /* bad hash */
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", NULL}, /* 31 bytes */
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", NULL}, /* 33 bytes */
      {NULL,
       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n",
       NULL},                                                         /* 64 bytes */
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", NULL},  /* no padding */
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", NULL}, /* stray bits */
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \n", NULL},
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n", NULL},
      {NULL, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_=\n", NULL}, /* URL alphabet */
      {NULL, NULL, "garbage"},                                        /* trailing garbage */
      {NULL, NULL, "garbage\n"},
      {NULL, NULL, "\n"},
      {NULL, NULL, "\ngarbage\n"},
      {NULL, NULL, "\xE2\x80\x94 x\n"},
      {NULL, NULL, "\xE2\x80\x94 x !!\n"},
  };
  char text[4096];
  uint8_t hashes[TLOG_PROOF_MAX_HASHES][32], keep[32];
  const char *note = (const char *)1;
  size_t n = 99, note_len = 99;
  uint64_t index = 99;

  memset(hashes, 0xAB, sizeof(hashes));
  memset(keep, 0xAB, sizeof(keep));
  /* the unchanged proof is fine */
  build(f, text, sizeof(text), NULL, NULL, NULL);
  assert_int_equal(tlog_proof_parse(text, strlen(text), &index, hashes, TLOG_PROOF_MAX_HASHES, &n,
                                    &note, &note_len),
                   0);
  memset(hashes, 0xAB, sizeof(hashes));
  index = 99, n = 99, note_len = 99, note = (const char *)1;
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int rc;
    build(f, text, sizeof(text), bad[i].head, bad[i].hashes, bad[i].tail);
    rc = tlog_proof_parse(text, strlen(text), &index, hashes, TLOG_PROOF_MAX_HASHES, &n, &note,
                          &note_len);
    if (rc != REG_EINVAL) fail_msg("case %zu accepted (%d):\n%s", i, rc, text);
  }
  /* no blank line before the note; a proof cut anywhere */
  FMT(text, HDR "index 5\n%s\n%s", f->b64[0], f->note);
  assert_int_equal(tlog_proof_parse(text, strlen(text), &index, hashes, TLOG_PROOF_MAX_HASHES, &n,
                                    &note, &note_len),
                   REG_EINVAL);
  build(f, text, sizeof(text), NULL, NULL, NULL);
  for (size_t cut = 0; cut < strlen(text); cut++)
    assert_int_equal(
        tlog_proof_parse(text, cut, &index, hashes, TLOG_PROOF_MAX_HASHES, &n, &note, &note_len),
        REG_EINVAL);
  /* a note that is not a signed checkpoint */
  FMT(text, HDR
      "index 5\n\nThis is an example message.\n\n"
      "\xE2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Zt"
      "g1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n");
  assert_int_equal(tlog_proof_parse(text, strlen(text), &index, hashes, TLOG_PROOF_MAX_HASHES, &n,
                                    &note, &note_len),
                   REG_EINVAL);
  FMT(text, HDR "index 5\n\n%s", f->body); /* unsigned */
  assert_int_equal(tlog_proof_parse(text, strlen(text), &index, hashes, TLOG_PROOF_MAX_HASHES, &n,
                                    &note, &note_len),
                   REG_EINVAL);
  /* more hashes than any proof has */
  {
    size_t p = 0;
    p += (size_t)snprintf(text + p, sizeof(text) - p, HDR "index 5\n");
    for (int i = 0; i <= TLOG_PROOF_MAX_HASHES; i++)
      p += (size_t)snprintf(text + p, sizeof(text) - p, "%s\n", f->b64[0]);
    assert_true(p < sizeof(text));
    assert_int_equal(
        tlog_proof_parse(text, p, &index, hashes, TLOG_PROOF_MAX_HASHES, &n, &note, &note_len),
        REG_EINVAL);
  }
  /* nothing written by any refusal */
  assert_int_equal(index, 99);
  assert_int_equal(n, 99);
  assert_int_equal(note_len, 99);
  assert_ptr_equal(note, (const char *)1);
  for (int i = 0; i < TLOG_PROOF_MAX_HASHES; i++) assert_memory_equal(hashes[i], keep, 32);
}

static void test_format_refusals(void **state) {
  fx *f = *state;
  char out[8192] = "keep";
  uint8_t many[TLOG_PROOF_MAX_HASHES + 1][32];
  size_t len = 99;

  memset(many, 1, sizeof(many));
  assert_int_equal(tlog_proof_format(5, (const uint8_t(*)[32])many, TLOG_PROOF_MAX_HASHES + 1,
                                     f->note, out, sizeof(out), &len),
                   REG_EINVAL);
  assert_int_equal(tlog_proof_format(5, (const uint8_t(*)[32])many, TLOG_PROOF_MAX_HASHES, f->note,
                                     out, sizeof(out), &len),
                   0);
  strcpy(out, "keep");
  len = 99;
  assert_int_equal(tlog_proof_format(5, NULL, 0, f->body, out, sizeof(out), &len), REG_EINVAL);
  assert_int_equal(tlog_proof_format(5, NULL, 0, "", out, sizeof(out), &len), REG_EINVAL);
  assert_int_equal(tlog_proof_format(5, NULL, 0, NULL, out, sizeof(out), &len), REG_EINVAL);
  assert_int_equal(tlog_proof_format_extra(5, many[0], TLOG_PROOF_MAX_EXTRA + 1, NULL, 0, f->note,
                                           out, sizeof(out), &len),
                   REG_EINVAL);
  assert_string_equal(out, "keep");
  assert_int_equal(len, 99);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checkpoint_round_trip), cmocka_unit_test(test_checkpoint_c2sp_example),
      cmocka_unit_test(test_checkpoint_malformed),  cmocka_unit_test(test_proof_round_trip),
      cmocka_unit_test(test_proof_extra),           cmocka_unit_test(test_proof_malformed),
      cmocka_unit_test(test_format_refusals),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
