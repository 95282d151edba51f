/*
 * List pagination (SPEC §3): page_size 0 → the default (50), above the
 * maximum → the maximum (500), negative → invalid; page tokens opaque and
 * tamper-proof (crypto/ptoken.c), bound to the list's filters so that a
 * token used with other filters is refused. The cursor inside is the
 * service's own (e.g. the last id returned).
 */
#ifndef REG_CORE_PAGE_H
#define REG_CORE_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/arena.h"
#include "services/base/err.h"

#define PAGE_TOKEN_MAX 512
#define PAGE_CURSOR_MAX 200

typedef struct page_req {
  int size;                       /* normalized */
  uint8_t filter_hash[16];
  char cursor[PAGE_CURSOR_MAX + 1]; /* "" on the first page */
} page_req;

/* Normalizes the size and decodes the token against the filters (method
 * path first, then the request's filter values as strings).
 * REG_ERANGE: negative page_size. REG_EINVAL: a bad token. REG_EPERM: a
 * token issued for other filters. */
int page_begin(const uint8_t key[32], int32_t page_size, const char *token,
               const char *const *filters, size_t n_filters, page_req *out) REG_MUST_CHECK;

/* The token for the page after `last_cursor` into out[PAGE_TOKEN_MAX]. */
int page_next_token(const uint8_t key[32], const page_req *p, const char *last_cursor,
                    char *out) REG_MUST_CHECK;

/* The cursor of lists ordered by (time, id): "<µs>/<id>" (arena; NULL when
 * out of memory), and its parts back: *id points into `cursor`. Parsing
 * is REG_EINVAL for anything else. */
char *page_cursor(arena *a, int64_t us, const char *id);
int page_cursor_parse(const char *cursor, int64_t *us, const char **id) REG_MUST_CHECK;

#endif
