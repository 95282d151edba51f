/*
 * Unit tests for services/rpc/utf8.c: the UTF-8 validator (multi-byte
 * forms, overlongs, surrogates, code points above U+10FFFF, truncation)
 * and the descriptor walk that names the bad field of a decoded request
 * (nested, oneof, repeated, map, nested-type fields).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rpctest.pb-c.h"
#include "services/base/err.h"
#include "services/rpc/rpc_wire.h"

static int valid(const char *s) { return rpc_utf8_valid((const uint8_t *)s, strlen(s)); }

static void test_valid_forms(void **st) {
  (void)st;
  assert_true(valid(""));
  assert_true(valid("plain ASCII ~"));
  assert_true(valid("\xc3\xa9"));                 /* é U+00E9 */
  assert_true(valid("\xc2\x80"));                 /* U+0080, smallest 2-byte */
  assert_true(valid("\xdf\xbf"));                 /* U+07FF */
  assert_true(valid("\xe0\xa0\x80"));             /* U+0800, smallest 3-byte */
  assert_true(valid("\xe2\x82\xac"));             /* € */
  assert_true(valid("\xe4\xb8\xad\xe6\x96\x87")); /* 中文 */
  assert_true(valid("\xed\x9f\xbf"));             /* U+D7FF, just below surrogates */
  assert_true(valid("\xee\x80\x80"));             /* U+E000, just above */
  assert_true(valid("\xef\xbf\xbf"));             /* U+FFFF */
  assert_true(valid("\xf0\x90\x80\x80"));         /* U+10000 */
  assert_true(valid("\xf0\x9f\x98\x80"));         /* 😀 */
  assert_true(valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last */
  uint8_t nul[3] = {'a', 0, 'b'};
  assert_true(rpc_utf8_valid(nul, 3));            /* U+0000 is valid */
}

static void test_invalid_forms(void **st) {
  (void)st;
  static const char *const bad[] = {
      "\x80",             /* lone continuation */
      "a\xbf",            /* continuation after ASCII */
      "\xc0\x80",         /* overlong NUL */
      "\xc1\xbf",         /* overlong U+007F */
      "\xe0\x80\x80",     /* overlong 3-byte */
      "\xe0\x9f\xbf",     /* overlong U+07FF */
      "\xf0\x80\x80\x80", /* overlong 4-byte */
      "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
      "\xed\xa0\x80",     /* U+D800 high surrogate */
      "\xed\xbf\xbf",     /* U+DFFF low surrogate */
      "\xed\xa0\xbd\xed\xb8\x80", /* CESU-8 surrogate pair */
      "\xf4\x90\x80\x80", /* U+110000 */
      "\xf5\x80\x80\x80", /* lead byte beyond U+10FFFF */
      "\xf8\x88\x80\x80\x80", /* 5-byte form */
      "\xfe", "\xff",
      "\xc3",             /* truncated 2-byte */
      "\xe2\x82",         /* truncated 3-byte */
      "\xf0\x9f\x98",     /* truncated 4-byte */
      "ok\xe2\x82",       /* truncated at the end */
      "\xc3\x28",         /* bad continuation */
      "\xe2\x28\xa1",
      "\xf0\x9f\x28\x80",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (valid(bad[i])) fail_msg("accepted invalid sequence #%zu", i);
  }
}

/* A request with every kind of string filled with valid text. */
typedef struct fixture {
  Rpctest__V1__EchoRequest req;
  Rpctest__V1__Party party;
  Rpctest__V1__Person person;
  Rpctest__V1__Line lines[3];
  Rpctest__V1__Line *line_ptrs[3];
  Rpctest__V1__EchoRequest__LabelsEntry labels[2];
  Rpctest__V1__EchoRequest__LabelsEntry *label_ptrs[2];
  char *tags[2];
  Rpctest__V1__EchoRequest__Note note;
} fixture;

