/*
 * A bump allocator over a list of blocks, with a hard maximum on the bytes
 * it hands out. Blocks double in size from 4 KiB up to 1 MiB; an allocation
 * larger than a block gets a block of its own. Nothing is freed before
 * arena_free, which releases every block.
 */
#include "services/base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16u
#define FIRST_BLOCK 4096u
#define MAX_BLOCK (1u << 20)

typedef struct block {
  struct block *next;
  size_t cap;
  size_t used;
  _Alignas(16) unsigned char data[];
} block;

struct arena {
  block *head;
  size_t total; /* bytes handed out */
  size_t max;
  size_t next_cap;
  ProtobufCAllocator alloc;
};

static void *pb_alloc(void *ad, size_t size) { return arena_alloc(ad, size); }
static void pb_free(void *ad, void *p) {
  (void)ad;
  (void)p;
}

arena *arena_new(size_t max_bytes) {
  arena *a = calloc(1, sizeof(*a));
  if (!a) return NULL;
  a->max = max_bytes ? max_bytes : (64u << 20);
  a->next_cap = FIRST_BLOCK;
  a->alloc.alloc = pb_alloc;
  a->alloc.free = pb_free;
  a->alloc.allocator_data = a;
  return a;
}

void arena_free(arena *a) {
  if (!a) return;
  block *b = a->head;
  while (b) {
    block *n = b->next;
    free(b);
    b = n;
  }
  free(a);
}

void *arena_alloc(arena *a, size_t n) {
  if (n == 0) n = 1;
  if (n > SIZE_MAX - ALIGN) return NULL;
  size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (need > a->max - a->total) return NULL;
  block *b = a->head;
  if (!b || b->cap - b->used < need) {
    size_t cap = a->next_cap;
    if (cap < need) cap = need;
    block *nb = malloc(sizeof(block) + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    nb->used = 0;
    if (a->next_cap < MAX_BLOCK) a->next_cap *= 2;
    /* a big one-off block goes behind the current one so that the rest of
     * the current block stays usable */
    if (b && need > a->next_cap) {
      nb->next = b->next;
      b->next = nb;
    } else {
      nb->next = b;
      a->head = nb;
    }
    b = nb;
  }
  void *p = b->data + b->used;
  b->used += need;
  a->total += need;
  return p;
}

void *arena_calloc(arena *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = arena_alloc(a, n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t n) {
  char *p = arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = 0;
  return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = arena_alloc(a, (size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

size_t arena_used(const arena *a) { return a->total; }

ProtobufCAllocator *arena_allocator(arena *a) { return &a->alloc; }

uint8_t *arena_pack(arena *a, const ProtobufCMessage *m, size_t *len) {
  size_t n = protobuf_c_message_get_packed_size(m);
  uint8_t *buf = arena_alloc(a, n ? n : 1);
  if (!buf) return NULL;
  *len = protobuf_c_message_pack(m, buf);
  return buf;
}
