/*
 * Per-call memory: a bump allocator with a hard maximum. Everything a call
 * allocates (decoded request, response, strings) comes from its arena and is
 * released at once by arena_free. Not thread-safe: one arena, one thread.
 */
#ifndef REG_BASE_ARENA_H
#define REG_BASE_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

typedef struct arena arena;

/* A new arena that will never hold more than max_bytes (0: 64 MiB).
 * NULL when out of memory. Free with arena_free. */
arena *arena_new(size_t max_bytes);
void arena_free(arena *a); /* NULL is a no-op */

/* 16-byte aligned; NULL when the maximum would be exceeded. */
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t n, size_t size); /* zeroed, checks overflow */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t arena_used(const arena *a);

/* A ProtobufCAllocator drawing from the arena (free is a no-op): pass it to
 * *__unpack so that the decoded message dies with the arena. Valid as long
 * as the arena. */
ProtobufCAllocator *arena_allocator(arena *a);

/* The message packed into the arena: *len bytes; NULL when out of memory. */
uint8_t *arena_pack(arena *a, const ProtobufCMessage *m, size_t *len);

#endif