static void fixture_init(fixture *f) {
  memset(f, 0, sizeof(*f));
  rpctest__v1__echo_request__init(&f->req);
  rpctest__v1__party__init(&f->party);
  rpctest__v1__person__init(&f->person);
  f->person.name = "Zhang San";
  f->party.kind_case = RPCTEST__V1__PARTY__KIND_PERSON;
  f->party.person = &f->person;
  f->req.text = "héllo";
  f->req.seller = &f->party;
  for (int i = 0; i < 3; i++) {
    rpctest__v1__line__init(&f->lines[i]);
    f->lines[i].description = "line";
    f->line_ptrs[i] = &f->lines[i];
  }
  f->req.n_lines = 3;
  f->req.lines = f->line_ptrs;
  for (int i = 0; i < 2; i++) {
    rpctest__v1__echo_request__labels_entry__init(&f->labels[i]);
    f->labels[i].key = "k";
    f->labels[i].value = "v";
    f->label_ptrs[i] = &f->labels[i];
  }
  f->req.n_labels = 2;
  f->req.labels = f->label_ptrs;
  f->tags[0] = "a";
  f->tags[1] = "b";
  f->req.n_tags = 2;
  f->req.tags = f->tags;
  rpctest__v1__echo_request__note__init(&f->note);
  f->note.body = "note";
  f->req.note = &f->note;
}

static void expect_path(const fixture *f, const char *want) {
  char path[128];
  int rv = rpc_msg_check_utf8(&f->req.base, path, sizeof(path));
  if (!want) {
    assert_int_equal(rv, 0);
    assert_string_equal(path, "");
    return;
  }
  assert_int_equal(rv, REG_EINVAL);
  assert_string_equal(path, want);
}

static void test_paths(void **st) {
  (void)st;
  fixture f;
  fixture_init(&f);
  expect_path(&f, NULL);

  f.req.text = "\xff";
  expect_path(&f, "text");
  fixture_init(&f);

  f.person.name = "\xc0\x80";
  expect_path(&f, "seller.person.name");
  fixture_init(&f);

  f.lines[2].description = "\xed\xa0\x80";
  expect_path(&f, "lines[2].description");
  fixture_init(&f);

  f.labels[1].value = "\xf4\x90\x80\x80";
  expect_path(&f, "labels[1].value");
  fixture_init(&f);

  f.labels[0].key = "\xe2\x82";
  expect_path(&f, "labels[0].key");
  fixture_init(&f);

  f.tags[1] = "\x80";
  expect_path(&f, "tags[1]");
  fixture_init(&f);

  f.note.body = "\xc3";
  expect_path(&f, "note.body");
  fixture_init(&f);

  /* the other oneof member */
  Rpctest__V1__Business biz;
  rpctest__v1__business__init(&biz);
  biz.name = "\xff\xfe";
  f.party.kind_case = RPCTEST__V1__PARTY__KIND_BUSINESS;
  f.party.business = &biz;
  expect_path(&f, "seller.business.name");
}

static void test_path_truncated_safely(void **st) {
  (void)st;
  fixture f;
  fixture_init(&f);
  f.person.name = "\xff";
  char small[8];
  memset(small, 'x', sizeof(small));
  assert_int_equal(rpc_msg_check_utf8(&f.req.base, small, sizeof(small)), REG_EINVAL);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_memory_equal(small, "seller.", 7);
}

static void test_decoded_request(void **st) {
  (void)st;
  /* seller{person{name=C3 28}} as a client would send it */
  const uint8_t wire[] = {0x12, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28};
  Rpctest__V1__EchoRequest *r = rpctest__v1__echo_request__unpack(NULL, sizeof(wire), wire);
  assert_non_null(r); /* protobuf-c itself does not check */
  char path[64];
  assert_int_equal(rpc_msg_check_utf8(&r->base, path, sizeof(path)), REG_EINVAL);
  assert_string_equal(path, "seller.person.name");
  rpctest__v1__echo_request__free_unpacked(r, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_forms),
      cmocka_unit_test(test_invalid_forms),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_path_truncated_safely),
      cmocka_unit_test(test_decoded_request),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
