/*
 * Page sizes and tokens (page.h).
 */
#include "services/core/page.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ptoken.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500

int page_begin(const uint8_t key[32], int32_t page_size, const char *token,
               const char *const *filters, size_t n_filters, page_req *out) {
  if (page_size < 0) return REG_ERANGE;
  page_req p;
  memset(&p, 0, sizeof(p));
  p.size = page_size == 0 ? PAGE_DEFAULT : page_size > PAGE_MAX ? PAGE_MAX : page_size;
  ptoken_filter_hash(filters, n_filters, p.filter_hash);
  if (token && *token) {
    uint8_t cur[PAGE_CURSOR_MAX];
    size_t len = 0;
    int rv = ptoken_decode(key, p.filter_hash, token, cur, sizeof(cur), &len);
    if (rv == REG_EPERM) return REG_EPERM;
    if (rv != 0 || len == 0 || memchr(cur, 0, len)) return REG_EINVAL;
    memcpy(p.cursor, cur, len);
    p.cursor[len] = 0;
  }
  *out = p;
  return 0;
}

int page_next_token(const uint8_t key[32], const page_req *p, const char *last_cursor,
                    char *out) {
  size_t len = strlen(last_cursor);
  if (len == 0 || len > PAGE_CURSOR_MAX) return REG_ERANGE;
  return ptoken_encode(key, p->filter_hash, (const uint8_t *)last_cursor, len, out,
                       PAGE_TOKEN_MAX);
}

char *page_cursor(arena *a, int64_t us, const char *id) {
  return arena_printf(a, "%lld/%s", (long long)us, id);
}

int page_cursor_parse(const char *cursor, int64_t *us, const char **id) {
  char *end = NULL;
  if (!cursor || !*cursor) return REG_EINVAL;
  errno = 0;
  long long v = strtoll(cursor, &end, 10);
  if (errno || !end || end == cursor || *end != '/' || !end[1]) return REG_EINVAL;
  *us = v;
  *id = end + 1;
  return 0;
}
